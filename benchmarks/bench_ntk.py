"""Benchmark hrta.ntk: closed-form empirical NTK of a TwoLayerNet vs a torch.func Jacobian (J Jᵀ) and
vs its two n×m×n GEMMs alone, and the eigensolver time vs n.

Usage: .venv/bin/python benchmarks/bench_ntk.py [--n 1000] [--m 100000] [--threads 1] [--device cpu]

Each method runs in a fresh subprocess so its peak memory is its own. CPU: "extra peak" is the peak
RSS during the first (cold) call (VmHWM, reset just before it through /proc/self/clear_refs) minus the
RSS just before it (imports, model and inputs already in memory). The time is that of a second, warm
call (first-call costs such as thread pools, allocator growth and kernel selection excluded). CUDA: torch.cuda.max_memory_allocated during the call minus
the memory allocated before it. The torch.func path at m = 1e5 needs > 6 GB (J alone is
n·(d+1)·m float64 = 3.2 GB, plus the per-sample gradients and the concatenation), so it is run at
smaller m and its time and extra memory are extrapolated linearly in m (both are linear in m: J is
n×(d+1)m and J Jᵀ costs 2n²(d+1)m flops). ``compare_ntk`` and ``eigensolver_times`` are the one
implementation; benchmarks/run_all.py imports them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from functools import cache

D = 3
#: targets: torch.func / closed time ≥ 2, extra-memory ratio ≥ 10, closed / two GEMMs ≤ 1.5
SPEED_TARGET, MEMORY_TARGET, GEMM_TARGET = 2.0, 10.0, 1.5


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        return next(float(line.split()[1]) for line in fh if line.startswith(field + ":")) / 1024.0  # kB


def _reset_peak_rss() -> float:
    """Reset the process's RSS high-water mark to its current RSS (Linux: "5" > /proc/self/clear_refs)
    and return the RSS in MB that the next peak is measured against. Without the reset the peak of
    the imports and warm-up would hide any smaller allocation of the measured call; where it is
    unavailable, the high-water mark so far (ru_maxrss) is the baseline."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _status_mb("VmRSS")
    except OSError:
        return _maxrss_mb()


def _peak_rss_mb() -> float:
    try:
        return _status_mb("VmHWM")
    except (OSError, StopIteration):
        return _maxrss_mb()


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def worker(method: str, n: int, m: int, threads: int, device: str = "cpu") -> dict:
    import torch

    torch.set_num_threads(threads)
    from hrta.models import TwoLayerNet, resolve_device
    from hrta.ntk import empirical_ntk

    dev = resolve_device(device)
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    def mem_mb():  # baseline of the peak: device memory allocated on CUDA, process RSS on CPU
        return torch.cuda.memory_allocated(dev) / 2**20 if cuda else _reset_peak_rss()

    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, D, dtype=torch.float64, generator=g).to(dev)
    net = TwoLayerNet(D, m, s=1.5, seed=1, dtype="float64", device=dev)
    result = {"method": method, "n": n, "m": m, "device": str(dev)}
    if method == "closed":

        def compute():
            return empirical_ntk(net, X)
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
    elif method == "two_mm":
        from hrta.activations import homotopy, homotopy_derivative

        with torch.no_grad():
            Z = X @ net.W.detach().T
            S = homotopy(Z, net.s)
            Dm = homotopy_derivative(Z, net.s) * net.a.detach()
            del Z

        def compute():
            return torch.mm(S, S.T) + torch.mm(Dm, Dm.T)
    else:
        raise ValueError(f"unknown method {method!r}")
    # first call: its extra peak memory (all it allocates, cold); second call: the time, warm
    # (thread pools, allocator, kernel selection and CUDA context already set up)
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    before = mem_mb()
    K = compute()
    sync()
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else _peak_rss_mb()
    del K
    t0 = time.perf_counter()
    K = compute()
    sync()
    result["time_s"] = time.perf_counter() - t0
    result["peak_mb"] = peak
    result["extra_peak_mb"] = peak - before
    result["checksum"] = float(K.trace())
    return result


@cache  # compare_ntk at several widths reuses the torch.func widths
def run_worker(method: str, n: int, m: int, threads: int, device: str = "cpu") -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        method,
        "--n",
        str(n),
        "--m",
        str(m),
        "--threads",
        str(threads),
        "--device",
        device,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"NTK worker {method} n={n} m={m} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare_ntk(n: int, m: int, threads: int, func_widths, device: str = "cpu") -> dict:
    """Closed-form empirical_ntk at (n, m) vs its two GEMMs and vs torch.func (measured at
    ``func_widths``, extrapolated linearly in m to m unless m is one of them)."""
    closed = run_worker("closed", n, m, threads, device)
    mm = run_worker("two_mm", n, m, threads, device)
    func = [run_worker("torchfunc", n, w, threads, device) for w in func_widths]
    at_m = [r for r in func if r["m"] == m]
    if at_m:
        func_time, func_mem, extrapolated = at_m[0]["time_s"], at_m[0]["extra_peak_mb"], False
    else:

        def extrapolate(key):  # straight line through the smallest and largest measured width
            (m0, y0), (m1, y1) = (func[0]["m"], func[0][key]), (func[-1]["m"], func[-1][key])
            return y0 + (y1 - y0) / (m1 - m0) * (m - m0)

        func_time, func_mem, extrapolated = extrapolate("time_s"), extrapolate("extra_peak_mb"), True
    same = run_worker("closed", n, func[0]["m"], threads, device)  # same width: do both compute one kernel?
    rel = abs(same["checksum"] - func[0]["checksum"]) / abs(func[0]["checksum"])
    return {
        "n": n,
        "m": m,
        "closed": closed,
        "two_mm": mm,
        "func": func,
        "func_time_s": func_time,
        "func_extra_mb": func_mem,
        "func_extrapolated": extrapolated,
        "trace_rel_diff": rel,
        "speed_ratio": func_time / closed["time_s"],
        "memory_ratio": func_mem / max(closed["extra_peak_mb"], 1.0),
        "gemm_ratio": closed["time_s"] / mm["time_s"],
    }


def eigensolver_times(sizes, threads: int, device: str = "cpu") -> list[dict]:
    """Wall time of spectrum(K) (symmetrize + float64 eigvalsh) of an analytic NTK for each n."""
    import torch

    torch.set_num_threads(threads)
    from hrta.models import resolve_device
    from hrta.ntk import analytic_ntk, spectrum

    dev = resolve_device(device)
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    spectrum(torch.eye(4, dtype=torch.float64, device=dev))  # warm-up (solver libraries, CUDA context)
    rows = []
    for n in sizes:
        g = torch.Generator().manual_seed(n)
        X = torch.randn(n, D, dtype=torch.float64, generator=g).to(dev)
        sync()
        t1 = time.perf_counter()
        K = analytic_ntk(X, 1.5)
        sync()
        dt_k = time.perf_counter() - t1
        t0 = time.perf_counter()
        sp = spectrum(K)
        dt = time.perf_counter() - t0  # spectrum returns numpy: already synchronized
        rows.append(
            {
                "n": n,
                "spectrum_s": dt,
                "analytic_ntk_s": dt_k,
                "lambda_min": sp.lambda_min,
                "floor": sp.resolution_floor,
                "resolved": sp.lambda_min_resolved,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--m", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--func-widths", default="10000,20000", help="widths at which the torch.func path runs")
    ap.add_argument("--eig-sizes", default="250,500,1000,2000,4000")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.m, args.threads, args.device)))
        return

    n, m, th = args.n, args.m, args.threads
    widths = [int(w) for w in args.func_widths.split(",")]
    print(f"# empirical NTK, TwoLayerNet d={D} n={n} float64, torch threads={th}, device {args.device}")
    r = compare_ntk(n, m, th, widths, args.device)
    closed, mm = r["closed"], r["two_mm"]
    print(
        f"closed form  m={m}: {closed['time_s']:.2f} s, extra peak {closed['extra_peak_mb']:.0f} MB "
        f"(total {closed['peak_mb']:.0f} MB)"
    )
    print(f"two n×m×n torch.mm alone m={m}: {mm['time_s']:.2f} s")
    for f in r["func"]:
        print(f"torch.func jacrev+JJᵀ m={f['m']}: {f['time_s']:.2f} s, extra peak {f['extra_peak_mb']:.0f} MB")
    how = f"EXTRAPOLATED linearly from m={widths}" if r["func_extrapolated"] else "measured"
    print(f"torch.func at m={m}: {how}: {r['func_time_s']:.2f} s, extra peak {r['func_extra_mb']:.0f} MB")
    print(f"trace agreement closed vs torch.func at m={widths[0]}: rel diff {r['trace_rel_diff']:.1e}")
    print(f"ratio speed (torch.func / closed, target >= {SPEED_TARGET:g}): {r['speed_ratio']:.2f}")
    print(f"ratio memory (torch.func / closed extra peak, target >= {MEMORY_TARGET:g}): {r['memory_ratio']:.1f}")
    print(f"ratio closed / two-mm time (target <= {GEMM_TARGET:g}): {r['gemm_ratio']:.2f}")

    print("# eigensolver (spectrum: symmetrize + torch.linalg.eigvalsh float64)")
    for e in eigensolver_times([int(s) for s in args.eig_sizes.split(",")], th, args.device):
        print(
            f"spectrum n={e['n']}: {e['spectrum_s']:.3f} s (analytic_ntk {e['analytic_ntk_s']:.3f} s); "
            f"lambda_min={e['lambda_min']:.3e} floor={e['floor']:.1e} resolved={e['resolved']}"
        )


if __name__ == "__main__":
    main()
