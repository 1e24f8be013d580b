import path from 'node:path';

/**
 * What DAILIES_PROMPT_CHECK means, without loading onnxruntime: unset or `off` is no classifier
 * (none ships; the blocked terms still apply), anything else the folder to load.
 */

/** The folder to load, or null for `off` and unset. */
export function promptCheckDir(setting: string | undefined): string | null {
  if (setting === undefined || setting.toLowerCase() === 'off') return null;
  return path.resolve(setting);
}

/** How the setting reads in /api/health: the folder's name, or "off". */
export function promptCheckName(setting: string | undefined): string {
  const dir = promptCheckDir(setting);
  return dir ? path.basename(dir) : 'off';
}
