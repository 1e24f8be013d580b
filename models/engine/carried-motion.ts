/*
 * What moves in a run of known frames, and where it will be some frames later: the start of a
 * continuation's new frames below strength 1 (start-frames.ts).
 *
 * Why: starting every new frame as a copy of the nearest known frame tells the model that
 * everything stops there, and at strength 0.6 a model mostly keeps what it starts from; chains
 * of "moving right" stood still after their first window (shapes-v2: 2.8% of 36 chains still
 * moving in the last window). Carried on, the start frames already hold the move and the model
 * only has to clean them up.
 *
 * The model: the last frame is a background with layers on it. The background is the median of
 * the frame's border (a solid colour for the built-in models; for a textured scene most of the
 * frame becomes one layer, which moves only if the whole picture moves, as in a pan). A layer is
 * a 4-connected region far from the background, with a one-pixel rim, and moves at the speed
 * that best matches it against the known frames before the last. Works on any denoiser space (pixels or
 * latents): only distances between channel vectors are used.
 */

export interface FrameSize {
  channels: number;
  height: number;
  width: number;
}

/** A moving part of the frame: its pixels' coverage and their difference from the background. */
interface Layer {
  /** Pixel indices (y * width + x) in the last known frame. */
  pixels: number[];
  /** Coverage in [0, 1] per pixel, and the pixel minus the background per channel (pixel-major). */
  alpha: Float32Array;
  delta: Float32Array;
  /** Px per frame. */
  velocity: { x: number; y: number };
  /** Frames from the one the layer was read in to the last known frame (0 unless it has left since). */
  age: number;
  /**
   * Whole px from where its pixels were read to where the layer is: a whole view of an object
   * placed over the part of it an edge leaves on screen (some of it may be off the frame).
   */
  shift: { x: number; y: number };
}

export interface CarriedMotion {
  size: FrameSize;
  background: Float32Array;
  /** The last known frame with its moving layers taken out (CHW). */
  still: Float32Array;
  layers: Layer[];
}

/** A pixel this far from the background, as a share of the farthest one, belongs to a layer. */
const FOREGROUND_SHARE = 0.25;
/** An object's farthest pixel is at least this share of the farthest any known frame shows. */
const OBJECT_CONTRAST = 0.5;
/** Layers smaller than this (px, before the rim) are noise, not objects. */
const MIN_LAYER_PIXELS = 3;
/** Speeds are looked for up to this share of the frame's smaller side per frame. */
const MAX_SPEED_SHARE = 1 / 8;
/**
 * A speed is measured against at most this many frames before the last: the first SEARCH_SPAN
 * with every move in reach, the rest around where those put the region, within FOLLOW_REACH px.
 * A model draws its object a little differently in every frame, and a slow move over 3 frames is
 * hard to tell from standing still: discs wobbling by 15% of their radius, moving 0.5 px a frame,
 * read as still in 12 of 20 clips over 3 frames and in none over 8. Read as still, a chain's
 * object stood still from then on (shapes-v2 slows it at every window until that happens).
 */
const MAX_SPAN = 8;
const SEARCH_SPAN = 3;
const FOLLOW_REACH = 2;
/** A move is taken only if it matches at most this share of standing still's mismatch. */
const MOVE_EVIDENCE = 0.7;
/** A large layer (a textured scene is mostly one) is matched on this many of its pixels, evenly spread. */
const MAX_MATCH_PIXELS = 1024;
/** A move's smaller component below this share of its larger one is drift, not part of the move (alongMainAxis). */
const MAIN_AXIS_SHARE = 0.35;
/** Below this mismatch per pixel and channel standing still already fits: nothing moved. */
const STILL_NOISE = 1e-4;

/**
 * Splits the last of `frames` (CHW, oldest first) into its still part and its moving layers,
 * each with the speed it moved at over the last frames. One frame, or a frame with nothing on its
 * background, gives no layers, except that an object which left during the frames is carried on
 * (see below). A chain passes frames from before its known ones too (LOOKBACK_FRAMES in
 * src/core/segment-plan.ts): they are what lets it remember an object whole.
 */
export function measureMotion(frames: Float32Array[], size: FrameSize): CarriedMotion {
  // Objects stand out at least OBJECT_CONTRAST of the most any known frame shows: a model's
  // frames are noisy, and the blobs of an empty frame were carried as objects moving at the
  // fastest speed searched (4 px a frame at 32x32), a flash in every new frame.
  const readings = frames.map((f) => farthestFromBackground(f, size));
  const contrast = Math.max(...readings.map((r) => r.farthest));
  // Each frame's objects found at most once: splitting it and asking whether an edge touches
  // them read the same regions.
  const found = new Map<number, number[][]>();
  const regionsAt = (k: number): number[][] => {
    let regions = found.get(k);
    if (!regions) found.set(k, (regions = objectRegions(readings[k]!, size, contrast)));
    return regions;
  };
  const { motion, held } = splitLast(frames, readings.at(-1)!, regionsAt(frames.length - 1), size);
  // Each earlier frame split as if it were the last, at most once: the look back for a whole
  // view and the one for the most shown at the edge read the same frames.
  const splits = new Map<number, CarriedMotion>();
  const earlier = (k: number): CarriedMotion => {
    let split = splits.get(k);
    if (!split) splits.set(k, (split = splitLast(frames.slice(0, k + 1), readings[k]!, regionsAt(k), size).motion));
    return split;
  };
  // 1. What an edge clips is completed from the last frame that showed it whole. Carried on as
  //    the clipped part, an object coming back in stayed the sliver it entered as: shapes-v2's
  //    30-s "red circle moving right" lost a third of its area with every lap. So are slivers a
  //    model holds at the edge the object was going out through, or comes back in through after
  //    a lap (wholeOfHeld); carried as still, they stayed there for the rest of the chain.
  const clipped = motion.layers.filter((layer) => atEdge(layer, size));
  const stuck = held.filter((layer) => atEdge(layer, size));
  // A whole view is the object, not a fleck a model leaves where it went out: shapes-v1 left a
  // few red pixels after its circle, and carried on as the last whole view, the fleck went off
  // diagonally and the circle never came back. So a view counts only at WHOLE_SHARE of the
  // largest object the frames show.
  let largest: number | undefined;
  const objectSize = () => (largest ??= Math.max(0, ...frames.map((_, k) => Math.max(0, ...regionsAt(k).map((region) => region.length)))));
  const lastWhole = () => lastWholeView(frames.length, earlier, size, WHOLE_SHARE * objectSize());
  const view = clipped.length + stuck.length > 0 ? lastWhole() : undefined;
  if (view) {
    motion.layers = motion.layers.map((layer) => (clipped.includes(layer) ? wholeOfClipped(layer, view.layers, size) : layer));
    for (const layer of stuck) {
      const whole = wholeOfHeld(layer, view, size);
      if (!whole) continue;
      lift(motion.still, layer, motion.background, size);
      motion.layers.push(whole);
    }
  }
  // 2. A speed read across frames where an edge clipped the object is the clipping's as much as
  //    the object's: its pixels there are a part, and a model draws an object coming in with its
  //    back still stuck to the edge, stretched. shapes-v2's circle came back in at 1 px a frame,
  //    read 0.56 on the frames that followed, and was carried on at that, slower at every lap.
  //    Such a layer moves at the speed of the last view read on frames clear of the edges (the
  //    same object, the way it moves), when there is one.
  const touches = (k: number) => regionsAt(k).some((region) => region.some((p) => onBorder(p, size)));
  const spanFrom = Math.max(0, frames.length - 1 - MAX_SPAN);
  const touched = frames.slice(spanFrom, -1).some((_, i) => touches(spanFrom + i));
  //    So does an object the model stood still just inside the edge it came in through: after a
  //    lap shapes-v1 brought its circle back in at 0.4 px a frame, then drew it standing a pixel
  //    or two in, and carried as still it stood there for the rest of the chain (4 of 16
  //    minute-long chains, with 128 lookback frames; none with this). Not one standing further
  //    in, which may have stopped where it meant to.
  const entered = touched ? held.filter((layer) => !atEdge(layer, size) && nearEdge(layer, size)) : [];
  const crossed = (motion.layers.some((layer) => !atEdge(layer, size)) || entered.length > 0) && touched;
  const clear = crossed ? lastClearView(frames.length, earlier, touches, size) : undefined;
  if (clear) {
    motion.layers = motion.layers.map((layer) => (atEdge(layer, size) ? layer : movedAs(layer, clear, size, (v) => sameWay(v, layer)) ?? layer));
    for (const layer of entered) {
      const moving = movedAs(layer, clear, size, (v) => throughEdge(v, layer, size, -1, ENTRY_REACH));
      if (!moving) continue;
      lift(motion.still, layer, motion.background, size);
      motion.layers.push(moving);
    }
  }
  if (motion.layers.length > 0 || held.length > 0) return motion;
  // 3. An object that left through an edge would otherwise be forgotten, and every later window
  //    of a chain starts from an empty frame: shapes-v1's 30-s "red circle moving right" left
  //    after 3 s and the frame stayed empty. Carried on from the last frame that showed it whole,
  //    at its speed, it comes back through the other edge (lapShift)...
  const seen = lastWhole();
  if (seen) {
    const gone = seen.layers.filter((layer) => leftBy(layer, seen.age, size));
    return { ...motion, layers: gone.map((layer) => ({ ...layer, age: notYetBack(layer, seen.age, size) })) };
  }
  // ...or, when no frame showed it whole, from the one that showed most of it at the edge.
  let best: { layers: Layer[]; area: number } | undefined;
  for (let k = frames.length - 2; k >= 1; k--) {
    const left = earlier(k).layers.flatMap((layer) => leaving(layer, size) ?? []);
    const area = left.reduce((sum, layer) => sum + layer.pixels.length, 0);
    const age = frames.length - 1 - k;
    if (area > (best?.area ?? 0)) best = { layers: left.map((layer) => ({ ...layer, age })), area };
  }
  return best ? { ...motion, layers: best.layers } : motion;
}

/** A layer's core: the pixels it covers at least half (its rim blends into the background). */
function core(layer: Layer): number[] {
  return layer.pixels.filter((_, i) => layer.alpha[i]! >= 0.5);
}

/** Whether an edge of the frame clips the layer's core. */
function atEdge(layer: Layer, size: FrameSize): boolean {
  return core(layer).some((p) => onBorder(p, size));
}

/** Whether pixel `p` is on the frame's outermost row or column. */
function onBorder(p: number, size: FrameSize): boolean {
  const [x, y] = [p % size.width, Math.floor(p / size.width)];
  return x === 0 || y === 0 || x === size.width - 1 || y === size.height - 1;
}

/** A whole view's core is at least this share of the largest object region in the frames. */
const WHOLE_SHARE = 0.25;

/**
 * The moving layers of the most recent of `count` frames before the last that shows any whole
 * (no edge clips it; `earlier(k)`: frame k split as the last) of at least `minPixels` core
 * pixels, and how many frames before the last that is; undefined when none does.
 */
function lastWholeView(count: number, earlier: (k: number) => CarriedMotion, size: FrameSize, minPixels: number): { layers: Layer[]; age: number } | undefined {
  for (let k = count - 2; k >= 1; k--) {
    const whole = earlier(k).layers.filter((layer) => !atEdge(layer, size) && core(layer).length >= minPixels);
    if (whole.length > 0) return { layers: whole, age: count - 1 - k };
  }
  return undefined;
}

/** Whether a layer moved on at its speed for `frames` frames has crossed an edge: it left, rather than vanished inside the frame. */
function leftBy(layer: Layer, frames: number, size: FrameSize): boolean {
  const { xs, ys } = places(core(layer), size);
  const [dx, dy] = [layer.velocity.x * frames, layer.velocity.y * frames];
  return Math.min(...xs) + dx < 0 || Math.min(...ys) + dy < 0 || Math.max(...xs) + dx > size.width - 1 || Math.max(...ys) + dy > size.height - 1;
}

/** Whether a layer moved on at its speed for `frames` frames is all off the frame: it has left. */
function goneBy(layer: Layer, frames: number, size: FrameSize): boolean {
  const { xs, ys } = places(core(layer), size);
  const [dx, dy] = [layer.shift.x + layer.velocity.x * frames, layer.shift.y + layer.velocity.y * frames];
  return xs.every((x, i) => x + dx < 0 || ys[i]! + dy < 0 || x + dx > size.width - 1 || ys[i]! + dy > size.height - 1);
}

/**
 * `age`, or less where the lap would already have brought the layer back in by the last frame,
 * which shows it is not: how long an object stays out is the model's, not the lap's 1 px gap. The
 * largest age at which no part of it shows, so it comes in with the first new frame.
 */
function notYetBack(layer: Layer, age: number, size: FrameSize): number {
  const speed = Math.hypot(layer.velocity.x, layer.velocity.y);
  const lap = Math.ceil((size.width + size.height) / Math.max(speed, 1e-3));
  for (let a = age; a >= Math.max(0, age - lap); a--) if (!showsAfter(layer, a, size)) return a;
  return age;
}

/** Whether any of a layer's core is on the frame `frames` frames on (as carryOn moves it). */
function showsAfter(layer: Layer, frames: number, size: FrameSize): boolean {
  const { xs, ys } = places(core(layer), size);
  const { dx, dy } = offsetAfter(layer, frames, size);
  return xs.some((x, i) => x + dx > -1 && x + dx < size.width && ys[i]! + dy > -1 && ys[i]! + dy < size.height);
}

/**
 * A moving layer an edge clips, completed from the whole view that moves its way, or, at an edge
 * the view goes out or comes in through, from the view loosely placed, or else moving at the
 * view's speed: there a part's own move is the clipping's (a chord of a leaving disc read as 2 px
 * a frame sideways; shapes-v2's "moving up" circle, coming back in at the bottom, read as moving
 * down and left and was carried off that way). Itself when no view fits.
 */
function wholeOfClipped(layer: Layer, views: Layer[], size: FrameSize): Layer {
  const across = (v: Layer) => throughEdge(v, layer, size, 1) || throughEdge(v, layer, size, -1);
  return completed(layer, views, size, (v) => sameWay(v, layer)) ?? completed(layer, views, size, across, EDGE_COMPLETION_MATCH) ?? movedAs(layer, views, size, across) ?? layer;
}

/**
 * A sliver held at an edge, as the whole view going out through it (against a few known frames
 * a sliver's move is hard to tell from standing still: its pixels match the object's own inside),
 * or coming back in through it once the view has had the time to leave (it lapped: lapShift;
 * shapes-v2 drew a re-entering circle as a sliver standing at the left edge); undefined for one
 * the view does neither at (held where it was not going: it stays).
 */
function wholeOfHeld(layer: Layer, view: { layers: Layer[]; age: number }, size: FrameSize): Layer | undefined {
  const out = (v: Layer) => throughEdge(v, layer, size, 1);
  const back = (v: Layer) => throughEdge(v, layer, size, -1) && goneBy(v, view.age, size);
  return completed(layer, view.layers, size, (v) => out(v) || back(v), EDGE_COMPLETION_MATCH) ?? movedAs(layer, view.layers, size, out);
}

/** A completed layer must cover the clipped part it replaces at least this well (intersection over union, on screen). */
const MIN_COMPLETION_MATCH = 0.6;
/**
 * Or this well, for a part at the edge the whole view goes out or comes in through: there it can
 * only be that object, and a model draws its leaving or arriving sliver loosely (shapes-v2: under
 * 0.6 at about one exit in ten). Carried on as the sliver, the lap brought the sliver back in,
 * and the model made a small object of it, or nothing.
 */
const EDGE_COMPLETION_MATCH = 0.3;

/** Whether two layers move the same way (within a right angle). */
function sameWay(a: Layer, b: Layer): boolean {
  return a.velocity.x * b.velocity.x + a.velocity.y * b.velocity.y > 0;
}

/**
 * Whether `view` moves out through (way 1) or in through (way -1) an edge that clips `part`'s core,
 * or, with `reach`, that its core comes within `reach` px of.
 */
function throughEdge(view: Layer, part: Layer, size: FrameSize, way: 1 | -1, reach = 0): boolean {
  const gap = edgeGaps(part, size);
  const [vx, vy] = [way * view.velocity.x, way * view.velocity.y];
  return (vx < 0 && gap.left <= reach) || (vx > 0 && gap.right <= reach) || (vy < 0 && gap.top <= reach) || (vy > 0 && gap.bottom <= reach);
}

/** How many px lie between a layer's core and each edge of the frame (0: the edge clips it). */
function edgeGaps(layer: Layer, size: FrameSize): { left: number; right: number; top: number; bottom: number } {
  const { xs, ys } = places(core(layer), size);
  return { left: Math.min(...xs), right: size.width - 1 - Math.max(...xs), top: Math.min(...ys), bottom: size.height - 1 - Math.max(...ys) };
}

/** A layer's core comes within this many px of an edge it does not touch: it stands just inside it. */
const ENTRY_REACH = 3;

/** Whether a layer's core is within ENTRY_REACH px of an edge of the frame. */
function nearEdge(layer: Layer, size: FrameSize): boolean {
  return Math.min(...Object.values(edgeGaps(layer, size))) <= ENTRY_REACH;
}

/**
 * The moving layers of the most recent frame before the last (of `count`) whose speed was read
 * on frames where no edge touched an object (it and the MAX_SPAN before it); undefined when none was.
 */
function lastClearView(count: number, earlier: (k: number) => CarriedMotion, touches: (k: number) => boolean, size: FrameSize): Layer[] | undefined {
  let clearRun = 0; // frames from k up that no edge touched, counted from the newest down
  for (let k = count - 2; k >= 0; k--) {
    clearRun = touches(k) ? 0 : clearRun + 1;
    // frame j = k + MAX_SPAN is clear along with the MAX_SPAN frames before it
    const j = k + MAX_SPAN;
    if (clearRun > MAX_SPAN && j <= count - 2) {
      const layers = earlier(j).layers.filter((layer) => !atEdge(layer, size));
      if (layers.length > 0) return layers;
    }
  }
  return undefined;
}

/**
 * The whole view (of `views` that `fits`, the nearest in colour) placed where its part on screen
 * best matches `clipped`'s core, moving at the whole view's speed (measured on all of the object,
 * not on a part that an edge cuts as it moves); undefined when none matches.
 */
function completed(clipped: Layer, views: Layer[], size: FrameSize, fits: (view: Layer) => boolean, minMatch = MIN_COMPLETION_MATCH): Layer | undefined {
  const fragment = new Set(core(clipped));
  const view = nearestInColour(clipped, views.filter(fits), size);
  if (!view || fragment.size === 0) return undefined;
  const whole = places(core(view), size);
  const part = places([...fragment], size);
  const { width: w, height: h } = size;
  let best = { x: 0, y: 0, match: 0 };
  // Every placement where the whole view's box overlaps the clipped part's.
  for (let dy = Math.min(...part.ys) - Math.max(...whole.ys); dy <= Math.max(...part.ys) - Math.min(...whole.ys); dy++) {
    for (let dx = Math.min(...part.xs) - Math.max(...whole.xs); dx <= Math.max(...part.xs) - Math.min(...whole.xs); dx++) {
      let [shown, shared] = [0, 0];
      whole.xs.forEach((x0, i) => {
        const [x, y] = [x0 + dx, whole.ys[i]! + dy];
        if (x < 0 || y < 0 || x >= w || y >= h) return;
        shown++;
        if (fragment.has(y * w + x)) shared++;
      });
      const match = shared / (shown + fragment.size - shared);
      if (match > best.match) best = { x: dx, y: dy, match };
    }
  }
  return best.match >= minMatch ? { ...view, age: 0, shift: { x: best.x, y: best.y } } : undefined;
}

/** `part` moving at the speed of the view (of `views` that `fits`) nearest it in colour; undefined when none fits. */
function movedAs(part: Layer, views: Layer[], size: FrameSize, fits: (view: Layer) => boolean): Layer | undefined {
  const view = nearestInColour(part, views.filter(fits), size);
  return view && { ...part, velocity: view.velocity };
}

/** The one of `views` nearest `layer` in colour; undefined when there are none. */
function nearestInColour(layer: Layer, views: Layer[], size: FrameSize): Layer | undefined {
  return views.length === 0 ? undefined : views.reduce((a, b) => (colourGap(a, layer, size) <= colourGap(b, layer, size) ? a : b));
}

/** How far apart two layers' mean colours (their difference from the background) are. */
function colourGap(a: Layer, b: Layer, size: FrameSize): number {
  const mean = (layer: Layer) => {
    const sum = new Float64Array(size.channels);
    layer.pixels.forEach((_, i) => {
      for (let c = 0; c < size.channels; c++) sum[c] = sum[c]! + layer.delta[i * size.channels + c]!;
    });
    return sum.map((v) => v / Math.max(1, layer.pixels.length));
  };
  const [ma, mb] = [mean(a), mean(b)];
  return ma.reduce((d, v, c) => d + (v - mb[c]!) ** 2, 0);
}

/** Pixel indices as x and y. */
function places(pixels: number[], size: FrameSize): { xs: number[]; ys: number[] } {
  return { xs: pixels.map((p) => p % size.width), ys: pixels.map((p) => Math.floor(p / size.width)) };
}

/**
 * A layer at an edge, leaving, with only its move across that edge; undefined for one that
 * touches no edge (one that vanished inside the frame was the model's doing, not an exit). An
 * edge clips a leaving layer, and the clipped part's other move is not measured: the chord of a
 * disc leaving at the right shrinks toward its middle, which matched as a move up (3 px a frame,
 * shapes-v1).
 */
function leaving(layer: Layer, size: FrameSize): Layer | undefined {
  const { xs, ys } = places(layer.pixels, size);
  const sides = Math.min(...xs) === 0 || Math.max(...xs) === size.width - 1;
  const ends = Math.min(...ys) === 0 || Math.max(...ys) === size.height - 1;
  if (!sides && !ends) return undefined;
  if (sides && ends) return layer;
  return { ...layer, velocity: sides ? { x: layer.velocity.x, y: 0 } : { x: 0, y: layer.velocity.y } };
}

/** A frame's background (its border's median) and every pixel's distance from it. */
interface BackgroundDistance {
  background: Float32Array;
  distance: Float32Array;
  farthest: number;
}

function farthestFromBackground(frame: Float32Array, size: FrameSize): BackgroundDistance {
  const background = borderMedian(frame, size);
  const plane = size.width * size.height;
  const distance = new Float32Array(plane);
  for (let p = 0; p < plane; p++) distance[p] = Math.sqrt(channelDistance2(frame, p, background, size));
  return { background, distance, farthest: distance.reduce((a, b) => Math.max(a, b), 0) };
}

/**
 * Pixels far from the background (`reading`), grouped into 4-connected regions that stand out as
 * objects: at least MIN_LAYER_PIXELS, their farthest pixel at least OBJECT_CONTRAST of `contrast`.
 */
function objectRegions(reading: BackgroundDistance, size: FrameSize, contrast: number): number[][] {
  const { distance, farthest } = reading;
  if (farthest <= 1e-6) return [];
  return connectedRegions(distance, farthest * FOREGROUND_SHARE, size)
    .filter((r) => r.length >= MIN_LAYER_PIXELS && r.reduce((most, p) => Math.max(most, distance[p]!), 0) >= OBJECT_CONTRAST * contrast);
}

/**
 * measureMotion of the last frame alone (`reading`: its background and distances; `regions`: its
 * objectRegions), and the objects in it that did not move (`held`: left in the still part).
 */
function splitLast(frames: Float32Array[], reading: BackgroundDistance, regions: number[][], size: FrameSize): { motion: CarriedMotion; held: Layer[] } {
  const last = frames.at(-1)!;
  const { background, distance, farthest } = reading;
  const still = Float32Array.from(last);
  const span = Math.min(frames.length - 1, MAX_SPAN);
  if (span < 1 || farthest <= 1e-6) return { motion: { size, background, still, layers: [] }, held: [] };

  // 1. The regions that stand out as objects (objectRegions), each with its rim, matched against
  //    up to MAX_SPAN earlier frames for its speed.
  const plane = size.width * size.height;
  const layers: Layer[] = [];
  const held: Layer[] = [];
  for (const region of regions) {
    const pixels = withRim(region, size);
    const velocity = regionVelocity(pixels, frames, span, size);
    // 2. Coverage from the distance to the background, against the region's typical peak.
    const peak = percentile(region.map((p) => distance[p]!), 0.9);
    const alpha = new Float32Array(pixels.length);
    const delta = new Float32Array(pixels.length * size.channels);
    pixels.forEach((p, i) => {
      alpha[i] = Math.min(1, distance[p]! / peak);
      for (let c = 0; c < size.channels; c++) delta[i * size.channels + c] = last[c * plane + p]! - background[c]!;
    });
    const layer = { pixels, alpha, delta, velocity, age: 0, shift: { x: 0, y: 0 } };
    if (velocity.x === 0 && velocity.y === 0) {
      held.push(layer);
      continue;
    }
    lift(still, layer, background, size);
    layers.push(layer);
  }
  return { motion: { size, background, still, layers }, held };
}

/** Takes a layer out of the still part: its pixels become background. */
function lift(still: Float32Array, layer: Layer, background: Float32Array, size: FrameSize): void {
  const plane = size.width * size.height;
  for (const p of layer.pixels) for (let c = 0; c < size.channels; c++) still[c * plane + p] = background[c]!;
}

/** The frame `distance` frames on from the last known one: every layer moved on at its speed (lapShift past the edges), over the still part. */
export function carryOn(motion: CarriedMotion, distance: number): Float32Array {
  const { size, background, still } = motion;
  const { width: w, height: h, channels } = size;
  const plane = w * h;
  // Bilinear splat of every layer pixel onto the four pixels around its new place: coverage and
  // coverage-weighted colour summed first, so a layer's inside stays solid at half-pixel moves.
  const coverage = new Float32Array(plane);
  const colour = new Float32Array(channels * plane);
  for (const layer of motion.layers) {
    const { xs, ys } = places(layer.pixels, size);
    const { dx, dy } = offsetAfter(layer, distance + layer.age, size);
    layer.pixels.forEach((p, i) => {
      const x = xs[i]! + dx;
      const y = ys[i]! + dy;
      const [x0, y0] = [Math.floor(x), Math.floor(y)];
      const [fx, fy] = [x - x0, y - y0];
      for (const [tx, ty, weight] of [[x0, y0, (1 - fx) * (1 - fy)], [x0 + 1, y0, fx * (1 - fy)], [x0, y0 + 1, (1 - fx) * fy], [x0 + 1, y0 + 1, fx * fy]] as const) {
        if (weight <= 0 || tx < 0 || ty < 0 || tx >= w || ty >= h) continue;
        const q = ty * w + tx;
        const a = layer.alpha[i]! * weight;
        coverage[q] = coverage[q]! + a;
        // The layer's own colour at coverage a: a * background + weight * (pixel - background).
        for (let c = 0; c < channels; c++) colour[c * plane + q] = colour[c * plane + q]! + a * background[c]! + weight * layer.delta[i * channels + c]!;
      }
    });
  }
  const out = Float32Array.from(still);
  for (let q = 0; q < plane; q++) {
    const a = coverage[q]!;
    if (a <= 0) continue;
    // Where layers overlap, their mix; elsewhere over the still part.
    const keep = Math.max(0, 1 - a);
    const norm = Math.max(1, a);
    for (let c = 0; c < channels; c++) out[c * plane + q] = out[c * plane + q]! * keep + colour[c * plane + q]! / norm;
  }
  return out;
}

/** Px from where a layer's pixels were read to where it is `frames` frames on: its shift, then its speed with lapShift. */
function offsetAfter(layer: Layer, frames: number, size: FrameSize): { dx: number; dy: number } {
  const { xs, ys } = places(layer.pixels, size);
  const { x: sx, y: sy } = layer.shift;
  return {
    dx: sx + lapShift(xs.map((x) => x + sx), layer.velocity.x * frames, size.width),
    dy: sy + lapShift(ys.map((y) => y + sy), layer.velocity.y * frames, size.height),
  };
}

/**
 * Where a layer spanning `along` (its pixels' places on one axis) is after a shift of `shift` on
 * a frame `size` px long: the same place while any of it shows, and once it has left through one
 * edge, coming back in through the other. The built-in models learnt moving clips as windows of
 * such laps (models/shapes-v2/train/dataset.py, _lap_window): an object that leaves at the
 * right comes back from the left. Without it a chain's object left once and later windows,
 * started from an empty frame, stayed empty or grew an object where the model's prompt prior
 * puts one. The path repeats every size + extent + 1 px, so one copy shows at a time.
 */
function lapShift(along: number[], shift: number, size: number): number {
  if (shift === 0) return 0;
  const low = Math.min(...along);
  const extent = Math.max(...along) - low + 1;
  const period = size + extent + 1;
  // The layer's first pixel, brought into [-extent, size]: the places where some of it shows.
  const first = low + shift + extent;
  const wrapped = (((first % period) + period) % period) - extent;
  return wrapped - low;
}

/**
 * Px per frame that `pixels` of the last frame moved: the best whole-pixel move (refined to
 * sub-pixel) against each of the `span` frames before it, fitted as one speed by least squares.
 * Zero when standing still fits about as well: a model's own clip is noisy and its object
 * changes shape a little, so a move must cut the mismatch clearly.
 */
function regionVelocity(pixels: number[], frames: Float32Array[], span: number, size: FrameSize): { x: number; y: number } {
  const last = frames.at(-1)!;
  const stride = Math.ceil(pixels.length / MAX_MATCH_PIXELS);
  const probe = stride > 1 ? pixels.filter((_, i) => i % stride === 0) : pixels;
  let [moved, still, sx, sy, ss] = [0, 0, 0, 0, 0];
  for (let s = 1; s <= span; s++) {
    // Past SEARCH_SPAN, near s times the speed the nearer frames gave; not at all when they
    // gave none (an object that moved, then stopped, is still).
    const follow = s > SEARCH_SPAN;
    if (follow && (ss === 0 || (sx === 0 && sy === 0))) break;
    const centre = follow ? { x: Math.round((s * sx) / ss), y: Math.round((s * sy) / ss) } : { x: 0, y: 0 };
    const reach = follow ? FOLLOW_REACH : Math.ceil(Math.min(size.width, size.height) * MAX_SPEED_SHARE * s);
    const fit = bestMove(probe, last, frames[frames.length - 1 - s]!, reach, size, centre, follow);
    if (!fit) continue;
    // A longer span counts only where it finds the region again: a frame where the object was
    // off the frame or not yet drawn says nothing about its speed.
    if (follow && !(fit.cost < MOVE_EVIDENCE * fit.standing)) continue;
    moved += fit.cost;
    still += fit.standing;
    sx += s * fit.x;
    sy += s * fit.y;
    ss += s * s;
  }
  if (ss === 0 || still <= STILL_NOISE || !(moved < MOVE_EVIDENCE * still)) return { x: 0, y: 0 };
  return alongMainAxis({ x: sx / ss, y: sy / ss });
}

/**
 * A move nearly along one axis, taken as exactly along it. A model's clip drifts a little across
 * its move: shapes-v2's "moving right" went 0.25-0.3 px a frame down for every 1 px right, and
 * carried on join after join for a minute the drift took the object down to the bottom edge,
 * where it was scraped off. A real diagonal move (steeper than ~19 degrees) is kept.
 */
function alongMainAxis(v: { x: number; y: number }): { x: number; y: number } {
  if (Math.abs(v.y) < MAIN_AXIS_SHARE * Math.abs(v.x)) return { x: v.x, y: 0 };
  if (Math.abs(v.x) < MAIN_AXIS_SHARE * Math.abs(v.y)) return { x: 0, y: v.y };
  return v;
}

/**
 * The move (px, sub-pixel) that best takes `earlier` onto `pixels` of `last` within `reach` of
 * `centre`, with its mismatch and standing still's; undefined when the region was mostly off the
 * frame. With `onFrame` a move must keep every pixel on the frame: over a long span a move that
 * drops an edge sliver's bright pixels leaves its rim, which matches the background better than
 * standing still does, and a sliver held at the edge read as moving.
 */
function bestMove(pixels: number[], last: Float32Array, earlier: Float32Array, reach: number, size: FrameSize, centre: { x: number; y: number }, onFrame = false): { x: number; y: number; cost: number; standing: number } | undefined {
  const { width: w, height: h } = size;
  const cost = (ux: number, uy: number): number => {
    let sum = 0;
    let inside = 0;
    for (const p of pixels) {
      const x = (p % w) - ux;
      const y = Math.floor(p / w) - uy;
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      inside++;
      for (let c = 0; c < size.channels; c++) {
        const d = last[c * w * h + p]! - earlier[c * w * h + y * w + x]!;
        sum += d * d;
      }
    }
    // Mostly off the frame earlier: no evidence either way.
    if (onFrame && inside < pixels.length) return Infinity;
    return inside * 2 >= pixels.length ? sum / (inside * size.channels) : Infinity;
  };
  const standing = cost(0, 0);
  if (!Number.isFinite(standing)) return undefined;
  let best = { x: 0, y: 0, cost: standing };
  const consider = (ux: number, uy: number) => {
    const c = cost(ux, uy);
    // Ties go to the smaller move.
    if (c < best.cost - 1e-12 || (c <= best.cost + 1e-12 && Math.hypot(ux, uy) < Math.hypot(best.x, best.y))) best = { x: ux, y: uy, cost: c };
  };
  // Every second move across the reach, then the moves around the best of those: a quarter of
  // the matches (a 160x90 latent frame took 1.5 s a take with all of them).
  const step = reach > 4 ? 2 : 1;
  const from = -reach + (reach % step); // the grid goes through its centre
  for (let uy = from; uy <= reach; uy += step) for (let ux = from; ux <= reach; ux += step) consider(centre.x + ux, centre.y + uy);
  if (step > 1) {
    const { x, y } = best;
    for (let uy = y - 1; uy <= y + 1; uy++) for (let ux = x - 1; ux <= x + 1; ux++) consider(ux, uy);
  }
  // Sub-pixel: the vertex of a parabola through the costs either side of the best whole move.
  const vertex = (minus: number, at: number, plus: number): number => {
    const curve = minus - 2 * at + plus;
    return Number.isFinite(curve) && curve > 0 ? Math.max(-0.5, Math.min(0.5, (minus - plus) / (2 * curve))) : 0;
  };
  const fx = vertex(cost(best.x - 1, best.y), best.cost, cost(best.x + 1, best.y));
  const fy = vertex(cost(best.x, best.y - 1), best.cost, cost(best.x, best.y + 1));
  return { x: best.x + fx, y: best.y + fy, cost: best.cost, standing };
}

/** Per-channel median of the frame's outermost pixels. */
function borderMedian(frame: Float32Array, size: FrameSize): Float32Array {
  const { width: w, height: h } = size;
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(x, (h - 1) * w + x);
  for (let y = 1; y < h - 1; y++) border.push(y * w, y * w + w - 1);
  return Float32Array.from({ length: size.channels }, (_, c) => percentile(border.map((p) => frame[c * w * h + p]!), 0.5));
}

function channelDistance2(frame: Float32Array, p: number, background: Float32Array, size: FrameSize): number {
  let sum = 0;
  for (let c = 0; c < size.channels; c++) {
    const d = frame[c * size.width * size.height + p]! - background[c]!;
    sum += d * d;
  }
  return sum;
}

/** 4-connected regions of pixels whose distance is above `threshold`. */
function connectedRegions(distance: Float32Array, threshold: number, size: FrameSize): number[][] {
  const { width: w, height: h } = size;
  const seen = new Uint8Array(w * h);
  const regions: number[][] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || distance[start]! <= threshold) continue;
    const region: number[] = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      region.push(p);
      const x = p % w;
      for (const q of [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, p - w, p + w]) {
        if (q < 0 || q >= w * h || seen[q] || distance[q]! <= threshold) continue;
        seen[q] = 1;
        stack.push(q);
      }
    }
    regions.push(region);
  }
  return regions;
}

/** The region and the pixels 8-adjacent to it: the soft edge goes with the object. */
function withRim(region: number[], size: FrameSize): number[] {
  const { width: w, height: h } = size;
  const inside = new Set(region);
  const rim = new Set<number>();
  for (const p of region) {
    const x = p % w;
    const y = Math.floor(p / w);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const [nx, ny] = [x + dx, y + dy];
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const q = ny * w + nx;
        if (!inside.has(q)) rim.add(q);
      }
    }
  }
  return [...region, ...rim];
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
