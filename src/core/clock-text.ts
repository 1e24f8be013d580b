/**
 * Times in what the core writes. The core writes UTC ("14:05 UTC", "7 Dec 14:05 UTC") because it
 * does not know where its readers are; each surface then shows them in the reader's own time:
 * the web chat's page in the browser's zone (bots/local/public/dom.js reads the same forms),
 * Discord and Slack through their time tokens, which every client renders in its own zone.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `14:05 UTC`; `7 Dec 14:05 UTC` when `at` is on another UTC day than `now`, with the year when it is another year. Without `now`, the time alone. */
export function clockText(at: number, now?: number): string {
  const when = new Date(at);
  const time = `${String(when.getUTCHours()).padStart(2, '0')}:${String(when.getUTCMinutes()).padStart(2, '0')} UTC`;
  if (now === undefined || when.toISOString().slice(0, 10) === new Date(now).toISOString().slice(0, 10)) return time;
  const year = when.getUTCFullYear() !== new Date(now).getUTCFullYear() ? ` ${when.getUTCFullYear()}` : '';
  return `${when.getUTCDate()} ${MONTHS[when.getUTCMonth()]}${year} ${time}`;
}

export interface ClockTime {
  /** Where the written time starts and ends in the text. */
  start: number;
  end: number;
  /** The instant, ms since the epoch. */
  at: number;
  /** Whether the text gave the day (a time alone is on the day it was written, or the next). */
  dated: boolean;
}

const WRITTEN = /\b(?:(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: (\d{4}))? )?(\d{2}):(\d{2}) UTC\b/g;

/**
 * The times `clockText` wrote in `text`, which was written at `writtenAt`. A time alone is the
 * first such time from a minute before `writtenAt` on: what the core states without a day (vote
 * deadlines, block ends today) lies ahead of the message stating it.
 */
export function findClockTimes(text: string, writtenAt: number): ClockTime[] {
  const found: ClockTime[] = [];
  const ref = new Date(writtenAt);
  for (const m of text.matchAll(WRITTEN)) {
    const [written, day, month, year, hh, mm] = m;
    let at: number | null = null;
    if (day !== undefined) {
      at = Date.UTC(year !== undefined ? Number(year) : ref.getUTCFullYear(), MONTHS.indexOf(month!), Number(day), Number(hh), Number(mm));
    } else {
      for (const offset of [-1, 0, 1]) {
        const candidate = Date.UTC(ref.getUTCFullYear(), ref.getUTCMonth(), ref.getUTCDate() + offset, Number(hh), Number(mm));
        if (candidate >= writtenAt - 60_000) {
          at = candidate;
          break;
        }
      }
    }
    if (at !== null && Number.isFinite(at) && Number(hh) < 24 && Number(mm) < 60) found.push({ start: m.index, end: m.index + written.length, at, dated: day !== undefined });
  }
  return found;
}

/** `text` with each written time replaced by `render(time, written)`. */
export function replaceClockTimes(text: string, writtenAt: number, render: (time: ClockTime, written: string) => string): string {
  let out = '';
  let last = 0;
  for (const time of findClockTimes(text, writtenAt)) {
    out += text.slice(last, time.start) + render(time, text.slice(time.start, time.end));
    last = time.end;
  }
  return out + text.slice(last);
}
