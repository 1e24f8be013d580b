"""shapes-v2 networks: a small position-aware text encoder and a factorised (2+1)D pixel UNet.

Both are written with plain ops (matmul / softmax / conv2d / reshape) so they export cleanly
to ONNX opset 17 and run fast in onnxruntime on a CPU. Inside the denoiser activations use
the layout [B*F, C, H, W]: spatial work is then an ordinary Conv2d (the best-optimised CPU
kernel), and temporal work reshapes to [B, C, F, H*W] for a (3,1) Conv2d over frames.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from diffusion import ABAR

FRAMES = 16
SIZE = 32
MAX_LEN = 16
TEXT_DIM = 64
SKIP_GAIN_MAX = 20.0  # sqrt(snr) cap for the low-noise skip (reached below t ~ 20)


# ----------------------------------------------------------------------------------------
# Shared pieces
# ----------------------------------------------------------------------------------------

class Linear(nn.Linear):
    """nn.Linear computed as a 1x1 convolution.

    Same parameters and maths, but the CPU torch build used for training has only a generic
    (reference) BLAS, where matmul runs ~20x slower than the oneDNN convolution kernels.
    In ONNX this becomes a Conv node, which onnxruntime runs as a GEMM anyway."""

    def forward(self, x):
        shape = x.shape
        y = F.conv2d(x.reshape(-1, self.in_features, 1, 1), self.weight[:, :, None, None], self.bias)
        return y.reshape(shape[:-1] + (self.out_features,))


def sinusoidal(x, dim, max_period=10000.0):
    """[N] float -> [N, dim] sin/cos features (the usual diffusion timestep embedding)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = x.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class SelfAttention(nn.Module):
    """Multi-head attention on [N, L, D] with an optional additive mask [N, 1, 1, L].
    Hand-written rather than nn.MultiheadAttention so export never hits a fused fast path."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = Linear(dim, dim * 3)
        self.proj = Linear(dim, dim)

    def forward(self, x, mask=None):
        n, l, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).reshape(n, l, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // h))
        if mask is not None:
            att = att + mask
        out = att.softmax(-1) @ v  # [N, h, L, d/h]
        return self.proj(out.transpose(1, 2).reshape(n, l, d))


# ----------------------------------------------------------------------------------------
# Text encoder
# ----------------------------------------------------------------------------------------

class TextLayer(nn.Module):
    def __init__(self, dim, heads, ff):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(Linear(dim, ff), nn.GELU(), Linear(ff, dim))

    def forward(self, x, mask):
        x = x + self.attn(self.norm1(x), mask)
        return x + self.ff(self.norm2(x))


class TextEncoder(nn.Module):
    """input_ids int64 [B, 16] -> last_hidden_state float32 [B, 16, 64].

    Learned position embeddings make it order-aware, which is what lets "a blue circle on a
    red background" differ from "a red circle on a blue background". Pad positions (id 0)
    are masked as keys and their outputs are zeroed, except position 0, which is always kept
    so an empty prompt still has one finite, learned "null" vector to attend to."""

    def __init__(self, vocab_size, dim=TEXT_DIM, layers=3, heads=4, ff=128, max_len=MAX_LEN):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.layers = nn.ModuleList([TextLayer(dim, heads, ff) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.tok.weight, std=0.02)

    def forward(self, input_ids):
        first = torch.arange(MAX_LEN, device=input_ids.device) == 0  # [L]
        keep = (input_ids != 0) | first[None]  # [B, L] True = real token (or position 0)
        mask = (~keep).float()[:, None, None, :] * -1e4
        x = self.tok(input_ids) + self.pos[None]
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x) * keep.float()[..., None]


# ----------------------------------------------------------------------------------------
# Denoiser
# ----------------------------------------------------------------------------------------

def group_norm(ch):
    return nn.GroupNorm(8, ch)


class ResBlock(nn.Module):
    """FiLM-conditioned residual block: spatial 3x3 conv, FiLM, then temporal k=3 conv over frames.
    FiLM parameters come from a per-(sample, frame) conditioning vector, so the block knows
    the timestep, the prompt and which frame it is working on."""

    def __init__(self, ch, cond_dim):
        super().__init__()
        self.norm1 = group_norm(ch)
        self.film = Linear(cond_dim, ch * 2)
        self.conv_s = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm2 = group_norm(ch)
        self.conv_t = nn.Conv2d(ch, ch, (3, 1), padding=(1, 0))
        # Zero-init the last conv so every block starts as the identity (stable early training).
        nn.init.zeros_(self.conv_t.weight)
        nn.init.zeros_(self.conv_t.bias)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x, cond):
        # x [B*F, C, H, W]; cond [B*F, cond_dim]
        h = self.conv_s(F.silu(self.norm1(x)))
        # FiLM after the second norm (as in ADM's adaptive GroupNorm): nothing normalises the
        # branch after this point, so the prompt/timestep/frame shift reaches the residual
        # stream intact. Applied before a GroupNorm instead, it was mostly normalised away.
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.norm2(h) * (1 + scale) + shift)
        c, hh, ww = h.shape[1], h.shape[2], h.shape[3]
        h = h.reshape(-1, FRAMES, c, hh * ww).transpose(1, 2)  # [B, C, F, HW]
        h = self.conv_t(h)
        h = h.transpose(1, 2).reshape(-1, c, hh, ww)
        return x + h


class TemporalAttention(nn.Module):
    """Self-attention across the 16 frames at every spatial position (cheap at 8x8)."""

    def __init__(self, ch, heads=4):
        super().__init__()
        self.norm = group_norm(ch)
        self.attn = SelfAttention(ch, heads)
        nn.init.zeros_(self.attn.proj.weight)
        nn.init.zeros_(self.attn.proj.bias)

    def forward(self, x):
        c, hh, ww = x.shape[1], x.shape[2], x.shape[3]
        h = self.norm(x).reshape(-1, FRAMES, c, hh * ww).permute(0, 3, 1, 2)  # [B, HW, F, C]
        h = h.reshape(-1, FRAMES, c)
        h = self.attn(h).reshape(-1, hh * ww, FRAMES, c).permute(0, 2, 3, 1)  # [B, F, C, HW]
        return x + h.reshape(-1, c, hh, ww)


class SpatialAttention(nn.Module):
    """Self-attention over the 16 positions of one 4x4 frame, with a learned position
    embedding so the network can reason about where in the frame the object is. Together
    with TemporalAttention this gives every 4x4 cell a view of the whole clip. (Full
    space-time attention over 256 tokens was too slow for CPU training.)"""

    def __init__(self, ch, hw, heads=4):
        super().__init__()
        self.norm = group_norm(ch)
        self.pos = nn.Parameter(torch.randn(1, ch, hw, hw) * 0.02)
        self.attn = SelfAttention(ch, heads)
        nn.init.zeros_(self.attn.proj.weight)
        nn.init.zeros_(self.attn.proj.bias)

    def forward(self, x):
        c, hh, ww = x.shape[1], x.shape[2], x.shape[3]
        h = (self.norm(x) + self.pos).reshape(-1, c, hh * ww).transpose(1, 2)  # [B*F, HW, C]
        h = self.attn(h).transpose(1, 2).reshape(-1, c, hh, ww)
        return x + h


class TextPool(nn.Module):
    """Summarise the text states [B, 16, 64] into one conditioning vector [B, out_dim].

    Two paths, summed:
    - attention pooling with a few learned queries (position-invariant: generalises across
      templates); rows that are exactly zero (pads zeroed by the text encoder) are masked out;
    - a linear map of the flattened states (position-specific). At initialisation attention
      pooling is a plain average, which nearly washes out the differences between prompts;
      alone it left the denoiser ignoring the text for the first 1000+ steps. The flat path
      carries the prompt at full strength from step 0."""

    def __init__(self, dim=TEXT_DIM, queries=4, out_dim=256):
        super().__init__()
        self.q = nn.Parameter(torch.randn(queries, dim) * 0.02)
        self.k = Linear(dim, dim)
        self.v = Linear(dim, dim)
        self.out = Linear(queries * dim, out_dim)
        self.flat = Linear(MAX_LEN * dim, out_dim)

    def forward(self, enc):
        pad = (enc.abs().sum(-1) == 0).float()[:, None, :] * -1e4  # [B, 1, L]
        att = (self.q[None] @ self.k(enc).transpose(1, 2)) / math.sqrt(enc.shape[-1]) + pad
        pooled = att.softmax(-1) @ self.v(enc)  # [B, Q, D]
        flat = self.flat(enc.reshape(-1, MAX_LEN * enc.shape[-1]))
        return self.out(pooled.reshape(pooled.shape[0], -1)) + flat


def coordinate_maps(size=SIZE):
    """[F, 3, size, size]: the x and y of every pixel and the frame's place in the clip, each in
    [-1, 1]. A convolution is translation-equivariant: without these it can only learn where it
    is from the zero padding at the borders. Motion is a statement about absolute place over time
    (moving left: right side at frame 0, left side at frame 15)."""
    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    ys, xs = torch.meshgrid(grid, grid, indexing="ij")
    frames = torch.linspace(-1, 1, FRAMES)
    maps = torch.stack([xs.expand(FRAMES, -1, -1), ys.expand(FRAMES, -1, -1),
                        frames[:, None, None].expand(-1, size, size)], dim=1)
    return maps.contiguous()


def frame_basis():
    """[F, F] cosine (DCT-II) basis over the frames: smooth, so neighbouring frames get nearby
    conditioning vectors, and complete, so any per-frame pattern can be learnt."""
    f = torch.arange(FRAMES, dtype=torch.float32) + 0.5
    k = torch.arange(FRAMES, dtype=torch.float32)
    return torch.cos(math.pi * f[:, None] * k[None] / FRAMES) * math.sqrt(2.0)


class CoordinateField(nn.Module):
    """A per-pixel MLP (1x1 convolutions) of the moved coordinates, FiLM-conditioned per
    (sample, frame). With the coordinate frame centred on the object and scaled to its size
    (Denoiser.moved_coordinates), the three shapes are simple functions of (x, y): max(|x|, |y|)
    < 1, x^2 + y^2 < 1, |x| < (y + 1) / 2. This path can draw them with straight edges and sharp
    corners at full resolution, the shape word choosing which, instead of leaving the outline
    to the 3x3 convolutions of a UNet (v1 drew every shape as a rounded blob)."""

    def __init__(self, out_ch, cond_dim, hidden=32, inputs=3):
        super().__init__()
        self.inp = nn.Conv2d(inputs, hidden, 1)
        self.film = Linear(cond_dim, hidden * 2)
        self.mid = nn.Conv2d(hidden, hidden, 1)
        self.out = nn.Conv2d(hidden, out_ch, 1)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, coords, cond):
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.inp(coords) * (1 + scale) + shift)
        return self.out(F.silu(self.mid(h)))


LOG_HALF_MIN = math.log(0.05)  # smallest half-size the locator may report (1.6 px at S = 32)
LOCAL_CLAMP = 3.0              # object-frame coordinates are clipped to [-3, 3] object half-sizes


class ObjectLocator(nn.Module):
    """Where the object is in one frame, read from the trunk's S/2 x S/2 features: a spatial
    softmax of an objectness logit gives the centre (x, y in the coordinate maps' [-1, 1] units),
    and the same weights average a per-cell log half-size. train.py supervises both with the
    renderer's geometry (--locate-weight).

    Why: the moved coordinate frame of the step-7227 package (Denoiser.coord_motion) is computed
    from the prompt, time and frame only, but the object's place is random per clip (decided by
    the noise), so no prompt-only frame can sit on the object. Training shrank it instead: its
    log scale was -5.3 for every prompt and frame, i.e. the coordinate field saw a constant and
    drew nothing. A frame read from the pixels can be centred on the object at any place."""

    def __init__(self, ch, size):
        super().__init__()
        self.norm = group_norm(ch)
        self.proj = nn.Conv2d(ch, 2, 1)  # objectness logit, log half-size
        nn.init.zeros_(self.proj.weight)
        with torch.no_grad():
            self.proj.bias.copy_(torch.tensor([0.0, math.log(12.0 / 32.0)]))
        grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
        ys, xs = torch.meshgrid(grid, grid, indexing="ij")
        self.register_buffer("grid", torch.stack([xs, ys]).reshape(1, 2, -1), persistent=False)

    def forward(self, h):
        """h [N, C, s, s] -> centre [N, 2], log half-size [N, 1] (clamped)."""
        o = self.proj(F.silu(self.norm(h))).reshape(h.shape[0], 2, -1)
        w = o[:, :1].softmax(-1)  # [N, 1, s*s]
        centre = (w * self.grid).sum(-1)
        log_half = (w * o[:, 1:]).sum(-1).clamp(min=LOG_HALF_MIN)
        return centre, log_half


def object_frame(coords, centre, log_half):
    """Full-resolution features of each pixel's place relative to the located object, in object
    half-sizes: x, y, |x|, |y|, x^2 + y^2 ([N, 5, S, S]). A square is max(|x|, |y|) < 1, a circle
    x^2 + y^2 < 1, a triangle |x| < (y + 1) / 2: each a few units of a 1x1 MLP away."""
    # coords [F, 2, S, S] (the fixed maps); centre, log_half per (sample, frame): broadcast
    # over [B, F, 2, S, S], which keeps the batch dimension dynamic in the ONNX graph.
    size = coords.shape[-1]
    centre = centre.reshape(-1, FRAMES, 2, 1, 1)
    scale = torch.exp(-log_half).reshape(-1, FRAMES, 1, 1, 1)
    xy = ((coords[None] - centre) * scale).reshape(-1, 2, size, size)
    xy = xy.clamp(-LOCAL_CLAMP, LOCAL_CLAMP)
    return torch.cat([xy, xy.abs(), (xy * xy).sum(1, keepdim=True)], dim=1)


class Denoiser(nn.Module):
    """sample [B,3,16,S,S], timestep [B] (0..999 float), encoder_hidden_states [B,16,64]
    -> v-prediction [B,3,16,S,S] (S = 32). The graph contract is v1's.

    A v1-style (2+1)D UNet trunk on the space-to-depth input (S/2 x S/2 x 12; levels S/2 (c1),
    S/4 (c2, + temporal attention), S/8 (c3, + spatial and temporal attention)), plus what v1
    lacked, a full-resolution head: the trunk's output is unfolded (depth-to-space) to c0
    channels at S x S, added to a 3x3 convolution of the input pixels and to the coordinate
    field (a per-pixel MLP of the moved coordinates, FiLM-conditioned per frame), and refined by
    two 3x3 convolutions at full resolution, the first FiLM-conditioned. v1 drew every outline
    through a depth-to-space of 2x2 blocks from a 16x16 grid: rounded corners and colour fringes.
    (A UNet level with GroupNorm and temporal convolution at S x S cost 2-3x the step time.)"""

    def __init__(self, c0=16, c1=40, c2=80, c3=160, dim=128):
        super().__init__()
        cond_dim = 3 * dim
        half = SIZE // 2
        self.time_mlp = nn.Sequential(Linear(128, dim), nn.SiLU(), Linear(dim, dim))
        self.time_norm = nn.LayerNorm(dim)
        self.text_pool = TextPool(out_dim=dim)
        self.text_norm = nn.LayerNorm(dim)
        self.frame_mlp = Linear(FRAMES, dim)
        self.frame_norm = nn.LayerNorm(dim)
        self.register_buffer("frames", frame_basis(), persistent=False)
        # Each part is normalised on its own so none drowns the others; the residual MLP lets a
        # block see products such as prompt x frame, which FiLM, linear in its input, cannot form.
        self.cond_mix = nn.Sequential(Linear(cond_dim, cond_dim), nn.SiLU(), Linear(cond_dim, cond_dim))
        nn.init.zeros_(self.cond_mix[2].weight)
        nn.init.zeros_(self.cond_mix[2].bias)

        self.conv_in = nn.Conv2d(12, c1, 3, padding=1)
        self.register_buffer("coords", coordinate_maps(SIZE), persistent=False)
        self.coord_in = nn.Conv2d(3, c1, 3, padding=1)
        # Each (sample, frame) moves and scales its own coordinate frame (shift x, shift y, log
        # scale) from the conditioning vector, so whatever is drawn relative to the coordinates
        # moves and grows with them (v1: motion learnt within 300 steps of adding this).
        self.coord_motion = Linear(cond_dim, 3)
        nn.init.zeros_(self.coord_motion.weight)
        nn.init.zeros_(self.coord_motion.bias)
        self.down1 = ResBlock(c1, cond_dim)
        self.pool1 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.down2 = ResBlock(c2, cond_dim)
        self.tattn2 = TemporalAttention(c2)
        self.pool2 = nn.Conv2d(c2, c3, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c3, cond_dim)
        self.mid_sattn = SpatialAttention(c3, SIZE // 8)
        self.mid_tattn = TemporalAttention(c3)
        self.mid2 = ResBlock(c3, cond_dim)
        self.unpool2 = nn.Conv2d(c3, c2, 1)
        self.up2 = ResBlock(c2, cond_dim)
        self.unpool1 = nn.Conv2d(c2, c1, 1)
        self.up1 = ResBlock(c1, cond_dim)
        self.norm_out = group_norm(c1)
        self.trunk_out = nn.Conv2d(c1, 4 * c0, 3, padding=1)  # -> depth-to-space: c0 at S x S
        # Full-resolution head.
        self.pixel_in = nn.Conv2d(3, c0, 3, padding=1)
        self.coord_field = CoordinateField(c0, cond_dim)
        # The object-frame field (fourth stretch): the shape drawn around the located object,
        # chosen by the prompt through FiLM. Its output layer starts at zero, so a warm start
        # from a package without it begins as exactly that package.
        self.locate = ObjectLocator(c1, half)
        self.shape_field = CoordinateField(c0, cond_dim, inputs=5)
        nn.init.zeros_(self.shape_field.out.weight)
        nn.init.zeros_(self.shape_field.out.bias)
        self.last_locate = None  # (centre, log half-size) of the last forward, for train.py
        self.head_film = Linear(cond_dim, 2 * c0)
        nn.init.zeros_(self.head_film.weight)
        nn.init.zeros_(self.head_film.bias)
        self.head1 = nn.Conv2d(c0, c0, 3, padding=1)
        self.head2 = nn.Conv2d(c0, 3, 3, padding=1)
        nn.init.zeros_(self.head2.weight)
        nn.init.zeros_(self.head2.bias)
        self.c0 = c0
        # Low-noise skip (v1): at small t the v target is almost exactly the noise, a fixed
        # high-pass of sqrt(snr) * x_t for piecewise-constant clips. 5x5 at full resolution
        # (v1's 3x3 on the 2x2-folded input saw about 6x6 pixels).
        self.conv_skip = nn.Conv2d(3, 3, 5, padding=2)
        nn.init.zeros_(self.conv_skip.weight)
        nn.init.zeros_(self.conv_skip.bias)
        self.register_buffer("sqrt_snr", (ABAR / (1 - ABAR)).sqrt().clamp(max=SKIP_GAIN_MAX),
                             persistent=False)

    def text_vector(self, enc):
        """The prompt's part of the conditioning vector: [B, 16, 64] text states -> [B, dim]."""
        return self.text_norm(self.text_pool(enc))

    def conditioning(self, timestep, enc):
        """One conditioning vector per (sample, frame): [B*F, 3 * dim]."""
        time = self.time_norm(self.time_mlp(sinusoidal(timestep, 128)))  # [B, D]
        text = self.text_vector(enc)  # [B, D]
        frame = self.frame_norm(self.frame_mlp(self.frames))  # [F, D]
        per_sample = torch.cat([time, text], dim=-1)[:, None, :]  # [B, 1, 2D]
        cond = torch.cat([per_sample + torch.zeros_like(frame[None, :, :1]),
                          frame[None] + torch.zeros_like(time[:, None, :])], dim=-1)  # [B, F, 3D]
        cond = cond.reshape(-1, cond.shape[-1])
        return cond + self.cond_mix(cond)

    def moved_coordinates(self, cond):
        """[B*F, 3, S, S]: the coordinate maps, x and y shifted and scaled per (sample, frame)."""
        motion = self.coord_motion(cond).reshape(-1, FRAMES, 3, 1, 1)  # [B, F, 3, 1, 1]
        xy = (self.coords[None, :, :2] - motion[:, :, :2]) * torch.exp(motion[:, :, 2:])
        frame = self.coords[None, :, 2:] + torch.zeros_like(motion[:, :, 2:])
        return torch.cat([xy, frame], dim=2).reshape(-1, 3, SIZE, SIZE)

    def forward(self, sample, timestep, encoder_hidden_states):
        cond = self.conditioning(timestep, encoder_hidden_states)
        half = SIZE // 2
        x = sample.permute(0, 2, 1, 3, 4).reshape(-1, 3, SIZE, SIZE)  # [B*F, 3, S, S]
        # space-to-depth -> [B*F, 12, S/2, S/2]
        xs = x.reshape(-1, 3, half, 2, half, 2).permute(0, 1, 3, 5, 2, 4).reshape(-1, 12, half, half)
        coords = self.moved_coordinates(cond)  # full resolution
        coords_half = F.avg_pool2d(coords, 2)

        h = self.conv_in(xs) + self.coord_in(coords_half)
        h1 = self.down1(h, cond)
        h2 = self.tattn2(self.down2(self.pool1(h1), cond))
        h = self.mid2(self.mid_tattn(self.mid_sattn(self.mid1(self.pool2(h2), cond))), cond)
        # Upsample with a cheap 1x1 projection then nearest-neighbour, skip by addition.
        h = F.interpolate(self.unpool2(h), scale_factor=2.0, mode="nearest") + h2
        h = self.up2(h, cond)
        h = F.interpolate(self.unpool1(h), scale_factor=2.0, mode="nearest") + h1
        h = self.up1(h, cond)
        centre, log_half = self.locate(h)
        self.last_locate = (centre, log_half)
        h = self.trunk_out(F.silu(self.norm_out(h)))  # [B*F, 4*c0, S/2, S/2]
        c0 = self.c0
        h = h.reshape(-1, c0, 2, 2, half, half).permute(0, 1, 4, 2, 5, 3).reshape(-1, c0, SIZE, SIZE)
        # Full-resolution head.
        h = h + self.pixel_in(x) + self.coord_field(coords, cond)
        h = h + self.shape_field(object_frame(self.coords[:, :2], centre, log_half), cond)
        scale, shift = self.head_film(cond)[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.head1(F.silu(h)) * (1 + scale) + shift)
        # sqrt(snr) per sample from the (integer-valued) timestep, repeated for every frame.
        gain = self.sqrt_snr[timestep.round().long().clamp(0, ABAR.shape[0] - 1)]
        gain = gain[:, None].expand(-1, FRAMES).reshape(-1, 1, 1, 1)
        h = self.head2(h) + self.conv_skip(x * gain)
        return h.reshape(-1, FRAMES, 3, SIZE, SIZE).permute(0, 2, 1, 3, 4)


def count_params(m):
    return sum(p.numel() for p in m.parameters())


def count_macs(model, *inputs):
    """Multiply-accumulates of convs, linears and attention matmuls (forward hooks)."""
    macs = [0]

    def conv_hook(mod, inp, out):
        k = mod.weight[0].numel()  # in/groups * kh * kw
        macs[0] += out.numel() * k

    def lin_hook(mod, inp, out):
        macs[0] += out.numel() * mod.in_features

    def attn_hook(mod, inp, out):
        n, l, d = inp[0].shape
        macs[0] += 2 * n * l * l * d

    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(lin_hook))
        elif isinstance(mod, SelfAttention):
            hooks.append(mod.register_forward_hook(attn_hook))
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    return macs[0]


if __name__ == "__main__":
    # Quick benchmark: params, MACs, eager forward time at batch 2 on 2 threads.
    import sys
    import time
    torch.set_num_threads(2)
    kw = {}
    if len(sys.argv) > 1:
        kw = dict(zip(["c0", "c1", "c2", "c3"], map(int, sys.argv[1:5])))
    te, dn = TextEncoder(64), Denoiser(**kw)
    ids = torch.randint(0, 64, (2, MAX_LEN))
    ids[1] = 0
    x = torch.randn(2, 3, FRAMES, SIZE, SIZE)
    t = torch.tensor([999.0, 10.0])
    enc = te(ids)
    print("text params", count_params(te), "denoiser params", count_params(dn))
    print("denoiser GMAC @B2: %.3f" % (count_macs(dn, x, t, enc) / 1e9))
    with torch.no_grad():
        for _ in range(3):
            dn(x, t, enc)
        t0 = time.time()
        for _ in range(10):
            dn(x, t, enc)
    print("forward B2: %.1f ms" % ((time.time() - t0) / 10 * 1000))
    opt = torch.optim.AdamW(list(dn.parameters()) + list(te.parameters()), lr=1e-3)
    for bs in (8, 16, 32):
        xb = torch.randn(bs, 3, FRAMES, SIZE, SIZE)
        ib = torch.randint(0, 64, (bs, MAX_LEN))
        tb = torch.rand(bs) * 999
        for i in range(4):
            if i == 1:
                t0 = time.time()
            loss = (dn(xb, tb, te(ib)) - xb).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        dt = (time.time() - t0) / 3
        print("train step B%d: %.3f s  (%.1f samples/s)" % (bs, dt, bs / dt))
