import { DailiesError } from '../errors.ts';

// Keys are relative paths of plain segments. Segments may not start with '.', which rules out
// '.' and '..' and keeps keys apart from the filesystem store's temporary files (they start with
// '.'). Every store checks keys the same way, so a key valid on disk is valid in a bucket.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const MAX_KEY = 512;

/** The "/"-separated parts of `key`; throws DailiesError('bad_input') naming the key for one that could escape its store. */
export function artifactKeySegments(key: string): string[] {
  const parts = key.split('/');
  if (key.length > MAX_KEY || !parts.every((p) => SEGMENT.test(p))) {
    throw new DailiesError(
      'bad_input',
      `The artifact key "${key.slice(0, 80)}" is not allowed; use letters, digits, ".", "-" and "_" in "/"-separated parts that do not start with ".".`,
    );
  }
  return parts;
}

/** The segments of a folder prefix ("renders/j1/"): valid key segments followed by "/"; throws DailiesError('bad_input') otherwise. */
export function artifactPrefixSegments(prefix: string): string[] {
  const problem = new DailiesError(
    'bad_input',
    `The artifact prefix "${prefix.slice(0, 80)}" is not allowed; use a folder of "/"-separated parts ending in "/", each of letters, digits, ".", "-" and "_" not starting with ".".`,
  );
  if (!prefix.endsWith('/')) throw problem;
  try {
    return artifactKeySegments(prefix.slice(0, -1));
  } catch {
    throw problem;
  }
}

/** The URL path the web chat serves `key` under (`/artifacts/<key>`), each part percent-encoded. */
export function artifactPublicUrl(publicPrefix: string, key: string): string {
  return `${publicPrefix.replace(/\/+$/, '')}/${artifactKeySegments(key).map(encodeURIComponent).join('/')}`;
}
