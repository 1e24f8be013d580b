import { loadModel } from '../../models/engine/load-model.ts';
import { ThreadedVideoModel } from '../../workers/threaded-video-model.ts';
import { CPU, TINY_PIXEL } from '../engine/engine-fixtures.ts';
import { GradientTestModel, gradientEngineSpec } from '../workers/fixtures/gradient-test-model.ts';
import { runVideoModelConformance } from './video-model.conformance.ts';

// The tiny pixel model (random weights, test/fixtures/build_tiny_pixel.py) allows up to 20 steps
// of up to 8 frames and 4 takes: several hundred ms in all, so an abort after step 1 lands before
// the end even across threads on a busy machine.
const tinyLongRun = { steps: 20, frames: 8, variations: 4 };
const tinyPixelSpec = { module: new URL('../../models/engine/load-model.ts', import.meta.url).href, exportName: 'loadModel', args: [TINY_PIXEL, CPU] };

runVideoModelConformance('diffusion pipeline (tiny-pixel)', async () => ({ model: await loadModel(TINY_PIXEL, CPU), longRun: tinyLongRun }));

runVideoModelConformance('threaded model running the diffusion pipeline (tiny-pixel)', async () => ({ model: await ThreadedVideoModel.start(tinyPixelSpec), longRun: tinyLongRun }));

runVideoModelConformance('GradientTestModel (worker tests\' double)', async () => ({ model: new GradientTestModel({ stepDelayMs: 1 }), longRun: { steps: 200 } }));

runVideoModelConformance('threaded model running GradientTestModel', async () => ({ model: await ThreadedVideoModel.start(gradientEngineSpec({ stepDelayMs: 2 })), longRun: { steps: 200 } }));
