import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelManifest } from '../../models/engine/manifest.ts';
import { checkRequest, defaultPreviewSteps, MAX_LOOKBACK_FRAMES } from '../../models/engine/request-schema.ts';
import type { GenerateRequest } from '../../src/core/ports/video-model.ts';
import { LOOKBACK_FRAMES } from '../../src/core/segment-plan.ts';
import { DailiesError } from '../../src/errors.ts';
import { makeClip, TINY_PIXEL } from './engine-fixtures.ts';

// Limits of tiny-pixel: frames 2..8, steps 1..20, guidance 0..10, variations 1..4; 16x16.
const manifest = ModelManifest.parse(JSON.parse(readFileSync(join(TINY_PIXEL, 'model.json'), 'utf8')));
const ok: GenerateRequest = { prompt: 'a red circle', seed: 1 };

function message(request: Record<string, unknown>): string {
  try {
    checkRequest({ ...ok, ...request } as GenerateRequest, manifest);
  } catch (e) {
    expect(e).toBeInstanceOf(DailiesError);
    expect((e as DailiesError).code).toBe('bad_input');
    return (e as DailiesError).message;
  }
  throw new Error('expected the request to be rejected');
}

describe('request checks', () => {
  it('fills defaults from the manifest', () => {
    expect(checkRequest(ok, manifest)).toEqual({ prompt: 'a red circle', negativePrompt: '', seed: 1, steps: 4, guidance: 4, frames: 4, variations: 1, scheduler: 'ddim' });
  });

  it.each([
    [{ prompt: '   ' }, 'prompt must not be blank; describe the video in 1 to 1000 characters.'],
    [{ prompt: 'x'.repeat(1001) }, 'prompt must be at most 1000 characters (got 1001).'],
    [{ prompt: 42 }, 'prompt must be text.'],
    [{ steps: 50 }, 'steps must be a whole number from 1 to 20 (got 50).'],
    [{ steps: 2.5 }, 'steps must be a whole number from 1 to 20 (got 2.5).'],
    [{ frames: 1 }, 'frames must be a whole number from 2 to 8 (got 1).'],
    [{ guidance: 11 }, 'guidance must be a number from 0 to 10 (got 11).'],
    [{ variations: 5 }, 'variations must be a whole number from 1 to 4 (got 5).'],
    [{ seed: -1 }, 'seed must be a whole number from 0 to 4294967295 (got -1).'],
    [{ scheduler: 'euler' }, 'scheduler must be one of "ddim", "dpmpp-2m", "ddpm".'],
    [{ previewSteps: [2, 9] }, 'previewSteps must be steps from 1 to 4 (got 9).'],
  ])('rejects %j', (request, expected) => {
    expect(message(request)).toBe(expected);
  });

  it('rejects bad image and known-frame requests', () => {
    const still = makeClip(8, 8, 1, () => 0);
    expect(message({ image: { frame: still, strength: 0 } })).toBe('image.strength must be above 0 and at most 1 (got 0).');
    expect(message({ image: { frame: { ...still, frames: [new Uint8Array(10)] }, strength: 0.5 } })).toBe('image.frame.frames.0 must hold width*height*3 = 192 bytes (got 10).');
    expect(message({ image: { frame: { ...still, frames: [] }, strength: 0.5 } })).toBe('image.frame.frames must hold at least one frame.');
    const clip = makeClip(16, 16, 2, () => 0);
    const one = makeClip(16, 16, 1, () => 0);
    expect(message({ known: { head: [clip], tail: [clip] }, frames: 4 })).toBe(
      'known holds 2 head and 2 tail frames, which leaves no new frame in 4 frames; keep fewer known frames or render more frames.',
    );
    expect(message({ known: { head: [clip, clip, clip] }, variations: 2 })).toBe('known.head must hold one clip for every take or one per take, 1 or 2 clips (got 3).');
    expect(message({ known: { tail: [clip, clip] } })).toBe('known.tail must hold one clip (got 2).');
    expect(message({ known: { head: [clip, one] }, variations: 2 })).toBe('known.head clips must all hold the same number of frames (got 2 and 1).');
    expect(message({ known: { tail: [{ ...one, frames: [new Uint8Array(10)] }] } })).toBe('known.tail.0.frames.0 must hold width*height*3 = 768 bytes (got 10).');
    expect(message({ known: { head: [clip] }, image: { frame: still, strength: 0.5 } })).toBe(
      'image cannot be combined with known frames; start from an image or continue a clip, not both.',
    );
    expect(message({ known: { head: [clip], strength: 0 } })).toBe('known.strength must be above 0 and at most 1 (got 0).');
    expect(message({ known: { tail: [one], strength: 1.5 } })).toBe('known.strength must be above 0 and at most 1 (got 1.5).');
    expect(message({ known: { head: [clip], strength: '0.5' } })).toBe('known.strength must be a number above 0 and at most 1.');
    expect(message({ known: { strength: 0.5 } })).toBe('known.strength only applies to known frames; pass head or tail clips, or drop it.');
    const resolved = checkRequest({ ...ok, variations: 2, known: { head: [clip, clip], tail: [one] } }, manifest);
    expect(resolved.known).toEqual({ head: [clip, clip], tail: [one], strength: 1 });
    expect(checkRequest({ ...ok, known: { tail: [one], strength: 0.6 } }, manifest).known).toEqual({ tail: [one], strength: 0.6 });
    expect(checkRequest({ ...ok, known: {} }, manifest).known).toBeUndefined();
  });

  it('rejects lookback clips without their side, in the wrong number, uneven or too long', () => {
    const clip = makeClip(16, 16, 2, () => 0);
    const three = makeClip(16, 16, 3, () => 0);
    const one = makeClip(16, 16, 1, () => 0);
    expect(message({ known: { tail: [one], earlier: [clip] } })).toBe('known.earlier only goes with head clips, as the frames before them; pass head clips too, or drop it.');
    expect(message({ known: { head: [one], later: [clip], strength: 0.5 } })).toBe('known.later only goes with tail clips, as the frames after them; pass tail clips too, or drop it.');
    expect(message({ known: { head: [one], earlier: [clip, clip, clip] }, variations: 2 })).toBe('known.earlier must hold one clip for every take or one per take, 1 or 2 clips (got 3).');
    expect(message({ known: { tail: [one], later: [clip, clip] } })).toBe('known.later must hold one clip (got 2).');
    expect(message({ known: { head: [one], earlier: [clip, three] }, variations: 2 })).toBe('known.earlier clips must all hold the same number of frames (got 2 and 3).');
    const long = makeClip(16, 16, MAX_LOOKBACK_FRAMES + 1, () => 0);
    expect(message({ known: { tail: [one], later: [long, long] }, variations: 2 })).toBe(
      `known.later.0.frames must hold at most ${MAX_LOOKBACK_FRAMES} frames (got ${MAX_LOOKBACK_FRAMES + 1}); pass the ones nearest the window.`,
    );
    expect(message({ known: { head: [one], earlier: [{ ...one, frames: [new Uint8Array(5)] }] } })).toBe('known.earlier.0.frames.0 must hold width*height*3 = 768 bytes (got 5).');
    // A chain's lookback passes; lookback is not part of the window: up to the limit fits beside any head.
    expect(LOOKBACK_FRAMES).toBeLessThanOrEqual(MAX_LOOKBACK_FRAMES);
    const most = makeClip(16, 16, MAX_LOOKBACK_FRAMES, () => 0);
    const resolved = checkRequest({ ...ok, variations: 2, known: { head: [clip], earlier: [most, most], tail: [one], later: [three], strength: 0.6 } }, manifest);
    expect(resolved.known).toEqual({ head: [clip], earlier: [most, most], tail: [one], later: [three], strength: 0.6 });
  });

  it('spaces default previews before the last step', () => {
    expect(defaultPreviewSteps(25)).toEqual([5, 10, 15, 20]);
    expect(defaultPreviewSteps(4)).toEqual([1, 2, 3]);
    expect(defaultPreviewSteps(1)).toEqual([]);
  });
});
