// Run the same frames through nsfwjs (TF.js, wasm backend) and through model.onnx
// (onnxruntime-node) and print the max abs difference of the probabilities.
//
//   node check.mjs [work dir with nsfwjs + tfjs installed] [--write-fixture-json]
//
// Frames: 10 synthetic test frames (solid colours, gradients, noise, checkerboard, bars)
// plus the committed fixture test/fixtures/frame-check/flagged-224.rgb when it exists.
// With --write-fixture-json it (re)writes flagged-224.json from the scores measured here.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const workDir = resolve(args.find((a) => !a.startsWith('--')) ?? '/tmp/nsfw-work');
const writeJson = args.includes('--write-fixture-json');
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const modelDir = resolve(here, '..');
const fixtureDir = join(repo, 'test/fixtures/frame-check');

const workRequire = createRequire(join(workDir, 'package.json'));
const repoRequire = createRequire(join(repo, 'package.json'));
const tf = workRequire('@tensorflow/tfjs');
const wasm = workRequire('@tensorflow/tfjs-backend-wasm');
const nsfwjs = workRequire('nsfwjs');
const ort = repoRequire('onnxruntime-node');
const classifier = JSON.parse(readFileSync(join(modelDir, 'classifier.json'), 'utf8'));

const S = 224;
const PIX = S * S * 3;

// ---- synthetic frames (uint8 RGB, row-major) ----
function frame(fn) {
  const f = new Uint8Array(PIX);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const [r, g, b] = fn(x, y);
    const i = (y * S + x) * 3;
    f[i] = r; f[i + 1] = g; f[i + 2] = b;
  }
  return f;
}
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
const frames = [
  ['mid-grey', frame(() => [128, 128, 128])],
  ['pure red', frame(() => [255, 0, 0])],
  ['black', frame(() => [0, 0, 0])],
  ['white', frame(() => [255, 255, 255])],
  ['skin-tone solid', frame(() => [224, 172, 140])],
  ['horizontal gradient', frame((x) => [x, 255 - x, 128])],
  ['radial gradient', frame((x, y) => { const d = Math.min(255, Math.hypot(x - 112, y - 112) * 2.3); return [255 - d, 120, d]; })],
  ['checkerboard 16px', frame((x, y) => (((x >> 4) + (y >> 4)) & 1 ? [240, 240, 240] : [20, 20, 20]))],
  ['colour bars', frame((x) => [[255, 255, 0], [0, 255, 255], [0, 255, 0], [255, 0, 255], [255, 0, 0], [0, 0, 255], [255, 255, 255]][Math.floor(x / 32)])],
  ['uniform noise', frame(() => [rnd() * 256, rnd() * 256, rnd() * 256])],
];
const fixturePath = join(fixtureDir, 'flagged-224.rgb');
if (existsSync(fixturePath)) {
  const buf = readFileSync(fixturePath);
  if (buf.length !== PIX) throw new Error(`${fixturePath}: ${buf.length} bytes, expected ${PIX}`);
  frames.push(['fixture flagged-224.rgb', new Uint8Array(buf)]);
}
const N = frames.length;
const input = new Float32Array(N * PIX);
frames.forEach(([, f], n) => { for (let i = 0; i < PIX; i++) input[n * PIX + i] = f[i] / 255; });

// ---- TF.js via nsfwjs itself ----
const wasmDir = dirname(workRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
wasm.setWasmPaths(wasmDir + '/');
await tf.setBackend('wasm');
await tf.ready();
const origInfo = console.info; console.info = () => {};
let t0 = performance.now();
const net = await nsfwjs.load('MobileNetV2');
console.info = origInfo;
console.log(`tfjs ${tf.version.tfjs} backend=${tf.getBackend()}, nsfwjs.load('MobileNetV2') ${(performance.now() - t0).toFixed(0)} ms`);
t0 = performance.now();
// One frame at a time through nsfwjs' own preprocessing (int tensor / 255), as an app would.
const tfjsOut = new Float32Array(N * 5);
for (let n = 0; n < N; n++) {
  const img = tf.tensor3d(frames[n][1], [S, S, 3], 'int32');
  const out = net.infer(img);
  tfjsOut.set(await out.data(), n * 5);
  img.dispose(); out.dispose();
}
console.log(`tfjs: ${N} frames in ${(performance.now() - t0).toFixed(0)} ms`);

// ---- ONNX ----
t0 = performance.now();
const sess = await ort.InferenceSession.create(join(modelDir, 'model.onnx'), { intraOpNumThreads: 1 });
console.log(`onnxruntime-node session create ${(performance.now() - t0).toFixed(0)} ms`);
const res = await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', input, [N, S, S, 3]) });
const ortOut = res[sess.outputNames[0]].data;

// ---- compare ----
const labels = classifier.labels;
const flagged = (p) => Object.entries(classifier.block).filter(([l, t]) => p[labels.indexOf(l)] >= t).map(([l]) => l);
let maxDiff = 0;
const rows = [];
for (let n = 0; n < N; n++) {
  const a = Array.from(tfjsOut.subarray(n * 5, n * 5 + 5));
  const b = Array.from(ortOut.subarray(n * 5, n * 5 + 5));
  const d = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  maxDiff = Math.max(maxDiff, d);
  const top = b.indexOf(Math.max(...b));
  rows.push({ name: frames[n][0], a, b, top: labels[top], topScore: b[top], diff: d });
  console.log(`${frames[n][0].padEnd(24)} onnx [${b.map((v) => v.toFixed(4)).join(' ')}] top=${labels[top]} ${b[top].toFixed(4)} | diff ${d.toExponential(2)} | flagged onnx=[${flagged(b)}] tfjs=[${flagged(a)}]`);
}
const sums = rows.map((r) => r.b.reduce((s, v) => s + v, 0));
console.log(`labels ${labels.join(',')}; row sums ${Math.min(...sums).toFixed(6)}..${Math.max(...sums).toFixed(6)}`);
console.log(`MAX ABS DIFF onnx vs tfjs over ${N} frames: ${maxDiff.toExponential(3)} (${maxDiff <= 1e-4 ? 'PASS' : 'FAIL'} <= 1e-4)`);

const fx = rows.find((r) => r.name.startsWith('fixture'));
if (fx) {
  const order = Object.keys(classifier.block).map((l) => [l, fx.b[labels.indexOf(l)] / classifier.block[l]]).sort((x, y) => y[1] - x[1]);
  const label = order[0][0];
  const i = labels.indexOf(label);
  const ok = fx.b[i] >= classifier.block[label] && fx.a[i] >= classifier.block[label];
  console.log(`fixture: ${label} onnx=${fx.b[i].toFixed(6)} tfjs=${fx.a[i].toFixed(6)} threshold ${classifier.block[label]} -> ${ok ? 'FLAGGED by both' : 'NOT flagged by both'}`);
  if (writeJson) {
    const ref = (name) => { const r = rows.find((x) => x.name === name); return { label: r.top, score: +r.topScore.toFixed(6), scores: Object.fromEntries(labels.map((l, k) => [l, +r.b[k].toFixed(6)])) }; };
    const json = {
      width: S, height: S, label, score: +fx.b[i].toFixed(6), tfjsScore: +fx.a[i].toFixed(6),
      scores: Object.fromEntries(labels.map((l, k) => [l, +fx.b[k].toFixed(6)])),
      reference: { midGrey: ref('mid-grey'), pureRed: ref('pure red') },
      note: 'Synthetic: pixels optimised against the classifier (convert/make_fixture.py); no photograph, nothing depicted. Scores from convert/check.mjs (onnxruntime-node; tfjsScore from nsfwjs 4.4.0 on TF.js wasm).',
    };
    writeFileSync(join(fixtureDir, 'flagged-224.json'), JSON.stringify(json, null, 2) + '\n');
    console.log(`wrote ${join(fixtureDir, 'flagged-224.json')}`);
  }
  if (!ok) process.exitCode = 1;
}
if (maxDiff > 1e-4) process.exitCode = 1;
