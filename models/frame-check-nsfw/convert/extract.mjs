// Extract the nsfwjs MobileNetV2 layers model (topology + weights, dequantised to float32)
// from an installed nsfwjs package into a scratch folder.
//
//   node extract.mjs <work dir with node_modules/nsfwjs> <out dir>
//
// Writes <out>/model.json ({nsfwjs, modelTopology, weights: [{name, shape, offset, length}]})
// and <out>/weights.bin (little-endian float32, concatenated in manifest order).
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const [workDir = '/tmp/nsfw-work', outDir = '/tmp/nsfw-work/extracted'] = process.argv.slice(2);
const require = createRequire(join(resolve(workDir), 'package.json'));
// nsfwjs' "exports" map hides the bundles; find the package folder from its CJS entry point.
const pkgDir = resolve(dirname(require.resolve('nsfwjs')), '../..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

const unwrap = (m) => (m && typeof m === 'object' && 'default' in m ? m.default : m);
const modelJson = unwrap(require(join(pkgDir, 'dist/models/mobilenet_v2/model.min.js')));
const { modelTopology, weightsManifest } = modelJson;
if (weightsManifest.length !== 1) throw new Error('expected one weight group');

// Concatenate the shards (base64 strings embedded in UMD bundles).
const shards = weightsManifest[0].paths.map((p) => {
  const b64 = unwrap(require(join(pkgDir, `dist/models/mobilenet_v2/${p}.min.js`)));
  if (typeof b64 !== 'string') throw new Error(`shard ${p} is not a base64 string`);
  return Buffer.from(b64, 'base64');
});
const raw = Buffer.concat(shards);

const bytesPer = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };
let inOff = 0;
const out = [];
const weights = [];
let outOff = 0;
for (const spec of weightsManifest[0].weights) {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  const f = new Float32Array(n);
  if (q) {
    if (q.dtype !== 'uint8' || spec.dtype !== 'float32') throw new Error(`unsupported quantisation ${spec.name}`);
    // Same formula as tfjs-core io_utils.decodeWeights: v * scale + min (double, stored as float32).
    for (let i = 0; i < n; i++) f[i] = raw[inOff + i] * q.scale + q.min;
    inOff += n;
  } else {
    if (spec.dtype !== 'float32') throw new Error(`unsupported dtype ${spec.name}`);
    f.set(new Float32Array(raw.buffer.slice(raw.byteOffset + inOff, raw.byteOffset + inOff + 4 * n)));
    inOff += 4 * n;
  }
  out.push(Buffer.from(f.buffer));
  weights.push({ name: spec.name, shape: spec.shape, offset: outOff, length: n });
  outOff += 4 * n;
}
if (inOff !== raw.length) throw new Error(`weight bytes mismatch: used ${inOff} of ${raw.length}`);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'weights.bin'), Buffer.concat(out));
writeFileSync(
  join(outDir, 'model.json'),
  JSON.stringify({ nsfwjs: pkg.version, model: 'MobileNetV2', modelTopology, weights }, null, 1),
);
console.log(`nsfwjs ${pkg.version}: ${weights.length} tensors, ${outOff / 4} float32 values -> ${outDir}`);
