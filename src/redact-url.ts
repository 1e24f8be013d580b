/**
 * URLs as the program may print them: the user name and password (whatever stands between
 * "scheme://", or the start when there is no scheme, and the last "@") become "***", so an error
 * or log line never leaks a credential. Works on strings that are not valid URLs too, since those
 * are exactly the ones that end up in error messages; a "@" later in the path costs some of the
 * path, never a secret.
 */
export function redactUrl(url: string): string {
  if (!url.includes('@')) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//iu.exec(url)?.[0] ?? '';
  return `${scheme}***@${url.slice(url.lastIndexOf('@') + 1)}`;
}
