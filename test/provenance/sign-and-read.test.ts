import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C2PA_UUID, topLevelBoxes } from '../../src/provenance/bmff.ts';
import { coseSign1, reserveSizeFor } from '../../src/provenance/cose-sign1.ts';
import {
  formatReport, loadSigningIdentity, readCredentials, signMp4, type CredentialsReport, type SigningIdentity,
} from '../../src/provenance/index.ts';
import { TRAINED_ALGORITHMIC_MEDIA } from '../../src/provenance/manifest.ts';
import { asBlob, BytesBlob, c2paWasm } from '../../src/provenance/wasm.ts';
import { decodedFrames, makeMp4, sampleCredits, tempDir } from './helpers.ts';

// Real parts throughout: ffmpeg makes the videos, c2pa-wasm embeds and validates, node:crypto
// signs. The identity is created once for the file; a second one stands in for "someone else".

let dir: string;
let cleanup: () => Promise<void>;
let identity: SigningIdentity;
let stranger: SigningIdentity;
let unsigned: string;
let signed: string;
let signedBytes: Uint8Array;

const bytesOf = async (file: string) => new Uint8Array(await readFile(file));

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  identity = await loadSigningIdentity(path.join(dir, 'identity'));
  stranger = await loadSigningIdentity(path.join(dir, 'stranger'), { organization: 'elsewhere' });
  unsigned = await makeMp4(path.join(dir, 'take.mp4'));
  signed = path.join(dir, 'take.signed.mp4');
  await signMp4(unsigned, signed, sampleCredits(), identity);
  signedBytes = await bytesOf(signed);
});
afterAll(() => cleanup());

describe('signMp4 then readCredentials', () => {
  it('reads back valid, with the exact lineage, contributors, model and take', async () => {
    const report = await readCredentials(signedBytes);

    expect(report).toMatchObject({ state: 'valid', problems: [], issuer: 'dailies local CA', generator: 'dailies 0.1.0' });
    expect(report.credits).toEqual(sampleCredits());
    expect(Date.parse(report.signedAt!)).toBeGreaterThan(Date.now() - 5 * 60_000);
  });

  it('is trusted when the CA is given as a trust anchor, and says why not for another CA', async () => {
    expect(await readCredentials(signedBytes, { trustAnchorsPem: identity.caPem })).toMatchObject({ state: 'trusted', problems: [] });

    const elsewhere = await readCredentials(signedBytes, { trustAnchorsPem: stranger.caPem });
    expect(elsewhere.state).toBe('valid');
    expect(elsewhere.problems).toEqual(['the signing certificate does not chain to a trusted CA (signingCredential.untrusted)']);
  });

  it('writes the standard AI-generated action and the claim generator, which any C2PA reader shows', async () => {
    const reader = await c2paWasm().WasmReader.fromBytes('video/mp4', signedBytes);
    const store = JSON.parse(reader.json());
    reader.free();
    const manifest = store.manifests[store.active_manifest];
    const actions = manifest.assertions.find((a: { label: string }) => a.label === 'c2pa.actions.v2').data.actions;

    expect(actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA, softwareAgent: { name: 'dailies', version: '0.1.0' } });
    expect(manifest.claim_generator_info[0]).toMatchObject({ name: 'dailies', version: '0.1.0' });
    expect(manifest.title).toBe(sampleCredits().title);
  });

  it('leaves a video ffmpeg still plays frame for frame, with the manifest box between ftyp and mdat', async () => {
    expect(await decodedFrames(signed)).toBe(await decodedFrames(unsigned));
    const types = topLevelBoxes(signedBytes).map((b) => (b.uuid === C2PA_UUID ? 'c2pa' : b.type));
    expect(types.indexOf('c2pa')).toBeGreaterThan(types.indexOf('ftyp'));
    expect(types.indexOf('c2pa')).toBeLessThan(types.indexOf('mdat'));
  });

  it('signs a faststart MP4 (moov first, as the project encodes) and it still plays', async () => {
    const input = await makeMp4(path.join(dir, 'faststart.mp4'), { faststart: true });
    const output = path.join(dir, 'faststart.signed.mp4');
    await signMp4(input, output, sampleCredits(), identity);

    expect((await readCredentials(await bytesOf(output))).state).toBe('valid');
    expect(await decodedFrames(output)).toBe(await decodedFrames(input));
  });

  it('writes "contributor N" for everyone, ids included, when the team publishes without names', async () => {
    const output = path.join(dir, 'anonymous.mp4');
    await signMp4(unsigned, output, sampleCredits({ anonymous: true }), identity);
    const credits = (await readCredentials(await bytesOf(output))).credits!;

    expect(credits.anonymous).toBe(true);
    expect(credits.lineage.map((l) => l.author)).toEqual([{ id: 'contributor-1', name: 'contributor 1' }, { id: 'contributor-2', name: 'contributor 2' }]);
    expect(credits.contributors.map((c) => [c.person.name, c.roles])).toEqual([['contributor 1', ['prompted', 'voted']], ['contributor 2', ['revised', 'voted', 'finalized']]]);
    expect(await readFile(output)).not.toContain(Buffer.from('discord:1001'));
    expect(await readFile(output)).not.toContain(Buffer.from('Ana'));
  });
});

describe('readCredentials on files that do not hold up', () => {
  it('finds one changed byte of video data: invalid, and says the video changed', async () => {
    const tampered = signedBytes.slice();
    const mdat = topLevelBoxes(tampered).find((b) => b.type === 'mdat')!;
    tampered[mdat.offset + Math.floor(mdat.size / 2)]! ^= 0x01;
    const report = await readCredentials(tampered);

    expect(report.state).toBe('invalid');
    expect(report.problems).toEqual(['the video data was changed after it was signed (assertion.bmffHash.mismatch)']);
    // What the file claims is still shown, marked as not verified.
    expect(report.credits?.lineage).toHaveLength(2);
    expect(formatReport(report)).toMatch(/^Content Credentials: INVALID\n {2}- the video data was changed.*\nWhat the file claims \(not verified\):/);
  });

  it('finds a changed word in the credits assertion: invalid', async () => {
    const tampered = Buffer.from(signedBytes);
    // This text is only in our assertion (the title is also in the claim, which is signed directly).
    const at = tampered.indexOf("added 'slowly'");
    expect(at).toBeGreaterThan(0);
    tampered.write("added 'wildly'", at, 'latin1');
    const report = await readCredentials(new Uint8Array(tampered));

    expect(report.state).toBe('invalid');
    expect(report.problems.join('\n')).toContain('assertion.hashedURI.mismatch');
  });

  it('reports an unsigned video as absent', async () => {
    expect(await readCredentials(await bytesOf(unsigned))).toEqual({ state: 'absent', problems: [], issuer: null, signedAt: null, credits: null, generator: null } satisfies CredentialsReport);
  });

  it('reports a file that is not an MP4 as invalid with the reason, not as a crash', async () => {
    const report = await readCredentials(new TextEncoder().encode('this is a text file, not a video at all'));
    expect(report.state).toBe('invalid');
    expect(report.problems[0]).toMatch(/^the file cannot be read as MP4 \(/);
  });

  it('gives credits null but still a state for a C2PA manifest written by someone else', async () => {
    const c2pa = c2paWasm();
    const builder = c2pa.WasmBuilder.fromJson(JSON.stringify({
      claim_generator_info: [{ name: 'other-tool', version: '2.0' }],
      title: 'not ours',
      assertions: [{ label: 'c2pa.actions.v2', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
    }));
    const reserveSize = reserveSizeFor(stranger);
    const asset: Uint8Array = await builder.sign(
      { alg: stranger.alg, reserveSize, sign: async (claim) => coseSign1(claim, stranger, reserveSize) as Uint8Array<ArrayBuffer> },
      [], 'video/mp4', asBlob(new BytesBlob(await bytesOf(unsigned))),
    );
    builder.free();

    expect(await readCredentials(asset)).toMatchObject({ state: 'valid', credits: null, issuer: 'elsewhere local CA', generator: 'other-tool 2.0' });
  });

  it('refuses trust anchors that hold no certificate, in one sentence', async () => {
    await expect(readCredentials(signedBytes, { trustAnchorsPem: 'not a pem' })).rejects.toMatchObject({
      code: 'bad_input',
      message: "The trust anchors hold no PEM certificate; pass the CA's .pem file (ca.pem of the signing identity).",
    });
  });
});

describe('signMp4 edge cases', () => {
  it('signs in place, and re-signing replaces the manifest rather than stacking a second one', async () => {
    const file = path.join(dir, 'in-place.mp4');
    await writeFile(file, await readFile(signed));
    const result = await signMp4(file, file, sampleCredits({ take: { version: 2, take: 3 } }), identity);
    const bytes = await bytesOf(file);

    expect((await readCredentials(bytes)).credits?.take).toEqual({ version: 2, take: 3 });
    expect(topLevelBoxes(bytes).filter((b) => b.uuid === C2PA_UUID)).toHaveLength(1);
    expect(result.bytes).toBe(bytes.length);
  });

  it('writes nothing when cancelled, and says so', async () => {
    const output = path.join(dir, 'cancelled.mp4');
    await expect(signMp4(unsigned, output, sampleCredits(), identity, AbortSignal.abort())).rejects.toMatchObject({ code: 'cancelled' });
    await expect(stat(output)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a file that is not an MP4, or is missing, in one sentence, leaving no temp files', async () => {
    const text = path.join(dir, 'notes.txt');
    await writeFile(text, 'hello');
    await expect(signMp4(text, path.join(dir, 'x.mp4'), sampleCredits(), identity)).rejects.toMatchObject({
      code: 'bad_input',
      message: `${text} is not an MP4 file (it does not start with an ftyp box); sign the encoded .mp4.`,
    });
    await expect(signMp4(path.join(dir, 'missing.mp4'), path.join(dir, 'x.mp4'), sampleCredits(), identity)).rejects.toMatchObject({ code: 'not_found' });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('formatReport', () => {
  it('prints state, signer, agent, model, then the lineage and contributors', async () => {
    expect(formatReport(await readCredentials(signedBytes)).replace(/signed at: .*/, 'signed at: <time>')).toBe(
      [
        'Content Credentials: valid: unchanged since it was signed (the signer was not matched to a CA you trust)',
        'signed by: dailies local CA',
        'signed at: <time>',
        'software agent: dailies 0.1.0',
        'model: shapes-v2 (weights sha256 9f2c4e1a0b7d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a)',
        'this video: v2 take 1',
        'lineage:',
        '  v1 "a red circle moving to the left" by Ana (first version)',
        `  v2 "a red circle moving slowly to the left" (avoiding "blurry") by Bo, from v1#2 (added 'slowly')`,
        'contributors:',
        '  Ana: prompted, voted',
        '  Bo: revised, voted, finalized',
      ].join('\n'),
    );
  });

  it('shows control and bidi characters from a crafted file as escapes, never raw', () => {
    const credits = sampleCredits();
    credits.contributors[0]!.person.name = 'Ana\u001b]0;pwned\u0007\u202e';
    const text = formatReport({ state: 'valid', problems: [], issuer: 'x\u009b31m', signedAt: null, credits, generator: null });

    expect(text).toContain('Ana\\u{1b}]0;pwned\\u{7}\\u{202e}: prompted, voted');
    expect(text).toContain('signed by: x\\u{9b}31m');
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });

  it('clips prompts on request, for chat messages with a size limit', () => {
    const credits = sampleCredits();
    const text = formatReport({ state: 'valid', problems: [], issuer: null, signedAt: null, credits, generator: null }, { clipPrompts: 12 });
    expect(text).toContain('  v1 "a red circl…" by Ana'); // 12 characters, the ellipsis included
  });
});
