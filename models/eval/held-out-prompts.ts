/**
 * The eval's prompts: combinations drawn with their own fixed seed and phrased with templates
 * the training generators (models/shapes-v1/train/dataset.py, models/shapes-v2/train/dataset.py)
 * never use — other word orders, relative clauses, words they have never seen. Nothing here was
 * used to tune a model, with one exception: shapes-v2 from step 30863 on also trains on prompts
 * opened like "a video of" (its dataset.FRAMINGS), so for it the fourth template's opening is
 * not new; "plain" and "drifting" still are. Every prompt states colour, shape, motion and
 * background so each can be checked.
 */

export interface EvalCase {
  prompt: string;
  expect: { colour: string; shape: string; background: string; motion: string };
}

const COLOURS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink', 'white', 'black', 'gray'];
const SHAPES = ['circle', 'square', 'triangle'];
const MOTIONS = ['left', 'right', 'up', 'down', 'growing', 'shrinking', 'still'];

function motionPhrase(motion: string, variant: number): string {
  if (['left', 'right', 'up', 'down'].includes(motion)) {
    return ['moving ' + motion, 'that moves ' + motion, 'drifting ' + motion][variant % 3]!;
  }
  if (motion === 'growing') return ['growing', 'that grows', 'slowly growing'][variant % 3]!;
  if (motion === 'shrinking') return ['shrinking', 'that shrinks', 'slowly shrinking'][variant % 3]!;
  return ['still', 'staying still', 'that is static'][variant % 3]!;
}

const TEMPLATES: ((c: string, s: string, m: string, b: string) => string)[] = [
  (c, s, m, b) => `${c} ${s} ${m} on ${b} background`,
  (c, s, m, b) => `on the ${b} background, the ${c} ${s} is ${m}`,
  (c, s, m, b) => `${b} background. ${c} ${s}, ${m}`,
  (c, s, m, b) => `a video of a ${c} ${s} ${m} on a plain ${b} background`,
  (c, s, m, b) => `there is a ${c} ${s} on a ${b} background and it is ${m}`,
];

/** mulberry32: tiny, well-known 32-bit PRNG, enough to pick combinations reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function heldOutPrompts(count = 60, seed = 20261125): EvalCase[] {
  const next = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  const cases: EvalCase[] = [];
  while (cases.length < count) {
    const colour = pick(COLOURS);
    const background = pick(COLOURS.filter((x) => x !== colour));
    const shape = pick(SHAPES);
    const motion = MOTIONS[cases.length % MOTIONS.length]!;
    const template = TEMPLATES[Math.floor(cases.length / MOTIONS.length) % TEMPLATES.length]!;
    const prompt = template(colour, shape, motionPhrase(motion, Math.floor(next() * 3)), background).replace(/\bis (that )/, '$1');
    cases.push({ prompt, expect: { colour, shape, background, motion } });
    // Binding check: every fourth case is followed by the same scene with the colours swapped.
    if (cases.length % 4 === 0 && cases.length < count) {
      cases.push({
        prompt: template(background, shape, motionPhrase(motion, 0), colour).replace(/\bis (that )/, '$1'),
        expect: { colour: background, shape, background: colour, motion },
      });
    }
  }
  return cases;
}
