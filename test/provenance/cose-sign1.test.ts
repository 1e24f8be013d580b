import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CborMap, CborTagged, encodeCbor, type CborValue } from '../../src/provenance/cbor.ts';
import { coseSign1, reserveSizeFor, type CoseSigner } from '../../src/provenance/cose-sign1.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('encodeCbor', () => {
  // RFC 8949 Appendix A.
  it.each<[CborValue, string]>([
    [0, '00'], [23, '17'], [24, '1818'], [100, '1864'], [1000, '1903e8'], [1000000, '1a000f4240'], [1000000000000, '1b000000e8d4a51000'],
    [-1, '20'], [-10, '29'], [-100, '3863'], [-1000, '3903e7'],
    ['', '60'], ['a', '6161'], ['IETF', '6449455446'], ['\u00fc', '62c3bc'], ['\u6c34', '63e6b0b4'],
    [new Uint8Array(0), '40'], [Uint8Array.of(1, 2, 3, 4), '4401020304'],
    [[], '80'], [[1, [2, 3], [4, 5]], '8301820203820405'], [null, 'f6'],
    [new CborMap([]), 'a0'], [new CborMap([[1, 2], [3, 4]]), 'a201020304'], [new CborMap([['a', 1], ['b', [2, 3]]]), 'a26161016162820203'],
    [new CborTagged(1, 1363896240), 'c11a514b67b0'],
  ])('vector %# encodes as %s', (value, expected) => {
    expect(hex(encodeCbor(value))).toBe(expected);
  });
});

describe('coseSign1', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Stand-in certificates: only their sizes matter for the padding arithmetic.
  const signer: CoseSigner = { alg: 'es256', key: privateKey, chain: [new Uint8Array(400).fill(1), new Uint8Array(380).fill(2)] };
  const claim = new TextEncoder().encode('the claim bytes');

  it('fills every reserved size exactly, including sizes one byte string cannot take', () => {
    // reserveSizeFor leaves 64 bytes over the size without any padding field; the smallest
    // padded form is 5 bytes over it (the "pad" key and an empty byte string).
    const smallest = reserveSizeFor(signer) - 64 + 5;
    // Padding lengths 0..300 cross both CBOR head-size steps (24 and 256 bytes).
    for (let reserve = smallest; reserve < smallest + 300; reserve++) {
      expect(coseSign1(claim, signer, reserve).length).toBe(reserve);
    }
  });

  it('is a tagged COSE_Sign1 whose ES256 signature (r||s) verifies over the Sig_structure', () => {
    const out = coseSign1(claim, signer, reserveSizeFor(signer));
    expect(hex(out.subarray(0, 2))).toBe('d284'); // tag 18, array of 4
    expect(out[2]).toBe(0x59); // protected header: a byte string with a 2-byte length
    const protectedLength = (out[3]! << 8) | out[4]!;
    const protectedBytes = out.subarray(5, 5 + protectedLength);
    expect(hex(protectedBytes.subarray(0, 4))).toBe('a2012618'); // {1: -7, 33: …}: ES256, then x5chain
    expect(protectedBytes[4]).toBe(33);

    const signature = out.subarray(out.length - 64);
    expect(hex(out.subarray(out.length - 67, out.length - 64))).toBe('f65840'); // nil payload, then a 64-byte string
    const toBeSigned = encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), claim]);
    expect(verify('sha256', toBeSigned, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  it('refuses a reserve too small to hold the signature', () => {
    expect(() => coseSign1(claim, signer, 100)).toThrow(/needs \d+ bytes but only 100 were reserved/);
  });
});
