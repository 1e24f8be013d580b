import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseCliArgs } from '../../src/util/cli-args.ts';
import { DailiesError, describeZodIssues } from '../../src/errors.ts';
import { builtinModelDir, loadModel } from '../engine/load-model.ts';
import { analyseClip, type Vocabulary } from './analyse-clip.ts';
import { continueClips, type ContinuationSummary } from './continuation.ts';
import { continueDrawnExits, type ExitSummary } from './edge-exit.ts';
import { heldOutPrompts, type EvalCase } from './held-out-prompts.ts';
import { longChains, type LongChainSummary } from './long-chain.ts';
import { writeBenchJson } from '../../src/util/stats.ts';

/**
 * `npm run eval`: prompt adherence of the built-in model, read back from the pixels of what it
 * renders (colour, background, shape, motion, flicker), how it continues the moving ones across
 * two joins (continuation.ts), how it carries on a drawn object heading out of the frame
 * (edge-exit.ts), and how a minute-long chain holds up (long-chain.ts). Prints tables and writes
 * JSON.
 */

const Args = z.object({
  model: z.string().optional(),
  count: z.coerce.number().int().min(1).max(1000).default(60),
  prompts: z.string().optional(),
  steps: z.coerce.number().int().min(1).max(200).optional(),
  guidance: z.coerce.number().min(0).max(30).optional(),
  seed: z.coerce.number().int().min(0).default(1000),
  'prompt-seed': z.coerce.number().int().min(0).optional(),
  'continuity-strength': z.coerce.number().gt(0).max(1).optional(),
  out: z.string().default('bench-results/eval.json'),
});

const USAGE = `Usage: dailies eval [--model DIR] [--count N] [--prompt-seed N] [--prompts FILE] [--steps N] [--guidance G] [--seed N] [--continuity-strength X] [--out FILE]

Renders held-out prompts (templates the training data never uses) and reads colour, background,
shape and motion back from the pixels.
  --model DIR    model folder (default: the built-in model)
  --count N      how many held-out prompts, 1-1000 (default 60)
  --prompt-seed N
                 draw another set of held-out prompts the same way, to check a setting chosen
                 on the default set (default: the default set)
  --prompts FILE a JSON list of {prompt, expect: {colour, shape, background, motion}} instead
  --steps N      sampling steps (default: the model's)
  --guidance G   classifier-free guidance (default: the model's)
  --seed N       first seed (default 1000)
  --continuity-strength X
                 where continued windows start, above 0 and at most 1 (default: the model's chains')
  --out FILE     JSON results (default bench-results/eval.json)`;

const CaseFile = z.array(
  z.object({
    prompt: z.string().min(1),
    expect: z.object({ colour: z.string(), shape: z.string(), background: z.string(), motion: z.string() }),
  }),
);

export interface EvalSummary {
  model: string;
  cases: number;
  accuracy: { colour: number; background: number; motion: number; shape: number; all: number };
  meanFlicker: number;
  /** Mean rim off-colour (analyse-clip.ts `fringe`) and the same over object interiors. */
  meanFringe: number;
  meanCoreFringe: number;
  /** The same over the background away from the object. */
  meanBackgroundFringe: number;
  msPerClip: number;
  /** Per asked shape: how many prompts asked for it and what the reader saw ('none': no object). */
  shapes: ShapeConfusion;
  failures: { prompt: string; expected: EvalCase['expect']; read: Record<string, unknown> }[];
  /** Continuing the cases that ask for a direction (continuation.ts), when asked for. */
  continuation?: ContinuationSummary;
  /** Continuing drawn frames of each such case's object heading for the edge (edge-exit.ts), per lead. */
  exits?: ExitSummary[];
  /** Minute-long chains of a moving red circle (long-chain.ts), when asked for. */
  longChain?: LongChainSummary;
}

export type ShapeConfusion = Record<string, { asked: number; read: Record<string, number> }>;

/** Tallies what the reader saw for each asked shape: where a shape score falls short, which shape it falls to. */
export function tallyShapes(pairs: { asked: string; read: string | null }[]): ShapeConfusion {
  const out: ShapeConfusion = {};
  for (const { asked, read } of pairs) {
    const row = (out[asked] ??= { asked: 0, read: {} });
    row.asked++;
    row.read[read ?? 'none'] = (row.read[read ?? 'none'] ?? 0) + 1;
  }
  return out;
}

export async function evaluate(modelDir: string, cases: EvalCase[], opts: { seed: number; steps?: number; guidance?: number; continuation?: boolean; continuityStrength?: number }): Promise<EvalSummary> {
  const vocabulary = JSON.parse(await readFile(join(builtinModelDir(), 'vocabulary.json'), 'utf8')) as Vocabulary;
  const model = await loadModel(modelDir);
  const hits = { colour: 0, background: 0, motion: 0, shape: 0, all: 0 };
  let flicker = 0;
  let fringe = 0;
  let coreFringe = 0;
  let backgroundFringe = 0;
  const failures: EvalSummary['failures'] = [];
  const shapeReads: { asked: string; read: string | null }[] = [];
  const started = performance.now();
  let msPerClip = 0;
  let continuation: ContinuationSummary | undefined;
  let exits: ExitSummary[] | undefined;
  let longChain: LongChainSummary | undefined;
  try {
    for (const [i, c] of cases.entries()) {
      const result = await model.generate({
        prompt: c.prompt,
        seed: opts.seed + i,
        ...(opts.steps !== undefined && { steps: opts.steps }),
        ...(opts.guidance !== undefined && { guidance: opts.guidance }),
      });
      const read = analyseClip(result.takes[0]!.clip, vocabulary);
      const ok = {
        colour: read.object === c.expect.colour,
        background: read.background === c.expect.background,
        motion: read.motion === c.expect.motion,
        shape: read.shape === c.expect.shape,
      };
      for (const k of ['colour', 'background', 'motion', 'shape'] as const) if (ok[k]) hits[k]++;
      shapeReads.push({ asked: c.expect.shape, read: read.shape });
      if (ok.colour && ok.background && ok.motion && ok.shape) hits.all++;
      else failures.push({ prompt: c.prompt, expected: c.expect, read: { colour: read.object, background: read.background, motion: read.motion, shape: read.shape } });
      flicker += read.flicker;
      fringe += read.fringe;
      coreFringe += read.coreFringe;
      backgroundFringe += read.backgroundFringe;
    }
    msPerClip = (performance.now() - started) / cases.length;
    if (opts.continuation) {
      const strength = opts.continuityStrength !== undefined ? { strength: opts.continuityStrength } : {};
      continuation = await continueClips(model, cases, vocabulary, { seed: opts.seed, ...strength });
      exits = await continueDrawnExits(model, cases, vocabulary, { seed: opts.seed, ...strength });
      longChain = await longChains(model, { seed: opts.seed, ...strength });
    }
  } finally {
    await model.dispose();
  }
  const n = cases.length;
  return {
    model: model.name,
    cases: n,
    accuracy: {
      colour: hits.colour / n,
      background: hits.background / n,
      motion: hits.motion / n,
      shape: hits.shape / n,
      all: hits.all / n,
    },
    meanFlicker: flicker / n,
    meanFringe: fringe / n,
    meanCoreFringe: coreFringe / n,
    meanBackgroundFringe: backgroundFringe / n,
    msPerClip,
    shapes: tallyShapes(shapeReads),
    failures,
    ...(continuation ? { continuation } : {}),
    ...(exits ? { exits } : {}),
    ...(longChain ? { longChain } : {}),
  };
}

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, {
    model: { type: 'string' }, count: { type: 'string' }, prompts: { type: 'string' }, steps: { type: 'string' },
    guidance: { type: 'string' }, seed: { type: 'string' }, 'prompt-seed': { type: 'string' }, out: { type: 'string' }, 'continuity-strength': { type: 'string' },
  }, { command: 'dailies eval' });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parsed = Args.safeParse(values);
  if (!parsed.success) throw new DailiesError('bad_input', `${describeZodIssues('Option', parsed.error.issues)} Run \`npm run eval -- --count 60\` style options.`);
  const args = parsed.data;
  let cases = heldOutPrompts(args.count, args['prompt-seed']);
  if (args.prompts) {
    const file = CaseFile.safeParse(JSON.parse(await readFile(args.prompts, 'utf8')));
    if (!file.success) throw new DailiesError('bad_input', `${describeZodIssues(args.prompts, file.error.issues)} Each entry needs a prompt and expect {colour, shape, background, motion}.`);
    cases = file.data;
  }
  const summary = await evaluate(args.model ?? builtinModelDir(), cases, { ...args, continuation: true, ...(args['continuity-strength'] !== undefined && { continuityStrength: args['continuity-strength'] }) });
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`\nAdherence of ${summary.model} on ${summary.cases} held-out prompts\n`);
  console.log('| measure | value |\n| --- | --- |');
  console.log(`| object colour | ${pct(summary.accuracy.colour)} |`);
  console.log(`| background colour | ${pct(summary.accuracy.background)} |`);
  console.log(`| motion | ${pct(summary.accuracy.motion)} |`);
  console.log(`| shape | ${pct(summary.accuracy.shape)} |`);
  console.log(`| all four right | ${pct(summary.accuracy.all)} |`);
  console.log(`| mean background flicker (0-255) | ${summary.meanFlicker.toFixed(2)} |`);
  console.log(`| mean rim off-colour (RGB distance; interior / background for reference) | ${summary.meanFringe.toFixed(1)} (${summary.meanCoreFringe.toFixed(1)} / ${summary.meanBackgroundFringe.toFixed(1)}) |`);
  console.log(`| ms per clip (render only) | ${summary.msPerClip.toFixed(0)} |`);
  const readAs = [...new Set(Object.values(summary.shapes).flatMap((r) => Object.keys(r.read)))].sort();
  console.log(`\nShape read back, by the shape asked for\n`);
  console.log(`| asked | prompts | right | ${readAs.map((s) => `read as ${s}`).join(' | ')} |\n| --- | --- | --- | ${readAs.map(() => '---').join(' | ')} |`);
  for (const [asked, row] of Object.entries(summary.shapes).sort()) {
    console.log(`| ${asked} | ${row.asked} | ${pct((row.read[asked] ?? 0) / row.asked)} | ${readAs.map((s) => row.read[s] ?? 0).join(' | ')} |`);
  }
  const c = summary.continuation;
  if (c && c.cases > 0) {
    console.log(`\nContinuing a clip: the ${c.cases} prompts that ask for a direction, ${c.frames}-frame chains joined at frames ${c.joins.join(' and ')}\n`);
    console.log('| measure | value |\n| --- | --- |');
    console.log(`| last window moves the asked way, or the object left by that edge | ${pct(c.onItsWay)} |`);
    console.log(`| speed in the last window along the asked way (px a frame) | ${c.speed.toFixed(2)} |`);
    console.log(`| frames after the first window that show the object | ${pct(c.shown)} |`);
    console.log(`| change across a join over the change inside | ${c.joinRatio.toFixed(2)} |`);
    console.log(`| the object's move across a join, px (between other frames) | ${c.jumpPx.toFixed(2)} (${c.stepPx.toFixed(2)}) |`);
  }
  const exits = summary.exits?.filter((e) => e.cases > 0) ?? [];
  if (exits.length) {
    console.log(`\nCarrying on a drawn object: ${exits[0]!.cases} prompts' objects drawn moving their way, ${exits[0]!.known} known frames, one window continued\n`);
    console.log('| last known centre from the exit edge | trailing edge speed / drawn speed | frames still shown after the drawn path left | background shift (RGB) |\n| --- | --- | --- | --- |');
    for (const e of exits) {
      const held = Number.isFinite(e.heldFrames) ? e.heldFrames.toFixed(2) : 'n/a (does not leave)';
      console.log(`| ${(e.lead * 100).toFixed(0)}% of the frame${e.lead > 0.5 ? ' (coming in at the far edge)' : ''} | ${e.speedRatio.toFixed(2)} | ${held} | ${e.backgroundShift.toFixed(1)} |`);
    }
  }
  const l = summary.longChain;
  if (l) {
    console.log(`\nA minute-long chain: "a red circle moving <way> on a black background", ${l.chains} ways, ${l.seconds} s (${l.frames} frames) each\n`);
    console.log('| measure | value |\n| --- | --- |');
    console.log(`| frames that show the object | ${pct(l.shown)} |`);
    console.log(`| its size in the last quarter / in the first window | ${l.sizeKept.toFixed(2)} |`);
    console.log(`| its speed in the last quarter / in the first window | ${Number.isFinite(l.speedKept) ? l.speedKept.toFixed(2) : 'n/a'} |`);
    console.log(`| times it came back in through the far edge | ${l.laps.toFixed(1)} |`);
    console.log(`| change across a join over the change inside | ${l.joinRatio.toFixed(2)} |`);
    console.log(`| background shift from the first frame (RGB, median over the last quarter) | ${l.backgroundShift.toFixed(1)} |`);
  }
  const out = resolve(args.out);
  await writeBenchJson(out, summary);
  console.log(`\nwrote ${out}`);
  return 0;
}
