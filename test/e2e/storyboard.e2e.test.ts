import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { builtinModelDir } from '../../models/engine/load-model.ts';
import { analyseClip, type Vocabulary } from '../../models/eval/analyse-clip.ts';
import { decodeClip, resizeClip } from '../../src/media/index.ts';
import { getJson, postJson, startStack, waitFor, type Stack } from './stack.ts';

/**
 * The "done when", through the real stack (`dailies start`: web chat, core, Redis,
 * BullMQ, a worker on the built-in model) and only the web chat's JSON API: a newcomer types a
 * storyboard, the team votes per shot, /cut assembles the film, and the film in the thread shows
 * the shots in order, each in its own colours.
 */

const RENDER_MS = 180_000;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
}, 60_000);

interface ThreadMessage {
  id: string;
  text: string;
  attachments: { kind: string; url: string; contentType?: string; signed?: boolean }[];
  buttons: { action: string; label: string }[][];
}

const api = (path: string) => `${stack.url}${path}`;
const messages = async (thread: string) => (await getJson(api(`/api/threads/${thread}`))).body.messages as ThreadMessage[];

it('storyboard -> per-shot votes -> /cut posts one film with the winning takes in order', { timeout: 400_000 }, async () => {
  // 1. Two shots, two takes each, a shared style; the thread opens at once.
  const start = await postJson(api('/api/commands'), {
    channel: 'general',
    user: 'Ana',
    name: 'storyboard',
    options: { shots: 'a red circle moving right | a blue square moving left', style: 'on a black background', takes: 2, seed: 7 },
  });
  expect(start.status).toBe(200);
  expect(start.body.error).toBeUndefined();
  const thread = start.body.thread as string;

  // 2. Both shots' takes arrive, each with its vote buttons.
  const takes = await waitFor('both shots\u2019 takes', async () => {
    const posted = (await messages(thread)).filter((m) => /^Take \d of v\d/.test(m.text));
    return posted.length === 4 ? posted : undefined;
  }, RENDER_MS, 500);
  expect(takes.every((m) => m.attachments[0]?.kind === 'final')).toBe(true);

  // 3. /cut refuses nothing now; votes pick take 2 of shot 1 and take 1 of shot 2.
  const vote = (user: string, key: string) => postJson(api(`/api/threads/${thread}/actions`), { user, key });
  const voteKey = (version: number, take: number) => takes.find((m) => m.text.startsWith(`Take ${take} of v${version}`))!.buttons.flat().find((b) => b.label.startsWith('Vote'))!.action;
  for (const [user, key] of [['Ben', voteKey(1, 2)], ['Cy', voteKey(1, 2)], ['Ben', voteKey(2, 1)]] as const) {
    expect((await vote(user, key)).body.error).toBeUndefined();
  }
  const cut = await postJson(api('/api/commands'), { thread, user: 'Ana', name: 'cut', options: { transition: 'cut' } });
  expect(cut.body.error).toBeUndefined();
  expect(cut.body.ephemeral).toBe('Cut 1 is rendering (cut): shot 1: v1#2 (2 votes), shot 2: v2#1 (1 vote).');

  // 4. The film: one final attachment, a caption naming each shot's take.
  const film = await waitFor('the film', async () => (await messages(thread)).find((m) => m.text.startsWith('Film · cut 1')), RENDER_MS, 500);
  const [head, ...lines] = film.text.split('\n');
  expect([head, ...lines.slice(0, 2)].join('\n')).toBe('Film · cut 1 · cut\nshot 1: v1#2 (2 votes)\nshot 2: v2#1 (1 vote)');
  // The film is signed: its credits line names the shots' versions.
  expect(lines[2]).toMatch(/^Content Credentials: signed; v1 by \S+, v2 by \S+; voted by /);
  expect(film.attachments).toHaveLength(1);
  expect(film.attachments[0]!.signed).toBe(true);
  expect(film.attachments[0]!.kind).toBe('final');

  // 5. Read it back: 32 frames, the first shot's red object, then the second shot's blue one.
  const res = await fetch(new URL(film.attachments[0]!.url, stack.url));
  expect(res.status).toBe(200);
  const file = join(stack.artifactsDir, 'film-under-test.mp4');
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  const clip = await resizeClip(await decodeClip(file), 32, 32);
  expect(clip.frames).toHaveLength(32);
  const vocabulary = JSON.parse(await readFile(join(builtinModelDir(), 'vocabulary.json'), 'utf8')) as Vocabulary;
  const first = analyseClip({ ...clip, frames: clip.frames.slice(0, 16) }, vocabulary);
  const second = analyseClip({ ...clip, frames: clip.frames.slice(16) }, vocabulary);
  expect([first.background, first.object]).toEqual(['black', 'red']);
  expect([second.background, second.object]).toEqual(['black', 'blue']);
});
