import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString, boolean, explicit, implicitPrimitive, namedBits, octetString, oid, sequence, set,
  smallInteger, time, unsignedInteger, utf8String, type Der,
} from './der.ts';
import { toPem } from './pem.ts';

/**
 * A local CA and one signing certificate under it, shaped the way the C2PA validator wants a
 * claim signer: P-256, end-entity with CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
 * emailProtection (one of the EKUs the C2PA certificate profile accepts), and key identifiers
 * so that the chain can be built and checked against a trust anchor.
 *
 * The CA's private key is not returned: it signs the one end-entity certificate and is gone, so
 * a copied identity folder can sign videos but cannot mint more certificates under that CA.
 */

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export interface CreatedChain {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface ChainOptions {
  /** Organization written in both certificates; the CA's common name is "<organization> local CA". */
  organization: string;
  /** Common name of the signing certificate: what `dailies verify` shows as "signed by". */
  commonName: string;
  now?: Date;
  /**
   * Without a trusted timestamp (none is reachable offline) validators check the certificate
   * against the time of validation, so a short validity would turn every old video invalid.
   */
  years?: number;
}

export function createCertificateChain(options: ChainOptions): CreatedChain {
  const now = options.now ?? new Date();
  // Backdated a little so a verifier whose clock is a few minutes behind still accepts it.
  const notBefore = new Date(now.getTime() - 10 * 60_000);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + (options.years ?? 20));

  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = name(`${options.organization} local CA`, options.organization);
  const caKeyId = keyIdentifier(ca.publicKey);

  const caCert = certificate({
    issuer: caName, subject: caName, subjectKey: ca.publicKey, issuerKey: ca.privateKey, notBefore, notAfter,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
      extension(OID.subjectKeyId, false, octetString(caKeyId)),
    ],
  });
  const leafCert = certificate({
    issuer: caName, subject: name(options.commonName, options.organization), subjectKey: leaf.publicKey, issuerKey: ca.privateKey, notBefore, notAfter,
    extensions: [
      // CA:FALSE is the DEFAULT, and DER omits defaults: an empty SEQUENCE.
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(OID.extKeyUsage, false, sequence(oid(OID.emailProtection))),
      extension(OID.subjectKeyId, false, octetString(keyIdentifier(leaf.publicKey))),
      extension(OID.authorityKeyId, false, sequence(implicitPrimitive(0, caKeyId))),
    ],
  });
  return {
    caPem: toPem('CERTIFICATE', caCert),
    certPem: toPem('CERTIFICATE', leafCert),
    keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

interface CertificateFields {
  issuer: Der;
  subject: Der;
  subjectKey: KeyObject;
  issuerKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Der[];
}

function certificate(f: CertificateFields): Der {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, and 16 bytes long every time
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3: extensions follow
    unsignedInteger(serial),
    algorithm,
    f.issuer,
    sequence(time(f.notBefore), time(f.notAfter)),
    f.subject,
    spki(f.subjectKey),
    explicit(3, sequence(...f.extensions)),
  );
  // node signs ECDSA in DER form by default, which is what X.509 carries.
  return sequence(tbs, algorithm, bitString(sign('sha256', tbs, f.issuerKey)));
}

function name(commonName: string, organization: string): Der {
  return sequence(
    set(sequence(oid(OID.organization), utf8String(organization))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );
}

function extension(id: string, critical: boolean, value: Der): Der {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

const spki = (key: KeyObject) => new Uint8Array(key.export({ type: 'spki', format: 'der' }));

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
function keyIdentifier(key: KeyObject): Uint8Array {
  const der = spki(key);
  // A P-256 SPKI ends with the 65-byte uncompressed point.
  return new Uint8Array(createHash('sha1').update(der.subarray(der.length - 65)).digest());
}
