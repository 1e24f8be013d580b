import { sign, type KeyObject } from 'node:crypto';
import { byteStringSize, CborMap, CborTagged, encodeCbor, type CborValue } from './cbor.ts';

/**
 * A C2PA claim signature: a tagged COSE_Sign1 (RFC 9052) with a detached payload. The c2pa-wasm
 * signer calls back with the claim bytes and embeds whatever comes back verbatim, so everything
 * a validator needs is put in here: the algorithm and the certificate chain (x5chain) in the
 * protected header, and padding in the unprotected one, because the space for the signature was
 * reserved in the file before the claim was signed and must be filled exactly.
 */

export type SigningAlg = 'es256' | 'es384' | 'ed25519';

/** COSE algorithm ids (IANA "COSE Algorithms"). */
const COSE_ALG: Record<SigningAlg, number> = { es256: -7, es384: -35, ed25519: -8 };
const HASH: Record<SigningAlg, string | null> = { es256: 'sha256', es384: 'sha384', ed25519: null };
/** Signature sizes are fixed per algorithm (P1363 r||s for ECDSA), so the reserve can be exact. */
const SIGNATURE_BYTES: Record<SigningAlg, number> = { es256: 64, es384: 96, ed25519: 64 };

const HEADER = { alg: 1, x5chain: 33 } as const;
const TAG_COSE_SIGN1 = 18;

export interface CoseSigner {
  alg: SigningAlg;
  key: KeyObject;
  /** DER certificates, end-entity first. */
  chain: readonly Uint8Array[];
}

/**
 * Bytes to reserve for the signature: the unpadded size plus room for a padding field, so that
 * padding to exactly this size always has a solution.
 */
export function reserveSizeFor(signer: Omit<CoseSigner, 'key'>): number {
  return sign1Bytes(protectedHeader(signer), [], new Uint8Array(SIGNATURE_BYTES[signer.alg])).length + 64;
}

export function coseSign1(claim: Uint8Array, signer: CoseSigner, reserveSize: number): Uint8Array {
  const protectedBytes = protectedHeader(signer);
  // Sig_structure for COSE_Sign1: context, body_protected, external_aad (empty), payload.
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), claim]);
  // ECDSA in COSE is r||s (IEEE P1363), not the DER that node produces by default.
  const signature = new Uint8Array(sign(HASH[signer.alg], toBeSigned, { key: signer.key, dsaEncoding: 'ieee-p1363' }));

  const unpadded = sign1Bytes(protectedBytes, [['pad', new Uint8Array(0)]], signature).length;
  const room = reserveSize - unpadded + byteStringSize(0);
  const pads = padLengths(room);
  if (!pads) {
    throw new Error(`COSE_Sign1 needs ${unpadded} bytes but only ${reserveSize} were reserved for it.`);
  }
  const entries: Array<readonly [string, CborValue]> = [['pad', new Uint8Array(pads[0])]];
  // "pad2" bridges the sizes one byte string cannot take (a 23-byte string encodes to 24 bytes, a 24-byte one to 26).
  if (pads[1] !== undefined) entries.push(['pad2', new Uint8Array(pads[1])]);
  const out = sign1Bytes(protectedBytes, entries, signature);
  if (out.length !== reserveSize) throw new Error(`COSE_Sign1 padding came to ${out.length} bytes, not the ${reserveSize} reserved.`);
  return out;
}

function protectedHeader(signer: Omit<CoseSigner, 'key'>): Uint8Array {
  const [only, ...more] = signer.chain;
  if (!only) throw new Error('COSE_Sign1: the certificate chain is empty.');
  // RFC 9360: one certificate is a bare byte string, more are an array.
  const x5chain: CborValue = more.length ? [...signer.chain] : only;
  return encodeCbor(new CborMap([[HEADER.alg, COSE_ALG[signer.alg]], [HEADER.x5chain, x5chain]]));
}

function sign1Bytes(protectedBytes: Uint8Array, unprotected: Array<readonly [string, CborValue]>, signature: Uint8Array): Uint8Array {
  return encodeCbor(new CborTagged(TAG_COSE_SIGN1, [protectedBytes, new CborMap(unprotected), null, signature]));
}

/**
 * Lengths of "pad" (and, when one byte string cannot fill `room` encoded bytes exactly, of
 * "pad2") that fill `room`. "pad2" costs its 5-byte key on top of its value.
 */
function padLengths(room: number): [number] | [number, number] | null {
  const single = fill(room);
  if (single !== null) return [single];
  for (let second = 0; second < 24; second++) {
    const first = fill(room - 5 - byteStringSize(second));
    if (first !== null) return [first, second];
  }
  return null;
}

function fill(encodedSize: number): number | null {
  for (let length = Math.max(0, encodedSize - 9); length <= encodedSize; length++) {
    if (byteStringSize(length) === encodedSize) return length;
  }
  return null;
}
