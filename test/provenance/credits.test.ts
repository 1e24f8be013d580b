import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymize } from '../../src/provenance/credits.ts';
import { loadSigningIdentity, parseCredits, signMp4, type Credits } from '../../src/provenance/index.ts';
import { makeMp4, sampleCredits, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** Credits with one change, typed loosely because the point is to pass wrong shapes. */
function broken(change: (c: Record<string, any>) => void): Credits {
  const c = structuredClone(sampleCredits()) as Record<string, any>;
  change(c);
  return c as Credits;
}

const ONE_SENTENCE = /^[^\n]+\.$/;

describe('bad Credits are refused with one sentence naming the field and the fix', () => {
  it.each([
    ['an empty title', (c: any) => (c.title = ''), 'Credits: title must not be empty.'],
    ['a title past 200 characters', (c: any) => (c.title = 'x'.repeat(201)), 'Credits: title must be at most 200 characters; clip the title (e.g. the prompt) to fit.'],
    ['another software name', (c: any) => (c.software.name = 'other'), 'Credits: software.name must be "dailies".'],
    ['a weights hash that is not SHA-256 hex', (c: any) => (c.model.weightsSha256 = 'abc'), 'Credits: model.weightsSha256 must be 64 lowercase hex digits (the SHA-256 of the weights file).'],
    ['take 0', (c: any) => (c.take.take = 0), 'Credits: take.take must be 1 or more.'],
    ['no lineage', (c: any) => (c.lineage = []), 'Credits: lineage must hold at least the version this take was rendered from.'],
    ['an unknown role', (c: any) => (c.contributors[0].roles = ['directed']), 'Credits: contributors.0.roles.0 must be one of prompted, revised, voted, finalized.'],
    ['a parent that is not in the lineage', (c: any) => (c.lineage[1].parent = { version: 7 }), 'Credits: lineage.1.parent.version names v7, which is not an earlier version in the lineage; include that version or set parent to null.'],
    ['a take of a version the lineage lacks', (c: any) => (c.take.version = 3), 'Credits: take.version is v3, which the lineage does not hold; include it in the lineage.'],
    ['the same contributor twice', (c: any) => c.contributors.push(c.contributors[0]), 'Credits: contributors.2.person.id repeats a contributor; merge their roles into one entry.'],
    ['half an emoji in a prompt', (c: any) => (c.lineage[0].prompt = 'a fox \uD83E'), 'Credits: lineage.0.prompt holds half of an emoji or other broken character; remove it.'],
    ['a missing author', (c: any) => delete c.lineage[0].author, 'Credits: lineage.0.author expected object, received undefined.'],
  ])('%s', (_name, change, message) => {
    let error: unknown;
    try {
      parseCredits(broken(change));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ name: 'DailiesError', code: 'bad_input', message });
    expect((error as Error).message).toMatch(ONE_SENTENCE);
  });

  it('signMp4 checks the credits before touching any file', async () => {
    const input = await makeMp4(path.join(dir, 'take.mp4'));
    const identity = await loadSigningIdentity(path.join(dir, 'identity'));
    await expect(signMp4(input, path.join(dir, 'out.mp4'), broken((c) => (c.title = '')), identity)).rejects.toMatchObject({
      code: 'bad_input',
      message: 'Credits: title must not be empty.',
    });
  });
});

describe('anonymize', () => {
  it('numbers people by first appearance and keeps one number per person throughout', () => {
    const credits = sampleCredits();
    credits.lineage.push({ version: 3, prompt: 'a red circle', author: credits.lineage[0]!.author, change: 'back to v1', parent: { version: 2 } });
    const out = anonymize(credits);

    expect(out.lineage.map((l) => l.author.name)).toEqual(['contributor 1', 'contributor 2', 'contributor 1']);
    expect(out.contributors.map((c) => c.person)).toEqual([{ id: 'contributor-1', name: 'contributor 1' }, { id: 'contributor-2', name: 'contributor 2' }]);
    expect(JSON.stringify(out)).not.toMatch(/Ana|Bo\b|discord:/);
  });
});
