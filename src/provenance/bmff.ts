/**
 * Top-level boxes of an ISO BMFF (MP4) file: enough to find the box C2PA embeds its manifest
 * in, and to tell callers how many bytes it takes.
 */

export interface Box {
  type: string;
  offset: number;
  size: number;
  /** For `uuid` boxes: the 16-byte extended type, as hex. */
  uuid?: string;
}

/** The extended type C2PA registers for its `uuid` box (C2PA spec, "Embedding manifests into BMFF"). */
export const C2PA_UUID = 'd8fec3d61b0e483c92975828877ec481';

export function topLevelBoxes(bytes: Uint8Array): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: Box[] = [];
  for (let offset = 0; offset + 8 <= bytes.length; ) {
    let size = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    let header = 8;
    if (size === 1) {
      if (offset + 16 > bytes.length) break;
      size = Number(view.getBigUint64(offset + 8));
      header = 16;
    } else if (size === 0) {
      size = bytes.length - offset; // "extends to the end of the file"
    }
    if (size < header || offset + size > bytes.length) break; // truncated or not BMFF: stop, do not guess
    const box: Box = { type, offset, size };
    if (type === 'uuid' && size >= header + 16) box.uuid = Buffer.from(bytes.subarray(offset + header, offset + header + 16)).toString('hex');
    boxes.push(box);
    offset += size;
  }
  return boxes;
}

/** Bytes the C2PA manifest box takes in `bytes` (0 when there is none). */
export function manifestBoxBytes(bytes: Uint8Array): number {
  return topLevelBoxes(bytes).find((b) => b.uuid === C2PA_UUID)?.size ?? 0;
}
