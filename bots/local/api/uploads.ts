import type { IncomingMessage } from 'node:http';
import { Hono } from 'hono';
import { localUser } from '../local-users.ts';
import { readRequestBytes } from '../request-body.ts';
import { isUploadType, megabytes, type UploadRefusal } from '../upload-image.ts';
import { fail, type ApiContext } from './context.ts';
import { UploadQuery } from './request-schemas.ts';

/**
 * POST /api/uploads?user=<name>: an image to animate, sent as the raw request body with its own
 * type. Raw rather than multipart: image/* is not a type a cross-site form can send without a CORS
 * preflight (which this server never grants), so another page cannot upload as someone, the same
 * guard the JSON-only rule gives every other POST; and there is no multipart parser to trust.
 */
/** The error code each refusal answers with. */
const REFUSAL_CODE: Partial<Record<UploadRefusal['status'], string>> = { 403: 'forbidden', 429: 'rate_limited' };

export function uploadsApi(api: ApiContext): Hono {
  const { uploads } = api.adapter;
  const app = new Hono();

  app.post('/', async (c) => {
    const query = UploadQuery.safeParse(c.req.query());
    if (!query.success) {
      const reason = query.error.issues[0]?.message ?? 'must be a display name';
      return fail(c, 400, 'bad_input', `The uploader ${reason}; add ?user=<your display name> to the address.`);
    }
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!isUploadType(type)) {
      return fail(c, 415, 'bad_input', `Upload a PNG, JPEG or WebP image as the request body with Content-Type image/png, image/jpeg or image/webp, not ${type || 'no type'}.`);
    }
    if (!uploads.enabled) return fail(c, 503, 'unavailable', 'Uploading images is not enabled on this server; send the prompt without an image.');
    const body = await readRequestBytes({ incoming: (c.env as { incoming?: IncomingMessage } | undefined)?.incoming, fetchBytes: () => c.req.arrayBuffer() }, uploads.maxBytes);
    if (body === 'too-large') {
      // The rest of the body is never read; a client must not send its next request on this connection.
      c.header('Connection', 'close');
      return fail(c, 413, 'bad_input', `The image is over the ${megabytes(uploads.maxBytes)} limit; upload a smaller one.`);
    }
    if (body.length === 0) return fail(c, 400, 'bad_input', 'The upload is empty; send the image file as the request body.');
    const saved = await uploads.save(localUser(query.data.user), body);
    if ('status' in saved) return fail(c, saved.status, REFUSAL_CODE[saved.status] ?? 'bad_input', saved.message);
    return c.json(saved, 201);
  });

  return app;
}
