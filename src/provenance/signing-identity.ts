import { createPrivateKey, createPublicKey, randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DailiesError } from '../errors.ts';
import { createCertificateChain } from './certificates.ts';
import type { SigningAlg } from './cose-sign1.ts';
import { certificatesIn } from './pem.ts';

/**
 * The key and certificates that sign videos, kept in one folder as three PEM files:
 * `ca.pem` (the CA, or a chain up to it), `cert.pem` (the signing certificate) and `key.pem`
 * (its private key, mode 0600). A missing folder is filled once with a new local CA; a team
 * with its own PKI puts its files there instead.
 */

export interface SigningIdentity {
  alg: SigningAlg;
  key: KeyObject;
  /** DER certificates, signing certificate first, as the COSE x5chain carries them. */
  chain: Uint8Array[];
  certificate: X509Certificate;
  /** ca.pem as read: what a verifier passes as its trust anchor (`dailies verify --trust`). */
  caPem: string;
  dir: string;
}

export interface IdentityOptions {
  /** Organization in newly created certificates (default "dailies"); ignored when the files exist. */
  organization?: string;
  /**
   * How long to wait, when only some of the files are there, for another process that is
   * creating them right now (default 5 s); after that the folder is reported as incomplete.
   */
  creationWaitMs?: number;
}

const FILES = { ca: 'ca.pem', cert: 'cert.pem', key: 'key.pem' } as const;

export async function loadSigningIdentity(dir: string, options: IdentityOptions = {}): Promise<SigningIdentity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const found = await readAll(dir);
  if (found.every((f) => f === null)) {
    if (await createOnce(dir, options.organization ?? 'dailies')) return parse(dir, await readAll(dir));
  }
  return parse(dir, await waitForAll(dir, found, options.creationWaitMs ?? 5_000));
}

type Found = [ca: string | null, cert: string | null, key: string | null];

async function readAll(dir: string): Promise<Found> {
  const read = (name: string) =>
    readFile(join(dir, name), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw new DailiesError('unavailable', `Cannot read ${join(dir, name)} (${e.code ?? e.message}); check the folder's permissions.`, { cause: e });
    });
  return Promise.all([read(FILES.ca), read(FILES.cert), read(FILES.key)]);
}

/**
 * Writes a new identity unless another process got there first (then returns false). Each file
 * is written under a temporary name; `link` of the key is the commit point because, unlike
 * rename, it fails when the target exists, so exactly one of two racing processes wins. The
 * winner renames its certificates in after it, cert.pem last, and readers treat the folder as
 * complete only when all three files are there.
 */
async function createOnce(dir: string, organization: string): Promise<boolean> {
  const chain = createCertificateChain({ organization, commonName: `${organization} signer` });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const tmp = { ca: join(dir, `.${FILES.ca}.${tag}`), cert: join(dir, `.${FILES.cert}.${tag}`), key: join(dir, `.${FILES.key}.${tag}`) };
  try {
    await writeFile(tmp.key, chain.keyPem, { mode: 0o600, flag: 'wx' });
    await chmod(tmp.key, 0o600); // writeFile's mode is only used when the umask allows it
    await writeFile(tmp.ca, chain.caPem, { mode: 0o644, flag: 'wx' });
    await writeFile(tmp.cert, chain.certPem, { mode: 0o644, flag: 'wx' });
    try {
      await link(tmp.key, join(dir, FILES.key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    await rename(tmp.ca, join(dir, FILES.ca));
    await rename(tmp.cert, join(dir, FILES.cert));
    return true;
  } catch (e) {
    if (e instanceof DailiesError) throw e;
    throw new DailiesError('unavailable', `Cannot create the signing identity in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check that the folder is writable.`, { cause: e });
  } finally {
    await Promise.all(Object.values(tmp).map((p) => rm(p, { force: true })));
  }
}

async function waitForAll(dir: string, first: Found, waitMs: number): Promise<Found> {
  let found = first;
  const deadline = Date.now() + waitMs;
  while (found.some((f) => f === null) && Date.now() < deadline) {
    await sleep(50);
    found = await readAll(dir);
  }
  const missing = Object.values(FILES).filter((_, i) => found[i] === null);
  if (missing.length) {
    throw new DailiesError('bad_input', `The signing identity in ${dir} is incomplete (no ${missing.join(' or ')}); restore the missing file, or delete ${Object.values(FILES).join(', ')} there to create a new identity.`);
  }
  return found;
}

function parse(dir: string, [caPem, certPem, keyPem]: Found): SigningIdentity {
  const bad = (file: string, what: string, cause?: unknown) =>
    new DailiesError('bad_input', `${join(dir, file)} ${what}; replace it, or delete ${Object.values(FILES).join(', ')} there to create a new identity.`, { cause });
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem!);
  } catch (e) {
    throw bad(FILES.key, 'is not a PEM private key', e);
  }
  const certificate = certificatesIn(certPem!)[0];
  if (!certificate) throw bad(FILES.cert, 'holds no PEM certificate');
  const cas = certificatesIn(caPem!);
  const issuer = cas[0];
  if (!issuer) throw bad(FILES.ca, 'holds no PEM certificate');

  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(certificate.publicKey))) throw bad(FILES.key, 'does not belong to the certificate in cert.pem');
  if (!certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey)) throw bad(FILES.cert, 'was not issued by the first certificate in ca.pem');
  // Expired signing certificates make every new video's credentials invalid; say so now.
  if (new Date(certificate.validTo).getTime() < Date.now()) throw bad(FILES.cert, `expired on ${certificate.validTo}`);

  return {
    alg: algorithmOf(key, () => bad(FILES.key, 'holds a key type dailies cannot sign with (use P-256, P-384 or Ed25519)')),
    key,
    chain: [certificate, ...cas].map((c) => new Uint8Array(c.raw)),
    certificate,
    caPem: caPem!,
    dir,
  };
}

function algorithmOf(key: KeyObject, refuse: () => Error): SigningAlg {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'es256';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1') return 'es384';
  throw refuse();
}
