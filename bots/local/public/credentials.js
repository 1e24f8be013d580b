import { request } from './api.js';
import { el } from './dom.js';

// "Content Credentials" under a signed attachment: a toggle that reads GET /api/credentials/<key>
// once and shows the verdict, the lineage and the contributors in place. Every value comes from
// the file, which anyone may have crafted: it goes in as text, with control and bidi-override
// characters shown as escapes (as `dailies verify` prints them).

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const safe = (text) => String(text ?? '').replace(UNSAFE, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
/** File text in its own bidi isolate, so a right-to-left name cannot reorder what is around it. */
const bdi = (text) => el('bdi', { text: safe(text) });

const VERDICT = {
  trusted: ['Trusted', 'Unchanged since it was signed, by a certificate from a CA this server trusts.'],
  valid: ['Valid', 'Unchanged since it was signed; the signer was not matched to a CA this server trusts.'],
  invalid: ['Invalid', 'These Content Credentials do not hold up:'],
  absent: ['No Content Credentials', 'This file carries none.'],
};

let panels = 0;

/** `/artifacts/<key>` → the same key under `prefix` (`/api/credentials/` or `/credentials/`). */
function sameKey(url, prefix) {
  return String(url).startsWith('/artifacts/') ? prefix + String(url).slice('/artifacts/'.length) : null;
}

/** The toggle and its panel for one attachment view with `signed: true`, or null when its URL is not a local file. */
export function renderCredentials(attachment) {
  const api = sameKey(attachment.url, '/api/credentials/');
  if (!api) return null;
  const id = `credentials-${++panels}`;
  const panel = el('div', { class: 'credentials', id, hidden: true });
  let loaded = false;
  const toggle = el(
    'button',
    {
      type: 'button',
      class: 'credentials-toggle',
      'aria-expanded': 'false',
      'aria-controls': id,
      onclick: async () => {
        if (toggle.getAttribute('aria-expanded') === 'true') {
          toggle.setAttribute('aria-expanded', 'false');
          panel.hidden = true;
          return;
        }
        toggle.setAttribute('aria-expanded', 'true');
        panel.hidden = false;
        if (loaded || toggle.getAttribute('aria-busy') === 'true') return;
        toggle.setAttribute('aria-busy', 'true');
        panel.replaceChildren(el('p', { class: 'cr-loading', role: 'status', text: 'Reading the Content Credentials…' }));
        const { ok, body } = await request('GET', api);
        toggle.removeAttribute('aria-busy');
        if (ok) {
          loaded = true;
          panel.replaceChildren(...renderReport(body, sameKey(attachment.url, '/credentials/')));
        } else {
          // Not kept: the next click asks again.
          panel.replaceChildren(el('p', { class: 'cr-error', role: 'alert', text: body.error?.message ?? 'The Content Credentials could not be read.' }));
        }
      },
    },
    el('span', { class: 'cr-mark', 'aria-hidden': 'true', text: 'cr' }),
    'Content Credentials',
  );
  return el('div', { class: 'credentials-holder' }, toggle, panel);
}

function renderReport(report, pageUrl) {
  const state = VERDICT[report.state] ? report.state : 'invalid';
  const [label, sentence] = VERDICT[state];
  const nodes = [
    el('p', { class: `cr-state ${state}`, role: 'status', dataset: { state } }, el('strong', { text: `${label}.` }), ' ', sentence),
  ];
  if (report.problems?.length) nodes.push(el('ul', { class: 'cr-problems' }, report.problems.map((p) => el('li', { text: safe(p) }))));
  if (state === 'absent') return nodes;
  if (state === 'invalid') nodes.push(el('p', { class: 'cr-claimed', text: 'What the file claims (not verified):' }));

  const credits = report.credits;
  const facts = [];
  const fact = (term, ...value) => facts.push(el('dt', { text: term }), el('dd', {}, ...value));
  if (credits) {
    fact('Title', bdi(credits.title));
    fact('Software', safe(`${credits.software.name} ${credits.software.version}`));
    fact('Model', bdi(credits.model.name));
    fact('This video', `v${credits.take.version}, take ${credits.take.take}`);
  } else if (report.generator) {
    fact('Software', safe(report.generator));
  }
  fact('Signed by', safe(report.issuer ?? 'unknown'));
  if (report.signedAt) fact('Signed at', el('time', { datetime: safe(report.signedAt), text: safe(report.signedAt) }));
  nodes.push(el('dl', { class: 'cr-facts' }, facts));

  if (credits) {
    nodes.push(el('p', { class: 'cr-heading', id: `${nextId()}`, text: 'Lineage' }));
    nodes.push(el('ol', { class: 'cr-lineage', 'aria-labelledby': nodes.at(-1).id }, credits.lineage.map(lineageItem)));
    nodes.push(el('p', { class: 'cr-heading', id: `${nextId()}`, text: credits.anonymous ? 'Contributors (published without names)' : 'Contributors' }));
    nodes.push(
      el(
        'ul',
        { class: 'cr-contributors', 'aria-labelledby': nodes.at(-1).id },
        credits.contributors.length === 0
          ? el('li', { text: '(none listed)' })
          : credits.contributors.map(({ person, roles }) => el('li', {}, bdi(person.name), `: ${roles.map(safe).join(', ')}`)),
      ),
    );
  } else {
    nodes.push(el('p', { text: 'No dailies credits (lineage, contributors) in these Content Credentials.' }));
  }
  if (pageUrl) nodes.push(el('p', { class: 'cr-page' }, el('a', { href: pageUrl, target: '_blank', rel: 'noopener', text: 'Open the Content Credentials page' })));
  return nodes;
}

/** v2 "prompt" (avoiding "blurry") by Bo, from v1#2 (added 'slowly'), as `dailies verify` prints it. */
function lineageItem(entry) {
  const parent = entry.parent ? `, from v${entry.parent.version}${entry.parent.take !== undefined ? `#${entry.parent.take}` : ''}` : '';
  return el(
    'li',
    {},
    el('strong', { text: `v${entry.version}` }),
    ' "',
    bdi(entry.prompt),
    '"',
    entry.negativePrompt ? [' (avoiding "', bdi(entry.negativePrompt), '")'] : null,
    ' by ',
    bdi(entry.author?.name),
    parent,
    entry.change ? [' (', bdi(entry.change), ')'] : null,
  );
}

let ids = 0;
function nextId() {
  return `cr-heading-${++ids}`;
}
