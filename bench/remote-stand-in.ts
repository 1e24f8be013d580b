import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The Discord stand-in (test/discord/stand-in) in a process of its own, as Discord runs on
 * machines of its own: building INTERACTION_CREATE payloads, parsing the bot's HTTP calls and
 * writing gateway frames then cost the bot's event loop nothing, so none of it is counted as the
 * bot's ack. Both ends of every duration below are read on the stand-in's clock.
 */

export interface InteractionTiming {
  id: string;
  /** When INTERACTION_CREATE was written, as Unix ms (performance.timeOrigin-based), to line up with the bot's clock. */
  dispatchedAtEpochMs: number;
  /** INTERACTION_CREATE written to the gateway -> first interaction callback received, ms. */
  ackMs: number | null;
  /** Interaction callbacks received for it; a bot must send exactly one. */
  callbacks: number;
  /** Response type of the first callback (5: deferred reply) and the stand-in's HTTP status for it. */
  callbackType: number | null;
  callbackStatus: number | null;
  /** INTERACTION_CREATE written -> first request on the interaction's webhook (the edit of the deferred reply), ms. */
  answerMs: number | null;
  /** That request, e.g. "PATCH @original 200". */
  answer: string | null;
}

export interface BurstTimings {
  timings: InteractionTiming[];
  /** CPU the stand-in process spent since the burst was dispatched, ms: Discord-side work the bot did not pay for. */
  cpuMs: number;
}

export interface StandInInfo {
  apiUrl: string;
  token: string;
  appId: string;
}

/** What the bench asks of the stand-in process, one reply per request. */
type StandInOp = { op: 'burst'; count: number; tag: string } | { op: 'timings'; ids: string[] } | { op: 'close' };
export type StandInRequest = { seq: number } & StandInOp;
export type StandInReply = { seq: number } & ({ ok: true; value: unknown } | { ok: false; error: string });
/** The stand-in process's first message. */
export type StandInReady = { ready: StandInInfo };

const ENTRY = fileURLToPath(new URL('./stand-in-process.ts', import.meta.url));
// Resolved from here rather than from the working directory, so the bench runs from anywhere.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export class RemoteStandIn {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private exitError: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly info: StandInInfo,
  ) {
    child.on('message', (raw) => {
      const reply = raw as StandInReply;
      const waiter = this.waiting.get(reply.seq);
      if (!waiter) return;
      this.waiting.delete(reply.seq);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`Discord stand-in: ${reply.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exitError = new Error(`The Discord stand-in process exited (${signal ?? code}) with requests pending.`);
      for (const waiter of this.waiting.values()) waiter.reject(this.exitError);
      this.waiting.clear();
    });
  }

  static async start(): Promise<RemoteStandIn> {
    const child = fork(ENTRY, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const info = await new Promise<StandInInfo>((resolve, reject) => {
      child.once('message', (m) => resolve((m as StandInReady).ready));
      child.once('exit', (code) => reject(new Error(`The Discord stand-in process exited (${code}) before it was ready.`)));
      child.once('error', reject);
    });
    return new RemoteStandIn(child, info);
  }

  /** Sends `count` /video commands over the gateway at once, from as many people; their interaction ids. */
  burst(count: number, tag: string): Promise<string[]> {
    return this.request({ op: 'burst', count, tag }) as Promise<string[]>;
  }

  timings(ids: string[]): Promise<BurstTimings> {
    return this.request({ op: 'timings', ids }) as Promise<BurstTimings>;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request({ op: 'close' }).catch(() => {});
    await exited;
  }

  private request(body: StandInOp): Promise<unknown> {
    if (this.exitError) return Promise.reject(this.exitError);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.child.send({ seq, ...body } satisfies StandInRequest);
    });
  }
}
