import type { Redis } from 'ioredis';
import type { ModelScale } from './job-cost.ts';
import type { QueueKeys } from './queue-keys.ts';

/**
 * Shared numbers the queue needs for ETAs: how many render slots are alive right now (every
 * worker process heartbeats its slot count) and how long recent renders took.
 *
 * Heartbeats rather than BullMQ's `getWorkers()` (CLIENT LIST): they count slots, not
 * connections, and work on hosted Redis where CLIENT LIST is often forbidden.
 */
export class PoolStats {
  static readonly SAMPLES = 20;

  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
  ) {}

  /** Marks `workerId` alive with `slots` render slots until `ttlMs` from now. */
  async heartbeat(workerId: string, slots: number, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.keys.workers, Date.now() + ttlMs, workerId)
      .hset(this.keys.workerSlots, workerId, slots)
      .exec();
  }

  async leave(workerId: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.workers, workerId).hdel(this.keys.workerSlots, workerId).exec();
  }

  async liveSlots(): Promise<number> {
    return (await this.live()).slots;
  }

  /** Live worker processes and their render slots together (/models shows both). */
  async live(): Promise<{ workers: number; slots: number }> {
    const now = Date.now();
    const expired = await this.redis.zrangebyscore(this.keys.workers, '-inf', now);
    if (expired.length) {
      await this.redis.multi().zrem(this.keys.workers, ...expired).hdel(this.keys.workerSlots, ...expired).exec();
    }
    const live = await this.redis.zrangebyscore(this.keys.workers, `(${now}`, '+inf');
    if (!live.length) return { workers: 0, slots: 0 };
    const slots = await this.redis.hmget(this.keys.workerSlots, ...live);
    return { workers: live.length, slots: slots.reduce((sum, s) => sum + (Number(s) || 1), 0) };
  }

  /** A finished render: its wall time, and (when known) its work units for per-unit speed. */
  async recordDuration(ms: number, units?: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) return;
    const tx = this.redis.multi().lpush(this.keys.durations, Math.round(ms)).ltrim(this.keys.durations, 0, PoolStats.SAMPLES - 1);
    if (units !== undefined && Number.isFinite(units) && units > 0) {
      tx.lpush(this.keys.unitDurations, ms / units).ltrim(this.keys.unitDurations, 0, PoolStats.SAMPLES - 1);
    }
    await tx.exec();
  }

  /** Mean milliseconds per work unit over the last SAMPLES renders, or null before the first. */
  async averageUnitMs(): Promise<number | null> {
    return mean(await this.redis.lrange(this.keys.unitDurations, 0, -1));
  }

  /** Workers publish the defaults of their model, so producers can size jobs that leave them unset. */
  async publishModelScale(scale: ModelScale): Promise<void> {
    await this.redis.hset(this.keys.modelScale, 'steps', scale.steps, 'frames', scale.frames);
  }

  async modelScale(): Promise<ModelScale | null> {
    const [steps, frames] = (await this.redis.hmget(this.keys.modelScale, 'steps', 'frames')).map(Number);
    return steps! > 0 && frames! > 0 ? { steps: steps!, frames: frames! } : null;
  }

  /** Mean of the last SAMPLES render durations, or null before the first one finished. */
  async averageDurationMs(): Promise<number | null> {
    return mean(await this.redis.lrange(this.keys.durations, 0, -1));
  }
}

function mean(raw: string[]): number | null {
  const samples = raw.map(Number).filter(Number.isFinite);
  if (!samples.length) return null;
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

/**
 * Milliseconds until the job at `position` (1-based) in line finishes, simulating `slots`
 * workers that each take `averageMs` per job: every slot frees when its current job should end
 * (never before now), and each job ahead takes the slot that frees first.
 */
export function estimateFinishMs(position: number, activeElapsedMs: number[], slots: number, averageMs: number): number {
  return estimateFinishAll(Math.max(1, position), activeElapsedMs, slots, averageMs).at(-1)!;
}

/** ETAs for positions 1..count in one pass (the same simulation, reused). */
export function estimateFinishAll(count: number, activeElapsedMs: number[], slots: number, averageMs: number): number[] {
  const width = Math.max(1, slots, activeElapsedMs.length);
  const free = Array.from({ length: width }, (_, i) => {
    const elapsed = activeElapsedMs[i];
    return elapsed === undefined ? 0 : Math.max(averageMs - elapsed, 0);
  });
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const i = argMin(free);
    out.push(Math.round(free[i]! + averageMs));
    free[i] = free[i]! + averageMs;
  }
  return out;
}

/**
 * A job's ETA when its own render is expected to take `ownMs` rather than the average: it
 * starts when the simulation says (its finish minus one average) and then takes its own time.
 * The jobs ahead keep the average: sizing each of them would cost a read per job per update.
 */
export function withOwnDuration(finishMs: number, averageMs: number, ownMs: number | null): number {
  return ownMs === null ? finishMs : Math.max(0, Math.round(finishMs - averageMs + ownMs));
}

function argMin(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return best;
}
