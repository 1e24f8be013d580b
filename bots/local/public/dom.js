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
export function formatText(text) {
  const fragment = document.createDocumentFragment();
  for (const part of String(text).split(/(\*\*[^*\n]+\*\*|`[^`\n]+`)/)) {
    if (!part) continue;
    if (part.startsWith('**') && part.endsWith('**') && part.length > 4) fragment.append(el('strong', { text: part.slice(2, -2) }));
    else if (part.startsWith('`') && part.endsWith('`') && part.length > 2) fragment.append(el('code', { text: part.slice(1, -1) }));
    else fragment.append(document.createTextNode(part));
  }
  return fragment;
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
  node.append(document.createTextNode(text));
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
