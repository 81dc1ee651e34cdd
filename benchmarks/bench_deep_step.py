"""Time one training step (loss and every gradient) of the deep homotopy network DeepNet four ways.

    .venv/bin/python benchmarks/bench_deep_step.py [--reps 15] [--threads 1] [--widths 256,1000,2000]

DeepNet with widths (m, m) (a three-layer network), n = 100 points in R², s = 1.5, ReLU base, float32 and float64:
  manual      DeepNet.loss_and_grad (the hand-written backward pass hrta.train uses);
  autograd    0.5·mean((DeepNet(X) − y)²) and torch.autograd.grad w.r.t. (a, W_1, W_2);
  sequential  the naive loop: nn.Sequential(Linear(d, m, bias=False), Scale(1/√d), Homotopy, Linear(m, m),
              Scale(1/√m), Homotopy, Linear(m, 1), Scale(1/√m)) with DeepNet's weights, zero_grad + backward;
  gemm        the GEMM floor: the three n×m×m matrix products of a step (forward σ(h_1)W_2ᵀ, backward
              δ_2ᵀσ(h_1) and δ_2W_2) into preallocated outputs; the d-sized products are negligible.
The three loss values agree (printed: largest relative difference to manual), so all compute the same step.
Times are the median over --reps round-robin repeats after warm-up (bench_train_step.timings), with the
minimum beside it; ratios autograd/manual, sequential/manual and manual/gemm use the medians.
Not run by the tests; ``measure`` is the one implementation and benchmarks/run_all.py imports it (section deepstep).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train_step import data, timings  # noqa: E402

from hrta.activations import Homotopy  # noqa: E402
from hrta.models import DeepNet  # noqa: E402

#: keys of ``measure``'s result, in print order
KINDS = ("manual", "autograd", "sequential", "gemm")
S = 1.5


class Scale(nn.Module):
    """Multiply by a constant (the NTK parameterization's 1/√fan_in)."""

    def __init__(self, c: float):
        super().__init__()
        self.c = c

    def forward(self, x):
        return x * self.c


def sequential_of(net: DeepNet) -> nn.Sequential:
    """The naive nn.Sequential computing ``net``'s function, with copies of its weights."""
    layers: list[nn.Module] = []
    fan_in = (net.d,) + net.widths[:-1]
    for W, n_in in zip(net.weights, fan_in):
        lin = nn.Linear(n_in, W.shape[0], bias=False).to(W.dtype)
        layers += [lin, Scale(1.0 / math.sqrt(n_in)), Homotopy(net.s, net.base)]
        with torch.no_grad():
            lin.weight.copy_(W)
    out = nn.Linear(net.widths[-1], 1, bias=False).to(net.a.dtype)
    with torch.no_grad():
        out.weight.copy_(net.a[None])
    return nn.Sequential(*layers, out, Scale(1.0 / math.sqrt(net.widths[-1])))


def step_fns(m: int, dtype: torch.dtype, n: int, d: int) -> tuple[dict, dict]:
    """The four step functions, and the three loss values (same weights and data) for the cross-check."""
    X, y = data(n, d, dtype, torch.device("cpu"))
    net = DeepNet(d, (m, m), s=S, seed=0, dtype=dtype)
    params = [p for p in net.parameters() if p.requires_grad]
    seq = sequential_of(net)

    def manual():
        return net.loss_and_grad(X, y)

    def autograd():
        loss = 0.5 * torch.mean((net(X) - y) ** 2)
        return loss.detach(), torch.autograd.grad(loss, params)

    def sequential():
        seq.zero_grad(set_to_none=True)
        loss = 0.5 * torch.mean((seq(X).squeeze(1) - y) ** 2)
        loss.backward()
        return loss.detach()

    g = torch.Generator().manual_seed(1)
    A1, W2 = (torch.randn(n, m, generator=g, dtype=dtype), torch.randn(m, m, generator=g, dtype=dtype))
    delta = torch.randn(n, m, generator=g, dtype=dtype)
    H, G, D = torch.empty(n, m, dtype=dtype), torch.empty(m, m, dtype=dtype), torch.empty(n, m, dtype=dtype)

    def gemm():
        torch.mm(A1, W2.T, out=H)
        torch.mm(delta.T, A1, out=G)
        torch.mm(delta, W2, out=D)

    losses = {"manual": float(manual()[0]), "autograd": float(autograd()[0]), "sequential": float(sequential())}
    return {"manual": manual, "autograd": autograd, "sequential": sequential, "gemm": gemm}, losses


def measure(m: int, dtype: torch.dtype, *, n: int = 100, d: int = 2, reps: int = 10) -> dict:
    """(median, min) seconds per step of each of KINDS, and "loss_rel_diff": the largest relative difference
    of the autograd and sequential losses from manual's. Runs with the caller's torch thread count."""
    fns, losses = step_fns(m, dtype, n, d)
    t = timings(fns, reps, warmup=2)
    ref = losses["manual"]
    t["loss_rel_diff"] = max(abs(v - ref) / abs(ref) for v in losses.values())
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--d", type=int, default=2)
    parser.add_argument("--widths", default="256,1000,2000")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, DeepNet widths (m, m), n={args.n}, "
        f"d={args.d}, s={S}, relu; ms per step (loss + all gradients), median [min] of {args.reps} after warm-up"
    )
    print("ratios: median [min]")
    head = f"{'m':>5s} {'dtype':8s}" + "".join(f"{k:>18s}" for k in KINDS)
    head += f"{'autograd/manual':>17s}{'sequential/manual':>19s}{'manual/gemm':>14s}{'loss diff':>11s}"
    print(head)
    for m in (int(float(w)) for w in args.widths.split(",")):
        for dtype in (torch.float32, torch.float64):
            t = measure(m, dtype, n=args.n, d=args.d, reps=args.reps)
            cells = "".join(f"{t[k][0] * 1e3:9.3f} [{t[k][1] * 1e3:6.2f}]" for k in KINDS)
            ratios = "".join(
                f"{t[a][0] / t[b][0]:{w - 7}.2f} [{t[a][1] / t[b][1]:4.2f}]"
                for a, b, w in (("autograd", "manual", 17), ("sequential", "manual", 19), ("manual", "gemm", 14))
            )
            print(f"{m:5d} {str(dtype).removeprefix('torch.'):8s}{cells}{ratios}{t['loss_rel_diff']:11.1e}", flush=True)


if __name__ == "__main__":
    main()
