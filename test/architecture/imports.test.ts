import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every import points inward: entry points (cli/) and benchmarks (bench/) may use anything; the
 * library (src/) never reaches out to them, to the adapters (bots/) or the worker (workers/);
 * the core and the commands see no platform library and no implementation of a port; shipped
 * code never imports the tests. A failure lists each offending `file -> import`.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['src', 'cli', 'bench', 'bots', 'workers', 'models', 'commands', 'test'];
const SKIPPED_DIRS = new Set(['node_modules', 'train', 'fixtures-data']);

export interface Import {
  /** Repo-relative path of the importing file, with forward slashes. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** Repo-relative path of the imported file for a relative specifier; otherwise undefined. */
  target?: string;
  /** Package name for a bare specifier (`@slack/bolt`, `ioredis`); node: builtins are `node:…`. */
  pkg?: string;
  /** Loaded with `import('…')`. */
  dynamic?: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|js|mjs|cjs)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

// Static `import … from '…'`, `export … from '…'`, side-effect `import '…'`, dynamic `import('…')`,
// and module URLs handed to threads or child processes: `new URL('./x.ts', import.meta.url)`.
const DYNAMIC_IMPORT = /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
const PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\s+from\s+['"]([^'"]+)['"]/g,
  /\bimport\s+['"]([^'"]+)['"]/g,
  DYNAMIC_IMPORT,
  /\bnew\s+URL\(\s*['"](\.{1,2}\/[^'"]+\.(?:ts|js|mjs))['"]\s*,\s*import\.meta\.url\s*\)/g,
];

/** Comments are blanked first so that an example in a doc comment is not an import. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export function importsOf(file: string, text: string): Import[] {
  const code = stripComments(text);
  const found: Import[] = [];
  for (const pattern of PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) {
        found.push({ file, specifier, target: path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) });
      } else if (specifier.startsWith('node:')) {
        found.push({ file, specifier, pkg: specifier });
      } else {
        const parts = specifier.split('/');
        found.push({ file, specifier, pkg: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!, ...(pattern === DYNAMIC_IMPORT && { dynamic: true }) });
      }
    }
  }
  return found;
}

const under = (p: string | undefined, ...dirs: string[]) => p !== undefined && dirs.some((d) => p === d || p.startsWith(`${d}/`));

const PLATFORM_LIBRARIES = ['discord.js', 'bullmq', 'ioredis', 'onnxruntime-node', 'fluent-ffmpeg', 'hono', 'pino', 'pino-pretty', 'prom-client'];
const isPlatformLibrary = (pkg: string | undefined) =>
  pkg !== undefined && (PLATFORM_LIBRARIES.includes(pkg) || pkg.startsWith('@slack/') || pkg.startsWith('@hono/') || pkg.startsWith('@aws-sdk/') || pkg.startsWith('@bull-board/'));

export interface Rule {
  name: string;
  /** True when `imp` breaks the rule. */
  breaks(imp: Import): boolean;
}

/**
 * `dailies bench` and `dailies bench-pool` are subcommands of the one `dailies` command, so its
 * dispatch table loads them (lazily, by dynamic import); nothing else outside bench/ may.
 */
const BENCH_LOADERS = new Set(['cli/main.ts']);

export const RULES: Rule[] = [
  {
    name: 'src/core and commands/ use no platform library and no implementation (bots, workers, models, cli, bench, test, src/queue, src/storage, src/media, src/redis, src/logging, src/metrics)',
    breaks: (i) =>
      under(i.file, 'src/core', 'commands') &&
      (isPlatformLibrary(i.pkg) || under(i.target, 'bots', 'workers', 'models', 'cli', 'bench', 'test', 'src/queue', 'src/storage', 'src/media', 'src/redis', 'src/logging', 'src/metrics')),
  },
  {
    name: 'nothing outside test/ and bench/ imports test/',
    breaks: (i) => !under(i.file, 'test', 'bench') && under(i.target, 'test'),
  },
  {
    name: 'src/ imports nothing from cli/, bench/, bots/ or workers/',
    breaks: (i) => under(i.file, 'src') && under(i.target, 'cli', 'bench', 'bots', 'workers'),
  },
  {
    name: 'nothing outside bench/ and test/ imports bench/ (but the `dailies` dispatch table, cli/main.ts)',
    breaks: (i) => !under(i.file, 'bench', 'test') && !BENCH_LOADERS.has(i.file) && under(i.target, 'bench'),
  },
  {
    name: 'fluent-ffmpeg only from src/media/',
    breaks: (i) => i.pkg === 'fluent-ffmpeg' && !under(i.file, 'src/media'),
  },
  {
    // One logger configuration (level, redaction, format) for every process: the rest ask src/logging for it.
    name: 'pino and pino-pretty only from src/logging/',
    breaks: (i) => (i.pkg === 'pino' || i.pkg === 'pino-pretty') && !under(i.file, 'src/logging'),
  },
  {
    // Metric names, buckets and labels are defined in one place; the core counts through its CoreMetrics port.
    name: 'prom-client only from src/metrics/',
    breaks: (i) => i.pkg === 'prom-client' && !under(i.file, 'src/metrics'),
  },
  {
    // Adapters, workers and the web chat reach the bucket through the ArtifactStore seam only.
    name: 'the AWS SDK (@aws-sdk/*) only from src/storage/',
    breaks: (i) => i.pkg?.startsWith('@aws-sdk/') === true && !under(i.file, 'src/storage'),
  },
  {
    // The queue dashboard loads it on its first authorised request; a bot without DAILIES_ADMIN_TOKEN never does.
    name: 'bull-board (@bull-board/*) only from bots/local/admin-queues.ts, and only by dynamic import',
    breaks: (i) => i.pkg?.startsWith('@bull-board/') === true && (i.file !== 'bots/local/admin-queues.ts' || !i.dynamic),
  },
];

/** Every violation as `rule: file -> import`. */
export function violations(imports: Import[], rules: Rule[] = RULES): string[] {
  return rules.flatMap((rule) => imports.filter((i) => rule.breaks(i)).map((i) => `${rule.name}: ${i.file} -> ${i.specifier}`));
}

// This file's own examples of wrong imports are strings, not imports.
const SELF = 'test/architecture/imports.test.ts';
const ALL = SCANNED.filter((dir) => existsSync(path.join(ROOT, dir)))
  .flatMap(sourceFiles)
  .filter((file) => file !== SELF)
  .flatMap((file) => importsOf(file, readFileSync(path.join(ROOT, file), 'utf8')));

describe('imports point inward', () => {
  it('scans the code it is meant to', () => {
    const files = new Set(ALL.map((i) => i.file));
    for (const file of ['src/core/app.ts', 'cli/main.ts', 'bench/pool-bench.ts', 'commands/video.ts', 'bots/local/server.ts', 'workers/worker.ts']) {
      expect(files.has(file), file).toBe(true);
    }
    expect(ALL.some((i) => i.file === 'cli/main.ts' && i.target === 'cli/start.ts'), 'dynamic imports are seen').toBe(true);
  });

  it('no import points the wrong way', () => {
    const found = violations(ALL);
    expect(found, `imports pointing the wrong way:\n${found.join('\n')}`).toEqual([]);
  });

  it('catches each kind of wrong import (the scanner and rules can fail)', () => {
    const BULL_BOARD = RULES.find((rule) => rule.name.startsWith('bull-board'))!.name;
    const bad = [
      ...importsOf('src/core/app.ts', "import { Client } from 'discord.js';\nconst q = await import('../queue/bullmq-job-queue.ts');"),
      ...importsOf('commands/video.ts', "import type { X } from '../bots/local/server.ts';"),
      ...importsOf('bots/local/server.ts', "export { fake } from '../../test/core/fakes/fake-queue.ts';"),
      ...importsOf('src/queue/fair-share.ts', "import '../../cli/start.ts';"),
      ...importsOf('workers/worker.ts', "const url = new URL('../bench/pool-bench.ts', import.meta.url);"),
      ...importsOf('models/engine/pixels.ts', "import ffmpeg from 'fluent-ffmpeg';"),
      ...importsOf('src/core/delivery.ts', "import { pino } from 'pino';\nimport { processLogger } from '../logging/logger.ts';"),
      ...importsOf('bots/slack/bolt-logger.ts', "import type { Logger } from 'pino';"),
      // Comments are not imports.
      ...importsOf('src/core/text.ts', "// import { Client } from 'discord.js';\n/* import('../../bots/x.ts') */"),
      ...importsOf('src/core/artifacts.ts', "import { S3Client } from '@aws-sdk/client-s3';"),
      ...importsOf('bots/local/artifact-files.ts', "const { Upload } = await import('@aws-sdk/lib-storage');"),
      ...importsOf('src/core/app.ts', "import { Counter } from 'prom-client';"),
      ...importsOf('workers/worker.ts', "import { Histogram } from 'prom-client';"),
      ...importsOf('bots/local/http-api.ts', "const { HonoAdapter } = await import('@bull-board/hono');"),
      ...importsOf('bots/local/admin-queues.ts', "import { createBullBoard } from '@bull-board/api';\nconst { BullMQAdapter } = await import('@bull-board/api/bullMQAdapter');"),
      ...importsOf('src/core/admin.ts', "import type { BullMQAdapter } from '@bull-board/api/bullMQAdapter';"),
    ];
    expect(violations(bad)).toEqual([
      `${RULES[0]!.name}: src/core/app.ts -> discord.js`,
      `${RULES[0]!.name}: src/core/app.ts -> ../queue/bullmq-job-queue.ts`,
      `${RULES[0]!.name}: commands/video.ts -> ../bots/local/server.ts`,
      `${RULES[0]!.name}: src/core/delivery.ts -> pino`,
      `${RULES[0]!.name}: src/core/delivery.ts -> ../logging/logger.ts`,
      `${RULES[0]!.name}: src/core/artifacts.ts -> @aws-sdk/client-s3`,
      `${RULES[0]!.name}: src/core/app.ts -> prom-client`,
      `${RULES[0]!.name}: src/core/admin.ts -> @bull-board/api/bullMQAdapter`,
      `${RULES[1]!.name}: bots/local/server.ts -> ../../test/core/fakes/fake-queue.ts`,
      `${RULES[2]!.name}: src/queue/fair-share.ts -> ../../cli/start.ts`,
      `${RULES[3]!.name}: workers/worker.ts -> ../bench/pool-bench.ts`,
      `${RULES[4]!.name}: models/engine/pixels.ts -> fluent-ffmpeg`,
      `${RULES[5]!.name}: src/core/delivery.ts -> pino`,
      `${RULES[5]!.name}: bots/slack/bolt-logger.ts -> pino`,
      `${RULES[6]!.name}: src/core/app.ts -> prom-client`,
      `${RULES[6]!.name}: workers/worker.ts -> prom-client`,
      `${RULES[7]!.name}: src/core/artifacts.ts -> @aws-sdk/client-s3`,
      `${RULES[7]!.name}: bots/local/artifact-files.ts -> @aws-sdk/lib-storage`,
      `${BULL_BOARD}: bots/local/http-api.ts -> @bull-board/hono`,
      `${BULL_BOARD}: bots/local/admin-queues.ts -> @bull-board/api`,
      `${BULL_BOARD}: src/core/admin.ts -> @bull-board/api/bullMQAdapter`,
    ]);
  });
});
