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
    clips, prompts, _ = dataset.sample_batch(np.random.default_rng(123), args.batch)
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


if __name__ == "__main__":
    main()
