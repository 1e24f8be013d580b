import { concat } from './cbor.ts';

/**
 * The few DER (X.690) encoders an X.509 certificate is built from. node:crypto parses and
 * verifies certificates but cannot create them; the two certificates we need (a local CA and
 * one signing certificate) use a fixed handful of fields, which is less code to read than the
 * dozen packages a general X.509 library brings in. Every certificate built with these is
 * parsed back by node:crypto and checked by the c2pa validator in the tests.
 */

export type Der = Uint8Array;

export function tlv(tag: number, ...content: Der[]): Der {
  const body = concat(content);
  return concat([Uint8Array.of(tag), length(body.length), body]);
}

function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export const sequence = (...items: Der[]) => tlv(0x30, ...items);
export const set = (...items: Der[]) => tlv(0x31, ...items);
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
export const utf8String = (text: string) => tlv(0x0c, new TextEncoder().encode(text));
export const boolean = (value: boolean) => tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
/** `[n] EXPLICIT`: a constructed context tag around a whole encoding. */
export const explicit = (n: number, inner: Der) => tlv(0xa0 | n, inner);
/** `[n] IMPLICIT` on a primitive: the context tag replaces the inner one. */
export const implicitPrimitive = (n: number, bytes: Uint8Array) => tlv(0x80 | n, bytes);

/** A non-negative INTEGER from big-endian bytes, in the minimal two's-complement form DER requires. */
export function unsignedInteger(bytes: Uint8Array): Der {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? concat([Uint8Array.of(0), trimmed]) : trimmed);
}

export const smallInteger = (n: number) => unsignedInteger(Uint8Array.of(n));

/** BIT STRING of whole bytes (keys, signatures). */
export const bitString = (bytes: Uint8Array) => tlv(0x03, Uint8Array.of(0), bytes);

/**
 * A named-bit BIT STRING (keyUsage): DER drops trailing zero bits, so the unused-bit count
 * depends on the highest bit set.
 */
export function namedBits(bits: number[]): Der {
  const last = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(last / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return tlv(0x03, Uint8Array.of(7 - (last & 7)), bytes);
}

export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const [a = 0, b = 0, ...rest] = arcs;
  for (const arc of [40 * a + b, ...rest]) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(date: Date): Der {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, ascii(digits.slice(2))) : tlv(0x18, ascii(digits));
}

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
