import { describe, expect, it } from 'vitest';
import type { RenderRequest } from '../../src/core/ports/job-queue.ts';
import { decodeShape, encodeShape, shapeOf, workUnits, type JobShape } from '../../src/queue/job-cost.ts';

const scale = { steps: 10, frames: 16 };
const ref = { key: 'renders/j/take-0.mp4', bytes: 1, contentType: 'video/mp4' };
const request = (extra: Partial<RenderRequest> = {}): RenderRequest => ({ prompt: 'p', negativePrompt: '', seed: 1, takes: 1, quality: 'draft', ...extra });

describe('job cost of long renders', () => {
  it('costs a one-window render by its frames, as before', () => {
    expect(workUnits(shapeOf(request()), scale)).toBe(160);
    expect(workUnits(shapeOf(request({ frames: 8, takes: 2 })), scale)).toBe(2 * 10 * 8);
  });

  it("costs a chain its segments' worth of full windows", () => {
    // A minute at 8 fps: 40 windows of 16 frames (see segment-plan.test.ts).
    expect(workUnits(shapeOf(request({ frames: 480 })), scale)).toBe(40 * 16 * 10);
    // 20 frames: two windows, not 20/16 of one.
    expect(workUnits(shapeOf(request({ frames: 20 })), scale)).toBe(2 * 16 * 10);
  });

  it('costs an extension by its windows, each opening on known frames of the source', () => {
    // 12 new frames per window after 4 known ones: 24 frames are two windows, 8 still one.
    expect(workUnits(shapeOf(request({ frames: 24, extend: { artifact: ref, overlap: 4 } })), scale)).toBe(2 * 16 * 10);
    expect(workUnits(shapeOf(request({ frames: 8, extend: { artifact: ref, overlap: 4, direction: 'backward' } })), scale)).toBe(16 * 10);
  });

  it('costs a film by its generated transitions, and a cut or fade as one window', () => {
    const shots = [1, 2, 3].map((n) => ({ artifact: ref, label: `shot ${n}`, prompt: 'p' }));
    expect(workUnits(shapeOf(request({ takes: 4, cut: { shots, transition: 'cut', overlap: 4 } })), scale)).toBe(16 * 10);
    expect(workUnits(shapeOf(request({ cut: { shots, transition: 'bridge', overlap: 4 } })), scale)).toBe(2 * 16 * 10);
    expect(workUnits(shapeOf(request({ frames: 20, cut: { shots, transition: 'bridge', overlap: 4 } })), scale)).toBe(2 * 2 * 16 * 10);
  });

  it('keeps the kind of job through the fair-share bookkeeping', () => {
    const shapes: JobShape[] = [
      { takes: 2, quality: 'draft', frames: 480 },
      { takes: 1, quality: 'final', kind: 'extend', overlap: 6, frames: 40 },
      { takes: 1, quality: 'draft', kind: 'film', overlap: 4, joins: 2 },
      { takes: 1, quality: 'draft', kind: 'film', joins: 0 },
    ];
    for (const shape of shapes) expect(decodeShape(encodeShape(shape))).toEqual(shape);
    // Bookkeeping written before this change still reads.
    expect(decodeShape('1:0:0:d')).toEqual({ takes: 1, quality: 'draft' });
  });
});
