// Speed of model.onnx in onnxruntime-node (CPU): session create, ms per frame at batch 1 and 8.
//
//   node bench.mjs [threads=1] [rounds=20]
//
// Also checks the batch-8 outputs are probability rows (sum to 1).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const ort = createRequire(join(repo, 'package.json'))('onnxruntime-node');
const threads = Number(process.argv[2] ?? 1);
const rounds = Number(process.argv[3] ?? 20);
const PIX = 224 * 224 * 3;

let t0 = performance.now();
const sess = await ort.InferenceSession.create(join(here, '..', 'model.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1 });
const createMs = performance.now() - t0;
console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''} threads=${threads} inputs=${sess.inputNames} outputs=${sess.outputNames}`);
console.log(`session create ${createMs.toFixed(0)} ms`);

let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
for (const batch of [1, 8]) {
  const data = new Float32Array(batch * PIX).map(() => Math.floor(rnd() * 256) / 255);
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, [batch, 224, 224, 3]) };
  let out;
  for (let i = 0; i < 3; i++) out = await sess.run(feeds); // warm-up
  const times = [];
  for (let i = 0; i < rounds; i++) {
    t0 = performance.now();
    out = await sess.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)];
  const p = out[sess.outputNames[0]];
  const sums = [];
  for (let r = 0; r < batch; r++) sums.push(p.data.slice(r * 5, r * 5 + 5).reduce((s, v) => s + v, 0));
  console.log(`batch ${batch}: dims [${p.dims}] median ${med.toFixed(1)} ms/run = ${(med / batch).toFixed(1)} ms/frame (best ${(times[0] / batch).toFixed(1)}), row sums ${Math.min(...sums).toFixed(6)}..${Math.max(...sums).toFixed(6)}`);
  if (batch === 8) console.log(`  row 0: [${Array.from(p.data.slice(0, 5), (v) => v.toFixed(4)).join(', ')}]`);
}
