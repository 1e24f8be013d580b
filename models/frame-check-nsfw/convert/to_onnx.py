"""Emit an ONNX graph (opset 13) from the Keras layers model extracted by extract.mjs.

    /usr/bin/python3 to_onnx.py <extracted dir> <out model.onnx>

Needs only onnx + numpy (Debian python3-onnx 1.12 works). Supports exactly the Keras layers
nsfwjs' MobileNetV2 uses: InputLayer, ZeroPadding2D (folded into the next conv's pads), Conv2D,
DepthwiseConv2D, BatchNormalization (folded into the preceding conv as weight scale + bias),
ReLU(max_value=6) as Clip, Add, AveragePooling2D over the whole 7x7 map as GlobalAveragePool,
Flatten, Dropout (identity at inference), Dense (+relu/softmax). Anything else is an error.
Input: float32 [N,224,224,3] NHWC (RGB / 255); output: float32 [N,5] softmax probabilities.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

src, dst = sys.argv[1], sys.argv[2]
meta = json.load(open(f"{src}/model.json"))
blob = np.fromfile(f"{src}/weights.bin", dtype="<f4")
W = {w["name"]: blob[w["offset"] // 4: w["offset"] // 4 + w["length"]].reshape(w["shape"]) for w in meta["weights"]}
used = set()


def weight(name):
    used.add(name)
    return W[name].astype(np.float64)


cfg = meta["modelTopology"]["model_config"]["config"]
layers = cfg["layers"]
by_name = {l["name"]: l for l in layers}
consumers = {}
for l in layers:
    for node in l["inbound_nodes"]:
        for inb in node:
            consumers.setdefault(inb[0], []).append(l["name"])

nodes, inits = [], []
alias = {}  # keras layer name -> onnx tensor name carrying its output
pending_pad = {}  # keras ZeroPadding2D name -> (source tensor, onnx pads)
folded_bn = set()


def init(name, arr):
    inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
    return name


def inputs_of(l):
    (node,) = l["inbound_nodes"]
    return [inb[0] for inb in node]


def same_pads(k, s):
    # TF "same" padding; with the 224 input every "same" conv here is stride 1.
    assert s == 1, "stride>1 'same' padding not needed for this model"
    total = k - 1
    return [total // 2, total // 2, total - total // 2, total - total // 2]


init("clip_min", np.array(0.0))
init("clip_max", np.array(6.0))
inp = cfg["input_layers"][0][0]
nodes.append(helper.make_node("Transpose", ["input"], ["input_nchw"], perm=[0, 3, 1, 2], name="to_nchw"))
alias[inp] = "input_nchw"

for l in layers:
    cls, c, name = l["class_name"], l["config"], l["name"]
    if cls == "InputLayer":
        continue
    ins = inputs_of(l)
    if cls == "ZeroPadding2D":
        (t, b), (lft, r) = c["padding"]
        pending_pad[name] = (alias[ins[0]], [t, lft, b, r])
        continue
    if cls in ("Conv2D", "DepthwiseConv2D"):
        kh, kw = c["kernel_size"]
        sh, sw = c["strides"]
        assert c["dilation_rate"] == [1, 1] and c["activation"] == "linear" and not c["use_bias"]
        if ins[0] in pending_pad:
            assert c["padding"] == "valid"
            x, pads = pending_pad.pop(ins[0])
        else:
            x = alias[ins[0]]
            pads = same_pads(kh, sh) if c["padding"] == "same" else [0, 0, 0, 0]
        if cls == "Conv2D":
            k = weight(f"{name}/kernel").transpose(3, 2, 0, 1)  # [out,in,kh,kw]
            group = 1
        else:
            assert c["depth_multiplier"] == 1
            k = weight(f"{name}/depthwise_kernel").transpose(2, 3, 0, 1)  # [in,1,kh,kw]
            group = k.shape[0]
        bias = np.zeros(k.shape[0])
        # Fold the BatchNormalization that alone consumes this conv.
        (nxt,) = consumers[name]
        bn = by_name[nxt]
        assert bn["class_name"] == "BatchNormalization" and bn["config"]["axis"] == -1
        bc = bn["config"]
        gamma = weight(f"{nxt}/gamma") if bc["scale"] else 1.0
        beta = weight(f"{nxt}/beta") if bc["center"] else 0.0
        mul = gamma / np.sqrt(weight(f"{nxt}/moving_variance") + bc["epsilon"])
        k = k * mul[:, None, None, None]
        bias = beta - weight(f"{nxt}/moving_mean") * mul
        out = f"{nxt}_out"
        nodes.append(helper.make_node(
            "Conv", [x, init(f"{name}_W", k), init(f"{name}_B", bias)], [out], name=name,
            kernel_shape=[kh, kw], strides=[sh, sw], pads=pads, group=group))
        alias[name] = alias[nxt] = out
        folded_bn.add(nxt)
        continue
    if cls == "BatchNormalization":
        assert name in folded_bn, f"unfolded BatchNormalization {name}"
        continue
    if cls == "ReLU":
        assert c["max_value"] == 6 and c["negative_slope"] == 0 and c["threshold"] == 0
        out = f"{name}_out"
        nodes.append(helper.make_node("Clip", [alias[ins[0]], "clip_min", "clip_max"], [out], name=name))
        alias[name] = out
    elif cls == "Add":
        out = f"{name}_out"
        nodes.append(helper.make_node("Add", [alias[i] for i in ins], [out], name=name))
        alias[name] = out
    elif cls == "AveragePooling2D":
        # The final feature map is 7x7 and the pool is 7x7/7 valid: a global average.
        assert c["pool_size"] == [7, 7] and c["strides"] == [7, 7] and c["padding"] == "valid"
        out = f"{name}_out"
        nodes.append(helper.make_node("GlobalAveragePool", [alias[ins[0]]], [out], name=name))
        alias[name] = out
    elif cls == "Flatten":
        # [N,C,1,1] flattens to the same order as Keras' channels_last [N,1,1,C].
        out = f"{name}_out"
        nodes.append(helper.make_node("Flatten", [alias[ins[0]]], [out], name=name, axis=1))
        alias[name] = out
    elif cls == "Dropout":
        alias[name] = alias[ins[0]]
    elif cls == "Dense":
        assert c["use_bias"]
        lin = f"{name}_lin"
        nodes.append(helper.make_node(
            "Gemm", [alias[ins[0]], init(f"{name}_W", weight(f"{name}/kernel")), init(f"{name}_B", weight(f"{name}/bias"))],
            [lin], name=name))
        act = c["activation"]
        if act == "linear":
            alias[name] = lin
        elif act == "relu":
            nodes.append(helper.make_node("Relu", [lin], [f"{name}_out"], name=f"{name}_relu"))
            alias[name] = f"{name}_out"
        elif act == "softmax":
            nodes.append(helper.make_node("Softmax", [lin], [f"{name}_out"], name=f"{name}_softmax", axis=-1))
            alias[name] = f"{name}_out"
        else:
            raise ValueError(f"activation {act}")
    else:
        raise ValueError(f"unsupported layer {cls} ({name})")

assert not pending_pad, pending_pad
assert used == set(W), f"unused weights: {sorted(set(W) - used)}"
out_layer = cfg["output_layers"][0][0]
nodes.append(helper.make_node("Identity", [alias[out_layer]], ["probabilities"], name="output"))

graph = helper.make_graph(
    nodes, "nsfwjs_mobilenet_v2",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 224, 224, 3])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 5])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="dailies frame-check-nsfw convert")
model.ir_version = 7  # onnxruntime-node reads IR 7 with opset 13
model.doc_string = (f"nsfwjs {meta['nsfwjs']} {meta['model']} (MIT, Copyright (c) 2019 Infinite Red, Inc.), "
                    "converted from its TF.js layers model. Input NHWC RGB/255; output softmax over "
                    "drawing, hentai, neutral, porn, sexy.")
for k, v in {"source": f"nsfwjs@{meta['nsfwjs']}", "source_model": meta["model"],
             "labels": "drawing,hentai,neutral,porn,sexy"}.items():
    model.metadata_props.add(key=k, value=v)
onnx.checker.check_model(model)
onnx.save(model, dst)
print(f"{dst}: {len(nodes)} nodes, {len(inits)} initializers, {sum(i.raw_data.__len__() for i in inits) / 1e6:.2f} MB weights")
