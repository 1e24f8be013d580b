import { generateKeyPairSync } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningIdentity } from '../../src/provenance/index.ts';
import { exec, tempDir } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INDEX = path.join(ROOT, 'src/provenance/index.ts');

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe('loadSigningIdentity', () => {
  it('creates the folder once (key 0600) and loads the same certificate and key afterwards', async () => {
    const folder = path.join(dir, 'once', 'nested');
    const first = await loadSigningIdentity(folder);
    const second = await loadSigningIdentity(folder);

    expect((await readdir(folder)).sort()).toEqual(['ca.pem', 'cert.pem', 'key.pem']);
    expect(await mode(path.join(folder, 'key.pem'))).toBe(0o600);
    expect(await mode(folder)).toBe(0o700);
    expect(second.certificate.fingerprint256).toBe(first.certificate.fingerprint256);
    expect(second.key.export({ type: 'pkcs8', format: 'der' })).toEqual(first.key.export({ type: 'pkcs8', format: 'der' }));
    expect(second.caPem).toBe(await readFile(path.join(folder, 'ca.pem'), 'utf8'));
  });

  it('creates a certificate the C2PA profile accepts: P-256, not a CA, digitalSignature, emailProtection, issued by ca.pem', async () => {
    const identity = await loadSigningIdentity(path.join(dir, 'profile'), { organization: 'Acme Studio' });
    const cert = identity.certificate;

    expect(identity.alg).toBe('es256');
    expect(identity.chain).toHaveLength(2);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.4']);
    expect(cert.subject).toBe('O=Acme Studio\nCN=Acme Studio signer');
    expect(cert.issuer).toBe('O=Acme Studio\nCN=Acme Studio local CA');
    // openssl is the independent check of the DER we build by hand, including the S/MIME signing purpose.
    const { stdout } = await exec('openssl', ['verify', '-purpose', 'smimesign', '-CAfile', path.join(dir, 'profile', 'ca.pem'), path.join(dir, 'profile', 'cert.pem')]);
    expect(stdout.trim()).toBe(`${path.join(dir, 'profile', 'cert.pem')}: OK`);
  });

  it('gives two processes that start at once the same identity, with no half-written files', async () => {
    const folder = path.join(dir, 'race');
    const script = path.join(dir, 'load.mts');
    await writeFile(script, `import { loadSigningIdentity } from ${JSON.stringify(INDEX)};\nconsole.log((await loadSigningIdentity(process.argv[2])).certificate.fingerprint256);\n`);
    const load = () => exec(process.execPath, ['--import', 'tsx', script, folder], { cwd: ROOT });
    const [a, b, c] = await Promise.all([load(), load(), loadSigningIdentity(folder)]);

    expect(a.stdout.trim()).toBe(c.certificate.fingerprint256);
    expect(b.stdout.trim()).toBe(c.certificate.fingerprint256);
    expect((await readdir(folder)).sort()).toEqual(['ca.pem', 'cert.pem', 'key.pem']);
  });

  it('says which file is missing when a folder is incomplete, and how to fix it', async () => {
    const folder = path.join(dir, 'incomplete');
    await loadSigningIdentity(folder);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(folder, 'cert.pem'));

    await expect(loadSigningIdentity(folder, { creationWaitMs: 100 })).rejects.toMatchObject({
      code: 'bad_input',
      message: `The signing identity in ${folder} is incomplete (no cert.pem); restore the missing file, or delete ca.pem, cert.pem, key.pem there to create a new identity.`,
    });
  });

  it('refuses a key that does not belong to the certificate, in one sentence', async () => {
    const folder = path.join(dir, 'mismatch');
    await loadSigningIdentity(folder);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(path.join(folder, 'key.pem'), other);

    await expect(loadSigningIdentity(folder)).rejects.toMatchObject({
      code: 'bad_input',
      message: `${path.join(folder, 'key.pem')} does not belong to the certificate in cert.pem; replace it, or delete ca.pem, cert.pem, key.pem there to create a new identity.`,
    });
  });
});
