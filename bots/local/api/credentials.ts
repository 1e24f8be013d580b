import { Hono } from 'hono';
import { credentialsBody, type CredentialsChecker } from '../credentials.ts';
import { fail } from './context.ts';

const PREFIX = '/api/credentials/';

/**
 * GET /api/credentials/<key>: the Content Credentials of the file served at /artifacts/<key>,
 * as `{state, problems, issuer, signedAt, generator, credits, text}`. 404 for no such file, 415
 * for a file that is not an MP4, 413 for one over the size cap.
 */
export function credentialsApi(checker: CredentialsChecker): Hono {
  const app = new Hono();
  app.get('/*', async (c) => {
    const pathname = new URL(c.req.url).pathname;
    if (!pathname.startsWith(PREFIX)) return fail(c, 404, 'not_found', 'There is no such file.');
    const found = await checker.check(pathname.slice(PREFIX.length));
    if (!found.ok) return fail(c, found.status, found.code, found.message);
    c.header('Cache-Control', 'no-cache');
    return c.json(credentialsBody(found.report));
  });
  return app;
}
