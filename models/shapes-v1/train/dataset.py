"""Procedural training data for shapes-v1: one coloured shape moving on a solid background.

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


def render_clip(rng, shape, colour, background, motion):
    """Render one clip [3,F,H,W] float32 in [-1,1]. Geometry is randomised with `rng`."""
    t = np.linspace(0.0, 1.0, FRAMES, dtype=np.float32)
    size = np.full(FRAMES, rng.uniform(8.0, 12.0), dtype=np.float32)
    if motion in ("left", "right", "up", "down"):
        travel = rng.uniform(14.0, 18.0)
        # The path is centred near the middle of the frame so the object stays inside.
        mid_along = SIZE / 2 + rng.uniform(-1.5, 1.5)
        across = rng.uniform(9.0, SIZE - 9.0)
        sign = -1.0 if motion in ("left", "up") else 1.0
        along = mid_along + sign * (t - 0.5) * travel
        if motion in ("left", "right"):
            cx, cy = along, np.full(FRAMES, across, dtype=np.float32)
        else:
            cx, cy = np.full(FRAMES, across, dtype=np.float32), along
    else:
        cx = np.full(FRAMES, rng.uniform(11.0, SIZE - 11.0), dtype=np.float32)
        cy = np.full(FRAMES, rng.uniform(11.0, SIZE - 11.0), dtype=np.float32)
        if motion in ("growing", "shrinking"):
            small, big = rng.uniform(4.5, 6.0), rng.uniform(14.0, 16.0)
            size = small + (big - small) * t
            if motion == "shrinking":
                size = size[::-1].copy()
    mask = _masks(shape, cx.astype(np.float32), cy.astype(np.float32), size.astype(np.float32))
    fg = PALETTE[COLOURS.index(colour)] / 127.5 - 1.0
    bg = PALETTE[COLOURS.index(background)] / 127.5 - 1.0
    clip = np.where(mask[None], fg[:, None, None, None], bg[:, None, None, None])
    return clip.astype(np.float32)


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


def sample_prompt(rng, attrs):
    """(prompt, said) describing `attrs`; said[name] is whether the prompt states that attribute."""
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
    return prompt, said


def sample_example(rng):
    """One (clip, prompt, attrs). Attributes the prompt leaves out are still random in the
    clip, so the model learns the unconditional spread for anything unspecified."""
    attrs = random_attrs(rng)
    clip = render_clip(rng, **attrs)
    prompt, _ = sample_prompt(rng, attrs)
    return clip, prompt, attrs


def sample_prompts(rng, n):
    """n prompts without clips, and their labels [n, len(ATTRIBUTES)] int64: the class index of
    each stated attribute, -1 where the prompt leaves it out. Text-only data is ~1000x cheaper
    than a clip, so the attribute loss can see many more prompts per step than the denoiser."""
    prompts, labels = [], []
    for _ in range(n):
        attrs = random_attrs(rng)
        prompt, said = sample_prompt(rng, attrs)
        prompts.append(prompt)
        labels.append([classes.index(attrs[name]) if said[name] else -1
                       for name, classes in ATTRIBUTES.items()])
    return prompts, np.array(labels, dtype=np.int64)


def sample_batch(rng, batch):
    """Deterministic given the state of `rng` (a numpy Generator).
    Returns (clips float32 [B,3,F,H,W], prompts list[str], attrs list[dict])."""
    clips, prompts, attrs = [], [], []
    for _ in range(batch):
        c, p, a = sample_example(rng)
        clips.append(c)
        prompts.append(p)
        attrs.append(a)
    return np.stack(clips), prompts, attrs


# ----------------------------------------------------------------------------------------
# Adherence classification of generated clips (used by train.py's periodic check)
# ----------------------------------------------------------------------------------------

def _nearest_colour(rgb255):
    d = ((PALETTE - rgb255[None]) ** 2).sum(-1)
    return COLOURS[int(np.argmin(d))]


def classify_clip(clip):
    """Guess {colour, background, motion} of a clip [3,F,H,W] in [-1,1].

    background = palette colour most common on the border; object = pixels whose nearest
    palette colour differs from the background; motion from the object's centroid track
    (or its pixel count for growing/shrinking)."""
    rgb = (np.clip(clip, -1, 1) + 1.0) * 127.5  # [3,F,H,W]
    px = rgb.transpose(1, 2, 3, 0)  # [F,H,W,3]
    d = ((px[..., None, :] - PALETTE) ** 2).sum(-1)  # [F,H,W,K]
    idx = d.argmin(-1)  # [F,H,W] palette index per pixel
    border = np.concatenate([idx[:, 0, :].ravel(), idx[:, -1, :].ravel(),
                             idx[:, :, 0].ravel(), idx[:, :, -1].ravel()])
    bg = int(np.bincount(border, minlength=len(COLOURS)).argmax())
    fg_mask = idx != bg
    counts = fg_mask.reshape(FRAMES, -1).sum(1).astype(np.float32)
    if fg_mask.sum() == 0:
        return {"colour": None, "background": COLOURS[bg], "motion": None}
    colour = COLOURS[int(np.bincount(idx[fg_mask], minlength=len(COLOURS)).argmax())]

    # Centroid track over frames that actually show an object.
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    valid = counts > 3
    if valid.sum() < 4:
        return {"colour": colour, "background": COLOURS[bg], "motion": None}
    cx = (fg_mask * xs).reshape(FRAMES, -1).sum(1)[valid] / counts[valid]
    cy = (fg_mask * ys).reshape(FRAMES, -1).sum(1)[valid] / counts[valid]
    k = max(1, int(valid.sum()) // 4)
    dx = cx[-k:].mean() - cx[:k].mean()
    dy = cy[-k:].mean() - cy[:k].mean()
    c = counts[valid]
    growth = (c[-k:].mean() + 1) / (c[:k].mean() + 1)
    if max(abs(dx), abs(dy)) > 5:
        if abs(dx) >= abs(dy):
            motion = "right" if dx > 0 else "left"
        else:
            motion = "down" if dy > 0 else "up"
    elif growth > 2.0:
        motion = "growing"
    elif growth < 0.5:
        motion = "shrinking"
    elif max(abs(dx), abs(dy)) < 2 and 0.75 < growth < 1.33:
        motion = "still"
    else:
        motion = None
    return {"colour": colour, "background": COLOURS[bg], "motion": motion}


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
    b = clips.shape[0]
    img = ((np.clip(clips, -1, 1) + 1) * 127.5).round().astype(np.uint8)
    img = img.transpose(0, 3, 2, 4, 1)  # [B,H,F,W,3]
    img = np.pad(img, ((0, 0), (0, 1), (0, 0), (0, 1), (0, 0)), constant_values=255)
    img = img.reshape(b * (SIZE + 1), FRAMES * (SIZE + 1), 3)
    return img.repeat(scale, 0).repeat(scale, 1)


if __name__ == "__main__":
    import time
    rng = np.random.default_rng(0)
    clips, prompts, attrs = sample_batch(rng, 12)
    for clip, p, a in zip(clips, prompts, attrs):
        print(f"{p!r:70s} {a}  -> {classify_clip(clip)}")
    write_png("/tmp/samples.png", contact_sheet(clips))
    t0 = time.time()
    sample_batch(rng, 64)
    print("64 clips in %.3fs" % (time.time() - t0))
