import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SETTING_NAMES, loadConfig } from '../../src/config.ts';
import { parseWorkerArgs } from '../../cli/worker.ts';

/**
 * docker-compose.yml cannot be run here, so it is checked by reading: each dailies service's
 * command parses as the CLI would parse it, its environment is settings the processes know and
 * accept, it has a health check, published ports stay on loopback by default, and the GPU worker
 * asks for its device once.
 */

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[]; start_period?: string };
  ports?: string[];
  runtime?: string;
  build?: unknown;
  deploy?: { resources?: { reservations?: { devices?: unknown[] } } };
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const dailies = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

/** `${NAME:-default}` as compose fills it with nothing set in the shell. */
function interpolate(value: string): string {
  return String(value).replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_, _name: string, fallback?: string) => fallback ?? '');
}

describe('docker-compose.yml, read', () => {
  it('runs the bot, a worker and a GPU worker from the image', () => {
    expect(dailies.map(([name]) => name).sort()).toEqual(['bot', 'gpu-worker', 'worker']);
  });

  it.each(dailies)('%s: its environment is settings dailies knows and accepts', (_name, service) => {
    // Platform tokens are read by their adapters, credentials by the AWS SDK.
    const unknown = Object.keys(service.environment ?? {}).filter((k) => !SETTING_NAMES.includes(k) && !/^(DISCORD|SLACK|AWS)_/.test(k));
    expect(unknown).toEqual([]);
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
    expect(() => loadConfig(env)).not.toThrow();
  });

  it.each(dailies.filter(([name]) => name.includes('worker')))('%s: its command parses, and it serves /health on the port its health check asks', (_name, service) => {
    const [node, cli, sub, ...argv] = service.command!;
    expect([node, cli, sub]).toEqual(['node', 'cli/dailies.js', 'worker']);
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
    const args = parseWorkerArgs(argv, env);
    expect(args).not.toBe('help');
    const metrics = (args as Exclude<typeof args, 'help'>).metrics;
    expect(metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(service.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${metrics!.port}/health`);
  });

  it('checks the bot\'s health on the web chat\'s port and publishes it on loopback unless told otherwise', () => {
    const bot = compose.services.bot!;
    expect(bot.command).toEqual(['node', 'cli/dailies.js', 'bot']);
    expect(bot.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${bot.environment!.PORT}/api/health`);
    for (const service of Object.values(compose.services)) {
      for (const port of service.ports ?? []) expect(interpolate(port)).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('hands the GPU to the GPU worker through a device reservation only', () => {
    const gpu = compose.services['gpu-worker']!;
    expect(gpu.runtime).toBeUndefined();
    expect(gpu.deploy?.resources?.reservations?.devices).toHaveLength(1);
    expect(gpu.command).toContain('--provider');
  });
});
