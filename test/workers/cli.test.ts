import { describe, expect, it } from 'vitest';
import { DailiesError } from '../../src/errors.ts';
import { engineSpec, parseWorkerArgs, workerName } from '../../cli/worker.ts';

describe('dailies worker options', () => {
  it('pins a GPU with --device: CUDA provider, that device, a worker name that says so', () => {
    const args = parseWorkerArgs(['--device', '1', '--model', '/models/m'], {});
    expect(args).toMatchObject({ deviceId: 1, provider: 'cuda', concurrency: 1, modelDir: '/models/m' });
    const spec = engineSpec(args as Exclude<typeof args, 'help'>);
    expect(spec.exportName).toBe('loadModel');
    expect(spec.module).toMatch(/models\/engine\/load-model\.ts$/);
    expect(spec.args).toEqual(['/models/m', { provider: 'cuda', deviceId: 1, threads: undefined }]);
    expect(workerName(1)).toMatch(/:gpu1:\d+$/);
  });

  it('defaults to the CPU, splitting threads between slots, and reads Redis from the environment', () => {
    const args = parseWorkerArgs(['--concurrency', '2'], { REDIS_URL: 'redis://r:6380' });
    expect(args).toMatchObject({ deviceId: undefined, provider: 'cpu', concurrency: 2, redisUrl: 'redis://r:6380', queueName: 'renders', graceMs: 30_000 });
    const spec = engineSpec(args as Exclude<typeof args, 'help'>);
    expect((spec.args[1] as { threads: number }).threads).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [['--device', 'x']],
    [['--concurrency', '0']],
    [['--provider', 'tpu']],
    [['--device', '0', '--provider', 'cpu']],
    [['--bogus']],
  ])('refuses %j with a sentence', (argv) => {
    expect(() => parseWorkerArgs(argv, {})).toThrow(DailiesError);
  });

  it('answers --help', () => {
    expect(parseWorkerArgs(['--help'], {})).toBe('help');
  });
});
