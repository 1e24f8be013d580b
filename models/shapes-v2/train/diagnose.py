"""Per-noise-level health of a checkpoint: v-MSE against the predict-zero baseline, and where
its samples put the object.

    python3 diagnose.py [--checkpoint checkpoints/latest.pt] [--weights model|ema] [--package DIR]

A level where the v-MSE is no better than predicting zero is not being learnt. That is how the
low-noise failure was found (samples that keep visible noise): at t = 50 the model matched the
baseline after 3000 steps. Adherence numbers alone do not show which noise levels are missing.

The placement probe samples each shape from the same noise and compares the object's mid-clip
centre and area with the training data's. That is how the shape cross-entropy's pull at high
noise was found: the step-25950 package drew circles 3.5 px above the data's centre, triangles
6.5 px below it, squares at 2.4 times the area (train/README.md, thirteenth stretch).

The wording probe (--wording, alone) samples the same scenes phrased bare, opened with "a video of"
and with "a clip with", and reads the object's and background's colours (train/README.md,
fourteenth stretch).
"""
import argparse
import os

import numpy as np
import torch

import dataset
import diffusion
from tokenizer import encode
from train import LATEST, ShapesModel, generate, init_from_package

LEVELS = [10, 50, 100, 300, 600, 900, 960, 999]
PROBE_PROMPTS = ["a red circle moving left on a black background",
                 "a red circle moving right on a black background",
                 "a red circle moving up on a black background",
                 "a red circle moving down on a black background"]


@torch.no_grad()
def motion_probe(model, t=999):
    """Object track in the predicted clean clip at high noise, for one prompt per direction.

    At t = 999 the prediction is the model's mean clip for the prompt; the data moves every
    object along a path through the middle, so the mean's object must travel too. Returns
    [(prompt, dx, dy)]: the centroid shift (pixels) from the first to the last four frames of
    the pixels that differ most from the background. A model that has learnt motion shows
    |dx| or |dy| of ~10 in the right direction; the first run showed 0 after 19000 steps."""
    ids = torch.from_numpy(encode(PROBE_PROMPTS))
    x = torch.randn((len(PROBE_PROMPTS), 3, dataset.FRAMES, dataset.SIZE, dataset.SIZE),
                    generator=torch.Generator().manual_seed(0))
    v = model.denoiser(x, torch.full((len(PROBE_PROMPTS),), float(t)), model.text(ids))
    a, s = diffusion.ABAR[t].sqrt(), (1 - diffusion.ABAR[t]).sqrt()
    x0 = (a * x - s * v).numpy()  # [B,3,F,H,W]
    ys, xs = np.mgrid[0:dataset.SIZE, 0:dataset.SIZE]
    rows = []
    for prompt, clip in zip(PROBE_PROMPTS, x0):
        bg = np.median(clip.reshape(3, -1), axis=1)
        dist = np.abs(clip - bg[:, None, None, None]).sum(0)  # [F,H,W]
        w = np.clip(dist - 0.5 * dist.max(axis=(1, 2), keepdims=True), 0, None) + 1e-9
        cx = (w * xs).sum((1, 2)) / w.sum((1, 2))
        cy = (w * ys).sum((1, 2)) / w.sum((1, 2))
        rows.append((prompt, float(cx[-4:].mean() - cx[:4].mean()), float(cy[-4:].mean() - cy[:4].mean())))
    return rows


PLACEMENT_PROMPTS = [f"a red {shape} on a black background" for shape in dataset.SHAPES]


def object_place(clip):
    """Mid-clip (frames 4-11) centre y, x and area (px) of the pixels farthest from the border
    colour in one clip [3,F,H,W] in [-1, 1]; NaNs when no frame shows an object."""
    bg = np.median(np.concatenate([clip[:, :, 0], clip[:, :, -1], clip[:, :, :, 0], clip[:, :, :, -1]], axis=2)
                   .reshape(3, -1), axis=1)
    dist = np.abs(clip - bg[:, None, None, None]).sum(0)  # [F,H,W]
    ys, xs = np.mgrid[0:dataset.SIZE, 0:dataset.SIZE] + 0.5
    found = []
    for frame in dist[4:12]:
        mask = frame > 0.5 * max(frame.max(), 0.3)
        if mask.sum() >= 4:
            found.append(((ys * mask).sum() / mask.sum(), (xs * mask).sum() / mask.sum(), mask.sum()))
    return np.mean(found, axis=0) if found else np.full(3, np.nan)


def data_place(shape, clips=200):
    """The same reading on rendered still clips of one shape (the renderer's own spread)."""
    rng = np.random.default_rng(7)
    return np.nanmean([object_place(dataset.render_clip(rng, shape, "red", "black", "still"))
                       for _ in range(clips)], axis=0)


def placement_probe(model, samples=8):
    """[(shape, sampled (y, x, area), data (y, x, area))]: means over `samples` clips drawn from
    the same noise for every shape, as the runtime samples (10 steps, guidance 2, DDPM)."""
    rows = []
    for shape, prompt in zip(dataset.SHAPES, PLACEMENT_PROMPTS):
        clips = generate(model, [prompt] * samples, steps=10, guidance=2.0, seed=1, solver="ddpm")
        rows.append((shape, np.nanmean([object_place(c) for c in clips], axis=0), data_place(shape)))
    return rows


# The wording probe's scenes (colour, shape, motion phrase, background) and openings: bare, one
# the recipe trains on with --framing-rate (dataset.FRAMINGS), one it never uses.
WORDING_SCENES = [("pink", "triangle", "moving left", "green"), ("black", "triangle", "moving right", "cyan"),
                  ("blue", "square", "growing", "purple"), ("white", "triangle", "still", "black"),
                  ("orange", "triangle", "moving right", "gray"), ("yellow", "triangle", "moving up", "red"),
                  ("cyan", "circle", "moving down", "green"), ("red", "circle", "moving left", "blue")]
WORDING_OPENINGS = {"bare": "a", "a video of": "a video of a", "a clip with (untrained)": "a clip with a"}


def wording_probe(model, seeds=4):
    """[(opening, object colour, background)]: the share of WORDING_SCENES' clips (`seeds` noises
    each, as the runtime samples) whose object and background read as asked, per opening. How the
    step-30000 package's "a video of a <colour> ..." failure was found: it read "of a <colour>"
    as the background, the way "in front of a <colour> background" is."""
    rows = []
    for name, opening in WORDING_OPENINGS.items():
        prompts = [f"{opening} {c} {s} {m} on a {b} background" for c, s, m, b in WORDING_SCENES for _ in range(seeds)]
        clips = generate(model, prompts, steps=10, guidance=3.0, seed=1)
        reads = [dataset.classify_clip(clip) for clip in clips]
        asked = [scene for scene in WORDING_SCENES for _ in range(seeds)]
        colour = np.mean([r["colour"] == c for r, (c, _, _, _) in zip(reads, asked)])
        background = np.mean([r["background"] == b for r, (_, _, _, b) in zip(reads, asked)])
        rows.append((name, colour, background))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=LATEST)
    ap.add_argument("--weights", choices=["ema", "model"], default="model")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--package", metavar="DIR", help="read an exported package instead of a checkpoint")
    ap.add_argument("--wording", action="store_true", help="run only the wording probe (wording_probe)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # never slow a training run that shares the machine
    model = ShapesModel()
    if args.package:
        ck = {"step": init_from_package(model, ShapesModel(), args.package)}
        args.checkpoint, args.weights = args.package, "ema"
    else:
        ck = torch.load(args.checkpoint, map_location="cpu")
        model.load_state_dict(ck[args.weights])
    model.eval()
    if args.wording:
        print(f"{os.path.basename(args.checkpoint)} step {ck['step']} ({args.weights} weights)")
        print(f"wording probe ({len(WORDING_SCENES)} scenes x 4 noises; share read as asked):")
        for name, colour, background in wording_probe(model):
            print(f"  {name:24s} object colour {colour:5.1%} background {background:5.1%}")
        return
    clips, _, prompts, _ = dataset.sample_batch(np.random.default_rng(123), args.batch)
    x0 = torch.from_numpy(clips)
    gen = torch.Generator().manual_seed(0)
    print(f"{os.path.basename(args.checkpoint)} step {ck['step']} ({args.weights} weights)")
    print(f"{'t':>5} {'abar':>8} {'v-mse':>8} {'zero':>8} {'x0-mse':>8}")
    with torch.no_grad():
        enc = model.text(torch.from_numpy(encode(prompts)))
        for level in LEVELS:
            t = torch.full((args.batch,), level, dtype=torch.long)
            xt, target = diffusion.v_target(x0, torch.randn(x0.shape, generator=gen), t)
            pred = model.denoiser(xt, t.float(), enc)
            a, s = diffusion.ABAR[level].sqrt(), (1 - diffusion.ABAR[level]).sqrt()
            x0_mse = (a * xt - s * pred - x0).pow(2).mean().item()
            print(f"{level:>5} {diffusion.ABAR[level].item():>8.4f} {(pred - target).pow(2).mean().item():>8.4f} "
                  f"{target.pow(2).mean().item():>8.4f} {x0_mse:>8.4f}")
    print("motion probe (t=999 mean clip; expect dx -/+ for left/right, dy -/+ for up/down):")
    for prompt, dx, dy in motion_probe(model):
        print(f"  {prompt:50s} dx {dx:+6.1f} dy {dy:+6.1f}")
    print("placement probe (mid-clip centre y, x and area in px; sampled | training data):")
    for shape, got, data in placement_probe(model):
        print(f"  {shape:9s} y {got[0]:5.1f} x {got[1]:5.1f} area {got[2]:5.0f} | "
              f"y {data[0]:5.1f} x {data[1]:5.1f} area {data[2]:5.0f}")


if __name__ == "__main__":
    main()
