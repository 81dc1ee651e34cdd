"""Benchmark hrta.ntk.deep: the infinite-width deep NTK against n³-scale references, and DeepNet's
empirical NTK three ways.

Usage: .venv/bin/python benchmarks/bench_ntk_deep.py [--n 1000] [--depth 3] [--threads 1] [--quick]

1. deep_analytic_ntk(X, s = 1.5, L) at n points in R³ (ReLU base: closed form, float64) against one
   n×n float64 eigendecomposition (torch.linalg.eigvalsh, what spectrum() costs) and one n×n×n float64
   GEMM: time ratios. And its extra peak memory at n = 4000 against hrta.pipeline.deep_analytic_ntk_mb.
2. DeepNet's exact empirical NTK at (n_emp, widths): hrta.ntk.deep_empirical_ntk (one forward and
   backward pass, O(n·Σ widths) memory) and hrta.ntk.jacobian_ntk (the batched-autograd (n, P) Jacobian
   that empirical_ntk uses for a DeepNet today) against torch.func (vmap(jacrev) over inputs, J Jᵀ):
   time and extra peak memory, printed as ratios (torch.func / method).
Every method runs in a fresh subprocess (bench_ntk's worker protocol): extra peak = peak RSS of a first,
cold call minus the RSS just before it; time = a second, warm call. ``compare`` is the one
implementation; benchmarks/run_all.py imports it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ntk import _peak_rss_mb, _reset_peak_rss  # noqa: E402

D = 3
S = 1.5


def worker(method: str, n: int, depth: int, widths: list[int], threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from hrta.models import DeepNet
    from hrta.ntk import deep_analytic_ntk, deep_empirical_ntk, jacobian_ntk

    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, D, dtype=torch.float64, generator=g)
    result = {"method": method, "n": n, "depth": depth, "widths": widths}
    if method == "analytic":

        def compute():
            return deep_analytic_ntk(X, S, depth)
    elif method == "eig":
        K = deep_analytic_ntk(X, S, 1)

        def compute():
            return torch.linalg.eigvalsh(K)
    elif method == "gemm":
        A = torch.randn(n, n, dtype=torch.float64, generator=g)
        B = torch.randn(n, n, dtype=torch.float64, generator=g)

        def compute():
            return A @ B
    else:
        net = DeepNet(D, widths, s=S, seed=1, dtype="float64")
        if method == "closed":

            def compute():
                return deep_empirical_ntk(net, X)
        elif method == "jacobian":

            def compute():
                return jacobian_ntk(net, X)
        elif method == "torchfunc":
            from torch.func import functional_call, jacrev, vmap

            params = {k: p.detach() for k, p in net.named_parameters() if p.requires_grad}

            def f(p, x):
                return functional_call(net, p, (x[None],))[0]

            def compute():
                jac = vmap(jacrev(f), in_dims=(None, 0))(params, X)
                J = torch.cat([j.reshape(n, -1) for j in jac.values()], dim=1)
                del jac
                return J @ J.T
        else:
            raise ValueError(f"unknown method {method!r}")
    before = _reset_peak_rss()
    out = compute()
    peak = _peak_rss_mb()
    del out
    t0 = time.perf_counter()
    out = compute()
    result["time_s"] = time.perf_counter() - t0
    result["extra_peak_mb"] = peak - before
    result["checksum"] = float(out.sum()) if method in ("eig", "gemm") else float(out.trace())
    return result


def run_worker(method: str, n: int, depth: int, widths, threads: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", method, "--n", str(n), "--depth", str(depth)]
    cmd += ["--widths", ",".join(map(str, widths)), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"deep NTK worker {method} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(n: int, depth: int, n_emp: int, widths: list[int], threads: int, n_big: int | None) -> dict:
    """Every measurement of this benchmark (see the module docstring)."""
    from hrta.pipeline.memory import deep_analytic_ntk_mb

    analytic = run_worker("analytic", n, depth, widths, threads)
    eig = run_worker("eig", n, depth, widths, threads)
    gemm = run_worker("gemm", n, depth, widths, threads)
    emp = {m: run_worker(m, n_emp, len(widths), widths, threads) for m in ("closed", "jacobian", "torchfunc")}
    out = {
        "analytic": analytic,
        "eig": eig,
        "gemm": gemm,
        "analytic_over_eig": analytic["time_s"] / eig["time_s"],
        "analytic_over_gemm": analytic["time_s"] / gemm["time_s"],
        "empirical": emp,
        "trace_rel_diff": max(
            abs(emp[m]["checksum"] - emp["torchfunc"]["checksum"]) / abs(emp["torchfunc"]["checksum"])
            for m in ("closed", "jacobian")
        ),
    }
    for m in ("closed", "jacobian"):
        out[f"func_over_{m}_time"] = emp["torchfunc"]["time_s"] / emp[m]["time_s"]
        out[f"func_over_{m}_memory"] = emp["torchfunc"]["extra_peak_mb"] / max(emp[m]["extra_peak_mb"], 1.0)
    if n_big:
        big = run_worker("analytic", n_big, depth, widths, threads)
        out["big"] = big
        out["big_estimate_mb"] = deep_analytic_ntk_mb(n_big, D)
    return out


def report(r: dict) -> None:
    a = r["analytic"]
    print(f"deep_analytic_ntk n={a['n']} L={a['depth']}: {a['time_s']:.3f} s, extra peak {a['extra_peak_mb']:.0f} MB")
    print(f"  one n×n eigvalsh {r['eig']['time_s']:.3f} s, one n×n GEMM {r['gemm']['time_s']:.3f} s")
    print(f"  ratio analytic/eigvalsh = {r['analytic_over_eig']:.2f}, analytic/GEMM = {r['analytic_over_gemm']:.2f}")
    if "big" in r:
        b = r["big"]
        print(
            f"deep_analytic_ntk n={b['n']} L={b['depth']}: {b['time_s']:.1f} s, extra peak {b['extra_peak_mb']:.0f} MB "
            f"(hrta.pipeline estimate {r['big_estimate_mb']:.0f} MB)"
        )
    e = r["empirical"]
    c = e["closed"]
    print(f"empirical deep NTK n={c['n']} widths={c['widths']} (trace agreement {r['trace_rel_diff']:.1e}):")
    for m in ("closed", "jacobian", "torchfunc"):
        print(f"  {m:10s} {e[m]['time_s']:8.3f} s  extra peak {e[m]['extra_peak_mb']:8.0f} MB")
    for m in ("closed", "jacobian"):
        print(f"  torch.func/{m}: time ×{r[f'func_over_{m}_time']:.2f}, extra memory ×{r[f'func_over_{m}_memory']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--n-emp", type=int, default=200)
    ap.add_argument("--widths", default="500,500")
    ap.add_argument("--n-big", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="n=300, n_emp=50, widths 100,100, no n=4000 run")
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.depth, widths, args.threads)))
        return
    if args.quick:
        args.n, args.n_emp, widths, args.n_big = 300, 50, [100, 100], 0
    report(compare(args.n, args.depth, args.n_emp, widths, args.threads, args.n_big or None))


if __name__ == "__main__":
    main()
