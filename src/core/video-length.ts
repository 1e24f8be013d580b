import { DailiesError } from '../errors.ts';
import { framesOf, maxFramesOf, secondsText, type CoreConfig } from './runtime.ts';

/**
 * A render's length from `frames` or `duration` (seconds), checked against the server's longest
 * video. Undefined when neither is given (the model's own length). Past one model window the
 * worker renders a chain of segments; the person only sees the length.
 */
export function checkLength(config: Pick<CoreConfig, 'fps' | 'maxSeconds'>, o: { frames?: number | undefined; duration?: number | undefined }): number | undefined {
  if (o.frames !== undefined && o.duration !== undefined) throw new DailiesError('bad_input', 'Give either frames or duration, not both.');
  const frames = o.frames ?? (o.duration !== undefined ? framesOf(config, o.duration) : undefined);
  if (frames !== undefined && frames > maxFramesOf(config)) {
    const asked = o.duration !== undefined ? `${o.duration} s` : `${frames} frames (${secondsText(config, frames)})`;
    throw new DailiesError('bad_input', `duration ${asked} is over the ${config.maxSeconds} s limit; ask for ${config.maxSeconds} s or less.`);
  }
  return frames;
}
