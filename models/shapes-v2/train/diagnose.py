"""Per-noise-level health of a checkpoint: v-MSE against the predict-zero baseline.

    python3 diagnose.py [--checkpoint checkpoints/latest.pt] [--weights model|ema]

A level where the v-MSE is no better than predicting zero is not being learnt. That is how the
low-noise failure was found (samples that keep visible noise): at t = 50 the model matched the
baseline after 3000 steps. Adherence numbers alone do not show which noise levels are missing.
"""
import argparse
import os

import numpy as np
import torch

import dataset
import diffusion
from tokenizer import encode
from train import LATEST, ShapesModel

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=LATEST)
    ap.add_argument("--weights", choices=["ema", "model"], default="model")
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(1)  # never slow a training run that shares the machine
    ck = torch.load(args.checkpoint, map_location="cpu")
    model = ShapesModel()
    model.load_state_dict(ck[args.weights])
    model.eval()
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


if __name__ == "__main__":
    main()
