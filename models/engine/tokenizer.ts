import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DailiesError } from '../../src/errors.ts';
import type { TokenizerSpec } from './manifest.ts';

/*
 * Prompt -> fixed-length token ids for the text encoder. Tokenisation itself is tokenizers.js;
 * this module only assembles its input (a tokenizer.json object, built in memory for CLIP's slow
 * files) and does the framing the pipeline needs: special tokens, truncation, padding.
 */

export type IdArray = BigInt64Array | Int32Array;

export interface Encoded {
  /** `maxLength` ids: prefix specials, text, suffix specials, then padding. */
  ids: IdArray;
  /** 1 for real tokens (including specials), 0 for padding; same dtype as `ids`. */
  attentionMask: IdArray;
  /** Number of text tokens kept after truncation (specials excluded). */
  textTokens: number;
  /** True when the prompt did not fit and was cut. */
  truncated: boolean;
}

export interface FramingOptions {
  maxLength: number;
  padId: number;
  /** Ids around the text; when omitted they are read from the tokenizer's post-processor. */
  prefix?: number[];
  suffix?: number[];
  /** dtype of the text encoder's input ids. */
  idType?: 'int64' | 'int32';
}

type Json = Record<string, unknown>;

export class Tokenizer {
  private readonly prefix: number[];
  private readonly suffix: number[];
  private readonly idType: 'int64' | 'int32';

  private constructor(
    private readonly hf: HfTokenizer,
    readonly maxLength: number,
    readonly padId: number,
    prefix: number[],
    suffix: number[],
    idType: 'int64' | 'int32',
  ) {
    this.prefix = prefix;
    this.suffix = suffix;
    this.idType = idType;
    if (prefix.length + suffix.length >= maxLength) {
      throw new DailiesError('model_invalid', `The tokenizer's maxLength ${maxLength} leaves no room for text after its special tokens; fix maxLength in the model's manifest.`);
    }
  }

  /** From a parsed tokenizer.json (and optional tokenizer_config.json). */
  static fromJson(tokenizerJson: Json, config: Json, options: FramingOptions): Tokenizer {
    const hf = new HfTokenizer(tokenizerJson, config);
    const framing = options.prefix || options.suffix ? { prefix: options.prefix ?? [], suffix: options.suffix ?? [] } : specialsFromPostProcessor(tokenizerJson);
    return new Tokenizer(hf, options.maxLength, options.padId, framing.prefix, framing.suffix, options.idType ?? 'int64');
  }

  /**
   * From CLIP's slow files: builds the tokenizer.json that CLIPTokenizerFast would save for them
   * (BPE with `</w>` word ends, NFC + whitespace-collapse + lowercase, CLIP's split regex then
   * byte-level mapping, `<|startoftext|>` ... `<|endoftext|>`), so tokenizers.js does the BPE.
   */
  static fromClipFiles(vocab: Record<string, number>, mergesText: string, options: { maxLength: number; padToken?: string; idType?: 'int64' | 'int32' }): Tokenizer {
    const json = clipTokenizerJson(vocab, mergesText);
    const bos = vocabId(vocab, '<|startoftext|>');
    const eos = vocabId(vocab, '<|endoftext|>');
    const padId = vocabId(vocab, options.padToken ?? '<|endoftext|>');
    return new Tokenizer(new HfTokenizer(json, {}), options.maxLength, padId, [bos], [eos], options.idType ?? 'int64');
  }

  /** Loads the tokenizer a manifest describes; paths are relative to `dir`. */
  static async load(dir: string, spec: TokenizerSpec, idType: 'int64' | 'int32' = 'int64'): Promise<Tokenizer> {
    if (spec.kind === 'clip-bpe') {
      const vocab = await readJson(dir, spec.vocab.file);
      const merges = await readText(dir, spec.merges.file);
      return Tokenizer.fromClipFiles(vocab as Record<string, number>, merges, { maxLength: spec.maxLength, padToken: spec.padToken, idType });
    }
    const json = await readJson(dir, spec.file.file);
    const config = spec.config ? await readJson(dir, spec.config.file) : {};
    const explicit = spec.bosId !== undefined || spec.eosId !== undefined;
    return Tokenizer.fromJson(json, config, {
      maxLength: spec.maxLength,
      padId: spec.padId,
      idType,
      ...(explicit ? { prefix: spec.bosId !== undefined ? [spec.bosId] : [], suffix: spec.eosId !== undefined ? [spec.eosId] : [] } : {}),
    });
  }

  /** Token strings of `text` without specials (for logs and tests). */
  tokenize(text: string): string[] {
    return this.hf.tokenize(text, { add_special_tokens: false });
  }

  tokenId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  encode(text: string): Encoded {
    const room = this.maxLength - this.prefix.length - this.suffix.length;
    const textIds = this.hf.encode(text, { add_special_tokens: false }).ids;
    // Truncate the text, not the framing: CLIP's encoder reads the end token's position.
    const kept = textIds.slice(0, room);
    const real = [...this.prefix, ...kept, ...this.suffix];
    const values = new Array<number>(this.maxLength).fill(this.padId);
    const mask = new Array<number>(this.maxLength).fill(0);
    real.forEach((id, i) => {
      values[i] = id;
      mask[i] = 1;
    });
    const make = (v: number[]): IdArray => (this.idType === 'int64' ? BigInt64Array.from(v, (x) => BigInt(x)) : Int32Array.from(v));
    return { ids: make(values), attentionMask: make(mask), textTokens: kept.length, truncated: kept.length < textIds.length };
  }
}

function vocabId(vocab: Record<string, number>, token: string): number {
  const id = vocab[token];
  if (typeof id !== 'number') {
    throw new DailiesError('model_invalid', `The tokenizer vocabulary has no "${token}" token; use CLIP tokenizer files (vocab.json with <|startoftext|> and <|endoftext|>).`);
  }
  return id;
}

/** Splits a CLIP merges.txt: one "left right" pair per line after an optional "#version" header. */
export function parseMerges(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line, i) => line.trim() !== '' && !(i === 0 && line.startsWith('#version')))
    .map((line) => line.trim());
}

export function clipTokenizerJson(vocab: Record<string, number>, mergesText: string): Json {
  const bos = vocabId(vocab, '<|startoftext|>');
  const eos = vocabId(vocab, '<|endoftext|>');
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('<|startoftext|>', bos), special('<|endoftext|>', eos)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', eos], cls: ['<|startoftext|>', bos], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: parseMerges(mergesText),
    },
  };
}

/**
 * The ids a tokenizer.json's post-processor would wrap around a single sequence. Read here (not
 * applied by tokenizers.js) so truncation can cut the text and keep the end token.
 */
export function specialsFromPostProcessor(json: Json): { prefix: number[]; suffix: number[] } {
  const none = { prefix: [], suffix: [] };
  const visit = (pp: Json | null | undefined): { prefix: number[]; suffix: number[] } | undefined => {
    if (!pp || typeof pp !== 'object') return undefined;
    switch (pp['type']) {
      case 'RobertaProcessing':
      case 'BertProcessing': {
        const cls = pp['cls'] as [string, number];
        const sep = pp['sep'] as [string, number];
        return { prefix: [cls[1]], suffix: [sep[1]] };
      }
      case 'TemplateProcessing': {
        const single = (pp['single'] ?? []) as Json[];
        const specials = (pp['special_tokens'] ?? {}) as Record<string, { ids: number[] }>;
        const out = { prefix: [] as number[], suffix: [] as number[] };
        let seenText = false;
        for (const item of single) {
          if ('Sequence' in item) seenText = true;
          const sp = item['SpecialToken'] as { id: string } | undefined;
          if (sp) (seenText ? out.suffix : out.prefix).push(...(specials[sp.id]?.ids ?? []));
        }
        return out;
      }
      case 'Sequence':
        for (const inner of (pp['processors'] ?? []) as Json[]) {
          const found = visit(inner);
          if (found && (found.prefix.length || found.suffix.length)) return found;
        }
        return undefined;
      default:
        return undefined;
    }
  };
  return visit(json['post_processor'] as Json | null) ?? none;
}

async function readText(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (cause) {
    throw new DailiesError('model_invalid', `Tokenizer file ${file} is missing from ${dir}; re-download the model's tokenizer folder.`, { cause });
  }
}

async function readJson(dir: string, file: string): Promise<Json> {
  const text = await readText(dir, file);
  try {
    return JSON.parse(text) as Json;
  } catch (cause) {
    throw new DailiesError('model_invalid', `Tokenizer file ${file} in ${dir} is not valid JSON; re-download the model's tokenizer folder.`, { cause });
  }
}
