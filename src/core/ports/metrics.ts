import type { Platform } from './chat-adapter.ts';

/**
 * What the core counts for operators (`GET /metrics`). The Prometheus implementation lives in
 * src/metrics; the core only calls these, so it stays free of prom-client, and a process that
 * serves no metrics passes `noMetrics`.
 */
export interface CoreMetrics {
  /**
   * An event was answered. `ackMs` is how long the platform waited for its acknowledgement: from
   * receipt to the adapter's ack (Discord's deferral, Slack's `ack()`), or to the answer itself
   * where the answer is the ack (the web chat's HTTP response).
   */
  answered(platform: Platform, ackMs: number): void;
  /** An event was refused; `reason` is the refusal's stable code (`rate_limited`, `policy`, …). */
  refused(platform: Platform, reason: string): void;
  /** A post or edit into a thread failed (each failed attempt counts; the poster may retry). */
  postFailed(platform: Platform): void;
}

export const noMetrics: CoreMetrics = {
  answered() {},
  refused() {},
  postFailed() {},
};
