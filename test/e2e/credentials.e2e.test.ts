import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readCredentials } from '../../src/provenance/index.ts';
import { getJson, postJson, startStack, waitFor, type Stack } from './stack.ts';

/**
 * Content Credentials through `dailies start`, as a team uses it: Ana prompts, Ben revises, Cy
 * votes, Ana finalizes; the final in the thread verifies as signed by this installation, with
 * the lineage and the names of the people who made it. A tampered copy does not.
 */

const RENDER_MS = 120_000;
let stack: Stack;
let signing: string;

beforeAll(async () => {
  signing = await mkdtemp(path.join(tmpdir(), 'dailies-signing-'));
  stack = await startStack({ env: { DAILIES_SIGNING_DIR: signing } });
}, 180_000);

afterAll(async () => {
  await stack?.cleanup();
  await rm(signing, { recursive: true, force: true });
}, 60_000);

const api = (p: string) => `${stack.url}${p}`;
interface Message {
  text: string;
  buttons?: { action: string; label: string }[][];
  attachments: { kind: string; url: string; signed?: boolean }[];
}
const messages = async (thread: string) => (await getJson(api(`/api/threads/${thread}`))).body.messages as Message[];
const said = (thread: string, what: string, test: (m: Message) => boolean) => waitFor(what, async () => (await messages(thread)).find(test), RENDER_MS, 250);

it('signs the final with the lineage and the names of everyone who made it', { timeout: RENDER_MS * 3 }, async () => {
  const start = await postJson(api('/api/commands'), { channel: 'general', user: 'Ana', name: 'video', options: { prompt: 'a red circle', takes: 2, steps: 3 } });
  expect(start.status).toBe(200);
  const thread = start.body.thread as string;
  await said(thread, 'the takes of v1', (m) => m.text.startsWith('Take 2 of v1'));
  expect((await postJson(api(`/api/threads/${thread}/messages`), { user: 'Ben', text: 'on a blue background' })).status).toBe(200);
  const take = await said(thread, 'the takes of v2', (m) => m.text.startsWith('Take 1 of v2'));
  const vote = take.buttons!.flat().find((b) => b.label === 'Vote 1')!;
  expect((await postJson(api(`/api/threads/${thread}/actions`), { user: 'Cy', key: vote.action })).status).toBe(200);
  const finalize = take.buttons!.flat().find((b) => b.label === 'Finalize')!;
  expect((await postJson(api(`/api/threads/${thread}/actions`), { user: 'Ana', key: finalize.action })).status).toBe(200);

  const final = await said(thread, 'the final', (m) => m.text.startsWith('Final · take 1 of v2'));
  expect(final.text.split('\n')[1]).toBe('Content Credentials: signed; v1 by Ana → v2 by Ben; voted by Cy');
  expect(final.attachments).toEqual([expect.objectContaining({ kind: 'final', signed: true })]);

  // The file as anyone downloads it from the thread.
  const bytes = new Uint8Array(await (await fetch(new URL(final.attachments[0]!.url, stack.url))).arrayBuffer());
  const ca = await readFile(path.join(signing, 'ca.pem'), 'utf8');
  const report = await readCredentials(bytes, { trustAnchorsPem: ca });
  expect(report.state).toBe('trusted');
  expect(report.credits!.lineage.map((v) => [v.version, v.author.name, v.parent?.version ?? null])).toEqual([
    [1, 'Ana', null],
    [2, 'Ben', 1],
  ]);
  expect(report.credits!.contributors.map((c) => [c.person.name, c.roles])).toEqual([
    ['Ana', ['prompted', 'finalized']],
    ['Ben', ['revised']],
    ['Cy', ['voted']],
  ]);
  expect(report.credits!.model.name).toBe('shapes-v2');

  // The web chat reads the same file against this installation's CA.
  const key = final.attachments[0]!.url.replace(/^\/artifacts\//, '');
  const shown = await getJson(api(`/api/credentials/${key}`));
  expect(shown.body).toMatchObject({ state: 'trusted', credits: { lineage: [{ version: 1 }, { version: 2 }] } });

  const tampered = Buffer.from(bytes);
  tampered[tampered.length - 64]! ^= 0x01;
  expect((await readCredentials(tampered)).state).toBe('invalid');
});
