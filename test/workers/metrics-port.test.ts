import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { parseWorkerArgs } from '../../cli/worker.ts';
import { freePort } from '../../src/util/free-port.ts';
import { parsePrometheusText, valueOf } from '../metrics/prometheus-text.ts';
import { TEST_REDIS_URL } from './fixtures/redis-test-env.ts';
import { deleteKeys, waitFor } from '../e2e/stack.ts';

const CLI = fileURLToPath(new URL('../../cli/dailies.js', import.meta.url));

describe('dailies worker --metrics-port', () => {
  it('reads the port from the flag or DAILIES_WORKER_METRICS_PORT and refuses a bad one with a sentence', () => {
    expect(parseWorkerArgs(['--metrics-port', '9464'], {})).toMatchObject({ metrics: { port: 9464, host: '127.0.0.1' } });
    expect(parseWorkerArgs(['--metrics-port', '9464', '--metrics-host', '0.0.0.0'], {})).toMatchObject({ metrics: { port: 9464, host: '0.0.0.0' } });
    expect(parseWorkerArgs([], { DAILIES_WORKER_METRICS_PORT: '9470' })).toMatchObject({ metrics: { port: 9470 } });
    expect(parseWorkerArgs([], {})).not.toHaveProperty('metrics');
    for (const argv of [['--metrics-port', 'x'], ['--metrics-port', '70000'], ['--metrics-host', '0.0.0.0']]) {
      expect(() => parseWorkerArgs(argv, {}), argv.join(' ')).toThrow(DailiesError);
    }
  });

  it('serves /health and /metrics from a running worker process, and stops serving when it stops', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const prefix = `dtest-${randomBytes(5).toString('hex')}`;
    const artifacts = await mkdtemp(join(tmpdir(), 'dailies-metrics-'));
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: TEST_REDIS_URL, DAILIES_PREFIX: prefix, ARTIFACTS_DIR: artifacts, DAILIES_SIGNING_DIR: join(artifacts, 'signing'), DAILIES_FRAME_CHECK: 'off' };
    for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'NODE_OPTIONS') delete env[name];
    const child = spawn(process.execPath, [CLI, 'worker', '--metrics-port', String(port), '--threads', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const health = await waitFor(`the worker's /health (output so far: ${output.slice(-300)})`, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
      }, 90_000, 250);
      expect(health).toMatchObject({ ok: true, model: 'shapes-v2', slots: 1, activeJobs: 0 });

      const samples = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(valueOf(samples, 'dailies_worker_slots', { model: 'shapes-v2', state: 'idle' })).toBe(1);
      expect(samples.some((s) => s.name === 'dailies_worker_process_cpu_seconds_total')).toBe(true);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await deleteKeys(prefix);
      await rm(artifacts, { recursive: true, force: true });
    }
  });
});
