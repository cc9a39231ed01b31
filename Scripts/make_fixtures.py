#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures that Recur's tests compare against.

Each fixture is a small safetensors file under Tests/*/Fixtures/: weights (PyTorch names,
prefixed "param."), inputs, outputs and gradients of a fixed projection of the outputs
("grad.*"), so the Swift tests can check forward values and every gradient to 1e-5.

Run it with the peers' virtualenv (PyTorch and safetensors):
    ~/.cache/recur-peers/venv/bin/python Scripts/make_fixtures.py
"""
import os
import sys

import torch
import torch.nn as nn
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NN = os.path.join(ROOT, "Tests", "RecurNNTests", "Fixtures")
torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # references in double, stored as float32


def f32(d):
    return {k: v.detach().to(torch.float32).contiguous() for k, v in d.items()}


def recurrent(name, cls, mode_kwargs, lengths, bidirectional, layers=2, T=5, B=3, I=4, H=6):
    m = cls(I, H, num_layers=layers, bidirectional=bidirectional, **mode_kwargs)
    D = 2 if bidirectional else 1
    x = torch.randn(T, B, I, requires_grad=True)
    h0 = (0.5 * torch.randn(layers * D, B, H)).requires_grad_()
    c0 = (0.5 * torch.randn(layers * D, B, H)).requires_grad_()
    is_lstm = cls is nn.LSTM
    state = (h0, c0) if is_lstm else h0
    if lengths is None:
        out, hn = m(x, state)
    else:
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
        out, hn = m(packed, state)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    if is_lstm:
        hn, cn = hn
    r_out, r_h = torch.randn_like(out), torch.randn_like(hn)
    loss = (out * r_out).sum() + (hn * r_h).sum()
    t = {"x": x, "h0": h0, "output": out, "hn": hn, "r_output": r_out, "r_hn": r_h}
    if is_lstm:
        r_c = torch.randn_like(cn)
        loss = loss + (cn * r_c).sum()
        t.update({"c0": c0, "cn": cn, "r_cn": r_c})
    loss.backward()
    t["grad.x"] = x.grad
    t["grad.h0"] = h0.grad
    if is_lstm:
        t["grad.c0"] = c0.grad
    for n, p in m.named_parameters():
        t["param." + n] = p
        t["grad." + n] = p.grad
    if lengths is not None:
        t["lengths"] = torch.tensor(lengths, dtype=torch.float64)
    save_file(f32(t), os.path.join(NN, name + ".safetensors"))


def conv1d(name, cin, cout, k, dilation, T=9, B=2):
    m = nn.Conv1d(cin, cout, k, dilation=dilation)
    x = torch.randn(B, cin, T, requires_grad=True)
    pad = (k - 1) * dilation
    y = m(nn.functional.pad(x, (pad, 0)))  # causal: left padding only
    r = torch.randn_like(y)
    (y * r).sum().backward()
    t = {"x": x, "output": y, "r_output": r, "grad.x": x.grad,
         "param.weight": m.weight, "param.bias": m.bias, "grad.weight": m.weight.grad, "grad.bias": m.bias.grad,
         "config": torch.tensor([cin, cout, k, dilation], dtype=torch.float64)}
    save_file(f32(t), os.path.join(NN, name + ".safetensors"))


def cross_entropy(name, reduction, ignore_index, smoothing, N=7, V=5):
    z = torch.randn(N, V, requires_grad=True)
    y = torch.randint(0, V, (N,))
    if ignore_index is not None:
        y[2] = ignore_index
        y[5] = ignore_index
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    loss = nn.functional.cross_entropy(z, y, **kwargs)
    loss.backward()
    t = {"logits": z, "targets": y.to(torch.float64), "loss": loss.reshape(1), "grad.logits": z.grad,
         "config": torch.tensor([1.0 if reduction == "mean" else 0.0,
                                 -1.0 if ignore_index is None else float(ignore_index), smoothing])}
    save_file(f32(t), os.path.join(NN, name + ".safetensors"))


def optimizer(name, make):
    torch.set_default_dtype(torch.float32)
    p = nn.Parameter(torch.randn(3, 5))
    q = nn.Parameter(torch.randn(7))
    t = {"param.p": p.detach().clone(), "param.q": q.detach().clone()}
    opt = make([p, q])
    for step in range(3):
        gp, gq = torch.randn(3, 5), torch.randn(7)
        t[f"grad{step}.p"], t[f"grad{step}.q"] = gp, gq
        p.grad, q.grad = gp.clone(), gq.clone()
        opt.step()
        t[f"after{step}.p"], t[f"after{step}.q"] = p.detach().clone(), q.detach().clone()
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(NN, name + ".safetensors"))
    torch.set_default_dtype(torch.float64)


def main():
    os.makedirs(NN, exist_ok=True)
    recurrent("lstm_2layer_bi_packed", nn.LSTM, {}, [5, 3, 2], True)
    recurrent("lstm_2layer", nn.LSTM, {}, None, False)
    recurrent("gru_2layer_bi_packed", nn.GRU, {}, [2, 5, 4], True)
    recurrent("gru_2layer", nn.GRU, {}, None, False)
    recurrent("rnn_tanh_2layer_bi_packed", nn.RNN, {"nonlinearity": "tanh"}, [5, 1, 3], True)
    recurrent("rnn_relu_2layer", nn.RNN, {"nonlinearity": "relu"}, None, False)
    conv1d("conv1d_k3_d2", 3, 4, 3, 2)
    conv1d("conv1d_k2_d4", 4, 4, 2, 4)
    conv1d("conv1d_k1", 3, 5, 1, 1)
    cross_entropy("ce_mean", "mean", None, 0.0)
    cross_entropy("ce_sum_ignore", "sum", 1, 0.0)
    cross_entropy("ce_mean_ignore_smooth", "mean", 3, 0.1)
    optimizer("opt_sgd_momentum_nesterov_wd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01))
    optimizer("opt_sgd_momentum_dampening", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.1))
    optimizer("opt_adam", lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1))
    optimizer("opt_adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.05))
    optimizer("opt_rmsprop_momentum_centered", lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01))
    optimizer("opt_rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=0.01))
    optimizer("opt_adagrad", lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.01))
    print("fixtures written to", NN, file=sys.stderr)


if __name__ == "__main__":
    main()
