"""Time one full-batch GD step of the two-layer ReLU network: naive autograd vs hrta vs a memory bound.

    .venv/bin/python benchmarks/bench_train_step.py [--reps 20] [--threads 2]

For n = 100, d = 2 and m ∈ {1e4, 1e5}, float32 and float64:
  naive  nn.Sequential(Linear(d, m), ReLU, Linear(m, 1)) (no biases, output / √m), autograd, torch.optim.SGD;
  hrta   TwoLayerNet.loss_and_grad + the in-place parameter update hrta.train performs (incl. the loss);
  train  hrta.train.train over K steps, per step (includes its bookkeeping);
  bound  write one n×m array (torch.mm into a preallocated buffer) and read it once (sum): the least
         memory traffic any step that forms the n×m pre-activations must do.
Also the core n×m passes in the (n, m) and (m, n) orientations (the faster one is used in models.py).
Prints one line per measurement (median over --reps after warm-up, and the minimum, which is
less sensitive to other processes on a shared machine) and "ratio" lines
(targets: naive/hrta ≥ 10 at m = 1e5 and ≥ 3 at m = 1e4; hrta/bound ≤ 5). Not run by the tests.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from torch import nn

from hrta.models import TwoLayerNet
from hrta.train import TrainConfig, train


def timings(fns: dict, reps: int, warmup: int = 3) -> dict:
    """(median, min) wall time of each function; the functions are timed round-robin so that load
    from other processes on a shared machine affects all of them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(ts), min(ts)) for name, ts in times.items()}


def naive_step_fn(X, y, m, dtype, lr=0.1):
    d = X.shape[1]
    net = nn.Sequential(nn.Linear(d, m, bias=False), nn.ReLU(), nn.Linear(m, 1, bias=False)).to(dtype)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    scale = 1.0 / math.sqrt(m)

    def step():
        opt.zero_grad()
        f = net(X).squeeze(1) * scale
        loss = 0.5 * torch.mean((f - y) ** 2)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def hrta_step_fn(X, y, m, dtype, lr=0.1):
    net = TwoLayerNet(X.shape[1], m, s=1.0, dtype=dtype)

    def step():
        loss, grad_W, grad_a = net.loss_and_grad(X, y)
        with torch.no_grad():
            net.W.add_(grad_W, alpha=-lr)
            net.a.add_(grad_a, alpha=-lr)
        return float(loss)

    return step


def train_fn(X, y, m, dtype, steps: int):
    """hrta.train.train for ``steps`` GD updates (plus its final loss evaluation)."""
    net = TwoLayerNet(X.shape[1], m, s=1.0, dtype=dtype)
    cfg = TrainConfig(f"1x{steps}", lr=0.1, log_every=steps, dtype=str(dtype).removeprefix("torch."))
    return lambda: train(net, X, y, cfg)


def bound_fn(X, m, dtype):
    W = torch.randn(m, X.shape[1], dtype=dtype)
    Z = torch.empty(X.shape[0], m, dtype=dtype)

    def once():
        torch.mm(X, W.T, out=Z)
        return Z.sum().item()

    return once


def orientation_fns(X, m, dtype):
    """The n×m core of the ReLU step (pattern, two products) laid out as (n, m) and as (m, n)."""
    n, d = X.shape
    W = torch.randn(m, d, dtype=dtype)
    aW, rX = torch.randn(d, m, dtype=dtype), torch.randn(d, n, dtype=dtype)
    Z, Zt = torch.empty(n, m, dtype=dtype), torch.empty(m, n, dtype=dtype)
    V, G = torch.empty(d, n, dtype=dtype), torch.empty(d, m, dtype=dtype)

    def nm():
        torch.mm(X, W.T, out=Z).gt_(0)
        torch.mm(aW, Z.T, out=V)
        torch.mm(rX, Z, out=G)

    def mn():
        torch.mm(W, X.T, out=Zt).gt_(0)
        torch.mm(aW, Zt, out=V)
        torch.mm(rX, Zt.T, out=G)

    return nm, mn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--d", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, n={args.n}, d={args.d}, "
          f"median of {args.reps} after warm-up")
    gen = torch.Generator().manual_seed(0)
    for m in (10**4, 10**5):
        for dtype in (torch.float32, torch.float64):
            X = (torch.rand(args.n, args.d, generator=gen, dtype=torch.float64) * 2 - 1).to(dtype)
            y = torch.sin(3 * X[:, 0])
            tag = f"m={m:<6d} {str(dtype).removeprefix('torch.')}"
            nm, mn = orientation_fns(X, m, dtype)
            train_steps = 10
            t = timings(
                {
                    "naive": naive_step_fn(X, y, m, dtype),
                    "hrta": hrta_step_fn(X, y, m, dtype),
                    "bound": bound_fn(X, m, dtype),
                    "train": train_fn(X, y, m, dtype, train_steps),
                    "nm": nm,
                    "mn": mn,
                },
                args.reps,
            )
            for stat, i in (("median", 0), ("min", 1)):
                t_naive, t_ours, t_bound, t_nm, t_mn = (t[k][i] for k in ("naive", "hrta", "bound", "nm", "mn"))
                t_train = t["train"][i] / train_steps
                print(f"{tag} {stat:6s} naive  {t_naive * 1e3:9.3f} ms")
                print(f"{tag} {stat:6s} hrta   {t_ours * 1e3:9.3f} ms")
                print(f"{tag} {stat:6s} train  {t_train * 1e3:9.3f} ms/step (train() over {train_steps} steps)")
                print(f"{tag} {stat:6s} bound  {t_bound * 1e3:9.3f} ms")
                print(f"{tag} {stat:6s} orient (n,m) {t_nm * 1e3:.3f} ms  (m,n) {t_mn * 1e3:.3f} ms")
                target = 10.0 if m >= 10**5 else 3.0
                print(f"{tag} {stat:6s} ratio naive/hrta {t_naive / t_ours:6.2f}  (target >= {target:g})")
                print(f"{tag} {stat:6s} ratio hrta/bound {t_ours / t_bound:6.2f}  (target <= 5)")


if __name__ == "__main__":
    main()
