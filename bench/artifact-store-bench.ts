import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ArtifactStore } from '../src/core/ports/artifact-store.ts';
import { FsArtifactStore } from '../src/storage/fs-artifact-store.ts';
import { parseCliArgs, runIfMain, wholeNumber } from '../src/util/cli-args.ts';
import { stats, writeBenchJson, type Stats } from '../src/util/stats.ts';
import { startS3Server } from '../test/storage/s3-server.ts';

/**
 * `npm run bench:artifacts`: the time to store a final and to read it back, the filesystem store
 * against the S3 store (the AWS SDK client against an S3 API server on this machine, s3rver, so
 * the figure is the store's own cost without a network: add the link's time for a remote bucket).
 *
 * For each size: upload (putFile, multipart above 8 MiB), download (open, streamed as the web
 * chat and the chat uploads read it) and a fresh local copy (localPath after a put, which ffmpeg
 * and the signer use). Sizes: a built-in model's final (about 40 KB), a 10-s clip of a big model
 * (2 MiB), and one over the multipart threshold (12 MiB).
 */

const USAGE = `Usage: npm run bench:artifacts -- [--runs N] [--out FILE]

Times storing and reading back a final with the filesystem store and with the S3 store.
  --runs N      repetitions per size and store (default 10)
  --out FILE    JSON results (default bench-results/artifacts.json)`;

const SIZES = [40 * 1024, 2 * 1024 * 1024, 12 * 1024 * 1024];

interface Row {
  store: 'filesystem' | 's3';
  bytes: number;
  uploadMs: Stats;
  downloadMs: Stats;
  localCopyMs: Stats;
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.byteLength;
  return n;
}

async function measure(name: Row['store'], store: ArtifactStore, source: string, bytes: number, runs: number): Promise<Row> {
  const upload: number[] = [];
  const download: number[] = [];
  const localCopy: number[] = [];
  for (let i = 0; i < runs; i++) {
    const key = `bench/${bytes}/final-${i}.mp4`;
    let t = performance.now();
    const ref = await store.putFile(key, source, 'video/mp4');
    upload.push(performance.now() - t);
    t = performance.now();
    const read = await drain(await store.open(key));
    download.push(performance.now() - t);
    if (read !== bytes) throw new Error(`read ${read} bytes of ${bytes} from the ${name} store`);
    t = performance.now();
    await store.localPath(ref);
    localCopy.push(performance.now() - t);
    await store.delete(key);
  }
  return { store: name, bytes, uploadMs: stats(upload), downloadMs: stats(download), localCopyMs: stats(localCopy) };
}

export async function run(argv: string[]): Promise<number> {
  const values = parseCliArgs(argv, { runs: { type: 'string' }, out: { type: 'string' } }, { command: 'npm run bench:artifacts --' });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = wholeNumber('--runs', values.runs, 10, 1);
  const out = values.out ?? 'bench-results/artifacts.json';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dailies-bench-artifacts-'));
  const s3 = await startS3Server();
  const bucket = await s3.store();
  console.log(`bench-artifacts: ${os.availableParallelism()} cores, load ${os.loadavg()[0]!.toFixed(2)}; ${runs} runs per size; S3 API server at ${s3.endpoint}`);
  try {
    const fs = new FsArtifactStore({ root: path.join(dir, 'store') });
    const rows: Row[] = [];
    for (const bytes of SIZES) {
      const source = path.join(dir, `final-${bytes}.mp4`);
      await writeFile(source, randomBytes(bytes));
      rows.push(await measure('filesystem', fs, source, bytes, runs));
      rows.push(await measure('s3', bucket.store, source, bytes, runs));
    }
    const size = (n: number) => (n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`);
    const cell = (s: Stats) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`;
    console.log(`\n${'size'.padEnd(9)}${'store'.padEnd(12)}${'upload p50/p99 ms'.padStart(20)}${'download p50/p99 ms'.padStart(22)}${'local copy p50/p99 ms'.padStart(24)}`);
    for (const r of rows) console.log(`${size(r.bytes).padEnd(9)}${r.store.padEnd(12)}${cell(r.uploadMs).padStart(20)}${cell(r.downloadMs).padStart(22)}${cell(r.localCopyMs).padStart(24)}`);
    await writeBenchJson(out, { measuredAt: new Date().toISOString(), host: { cores: os.availableParallelism(), loadAvg1m: os.loadavg()[0], node: process.version }, runs, rows });
    console.log(`\nwrote ${out}`);
    return 0;
  } finally {
    await bucket.cleanup();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, run);
