#!/usr/bin/env python3
"""A Recur char-LM checkpoint, read in Python with `safetensors`, gives the same predictions.

Trains a small LSTM char-LM with `recur`, loads `model-*.safetensors` with safetensors' NumPy
API and scores a text with an LSTM written out in NumPy (PyTorch's equations and gate order,
float64); the bits per character must match `recur charlm eval` to 1e-4. When PyTorch is
installed (the peers' virtualenv), the same weights are also loaded into `charlm_torch.py`'s
model with `load_state_dict` and scored with PyTorch.

Usage: check_checkpoint_interop.py PATH/TO/recur
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_bpc(weights, ids, layers, hidden):
    x = weights["emb.weight"][ids].astype(np.float64)  # [T, E]
    for l in range(layers):
        w_ih, w_hh = weights[f"rnn.weight_ih_l{l}"].astype(np.float64), weights[f"rnn.weight_hh_l{l}"].astype(np.float64)
        b = (weights[f"rnn.bias_ih_l{l}"] + weights[f"rnn.bias_hh_l{l}"]).astype(np.float64)
        h, c, out = np.zeros(hidden), np.zeros(hidden), []
        for t in range(len(ids)):
            g = w_ih @ x[t] + w_hh @ h + b
            i, f, gg, o = sigmoid(g[:hidden]), sigmoid(g[hidden:2 * hidden]), np.tanh(g[2 * hidden:3 * hidden]), sigmoid(g[3 * hidden:])
            c = f * c + i * gg
            h = o * np.tanh(c)
            out.append(h)
        x = np.array(out)
    logits = x @ weights["out.weight"].astype(np.float64).T + weights["out.bias"].astype(np.float64)
    logits = logits[:-1]
    targets = ids[1:]
    m = logits.max(axis=1, keepdims=True)
    logz = (m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True)))[:, 0]
    return float((logz - logits[np.arange(len(targets)), targets]).mean() / math.log(2))


def main():
    recur = sys.argv[1]
    work = tempfile.mkdtemp(prefix="recur-ckpt-")
    model = os.path.join(work, "model")
    subprocess.run([recur, "charlm", "train", "--data", os.path.join(ROOT, "corpora", "prose.txt"), "--out", model,
                    "--embed", "16", "--hidden", "32", "--layers", "2", "--batch", "16", "--seq", "32", "--steps", "40",
                    "--eval-every", "0", "--quiet", "--threads", "1"], check=True)
    text = "The old king loved the gentle river, and the children sang.\n"
    sample = os.path.join(work, "sample.txt")
    with open(sample, "w", encoding="utf-8") as f:
        f.write(text)
    recur_bpc = json.loads(subprocess.run([recur, "charlm", "eval", "--model", model, "--data", sample, "--json"],
                                          check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])["bpc"]
    sidecar = json.load(open(os.path.join(model, "checkpoint.json")))
    symbols = [bytes(s).decode("utf-8") for s in sidecar["config"]["symbols"]]
    index = {s: i + 1 for i, s in enumerate(symbols)}
    ids = np.array([index.get(ch, 0) for ch in text])
    weights = load_file(os.path.join(model, sidecar["modelFile"]))
    arch = sidecar["config"]["architecture"]
    ours = numpy_bpc(weights, ids, arch["layers"], arch["hiddenSize"])
    assert abs(ours - recur_bpc) < 1e-4, f"NumPy LSTM on the safetensors weights: {ours} bpc, recur eval: {recur_bpc}"
    message = f"checkpoint interop: safetensors + NumPy LSTM give {ours:.5f} bpc, recur eval {recur_bpc:.5f}"
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print(message + " (PyTorch not installed: NumPy check only)")
        return

    class CharLM(nn.Module):  # the model of ../shared/peers/charlm_torch.py
        def __init__(self, v, e, h, layers):
            super().__init__()
            self.emb = nn.Embedding(v, e)
            self.rnn = nn.LSTM(e, h, layers)
            self.out = nn.Linear(h, v)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            return self.out(y)

    net = CharLM(arch["vocabularySize"], arch["embeddingSize"], arch["hiddenSize"], arch["layers"])
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    with torch.no_grad():
        logits = net(torch.tensor(ids).unsqueeze(1))[:-1, 0].double()
        torch_bpc = nn.functional.cross_entropy(logits, torch.tensor(ids[1:])).item() / math.log(2)
    assert abs(torch_bpc - recur_bpc) < 1e-4, f"PyTorch: {torch_bpc} bpc, recur eval: {recur_bpc}"
    print(message + f", PyTorch load_state_dict {torch_bpc:.5f}")


if __name__ == "__main__":
    main()
