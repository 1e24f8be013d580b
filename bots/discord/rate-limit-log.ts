/**
 * Collapses discord.js `rateLimited` events into one warning per route per window. discord.js
 * emits one event per queued request, so a burst of 200 commands logged ~2000 identical warnings;
 * the first of a window is logged and the next one after it says how many were folded in.
 */
export class RateLimitLog {
  private readonly windows = new Map<string, { until: number; folded: number }>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns null to stay quiet, or the number of earlier events this one stands for (0 for the first). */
  admit(route: string): number | null {
    const t = this.now();
    const w = this.windows.get(route);
    if (w && t < w.until) {
      w.folded++;
      return null;
    }
    const folded = w?.folded ?? 0;
    this.windows.set(route, { until: t + this.windowMs, folded: 0 });
    if (this.windows.size > 1000) this.windows.clear(); // routes carry ids; never grow without bound
    return folded;
  }
}
