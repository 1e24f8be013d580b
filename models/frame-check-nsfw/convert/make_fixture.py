"""Make the synthetic test fixture test/fixtures/frame-check/flagged-224.rgb.

    /usr/bin/python3 make_fixture.py [model.onnx] [out.rgb]

No photograph is involved: starting from a mid-grey frame with faint seeded noise, the pixels
are optimised by gradient ascent on log P(porn) of the shipped classifier (model.onnx, run as an
equivalent torch graph built op by op from the ONNX nodes). The result is an abstract adversarial
texture that depicts nothing; it exists only so tests can exercise the "blocked" path.
Writes 224*224*3 bytes, row-major RGB uint8. Then run `node check.mjs <work> --write-fixture-json`
to score it on TF.js and onnxruntime-node and write flagged-224.json.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
model_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "model.onnx")
out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "../../../test/fixtures/frame-check/flagged-224.rgb")
TARGET, LABELS = "porn", ["drawing", "hentai", "neutral", "porn", "sexy"]
torch.set_num_threads(1)  # the design machine has 2 cores and is usually shared
torch.manual_seed(0)

m = onnx.load(model_path)
P = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def forward(x):
    """Interpret the ONNX graph with torch ops (only the ops to_onnx.py emits)."""
    env = {m.graph.input[0].name: x, **P}
    for n in m.graph.node:
        i = [env[k] for k in n.input]
        if n.op_type == "Transpose":
            y = i[0].permute(*attr(n, "perm"))
        elif n.op_type == "Conv":
            t, l, b, r = attr(n, "pads")
            y = F.conv2d(F.pad(i[0], (l, r, t, b)), i[1], i[2], stride=attr(n, "strides"), groups=attr(n, "group", 1))
        elif n.op_type == "Clip":
            y = i[0].clamp(float(i[1]), float(i[2]))
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            y = i[0].flatten(1)
        elif n.op_type == "Gemm":
            y = i[0] @ i[1] + i[2]
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "Softmax":
            y = F.log_softmax(i[0], dim=-1)  # log-probabilities: better gradients
        elif n.op_type == "Identity":
            y = i[0]
        else:
            raise ValueError(n.op_type)
        env[n.output[0]] = y
    return env[m.graph.output[0].name]


k = LABELS.index(TARGET)
z = (torch.randn(1, 224, 224, 3) * 0.05).requires_grad_()  # pixel logits; sigmoid(0) = mid-grey
opt = torch.optim.Adam([z], lr=0.05)
for step in range(400):
    opt.zero_grad()
    logp = forward(torch.sigmoid(z))
    (-logp[0, k]).backward()
    opt.step()
    if step % 10 == 0 or step == 399:
        with torch.no_grad():
            q = torch.round(torch.sigmoid(z) * 255) / 255  # score what will be written (uint8)
            p = forward(q).exp()[0]
        print(f"step {step:3d} P({TARGET}) float={logp[0, k].exp().item():.4f} uint8={p[k].item():.4f}", flush=True)
        if p[k].item() >= 0.995:
            break

rgb = torch.round(torch.sigmoid(z.detach()) * 255).clamp(0, 255).to(torch.uint8).numpy()[0]
os.makedirs(os.path.dirname(out_path), exist_ok=True)
rgb.tofile(out_path)
with torch.no_grad():
    p = forward(torch.from_numpy(rgb.astype(np.float32)[None] / 255)).exp()[0].numpy()
print(f"wrote {out_path} ({rgb.size} bytes); torch scores " + " ".join(f"{l}={v:.4f}" for l, v in zip(LABELS, p)))
