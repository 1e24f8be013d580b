import type { CredentialsReport } from './read-credentials.ts';

/**
 * A report as people read it: `dailies verify` prints it, and the chat surfaces post it. Every
 * string in a report comes from the file being checked, which anyone may have crafted, so
 * control and bidi-override characters are shown as escapes rather than passed to a terminal
 * or a chat client that would act on them.
 */

export interface FormatOptions {
  /** Clip each prompt to this many characters (chat messages have size limits); default: whole. */
  clipPrompts?: number;
}

const HEADLINE: Record<CredentialsReport['state'], string> = {
  trusted: 'trusted: unchanged since it was signed, by a certificate from a CA you trust',
  valid: 'valid: unchanged since it was signed (the signer was not matched to a CA you trust)',
  invalid: 'INVALID',
  absent: 'none: this file carries no Content Credentials',
};

export function formatReport(report: CredentialsReport, options: FormatOptions = {}): string {
  const lines = [`Content Credentials: ${HEADLINE[report.state]}`];
  for (const problem of report.problems) lines.push(`  - ${safe(problem)}`);
  if (report.state === 'absent') return lines.join('\n');
  if (report.state === 'invalid') lines.push('What the file claims (not verified):');

  lines.push(`signed by: ${safe(report.issuer ?? 'unknown')}`);
  if (report.signedAt) lines.push(`signed at: ${safe(report.signedAt)}`);
  lines.push(`software agent: ${safe(report.generator ?? 'unknown')}`);
  const credits = report.credits;
  if (!credits) {
    lines.push('credits: none from dailies in this manifest');
    return lines.join('\n');
  }
  lines.push(`model: ${safe(credits.model.name)} (weights sha256 ${safe(credits.model.weightsSha256)})`);
  lines.push(`this video: v${credits.take.version} take ${credits.take.take}`);

  const quote = (text: string) => `"${safe(clip(text, options.clipPrompts))}"`;
  lines.push('lineage:');
  for (const entry of credits.lineage) {
    const from = entry.parent ? `, from v${entry.parent.version}${entry.parent.take !== undefined ? `#${entry.parent.take}` : ''}` : '';
    const avoid = entry.negativePrompt ? ` (avoiding ${quote(entry.negativePrompt)})` : '';
    const change = entry.change ? ` (${safe(entry.change)})` : '';
    lines.push(`  v${entry.version} ${quote(entry.prompt)}${avoid} by ${safe(entry.author.name)}${from}${change}`);
  }
  lines.push(credits.anonymous ? 'contributors (published without names):' : 'contributors:');
  if (credits.contributors.length === 0) lines.push('  (none listed)');
  for (const { person, roles } of credits.contributors) lines.push(`  ${safe(person.name)}: ${roles.join(', ')}`);
  return lines.join('\n');
}

function clip(text: string, max: number | undefined): string {
  if (max === undefined) return text;
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

// C0/C1 controls (terminal escapes), line and paragraph separators, and bidi embeddings,
// overrides and isolates (which can make text display in an order other than it is stored).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function safe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
