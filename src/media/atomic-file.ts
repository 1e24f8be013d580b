import { randomBytes } from 'node:crypto';
import { mkdir, rm, rename } from 'node:fs/promises';
import path from 'node:path';

/**
 * Lets `write` produce a file at a temporary sibling path, then renames it onto `target`.
 * Readers (chat uploads, the web gallery) therefore see either no file or a whole one: on any
 * failure or abort the temporary file is removed and `target` is left as it was.
 */
export async function writeAtomically<T>(target: string, write: (tmpPath: string) => Promise<T>): Promise<T> {
  const finalPath = path.resolve(target);
  await mkdir(path.dirname(finalPath), { recursive: true });
  // Same directory as the target so the rename never crosses filesystems (which would copy).
  const tmpPath = `${finalPath}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const result = await write(tmpPath);
    await rename(tmpPath, finalPath);
    return result;
  } catch (err) {
    await rm(tmpPath, { force: true });
    throw err;
  }
}
