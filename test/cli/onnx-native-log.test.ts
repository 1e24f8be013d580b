import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * onnxruntime prints its own log in colour on stderr. A broken model must still be said in the
 * one line `dailies generate` promises, with onnxruntime's lines there only at LOG_LEVEL=debug.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PIXEL = path.join(ROOT, 'test/fixtures/tiny-pixel');

function generate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/dailies.js', 'generate', ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A copy of the tiny model with `denoiser.onnx` replaced by `graph`, its checksum updated so the graph itself is what fails. */
async function modelWithDenoiser(dir: string, graph: Buffer): Promise<string> {
  await cp(PIXEL, dir, { recursive: true });
  await writeFile(path.join(dir, 'denoiser.onnx'), graph);
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { components: { denoiser: { sha256: string } } };
  manifest.components.denoiser.sha256 = createHash('sha256').update(graph).digest('hex');
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(manifest));
  return dir;
}

let tmp: string;
let failsWhenRun: string;
let unreadable: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'dailies-ort-log-'));
  // Its first Conv gets group 0: the graph loads, and its first step fails inside onnxruntime's
  // kernel, which logs the failure itself before throwing it.
  const graph = await readFile(path.join(PIXEL, 'denoiser.onnx'));
  const at = graph.indexOf(Buffer.from('group\x18\x01', 'latin1'));
  expect(at, 'the fixture denoiser has a Conv with group 1').toBeGreaterThan(0);
  const broken = Buffer.from(graph);
  broken[at + 'group\x18'.length] = 0;
  failsWhenRun = await modelWithDenoiser(path.join(tmp, 'fails-when-run'), broken);
  unreadable = await modelWithDenoiser(path.join(tmp, 'unreadable'), graph.subarray(0, 1500));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const ANSI = /\x1b\[/;

describe.concurrent('a broken model through `dailies generate`', { timeout: 120_000 }, () => {
  it('a graph failing inside onnxruntime is one line on stderr, with no colour and no native log', async () => {
    const r = await generate(['--model', failsWhenRun, '--prompt', 'x', '--out', path.join(tmp, 'out-1')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: The denoiser graph failed on inputs .*Conv.*\n$/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(ANSI);
    expect(r.stderr).not.toContain('[E:onnxruntime');
  });

  it('an unreadable graph is one line too', async () => {
    const r = await generate(['--model', unreadable, '--prompt', 'x', '--out', path.join(tmp, 'out-2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Could not load the denoiser graph denoiser\.onnx \(.*\); re-download or re-export the model\.\n$/);
    expect(r.stderr).not.toMatch(ANSI);
  });

  it("shows onnxruntime's own log at LOG_LEVEL=debug, the kernel's error among it", async () => {
    const r = await generate(['--model', failsWhenRun, '--prompt', 'x', '--out', path.join(tmp, 'out-3')], { LOG_LEVEL: 'debug' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[E:onnxruntime');
    expect(r.stderr).toContain('[I:onnxruntime');
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error: The denoiser graph failed/);
  });
});
