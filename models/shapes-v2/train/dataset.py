"""Procedural training data for shapes-v2: one coloured shape moving on a solid background.

Everything here is derived from ../vocabulary.json so the generator, the tokenizer and the
adherence check can never disagree about colours, shapes or motions.

Clip layout: float32 [C=3, F=16, H=32, W=32] in [-1, 1] (the denoiser's BCFHW without B).
"""
import json
import os
import re

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB_PATH = os.path.join(HERE, "..", "vocabulary.json")

with open(VOCAB_PATH) as f:
    VOCAB = json.load(f)

FRAMES = int(VOCAB["frames"])
SIZE = int(VOCAB["size"])
COLOURS = list(VOCAB["colours"].keys())
PALETTE = np.array([VOCAB["colours"][c] for c in COLOURS], dtype=np.float32)  # [K,3] 0..255
SHAPES = list(VOCAB["shapes"])
MOTIONS = list(VOCAB["motions"])
SYNONYMS = dict(VOCAB["synonyms"])  # synonym -> canonical word
# canonical -> list of synonyms, used to vary the prompt wording
SYNONYMS_OF = {}
for _syn, _canon in SYNONYMS.items():
    SYNONYMS_OF.setdefault(_canon, []).append(_syn)

# Words the prompts are built from besides colours/shapes/synonyms. A few extra verb forms
# ("moves", "grows", ...) make the model tolerant of natural phrasing; they are all in the
# tokenizer vocabulary, so none of them is [UNK].
FUNCTION_WORDS = [
    "a", "an", "the", "on", "moving", "background", "growing", "shrinking", "still",
    "left", "right", "up", "down", "with", "and", "over", "of", "in", "front",
    "to", "is", "moves", "grows", "shrinks", "static", ",", ".",
]

# Filler words that are deliberately NOT in the vocabulary: they become [UNK] and the model
# learns to ignore them (users write "a cinematic red ball ...").
FILLERS = [
    "cinematic", "beautiful", "slowly", "please", "4k", "shot", "very", "nice", "render",
    "video", "hd", "cute", "simple", "quickly", "animation", "small", "big", "bright",
    "dark", "clip", "scene", "smooth", "gently", "flat", "minimal", "abc",
]


def vocabulary_words():
    """Every whole word the tokenizer knows, in a stable order (ids 2.. follow this list)."""
    words = []
    for w in COLOURS + SHAPES + list(SYNONYMS.keys()) + FUNCTION_WORDS:
        if w not in words:
            words.append(w)
    return words


# Same splitting rule as the Hugging Face "Whitespace" pre-tokenizer: \w+|[^\w\s]+
_PRETOKENIZE = re.compile(r"\w+|[^\w\s]+")


def split_words(text):
    return _PRETOKENIZE.findall(text.lower())


# ----------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------

# Pixel-centre coordinates, shared by every render call.
_YY, _XX = np.meshgrid(np.arange(SIZE, dtype=np.float32) + 0.5,
                       np.arange(SIZE, dtype=np.float32) + 0.5, indexing="ij")

# Geometry (pixels at SIZE = 32; everything scales with SIZE / 32). v1 drew 8-12 px objects
# (growing 4.5-6 -> 14-16); v2 draws them larger so a square's corners and a triangle's slopes
# cover more pixels: the share of an object that tells the three shapes apart is fixed
# (~21% square vs circle), but its pixel count grows with the area.
_S = SIZE / 32.0
OBJECT_SIZE = (9.0 * _S, 14.0 * _S)        # still and moving objects
GROW_SMALL = (5.0 * _S, 6.5 * _S)          # growing / shrinking: from this ...
GROW_BIG = (15.0 * _S, 17.0 * _S)          # ... to this
TRAVEL = (14.0 * _S, 18.0 * _S)            # pixels travelled over the 16 frames (as v1)
EDGE_FRACTION = 0.3                        # moving clips that are a window of an edge-to-edge lap
LAP_GAP = (0.0, 6.0 * _S)                  # empty pixels of path between laps (off screen)


def _masks(shape, cx, cy, size):
    """Boolean masks [F,H,W] for one shape whose centre/size vary per frame (arrays [F])."""
    cx = cx[:, None, None]
    cy = cy[:, None, None]
    half = size[:, None, None] / 2.0
    dx = _XX[None] - cx
    dy = _YY[None] - cy
    if shape == "circle":
        return dx * dx + dy * dy <= half * half
    if shape == "square":
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if shape == "triangle":
        # Upward-pointing isosceles: apex at the top, base (width = size) at the bottom.
        # The triangle spans y in [cy-half, cy+half]; the half-width grows linearly from 0.
        frac = (dy + half) / (2.0 * half)  # 0 at apex, 1 at base
        return (frac >= 0) & (frac <= 1) & (np.abs(dx) <= frac * half)
    raise ValueError(shape)


def _edge_band(mask):
    """[F,H,W] bool: pixels on either side of the object's outline (4-neighbourhood)."""
    m = np.pad(mask, ((0, 0), (1, 1), (1, 1)), mode="edge")
    differs = ((m[:, 1:-1, 1:-1] != m[:, :-2, 1:-1]) | (m[:, 1:-1, 1:-1] != m[:, 2:, 1:-1])
               | (m[:, 1:-1, 1:-1] != m[:, 1:-1, :-2]) | (m[:, 1:-1, 1:-1] != m[:, 1:-1, 2:]))
    return differs


def _lap_window(rng, size, speed, at_exit=False, at_entry=False):
    """Positions [F] along the motion axis (increasing direction) for a window of a periodic
    edge-to-edge path: the object enters fully from off screen, crosses, leaves fully, and after
    a short gap the next lap enters again from the same side. The window starts at a random
    phase, so clips show the object entering, crossing, leaving, absent, and re-entering.
    This is what a chained continuation ("moving right", the last frames known) needs to have
    seen: an object at the exit edge has to go somewhere, and here it leaves and comes back.
    at_exit: the window starts with the object at the exit edge (its centre from 10 px short of
    touching it to 2 px short of gone), so it leaves within the window: what a chain's next
    window has to do when the last one ended at the edge, and what the step-16963 package did
    not do (given a disc's first four frames at x = 20-23, it stopped at the edge).
    at_entry: the window starts with the object out of the frame (up to 6 px of path before it
    comes in) or coming in at the entry edge (its centre up to 6 px in from fully off screen), so
    it enters within the window at its speed: what a chain's next window has to do after a lap,
    and what the step-25950 package did slowly (given a disc carried in at 1 px a frame, its
    leading edge came in at 0.4), so its chains lost speed at every lap."""
    half = size / 2.0
    start, end = -half - 0.5, SIZE + half + 0.5  # centre positions fully off screen
    period = (end - start) + rng.uniform(*LAP_GAP)
    if at_exit:
        phase = rng.uniform(SIZE - half - 10.0 * _S, SIZE + half - 2.0 * _S) - start
    elif at_entry:
        phase = np.mod(rng.uniform(-6.0 * _S, 6.0 * _S), period)
    else:
        phase = rng.uniform(0.0, period)
    k = np.arange(FRAMES, dtype=np.float32)
    pos = start + np.mod(phase + speed * k, period)
    return pos.astype(np.float32)


def render_geometry(rng, motion, lap=None):
    """Centre x, y and size per frame (arrays [F]) for one clip, and whether it is an edge clip.
    lap: True makes a moving clip a lap window, "exit" one that starts at the exit edge
    (_lap_window's at_exit), "entry" one that starts just before or as it comes in (at_entry),
    None leaves it to chance (EDGE_FRACTION)."""
    t = np.linspace(0.0, 1.0, FRAMES, dtype=np.float32)
    size = np.full(FRAMES, rng.uniform(*OBJECT_SIZE), dtype=np.float32)
    edge = False
    if motion in ("left", "right", "up", "down"):
        travel = rng.uniform(*TRAVEL)
        across = rng.uniform(size[0] / 2 + 1.5, SIZE - size[0] / 2 - 1.5)
        if (rng.random() < EDGE_FRACTION) if lap is None else lap:
            edge = True
            along = _lap_window(rng, float(size[0]), travel / (FRAMES - 1), at_exit=lap == "exit",
                                 at_entry=lap == "entry")
            if motion in ("left", "up"):
                along = SIZE - along
        else:
            # A path through the middle (v1), its centre moved a little more so that clips also
            # start and end part-way along a longer path.
            mid_along = SIZE / 2 + rng.uniform(-3.0, 3.0) * _S
            sign = -1.0 if motion in ("left", "up") else 1.0
            along = mid_along + sign * (t - 0.5) * travel
        if motion in ("left", "right"):
            cx, cy = along, np.full(FRAMES, across, dtype=np.float32)
        else:
            cx, cy = np.full(FRAMES, across, dtype=np.float32), along
    else:
        if motion in ("growing", "shrinking"):
            small, big = rng.uniform(*GROW_SMALL), rng.uniform(*GROW_BIG)
            size = (small + (big - small) * t).astype(np.float32)
            if motion == "shrinking":
                size = size[::-1].copy()
        lo = float(size.max()) / 2 + 2.0
        cx = np.full(FRAMES, rng.uniform(lo, SIZE - lo), dtype=np.float32)
        cy = np.full(FRAMES, rng.uniform(lo, SIZE - lo), dtype=np.float32)
    return cx.astype(np.float32), cy.astype(np.float32), size.astype(np.float32), edge


def pixel_colours(colour, background):
    """The object's and the background's RGB in the clips' [-1, 1] pixel units."""
    return PALETTE[COLOURS.index(colour)] / 127.5 - 1.0, PALETTE[COLOURS.index(background)] / 127.5 - 1.0


def render_clip(rng, shape, colour, background, motion, with_maps=False, geometry=None, lap=None):
    """Render one clip [3,F,H,W] float32 in [-1,1]. Geometry is randomised with `rng`.

    with_maps: also return the loss maps [3,F,H,W] bool: the object mask, the shape-deciding
    pixels (where the three shapes drawn with the same centre and size disagree: a square's
    corners, the sides a triangle leaves empty; both inside and outside this object) and the
    edge band (pixels either side of the outline).
    geometry: a dict to receive the per-frame centre and size ("cx", "cy", "size": [F] pixels;
    train.py supervises the denoiser's object locator with them)."""
    cx, cy, size, _ = render_geometry(rng, motion, lap)
    if geometry is not None:
        geometry.update(cx=cx, cy=cy, size=size)
    mask = _masks(shape, cx, cy, size)
    fg, bg = pixel_colours(colour, background)
    clip = np.where(mask[None], fg[:, None, None, None], bg[:, None, None, None]).astype(np.float32)
    if not with_maps:
        return clip
    return clip, loss_maps(shape, cx, cy, size, mask)


def loss_maps(shape, cx, cy, size, mask=None):
    """[3,F,H,W] bool for one shape drawn at per-frame centre/size (arrays [F]): the object mask,
    the shape-deciding pixels and the edge band (render_clip's with_maps). `mask`: the shape's
    own mask when the caller has it already."""
    if mask is None:
        mask = _masks(shape, cx, cy, size)
    all_shapes = [mask if s == shape else _masks(s, cx, cy, size) for s in SHAPES]
    union = np.logical_or.reduce(all_shapes)
    inter = np.logical_and.reduce(all_shapes)
    return np.stack([mask, union & ~inter, _edge_band(mask)])


# ----------------------------------------------------------------------------------------
# Prompts
# ----------------------------------------------------------------------------------------

def _word(rng, canonical, p_syn=0.3):
    """The canonical word or, sometimes, one of its synonyms."""
    syns = SYNONYMS_OF.get(canonical)
    if syns and rng.random() < p_syn:
        return syns[rng.integers(len(syns))]
    return canonical


def _article(rng, next_word):
    r = rng.random()
    if r < 0.6:
        return "an" if next_word[0] in "aeiou" else "a"
    if r < 0.8:
        return "the"
    return ""


def _join(*parts):
    return " ".join(p for p in parts if p)


def _motion_post(rng, motion):
    """Motion phrase placed after the noun ("... circle moving left")."""
    if motion in ("left", "right", "up", "down"):
        r = rng.random()
        if r < 0.55:
            return "moving " + motion
        if r < 0.75 and motion in ("left", "right"):
            return "moving to the " + motion
        if r < 0.9:
            return "moves " + motion
        return "is moving " + motion
    if motion == "growing":
        return ["growing", "grows", "is growing"][rng.integers(3)]
    if motion == "shrinking":
        return ["shrinking", "shrinks", "is shrinking"][rng.integers(3)]
    return ["still", "is still", "static"][rng.integers(3)]


def _bg_clause(rng, background):
    """Background as a prepositional phrase ("on a black background", "over black")."""
    c = _word(rng, background)
    noun = _join(_article(rng, c), c, "background") if rng.random() < 0.75 else c
    prep = ["on", "on", "on", "over", "with", "in front of"][rng.integers(6)]
    return prep + " " + noun


def _bg_noun(rng, background):
    """Background as a bare noun phrase ("black background", "a black background")."""
    c = _word(rng, background)
    art = _article(rng, c) if rng.random() < 0.4 else ""
    return _join(art, c, "background")


def make_prompt(rng, attrs, say_colour=True, say_motion=True, say_bg=True):
    """Build one prompt describing `attrs`. Templates vary word order on purpose so the
    text encoder has to use token positions to bind each colour to its noun."""
    colour = _word(rng, attrs["colour"]) if say_colour else ""
    shape = _word(rng, attrs["shape"])
    motion = attrs["motion"]
    # Adjective-style motion ("a growing red circle") only exists for these motions.
    pre_adj = ""
    post = _motion_post(rng, motion) if say_motion else ""
    if say_motion and motion in ("growing", "shrinking", "still") and rng.random() < 0.5:
        pre_adj, post = motion, ""
    head = _join(pre_adj, colour, shape)
    obj = _join(_article(rng, head), head)

    if not say_bg:
        return _join(obj, post)
    tpl = rng.integers(7)
    if tpl == 0:    # a red circle moving left on a black background
        return _join(obj, post, _bg_clause(rng, attrs["background"]))
    if tpl == 1:    # on a black background, a red circle moving left
        return _join(_bg_clause(rng, attrs["background"]) + ",", obj, post)
    if tpl == 2:    # red circle moving left, black background
        return _join(obj, post) + ", " + _bg_noun(rng, attrs["background"])
    if tpl == 3:    # a red circle on a black background moving left
        return _join(obj, _bg_clause(rng, attrs["background"]), post)
    if tpl == 4:    # black background with a red circle moving left
        return _join(_bg_noun(rng, attrs["background"]), "with", obj, post)
    if tpl == 5:    # black background, a red circle moving left
        return _bg_noun(rng, attrs["background"]) + ", " + _join(obj, post)
    # a red circle moving left and a black background
    return _join(obj, post, "and", _bg_noun(rng, attrs["background"]))


def _insert_fillers(rng, prompt):
    words = prompt.split(" ")
    for _ in range(rng.integers(1, 4)):
        words.insert(rng.integers(len(words) + 1), FILLERS[rng.integers(len(FILLERS))])
    return " ".join(words)


# How users open a prompt ("a video of a red ball ..."). "of" is in the vocabulary only for "in
# front of a <background>", so without these the step-30000 package read "a video of a pink
# triangle ... on a green background" as a pink background: 23% object colour on 48 such clips
# where the same prompts without "a video of" got 100% (shapes-v1: 92%).
FRAMINGS = ["a video of", "an animation of", "a clip of", "footage of", "a short film of", "a shot of",
            "a render of", "video of"]


def _framed(rng, prompt, rate):
    """`prompt` opened with one of FRAMINGS for a share `rate` of prompts; the rng is drawn only
    when rate > 0, so runs without framings keep their data stream."""
    if rate <= 0 or not prompt or rng.random() >= rate:
        return prompt
    return FRAMINGS[rng.integers(len(FRAMINGS))] + " " + prompt


def random_attrs(rng):
    shape = SHAPES[rng.integers(len(SHAPES))]
    colour = COLOURS[rng.integers(len(COLOURS))]
    background = COLOURS[rng.integers(len(COLOURS) - 1)]
    if background == colour:  # uniform over the colours other than the object's
        background = COLOURS[-1]
    motion = MOTIONS[rng.integers(len(MOTIONS))]
    return {"shape": shape, "colour": colour, "background": background, "motion": motion}


# What a prompt can state, and each attribute's classes (the attribute loss in train.py).
ATTRIBUTES = {"colour": COLOURS, "background": COLOURS, "shape": SHAPES, "motion": MOTIONS}


def sample_prompt(rng, attrs, framing=0.0):
    """(prompt, said) describing `attrs`; said[name] is whether the prompt states that attribute.
    framing: the share of prompts opened like "a video of" (FRAMINGS)."""
    if rng.random() < 0.1:
        return "", dict.fromkeys(ATTRIBUTES, False)  # empty prompt: the unconditional branch for CFG
    said = {"colour": rng.random() > 0.05, "shape": True,
            "motion": rng.random() > 0.15, "background": rng.random() > 0.15}
    prompt = make_prompt(rng, attrs, say_colour=said["colour"], say_motion=said["motion"],
                         say_bg=said["background"])
    if rng.random() < 0.1:
        prompt += "."
    if rng.random() < 0.3:
        prompt = _insert_fillers(rng, prompt)
    return _framed(rng, prompt, framing), said


def sample_example(rng, lap=None, framing=0.0):
    """One (clip, maps, prompt, attrs). Attributes the prompt leaves out are still random in the
    clip, so the model learns the unconditional spread for anything unspecified."""
    attrs = random_attrs(rng)
    geometry = {}
    clip, maps = render_clip(rng, **attrs, with_maps=True, geometry=geometry, lap=lap)
    prompt, _ = sample_prompt(rng, attrs, framing)
    return clip, maps, prompt, {**attrs, "geometry": geometry}


def sample_prompts(rng, n, framing=0.0):
    """n prompts without clips, and their labels [n, len(ATTRIBUTES)] int64: the class index of
    each stated attribute, -1 where the prompt leaves it out. Text-only data is ~1000x cheaper
    than a clip, so the attribute loss can see many more prompts per step than the denoiser."""
    prompts, labels = [], []
    for _ in range(n):
        attrs = random_attrs(rng)
        prompt, said = sample_prompt(rng, attrs, framing)
        prompts.append(prompt)
        labels.append([classes.index(attrs[name]) if said[name] else -1
                       for name, classes in ATTRIBUTES.items()])
    return prompts, np.array(labels, dtype=np.int64)


def sample_batch(rng, batch, lap=None, framing=0.0):
    """Deterministic given the state of `rng` (a numpy Generator).
    Returns (clips float32 [B,3,F,H,W], maps bool [B,3,F,H,W] (object, shape-deciding pixels,
    edge band: see render_clip), prompts list[str], attrs list[dict]). lap: None, or per clip
    True (a moving clip is a lap window), "exit" (one starting at the exit edge), "entry" (one
    starting as it comes in) or None (chance), see render_geometry. framing: see sample_prompt."""
    clips, maps, prompts, attrs = [], [], [], []
    for i in range(batch):
        c, m, p, a = sample_example(rng, None if lap is None else lap[i], framing)
        clips.append(c)
        maps.append(m)
        prompts.append(p)
        attrs.append(a)
    return np.stack(clips), np.stack(maps), prompts, attrs


# ----------------------------------------------------------------------------------------
# Adherence classification of generated clips (used by train.py's periodic check)
# ----------------------------------------------------------------------------------------

def _nearest_colour(rgb255):
    d = ((PALETTE - np.asarray(rgb255, dtype=np.float32)[None]) ** 2).sum(-1)
    return COLOURS[int(np.argmin(d))]


# The same constants and rules as models/eval/analyse-clip.ts (what `npm run eval` reads), so the
# training log predicts the eval.
OBJECT_DISTANCE = 60.0
MOVE_FRACTION = 0.12
GROW_RATIO = 1.6


# The shape reader of models/eval/read-shape.ts, step by step (its comment says why it fits
# outlines rather than reading a bounding box's fill ratio).
_FIT_OFFSETS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=np.float32)
_FIT_SCALES = np.array([0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2], dtype=np.float32)


def _largest_piece(mask):
    """Step 1: the largest 4-connected piece of a mask [H,W] (bool [H,W]) and whether it
    touches the frame's edge."""
    h, w = mask.shape
    seen = np.zeros_like(mask, dtype=bool)
    best, best_edge = np.zeros_like(mask, dtype=bool), False
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        stack, piece, edge = [(y0, x0)], [], False
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            piece.append((y, x))
            edge |= x == 0 or y == 0 or x == w - 1 or y == h - 1
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        if len(piece) > best.sum():
            best = np.zeros_like(mask, dtype=bool)
            best[tuple(np.array(piece).T)] = True
            best_edge = edge
    return best, best_edge


def fit_shape(shape, piece):
    """Step 3: the best intersection over union of `shape` with a piece (bool [H,W]) over
    centres and sizes near the piece's moments."""
    ys, xs = np.nonzero(piece)
    area = len(ys)
    mx, my = xs.mean() + 0.5, ys.mean() + 0.5
    r0 = {"circle": np.sqrt(area / np.pi), "square": np.sqrt(area) / 2,
          "triangle": np.sqrt(2 * area) / 2}[shape]
    cy0 = my - r0 / 3 if shape == "triangle" else my
    r, oy, ox = np.meshgrid(r0 * _FIT_SCALES, _FIT_OFFSETS, _FIT_OFFSETS, indexing="ij")
    r, cx, cy = r.ravel(), (mx + ox).ravel(), (cy0 + oy).ravel()
    drawn = _masks(shape, cx, cy, 2 * r)  # [K,H,W], one candidate per "frame"
    both = (drawn & piece[None]).sum((1, 2))
    return float((both / (area + drawn.sum((1, 2)) - both)).max())


def read_shape(masks):
    """The clip's shape from its object masks [F,H,W] (steps 1-4 of read-shape.ts): the largest
    piece per frame; the frames where it is whole and at least half its largest size (else the
    largest); each votes for the shape that fits it best; most votes, then summed fit, wins.
    None for fewer than 4 pixels."""
    pieces = [_largest_piece(m) for m in masks]
    sizes = [int(p.sum()) for p, _ in pieces]
    largest = max(sizes)
    if largest < 4:
        return None
    read = [p for (p, edge), n in zip(pieces, sizes) if not edge and n >= max(4, largest / 2)]
    if not read:
        read = [pieces[sizes.index(largest)][0]]
    votes, overlap = dict.fromkeys(SHAPES, 0), dict.fromkeys(SHAPES, 0.0)
    for piece in read:
        fits = {s: fit_shape(s, piece) for s in SHAPES}
        votes[max(SHAPES, key=fits.get)] += 1
        for s in SHAPES:
            overlap[s] += fits[s]
    return max(SHAPES, key=lambda s: (votes[s], overlap[s]))


def _read_motion(cx, cy, n):
    seen = n > 0
    if seen.sum() < 2:
        return "still"
    cx, cy, n = cx[seen], cy[seen], n[seen]
    q = max(1, len(n) // 4)
    ratio = n[-q:].mean() / max(1.0, n[:q].mean())
    dx = (cx[-q:].mean() - cx[:q].mean()) / SIZE
    dy = (cy[-q:].mean() - cy[:q].mean()) / SIZE
    if max(abs(dx), abs(dy)) >= MOVE_FRACTION:
        if abs(dx) >= abs(dy):
            return "left" if dx < 0 else "right"
        return "up" if dy < 0 else "down"
    if ratio >= GROW_RATIO:
        return "growing"
    if ratio <= 1 / GROW_RATIO:
        return "shrinking"
    return "still"


def classify_clip(clip):
    """Read {colour, background, shape, motion, flicker, fringe} from a clip [3,F,H,W] in [-1,1].

    A port of models/eval/analyse-clip.ts (background = palette colour most border pixels are
    nearest to, measured from the first frame's top row when close to it; object = pixels more
    than 60 RGB units from it; object colour = nearest palette colour to their median; shape by
    fitting the three shapes to the object's outline (read_shape); motion from the centroid
    track or the area ratio; flicker = mean change of background pixels between frames), plus:
    fringe: the rim chroma, the mean distance (0..255) of the pixels on the object's outline
    from the RGB segment between the background and object colours. A clean edge only mixes the
    two colours (distance 0); v1's blue/red rims around white/black objects are off that line."""
    rgb = np.round((np.clip(clip, -1, 1) + 1.0) * 127.5)  # uint8-like values, as the eval sees
    px = rgb.transpose(1, 2, 3, 0)  # [F,H,W,3]
    border = np.concatenate([px[:, 0, :].reshape(-1, 3), px[:, -1, :].reshape(-1, 3),
                             px[:, 1:-1, 0].reshape(-1, 3), px[:, 1:-1, -1].reshape(-1, 3)])
    d = ((border[:, None, :] - PALETTE[None]) ** 2).sum(-1)
    bg_idx = int(np.bincount(d.argmin(-1), minlength=len(COLOURS)).argmax())
    bg_name = COLOURS[bg_idx]
    bg_rgb = np.median(px[0, 0, :, :], axis=0)
    if np.linalg.norm(bg_rgb - PALETTE[bg_idx]) >= OBJECT_DISTANCE:
        bg_rgb = PALETTE[bg_idx]
    dist = np.linalg.norm(px - bg_rgb, axis=-1)  # [F,H,W]
    mask = dist > OBJECT_DISTANCE
    n = mask.reshape(FRAMES, -1).sum(1).astype(np.float64)
    out = {"background": bg_name, "colour": None, "shape": None, "motion": "still",
           "flicker": 0.0, "fringe": 0.0}
    # Flicker: background pixels (outside the object in both frames) changing between frames.
    still_bg = ~(mask[1:] | mask[:-1])
    if still_bg.any():
        out["flicker"] = float(np.abs(px[1:] - px[:-1]).mean(-1)[still_bg].mean())
    if n.sum() == 0:
        return out
    obj_rgb = np.median(px[mask], axis=0)
    out["colour"] = _nearest_colour(obj_rgb)
    out["shape"] = read_shape(mask)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (mask * xs).reshape(FRAMES, -1).sum(1) / n
        cy = (mask * ys).reshape(FRAMES, -1).sum(1) / n
    out["motion"] = _read_motion(cx, cy, n)
    # Fringe on the outline of the object mask, against the segment bg -> object colour.
    band = _edge_band(mask)
    if band.any():
        seg = PALETTE[COLOURS.index(out["colour"])] - bg_rgb
        rel = px[band] - bg_rgb
        u = np.clip((rel @ seg) / max(float(seg @ seg), 1e-6), 0.0, 1.0)
        out["fringe"] = float(np.linalg.norm(rel - u[:, None] * seg[None], axis=-1).mean())
    return out


# ----------------------------------------------------------------------------------------
# Debug: write a PNG contact sheet (one row per clip, frames left to right)
# ----------------------------------------------------------------------------------------

def write_png(path, img):
    """Minimal PNG writer for uint8 [H,W,3] (avoids a dependency on PIL)."""
    import struct
    import zlib
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def contact_sheet(clips, scale=2):
    """clips [B,3,F,H,W] in [-1,1] -> uint8 image [B*H*s, F*W*s, 3] with 1px separators."""
    b, f = clips.shape[0], clips.shape[2]
    img = ((np.clip(clips, -1, 1) + 1) * 127.5).round().astype(np.uint8)
    img = img.transpose(0, 3, 2, 4, 1)  # [B,H,F,W,3]
    img = np.pad(img, ((0, 0), (0, 1), (0, 0), (0, 1), (0, 0)), constant_values=255)
    img = img.reshape(b * (SIZE + 1), f * (SIZE + 1), 3)
    return img.repeat(scale, 0).repeat(scale, 1)


def _test_classifier(rng, n=300):
    """Accuracy of classify_clip on rendered clips (the renderer is the ground truth)."""
    hits = dict.fromkeys(["colour", "background", "shape", "motion"], 0)
    for _ in range(n):
        attrs = random_attrs(rng)
        got = classify_clip(render_clip(rng, **attrs))
        for k in hits:
            hits[k] += got[k] == attrs[k]
    return {k: v / n for k, v in hits.items()}


if __name__ == "__main__":
    import time
    rng = np.random.default_rng(0)
    clips, maps, prompts, attrs = sample_batch(rng, 12)
    for clip, p, a in zip(clips, prompts, attrs):
        got = classify_clip(clip)
        print(f"{p!r:70s} {a}  -> {got['colour']} {got['background']} {got['shape']} {got['motion']}")
    write_png("/tmp/samples.png", contact_sheet(clips))
    write_png("/tmp/sample_maps.png", contact_sheet(maps[:, [1, 2, 0]].astype(np.float32) * 2 - 1))
    print("classifier on 300 rendered clips:", _test_classifier(np.random.default_rng(1)))
    t0 = time.time()
    sample_batch(rng, 64)
    print("64 clips in %.3fs" % (time.time() - t0))
