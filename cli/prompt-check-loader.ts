import { promptCheckDir } from '../models/prompt-check/prompt-check-setting.ts';
import type { LoadedPromptCheck } from '../models/prompt-check/onnx-prompt-check.ts';

/**
 * The bot's prompt classifier as DAILIES_PROMPT_CHECK sets it: none by default (no classifier
 * ships), or a folder, loaded once at start-up so a bad folder stops the bot with its sentence.
 * `off` never loads onnxruntime. One intra-op thread: a small classifier gains nothing from more,
 * and the bot shares its cores with the acks it must keep fast.
 */
export async function loadPromptCheckSetting(setting: string | undefined, log: (line: string) => void): Promise<LoadedPromptCheck | null> {
  const dir = promptCheckDir(setting);
  if (!dir) {
    log('prompt check: off (DAILIES_PROMPT_CHECK unset or off); prompts pass the blocked terms only');
    return null;
  }
  const { loadPromptCheck } = await import('../models/prompt-check/onnx-prompt-check.ts');
  const check = await loadPromptCheck(dir, { threads: 1 });
  log(`prompt check: ${check.name} (${dir})`);
  return check;
}
