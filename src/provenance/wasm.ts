import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as c2pa from '@contentauth/c2pa-wasm';

/**
 * The c2pa-wasm build targets browsers and web workers. Two of its assumptions do not hold in
 * Node and are met here, once, before the module is used:
 *
 * - it is initialised with the .wasm bytes (it would otherwise fetch() them by URL);
 * - signing reads its source with `new FileReaderSync().readAsArrayBuffer(blob)` (a worker-only
 *   API; it may also slice the blob first). Node's Blob can only be read asynchronously, so the
 *   source is a {@link BytesBlob} over memory and the FileReaderSync stand-in reads it
 *   synchronously.
 *
 * Reading needs only the first: WasmReader.fromBytes works from a plain Uint8Array.
 */

/** The Blob surface the wasm signer touches: size, type and slice(start, end). */
export class BytesBlob {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly type = '',
  ) {
    this.size = bytes.length;
  }
  slice(start = 0, end = this.size): BytesBlob {
    return new BytesBlob(this.bytes.subarray(start, end), this.type);
  }
}

class BytesFileReaderSync {
  readAsArrayBuffer(blob: unknown): ArrayBuffer {
    if (!(blob instanceof BytesBlob)) {
      throw new TypeError('FileReaderSync (dailies shim) reads only BytesBlob; pass the asset as a BytesBlob.');
    }
    // A fresh buffer of exactly these bytes: a view's .buffer is the whole file (or, for a
    // Buffer, Node's shared pool), and Buffer#slice would return a view, not a copy.
    const copy = new Uint8Array(blob.bytes.length);
    copy.set(blob.bytes);
    return copy.buffer;
  }
}

let ready: typeof c2pa | undefined;

/** The initialised c2pa module; the 9 MB .wasm is compiled on first use only. */
export function c2paWasm(): typeof c2pa {
  if (ready) return ready;
  const g = globalThis as { FileReaderSync?: unknown };
  // Node has none; should a runtime bring its own, it cannot read a BytesBlob, so ours wins.
  if (g.FileReaderSync !== BytesFileReaderSync) g.FileReaderSync = BytesFileReaderSync;
  const wasmPath = createRequire(import.meta.url).resolve('@contentauth/c2pa-wasm/c2pa.wasm');
  c2pa.initSync({ module: readFileSync(wasmPath) });
  ready = c2pa;
  return ready;
}

/** What the wasm API's Blob parameters accept from us; the cast is the shim's whole point. */
export const asBlob = (blob: BytesBlob) => blob as unknown as Blob;
