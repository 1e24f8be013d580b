"""Train shapes-v2 on CPU. Resumes automatically from checkpoints/latest.pt.

    python3 train.py [--steps N] [--batch B]

Logs to train.log (next to this file): one line per --log-every steps, and an adherence
check (generate fixed prompts with the EMA weights, classify the clips) every --eval-every.
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn

import dataset
import diffusion
from net import Denoiser, Linear, TextEncoder, count_params
from tokenizer import TOKENS, encode

HERE = os.path.dirname(os.path.abspath(__file__))
CKPT_DIR = os.path.join(HERE, "checkpoints")
LATEST = os.path.join(CKPT_DIR, "latest.pt")
LOG_PATH = os.path.join(HERE, "train.log")

# glibc returns every freed block over 32 MB to the kernel (mmap/munmap), so each full-resolution
# activation of a batch (16 clips x 16 frames x 16+ channels x 32x32 floats: 33 MB+) was a fresh
# mapping whose pages faulted in one by one: an elementwise op on such a tensor took ~100 ms
# instead of ~2 ms, and a training step 1.8 s instead of 0.8 s. These settings keep freed
# memory in the process. They must be set before the process starts, so train.py re-executes
# itself with them (the same command still works).
MALLOC_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "100000000000"}


ATTRIBUTE_CLASSES = sum(len(c) for c in dataset.ATTRIBUTES.values())


class ShapesModel(nn.Module):
    """Both trainable graphs in one module so optimiser, EMA and checkpoints treat them as one,
    plus the attribute head, which only training uses (export writes `text` and `denoiser`)."""

    def __init__(self):
        super().__init__()
        self.text = TextEncoder(len(TOKENS))
        self.denoiser = Denoiser()
        self.attributes = Linear(self.denoiser.text_norm.normalized_shape[0], ATTRIBUTE_CLASSES)

    def forward(self, x, t, ids):
        return self.denoiser(x, t, self.text(ids))

    def attribute_loss(self, ids, labels):
        """Cross-entropy of every stated attribute (object colour, background, shape, motion) read
        back linearly from the prompt's conditioning vector.

        The diffusion loss teaches the prompt only through the few samples near t = 999, and
        only after the denoiser has learnt to use it: at step 2400 of this recipe without this
        loss the mean clip for "a red circle on a black background" and for "a black circle on
        a red background" were the same brown blur, the colours mentioned with no binding. This
        loss makes each attribute a direction of the vector FiLM reads, from cheap text-only
        prompts, so the denoiser gets a prompt it can use from early on."""
        logits = self.attributes(self.denoiser.text_vector(self.text(ids)))
        losses, start = [], 0
        for classes in dataset.ATTRIBUTES.values():
            part = logits[:, start:start + len(classes)]
            target = labels[:, len(losses)]
            if (target >= 0).any():
                losses.append(nn.functional.cross_entropy(part, target, ignore_index=-1))
            start += len(classes)
        return torch.stack(losses).mean()


# Fixed adherence prompts. They are not drawn from the training rng, include swapped colour
# pairs (binding), synonyms and unknown filler words.
# (prompt, colour, background, motion, shape). v1's 24 prompts, a few shape words changed so the
# three shapes are balanced (8 each) and every shape appears with every kind of motion.
EVAL_PROMPTS = [
    ("a red circle moving left on a black background", "red", "black", "left", "circle"),
    ("a black triangle moving left on a red background", "black", "red", "left", "triangle"),
    ("a blue square moving right on a yellow background", "blue", "yellow", "right", "square"),
    ("a yellow square moving right on a blue background", "yellow", "blue", "right", "square"),
    ("on a white background, a green triangle moving up", "green", "white", "up", "triangle"),
    ("on a green background, a white square moving up", "white", "green", "up", "square"),
    ("orange ball moving down, purple background", "orange", "purple", "down", "circle"),
    ("purple triangle moving down, orange background", "purple", "orange", "down", "triangle"),
    ("a growing pink circle on a gray background", "pink", "gray", "growing", "circle"),
    ("a growing gray triangle on a pink background", "gray", "pink", "growing", "triangle"),
    ("a cyan square shrinking on a black background", "cyan", "black", "shrinking", "square"),
    ("a black circle shrinking on a cyan background", "black", "cyan", "shrinking", "circle"),
    ("a still yellow triangle on red", "yellow", "red", "still", "triangle"),
    ("a still red square on yellow", "red", "yellow", "still", "square"),
    ("a white box on a blue background moving left", "white", "blue", "left", "square"),
    ("a blue ball on a white background moving right", "blue", "white", "right", "circle"),
    ("cinematic shot of a green circle moving up on a purple background, 4k", "green", "purple", "up", "circle"),
    ("a beautiful magenta ball moving down over a grey background", "pink", "gray", "down", "circle"),
    ("black background with a violet triangle growing", "purple", "black", "growing", "triangle"),
    ("an orange square shrinking in front of a white background", "orange", "white", "shrinking", "square"),
    ("a red square moving right on a green background", "red", "green", "right", "square"),
    ("a green triangle moving right on a red background", "green", "red", "right", "triangle"),
    ("a aqua circle still on an orange background", "cyan", "orange", "still", "circle"),
    ("a pink triangle moving left on a blue background please", "pink", "blue", "left", "triangle"),
]

# Chained continuation check: a clip, then three extensions that keep its last 4 frames (the
# runtime's default overlap) as known frames; 16 + 3 x 12 frames. Moving objects leave the frame
# within one or two extensions, which v1 never saw in its data.
EXTEND_PROMPTS = [
    ("a red circle moving right on a black background", "red", "black"),
    ("a white square moving left on a blue background", "white", "blue"),
    ("a yellow triangle moving up on a purple background", "yellow", "purple"),
    ("a black square moving down on a white background", "black", "white"),
]
EXTEND_OVERLAP = 4
EXTEND_TIMES = 3


def log(msg):
    line = time.strftime("%Y-%m-%d %H:%M:%S ") + msg
    print(line, flush=True)
    with open(LOG_PATH, "a") as f:
        f.write(line + "\n")


def pick_threads(max_threads, current):
    """Use all --threads only when the machine is otherwise idle.

    The cores are shared with tests and builds. Under contention, two OpenMP threads spend
    most of their time waiting for each other at barriers (measured: ~7x the CPU time per
    step of a single thread), so one thread makes more progress and disturbs others less."""
    others = os.getloadavg()[0] - current  # the load average counts our own threads too
    return max_threads if others < 0.7 else 1


def running_mean(previous, value):
    """The smoothed figure the log shows (None before the first step)."""
    return value if previous is None else 0.98 * previous + 0.02 * value


def lr_at(step, args):
    """Linear warm-up, cosine decay from --lr to --min-lr at --steps, then flat."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    rate = args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))
    # Started from a package (--init-from): the optimiser's moments are new, so warm up again.
    since = step - getattr(args, "rewarm_from", -args.warmup)
    return rate * min(1.0, (since + 1) / args.warmup)


@torch.no_grad()
def ema_update(ema, model, step, max_decay):
    # Warm-up so the EMA tracks quickly early on instead of averaging in the random init.
    decay = min(max_decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)


@torch.no_grad()
def generate(model, prompts, steps=12, guidance=3.0, solver="dpmpp-2m", seed=0, chunk=8, known=None,
             clean_known=False):
    """Classifier-free guided sampling exactly as the runtime does it (cond + "" uncond).
    known: optional [len(prompts),3,k,H,W] clean leading frames (extension)."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, len(prompts), chunk):
        batch = prompts[i:i + chunk]
        ids = torch.from_numpy(encode(list(batch) + [""] * len(batch)))
        enc = model.text(ids)
        n = len(batch)

        def v_fn(x, t):
            v = model.denoiser(torch.cat([x, x]), torch.cat([t, t]), enc)
            vc, vu = v[:n], v[n:]
            return vu + guidance * (vc - vu)
        out.append(diffusion.sample(v_fn, (n, 3, dataset.FRAMES, dataset.SIZE, dataset.SIZE),
                                    steps=steps, solver=solver, generator=gen,
                                    known=None if known is None else known[i:i + chunk],
                                    clean_known=clean_known))
    return torch.cat(out).numpy()


def adherence(model, **kw):
    """Fractions of EVAL_PROMPTS whose clip shows the right colour / background / motion / shape
    (and all four), the mean background flicker and the mean rim chroma (dataset.classify_clip)."""
    clips = generate(model, [p[0] for p in EVAL_PROMPTS], **kw)
    hits, flicker, fringe = np.zeros(5), [], []
    for clip, (_, colour, bg, motion, shape) in zip(clips, EVAL_PROMPTS):
        got = dataset.classify_clip(clip)
        ok = [got["colour"] == colour, got["background"] == bg, got["motion"] == motion,
              got["shape"] == shape]
        hits += ok + [all(ok)]
        flicker.append(got["flicker"])
        fringe.append(got["fringe"])
    return hits / len(EVAL_PROMPTS), float(np.mean(flicker)), float(np.mean(fringe)), clips


def extend_check(model, steps=12, guidance=3.0, clean_known=False):
    """Chained continuations of EXTEND_PROMPTS. Returns (colour ok, background ok, share of new
    frames that show the object) over the 3 x 4 extensions, and the chains [4,3,F_total,H,W]."""
    prompts = [p[0] for p in EXTEND_PROMPTS]
    clip = generate(model, prompts, steps=steps, guidance=guidance, seed=1)
    chains, colour_ok, bg_ok, present = [clip], 0, 0, []
    for k in range(EXTEND_TIMES):
        known = torch.from_numpy(clip[:, :, -EXTEND_OVERLAP:])
        clip = generate(model, prompts, steps=steps, guidance=guidance, seed=2 + k, known=known,
                        clean_known=clean_known)
        chains.append(clip[:, :, EXTEND_OVERLAP:])
        for c, (_, colour, bg) in zip(clip, EXTEND_PROMPTS):
            got = dataset.classify_clip(c)
            colour_ok += got["colour"] == colour
            bg_ok += got["background"] == bg
            # new frames whose object (pixels far from the background) has > 3 pixels
            rgb = (np.clip(c[:, EXTEND_OVERLAP:], -1, 1) + 1) * 127.5
            far = np.linalg.norm(rgb - dataset.PALETTE[dataset.COLOURS.index(bg)][:, None, None, None], axis=0) > 60
            present.append((far.reshape(far.shape[0], -1).sum(1) > 3).mean())
    n = len(prompts) * EXTEND_TIMES
    return colour_ok / n, bg_ok / n, float(np.mean(present)), np.concatenate(chains, axis=2)


def loss_weights(maps, t, args):
    """Per-pixel weights [B,1,F,H,W] of the v-MSE from dataset maps [B,3,F,H,W] (object,
    shape-deciding pixels, edge band), faded out over --weight-fade-t by timestep t [B].

    The maps come from the clean clip, so the weighted MSE's optimum is not the posterior mean
    but E[w x0 | x_t] / E[w | x_t]: where x_t leaves it open whether a pixel is object or
    background, the estimate leans toward whichever the weights favour there. A square's
    shape-deciding pixels (its corners) all lie inside it, a triangle's mostly outside it (the
    sides it leaves empty), a circle's on both sides; the step-40650 package draws squares at 1.6x
    the data's area, triangles at 0.85x and circles at 1.04x. Above the fade's top the object is
    still undecided in x_t and the weights are 1; below its bottom x_t fixes the outline and
    the weights only steer capacity.

    The outline's place is open by a pixel or more wherever x_t is noisy enough (the renderer's
    centres and sizes are continuous). --weight-margin PX spreads the three maps PX pixels past
    their outlines, so a pixel the outline may fall on either side of weighs the same both ways
    and the optimum there is the posterior mean. Measured on the step-40650 package (trained
    without a fade; train/README.md, nineteenth stretch), the clean estimate from x_t noised from
    still clips holds 0.90-1.01x the object's mass at t = 100-300, but squares 1.09x at t = 500
    and 1.36x at t = 700: the bias is where x_t leaves more than a pixel open, the fade's range."""
    if args.weight_margin:
        m = args.weight_margin
        maps = nn.functional.max_pool3d(maps, (1, 2 * m + 1, 2 * m + 1), stride=1, padding=(0, m, m))
    obj, shape, edge = maps[:, 0:1], maps[:, 1:2], maps[:, 2:3]
    extra = args.object_weight * obj + args.shape_weight * shape + args.edge_weight * edge
    if args.weight_fade_t is not None:
        lo, hi = args.weight_fade_t
        fade = ((hi - t.float()) / (hi - lo)).clamp(0.0, 1.0)  # main() checks lo < hi
        extra = extra * fade.view(-1, 1, 1, 1, 1)
    return 1.0 + extra


def colour_axis(attrs):
    """[B,3,1,1,1] unit vector from each clip's background colour to its object colour (in [-1,1]
    pixel units): the line a clean edge's pixels lie on. Errors off it are colour fringes."""
    fg = np.stack([dataset.PALETTE[dataset.COLOURS.index(a["colour"])] for a in attrs])
    bg = np.stack([dataset.PALETTE[dataset.COLOURS.index(a["background"])] for a in attrs])
    u = fg - bg
    u = u / np.linalg.norm(u, axis=1, keepdims=True).clip(min=1e-6)
    return torch.from_numpy(u.astype(np.float32))[:, :, None, None, None]


def locate_loss(denoiser, attrs):
    """Mean squared error of the denoiser's object locator (its last forward) against the
    renderer's geometry: centre in the coordinate maps' [-1, 1] units and log half-size (half-size
    in the same units is size / S). Frames whose centre is off screen (lap windows) are left
    out: a spatial softmax cannot point outside the frame."""
    centre, log_half = denoiser.last_locate
    half = dataset.SIZE / 2.0
    cx = np.stack([a["geometry"]["cx"] for a in attrs]) / half - 1.0  # [B, F]
    cy = np.stack([a["geometry"]["cy"] for a in attrs]) / half - 1.0
    lh = np.log(np.stack([a["geometry"]["size"] for a in attrs]) / dataset.SIZE)
    on = ((np.abs(cx) <= 1) & (np.abs(cy) <= 1)).astype(np.float32).reshape(-1)
    target = torch.from_numpy(np.stack([cx, cy, lh], axis=-1).reshape(-1, 3).astype(np.float32))
    err = (torch.cat([centre, log_half], dim=1) - target).pow(2).sum(1)
    on = torch.from_numpy(on)
    return (err * on).sum() / on.sum().clamp(min=1.0)


def shape_templates(attrs):
    """[B,3,F,H,W] float: the circle, square and triangle (dataset.SHAPES order) drawn at each
    clip's rendered centre and size, and the index of the clip's own shape [B]."""
    masks = [np.stack([dataset._masks(s, a["geometry"]["cx"], a["geometry"]["cy"], a["geometry"]["size"])
                       for s in dataset.SHAPES]) for a in attrs]
    target = [dataset.SHAPES.index(a["shape"]) for a in attrs]
    return torch.from_numpy(np.stack(masks).astype(np.float32)), torch.tensor(target)


def shape_loss(pred, xt, t, attrs, prompts, args):
    """Cross-entropy of a fixed, parameter-free shape reader on the denoiser's clean estimate.

    The weighted v-MSE is satisfied by a blob that is the average of the three shapes wherever
    the shape is uncertain, and after 12000 steps the samples read as chance (42-46%) although
    the prompt vector carries the shape (the attribute head reads it). This term asks for a
    decision: the predicted clean clip x0 = a*x_t - s*v is projected on the background->object
    colour line (0 = background, 1 = object); each frame's projection is compared with the three
    shapes drawn at the rendered centre and size, over the pixels where they disagree; the three
    mean squared distances, scaled by --shape-ce-sharpness, are logits for a cross-entropy
    against the asked shape. Samples with a non-empty prompt (the unconditional branch keeps its
    spread) and t <= --shape-ce-max-t count, and only frames with at least 12 disagreeing pixels
    on screen. The step-12043 package's cross-entropy by timestep on one batch: 0.08 at t = 300,
    0.23 at 800, 0.47 at 920, 0.57 at 960, 0.89 at 999 (ln 3 = 1.10 is a blob): the shape is
    fine once x_t shows it and undecided where the sampler's first steps decide it. But above
    t ~ 800, x_t does not yet show where the object is, while the templates sit at the clip's
    true place: the mean clip that wins there puts each shape's mass where it differs from the
    others, and the sampler keeps it. The step-25950 package, trained with every timestep
    counting, drew circles 3.5 px above the data's centre, triangles 6.5 px below it and squares
    at twice the area (diagnose.py's placement probe), and its continuations drifted toward
    those places. So by default only t <= 750 counts (train/README.md, thirteenth stretch), and
    with --shape-ce-own-place the samples above it count with the shapes drawn where the
    estimate has its own mass (own_place_templates), which asks for a shape and not a place."""
    stated = torch.tensor([p.strip() != "" for p in prompts])
    low = (t <= args.shape_ce_max_t) & stated
    high = (t > args.shape_ce_max_t) & stated if args.shape_ce_own_place else torch.zeros_like(stated)
    logits, labels = [], []
    for use, own_place in ((low, False), (high, True)):
        if not use.any():
            continue
        idx = use.nonzero().squeeze(1)
        sub = [attrs[i] for i in idx.tolist()]
        u = object_share(pred[idx], xt[idx], t[idx], sub)  # [b,F,H,W]
        templates, target = own_place_templates(u.detach(), sub) if own_place else shape_templates(sub)
        region = (templates.amax(1) - templates.amin(1))  # where the shapes disagree [b,F,H,W]
        count = region.sum(dim=(2, 3))  # [b,F]
        dist = ((u[:, None] - templates).pow(2) * region[:, None]).sum(dim=(3, 4)) / count[:, None].clamp(min=1.0)
        frames = (count >= 12).reshape(-1)
        logits.append((-args.shape_ce_sharpness * dist.permute(0, 2, 1).reshape(-1, 3))[frames])  # [b*F, 3]
        labels.append(target[:, None].expand(-1, dataset.FRAMES).reshape(-1)[frames])
    if sum(len(l) for l in labels) == 0:
        return pred.sum() * 0.0
    return nn.functional.cross_entropy(torch.cat(logits), torch.cat(labels))


def object_share(pred, xt, t, attrs):
    """[b,F,H,W]: the clean estimate x0 = a*x_t - s*v projected on each clip's background->object
    colour line (0 = background, 1 = object)."""
    ab = diffusion.ABAR[t].view(-1, 1, 1, 1, 1)
    return colour_share(ab.sqrt() * xt - (1 - ab).sqrt() * pred, attrs)


def colour_share(x0, attrs):
    """[b,F,H,W]: clean clips [b,3,F,H,W] projected on each clip's background->object colour line."""
    fg, bg = zip(*(dataset.pixel_colours(a["colour"], a["background"]) for a in attrs))
    fg, bg = torch.from_numpy(np.stack(fg)).float(), torch.from_numpy(np.stack(bg)).float()
    axis = (fg - bg)[:, :, None, None, None]
    return ((x0 - bg[:, :, None, None, None]) * axis).sum(1) / axis.pow(2).sum(1).clamp(min=1e-3)


# A shape's area over its size squared (dataset._masks: size is a circle's diameter, a square's
# side, a triangle's base and height).
AREA_PER_SIZE2 = {"circle": math.pi / 4, "square": 1.0, "triangle": 0.5}


def own_place_templates(u, attrs):
    """Like shape_templates, but each frame's three shapes are drawn where `u` [b,F,H,W] (the
    estimate's object_share, detached, or the asked shape's own mask for decoys) has its mass: at
    its centroid, each shape at the size whose area is the mass. Above --shape-ce-max-t x_t does not show where the object is; drawn at
    the clip's true place the templates rewarded a place per shape (the step-25950 package drew
    triangles 6.5 px low), drawn at the estimate's own place they reward only the shape."""
    m = u.clamp(0, 1).numpy()
    area = m.sum(axis=(2, 3)).clip(min=1e-3)  # [b,F]
    cx = (m * dataset._XX).sum(axis=(2, 3)) / area
    cy = (m * dataset._YY).sum(axis=(2, 3)) / area
    masks = []
    for i in range(len(attrs)):
        drawn = []
        for s in dataset.SHAPES:
            size = np.sqrt(area[i] / AREA_PER_SIZE2[s]).clip(2, dataset.SIZE)
            # A triangle's centroid is a sixth of its height below the centre _masks draws it at.
            drawn.append(dataset._masks(s, cx[i], cy[i] - (size / 6 if s == "triangle" else 0), size))
        masks.append(np.stack(drawn))
    target = [dataset.SHAPES.index(a["shape"]) for a in attrs]
    return torch.from_numpy(np.stack(masks).astype(np.float32)), torch.tensor(target)


def drawn(mask, attrs):
    """[3,F,H,W]: the object drawn as `mask` [F,H,W] (float tensor) in the sample's colours."""
    fg, bg = (torch.from_numpy(c.astype(np.float32))[:, None, None, None]
              for c in dataset.pixel_colours(attrs["colour"], attrs["background"]))
    return bg + mask[None] * (fg - bg)


def noised_from(mask, attrs, x0, noise, t):
    """One sample's x_t noised from a decoy (the object drawn as `mask` [F,H,W] in the sample's
    colours) and the target v that gives back the true clip x0 from it: x0 = a*x_t - s*v."""
    decoy = drawn(mask, attrs)
    ab = diffusion.ABAR[t]
    xt = ab.sqrt() * decoy + (1 - ab).sqrt() * noise
    return xt, (ab.sqrt() * xt - x0) / (1 - ab).sqrt()


def decoy_inputs(x0, noise, t, xt, target, attrs, prompts, rng, args):
    """Noisy inputs drawn from the wrong shape, with the asked shape as the target.

    Measured on the step-12043 package (models/shapes-v2/train/README.md, *Eighth stretch*): fed
    x_t noised from a clip whose object has another shape at the same place, size and colour,
    its clean estimate followed x_t, not the prompt (the asked shape in 12% of clips at t = 750,
    19% at 850, 40% at 920), and from the undecided blob (the three shapes averaged) in 73-83%.
    Training only ever shows x_t noised from the asked shape, so the network learnt to copy the
    shape in x_t; at sampling time the first steps leave an undecided blob there and the noise
    picks the shape. For a share (--decoy-rate) of the samples with a stated shape and
    t >= --decoy-min-t, x_t is noised from the blob (half of them) or from one of the other two
    shapes, and the target is the v that gives back the asked clip: x0 = a*x_t - s*v."""
    use = (t >= args.decoy_min_t).numpy() & np.array([p.strip() != "" for p in prompts])
    use &= rng.random(len(prompts)) < args.decoy_rate
    if not use.any():
        return xt, target
    xt, target = xt.clone(), target.clone()
    chosen = np.flatnonzero(use)
    sub = [attrs[i] for i in chosen]
    templates, own = shape_templates(sub)  # [n,3,F,H,W], asked shape [n]
    if args.decoy_own_place:
        # Every decoy shape at the asked shape's own centroid and area, so that a decoy changes
        # the shape and not the place (train/README.md, fourteenth stretch: drawn at the asked
        # shape's centre and size, a triangle's mass sat below its decoys', and the network learnt
        # to move a triangle down and a circle up at every sampling step).
        asked_masks = templates[torch.arange(len(chosen)), own]  # [n,F,H,W]
        templates, _ = own_place_templates(asked_masks, sub)
    for i, masks, asked in zip(chosen, templates, own.tolist()):
        if rng.random() < 0.5:
            mask = masks.mean(0)
        else:
            mask = masks[(asked + 1 + int(rng.integers(2))) % 3]
        xt[i], target[i] = noised_from(mask, attrs[i], x0[i], noise[i], t[i])
    return xt, target


SPUR_SIDES = (("top", 0.35), ("bottom", 0.35), ("left", 0.15), ("right", 0.15))


def spurred(mask, shape, rng):
    """The object mask [F,H,W] (bool numpy) with one or two small defects of the kind the
    step-37675 package's samples show at its outlines: a spur (2-4 px wide, 1-4 px long) stuck on
    the outline next to a corner of the object's box, or a bite (2-3 px) taken out there. Each
    defect keeps its place relative to the object's box in every frame, as the sampled ones do,
    and follows the outline itself (a triangle's slope, a circle's curve), so it stays attached."""
    out = mask.copy()
    names, weights = zip(*SPUR_SIDES)
    for _ in range(1 + int(rng.random() < 0.5)):
        bite = rng.random() < 0.25
        side = names[rng.choice(len(names), p=weights)]
        width = int(rng.integers(2, 4 if bite else 5))
        length = int(rng.integers(2, 4)) if bite else int(rng.integers(1, 5))
        at_end, offset = rng.random() < 0.5, int(rng.integers(0, 3))
        centred = shape == "triangle" and side == "top"  # a triangle's top is its apex
        # Work on each frame turned so that the defect's side is on top: rows run outward-in.
        turn = {"top": 0, "left": -1, "bottom": 2, "right": 1}[side]
        for f in range(mask.shape[0]):
            m, o = np.rot90(mask[f], turn), np.rot90(out[f], turn)
            cols = np.flatnonzero(m.any(0))
            if len(cols) == 0:
                continue
            lo, hi = cols.min(), cols.max()
            a = (lo + hi) // 2 - width // 2 if centred else (hi - offset - width + 1 if at_end else lo + offset)
            for c in range(max(a, lo), min(a + width, hi + 1)):
                rows = np.flatnonzero(m[:, c])
                if len(rows) == 0:
                    continue
                edge = rows.min()
                if bite:
                    o[edge:edge + length, c] = False
                else:
                    o[max(edge - length, 0):edge, c] = True
    return out


def spur_decoys(x0, noise, t, xt, target, maps, attrs, rng, args):
    """Noisy inputs whose object outline has a spur or a bite, with the clean clip as the target.

    Traced on the step-37675 package (train/README.md, seventeenth stretch): its squares have
    straight sides (15-17 px across, larger than the data's), but most carry a spur above a
    top corner or legs below the bottom ones, 2-3 px wide and 1-4 px long; the box grows and the
    eval reads a circle (1 square of 41 read right). The spurs are there from the second sampling
    step, and no later step removes them, with or without the object-frame field: trained only on
    x_t noised from clean outlines, the network keeps whatever outline x_t shows. For a share
    (--spur-decoy-rate) of the samples at t within --spur-decoy-t, x_t is noised from the object
    drawn with such defects (spurred) and the target is the v that gives back the clean clip.
    A few pixels at weight 1 in a loss normalised over the whole clip, the defects were not
    learnt (after 1175 steps the network's clean estimate at t = 300 still kept 73% of a spur,
    against 75% before), nor at the shape-deciding pixels' weight (70% after 600 more), so their
    pixels get --spur-weight on top. `maps`: the batch's loss maps, whose first is the object
    mask. Returns xt, target and that extra weight [B,1,F,H,W]."""
    lo, hi = args.spur_decoy_t
    use = ((t >= lo) & (t <= hi)).numpy() & (rng.random(len(attrs)) < args.spur_decoy_rate)
    return outline_decoys(x0, noise, t, xt, target, maps, attrs, use,
                          lambda clean, a: spurred(clean, a["shape"], rng), args)


def outline_decoys(x0, noise, t, xt, target, maps, attrs, use, redraw, args):
    """For the samples in `use` [B] bool: x_t noised from the object redrawn with a defect at its
    outline (`redraw(clean mask [F,H,W] bool, attrs)` -> the defective object share [F,H,W]), the
    target the v that gives back the clean clip, and --spur-weight on top at the pixels the defect
    changed (spur_decoys, soft_edge_decoys). Returns xt, target and that extra weight [B,1,F,H,W]."""
    extra = torch.zeros(xt.shape[0], 1, *xt.shape[2:])
    if not use.any():
        return xt, target, extra
    xt, target = xt.clone(), target.clone()
    for i in np.flatnonzero(use):
        clean = maps[i, 0].numpy() > 0
        drawn_as = redraw(clean, attrs[i])
        xt[i], target[i] = noised_from(torch.from_numpy(drawn_as.astype(np.float32)), attrs[i], x0[i], noise[i], t[i])
        extra[i, 0] = args.spur_weight * torch.from_numpy(drawn_as != clean).float()
    return xt, target, extra


SIDE_STEPS = {"top": (-1, 0), "bottom": (1, 0), "left": (0, -1), "right": (0, 1)}


def softened(mask, rng):
    """The object mask [F,H,W] (bool numpy) as an object share [F,H,W] float with the soft
    outline the step-42150 weights' samples end on (train/README.md, nineteenth stretch): on one
    or two sides, the row of background pixels just outside the outline at a share of 0.1-0.6
    (each pixel +-0.15), over the whole side or a run of at least 3 pixels of it, and on a third
    of those sides the object's own outermost row at 0.6-0.9. The choice keeps its place
    relative to the object's box in every frame, and follows the outline (a circle's curve, a
    triangle's slope)."""
    out = mask.astype(np.float32)
    frames, h, w = mask.shape
    for side in rng.choice(list(SIDE_STEPS), size=1 + int(rng.random() < 0.5), replace=False):
        dy, dx = SIDE_STEPS[side]
        share = rng.uniform(0.1, 0.6)
        inner = rng.uniform(0.6, 0.9) if rng.random() < 1 / 3 else None
        whole, start, span = rng.random() < 0.5, rng.random(), rng.uniform(3, 8)
        for f in range(frames):
            m = mask[f]
            # Pixels outside the object whose neighbour toward the object's inside is object.
            inward = np.roll(m, (-dy, -dx), axis=(0, 1))
            if dy:
                inward[0 if dy < 0 else -1] = False  # no wrap-around at the frame's edge
            else:
                inward[:, 0 if dx < 0 else -1] = False
            ring = inward & ~m
            along = np.flatnonzero(ring.any(0) if dy else ring.any(1))
            if len(along) == 0:
                continue
            if not whole:
                lo = along.min() + start * max(0.0, along.max() - along.min() + 1 - span)
                keep = (np.arange(w if dy else h) >= lo) & (np.arange(w if dy else h) < lo + span)
                ring &= keep[None, :] if dy else keep[:, None]
            jitter = rng.uniform(-0.15, 0.15, size=ring.shape).astype(np.float32)
            out[f][ring] = np.clip(share + jitter[ring], 0.05, 0.95)
            if inner is not None:
                edge = np.roll(ring, (-dy, -dx), axis=(0, 1)) & m
                out[f][edge] = inner
    return out


def soft_edge_decoys(x0, noise, t, xt, target, maps, attrs, taken, rng, args):
    """Noisy inputs whose object outline is soft on a side or two, with the clean clip as the
    target: the partial rows the sampler leaves, which the reader counts into the object's box.

    The step-42150 weights' samples of "square" are square at every sampling step (nearest of
    the three shapes drawn at the estimate's own place, 23-24 of 24), yet most end with a row of
    pixels at a share of 0.1-0.4 above or below the body, or a partial column beside it: the
    eval's fill-ratio reader of the time counted them, the box grew by a row and its fill fell
    under 0.89 (the outline fit that replaced it reads them as squares). The data's
    outlines are hard, so no training x_t ever shows a soft row, and at t = 99 the network keeps
    what x_t shows. For a share (--soft-edge-decoy-rate) of the samples at t within
    --soft-edge-decoy-t that no other decoy took (`taken` [B] bool), x_t is noised from the
    object drawn with such an outline (softened) and the target is the v that gives back the
    clean clip; the changed pixels get --spur-weight on top. Returns xt, target and that extra
    weight [B,1,F,H,W]. Measured in the nineteenth stretch: 5347 steps of it took the soft share
    the network keeps at t = 50 from 10.7 to 7.2 pixels a frame (9.7 given) and squares to 13 of
    41, but the objects of a minute-long chain to 0.34 of their size (0.66 without it)."""
    lo, hi = args.soft_edge_decoy_t
    use = ((t >= lo) & (t <= hi)).numpy() & ~taken & (rng.random(len(attrs)) < args.soft_edge_decoy_rate)
    return outline_decoys(x0, noise, t, xt, target, maps, attrs, use, lambda clean, _: softened(clean, rng), args)


FIRST_STEP_T = 999  # the sampler's first timestep ("trailing" spacing)
FIRST_STEP_GUIDANCE = 2.0  # the package's default guidance


@torch.no_grad()
def first_estimate(model, ids):
    """The clean estimate the runtime's first sampling step makes from pure noise (guided as the
    package's defaults, cond and "" uncond), and that noise: two [b,3,F,H,W]."""
    n = ids.shape[0]
    x = torch.randn(n, 3, dataset.FRAMES, dataset.SIZE, dataset.SIZE)
    uncond = torch.from_numpy(encode([""] * n))
    t = torch.full((2 * n,), float(FIRST_STEP_T))
    v = model(torch.cat([x, x]), t, torch.cat([ids, uncond]))
    v = v[n:] + FIRST_STEP_GUIDANCE * (v[:n] - v[n:])
    ab = diffusion.ABAR[FIRST_STEP_T]
    return ab.sqrt() * x - (1 - ab).sqrt() * v, x


def after_first_step(estimate, start, t, fresh):
    """x_t as the runtime's DDPM sampler draws it from its first step, for one timestep t below
    FIRST_STEP_T: the posterior q(x_t | x_999, x0 = estimate), whose mean keeps the noise the
    estimate was made from (models/engine/schedulers/ddim.ts, eta 1), plus `fresh` at its variance."""
    ab, ab0 = diffusion.ABAR[t], diffusion.ABAR[FIRST_STEP_T]
    eps = (start - ab0.sqrt() * estimate) / (1 - ab0).sqrt()
    var = (1 - ab) / (1 - ab0) * (1 - ab0 / ab)
    return ab.sqrt() * estimate + (1 - ab - var).clamp(min=0).sqrt() * eps + var.sqrt() * fresh


def first_step_decoys(model, x0, noise, t, xt, target, maps, attrs, prompts, ids, eligible, rng, args):
    """Noisy inputs noised from the model's own first estimate, with the asked clip re-drawn at
    that estimate's place as the target.

    Traced on the step-37675 package (train/README.md, sixteenth stretch): from pure noise its
    first clean estimate for "a red square ..." is a soft blob ~20 px across, larger than any
    square in the data (9-14 px still or moving). At the second step (t ~ 900) the network shrinks
    it to a square of ~16 px but keeps pieces of the blob's corners, a horn above one corner or a
    leg below; later steps keep them, the bounding box grows past the square, and the eval reads
    a circle (1 square of 41 read right). Training shows x_t noised from data clips, never from a
    blob that size. For a share (--first-step-decoy-rate) of the samples with a prompt, t >=
    --decoy-min-t, no known frames and the whole path on screen, x_t is what the runtime's DDPM
    sampler would reach at t from its first step with the live model (after_first_step: the
    posterior keeps the noise the estimate came from, which is where the leftover corners sit),
    and the target is the v that gives back the clip
    drawn as the data draws it (its shape, size, speed and colours) moved so that its mean centre
    is the estimate's mean centroid: the step shrinks the blob to the asked shape and size in
    place. The loss maps and the locator's geometry follow the moved clip."""
    on_screen = np.array([all(((a["geometry"][k] >= 0) & (a["geometry"][k] <= dataset.SIZE)).all() for k in ("cx", "cy"))
                          for a in attrs])
    use = (t >= args.decoy_min_t).numpy() & np.array([p.strip() != "" for p in prompts]) & eligible & on_screen
    use &= rng.random(len(prompts)) < args.first_step_decoy_rate
    if not use.any():
        return x0, xt, target, maps
    chosen = np.flatnonzero(use)
    estimate, start = first_estimate(model, ids[chosen])
    share = colour_share(estimate, [attrs[i] for i in chosen]).clamp(0, 1).numpy()
    x0, xt, target, maps = x0.clone(), xt.clone(), target.clone(), maps.clone()
    for k, i in enumerate(chosen):
        a, g = attrs[i], attrs[i]["geometry"]
        mass = share[k].sum()
        if mass < 3:  # nothing drawn: keep the sample as it is
            continue
        mx = (share[k] * dataset._XX).sum() / mass
        my = (share[k] * dataset._YY).sum() / mass
        lo, hi = float(g["size"].max()) / 2 + 1.5, dataset.SIZE - float(g["size"].max()) / 2 - 1.5
        # The estimate's centroid is a mass centre; a triangle's sits a sixth of its height below
        # the centre _masks draws it at.
        drop = g["size"] / 6 if a["shape"] == "triangle" else 0.0
        cx = g["cx"] + (np.clip(mx, lo, hi) - g["cx"].mean())
        cy = g["cy"] + (np.clip(my, lo, hi) - (g["cy"] + drop).mean())
        moved = {"cx": cx.astype(np.float32), "cy": cy.astype(np.float32), "size": g["size"]}
        moved_maps = dataset.loss_maps(a["shape"], moved["cx"], moved["cy"], moved["size"])
        maps[i] = torch.from_numpy(moved_maps).float()
        x0[i] = drawn(torch.from_numpy(moved_maps[0].astype(np.float32)), a)
        attrs[i] = {**a, "geometry": moved}
        ab = diffusion.ABAR[t[i]]
        xt[i] = after_first_step(estimate[k], start[k], t[i], noise[i]) if t[i] < FIRST_STEP_T else start[k]
        target[i] = (ab.sqrt() * xt[i] - x0[i]) / (1 - ab).sqrt()
    return x0, xt, target, maps


CONTEXT_MODES = (("head", 0.6), ("tail", 0.25), ("both", 0.15))


def context_plan(use, frames, rng):
    """Per sample, the (head, tail) counts of clean known frames context_inputs gives it, or None
    for the samples not in `use` (--context-rate): the first and/or last 1-8 frames, at least 4 new."""
    names, weights = zip(*CONTEXT_MODES)
    plans = [None] * len(use)
    for i in np.flatnonzero(use):
        mode = names[rng.choice(len(names), p=weights)]
        head = int(rng.integers(1, 9)) if mode in ("head", "both") else 0
        tail = int(rng.integers(1, 9)) if mode in ("tail", "both") else 0
        plans[i] = (head, min(tail, frames - head - 4))
    return plans


def path_decoys(x0, noise, t, xt, target, attrs, plans, rng, args):
    """Noisy new frames whose object is off the known frames' path, with the path as the target.

    A chain hands each window its last frames and, for the new ones, the object carried on at the
    speed it read (SDEdit from continuationStrength 0.4: t <= ~400 at sampling). Trained only on
    x_t noised from the true path, the network copies the path x_t shows, so whatever one window
    got wrong (0.9 of the speed, 0.2 px across the move) was the next one's start: over a minute
    the step-25950 package's circle drifted 7 px across its move into the frame's edge in half of
    its "moving right" chains, and (before the engine held its speed) slowed to a stop. For a
    share (--path-decoy-rate) of the moving samples that continue clean head frames (no tail), at
    t within --path-decoy-t, x_t's new frames are noised from the object moving on at 0.5-1 of
    its speed and drifting up to 0.25 px a frame across, and the target is the v that gives back
    the true clip (x0 = a*x_t - s*v), so the known frames decide the path."""
    lo, hi = args.path_decoy_t
    xt, target = xt.clone(), target.clone()
    for i, plan in enumerate(plans):
        a = attrs[i]
        if plan is None or plan[0] == 0 or plan[1] > 0 or a["motion"] not in ("left", "right", "up", "down"):
            continue
        if not (lo <= int(t[i]) <= hi) or rng.random() >= args.path_decoy_rate:
            continue
        g = a["geometry"]
        steps = np.clip(np.arange(dataset.FRAMES) - (plan[0] - 1), 0, None).astype(np.float32)
        horizontal = a["motion"] in ("left", "right")
        along, across = (g["cx"], g["cy"]) if horizontal else (g["cy"], g["cx"])
        speed = float(np.median(np.diff(along)))  # signed px a frame (a lap's wrap is one outlier)
        along = along - (1.0 - rng.uniform(0.5, 1.0)) * speed * steps
        across = across + rng.uniform(-0.25, 0.25) * steps
        cx, cy = (along, across) if horizontal else (across, along)
        mask = torch.from_numpy(dataset._masks(a["shape"], cx, cy, g["size"]).astype(np.float32))
        xt[i], target[i] = noised_from(mask, a, x0[i], noise[i], t[i])
    return xt, target


def context_inputs(x0, xt, target, t, plans):
    """Clean known frames in the noisy input, for continuing, leading into and bridging clips.

    The runtime keeps a continuation's known frames by putting them back after every step. Noised
    to the step's level (how shapes-v1 was trained to see them), they say little where the
    sampler's first steps place the object: at strength 1 each window started the object over
    (5.37 px across a join against 1.89 inside, `npm run eval`), and below 1 it stayed where it
    was. For the samples in `use` (--context-rate), the first and/or last 1-8 frames of x_t are
    the clean frames themselves, and their target is the v that gives them back (the network
    learns that a noise-free frame is given and the rest must continue it; the manifest's
    known-frames "clean" tells the runtime to keep them clean). Their loss weight is cut to a
    tenth so the new frames carry the step. Moving ones are lap windows (train.py draws them so):
    a chain's next window starts where the last one ended, at the far side, which a path through
    the middle never shows; the step-14500 export, trained on context clips of either kind, ran
    each new window back toward the middle before moving on. `plans`: context_plan's. Returns xt,
    target and per-frame loss factors [B,1,F,1,1]."""
    factor = torch.ones(xt.shape[0], 1, xt.shape[2], 1, 1)
    if all(plan is None for plan in plans):
        return xt, target, factor
    xt, target = xt.clone(), target.clone()
    frames = xt.shape[2]
    for i, plan in enumerate(plans):
        if plan is None:
            continue
        head, tail = plan
        known = list(range(head)) + list(range(frames - tail, frames))
        ab = diffusion.ABAR[t[i]]
        xt[i, :, known] = x0[i, :, known]
        target[i, :, known] = (ab.sqrt() - 1) * x0[i, :, known] / (1 - ab).sqrt()
        factor[i, :, known] = 0.1
    return xt, target, factor


def save_checkpoint(path, model, ema, opt, step, data_rng, args):
    names = {id(p): n for n, p in model.named_parameters()}
    state = {
        "step": step,
        "model": model.state_dict(),
        "ema": ema.state_dict(),
        "opt": opt.state_dict(),
        # The parameter names of each optimiser group, so a run resumes after parts were added.
        "opt_names": [[names[id(p)] for p in g["params"]] for g in opt.param_groups],
        "data_rng": data_rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "args": vars(args),
        "vocab": TOKENS,
    }
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written checkpoint


def resume_optimizer(model, ck):
    """The checkpoint's optimiser state on `model`, whose parameters may be a superset of the
    checkpoint's: the groups are rebuilt by parameter name as they were saved, the state loaded,
    and any parameter the checkpoint lacks (a part added since) goes into one new group."""
    params = dict(model.named_parameters())
    groups = ck["opt_names"]
    settings = [{k: v for k, v in g.items() if k != "params"} for g in ck["opt"]["param_groups"]]
    resumed = torch.optim.AdamW([{**cfg, "params": [params[n] for n in names]} for cfg, names in zip(settings, groups)])
    resumed.load_state_dict(ck["opt"])
    covered = {n for names in groups for n in names}
    added = [n for n in params if n not in covered]
    if added:
        # No rate given: main() sets every group's rate before each step.
        resumed.add_param_group({"params": [params[n] for n in added], "weight_decay": 0.0})
        log(f"checkpoint had no {added}: those start fresh")
    return resumed


# Parts of the denoiser added in the fourth stretch (the object locator and the object-frame
# field): a package exported before them lacks their weights.
NEW_PARTS = ("denoiser.locate.", "denoiser.shape_field.")


def init_from_package(model, ema, folder):
    """Checkpoints stay on the machine that trained; the exported package is in the repository.
    Its ONNX initializers carry the parameters' names (export.py folds no constants), so a new
    machine continues from the shipped EMA weights: live and EMA weights both start there, the
    optimiser's moments and the attribute head (not exported) start fresh, and the learning-rate
    schedule resumes at the exported step (warm-up again, see lr_at)."""
    import onnx
    from onnx import numpy_helper
    lacking = [n for n in ("training.json", "text_encoder.onnx", "denoiser.onnx") if not os.path.isfile(os.path.join(folder, n))]
    if lacking:
        raise SystemExit(f"{folder} is not an exported shapes-v2 package (it lacks {', '.join(lacking)}); "
                         "pass the folder export.py wrote, e.g. models/shapes-v2")
    with open(os.path.join(folder, "training.json")) as f:
        step = int(json.load(f)["step"])
    state = {}
    for prefix, name in (("text.", "text_encoder.onnx"), ("denoiser.", "denoiser.onnx")):
        for init in onnx.load(os.path.join(folder, name)).graph.initializer:
            state[prefix + init.name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    own = model.state_dict()
    found = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    # Parts added since the package was made start fresh (zero-initialised outputs, so the
    # network starts as the package's).
    fresh = ("attributes.",) + NEW_PARTS
    missing = [k for k in own if k not in found and not k.startswith(fresh)]
    added = sorted({k.rsplit(".", 2)[0] for k in own if k not in found and k.startswith(NEW_PARTS)})
    if added:
        log(f"--init-from: new parts, not in the package, start fresh: {added}")
    # The exporter drops parameters the graph never reads; a few may keep their initial values.
    if len(missing) > len(own) // 20:
        raise SystemExit(f"--init-from {folder}: the package lacks {len(missing)} parameters "
                         f"(e.g. {missing[:3]}); export it with this recipe's export.py")
    if missing:
        log(f"--init-from: not in the package (unused by its graph), kept as initialised: {missing}")
    model.load_state_dict(found, strict=False)
    ema.load_state_dict(found, strict=False)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20000, help="length of the LR schedule")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--object-weight", type=float, default=4.0,
                    help="extra loss weight on the object's pixels (0: plain v-MSE)")
    ap.add_argument("--shape-weight", type=float, default=6.0,
                    help="extra loss weight on the shape-deciding pixels: where a circle, square "
                         "and triangle of the same centre and size disagree")
    ap.add_argument("--edge-weight", type=float, default=2.0,
                    help="extra loss weight on the pixels either side of the object's outline")
    ap.add_argument("--fringe-weight", type=float, default=4.0,
                    help="extra weight, on the outline, of the error component off the line "
                         "between the background and object colours (colour fringes)")
    ap.add_argument("--locate-weight", type=float, default=1.0,
                    help="weight of the object locator's loss against the rendered centre and "
                         "size (0: off)")
    ap.add_argument("--shape-ce-weight", type=float, default=0.2,
                    help="weight of the shape reader's cross-entropy on the clean estimate (0: off)")
    ap.add_argument("--shape-ce-max-t", type=int, default=750,
                    help="largest timestep whose samples the shape cross-entropy uses (above "
                         "it x_t does not show the object's place, and the term moves it)")
    ap.add_argument("--shape-ce-own-place", action="store_true",
                    help="above --shape-ce-max-t, count the shape cross-entropy too, with the "
                         "shapes drawn where the clean estimate has its mass (own_place_templates)")
    ap.add_argument("--shape-ce-sharpness", type=float, default=8.0,
                    help="scale from mean squared distance to a shape's drawing to its logit")
    ap.add_argument("--framing-rate", type=float, default=0.0,
                    help='share of prompts opened like "a video of" (dataset.FRAMINGS; 0: off)')
    ap.add_argument("--decoy-rate", type=float, default=0.0,
                    help="share of high-noise samples whose x_t is noised from another shape "
                         "(the blob or a wrong shape) while the target stays the asked clip (0: off)")
    ap.add_argument("--decoy-own-place", action="store_true",
                    help="draw each decoy at the asked shape's own centroid and area, not at its "
                         "centre and size (own_place_templates)")
    ap.add_argument("--first-step-decoy-rate", type=float, default=0.0,
                    help="share of samples (t >= --decoy-min-t, no known frames) whose x_t is noised "
                         "from the model's own first estimate, the clip re-drawn at its place "
                         "(first_step_decoys)")
    ap.add_argument("--weight-fade-t", type=int, nargs=2, default=None, metavar=("FULL", "NONE"),
                    help="the object, shape and edge weights apply in full at t <= FULL and fade to "
                         "none (plain v-MSE) at t >= NONE (loss_weights; default: full at every t)")
    ap.add_argument("--weight-margin", type=int, default=0, metavar="PX",
                    help="the object, shape and edge weights reach PX pixels past their outlines, on "
                         "both sides alike (loss_weights; default 0: the clean clip's own pixels)")
    ap.add_argument("--spur-decoy-rate", type=float, default=0.0,
                    help="share of samples whose x_t is noised from the object with a spur or a bite "
                         "at its outline while the target stays the clean clip (spur_decoys; 0: off)")
    ap.add_argument("--spur-weight", type=float, default=24.0,
                    help="extra loss weight on a spur decoy's defect pixels")
    ap.add_argument("--spur-decoy-t", type=int, nargs=2, default=(150, 900),
                    help="timesteps (lowest, highest) that may get a spur decoy")
    ap.add_argument("--soft-edge-decoy-rate", type=float, default=0.0,
                    help="share of samples whose x_t is noised from the object with a soft row at its "
                         "outline while the target stays the clean clip (soft_edge_decoys; 0: off)")
    ap.add_argument("--soft-edge-decoy-t", type=int, nargs=2, default=(30, 500), metavar=("LO", "HI"),
                    help="timesteps (lowest, highest) that may get a soft-edge decoy")
    ap.add_argument("--decoy-min-t", type=int, default=650,
                    help="smallest timestep that may get a decoy x_t")
    ap.add_argument("--context-rate", type=float, default=0.0,
                    help="share of samples whose first and/or last 1-8 frames are given clean "
                         "(continuation, lead-in, bridge; 0: off)")
    ap.add_argument("--exit-rate", type=float, default=0.0,
                    help="share of the moving context clips whose lap window starts at the exit "
                         "edge, so the object leaves within it (0: off)")
    ap.add_argument("--path-decoy-rate", type=float, default=0.0,
                    help="share of the moving samples continuing clean head frames whose new "
                         "frames are noised from a slowed, drifting path (path_decoys; 0: off)")
    ap.add_argument("--path-decoy-t", type=int, nargs=2, default=(200, 600),
                    help="timesteps (lowest, highest) that may get a path decoy")
    ap.add_argument("--entry-rate", type=float, default=0.0,
                    help="share of the moving context clips (of those not starting at the exit "
                         "edge) whose lap window starts as the object comes back in (0: off)")
    ap.add_argument("--attribute-weight", type=float, default=0.1,
                    help="weight of the attribute loss on the prompt vector (0: off)")
    ap.add_argument("--attribute-prompts", type=int, default=128,
                    help="text-only prompts per step for the attribute loss")
    ap.add_argument("--boost", action="append", default=[], metavar="PREFIX=MULT",
                    help="multiply the learning rate of parameters whose name starts with PREFIX "
                         "(for parts added to a running model from zero; repeatable)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2,
                    help="max torch threads; drops to 1 while other processes load the CPU")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--ckpt-every", type=int, default=150)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--keep-every", type=int, default=5000, help="also keep step-N copies")
    ap.add_argument("--init-from", metavar="DIR",
                    help="with no checkpoint: start from an exported package (its ONNX weights and "
                         "training.json step) instead of from scratch")
    args = ap.parse_args()
    if not 0 <= args.weight_margin <= 8:
        ap.error("--weight-margin takes a number of pixels from 0 to 8 (for example 2)")
    if args.weight_fade_t is not None and not 0 <= args.weight_fade_t[0] < args.weight_fade_t[1]:
        ap.error("--weight-fade-t takes two timesteps, the first smaller (for example 300 600)")
    if (args.spur_decoy_rate > 0 or args.soft_edge_decoy_rate > 0) and args.first_step_decoy_rate > 0:
        # first_step_decoys redraws x0 and x_t of the samples it picks, which would leave a spur
        # or soft-edge decoy's extra loss weight on pixels of another clip.
        ap.error("--first-step-decoy-rate cannot be combined with --spur-decoy-rate or --soft-edge-decoy-rate; pass one of them")
    if not 0 <= args.soft_edge_decoy_t[0] <= args.soft_edge_decoy_t[1] < diffusion.T:
        ap.error(f"--soft-edge-decoy-t takes two timesteps from 0 to {diffusion.T - 1}, the first not larger (for example 30 500)")

    torch.set_num_threads(pick_threads(args.threads, 0))
    # Zero-initialised layers produce tiny values early on; denormal floats are very slow on x86.
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    os.makedirs(CKPT_DIR, exist_ok=True)
    data_rng = np.random.default_rng(args.seed)

    model = ShapesModel()
    ema = ShapesModel()
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    # No weight decay on norms, biases, embeddings (standard AdamW practice).
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "pos" not in name and "tok" not in name else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)

    step = 0
    if os.path.exists(LATEST):
        ck = torch.load(LATEST)
        model.load_state_dict(ck["model"], strict=False)
        ema.load_state_dict(ck["ema"], strict=False)
        opt = resume_optimizer(model, ck)
        data_rng.bit_generator.state = ck["data_rng"]
        torch.set_rng_state(ck["torch_rng"])
        step = ck["step"]
        if "rewarm_from" in ck["args"]:
            # A run started with --init-from keeps its re-warm-up across a resume.
            args.rewarm_from = ck["args"]["rewarm_from"]
        log(f"resumed from {LATEST} at step {step}")
    elif args.init_from:
        step = init_from_package(model, ema, args.init_from)
        args.rewarm_from = step
        # Fresh data after the exported step, not a replay of the first run's batches.
        data_rng = np.random.default_rng(args.seed + step)
        log(f"started from the package in {args.init_from} at step {step} (fresh optimiser state)")
    else:
        log(f"new run: text {count_params(model.text)} + denoiser {count_params(model.denoiser)} "
            f"params, args {vars(args)}")

    stop = {"now": False, "signal": None}

    def on_signal(signum, frame):
        stop["now"] = True  # finish the current step, checkpoint, exit
        stop["signal"] = signal.Signals(signum).name
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    boosted = []
    for spec in args.boost:
        prefix, _, mult = spec.partition("=")
        found = [(p, float(mult)) for n, p in model.named_parameters() if n.startswith(prefix)]
        if not found:
            raise SystemExit(f"--boost {spec}: no parameter name starts with {prefix!r}")
        boosted += found
    if boosted:
        log(f"boosted learning rate for {len(boosted)} tensors: {args.boost}")

    model.train()
    smooth, attr_smooth, locate_smooth, shape_smooth, t_start, t_last, s_last = None, None, None, None, time.time(), time.time(), step
    while not stop["now"]:
        # Samples that get clean known frames are lap windows when they move (context_inputs).
        context = data_rng.random(args.batch) < args.context_rate
        # A share of those start at the exit edge (--exit-rate); drawn only when asked, so runs
        # without it keep their data stream.
        exits = data_rng.random(args.batch) < args.exit_rate if args.exit_rate > 0 else np.zeros(args.batch, bool)
        # And a share of the others start as it comes back in (--entry-rate), likewise.
        entries = data_rng.random(args.batch) < args.entry_rate if args.entry_rate > 0 else np.zeros(args.batch, bool)
        laps = [("exit" if e else "entry" if n else True) if c else None for c, e, n in zip(context, exits, entries)]
        clips, maps, prompts, attrs = dataset.sample_batch(data_rng, args.batch, lap=laps, framing=args.framing_rate)
        x0 = torch.from_numpy(clips)
        maps = torch.from_numpy(maps).float()
        ids = torch.from_numpy(encode(prompts))
        t = diffusion.sample_timesteps(args.batch)
        noise = torch.randn_like(x0)
        xt, target = diffusion.v_target(x0, noise, t)
        if args.decoy_rate > 0:
            xt, target = decoy_inputs(x0, noise, t, xt, target, attrs, prompts, data_rng, args)
        spur_extra = 0.0
        if args.spur_decoy_rate > 0:
            xt, target, spur_extra = spur_decoys(x0, noise, t, xt, target, maps, attrs, data_rng, args)
        if args.soft_edge_decoy_rate > 0:
            taken = (spur_extra.flatten(1) > 0).any(1).numpy() if torch.is_tensor(spur_extra) else np.zeros(args.batch, bool)
            xt, target, soft_extra = soft_edge_decoys(x0, noise, t, xt, target, maps, attrs, taken, data_rng, args)
            spur_extra = spur_extra + soft_extra
        if args.first_step_decoy_rate > 0:
            x0, xt, target, maps = first_step_decoys(model, x0, noise, t, xt, target, maps, attrs, prompts, ids,
                                                     ~context, data_rng, args)
        plans = context_plan(context, dataset.FRAMES, data_rng)
        if args.path_decoy_rate > 0:
            xt, target = path_decoys(x0, noise, t, xt, target, attrs, plans, data_rng, args)
        xt, target, frame_factor = context_inputs(x0, xt, target, t, plans)

        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        pred = model(xt, t.float(), ids)
        # v-MSE with the object's pixels weighted up (no per-timestep weights: Min-SNR-style
        # weights shrank the low-noise steps so much that every sample stayed noisy). The object
        # is ~10% of a clip; unweighted, its colour was a small share of the loss and the model
        # learnt every background long before it bound any object colour to the prompt.
        # v2 adds the shape-deciding pixels (a square's corners, the sides a triangle leaves
        # empty, inside and outside the object) and the outline, so that drawing the asked shape
        # and a clean edge are a large share of the loss rather than ~2% of it. And on the
        # outline, the error component off the background-object colour line (a fringe) counts
        # extra. The weights are drawn from the clean clip, so where x_t leaves the outline open
        # they move the optimum off the posterior mean (loss_weights; --weight-fade-t and
        # --weight-margin keep it there).
        weight = (loss_weights(maps, t, args) + spur_extra) * frame_factor
        err = pred - target
        err2 = err.pow(2).sum(dim=1, keepdim=True)
        off_line = err2 - (err * colour_axis(attrs)).sum(dim=1, keepdim=True).pow(2)
        per_pixel = err2 * weight + args.fringe_weight * maps[:, 2:3] * frame_factor * off_line
        per_sample = per_pixel.sum(dim=(1, 2, 3, 4)) / (3 * weight.sum(dim=(1, 2, 3, 4)))
        loss = per_sample.mean()
        if args.locate_weight > 0:
            located = locate_loss(model.denoiser, attrs)
            loss = loss + args.locate_weight * located
            locate_smooth = running_mean(locate_smooth, located.item())
        if args.shape_ce_weight > 0:
            shaped = shape_loss(pred, xt, t, attrs, prompts, args)
            loss = loss + args.shape_ce_weight * shaped
            shape_smooth = running_mean(shape_smooth, shaped.item())
        if args.attribute_weight > 0:
            texts, labels = dataset.sample_prompts(data_rng, args.attribute_prompts, framing=args.framing_rate)
            attribute = model.attribute_loss(torch.from_numpy(encode(texts)), torch.from_numpy(labels))
            loss = loss + args.attribute_weight * attribute
            attr_smooth = running_mean(attr_smooth, attribute.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        before = [p.detach().clone() for p, _ in boosted]
        opt.step()
        with torch.no_grad():
            # Adam's step does not scale with the gradient, so a larger rate for a few parameters
            # is applied as a multiple of the step the optimiser just took (same state layout).
            for (p, mult), old in zip(boosted, before):
                p.add_(p - old, alpha=mult - 1)
        ema_update(ema, model, step, args.ema)
        step += 1

        raw = per_sample.mean().item()  # object-weighted
        smooth = running_mean(smooth, raw)
        if step % args.log_every == 0:
            now = time.time()
            attr = f" attribute ce {attr_smooth:.3f}" if attr_smooth is not None else ""
            if locate_smooth is not None:
                attr += f" locate {locate_smooth:.4f}"
            if shape_smooth is not None:
                attr += f" shape ce {shape_smooth:.3f}"
            log(f"step {step} loss {smooth:.4f} (weighted v-mse, smoothed){attr} lr {lr_at(step, args):.2e} "
                f"{(step - s_last) / (now - t_last):.3f} steps/s elapsed {(now - t_start) / 60:.1f} min "
                f"threads {torch.get_num_threads()} load {os.getloadavg()[0]:.1f}")
            t_last, s_last = now, step
            torch.set_num_threads(pick_threads(args.threads, torch.get_num_threads()))
        if step % args.ckpt_every == 0:
            save_checkpoint(LATEST, model, ema, opt, step, data_rng, args)
        if args.keep_every and step % args.keep_every == 0:
            save_checkpoint(os.path.join(CKPT_DIR, f"step{step}.pt"), model, ema, opt, step, data_rng, args)
        if step % args.eval_every == 0:
            t0 = time.time()
            acc, flicker, fringe, clips = adherence(ema, steps=12, guidance=3.0)
            dataset.write_png(os.path.join(CKPT_DIR, "adherence.png"), dataset.contact_sheet(clips))
            log(f"adherence step {step}: colour {acc[0]:.2f} background {acc[1]:.2f} "
                f"motion {acc[2]:.2f} shape {acc[3]:.2f} all {acc[4]:.2f} flicker {flicker:.2f} "
                f"fringe {fringe:.1f} (dpmpp-2m 12 steps, cfg 3, {time.time() - t0:.0f}s)")
            t0 = time.time()
            ec, eb, present, chains = extend_check(ema, clean_known=args.context_rate > 0)
            dataset.write_png(os.path.join(CKPT_DIR, "extend.png"), dataset.contact_sheet(chains))
            log(f"extend check step {step}: colour {ec:.2f} background {eb:.2f} object in "
                f"{present:.0%} of new frames (3 chained extensions, overlap {EXTEND_OVERLAP}, "
                f"{time.time() - t0:.0f}s)")
            from diagnose import motion_probe  # here, not at the top: diagnose imports train
            (_, lx, _), (_, rx, _), (_, _, uy), (_, _, dy) = motion_probe(ema)
            log(f"motion probe step {step}: left dx {lx:+.1f} right dx {rx:+.1f} "
                f"up dy {uy:+.1f} down dy {dy:+.1f} (t=999 mean clip; want about -/+ 10)")
            model.train()

    save_checkpoint(LATEST, model, ema, opt, step, data_rng, args)
    log(f"stopped by {stop['signal']} at step {step}, checkpoint saved")


if __name__ == "__main__":
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    try:
        sys.exit(main())
    except Exception:
        # The background run's stdout/stderr usually go to /dev/null: keep crashes in the log.
        import traceback
        log("crashed:\n" + traceback.format_exc())
        raise
