import { defineConfig } from 'vitest/config';

// Integration tests share one real Redis and spawn ffmpeg/onnxruntime; two cores is the
// design machine, so files run in a small fork pool and every test names its own Redis keys.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'bots/**/*.test.ts', 'models/**/*.test.ts', 'commands/**/*.test.ts', 'workers/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits on real processes (a browser, a worker, Redis) that share the two cores
    // with the other test file; its 1 s default failed a browser check under CI load. A poll still
    // fails when the state never arrives, only later.
    expect: { poll: { timeout: 10_000 } },
  },
});
