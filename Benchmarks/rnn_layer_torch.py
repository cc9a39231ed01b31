#!/usr/bin/env python3
"""PyTorch side of the recurrent-layer benchmark: forward + backward of a 2-layer nn.LSTM/GRU/RNN
at the B1 or B1-L shape, median time per iteration, one JSON line (same fields as
`RecurBenchmarks rnn`)."""
import argparse, json, time
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("--cell", default="lstm")
p.add_argument("--size", default="b1")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--iterations", type=int, default=30)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
T, B, I, H = (100, 64, 64, 512) if a.size == "b1l" else (50, 50, 64, 128)
layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[a.cell](I, H, 2)
x = torch.rand(T, B, I) * 2 - 1
x.requires_grad_(True)
dy = torch.rand(T, B, H) * 2 - 1
def step():
    layer.zero_grad(set_to_none=True)
    x.grad = None
    out, _ = layer(x)
    out.backward(dy)
for _ in range(3):
    step()
times = []
for _ in range(a.iterations):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()
median = times[len(times) // 2]
print(json.dumps({"bench": "rnn-layer", "impl": "pytorch-" + torch.__version__, "cell": a.cell, "size": a.size,
                  "T": T, "B": B, "I": I, "H": H, "layers": 2, "threads": a.threads,
                  "ms_per_iteration": round(median * 1e3, 2), "chars_per_s": int(T * B / median)}))
