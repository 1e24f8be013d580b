// DOM helpers. Every piece of text goes in through textContent or text nodes, never as HTML:
// prompts, names and bot messages are all user-influenced.

/** el('button', { class: 'btn', onclick: fn, 'aria-label': 'x' }, 'child', node) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Bot text with the two bits of Markdown the core uses: **bold** and `code`. Newlines are kept by CSS. */
export function formatText(text, at = Date.now()) {
  const fragment = document.createDocumentFragment();
  for (const part of String(text).split(/(\*\*[^*\n]+\*\*|`[^`\n]+`)/)) {
    if (!part) continue;
    if (part.startsWith('**') && part.endsWith('**') && part.length > 4) fragment.append(el('strong', { text: part.slice(2, -2) }));
    else if (part.startsWith('`') && part.endsWith('`') && part.length > 2) fragment.append(el('code', { text: part.slice(1, -1) }));
    else fragment.append(withLocalTimes(part, at));
  }
  return fragment;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// What the core writes for a time (src/core/clock-text.ts, whose findClockTimes reads the same
// forms for the Discord and Slack adapters; this page cannot import TypeScript):
// "14:05 UTC", or "7 Dec 14:05 UTC" / "7 Dec 2027 14:05 UTC" for another day.
const UTC_TIME = /\b(?:(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?: (\d{4}))? )?(\d{2}):(\d{2}) UTC\b/g;

/**
 * Text with the core's UTC times shown in the viewer's own time, so the page shows times one way
 * (message times are local too); the UTC text stays as the element's title. A time without a
 * date is the next one at or after `at` (deadlines, block ends and budget resets lie ahead of
 * the message that states them).
 */
function withLocalTimes(text, at) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(UTC_TIME)) {
    const when = utcTime(m, at);
    if (when === null) continue;
    fragment.append(document.createTextNode(text.slice(last, m.index)));
    fragment.append(el('time', { datetime: new Date(when).toISOString(), title: m[0], text: localTimeText(when, at) }));
    last = m.index + m[0].length;
  }
  fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

/**
 * An instant in the viewer's own time, the one way this page and the gallery show times: the
 * time alone on the day of `at`, else with the day (and the year when it is another year).
 */
export function localTimeText(when, at) {
  const date = new Date(when);
  const ref = new Date(at);
  if (date.toDateString() === ref.toDateString()) return date.toLocaleString([], { hour: '2-digit', minute: '2-digit' });
  const year = date.getFullYear() === ref.getFullYear() ? {} : { year: 'numeric' };
  return date.toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', ...year, hour: '2-digit', minute: '2-digit' });
}

function utcTime(m, at) {
  const [, day, month, year, hh, mm] = m;
  const ref = new Date(at);
  if (day !== undefined) {
    const when = Date.UTC(year !== undefined ? Number(year) : ref.getUTCFullYear(), MONTHS.indexOf(month), Number(day), Number(hh), Number(mm));
    return Number.isFinite(when) ? when : null;
  }
  for (const offset of [-1, 0, 1]) {
    const when = Date.UTC(ref.getUTCFullYear(), ref.getUTCMonth(), ref.getUTCDate() + offset, Number(hh), Number(mm));
    if (when >= at - 60_000) return when;
  }
  return null;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatTime(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A small notice under a composer: kind is 'info', 'ephemeral' or 'error'. Errors are announced. */
export function showNotice(node, kind, text) {
  if (!node) return;
  node.hidden = !text;
  node.className = `notice ${kind}`;
  node.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  node.replaceChildren();
  if (!text) return;
  if (kind === 'ephemeral') node.append(el('span', { class: 'only-you', text: 'Only you can see this' }), ' ');
  node.append(withLocalTimes(text, Date.now()));
}

export function randomId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Plain http on a LAN address is not a secure context, where randomUUID is missing.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A stable hue for a name, so each person keeps a colour. */
export function hueOf(text) {
  let h = 0;
  for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}
