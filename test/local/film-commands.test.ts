import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commands } from '../../commands/index.ts';
import type { CommandHelp } from '../../bots/local/command-line.ts';
import type { LocalChatHooks } from '../../bots/local/local-chat-adapter.ts';
import { startCoreRig, type CoreRig } from './core-rig.ts';
import type { ChatAdapterHarness } from '../conformance/chat-adapter.conformance.ts';
import { describeSafety } from './safety.suite.ts';
import { describeModeration } from './moderation.suite.ts';
import { describeFilmCommands, expectOneSentence } from './film-commands.suite.ts';
import { getJson, postJson, startTestChat, type TestChat } from './helpers.ts';
import { LocalHttpDriver } from './local-driver.ts';

const makeHarness = async (): Promise<ChatAdapterHarness> => {
  const t = await startTestChat();
  return { adapter: t.chat.adapter, driver: new LocalHttpDriver(t.chat.url), channel: 'general', users: ['Ana', 'Ben'], artifacts: t.store, cleanup: t.cleanup };
};

describeFilmCommands('local web chat (HTTP API)', makeHarness);
describeSafety('local web chat (HTTP API)', makeHarness);
describeModeration('local web chat (HTTP API)', async () => {
  const t = await startTestChat({ moderators: ['Mo'] });
  return { adapter: t.chat.adapter, driver: new LocalHttpDriver(t.chat.url), channel: 'general', users: ['Ana', 'Ben'], moderator: 'Mo', artifacts: t.store, cleanup: t.cleanup };
});

/** The list `dailies start` hands the web chat (cli/bot-runtime.ts): JSON Schema drops "text or number" options. */
function jsonSchemaHelp(): CommandHelp[] {
  return commands.map((c) => {
    const schema = z.toJSONSchema(c.options, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { type?: string }>; required?: string[] };
    const options = Object.entries(schema.properties ?? {}).flatMap(([name, p]) =>
      p.type === 'string' || p.type === 'integer' || p.type === 'number' || p.type === 'boolean' ? [{ name, type: p.type as 'string', required: schema.required?.includes(name) ?? false }] : [],
    );
    return { name: c.name, description: c.description, options };
  });
}

describe('film commands typed in the web chat, through the real core', () => {
  let t: TestChat;
  let rig: CoreRig;
  let dir: string;

  afterEach(async () => {
    await rig.close();
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(hooks: LocalChatHooks = {}) {
    dir = await mkdtemp(join(tmpdir(), 'dailies-local-film-'));
    t = await startTestChat({ hooks });
    rig = await startCoreRig(t.chat.adapter, dir, {}, t.store);
  }
  const typed = (text: string, where: { channel?: string; thread?: string } = { channel: 'general' }) => postJson(`${t.chat.url}/api/commands`, { ...where, user: 'Ana', text });
  const messages = async (thread: string) => (await getJson(`${t.chat.url}/api/threads/${thread}`)).body.messages as { text: string; attachments: { kind: string; contentType: string }[] }[];

  it('a storyboard typed as a line, its shots voted, cut with a fade: every video posted is a final attachment', async () => {
    await start();
    const board = await typed('/storyboard a red circle | a blue square style:pixel art takes:1');
    expect(board.status).toBe(200);
    const thread = board.body.thread as string;
    await rig.settle();
    expect(rig.queue.jobs.map((j) => j.request.prompt)).toEqual(['a red circle, pixel art', 'a blue square, pixel art']);
    for (const job of [...rig.queue.jobs]) await rig.finish(job);

    const cut = await typed('/cut transition:fade', { thread });
    expect(cut.status).toBe(200);
    expect(cut.body.ephemeral).toMatch(/^Cut 1 is rendering \(fade\): shot 1: v1#1, shot 2: v2#1/);
    await rig.settle();
    const film = rig.queue.jobs.at(-1)!;
    expect(film.request.cut).toMatchObject({ transition: 'fade', shots: [{ label: 'v1#1' }, { label: 'v2#1' }] });
    await rig.finish(film, 32);

    const shown = await messages(thread);
    expect(shown[0]!.text).toContain('started a storyboard of 2 shots');
    expect(shown.at(-1)!.text).toMatch(/^Film · cut 1 · fade/);
    const videos = shown.flatMap((m) => m.attachments).filter((a) => a.contentType.startsWith('video/'));
    expect(videos).toHaveLength(3);
    expect(videos.every((a) => a.kind === 'final')).toBe(true);
  });

  it('/extend and /bridge typed in a thread, with the list dailies start hands the page', async () => {
    await start({ commandHelp: jsonSchemaHelp });
    const help = (await getJson(`${t.chat.url}/api/commands/help`)).body.commands as CommandHelp[];
    expect(help.find((c) => c.name === 'extend')!.options!.map((o) => o.name)).toEqual(['take', 'frames', 'duration', 'direction']);
    expect(help.find((c) => c.name === 'cut')).toMatchObject({ where: 'thread', options: [{ name: 'transition', choices: ['cut', 'fade', 'bridge'] }] });

    const video = await typed('/video a red circle takes:2');
    const thread = video.body.thread as string;
    await rig.settle();
    await rig.finish(rig.queue.jobs[0]!);
    const extend = await typed('/extend take:v1#1 direction:backward duration:4', { thread });
    expect(extend.body).toMatchObject({ thread, ephemeral: 'v2 is rendering: v1#1 extended backward by 4 s.' });
    await rig.settle();
    expect(rig.queue.jobs.at(-1)!.request).toMatchObject({ frames: 32, extend: { direction: 'backward' } });
    const bridge = await typed('/bridge from:v1#1 to:v1#2', { thread });
    expect(bridge.status).toBe(200);
    await rig.settle();
    expect(rig.queue.jobs).toHaveLength(3);

    // Refusals keep their code's status and say one sentence.
    const unknown = await typed('/extend v9#1', { thread });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('There is no v9 in this thread; pick one of v1–v3.');
    const many = await typed(`/storyboard ${Array.from({ length: 13 }, (_, i) => `shot ${i + 1}`).join(' | ')}`);
    expect(many.status).toBe(400);
    expectOneSentence(many.body.error.message);
    const cut = await typed('/cut', { thread });
    expect(cut.status).toBe(400);
    expect(cut.body.error.message).toMatch(/^\/cut works in a storyboard thread/);
    await rig.settle();
    expect(rig.queue.jobs).toHaveLength(3);
  });
});
