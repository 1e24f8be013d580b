import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsSource {
  text(): Promise<string>;
  contentType: string;
  /** The JSON body of `/health`; `ok: false` answers 503. */
  health(): { ok: boolean } & Record<string, unknown>;
}

/**
 * A worker's own HTTP port: `GET /metrics` (Prometheus text) and `GET /health` (JSON, for compose
 * and orchestrator health checks). Workers have no web server otherwise, and this one must stay
 * up while the worker renders, so it is plain node:http with nothing else on it.
 */
export async function startMetricsServer(source: MetricsSource, opts: { port: number; host: string }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Only GET is served here.\n');
    } else if (path === '/metrics') {
      source.text().then(
        (body) => res.writeHead(200, { 'content-type': source.contentType }).end(body),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`Metrics could not be read: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    } else if (path === '/health') {
      const health = source.health();
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: this port serves /metrics and /health.\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
