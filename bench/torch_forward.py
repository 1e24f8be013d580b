"""Times the built-in model's denoiser in PyTorch eager mode, for `npm run bench`'s comparison
with onnxruntime. Weights are random: the arithmetic, and so the time, does not depend on them.
Prints one JSON object: {"batch", "runs", "median_ms", "threads", "torch"}."""
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "shapes-v1", "train"))
from net import FRAMES, MAX_LEN, SIZE, TEXT_DIM, Denoiser  # noqa: E402


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Denoiser().eval()
    sample = torch.randn(batch, 3, FRAMES, SIZE, SIZE)
    timestep = torch.full((batch,), 500.0)
    text = torch.randn(batch, MAX_LEN, TEXT_DIM)
    times = []
    with torch.no_grad():
        for i in range(runs + 3):
            t0 = time.perf_counter()
            net(sample, timestep, text)
            if i >= 3:  # the first calls allocate and pick kernels
                times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"batch": batch, "runs": runs, "median_ms": statistics.median(times),
                      "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
