"""Export the EMA weights of a checkpoint to the runtime package in models/shapes-v2/:
text_encoder.onnx, denoiser.onnx, tokenizer.json and model.json (with sha256 of each file).

    python3 export.py [--checkpoint checkpoints/latest.pt] [--steps 10] [--guidance 2.0]

The files are written to a staging folder inside the package and moved in one by one, model.json
last: an export stopped midway leaves the package as it was, or (stopped during the moves) new
files under the old model.json, whose sums the runtime then refuses, never a half-written file.
"""
import argparse
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import onnx
import torch

import dataset
from tokenizer import MAX_LEN, PAD_ID, TOKENS, encode, tokenizer_json
from train import CKPT_DIR, ShapesModel

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.abspath(os.path.join(HERE, ".."))
OPSET = 17


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_dynamic_batch(module, example, name):
    """No onnxruntime in this Python, so check batch-size independence on the same traced
    graph the ONNX exporter builds: trace at batch 2, run at batches 1 and 3, compare."""
    traced = torch.jit.trace(module, example, check_trace=False)
    for b in (1, 3):
        inputs = tuple(torch.cat([e, e])[:b] for e in example)
        ref, got = module(*inputs), traced(*inputs)
        err = (ref - got).abs().max().item()
        assert got.shape[0] == b and err < 1e-4, f"{name}: batch {b} mismatch ({err})"


def prompt_vocabulary():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "prompt-vocabulary.json")) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=os.path.join(CKPT_DIR, "latest.pt"))
    ap.add_argument("--weights", choices=["ema", "model"], default="ema")
    ap.add_argument("--steps", type=int, default=10, help="defaults.steps in model.json")
    ap.add_argument("--guidance", type=float, default=2.0,
                    help="defaults.guidance in model.json (2: best of 1-6 on the eval, MODEL_CARD.md)")
    ap.add_argument("--continuation-strength", type=float, default=1.0,
                    help="defaults.continuationStrength in model.json, for weights trained with "
                         "clean known frames (train.py --context-rate)")
    ap.add_argument("--out", default=OUT_DIR, help="model folder to write (default: the shipped one)")
    args = ap.parse_args()
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".export-", dir=out_dir)
    try:
        write_package(args, stage)
        # Whatever write_package wrote; model.json names the others' sums, so it goes last.
        for name in sorted(os.listdir(stage), key=lambda n: n == "model.json"):
            os.replace(os.path.join(stage, name), os.path.join(out_dir, name))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    print(f"wrote {out_dir}/model.json")


def write_package(args, out_dir):
    """Every file of the package, into out_dir."""
    ck = torch.load(args.checkpoint, map_location="cpu")
    assert ck["vocab"] == TOKENS, "checkpoint was trained with a different vocabulary"
    model = ShapesModel()
    model.load_state_dict(ck[args.weights])
    model.eval()
    print(f"loaded {args.weights} weights from {args.checkpoint} (step {ck['step']})")
    clean_known = ck["args"].get("context_rate", 0) > 0

    ids = torch.from_numpy(encode(["a red circle moving left on a black background", ""]))
    with torch.no_grad():
        enc = model.text(ids)
        x = torch.randn(2, 3, dataset.FRAMES, dataset.SIZE, dataset.SIZE)
        t = torch.tensor([999.0, 99.0])
        out = model.denoiser(x, t, enc)
        assert torch.isfinite(enc).all() and torch.isfinite(out).all()
        assert out.shape == x.shape
        check_dynamic_batch(model.text, (ids,), "text encoder")
        check_dynamic_batch(model.denoiser, (x, t, enc), "denoiser")

    te_path = os.path.join(out_dir, "text_encoder.onnx")
    dn_path = os.path.join(out_dir, "denoiser.onnx")
    batch = {0: "batch"}
    # No constant folding: the initializers keep the parameters' names, so the shipped package is
    # also the starting point for training on a machine without the checkpoints (train.py
    # --init-from). onnxruntime folds the same constants itself when it loads the graph.
    torch.onnx.export(model.text, (ids,), te_path, opset_version=OPSET, do_constant_folding=False,
                      input_names=["input_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": batch, "last_hidden_state": batch})
    torch.onnx.export(model.denoiser, (x, t, enc), dn_path, opset_version=OPSET,
                      do_constant_folding=False,
                      input_names=["sample", "timestep", "encoder_hidden_states"],
                      output_names=["out_sample"],
                      dynamic_axes={n: batch for n in
                                    ["sample", "timestep", "encoder_hidden_states", "out_sample"]})
    for path in (te_path, dn_path):
        m = onnx.load(path)
        onnx.checker.check_model(m)
        dims = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in m.graph.input]
        print(f"{os.path.basename(path)}: ok, {os.path.getsize(path) / 1e6:.2f} MB, inputs {dims}")

    tok_path = os.path.join(out_dir, "tokenizer.json")
    with open(tok_path, "w") as f:
        json.dump(tokenizer_json(), f, indent=1)
        f.write("\n")

    manifest = {
        "format": "dailies-model/1",
        "name": "shapes-v2",
        "description": (f"Built-in 16-frame {dataset.SIZE}x{dataset.SIZE} text-to-video model: one "
                        "coloured circle, square or triangle moving left/right/up/down (entering "
                        "and leaving the frame), growing, shrinking or still on a solid "
                        "background. Pixel-space (2+1)D UNet with a full-resolution head, "
                        "v-prediction."),
        "space": {"kind": "pixel", "channels": 3},
        "components": {
            "textEncoder": {
                "file": "text_encoder.onnx", "sha256": sha256(te_path), "externalData": [],
                "inputs": {"inputIds": {"name": "input_ids", "dtype": "int64"}},
                "outputs": {"hiddenStates": {"name": "last_hidden_state", "dtype": "float32"}},
            },
            "denoiser": {
                "file": "denoiser.onnx", "sha256": sha256(dn_path), "externalData": [],
                "inputs": {
                    "sample": {"name": "sample", "dtype": "float32"},
                    "timestep": {"name": "timestep", "dtype": "float32", "shape": "batch"},
                    "encoderHiddenStates": {"name": "encoder_hidden_states", "dtype": "float32"},
                },
                "outputs": {"prediction": {"name": "out_sample", "dtype": "float32"}},
                "layout": "BCFHW",
                # Trained to see a continuation's given frames noise-free (train.py --context-rate).
                **({"knownFrames": "clean"} if clean_known else {}),
            },
        },
        "tokenizer": {"kind": "tokenizer-json", "file": {"file": "tokenizer.json", "sha256": sha256(tok_path)},
                      "maxLength": MAX_LEN, "padId": PAD_ID},
        "scheduler": {"numTrainTimesteps": 1000, "betaSchedule": "squaredcos_cap_v2",
                      "predictionType": "v_prediction", "timestepSpacing": "trailing",
                      # Ancestral sampling: fresh noise at each step lets a sample commit to one
                      # outline where DPM-Solver++ kept a blend (MODEL_CARD.md, sampler table).
                      "default": "ddpm"},
        "defaults": {"frames": dataset.FRAMES, "width": dataset.SIZE, "height": dataset.SIZE,
                     "fps": 8, "steps": args.steps, "guidance": args.guidance, "outputSize": 256,
                     "negativePrompt": "",
                     **({"continuationStrength": args.continuation_strength} if clean_known else {})},
        "limits": {"frames": {"min": 16, "max": 16}, "steps": {"min": 1, "max": 100},
                   "guidance": {"min": 0, "max": 20}, "variations": {"min": 1, "max": 4}},
        # The words the refinement grammar replaces (src/core/prompt-vocabulary.ts): the ones the
        # training prompts use, kept beside this script so every export carries them.
        "promptVocabulary": prompt_vocabulary(),
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        # Where the exported weights are in the recipe's schedule, for train.py --init-from.
        json.dump({"step": ck["step"], "scheduleSteps": ck["args"]["steps"], "weights": args.weights}, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(p) for p in (te_path, dn_path, tok_path))
    print(f"{total / 1e6:.2f} MB of model files")


if __name__ == "__main__":
    np.random.seed(0)
    torch.manual_seed(0)
    main()
