/** The queue's name and key prefix when none is configured (DAILIES_QUEUE, DAILIES_PREFIX). */
export const DEFAULT_QUEUE_NAME = 'renders';
export const DEFAULT_PREFIX = 'dailies';

/**
 * Names of every Redis key the worker pool uses besides BullMQ's own. They live under the
 * queue's BullMQ prefix (`<prefix>:<queue>:`), so deleting a test queue's keys removes ours too,
 * and a hash-tagged prefix such as `{dailies}` keeps them in BullMQ's cluster slot.
 */
export class QueueKeys {
  /** BullMQ's key prefix for this queue; job hashes are `base + jobId`. */
  readonly base: string;

  constructor(
    readonly prefix: string,
    readonly queueName: string,
  ) {
    this.base = `${prefix}:${queueName}:`;
  }

  /** One of BullMQ's own keys ('wait', 'prioritized', 'active', ...), read by our scripts. */
  bull(name: 'wait' | 'paused' | 'prioritized' | 'delayed' | 'active' | 'failed' | 'events' | 'meta'): string {
    return this.base + name;
  }

  get fairJobs(): string {
    return `${this.base}fair:jobs`;
  }

  get fairSeq(): string {
    return `${this.base}fair:seq`;
  }

  /** 'fair' or 'fifo', written by producers, read by every script. */
  get fairMode(): string {
    return `${this.base}fair:mode`;
  }

  user(userId: string): string {
    return `${this.base}fair:u:${userId}`;
  }

  cancelFlag(jobId: string): string {
    return `${this.base}fair:cancel:${jobId}`;
  }

  /** Pub/sub channel on which cancel requests for active jobs are broadcast to every worker. */
  get cancelChannel(): string {
    return `${this.base}fair:cancel`;
  }

  delivered(jobId: string, part: string): string {
    return `${this.base}fair:delivered:${jobId}:${part}`;
  }

  get workers(): string {
    return `${this.base}pool:workers`;
  }

  get workerSlots(): string {
    return `${this.base}pool:slots`;
  }

  get durations(): string {
    return `${this.base}pool:durations`;
  }

  /** Recent milliseconds per work unit (see job-cost.ts). */
  get unitDurations(): string {
    return `${this.base}pool:unit-durations`;
  }

  /** Defaults (steps, frames) of the model the workers run. */
  get modelScale(): string {
    return `${this.base}pool:model`;
  }
}
