import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { CredentialsReport } from '../../src/provenance/index.ts';
import type { LineageEntry } from '../../src/provenance/credits.ts';
import type { CredentialsChecker } from './credentials.ts';

/**
 * GET /credentials/<key>: the Content Credentials of the file served at /artifacts/<key> as a
 * small page, for people who follow a link from Discord or Slack. Rendered on the server with no
 * script; every value comes from the file, which anyone may have crafted, so each one is
 * HTML-escaped and its control and bidi-override characters are shown as escapes (as
 * `dailies verify` prints them), and the page's CSP allows no script at all.
 */

const PREFIX = '/credentials/';

const STYLE = `
:root { color-scheme: light dark; --text: #1d1f24; --muted: #646b78; --line: #e3e5ea; --bg: #f7f7f9; --pane: #fff;
  --ok: #1f8a4c; --ok-bg: #e7f5ec; --bad: #c93c3c; --bad-bg: #fdecec; --none: #646b78; --none-bg: #eef0f4; }
@media (prefers-color-scheme: dark) { :root { --text: #e6e8ee; --muted: #9aa1b0; --line: #2c3039; --bg: #15171d; --pane: #1b1e25;
  --ok: #5fd08e; --ok-bg: #17301f; --bad: #ff8c8c; --bad-bg: #3a1f22; --none: #9aa1b0; --none-bg: #262a34; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--text); background: var(--bg); }
main { max-width: 720px; margin: 0 auto; padding: 24px 18px 48px; background: var(--pane); min-height: 100vh; }
.brand { margin: 0 0 12px; font-size: 13px; color: var(--muted); font-weight: 600; }
h1 { margin: 0 0 4px; font-size: 22px; overflow-wrap: anywhere; }
h2 { margin: 24px 0 8px; font-size: 16px; }
.file { margin: 0 0 16px; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.banner { border-radius: 10px; padding: 12px 14px; border: 1px solid currentColor; }
.banner p { margin: 0; }
.banner ul { margin: 8px 0 0; padding-left: 20px; }
.banner.trusted, .banner.valid { color: var(--ok); background: var(--ok-bg); }
.banner.invalid { color: var(--bad); background: var(--bad-bg); }
.banner.absent { color: var(--none); background: var(--none-bg); }
.claimed { font-weight: 700; color: var(--bad); }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 16px; margin: 16px 0 0; }
dt { font-weight: 600; color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
ol, ul { padding-left: 22px; }
li { margin: 4px 0; overflow-wrap: anywhere; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; }
video { display: block; max-width: 100%; max-height: 360px; border-radius: 8px; background: #000; margin-top: 8px; }
a { color: inherit; }
`;

/**
 * The Content-Security-Policy of a page rendered on the server with no script: its one inline
 * style (by hash), media and images from this origin, nothing else (the gallery uses it too).
 */
export function scriptlessPageCsp(style: string): string {
  return [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`,
    "media-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const CSP = scriptlessPageCsp(STYLE);

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// The same characters format-report.ts shows as escapes: C0/C1 controls, line and paragraph
// separators, bidi embeddings, overrides and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text from the file, made safe to put in HTML (content or a quoted attribute). */
export function html(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Text that may be written in a right-to-left script, isolated so it cannot reorder what is around it. */
const bdi = (text: string) => `<bdi>${html(text)}</bdi>`;

const BANNER: Record<CredentialsReport['state'], [label: string, sentence: string]> = {
  trusted: ['Trusted', 'This video is unchanged since it was signed, by a certificate from a CA this server trusts.'],
  valid: ['Valid', 'This video is unchanged since it was signed. The signer was not matched to a CA this server trusts.'],
  invalid: ['Invalid', 'This video carries Content Credentials that do not hold up:'],
  absent: ['No Content Credentials', 'This file carries no Content Credentials.'],
};

/** "v2 "prompt" (avoiding "blurry") by Bo, from v1#2 (added 'slowly')", as `dailies verify` prints it. */
function lineageItem(entry: LineageEntry): string {
  const from = entry.parent ? `, from v${entry.parent.version}${entry.parent.take !== undefined ? `#${entry.parent.take}` : ''}` : '';
  const avoid = entry.negativePrompt ? ` (avoiding "${bdi(entry.negativePrompt)}")` : '';
  const change = entry.change ? ` (${bdi(entry.change)})` : '';
  return `<li><strong>v${entry.version}</strong> "${bdi(entry.prompt)}"${avoid} by ${bdi(entry.author.name)}${from}${change}</li>`;
}

function row(label: string, value: string | null): string {
  return value === null ? '' : `<dt>${label}</dt><dd>${value}</dd>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">dailies · Content Credentials</p>
${body}
</main>
</body>
</html>
`;
}

export function renderCredentialsPage(found: { url: string; filename: string; report: CredentialsReport }): string {
  const { report, url, filename } = found;
  const credits = report.credits;
  const [label, sentence] = BANNER[report.state];
  const parts: string[] = [];
  parts.push(`<h1>${bdi(credits?.title ?? filename)}</h1>`);
  parts.push(`<p class="file">${html(filename)}</p>`);
  const problems = report.problems.length > 0 ? `<ul>${report.problems.map((p) => `<li>${html(p)}</li>`).join('')}</ul>` : '';
  parts.push(`<section class="banner ${report.state}" aria-label="Verdict"><p><strong>${label}.</strong> ${sentence}</p>${problems}</section>`);

  if (report.state !== 'absent') {
    if (report.state === 'invalid') parts.push('<p class="claimed">What the file claims (not verified):</p>');
    const software = credits ? `${html(credits.software.name)} ${html(credits.software.version)}` : report.generator !== null ? html(report.generator) : null;
    parts.push(
      '<dl>' +
        row('Software', software) +
        row('Model', credits ? `${bdi(credits.model.name)} <code title="SHA-256 of the weights">${html(credits.model.weightsSha256.slice(0, 12))}…</code>` : null) +
        row('This video', credits ? `v${credits.take.version}, take ${credits.take.take}` : null) +
        row('Signed by', html(report.issuer ?? 'unknown')) +
        row('Signed at', report.signedAt !== null ? `<time datetime="${html(report.signedAt)}">${html(report.signedAt)}</time>` : null) +
        '</dl>',
    );
    if (credits) {
      parts.push(`<h2 id="lineage">Lineage</h2><ol aria-labelledby="lineage" class="lineage">${credits.lineage.map(lineageItem).join('')}</ol>`);
      const heading = credits.anonymous ? 'Contributors (published without names)' : 'Contributors';
      const people = credits.contributors.length === 0
        ? '<li>(none listed)</li>'
        : credits.contributors.map(({ person, roles }) => `<li>${bdi(person.name)}: ${roles.map(html).join(', ')}</li>`).join('');
      parts.push(`<h2 id="contributors">${heading}</h2><ul aria-labelledby="contributors" class="contributors">${people}</ul>`);
    } else {
      parts.push('<p>There are no dailies credits (lineage, contributors) in these Content Credentials.</p>');
    }
  }

  parts.push(`<h2>Video</h2><video src="${html(url)}" controls muted playsinline preload="metadata" aria-label="Video ${html(filename)}"></video>`);
  parts.push(`<p><a href="${html(url)}">Open the video (${html(filename)})</a></p>`);
  return page(`Content Credentials · ${html(credits?.title ?? filename)} · dailies`, parts.join('\n'));
}

export function renderCredentialsError(message: string): string {
  return page('Content Credentials · dailies', `<h1>Content Credentials</h1>\n<section class="banner absent"><p>${html(message)}</p></section>`);
}

/** GET /credentials/<key>. */
export function credentialsPageRoute(checker: CredentialsChecker) {
  return async (c: Context) => {
    c.header('Content-Security-Policy', CSP);
    c.header('Cache-Control', 'no-cache');
    const pathname = new URL(c.req.url).pathname;
    const found = pathname.startsWith(PREFIX) ? await checker.check(pathname.slice(PREFIX.length)) : null;
    if (!found) return c.html(renderCredentialsError('There is no such file.'), 404);
    if (!found.ok) return c.html(renderCredentialsError(found.message), found.status);
    return c.html(renderCredentialsPage(found));
  };
}
