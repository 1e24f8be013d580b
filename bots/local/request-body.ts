import type { IncomingMessage } from 'node:http';

/**
 * Reads a POST body of at most `maxBytes`. Served by @hono/node-server, it reads Node's own request
 * stream: asking Hono for `c.req.text()` (or for `body`, as hono/body-limit does) makes the adapter
 * build a full WHATWG Request with an AbortController and a web stream first, which was the largest
 * single cost of answering a command through the web chat (about a fifth of the CPU in a burst).
 * Elsewhere (`app.request` in a test) it reads the Fetch API request.
 *
 * 'too-large' when the declared length or the bytes read pass the limit; the rest is left unread,
 * so the caller must close the connection.
 */
export async function readRequestBody(source: { incoming?: IncomingMessage; fetchText: () => Promise<string> }, maxBytes: number): Promise<string | 'too-large'> {
  const { incoming } = source;
  if (!incoming) {
    const text = await source.fetchText();
    return Buffer.byteLength(text) > maxBytes ? 'too-large' : text;
  }
  const bytes = await readIncoming(incoming, maxBytes);
  return bytes === 'too-large' ? bytes : bytes.toString('utf8');
}

/** The same for a binary body (an image upload). */
export async function readRequestBytes(source: { incoming?: IncomingMessage; fetchBytes: () => Promise<ArrayBuffer> }, maxBytes: number): Promise<Buffer | 'too-large'> {
  if (source.incoming) return readIncoming(source.incoming, maxBytes);
  const bytes = Buffer.from(await source.fetchBytes());
  return bytes.length > maxBytes ? 'too-large' : bytes;
}

function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  const declared = Number(incoming.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        incoming.off('data', onData);
        incoming.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    incoming.on('data', onData);
    incoming.once('end', () => resolve(Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}
