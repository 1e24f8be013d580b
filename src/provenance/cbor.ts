/**
 * The slice of CBOR (RFC 8949) that a COSE_Sign1 needs, and no more: the c2pa wasm signer hands
 * us the claim and expects the whole signature structure back, so we encode it ourselves rather
 * than add a general CBOR dependency for five value kinds.
 *
 * Output is deterministic (definite lengths, shortest heads, map entries in the order given)
 * because the protected header is signed as bytes: the same header must encode the same way.
 */

export type CborValue =
  | number
  | string
  | Uint8Array
  | null
  | CborValue[]
  | CborMap
  | CborTagged;

/** Entries in the order they are written; COSE labels are integers or text. */
export class CborMap {
  constructor(readonly entries: ReadonlyArray<readonly [number | string, CborValue]>) {}
}

export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = [];
  write(value, parts);
  return concat(parts);
}

/** Bytes a byte string of `length` bytes takes once encoded: what padding arithmetic needs. */
export function byteStringSize(length: number): number {
  return headSize(length) + length;
}

function write(value: CborValue, out: Uint8Array[]): void {
  if (value === null) {
    out.push(Uint8Array.of(0xf6));
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`CBOR: only safe integers are supported, got ${value}`);
    out.push(value >= 0 ? head(0, value) : head(1, -1 - value));
  } else if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    out.push(head(3, bytes.length), bytes);
  } else if (value instanceof Uint8Array) {
    out.push(head(2, value.length), value);
  } else if (Array.isArray(value)) {
    out.push(head(4, value.length));
    for (const item of value) write(item, out);
  } else if (value instanceof CborMap) {
    out.push(head(5, value.entries.length));
    for (const [key, item] of value.entries) {
      write(key, out);
      write(item, out);
    }
  } else {
    out.push(head(6, value.tag));
    write(value.value, out);
  }
}

function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

function head(major: number, n: number): Uint8Array {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  if (n < 0x100000000) {
    const b = new Uint8Array(5);
    b[0] = m | 26;
    new DataView(b.buffer).setUint32(1, n);
    return b;
  }
  const b = new Uint8Array(9);
  b[0] = m | 27;
  new DataView(b.buffer).setBigUint64(1, BigInt(n));
  return b;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
