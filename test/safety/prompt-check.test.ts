import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPromptCheck, type LoadedPromptCheck } from '../../models/prompt-check/onnx-prompt-check.ts';
import { promptCheckDir, promptCheckName } from '../../models/prompt-check/prompt-check-setting.ts';
import { loadPromptCheckSetting } from '../../cli/prompt-check-loader.ts';
import { createPromptPolicy } from '../../src/safety/prompt-policy.ts';
import { refusal } from '../conformance/refusal.ts';
import { expectOneSentence } from '../local/film-commands.suite.ts';

/**
 * The prompt check's classifier folder (DAILIES_PROMPT_CHECK): its format and its errors, one
 * sentence each, and the test classifier (test/fixtures/prompt-check-colour, built by its
 * committed script) run through the real tokenizer and onnxruntime. The refusals on each chat
 * platform are in test/local/safety.suite.ts.
 */

const FIXTURE = 'test/fixtures/prompt-check-colour';

/** The one sentence a refused promise gives (the shared `refusal` fails the test on anything else). */
const failure = async (promise: Promise<unknown>): Promise<string> => (await refusal(promise)).message;

describe('prompt classifier folders', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-prompt-check-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** A copy of the fixture with `classifier` as its classifier.json (null: none) and without the files in `without`. */
  async function folder(name: string, classifier: unknown, without: string[] = []): Promise<string> {
    const d = path.join(dir, name);
    await mkdir(d, { recursive: true });
    for (const file of ['model.onnx', 'tokenizer.json']) if (!without.includes(file)) await copyFile(path.join(FIXTURE, file), path.join(d, file));
    if (classifier !== null) await writeFile(path.join(d, 'classifier.json'), typeof classifier === 'string' ? classifier : JSON.stringify(classifier));
    return d;
  }
  const good = { labels: ['test-flag'], maxLength: 64, block: { 'test-flag': 0.8 } };

  it('names each problem of a bad classifier.json in its own sentence', async () => {
    const d = await folder('bad', { labels: ['test-flag'], maxLength: 2.5, block: { 'test-flag': 2 } });
    const where = path.join(d, 'classifier.json');
    expect(await failure(loadPromptCheck(d))).toBe([`${where}: maxLength must be a whole number of tokens.`, `${where}: block.test-flag must be at most 1.`].join(' '));
    // The labels are compared once every field has its type.
    const e = await folder('labels', { labels: ['test-flag', 'test-flag'], maxLength: 64, block: { 'test-flag': 0.8, gore: 0.5 } });
    const there = path.join(e, 'classifier.json');
    expect(await failure(loadPromptCheck(e))).toBe([`${there}: labels names "test-flag" twice.`, `${there}: block.gore is not one of the labels (test-flag, test-flag).`].join(' '));
    const missing = await failure(loadPromptCheck(await folder('no-max', { labels: ['test-flag'], block: { 'test-flag': 0.8 } })));
    expect(missing).toBe(`${path.join(dir, 'no-max', 'classifier.json')}: maxLength is missing (a number is required).`);
  });

  it('refuses a missing folder, missing files and broken JSON with one sentence each', async () => {
    const cases = [
      [await failure(loadPromptCheck(path.join(dir, 'nowhere'))), /does not exist; point DAILIES_PROMPT_CHECK at a folder with model\.onnx, tokenizer\.json and classifier\.json, or set it to off\.$/],
      [await failure(loadPromptCheck(await folder('no-classifier', null))), /has no classifier\.json; add one \(see the README's prompt check section\) or set DAILIES_PROMPT_CHECK=off\.$/],
      [await failure(loadPromptCheck(await folder('no-tokenizer', good, ['tokenizer.json']))), /has no tokenizer\.json; add one \(see the README's prompt check section\) or set DAILIES_PROMPT_CHECK=off\.$/],
      [await failure(loadPromptCheck(await folder('no-model', good, ['model.onnx']))), /has no model\.onnx; add the exported classifier or set DAILIES_PROMPT_CHECK=off\.$/],
      [await failure(loadPromptCheck(await folder('broken', '{"labels": ['))), /classifier\.json is not valid JSON \(.+\); fix its syntax\.$/],
    ] as const;
    for (const [message, pattern] of cases) {
      expect(message).toMatch(pattern);
      expectOneSentence(message);
    }
    const d = await folder('broken-tokenizer', good);
    await writeFile(path.join(d, 'tokenizer.json'), '{"model": {"type": "Nonsense"}}');
    const tokenizer = await failure(loadPromptCheck(d));
    expect(tokenizer).toMatch(/tokenizer\.json is not a tokenizer the Hugging Face tokenizers library reads \(.+\); save it with the classifier's tokenizer\.save_pretrained\(\)\.$/);
  });

  it("refuses labels that do not match the model's output width", async () => {
    const two = await failure(loadPromptCheck(await folder('two-labels', { labels: ['test-flag', 'other'], maxLength: 64, block: { 'test-flag': 0.8 } })));
    expect(two).toBe(`The prompt check model in ${path.join(dir, 'two-labels')} returns 1 scores per prompt but classifier.json lists 2 labels; fix classifier.json in ${path.join(dir, 'two-labels')} or re-export the model.`);
    expectOneSentence(two);
  });

  describe('the test classifier', () => {
    let check: LoadedPromptCheck;
    beforeAll(async () => {
      check = await loadPromptCheck(FIXTURE, { threads: 1 });
    });
    afterAll(async () => check?.close());

    it('flags the word it was built for, in any case, in the prompt or the negative prompt, and passes the rest', async () => {
      expect(check.name).toBe('prompt-check-colour');
      expect(await check.review([{ prompt: 'a red ball bouncing over the sea' }])).toBeNull();
      // Unknown words are [UNK]: a prompt of words the vocabulary lacks passes too.
      expect(await check.review([{ prompt: 'zebras and violins', negativePrompt: 'blurry' }])).toBeNull();
      expect(await check.review([{ prompt: 'A PURPLE cat' }])).toEqual({ rule: 'test-flag 0.99 ≥ 0.80', message: 'This prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.' });
      expect((await check.review([{ prompt: 'a red ball', negativePrompt: 'purple sky' }]))?.message).toBe('This negative prompt was refused by the prompt classifier (test-flag 0.99 ≥ 0.80); rephrase it.');
      // Several prompts in one call (a storyboard's shots): the flagged one is found.
      expect((await check.review([{ prompt: 'a red ball' }, { prompt: 'a blue sky' }, { prompt: 'a purple sea' }]))?.rule).toBe('test-flag 0.99 ≥ 0.80');
      // A prompt longer than maxLength is cut: the word past the cut is not read.
      const long = `${'a '.repeat(70)}purple`;
      expect(await check.review([{ prompt: long }])).toBeNull();
    });

    it('stops waiting when its signal aborts', async () => {
      const signal = AbortSignal.abort(new Error('too slow'));
      await expect(check.review([{ prompt: 'a red ball' }], signal)).rejects.toThrow('too slow');
    });
  });

  it('the term list implements the same seam', async () => {
    const terms = createPromptPolicy({ blockedTerms: ['gore'] });
    expect(await terms.review([{ prompt: 'a red ball' }, { prompt: 'a red ball', negativePrompt: 'gore' }])).toEqual({
      rule: 'gore',
      message: 'Your negative prompt was refused because it mentions "gore", which this server does not allow; rephrase it without that term.',
    });
  });
});

describe('DAILIES_PROMPT_CHECK', () => {
  it('is off unless set, and off loads nothing', async () => {
    expect(promptCheckDir(undefined)).toBeNull();
    expect(promptCheckDir('OFF')).toBeNull();
    expect(promptCheckName(undefined)).toBe('off');
    expect(promptCheckName(FIXTURE)).toBe('prompt-check-colour');
    const lines: string[] = [];
    expect(await loadPromptCheckSetting('off', (l) => lines.push(l))).toBeNull();
    expect(lines).toEqual(['prompt check: off (DAILIES_PROMPT_CHECK unset or off); prompts pass the blocked terms only']);
  });

  it('loads a folder it names, and says which', async () => {
    const lines: string[] = [];
    const check = await loadPromptCheckSetting(FIXTURE, (l) => lines.push(l));
    try {
      expect(check?.name).toBe('prompt-check-colour');
      expect(lines).toEqual([`prompt check: prompt-check-colour (${path.resolve(FIXTURE)})`]);
    } finally {
      await check?.close();
    }
  });
});
