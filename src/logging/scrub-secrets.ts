/**
 * Blanks credentials out of text about to be written: the last guard of every log line, after
 * the logger's key-based redaction, because a token also travels inside strings nobody keyed
 * (an error message quoting a URL, a library's debug line, a stack trace).
 */

const CENSOR = '[redacted]';

// Each pattern keeps what names the credential and blanks the credential itself.
const PATTERNS: [RegExp, string][] = [
  // user:password@ in any scheme://… URL (redis, rediss, http, s3, …).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi, '$1***@'],
  // Slack bot, user and app-level tokens.
  [/\bxox[abposr]-[A-Za-z0-9-]+/g, 'xox?-[redacted]'],
  [/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]'],
  // Discord bot tokens: base64 user id, timestamp, HMAC.
  [/\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}/g, CENSOR],
  // HTTP Authorization values as libraries print them.
  [/\b(Bearer|Bot|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${CENSOR}`],
];

/**
 * A function that replaces every literal secret (values shorter than 8 characters are skipped:
 * they would blank ordinary words) and every credential-shaped token or URL password in `text`.
 */
export function secretScrubber(secrets: readonly string[]): (text: string) => string {
  // Longest first, so that a secret containing another is blanked whole.
  const literals = [...new Set(secrets)].filter((s) => s.length >= 8).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of literals) if (out.includes(secret)) out = out.split(secret).join(CENSOR);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}
