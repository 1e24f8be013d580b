import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { specialsFromPostProcessor, Tokenizer } from '../../models/engine/tokenizer.ts';
import { TINY_LATENT_CLIP, TINY_LATENT_JSON, TINY_PIXEL } from './engine-fixtures.ts';

const vocab: Record<string, number> = JSON.parse(readFileSync(join(TINY_LATENT_CLIP, 'tokenizer/vocab.json'), 'utf8'));
const merges = readFileSync(join(TINY_LATENT_CLIP, 'tokenizer/merges.txt'), 'utf8');
const BOS = vocab['<|startoftext|>']!;
const EOS = vocab['<|endoftext|>']!;

const slow = () => Tokenizer.load(TINY_LATENT_CLIP, { kind: 'clip-bpe', vocab: { file: 'tokenizer/vocab.json' }, merges: { file: 'tokenizer/merges.txt' }, maxLength: 77, padToken: '<|endoftext|>' });
const fast = () => Tokenizer.load(TINY_LATENT_JSON, { kind: 'tokenizer-json', file: { file: 'tokenizer/tokenizer.json' }, maxLength: 77, padId: EOS });

describe('CLIP tokenizer from slow files (vocab.json + merges.txt)', () => {
  it('wraps lower-cased word tokens in <|startoftext|> ... <|endoftext|> and pads to 77', async () => {
    const tok = await slow();
    const { ids, attentionMask, textTokens } = tok.encode('A  RED Circle\tmoving LEFT');
    expect(ids).toBeInstanceOf(BigInt64Array);
    expect(ids.length).toBe(77);
    const words = ['a', 'red', 'circle', 'moving', 'left'].map((w) => vocab[`${w}</w>`]!);
    expect(Array.from(ids.slice(0, 7), Number)).toEqual([BOS, ...words, EOS]);
    expect(Array.from(ids.slice(7), Number)).toEqual(new Array(70).fill(EOS));
    expect(Array.from(attentionMask, Number)).toEqual([...new Array(7).fill(1), ...new Array(70).fill(0)]);
    expect(textTokens).toBe(5);
  });

  it('splits words it has no merge for into pieces ending in </w>', async () => {
    const tok = await slow();
    const pieces = tok.tokenize('Zebra');
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('zebra</w>');
    // CLIP's split: "'s" apart from the word, digits one by one, punctuation on its own.
    expect(tok.tokenize("Red's 42!")).toEqual(['red</w>', "'", 's</w>', '4</w>', '2</w>', '!</w>']);
  });

  it('truncates the text but keeps the end token', async () => {
    const tok = await slow();
    const long = Array.from({ length: 100 }, () => 'red').join(' ');
    const enc = tok.encode(long);
    expect(enc.truncated).toBe(true);
    expect(enc.textTokens).toBe(75);
    expect(Number(enc.ids[0])).toBe(BOS);
    expect(Number(enc.ids[76])).toBe(EOS);
    expect(Number(enc.ids[75])).toBe(vocab['red</w>']);
  });

  it('pads with the configured pad token (OpenCLIP exports use "!")', () => {
    const tok = Tokenizer.fromClipFiles(vocab, merges, { maxLength: 77, padToken: '!', idType: 'int32' });
    const enc = tok.encode('red');
    expect(enc.ids).toBeInstanceOf(Int32Array);
    expect(Array.from(enc.ids.slice(0, 4), Number)).toEqual([BOS, vocab['red</w>'], EOS, vocab['!']]);
  });

  it('gives the same ids as the tokenizer.json CLIPTokenizerFast would save', async () => {
    const [a, b] = await Promise.all([slow(), fast()]);
    for (const prompt of ['a red circle', 'Blue SQUARE, bouncing!', "zebra's 3 stars", '  ', 'Ünïcode café']) {
      expect(Array.from(a.encode(prompt).ids, Number)).toEqual(Array.from(b.encode(prompt).ids, Number));
    }
  });
});

describe('tokenizer.json with a WordPiece vocabulary of whole words', () => {
  const json = JSON.parse(readFileSync(join(TINY_PIXEL, 'tokenizer.json'), 'utf8'));
  const words: Record<string, number> = json.model.vocab;

  it('lower-cases, splits on whitespace and maps unknown words to [UNK], padding with padId', () => {
    const tok = Tokenizer.fromJson(json, {}, { maxLength: 16, padId: 0 });
    const { ids } = tok.encode('A RED zebra Circle');
    expect(Array.from(ids, Number)).toEqual([words['a'], words['red'], words['[UNK]'], words['circle'], ...new Array(12).fill(0)]);
    expect(words['[UNK]']).toBe(1);
  });

  it('wraps with bos/eos ids from the manifest', () => {
    const tok = Tokenizer.fromJson(json, {}, { maxLength: 16, padId: 0, prefix: [words['the']!], suffix: [words['on']!] });
    expect(Array.from(tok.encode('red').ids.slice(0, 4), Number)).toEqual([words['the'], words['red'], words['on'], 0]);
  });
});

describe('special tokens read from a post-processor', () => {
  it('understands TemplateProcessing', () => {
    const pp = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } },
    };
    expect(specialsFromPostProcessor({ post_processor: pp })).toEqual({ prefix: [101], suffix: [102] });
    expect(specialsFromPostProcessor({ post_processor: { type: 'Sequence', processors: [{ type: 'ByteLevel' }, pp] } })).toEqual({ prefix: [101], suffix: [102] });
    expect(specialsFromPostProcessor({ post_processor: null })).toEqual({ prefix: [], suffix: [] });
  });
});
