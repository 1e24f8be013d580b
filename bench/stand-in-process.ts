import { DiscordStandIn, type RecordedCall } from '../test/discord/stand-in/discord-stand-in.ts';
import { snowflake } from '../test/discord/stand-in/payloads.ts';
import type { BurstTimings, InteractionTiming, StandInReady, StandInReply, StandInRequest } from './remote-stand-in.ts';

/**
 * The Discord stand-in's process (forked by remote-stand-in.ts): dispatches bursts of /video
 * interactions and reads, from its own log of HTTP calls, when each was answered.
 */

const CALLBACK = /^\/interactions\/(\d+)\/[^/]+\/callback$/;
const WEBHOOK = /^\/webhooks\/\d+\/([^/]+)(?:\/messages\/(@original|\d+))?$/;

const standIn = await DiscordStandIn.start();
let cpuAtBurst = process.cpuUsage();

function burst(count: number, tag: string): string[] {
  cpuAtBurst = process.cpuUsage();
  const ids: string[] = [];
  // One gateway frame per interaction, back to back, each stamped as it is written.
  for (let i = 0; i < count; i++) {
    const user = { id: snowflake(), name: `${tag}-${i}` };
    ids.push(standIn.command('video', { prompt: `a red ball number ${i} bouncing on a white background`, takes: 2 }, user).id);
  }
  return ids;
}

function timings(ids: string[]): BurstTimings {
  const cpu = process.cpuUsage(cpuAtBurst);
  const wanted = new Set(ids);
  const byToken = new Map(ids.map((id) => [standIn.interactions.get(id)?.token, id]));
  const callbacks = new Map<string, RecordedCall[]>();
  const webhooks = new Map<string, RecordedCall[]>();
  const add = (map: Map<string, RecordedCall[]>, id: string, call: RecordedCall) => {
    const list = map.get(id);
    if (list) list.push(call);
    else map.set(id, [call]);
  };
  for (const call of standIn.calls) {
    const callback = CALLBACK.exec(call.path);
    if (call.method === 'POST' && callback && wanted.has(callback[1]!)) add(callbacks, callback[1]!, call);
    const webhook = WEBHOOK.exec(call.path);
    const id = webhook && byToken.get(webhook[1]!);
    if (id) add(webhooks, id, call);
  }
  const first = (calls: RecordedCall[] | undefined) => calls?.reduce((a, b) => (b.time < a.time ? b : a));
  const list = ids.map((id): InteractionTiming => {
    const dispatchedAt = standIn.interactions.get(id)?.dispatchedAt ?? NaN;
    const callback = first(callbacks.get(id));
    const answer = first(webhooks.get(id));
    return {
      id,
      dispatchedAtEpochMs: performance.timeOrigin + dispatchedAt,
      ackMs: callback ? callback.time - dispatchedAt : null,
      callbacks: callbacks.get(id)?.length ?? 0,
      callbackType: typeof callback?.json?.type === 'number' ? callback.json.type : null,
      callbackStatus: callback?.status ?? null,
      answerMs: answer ? answer.time - dispatchedAt : null,
      answer: answer ? `${answer.method} ${WEBHOOK.exec(answer.path)?.[2] ?? 'follow-up'} ${answer.status}` : null,
    };
  });
  return { timings: list, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on('message', (raw) => {
  const request = raw as StandInRequest;
  const reply = (body: { ok: true; value: unknown } | { ok: false; error: string }) => process.send!({ seq: request.seq, ...body } satisfies StandInReply);
  try {
    if (request.op === 'burst') reply({ ok: true, value: burst(request.count, request.tag) });
    else if (request.op === 'timings') reply({ ok: true, value: timings(request.ids) });
    else {
      reply({ ok: true, value: null });
      void standIn.close().finally(() => process.exit(0));
    }
  } catch (error) {
    reply({ ok: false, error: (error as Error).message });
  }
});
// The bench went away without closing: do not outlive it.
process.on('disconnect', () => void standIn.close().finally(() => process.exit(0)));
process.send!({ ready: { apiUrl: standIn.apiUrl, token: standIn.token, appId: standIn.appId } } satisfies StandInReady);
