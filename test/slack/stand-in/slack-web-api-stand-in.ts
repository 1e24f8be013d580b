import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { WebSocketLink } from './websocket-link.ts';

/**
 * A local stand-in for the Slack Web API, for tests without the network. WebClient is pointed at
 * it with `slackApiUrl`; it records every call (method, decoded arguments, raw body, auth header,
 * time) and answers like Slack does: `ok` plus the fields the adapter reads, Slack's error
 * strings for the failures the adapter handles, and 429 with Retry-After when told to.
 * files.getUploadURLExternal hands out upload URLs on the stand-in itself, and response_url /
 * shared-file URLs point here too, so the whole external upload flow stays local. With the app
 * token, apps.connections.open hands out a WebSocket URL here as well, for Socket Mode.
 */

export interface RecordedCall {
  method: string;
  /** Form fields, with JSON-looking values (blocks, files, view) decoded. */
  args: Record<string, unknown>;
  raw: string;
  contentType: string;
  authorization?: string;
  at: number;
}

export interface StoredMessage {
  ts: string;
  channel: string;
  thread_ts?: string;
  user: string;
  bot_id?: string;
  text: string;
  blocks?: unknown[];
  files?: { id: string; name: string; size: number }[];
  edited?: number;
}

export interface StandInUser {
  id: string;
  name: string;
  real_name?: string;
  display_name?: string;
  is_admin?: boolean;
  is_owner?: boolean;
}

export interface UploadRecord {
  fileId: string;
  filename: string;
  length: number;
  bytes?: Buffer;
  completed: boolean;
  /** Set by files.delete. */
  deleted?: boolean;
}

interface Failure {
  status?: number;
  retryAfter?: number;
  error?: string;
}

export class SlackWebApiStandIn {
  readonly botToken: string;
  readonly appToken: string;
  /** Socket Mode connections, newest last. */
  readonly sockets: WebSocketLink[] = [];
  readonly botUserId = 'U0DAILIES';
  readonly botId = 'B0DAILIES';
  readonly teamId = 'T0TEAM';
  readonly calls: RecordedCall[] = [];
  readonly uploads = new Map<string, UploadRecord>();
  readonly responses: { id: string; body: Record<string, unknown>; at: number }[] = [];
  readonly users = new Map<string, StandInUser>();
  /** Channels the bot was never invited to: posting there fails with not_in_channel. */
  readonly notInChannel = new Set<string>();
  private readonly messages: StoredMessage[] = [];
  private readonly sharedFiles = new Map<string, { bytes: Buffer; mimetype: string }>();
  private readonly failures = new Map<string, Failure[]>();
  private readonly events = new EventEmitter();
  private server?: Server;
  private seq = 0;
  private fileSeq = 0;

  constructor(options: { botToken?: string; appToken?: string } = {}) {
    this.botToken = options.botToken ?? 'xoxb-1111-2222-standinbottoken';
    this.appToken = options.appToken ?? 'xapp-1-A0DAILIES-1-standinapptoken';
    this.events.setMaxListeners(100);
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    if (!a) throw new Error('stand-in not started');
    return `http://127.0.0.1:${a.port}`;
  }

  /** What SLACK_API_URL should be. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
    this.server.on('upgrade', (req, socket) => {
      if (!req.url?.startsWith('/socket')) return void socket.destroy();
      const link = WebSocketLink.accept(req, socket);
      if (!link) return;
      this.sockets.push(link);
      this.record('(socket open)', {}, '', '', undefined);
      link.on('message', (m: unknown) => this.record('(socket message)', (m ?? {}) as Record<string, unknown>, JSON.stringify(m), 'application/json', undefined));
      link.sendJson({ type: 'hello', num_connections: 1, debug_info: { host: 'stand-in', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0DAILIES' } });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  /** Sends a Socket Mode envelope on the newest connection and resolves with the app's ack and how long it took. */
  async sendEnvelope(envelope: { envelope_id: string; type: string; payload: unknown; retry_attempt?: number; retry_reason?: string; accepts_response_payload?: boolean }) {
    const link = this.sockets.at(-1);
    if (!link?.isOpen) throw new Error('no open Socket Mode connection');
    const started = performance.now();
    const acked = this.waitForCall('(socket message)', (c) => c.args.envelope_id === envelope.envelope_id);
    link.sendJson({ retry_attempt: 0, retry_reason: '', accepts_response_payload: envelope.type !== 'events_api', ...envelope });
    const call = await acked;
    return { ack: call.args, ms: performance.now() - started };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const link of this.sockets) link.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- test controls ----

  /** The next call of `method` fails: with a Slack error string, an HTTP status, or 429 + Retry-After. */
  failNext(method: string, failure: Failure): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  addUser(user: StandInUser): void {
    this.users.set(user.id, user);
  }

  /** A file as a person shares it: returns the Slack file object a message event carries. */
  shareFile(bytes: Buffer, meta: { name: string; mimetype: string; size?: number; host?: string }) {
    const id = `F${String(++this.fileSeq).padStart(8, '0')}`;
    const path = `/files-pri/${this.teamId}-${id}/${encodeURIComponent(meta.name)}`;
    this.sharedFiles.set(path, { bytes, mimetype: meta.mimetype });
    const base = meta.host ? `https://${meta.host}` : this.url;
    return {
      id,
      name: meta.name,
      title: meta.name,
      mimetype: meta.mimetype,
      size: meta.size ?? bytes.length,
      url_private: `${base}${path}`,
      url_private_download: `${base}${path}?download=1`,
    };
  }

  responseUrl(id = `R${++this.seq}`): string {
    return `${this.url}/response/${id}`;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the first call (already made or future) matching `method` and `where`. */
  waitForCall(method: string, where: (c: RecordedCall) => boolean = () => true, timeoutMs = 5_000): Promise<RecordedCall> {
    const done = this.calls.find((c) => c.method === method && where(c));
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('call', listener);
        reject(new Error(`no ${method} call within ${timeoutMs} ms; calls so far: ${this.calls.map((c) => c.method).join(', ')}`));
      }, timeoutMs);
      const listener = (c: RecordedCall) => {
        if (c.method !== method || !where(c)) return;
        clearTimeout(timer);
        this.events.off('call', listener);
        resolve(c);
      };
      this.events.on('call', listener);
    });
  }

  /** The messages of a thread (root first), as they look now. */
  thread(channel: string, ts: string): StoredMessage[] {
    return this.messages.filter((m) => m.channel === channel && (m.ts === ts || m.thread_ts === ts));
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  ephemerals(): Record<string, unknown>[] {
    return this.callsTo('chat.postEphemeral').map((c) => c.args);
  }

  // ---- HTTP ----

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const authorization = req.headers.authorization;

    if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) {
      const file = this.sharedFiles.get(url.pathname);
      this.record('(file download)', { path: url.pathname }, '', contentType, authorization);
      // Slack answers a bad token on file URLs with a login page, not an error status.
      if (!file || authorization !== `Bearer ${this.botToken}`) return send(res, 200, '<!DOCTYPE html><html>Sign in</html>', 'text/html');
      return send(res, 200, file.bytes, file.mimetype);
    }
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
      const fileId = url.pathname.slice('/upload/'.length);
      const upload = this.uploads.get(fileId);
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData().catch(() => undefined);
      const part = form?.get('body') ?? form?.get('file');
      const bytes = part && typeof part !== 'string' ? Buffer.from(await part.arrayBuffer()) : raw;
      this.record('(upload)', { fileId, bytes: bytes.length }, '', contentType, authorization);
      if (!upload) return send(res, 404, 'unknown upload', 'text/plain');
      upload.bytes = bytes;
      return send(res, 200, `OK - ${bytes.length}`, 'text/plain');
    }
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      const body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      this.responses.push({ id: url.pathname.slice('/response/'.length), body, at: Date.now() });
      this.record('(response_url)', body, raw.toString('utf8'), contentType, authorization);
      return send(res, 200, 'ok', 'text/plain');
    }
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice('/api/'.length);
      const text = raw.toString('utf8');
      const args = contentType.includes('application/json') ? (JSON.parse(text || '{}') as Record<string, unknown>) : decodeForm(text);
      this.record(method, args, text, contentType, authorization);
      const failure = this.failures.get(method)?.shift();
      if (failure?.retryAfter !== undefined) {
        res.writeHead(429, { 'retry-after': String(failure.retryAfter), 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      if (failure?.status) return send(res, failure.status, 'stand-in failure', 'text/plain');
      if (failure?.error) return json(res, { ok: false, error: failure.error });
      const token = authorization?.replace(/^Bearer /, '') ?? (typeof args.token === 'string' ? args.token : undefined);
      // Socket Mode authenticates with the app-level token, everything else with the bot token.
      const expected = method === 'apps.connections.open' ? this.appToken : this.botToken;
      if (token !== expected) return json(res, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
      return json(res, this.answer(method, args));
    }
    send(res, 404, 'not found', 'text/plain');
  }

  private record(method: string, args: Record<string, unknown>, raw: string, contentType: string, authorization?: string): void {
    const call: RecordedCall = { method, args, raw, contentType, authorization, at: Date.now() };
    this.calls.push(call);
    this.events.emit('call', call);
  }

  private nextTs(): string {
    // Real ts values are seconds.micros and strictly increasing per channel.
    const s = Math.floor(Date.now() / 1000);
    return `${s}.${String(++this.seq).padStart(6, '0')}`;
  }

  private answer(method: string, a: Record<string, unknown>): Record<string, unknown> {
    const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace(/^http/, 'ws')}/socket?ticket=stand-in` };
      case 'auth.test':
        return { ok: true, url: 'https://standin.slack.com/', team: 'Stand-in', user: 'dailies', team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId };
      case 'chat.postMessage': {
        const channel = str('channel');
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (this.notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        if (!str('text') && !a.blocks) return { ok: false, error: 'no_text' };
        // Like Slack, a thread_ts naming no message is accepted; the reply is then shown nowhere.
        const threadTs = str('thread_ts');
        const m: StoredMessage = { ts: this.nextTs(), channel, user: this.botUserId, bot_id: this.botId, text: str('text') ?? '', ...(threadTs && { thread_ts: threadTs }), ...(Array.isArray(a.blocks) && { blocks: a.blocks }) };
        this.messages.push(m);
        return { ok: true, channel, ts: m.ts, message: { ...m, type: 'message' } };
      }
      case 'chat.update': {
        const m = this.message(str('channel') ?? '', str('ts') ?? '');
        if (!m) return { ok: false, error: 'message_not_found' };
        if (m.user !== this.botUserId) return { ok: false, error: 'cant_update_message' };
        m.text = str('text') ?? m.text;
        if (Array.isArray(a.blocks)) m.blocks = a.blocks;
        m.edited = Date.now();
        return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
      }
      case 'chat.postEphemeral': {
        const channel = str('channel');
        if (!channel || !str('user')) return { ok: false, error: 'user_not_in_channel' };
        if (this.notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'views.open': {
        if (!str('trigger_id')) return { ok: false, error: 'invalid_trigger_id' };
        const view = a.view as Record<string, unknown> | undefined;
        if (!view || view.type !== 'modal') return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: `V${++this.seq}`, hash: `${this.seq}.hash`, ...view } };
      }
      case 'users.info': {
        const id = str('user') ?? '';
        const u = this.users.get(id) ?? { id, name: id.toLowerCase() };
        return {
          ok: true,
          user: {
            id: u.id,
            team_id: this.teamId,
            name: u.name,
            is_admin: u.is_admin ?? false,
            is_owner: u.is_owner ?? false,
            is_primary_owner: false,
            is_bot: false,
            profile: { real_name: u.real_name ?? u.name, display_name: u.display_name ?? '' },
          },
        };
      }
      case 'conversations.replies': {
        const root = this.message(str('channel') ?? '', str('ts') ?? '');
        if (!root) return { ok: false, error: 'thread_not_found' };
        return { ok: true, messages: this.thread(root.channel, root.ts), has_more: false };
      }
      case 'files.getUploadURLExternal': {
        const filename = str('filename');
        const length = Number(a.length);
        if (!filename || !Number.isFinite(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const fileId = `F${String(++this.fileSeq).padStart(8, '0')}`;
        this.uploads.set(fileId, { fileId, filename, length, completed: false });
        return { ok: true, upload_url: `${this.url}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal': {
        const files = (Array.isArray(a.files) ? a.files : []) as { id: string; title?: string }[];
        const records = files.map((f) => this.uploads.get(f.id));
        if (records.length === 0 || records.some((r) => !r?.bytes)) return { ok: false, error: 'file_not_found' };
        const channel = str('channel_id');
        const threadTs = str('thread_ts');
        for (const r of records) r!.completed = true;
        if (channel) {
          if (this.notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
          this.messages.push({
            ts: this.nextTs(),
            channel,
            user: this.botUserId,
            bot_id: this.botId,
            text: str('initial_comment') ?? '',
            ...(threadTs && { thread_ts: threadTs }),
            files: records.map((r) => ({ id: r!.fileId, name: r!.filename, size: r!.bytes!.length })),
          });
        }
        return { ok: true, files: records.map((r, i) => ({ id: r!.fileId, title: files[i]!.title ?? r!.filename, name: r!.filename, size: r!.bytes!.length })) };
      }
      case 'files.delete': {
        // Slack's files.delete: the file is gone everywhere; a message that was only that file
        // share disappears with it, a message with text keeps its text.
        const id = str('file') ?? '';
        const upload = this.uploads.get(id);
        if (!upload?.completed) return { ok: false, error: upload?.deleted ? 'file_deleted' : 'file_not_found' };
        upload.deleted = true;
        upload.completed = false;
        delete upload.bytes;
        for (const m of this.messages) if (m.files?.some((f) => f.id === id)) m.files = m.files.filter((f) => f.id !== id);
        const emptied = this.messages.filter((m) => m.files && m.files.length === 0 && m.text === '' && !m.blocks);
        for (const m of emptied) this.messages.splice(this.messages.indexOf(m), 1);
        return { ok: true };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function decodeForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parseQuery(text))) {
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === 'string' && /^[[{]/.test(s)) {
      try {
        out[k] = JSON.parse(s);
        continue;
      } catch {
        // not JSON after all; keep the string
      }
    }
    out[k] = s;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, body: Record<string, unknown>): void {
  send(res, 200, JSON.stringify(body), 'application/json; charset=utf-8');
}
