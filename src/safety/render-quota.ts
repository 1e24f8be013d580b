import type { RenderRequest } from '../core/ports/job-queue.ts';
import { shapeOf, workUnits, type ModelScale } from '../queue/job-cost.ts';
import type { DailyQuota, QuotaKeys, QuotaUse } from './daily-quota.ts';

/**
 * A render's cost against the daily budgets: its work units (takes x steps x frames, as the ETA
 * counts them) at the defaults of the model the pool runs, and the sentences people read. The
 * core charges through this, so it never needs to know how work is counted.
 */
export interface RenderQuota {
  /** Charges the renders to both budgets, all or nothing; a refusal says why in one sentence. */
  spend(keys: QuotaKeys, requests: readonly RenderRequest[], now: number): Promise<{ allowed: true } | { allowed: false; message: string }>;
  /** What `/quota` shows. */
  describe(keys: QuotaKeys, channelName: string, now: number): Promise<string>;
}

/** The built-in model's defaults, until a worker has published its own. */
export const FALLBACK_SCALE: ModelScale = { steps: 10, frames: 16 };

export function renderQuota(quota: DailyQuota, scale: () => Promise<ModelScale | null>): RenderQuota {
  const unitsOf = async (requests: readonly RenderRequest[]) => {
    const s = (await scale()) ?? FALLBACK_SCALE;
    return requests.reduce((sum, r) => sum + workUnits(shapeOf(r), s), 0);
  };
  return {
    async spend(keys, requests, now) {
      if (quota.limits.person === null && quota.limits.channel === null) return { allowed: true };
      const units = await unitsOf(requests);
      const decision = await quota.spend(keys, units, now);
      if (decision.allowed) return { allowed: true };
      const budget = decision.by === 'person' ? decision.person : decision.channel;
      const left = Math.max(0, (budget.limit ?? 0) - budget.used);
      const whose = decision.by === 'person' ? 'your' : "this channel's";
      return {
        allowed: false,
        message: `This render needs ${n(units)} units of work but ${whose} daily budget has ${n(left)} of ${n(budget.limit ?? 0)} left; it resets at 00:00 UTC (in ${untilText(decision.resetsAt - now)}), or ask for fewer takes, steps or seconds.`,
      };
    },
    async describe(keys, channelName, now) {
      const use = await quota.usage(keys, now);
      const draft = await unitsOf([{ prompt: 'x', negativePrompt: '', seed: 0, takes: 2, quality: 'draft' }]);
      return [
        `You: ${line(use.person)}.`,
        `${channelName}: ${line(use.channel)}.`,
        `Budgets reset at 00:00 UTC, in ${untilText(use.resetsAt - now)}. A 2-take draft costs ${n(draft)} units; a final or a longer video more.`,
      ].join('\n');
    },
  };
}

function line(budget: QuotaUse['person']): string {
  if (budget.limit === null) return `${n(budget.used)} units of work today, no daily budget`;
  return `${n(budget.used)} of ${n(budget.limit)} units of work used today, ${n(Math.max(0, budget.limit - budget.used))} left`;
}

function n(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function untilText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}
