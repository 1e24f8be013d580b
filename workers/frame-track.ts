import type { ArtifactRef, ArtifactStore } from '../src/core/ports/artifact-store.ts';
import type { Clip } from '../src/core/ports/video-model.ts';
import type { FrameSource } from '../src/media/index.ts';
import { DailiesError } from '../src/errors.ts';

/**
 * Frames kept in the artifact store as raw RGB24 files at the model's size (a chain's segments,
 * an extension's source, a film's shots), read back only where they are needed: the few known
 * frames around a join, or one piece at a time while a whole video streams to the encoder. A
 * track is a list of such files in time order; nothing of it is held in memory.
 */

export const RAW_CONTENT_TYPE = 'application/octet-stream';

export interface FrameFormat {
  width: number;
  height: number;
  fps: number;
}

/** One stored run of frames. */
export interface TrackPiece {
  ref: ArtifactRef;
  frames: number;
}

/** Frames read per file access when streaming (a model window's worth at most). */
const STREAM_CHUNK = 16;

export class FrameTrack {
  readonly length: number;
  readonly frameBytes: number;

  constructor(
    private readonly store: Pick<ArtifactStore, 'open'>,
    readonly format: FrameFormat,
    readonly pieces: readonly TrackPiece[],
  ) {
    this.frameBytes = format.width * format.height * 3;
    this.length = pieces.reduce((n, p) => n + p.frames, 0);
  }

  static empty(store: Pick<ArtifactStore, 'open'>, format: FrameFormat): FrameTrack {
    return new FrameTrack(store, format, []);
  }

  /** This track, then `other`'s pieces. */
  concat(...others: FrameTrack[]): FrameTrack {
    return new FrameTrack(this.store, this.format, [...this.pieces, ...others.flatMap((t) => t.pieces)]);
  }

  /** Frames [from, from + count) of the track. */
  async read(from: number, count: number): Promise<Uint8Array[]> {
    if (from < 0 || count < 0 || from + count > this.length) {
      throw new DailiesError('internal', `Frames ${from}..${from + count} were asked of a ${this.length}-frame track; this is a bug in the chain's plan.`);
    }
    const out: Uint8Array[] = [];
    let offset = 0;
    for (const piece of this.pieces) {
      const start = Math.max(from, offset);
      const end = Math.min(from + count, offset + piece.frames);
      if (start < end) out.push(...(await this.readPiece(piece, start - offset, end - start)));
      offset += piece.frames;
      if (offset >= from + count) break;
    }
    return out;
  }

  async last(n: number): Promise<Uint8Array[]> {
    return this.read(this.length - n, n);
  }

  async first(n: number): Promise<Uint8Array[]> {
    return this.read(0, n);
  }

  /**
   * Frames [from, from + count) as a clip at the track's format, each frame in a buffer of its
   * own: clips cross to the engine thread by structured cloning, which copies a view's whole
   * underlying buffer.
   */
  async clip(from: number, count: number): Promise<Clip> {
    return { ...this.format, frames: (await this.read(from, count)).map((f) => f.slice()) };
  }

  /** Every frame in order, a chunk of a piece at a time. */
  async *stream(from = 0, count = this.length - from): AsyncIterable<Uint8Array> {
    for (let at = from; at < from + count; at += STREAM_CHUNK) {
      yield* await this.read(at, Math.min(STREAM_CHUNK, from + count - at));
    }
  }

  /** The whole track for the encoders, streamed. */
  source(): FrameSource {
    return { ...this.format, frameCount: this.length, frames: () => this.stream() };
  }

  private async readPiece(piece: TrackPiece, from: number, count: number): Promise<Uint8Array[]> {
    // A ranged read of just these frames, straight from the store (a file, or an S3 GET): a
    // worker streaming a stored chain needs no local copy of its segments.
    const buffer = Buffer.alloc(count * this.frameBytes);
    let filled = 0;
    const start = from * this.frameBytes;
    for await (const chunk of await this.store.open(piece.ref.key, { range: { start, end: start + buffer.length - 1 } })) {
      if (filled + chunk.byteLength > buffer.length) break;
      buffer.set(chunk, filled);
      filled += chunk.byteLength;
    }
    if (filled !== buffer.length) {
      throw new DailiesError('internal', `"${piece.ref.key}" holds fewer frames than its track says; it was cut short.`, { retryable: true });
    }
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) frames.push(new Uint8Array(buffer.buffer, buffer.byteOffset + i * this.frameBytes, this.frameBytes));
    return frames;
  }
}

/** A stored piece's ref without asking the store: its key, and the bytes its frames take. */
export function pieceOf(key: string, frames: number, frameBytes: number): TrackPiece {
  return { ref: { key, bytes: frames * frameBytes, contentType: RAW_CONTENT_TYPE }, frames };
}

/** Frames as one buffer for the store. */
export function packFrames(frames: readonly Uint8Array[]): Buffer {
  return Buffer.concat(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength)));
}
