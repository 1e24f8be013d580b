import { Events, type Client, type GatewayDispatchPayload, type Interaction, type Message } from 'discord.js';
import { DailiesError } from '../../src/errors.ts';
import { fromGatewayClose, fromLoginError } from './discord-errors.ts';
import { TIMED_OUT, later, type AdapterLogger } from './discord-runtime.ts';
import { remember, type PlaceMemory } from './place-memory.ts';
import type { RateLimitLog } from './rate-limit-log.ts';

/** The gateway connection: the client's listeners, and logging in until the client is ready. */

export interface GatewayListeners {
  onInteraction(i: Interaction): Promise<void>;
  onMessage(message: Message): Promise<void>;
  /** False once this client is no longer the adapter's (stopped or replaced). */
  isCurrent(client: Client): boolean;
}

/** Routes the client's events to the adapter and its troubles to the log. */
export function listen(client: Client, places: PlaceMemory, log: AdapterLogger, rateLimitLog: RateLimitLog, to: GatewayListeners): void {
  client.on(Events.Raw, (packet: GatewayDispatchPayload) => {
    if (packet.t === 'INTERACTION_CREATE' && packet.d.channel) {
      const c = packet.d.channel as { id: string; type: number; parent_id?: string | null; guild_id?: string };
      remember(places.rawChannels, packet.d.id, { id: c.id, type: c.type, parent_id: c.parent_id ?? null, guild_id: packet.d.guild_id });
    }
  });
  client.on(Events.InteractionCreate, (i) => void to.onInteraction(i));
  client.on(Events.MessageCreate, (m) => void to.onMessage(m));
  client.on(Events.ShardError, (error, shardId) => log.warn('discord: gateway error', { shardId, error: String(error) }));
  client.on(Events.ShardDisconnect, (event, shardId) => {
    if (to.isCurrent(client)) log.error('discord: gateway closed for good; restart to reconnect', { shardId, code: event.code, reason: fromGatewayClose(event.code).message });
  });
  client.on(Events.Error, (error) => log.error('discord: client error', { error: String(error) }));
  client.on(Events.Warn, (message) => log.warn('discord: warning', { message }));
  // discord.js's own trace (gateway, heartbeats, REST queue); a disabled level costs one check.
  if (log.debug) client.on(Events.Debug, (message) => log.debug?.('discord.js', { message }));
  client.rest.on('rateLimited', (info) => {
    const route = info.global ? '(global)' : info.route;
    const folded = rateLimitLog.admit(route);
    if (folded === null) return;
    log.warn('discord: rate limited; discord.js queues the requests and retries', {
      route,
      method: info.method,
      retryAfterMs: info.retryAfter,
      global: info.global,
      ...(folded > 0 ? { sinceLastWarning: folded } : {}),
    });
  });
}

/** Logs in and waits for READY; a close code, a login failure or the timeout rejects with a coded error. */
export async function connect(client: Client, token: string, apiUrl: string, readyTimeoutMs: number): Promise<void> {
  let onDisconnect: ((event: { code: number }) => void) | undefined;
  const closed = new Promise<never>((_, reject) => {
    onDisconnect = (event) => reject(fromGatewayClose(event.code));
    client.once(Events.ShardDisconnect, onDisconnect);
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  const timeout = later(readyTimeoutMs, TIMED_OUT);
  try {
    const result = await Promise.race([
      client.login(token).then(
        () => ready,
        (e: unknown) => {
          throw fromLoginError(e, apiUrl);
        },
      ),
      closed,
      timeout,
    ]);
    if (result === TIMED_OUT) {
      throw new DailiesError('unavailable', `Discord's gateway did not become ready within ${Math.round(readyTimeoutMs / 1000)} s; check the network and DISCORD_API_URL.`, { retryable: true });
    }
  } finally {
    if (onDisconnect) client.off(Events.ShardDisconnect, onDisconnect);
    closed.catch(() => undefined);
  }
}
