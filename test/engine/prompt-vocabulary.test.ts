import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readDiffusersFolder } from '../../models/engine/diffusers-layout.ts';
import { builtinModelDir, loadModel } from '../../models/engine/load-model.ts';
import { readModelJson } from '../../models/engine/package.ts';
import { revisePrompt } from '../../src/core/prompt-revision.ts';
import type { PromptVocabulary } from '../../src/core/prompt-vocabulary.ts';
import { ThreadedVideoModel } from '../../workers/threaded-video-model.ts';
import { copyFixture, CPU, editJson, rejection, removeTemps, TINY_LATENT_CLIP, TINY_PIXEL } from './engine-fixtures.ts';

afterAll(removeTemps);

const WORDS: PromptVocabulary = { colours: ['teal', 'orange'], motions: ['growing', 'moving'], backgrounds: ['background'] };

// A model package's prompt vocabulary: the words the reply grammar matches for its sessions.
describe('promptVocabulary in a model package', () => {
  it('is read from model.json and exposed by the loaded model, also across the engine thread', async () => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.promptVocabulary = WORDS;
    });
    expect((await readModelJson(dir)).promptVocabulary).toEqual(WORDS);
    const model = await loadModel(dir, CPU);
    expect(model.promptVocabulary).toEqual(WORDS);
    await model.dispose();
    const threaded = await ThreadedVideoModel.start({ module: new URL('../../models/engine/load-model.ts', import.meta.url).href, exportName: 'loadModel', args: [dir, CPU] });
    expect(threaded.promptVocabulary).toEqual(WORDS);
    await threaded.dispose();
  });

  it('is absent from a model that declares none', async () => {
    const model = await loadModel(TINY_PIXEL, CPU);
    expect(model.promptVocabulary).toBeUndefined();
    await model.dispose();
  });

  it.each([
    [{ motions: [] }, 'promptVocabulary.motions must list at least one phrase (leave the class out to keep the built-in words)'],
    [{ motions: ['moving', 'spinning  fast'] }, "promptVocabulary.motions.1 must be words of letters, digits, ' or - with one space between them"],
    [{ colors: ['teal'] }, 'promptVocabulary has an unknown key "colors"'],
    [{ colours: 'teal' }, 'promptVocabulary.colours must be an array (got string)'],
  ])('refuses %j in model.json in one sentence', async (vocabulary, problem) => {
    const dir = await copyFixture(TINY_PIXEL);
    await editJson(join(dir, 'model.json'), (m) => {
      m.promptVocabulary = vocabulary;
    });
    const e = await rejection(readModelJson(dir));
    expect(e.code).toBe('model_invalid');
    expect(e.message).toBe(`model.json in ${dir}: ${problem}; fix it or re-export the model.`);
  });

  it('is read from a diffusers folder\'s dailies.json, and a bad one is refused in one sentence', async () => {
    const dir = await copyFixture(TINY_LATENT_CLIP);
    await editJson(join(dir, 'dailies.json'), (o) => {
      o.promptVocabulary = WORDS;
    });
    const model = await loadModel(dir, CPU);
    expect(model.promptVocabulary).toEqual(WORDS);
    await model.dispose();
    await editJson(join(dir, 'dailies.json'), (o) => {
      o.promptVocabulary = { backgrounds: ['on a <b>'] };
    });
    const e = await rejection(readDiffusersFolder(dir));
    expect(e.message).toBe(`dailies.json in ${dir}: promptVocabulary.backgrounds.0 must be words of letters, digits, ' or - with one space between them; fix dailies.json.`);
  });
});

// The built-in models were trained on "growing", "shrinking" and "still" as motions (their
// train/dataset.py); their packages say so, in words their tokenizer knows.
describe.each([
  ['shapes-v1', builtinModelDir()],
  ['shapes-v2', fileURLToPath(new URL('../../models/shapes-v2', import.meta.url))],
])('the built-in %s package', (_name, dir) => {
  it('declares the motions it was trained on, every word one its tokenizer knows', async () => {
    const words = (await readModelJson(dir)).promptVocabulary;
    expect(words?.motions).toEqual(expect.arrayContaining(['moving', 'growing', 'shrinking', 'still']));
    expect(words?.colours).toEqual(expect.arrayContaining(['red', 'orange', 'cyan', 'gray', 'grey']));
    const known = new Set(Object.keys(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')).model.vocab));
    const unknown = Object.values(words ?? {})
      .flat()
      .flatMap((phrase) => phrase.split(' '))
      .filter((word) => !known.has(word));
    expect(unknown).toEqual([]);
  });

  it('lets a reply "moving up" replace "growing"', async () => {
    const words = (await readModelJson(dir)).promptVocabulary;
    expect(revisePrompt('a red circle growing on a black background', 'moving up', words).prompt).toBe('a red circle moving up on a black background');
  });
});
