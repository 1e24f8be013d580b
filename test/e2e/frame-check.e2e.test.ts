import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getJson, postJson, startStack, waitFor, type Stack } from './stack.ts';

/**
 * The frame check through `dailies start`, as a person uses it: the worker loads the classifier
 * folder DAILIES_FRAME_CHECK names (here the test classifier that flags mostly-red frames), a
 * render of a red background is withheld in its thread, and a render of another colour posts.
 */

const RENDER_MS = 120_000;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { DAILIES_FRAME_CHECK: 'test/fixtures/frame-check-red' } });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
}, 60_000);

const api = (p: string) => `${stack.url}${p}`;
const messages = async (thread: string) => (await getJson(api(`/api/threads/${thread}`))).body.messages as { text: string; attachments: { kind: string; url: string }[] }[];

async function render(prompt: string): Promise<string> {
  const res = await postJson(api('/api/commands'), { channel: 'general', user: 'Ana', name: 'video', options: { prompt, takes: 1, steps: 4 } });
  expect(res.status).toBe(200);
  return res.body.thread as string;
}

it('withholds a render the classifier flags and posts one it passes', { timeout: RENDER_MS * 2 }, async () => {
  expect((await getJson(api('/api/health'))).body).toMatchObject({ ok: true, frameCheck: 'frame-check-red' });
  expect(stack.log()).toMatch(/frame check: frame-check-red \(/);

  const red = await render('a blue circle on a red background');
  const blue = await render('a red circle on a blue background');

  const withheld = await waitFor('the withheld note', async () => (await messages(red)).find((m) => m.text.includes('withheld by the frame check')), RENDER_MS, 250);
  expect(withheld.text).toMatch(/^Take 1 of v1 was withheld by the frame check \(red 0\.\d\d ≥ 0\.50\); its files were never stored\. A moderator can ask \/why here\.$/);
  const redThread = await messages(red);
  expect(redThread.flatMap((m) => m.attachments)).toEqual([]);

  const posted = await waitFor('the take of the blue render', async () => (await messages(blue)).find((m) => m.text.startsWith('Take 1 of v1 · seed')), RENDER_MS, 250);
  expect(posted.attachments.map((a) => a.kind)).toEqual(['final']);
  expect((await messages(blue)).some((m) => m.text.includes('withheld'))).toBe(false);

  // Nothing of the withheld render reached the artifact store.
  const session = (await getJson(api(`/api/threads/${red}/session`))).body.session as { jobs: { jobId: string }[] };
  const files = await readdir(path.join(stack.artifactsDir, 'renders', session.jobs[0]!.jobId)).catch(() => [] as string[]);
  expect(files).toEqual([]);
});
