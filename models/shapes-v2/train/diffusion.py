"""Noise schedule, training target and samplers, matching model.json's scheduler block:
squaredcos_cap_v2 betas (diffusers definition), T=1000, v-prediction, "trailing" spacing.
The samplers mirror what the runtime does so the adherence check measures the real thing."""
import math

import numpy as np
import torch

T = 1000


def alphas_cumprod(num_steps=T):
    """diffusers betas_for_alpha_bar(..., "cosine") -> cumulative product of (1 - beta)."""
    def alpha_bar(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), 0.999)
             for i in range(num_steps)]
    return torch.tensor(np.cumprod(1.0 - np.array(betas, dtype=np.float64)), dtype=torch.float32)


ABAR = alphas_cumprod()


def v_target(x0, noise, t):
    """Noisy input x_t and the v-prediction target for integer timesteps t [B]."""
    a = ABAR[t].sqrt().view(-1, 1, 1, 1, 1)
    s = (1 - ABAR[t]).sqrt().view(-1, 1, 1, 1, 1)
    return a * x0 + s * noise, a * noise - s * x0


def sample_timesteps(batch, generator=None):
    """Training timesteps: 50% uniform over [0, T), 25% uniform over [880, T), 25% exactly T-1.

    A 16x32x32 clip is so redundant that the noisy input itself reveals the background colour
    down to t ~ 990 (averaging 16k pixels beats the noise) and the object down to t ~ 960. The
    sampler starts at t = 999 (pure noise, "trailing" spacing), and its first two predictions
    (t = 999 and t ~ 899 at 10 steps) fix colour, place and motion; every later step refines
    what they drew. Only those samples teach the prompt, so they get half of every batch. With
    uniform t alone the network learnt to read colours from the noise and ignored the text; with
    a quarter of the batch there (the first run: 75 / 15 / 10 over [940, T)), the background
    took 7000 steps and object colour 14500. Low t is cheap to learn through the low-noise
    skip (Denoiser.conv_skip); before the skip existed, half the batch at high t left the v-MSE
    at t = 50 no better than predicting zero."""
    t = torch.randint(0, T, (batch,), generator=generator)
    high = torch.randint(880, T, (batch,), generator=generator)
    u = torch.rand(batch, generator=generator)
    t = torch.where(u < 0.25, high, t)
    return torch.where(u > 0.75, torch.full_like(t, T - 1), t)


def trailing_timesteps(steps):
    """diffusers "trailing" spacing: e.g. 10 steps -> 999, 899, ..., 99."""
    return (np.round(np.arange(T, 0, -T / steps)) - 1).astype(np.int64)


@torch.no_grad()
def sample(model_fn, shape, steps=12, solver="dpmpp-2m", generator=None, known=None, clean_known=False):
    """Generate from pure noise. model_fn(x, t_float[B]) -> v. solver: "ddim" | "dpmpp-2m" |
    "ddpm". The first two are deterministic (eta=0); "ddpm" draws each step from the posterior
    with fresh noise from `generator` (models/engine/schedulers/ddim.ts, eta 1). All end on the clean
    estimate x0, as diffusers does.

    known: optional clean frames [B,3,k,H,W] that are the first k frames of the clip (temporal
    inpainting, what the runtime's extension does in models/engine/pipeline.ts): they start as
    the known frames noised to the first timestep with the same noise, and after every step are
    reset to that noise at the next timestep, ending clean. clean_known: the known frames stay
    clean at every step instead (a model trained with train.py --context-rate)."""
    noise = torch.randn(shape, generator=generator)
    x = noise.clone()
    ts = trailing_timesteps(steps)

    def put_known(x, t_next):
        if known is None:
            return x
        k = known.shape[2]
        x = x.clone()
        if t_next is None or clean_known:
            x[:, :, :k] = known
        else:
            ab = ABAR[t_next]
            x[:, :, :k] = ab.sqrt() * known + (1 - ab).sqrt() * noise[:, :, :k]
        return x
    x = put_known(x, ts[0])
    prev_x0, prev_h = None, None
    for i, t in enumerate(ts):
        abar = ABAR[t]
        a, s = abar.sqrt(), (1 - abar).sqrt()
        v = model_fn(x, torch.full((shape[0],), float(t)))
        x0 = a * x - s * v
        if i == len(ts) - 1:
            x = put_known(x0, None)  # final step lands on t=-1 (alpha=1, sigma=0)
            break
        abar_n = ABAR[ts[i + 1]]
        a_n, s_n = abar_n.sqrt(), (1 - abar_n).sqrt()
        if solver in ("ddim", "ddpm"):
            eps = s * x + a * v
            var = (1 - abar_n) / (1 - abar) * (1 - abar / abar_n) if solver == "ddpm" else torch.tensor(0.0)
            fresh = var.sqrt() * torch.randn(shape, generator=generator) if solver == "ddpm" else 0.0
            x = put_known(a_n * x0 + (1 - abar_n - var).clamp(min=0).sqrt() * eps + fresh, ts[i + 1])
            continue
        # DPM-Solver++(2M) in data-prediction form, first order on the first step.
        h = torch.log(a_n / s_n) - torch.log(a / s)
        d = x0
        if prev_x0 is not None:
            r = prev_h / h
            d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * prev_x0
        x = put_known((s_n / s) * x - a_n * torch.expm1(-h) * d, ts[i + 1])
        prev_x0, prev_h = x0, h
    return x
