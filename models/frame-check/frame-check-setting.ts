import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What DAILIES_FRAME_CHECK means, without loading onnxruntime: the bot reports it on
 * /api/health, the worker loads the folder it names (onnx-frame-check.ts).
 */

/** The shipped classifier (models/frame-check-nsfw), used when DAILIES_FRAME_CHECK is unset. */
export function builtinFrameCheckDir(): string {
  return fileURLToPath(new URL('../frame-check-nsfw', import.meta.url));
}

/** The folder to load, or null for `off`. */
export function frameCheckDir(setting: string | undefined): string | null {
  if (setting === undefined) return builtinFrameCheckDir();
  return setting.toLowerCase() === 'off' ? null : path.resolve(setting);
}

/** How the setting reads in /api/health: the folder's name, or "off". */
export function frameCheckName(setting: string | undefined): string {
  const dir = frameCheckDir(setting);
  return dir ? path.basename(dir) : 'off';
}
