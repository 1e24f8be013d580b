import http from 'node:http';

/**
 * The browser side of the web chat ack bench, in a process of its own (forked by
 * web-ack-bench.ts) so that sending requests does not count as the server's time. Over IPC it
 * receives a URL and JSON bodies, posts them all at once on keep-alive connections, and answers
 * with each request's time from send to the end of its response.
 */

export interface BurstRequest {
  url: string;
  bodies: unknown[];
}

export interface BurstReply {
  timesMs: number[];
  statuses: number[];
  /** The `thread` field of each JSON response, or null. */
  threads: (string | null)[];
}

// One connection per request in flight, kept open between bursts like a page's connections.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 60_000 });

function threadOf(text: string): string | null {
  try {
    const thread = (JSON.parse(text) as { thread?: unknown }).thread;
    return typeof thread === 'string' ? thread : null;
  } catch {
    return null;
  }
}

function post(url: string, body: unknown): Promise<{ ms: number; status: number; thread: string | null }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        resolve({ ms, status: res.statusCode ?? 0, thread: threadOf(Buffer.concat(chunks).toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

process.on('message', (message: BurstRequest) => {
  void Promise.all(message.bodies.map((body) => post(message.url, body))).then(
    (results) => process.send?.({ timesMs: results.map((r) => r.ms), statuses: results.map((r) => r.status), threads: results.map((r) => r.thread) } satisfies BurstReply),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
