/*
 * RGB24 frames <-> the [-1, 1] CHW floats models see. The mapping x = v / 127.5 - 1 and its
 * inverse round-trip every byte exactly, so known frames (extension) come back unchanged.
 */

/** An RGB24 frame of any size as CHW floats in [-1, 1] at `width` x `height` (bilinear, pixel centres). */
export function rgbToChw(frame: Uint8Array, srcWidth: number, srcHeight: number, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  if (srcWidth === width && srcHeight === height) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[c * plane + p] = frame[p * 3 + c]! / 127.5 - 1;
    }
    return out;
  }
  const hwc = resampleRgb(frame, srcWidth, srcHeight, width, height);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = hwc[p * 3 + c]! / 127.5 - 1;
  }
  return out;
}

/**
 * An RGB24 frame resampled to `width` x `height` (bilinear, pixel centres aligned), as HWC
 * floats in 0..255: what the engine and the frame check's classifier both feed their models.
 */
export function resampleRgb(frame: Uint8Array, srcWidth: number, srcHeight: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const sx = srcWidth / width;
  const sy = srcHeight / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), srcHeight - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, srcHeight - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), srcWidth - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, srcWidth - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => frame[(yy * srcWidth + xx) * 3 + c]!;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[(y * width + x) * 3 + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/**
 * An RGB24 frame enlarged to `width` x `height` by repeating pixels (nearest neighbour), as HWC
 * floats in 0..255: the source's own pixels as flat blocks, with no in-between colours invented.
 */
export function nearestRgb(frame: Uint8Array, srcWidth: number, srcHeight: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = Math.min(Math.floor(((y + 0.5) * srcHeight) / height), srcHeight - 1) * srcWidth;
    for (let x = 0; x < width; x++) {
      const from = (row + Math.min(Math.floor(((x + 0.5) * srcWidth) / width), srcWidth - 1)) * 3;
      const to = (y * width + x) * 3;
      out[to] = frame[from]!;
      out[to + 1] = frame[from + 1]!;
      out[to + 2] = frame[from + 2]!;
    }
  }
  return out;
}

/** CHW floats (clamped to [-1, 1]) as an RGB24 frame. */
export function chwToRgb(chw: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = chw[c * plane + p]!;
      // NaN from a broken model becomes mid-grey rather than poisoning the encoder.
      out[p * 3 + c] = Number.isNaN(v) ? 128 : Math.round((Math.min(Math.max(v, -1), 1) + 1) * 127.5);
    }
  }
  return out;
}
