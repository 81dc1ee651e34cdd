"""Benchmark hrta.ntk: closed-form empirical NTK of a TwoLayerNet vs a torch.func Jacobian (J Jᵀ),
and the eigensolver time vs n.

Usage: .venv/bin/python benchmarks/bench_ntk.py [--n 1000] [--m 100000] [--threads 1]

Each method runs in a fresh subprocess so its peak RSS (resource.getrusage ru_maxrss) is its own;
"extra peak" is the peak RSS minus the RSS high-water mark just before the call (imports, model and
inputs already in memory). The torch.func path at m = 1e5 needs > 6 GB (J alone is n·(d+1)·m
float64 = 3.2 GB, plus the per-sample gradients and the concatenation), so it is run at smaller m
and its time and extra memory are extrapolated linearly in m (both are linear in m: J is n×(d+1)m
and J Jᵀ costs 2n²(d+1)m flops).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

D = 3


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def worker(method: str, n: int, m: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    from hrta.models import TwoLayerNet
    from hrta.ntk import empirical_ntk

    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, D, dtype=torch.float64, generator=g)
    net = TwoLayerNet(D, m, s=1.5, seed=1, dtype="float64")
    result = {"method": method, "n": n, "m": m}
    if method == "closed":
        empirical_ntk(net, X[:8])  # warm-up (thread pools, allocator)
        before = _maxrss_mb()
        t0 = time.perf_counter()
        K = empirical_ntk(net, X)
        result["time_s"] = time.perf_counter() - t0
    elif method == "torchfunc":
        from torch.func import functional_call, jacrev, vmap

        params = {k: p.detach() for k, p in net.named_parameters() if p.requires_grad}

        def f(p, x):
            return functional_call(net, p, (x[None],))[0]

        before = _maxrss_mb()
        t0 = time.perf_counter()
        jac = vmap(jacrev(f), in_dims=(None, 0))(params, X)
        J = torch.cat([j.reshape(n, -1) for j in jac.values()], dim=1)
        del jac
        K = J @ J.T
        result["time_s"] = time.perf_counter() - t0
    elif method == "two_mm":
        from hrta.activations import homotopy, homotopy_derivative

        with torch.no_grad():
            Z = X @ net.W.detach().T
            S = homotopy(Z, net.s)
            Dm = homotopy_derivative(Z, net.s) * net.a.detach()
            del Z
        torch.mm(S[:8], S[:8].T)
        before = _maxrss_mb()
        t0 = time.perf_counter()
        K1 = torch.mm(S, S.T)
        K2 = torch.mm(Dm, Dm.T)
        result["time_s"] = time.perf_counter() - t0
        K = K1 + K2
    else:
        raise ValueError(f"unknown method {method!r}")
    result["peak_rss_mb"] = _maxrss_mb()
    result["extra_peak_mb"] = result["peak_rss_mb"] - before
    result["checksum"] = float(K.trace())
    return result


def run_worker(method: str, n: int, m: int, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, "--n", str(n), "--m", str(m), "--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_eigvalsh(sizes, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    from hrta.ntk import analytic_ntk, spectrum

    for n in sizes:
        g = torch.Generator().manual_seed(n)
        X = torch.randn(n, D, dtype=torch.float64, generator=g)
        K = analytic_ntk(X, 1.5)
        t0 = time.perf_counter()
        sp = spectrum(K)
        dt = time.perf_counter() - t0
        t1 = time.perf_counter()
        analytic_ntk(X, 1.5)
        dt_k = time.perf_counter() - t1
        print(f"spectrum n={n}: {dt:.3f} s (analytic_ntk {dt_k:.3f} s); lambda_min={sp.lambda_min:.3e} "
              f"floor={sp.resolution_floor:.1e} resolved={sp.lambda_min_resolved}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--m", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--func-widths", default="10000,20000", help="widths at which the torch.func path runs")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.m, args.threads)))
        return

    n, m, th = args.n, args.m, args.threads
    print(f"# empirical NTK, TwoLayerNet d={D} n={n} float64, torch threads={th}")
    closed = run_worker("closed", n, m, th)
    print(f"closed form  m={m}: {closed['time_s']:.2f} s, extra peak RSS {closed['extra_peak_mb']:.0f} MB "
          f"(total {closed['peak_rss_mb']:.0f} MB)")
    mm = run_worker("two_mm", n, m, th)
    print(f"two n×m×n torch.mm alone m={m}: {mm['time_s']:.2f} s")

    widths = [int(w) for w in args.func_widths.split(",")]
    func = [run_worker("torchfunc", n, w, th) for w in widths]
    for r in func:
        print(f"torch.func jacrev+JJᵀ m={r['m']}: {r['time_s']:.2f} s, extra peak RSS {r['extra_peak_mb']:.0f} MB")
    # linear fit y = a + b·m through the measured widths, evaluated at m (extrapolation)
    def extrapolate(key):
        (m0, y0), (m1, y1) = (func[0]["m"], func[0][key]), (func[-1]["m"], func[-1][key])
        b = (y1 - y0) / (m1 - m0)
        return y0 + b * (m - m0)

    func_time, func_mem = extrapolate("time_s"), extrapolate("extra_peak_mb")
    print(f"torch.func at m={m}: EXTRAPOLATED linearly from m={widths}: {func_time:.2f} s, "
          f"extra peak RSS {func_mem:.0f} MB "
          f"(not run at m={m}: {'needs > 6 GB' if func_mem > 6000 else 'kept to the widths above'})")
    # same-width check that both compute the same kernel
    same = run_worker("closed", n, widths[0], th)
    rel = abs(same["checksum"] - func[0]["checksum"]) / abs(func[0]["checksum"])
    print(f"trace agreement closed vs torch.func at m={widths[0]}: rel diff {rel:.1e}")
    print(f"ratio speed (torch.func / closed, target >= 2): {func_time / closed['time_s']:.2f}")
    print(f"ratio memory (torch.func / closed extra peak, target >= 10): "
          f"{func_mem / max(closed['extra_peak_mb'], 1.0):.1f}")
    print(f"ratio closed / two-mm time (target <= 1.5): {closed['time_s'] / mm['time_s']:.2f}")

    print("# eigensolver (spectrum: symmetrize + torch.linalg.eigvalsh float64)")
    bench_eigvalsh([250, 500, 1000, 2000, 4000], th)


if __name__ == "__main__":
    main()
