import { frameCheckDir } from '../models/frame-check/frame-check-setting.ts';
import { startThreadedFrameCheck } from './threaded-frame-check.ts';
import type { FrameCheck } from '../src/core/ports/frame-check.ts';

/**
 * The worker's frame check as DAILIES_FRAME_CHECK sets it: the shipped classifier by default, a
 * folder, or `off`. It runs in its own thread (threaded-frame-check.ts) with one intra-op thread:
 * it runs beside the engine on the same cores, and a 224-pixel batch of 8 is small enough that
 * more threads mostly wait.
 */
export function frameCheckLoader(setting: string | undefined, log: (line: string) => void): () => Promise<FrameCheck | null> {
  return async () => {
    const dir = frameCheckDir(setting);
    if (!dir) {
      log('frame check: off (DAILIES_FRAME_CHECK=off); previews and finals are posted unchecked');
      return null;
    }
    const check = await startThreadedFrameCheck(dir, { threads: 1 });
    log(`frame check: ${check.name} (${dir})`);
    return check;
  };
}
