import { Counter, Histogram, type Registry } from 'prom-client';
import type { CoreMetrics } from '../core/ports/metrics.ts';

/**
 * Ack latency buckets in seconds. Discord and Slack give up on an unacknowledged interaction
 * after 3 s, so the buckets are fine below that and the 3 s edge is one of them.
 */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5];

/** The core's counts (src/core/ports/metrics.ts) as Prometheus metrics in `registry`. */
export function prometheusCoreMetrics(registry: Registry): CoreMetrics {
  const ack = new Histogram({
    name: 'dailies_ack_seconds',
    help: 'Time from receiving a chat event to acknowledging it, by platform',
    labelNames: ['platform'],
    buckets: ACK_BUCKETS,
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'dailies_refusals_total',
    help: 'Chat events refused, by platform and reason (the refusal code)',
    labelNames: ['platform', 'reason'],
    registers: [registry],
  });
  const postFailures = new Counter({
    name: 'dailies_post_failures_total',
    help: 'Posts and edits into threads that failed (each attempt), by platform',
    labelNames: ['platform'],
    registers: [registry],
  });
  return {
    answered: (platform, ackMs) => ack.observe({ platform }, Math.max(0, ackMs) / 1000),
    refused: (platform, reason) => refusals.inc({ platform, reason }),
    postFailed: (platform) => postFailures.inc({ platform }),
  };
}
