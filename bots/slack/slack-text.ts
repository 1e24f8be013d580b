/**
 * Text crossing the Slack boundary. Slack escapes `&`, `<` and `>` in what users type and wraps
 * links and mentions in angle brackets; the core wants plain text. Going out, the core writes
 * light Markdown (as Discord and the local chat render it), which Slack's mrkdwn spells differently.
 */
import { replaceClockTimes } from '../../src/core/clock-text.ts';

/** `<@U123>` / `<@U123|name>` for one user; used to find and strip mentions of the bot. */
export function mentionPattern(userId: string): RegExp {
  return new RegExp(`<@${userId.replace(/[^A-Z0-9]/gi, '')}(?:\\|[^>]*)?>`, 'g');
}

/** Slack's message format to plain text: links keep their label, mentions become @name. */
export function slackToPlain(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]*)>/g, (_m, target: string, label: string) => (target.startsWith('@') || target.startsWith('#') ? `${target[0]}${label}` : label))
    .replace(/<([@#])([A-Z0-9]+)>/g, '$1$2')
    .replace(/<!(here|channel|everyone)>/g, '@$1')
    .replace(/<!subteam\^[A-Z0-9]+>/g, '@group')
    .replace(/<(https?:\/\/[^<>]+)>/g, '$1')
    .replace(/<mailto:([^<>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The three characters Slack's mrkdwn gives meaning to; user text must not form links or pings. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Core Markdown (**bold**, ~~strike~~, [label](url)) to mrkdwn, escaping everything else. */
export function markdownToMrkdwn(text: string): string {
  return escapeMrkdwn(text)
    .replace(/\*\*(?=\S)([^*\n]+?)\*\*/g, '*$1*')
    .replace(/~~(?=\S)([^~\n]+?)~~/g, '~$1~')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, label: string, url: string) => `<${url}|${label.replace(/\|/g, '¦')}>`);
}

/**
 * The core's UTC times as Slack date tokens, which every reader's client shows in their own time
 * zone; the UTC text stays as the fallback for clients that cannot.
 */
export function slackTimes(text: string, now = Date.now()): string {
  return replaceClockTimes(text, now, (time, written) => `<!date^${Math.floor(time.at / 1000)}^${time.dated ? '{date_short_pretty} {time}' : '{time}'}|${written}>`);
}

export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Splits at line breaks where possible so each piece fits a section block. */
export function chunkText(text: string, max: number): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut < max / 2) cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    // Never cut inside an escape such as &amp; (it would render literally).
    const amp = rest.lastIndexOf('&', cut);
    if (amp > cut - 5 && rest.indexOf(';', amp) >= cut) cut = amp;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}
