import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Discord's gateway, as far as a bot can tell: HELLO, IDENTIFY -> READY + GUILD_CREATE,
 * heartbeats, dispatches with increasing sequence numbers, and the fatal close codes for a bad
 * token (4004) and an unapproved privileged intent (4014). JSON encoding, no compression.
 */

const MESSAGE_CONTENT_INTENT = 1 << 15;

export interface GatewayOptions {
  token: string;
  messageContentApproved: boolean;
  heartbeatIntervalMs: number;
  ready: () => Record<string, unknown>;
  guildCreate: () => Record<string, unknown>;
}

interface Session {
  socket: WebSocket;
  intents: number;
  seq: number;
}

export class GatewayStandIn {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  /** Intents of the last IDENTIFY (0 before one). */
  lastIntents = 0;
  identifies = 0;
  closeCodes: number[] = [];

  constructor(server: Server, private readonly options: GatewayOptions) {
    this.wss = new WebSocketServer({ server, path: '/gateway' });
    this.wss.on('connection', (socket) => this.accept(socket));
  }

  get connected(): number {
    return [...this.sessions].filter((s) => s.intents >= 0).length;
  }

  private accept(socket: WebSocket): void {
    const session: Session = { socket, intents: -1, seq: 0 };
    socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.options.heartbeatIntervalMs }, s: null, t: null }));
    socket.on('message', (raw) => {
      let payload: { op: number; d: any };
      try {
        payload = JSON.parse(String(raw));
      } catch {
        socket.close(4002, 'Error while decoding payload.');
        return;
      }
      switch (payload.op) {
        case 1:
          socket.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          return;
        case 2:
          this.identify(session, payload.d);
          return;
        case 6:
          // No resumable sessions here: tell the client to identify afresh.
          socket.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
          return;
        default:
          return;
      }
    });
    socket.on('close', () => this.sessions.delete(session));
  }

  private identify(session: Session, d: { token?: string; intents?: number }): void {
    this.identifies++;
    const close = (code: number, reason: string) => {
      this.closeCodes.push(code);
      session.socket.close(code, reason);
    };
    if (d.token !== this.options.token) return close(4004, 'Authentication failed.');
    const intents = Number(d.intents ?? 0);
    if (intents & MESSAGE_CONTENT_INTENT && !this.options.messageContentApproved) return close(4014, 'Disallowed intent(s).');
    session.intents = intents;
    this.lastIntents = intents;
    this.sessions.add(session);
    this.send(session, 'READY', this.options.ready());
    this.send(session, 'GUILD_CREATE', this.options.guildCreate());
  }

  private send(session: Session, t: string, d: unknown): void {
    session.seq += 1;
    session.socket.send(JSON.stringify({ op: 0, t, s: session.seq, d }));
  }

  /** Sends a dispatch to every identified session; returns when it was written (performance.now()). */
  dispatch(t: string, d: unknown): number {
    for (const s of this.sessions) if (s.intents >= 0) this.send(s, t, d);
    return performance.now();
  }

  /** Whether the connected bot asked for MESSAGE_CONTENT. */
  get hasMessageContent(): boolean {
    return (this.lastIntents & MESSAGE_CONTENT_INTENT) !== 0;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.terminate();
    this.sessions.clear();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
