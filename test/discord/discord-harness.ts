import type { ChatEvent, ChatEventHandler, CommandEvent, EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import { DiscordAdapter, type AdapterLogger, type DiscordAdapterOptions, type SettledEvent } from '../../bots/discord/discord-adapter.ts';
import { DiscordStandIn, type StandInOptions } from './stand-in/discord-stand-in.ts';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  detail?: unknown;
}

/** A stand-in Discord plus the real adapter connected to it, with a swappable fake core. */
export interface DiscordRig {
  standIn: DiscordStandIn;
  adapter: DiscordAdapter;
  events: ChatEvent[];
  settled: SettledEvent[];
  logs: LogLine[];
  /** The fake core; tests replace it. */
  core: ChatEventHandler;
  waitSettled(id: string, timeoutMs?: number): Promise<SettledEvent>;
  close(): Promise<void>;
}

export function captureLogger(logs: LogLine[]): AdapterLogger {
  return {
    info: (message, detail) => logs.push({ level: 'info', message, detail }),
    warn: (message, detail) => logs.push({ level: 'warn', message, detail }),
    error: (message, detail) => logs.push({ level: 'error', message, detail }),
  };
}

export const SESSION_BUTTONS = (sessionId: string) => [
  [1, 2, 3, 4].map((n) => ({ action: `vote:${sessionId}:${n}`, label: `Take ${n}`, style: 'secondary' as const })),
  [
    { action: `edit:${sessionId}`, label: 'Edit prompt', style: 'primary' as const },
    { action: `finalize:${sessionId}`, label: 'Finalize', style: 'success' as const },
  ],
];

/** What a core does for /video: open the session thread from the command, then answer. */
export function videoCore(adapter: DiscordAdapter): ChatEventHandler {
  return async (event): Promise<EventOutcome> => {
    if (event.kind === 'command' && event.name === 'video') {
      const prompt = String(event.options['prompt'] ?? 'a still image');
      const { thread } = await adapter.startThread(event as CommandEvent, { text: `**${prompt}**\nQueued: 4 takes`, buttons: SESSION_BUTTONS(event.id) });
      return { thread };
    }
    return {};
  };
}

export async function startRig(
  opts: { standIn?: StandInOptions; messageContent?: boolean; adapter?: Partial<DiscordAdapterOptions>; core?: (adapter: DiscordAdapter) => ChatEventHandler } = {},
): Promise<DiscordRig> {
  const standIn = await DiscordStandIn.start(opts.standIn);
  const events: ChatEvent[] = [];
  const settled: SettledEvent[] = [];
  const logs: LogLine[] = [];
  const adapter = new DiscordAdapter({
    config: { token: standIn.token, appId: standIn.appId, messageContent: opts.messageContent ?? false, apiUrl: standIn.apiUrl },
    logger: captureLogger(logs),
    onEventSettled: (e) => settled.push(e),
    ...opts.adapter,
  });
  const rig: DiscordRig = {
    standIn,
    adapter,
    events,
    settled,
    logs,
    core: (opts.core ?? videoCore)(adapter),
    waitSettled: (id, timeoutMs = 5000) => standIn.waitUntil(() => settled.find((s) => s.id === id), timeoutMs, `event ${id} to settle`),
    async close() {
      await adapter.stop();
      await standIn.close();
    },
  };
  try {
    await adapter.start(async (event) => {
      events.push(event);
      return rig.core(event);
    });
  } catch (error) {
    await standIn.close();
    throw error;
  }
  return rig;
}
