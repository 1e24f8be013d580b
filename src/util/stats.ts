import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Summaries the command benches print and write, rounded to 0.1 ms. */

export interface Stats {
  p50: number;
  p99: number;
  mean: number;
  max: number;
  n: number;
}

export function stats(values: number[]): Stats {
  if (!values.length) return { p50: NaN, p99: NaN, mean: NaN, max: NaN, n: 0 };
  return {
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    mean: round(values.reduce((a, b) => a + b, 0) / values.length),
    max: round(Math.max(...values)),
    n: values.length,
  };
}

/** Nearest-rank, as the pool bench computes it. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** One right-aligned table cell. */
export function fmt(x: number): string {
  return x.toFixed(1).padStart(8);
}

/** The machine a command bench ran on, as its JSON records it. */
export function benchHost(): { cores: number; loadAvg1m: number; node: string } {
  return { cores: os.availableParallelism(), loadAvg1m: round(os.loadavg()[0] ?? 0), node: process.version };
}

/** Writes a bench's results as indented JSON, creating its folder. */
export async function writeBenchJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
