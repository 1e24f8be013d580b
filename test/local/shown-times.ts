import { findClockTimes } from '../../src/core/clock-text.ts';

/** How a surface shows a time the core wrote: a pattern for it and the instant it stands for. */
export interface ShownTime {
  /** Regex source matching one shown time. */
  pattern: string;
  /** The instant (ms since the epoch) a matched time stands for, read as a person's client would. */
  at(shown: string): number;
}

/** The web chat's API carries the core's UTC text (the page localises it, bots/local/public/dom.js). */
export const LOCAL_TIME: ShownTime = {
  pattern: String.raw`(?:\d+ [A-Z][a-z]{2} (?:\d{4} )?)?\d\d:\d\d UTC`,
  at: (shown) => findClockTimes(shown, Date.now())[0]!.at,
};

/** Discord timestamps, `<t:SECONDS:t>` (a time) or `<t:SECONDS:f>` (with the day). */
export const DISCORD_TIME: ShownTime = {
  pattern: String.raw`<t:\d+:[tf]>`,
  at: (shown) => Number(/<t:(\d+):/.exec(shown)![1]) * 1000,
};

/** Slack date tokens, `<!date^SECONDS^{time}|14:05 UTC>`, the UTC text as the fallback. */
export const SLACK_TIME: ShownTime = {
  pattern: String.raw`<!date\^\d+\^\{[^|>]+\|[^>]+>`,
  at: (shown) => Number(/<!date\^(\d+)\^/.exec(shown)![1]) * 1000,
};
