import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigningIdentity, manifestHeadroom, readCredentials, signMp4, type Credits, type SigningIdentity } from '../../src/provenance/index.ts';
import { makeMp4, sampleCredits, tempDir } from './helpers.ts';

// A chat upload has a size cap, and signing comes after encoding: whoever encodes must leave
// room for the manifest. These tests pin what signing adds and that the advertised headroom
// covers it, for tiny and for maximal credits.

let dir: string;
let cleanup: () => Promise<void>;
let identity: SigningIdentity;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  identity = await loadSigningIdentity(path.join(dir, 'identity'));
  await signMp4(await makeMp4(path.join(dir, 'warm.mp4')), path.join(dir, 'warm.signed.mp4'), sampleCredits(), identity); // compile the wasm once
});
afterAll(() => cleanup());

/** Every field at its limit: the largest manifest Credits allows. */
function maximalCredits(): Credits {
  const lineage = Array.from({ length: 100 }, (_, i) => ({
    version: i + 1, prompt: 'p'.repeat(2000), negativePrompt: 'n'.repeat(2000), author: { id: `id-${i}`.padEnd(200, '.'), name: 'N'.repeat(100) },
    change: 'c'.repeat(500), parent: i ? { version: i, take: 1 } : null,
  }));
  const roles: Credits['contributors'][number]['roles'] = ['prompted', 'revised', 'voted', 'finalized'];
  return { ...sampleCredits(), title: 't'.repeat(200), take: { version: 100, take: 4 }, lineage, contributors: lineage.map((l) => ({ person: l.author, roles })) };
}

describe('the bytes signing adds', () => {
  it('a ~100 KB take signed under a cap it nearly fills still fits when the headroom was left', async () => {
    const input = await makeMp4(path.join(dir, '100k.mp4'), { source: 'testsrc2', size: '320x240', seconds: 4, bitrate: '220k' });
    const inputBytes = (await stat(input)).size;
    const credits = sampleCredits();
    const headroom = manifestHeadroom(credits, identity);
    const cap = inputBytes + headroom; // the encoder aimed just under cap - headroom

    const result = await signMp4(input, path.join(dir, '100k.signed.mp4'), credits, identity);
    console.info(`~100 KB: input ${inputBytes} B, signed ${result.bytes} B, manifest +${result.manifestBytes} B, headroom ${headroom} B, ${result.ms} ms`);

    expect(result.bytes).toBe(inputBytes + result.manifestBytes);
    expect(result.bytes).toBeLessThanOrEqual(cap);
    expect(result.manifestBytes).toBeGreaterThan(1_000);
    expect(result.manifestBytes).toBeLessThan(16_000);
  });

  it('adds the same bytes to a ~2 MB take: the manifest does not grow with the video', async () => {
    const small = await signMp4(await makeMp4(path.join(dir, 'tiny.mp4')), path.join(dir, 'tiny.signed.mp4'), sampleCredits(), identity);
    const input = await makeMp4(path.join(dir, '2m.mp4'), { source: 'testsrc2', size: '960x720', seconds: 8, bitrate: '2M' });
    const inputBytes = (await stat(input)).size;
    const large = await signMp4(input, path.join(dir, '2m.signed.mp4'), sampleCredits(), identity);
    console.info(`~2 MB: input ${inputBytes} B, signed ${large.bytes} B, manifest +${large.manifestBytes} B, ${large.ms} ms`);

    expect(large.manifestBytes).toBe(small.manifestBytes);
    expect(large.bytes).toBe(inputBytes + large.manifestBytes);
  });

  it('stays within the headroom for the largest credits allowed, which still read back whole', async () => {
    const input = await makeMp4(path.join(dir, 'maximal.mp4'));
    const output = path.join(dir, 'maximal.signed.mp4');
    const credits = maximalCredits();
    const headroom = manifestHeadroom(credits, identity);
    const result = await signMp4(input, output, credits, identity);
    console.info(`maximal credits: manifest +${result.manifestBytes} B, headroom ${headroom} B, ${result.ms} ms`);

    expect(result.manifestBytes).toBeLessThanOrEqual(headroom);
    const { readFile } = await import('node:fs/promises');
    const report = await readCredentials(new Uint8Array(await readFile(output)));
    expect(report.state).toBe('valid');
    expect(report.credits?.lineage).toHaveLength(100);
  });
});
