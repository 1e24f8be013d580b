import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.ts';
import type { CommandEvent } from '../../src/core/ports/chat-adapter.ts';
import { registrySyntax } from '../../bots/slack/command-syntax.ts';
import { slashForm } from '../../bots/slack/command-wording.ts';
import { SlackAdapter, WARNING_PREFIX as W } from '../../bots/slack/slack-adapter.ts';
import { startCoreRig, type CoreRig } from '../local/core-rig.ts';
import { expectOneSentence } from '../local/film-commands.suite.ts';
import { tempArtifactStore } from '../storage/temp-store.ts';
import { SIGNING_SECRET, startSlackHarness } from './slack-harness.ts';
import { sendSigned, slashCommandBody } from './stand-in/signed-requests.ts';
import { SlackWebApiStandIn } from './stand-in/slack-web-api-stand-in.ts';

/**
 * The app's two slash commands, /video and /dailies <command>, sent as Slack sends them to the
 * real Bolt app, through the real core, and read back from the Web API stand-in: what people in
 * Slack are told to type must be something they can type there.
 */

const CHANNEL = 'C0GENERAL';
const ANA = 'U0ANA';

let standIn: SlackWebApiStandIn;
let adapter: SlackAdapter;
let rig: CoreRig;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  standIn = new SlackWebApiStandIn();
  await standIn.start();
  standIn.addUser({ id: ANA, name: 'ana', display_name: 'Ana' });
  const artifacts = await tempArtifactStore();
  const dir = await mkdtemp(join(tmpdir(), 'dailies-slack-commands-'));
  adapter = new SlackAdapter({
    artifacts: artifacts.store,
    env: { SLACK_BOT_TOKEN: standIn.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1', SLACK_API_URL: standIn.apiUrl },
    minEditIntervalMs: 0,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  rig = await startCoreRig(adapter, dir, {}, artifacts.store);
  cleanup = async () => {
    await rig.close();
    await standIn.stop();
    await artifacts.cleanup();
    await rm(dir, { recursive: true, force: true });
  };
});

afterAll(async () => {
  await cleanup?.();
});

/** One slash command from Ana: the acknowledgement's ephemeral text, and the notes she was shown after it. */
async function slash(command: string, text: string, target: { adapter: SlackAdapter; standIn: SlackWebApiStandIn } = { adapter, standIn }) {
  const before = target.standIn.calls.length;
  const eventsBefore = rig.events.length;
  const body = slashCommandBody({ command, text, user_id: ANA, channel_id: CHANNEL, response_url: target.standIn.responseUrl(`R-${randomUUID()}`) });
  const r = await sendSigned(`http://127.0.0.1:${target.adapter.address!.port}/slack/events`, body, 'application/x-www-form-urlencoded', { secret: SIGNING_SECRET });
  expect(r.status).toBe(200);
  await new Promise((resolve) => setImmediate(resolve));
  await target.adapter.idle();
  await rig.settle();
  const notes = target.standIn.calls.slice(before).filter((c) => c.method === 'chat.postEphemeral' && c.args.user === ANA).map((c) => String(c.args.text));
  const acked = r.json?.response_type === 'ephemeral' ? String(r.json.text) : undefined;
  return { acked, notes, events: rig.events.slice(eventsBefore) as CommandEvent[], ms: r.ms };
}

/** A slash command the text tells people to type that Slack would not run for this app (`/status`, `/cancel`). */
const BARE_SUBCOMMAND = /(^|[\s("'`])\/(?!video\b|dailies\b)[a-z]+\b/m;

describe('/dailies <command>', () => {
  it('/dailies status runs the registry\'s status command, and its answer names commands as Slack types them', async () => {
    const { acked, notes, events } = await slash('/dailies', 'status');
    expect(acked).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ kind: 'command', platform: 'slack', name: 'status', channelId: CHANNEL, options: {} })]);
    // Outside a session thread the core refuses, naming /status and /storyboard: Slack shows the forms that run here.
    expect(notes).toEqual([`${W}Use /dailies status inside a session thread (the thread /video or /dailies storyboard opens); there is no session here.`]);
  });

  it('/dailies help, /dailies alone and /dailies --help answer the help, every command in the form Slack runs it', async () => {
    for (const text of ['help', '', '--help', 'HELP']) {
      const { notes, events } = await slash('/dailies', text);
      expect(events.map((e) => e.name), text).toEqual(['help']);
      expect(notes, text).toHaveLength(1);
      const help = notes[0]!;
      for (const c of commands) expect(help, c.name).toContain(`${slashForm(c.name)} `);
      expect(help).toContain('/dailies remove v2#1');
      expect(help).not.toMatch(BARE_SUBCOMMAND);
    }
  });

  it('an unknown subcommand is answered at once with one sentence naming it and how to list them, and reaches nothing', async () => {
    const { acked, notes, events, ms } = await slash('/dailies', 'nosuch --takes 2');
    expect(acked).toBe(`${W}"nosuch" is not a dailies command; type /dailies help to list them.`);
    expectOneSentence(acked!.slice(W.length));
    expect(events).toEqual([]);
    expect(notes).toEqual([]);
    expect(ms).toBeLessThan(1000);
  });

  it('routes every command of the registry: /dailies <name> --help shows its usage in Slack form without running it', async () => {
    for (const c of commands) {
      const { acked, events } = await slash('/dailies', `${c.name} --help`);
      expect(events, c.name).toEqual([]);
      expect(acked, c.name).toContain(`Usage: ${slashForm(c.name)}`);
      expect(acked, c.name).not.toMatch(BARE_SUBCOMMAND);
    }
  });

  it('parses the rest exactly as the command\'s own text: a refusal names the /dailies form', async () => {
    const { acked, events } = await slash('/dailies', 'cancel now please');
    expect(events).toEqual([]);
    expect(acked).toBe(`${W}/dailies cancel takes no text; remove "now please" (try /dailies cancel --help).`);
  });

  it('still accepts the old per-command names a workspace on an earlier manifest sends', async () => {
    const { events, notes } = await slash('/cancel', '');
    expect(events.map((e) => e.name)).toEqual(['cancel']);
    expect(notes).toEqual([`${W}Use /dailies cancel inside a session thread (the thread /video or /dailies storyboard opens); there is no session here.`]);
    const { acked } = await slash('/teleport', '');
    expect(acked).toBe(`${W}This app has no /teleport command; type /dailies help to list its commands.`);
  });
});

describe('/video', () => {
  it('still starts a session from its own slash command', async () => {
    const jobsBefore = rig.queue.jobs.length;
    const { acked, events, ms } = await slash('/video', 'a paper boat in the rain --takes 2 --seed 7');
    expect(acked).toBeUndefined();
    expect(ms).toBeLessThan(1000);
    expect(events).toEqual([expect.objectContaining({ name: 'video', options: { prompt: 'a paper boat in the rain', takes: 2, seed: 7 } })]);
    expect(rig.queue.jobs).toHaveLength(jobsBefore + 1);
    const root = standIn.callsTo('chat.postMessage').find((c) => c.args.thread_ts === undefined && String(c.args.text).includes('a paper boat in the rain'));
    expect(root?.args.channel).toBe(CHANNEL);
  });
});

describe('hints the bot posts', () => {
  it('name commands in Slack form in thread posts too; /video, URLs and paths stay as they are', async () => {
    const { thread } = await adapter.startThread({ kind: 'command', id: randomUUID(), platform: 'slack', user: { id: ANA, name: 'Ana' }, receivedAt: Date.now(), channelId: CHANNEL, name: 'video', options: {} }, { text: 'Session' });
    const ref = await adapter.post(thread, { text: 'A moderator can ask /why here; /cut assembles the film (see https://example.com/cut, renders/cut/1.mp4, 50/50), or start again with /video.' });
    expect(standIn.message(CHANNEL, ref.messageId)!.text).toBe(
      'A moderator can ask /dailies why here; /dailies cut assembles the film (see https://example.com/cut, renders/cut/1.mp4, 50/50), or start again with /video.',
    );
  });

  it('covers a command added to the registry later, with no change to the Slack adapter', async () => {
    // Another command of the registry's shape, as commands/ would add it: its name is routed and its hints reworded.
    const presetsCommand = { name: 'presets', description: 'List the saved prompt presets.', options: z.object({ family: z.string().optional() }) };
    const seen: CommandEvent[] = [];
    const h = await startSlackHarness(
      async (e) => {
        if (e.kind === 'command') seen.push(e);
        return { error: { code: 'bad_input', message: 'There is no preset "dusk"; /presets lists the saved ones.' } };
      },
      { commands: registrySyntax([...commands, presetsCommand]) },
    );
    try {
      const { notes } = await slash('/dailies', 'presets --family shapes', h);
      expect(seen.map((e) => [e.name, e.options])).toEqual([['presets', { family: 'shapes' }]]);
      expect(notes).toEqual([`${W}There is no preset "dusk"; /dailies presets lists the saved ones.`]);
    } finally {
      await h.close();
    }
  });
});
