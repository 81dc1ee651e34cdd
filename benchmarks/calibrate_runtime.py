"""Calibrate the runtime model of hrta.pipeline: time its primitives here and fit its constants.

    .venv/bin/python benchmarks/calibrate_runtime.py            # ~3 min on 2 cores; prints RUNTIME_CONSTANTS
    .venv/bin/python benchmarks/calibrate_runtime.py --quick    # smaller grid (~40 s): checks that it runs
    .venv/bin/python benchmarks/calibrate_runtime.py --only search --write   # one group of operations

Every primitive runs in this process with ``torch.set_num_threads(1)`` (the pipeline's default
``threads``), float64 unless stated, and reports the median of ``--reps`` repetitions. Each fit is
an ordinary least-squares fit of the model written next to it (the same formula as in
hrta.pipeline), coefficients clipped at 0. ``--write`` stores them, with the machine line, in
hrta/pipeline/runtime_constants.json (the operations and calibration_machine entries), which
hrta.pipeline.runtime reads; without it they are only printed. ``--only PREFIX ...`` measures only the
operations whose constant names start with a prefix and replaces only those (the others keep their values).

The per-job fixed costs (interpreter + Snakemake script preamble + imports) are not measured
here: they come from the ``benchmark:`` files of a smoke run of the pipeline
(benchmarks/runtime_check.py --fit-fixed prints them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from hrta.bases import base_names
from hrta.claims import claim1_search
from hrta.models import DeepNet, TwoLayerNet
from hrta.ntk import analytic_ntk, empirical_ntk, jacobian_ntk, predict_loss_curve, relu_analytic_ntks, spectrum
from hrta.pipeline.runtime import RUNTIME_CONSTANTS
from hrta.train import _Adam

torch.set_num_threads(1)
VERBOSE = False
STEP_TERMS = ("c0", "nm", "m", "recompute", "nmd")  # step_features' order


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import os  # noqa: PLC0415

    return f"{model}, {os.cpu_count()} cores, torch {torch.__version__}, {platform.python_version()}, 1 thread"


def timeit(fn, reps: int) -> float:
    """CPU time of this thread (``time.thread_time``: one torch thread computes on the calling
    thread), fastest of ``reps`` calls after a warm-up. CPU time, not wall time: other processes
    on a shared machine stretch the wall time of a job but hardly its CPU time, and for a
    one-thread job on an idle machine the two agree (the median is printed with --verbose)."""
    fn()  # warm-up (buffers, caches)
    out = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn()
        out.append(time.thread_time() - t0)
    if VERBOSE:
        print(f"#   min {min(out) * 1e3:.3f} ms, median {statistics.median(out) * 1e3:.3f} ms")
    return min(out)


def fit(rows: list[tuple[list[float], float]]) -> list[float]:
    """Non-negative least squares of t on the features, each row weighted by 1/t (relative error):
    the best fit over every subset of the features whose coefficients all come out >= 0."""
    A = np.array([f for f, _ in rows], dtype=float)
    t = np.array([t for _, t in rows], dtype=float)
    A, ones = A / t[:, None], np.ones_like(t)
    k = A.shape[1]
    best, best_err = [0.0] * k, np.inf
    for mask in itertools.product((0, 1), repeat=k):
        cols = [j for j in range(k) if mask[j] and A[:, j].any()]
        if not cols:
            continue
        coef, *_ = np.linalg.lstsq(A[:, cols], ones, rcond=None)
        if (coef < 0).any():
            continue
        err = float(np.sum((A[:, cols] @ coef - 1) ** 2))
        if err < best_err:
            best_err, best = err, [0.0] * k
            for j, c in zip(cols, coef):
                best[j] = float(c)
    return best


def report(name: str, rows, coef, model) -> None:
    worst = max(abs(model(f, coef) / t - 1) for f, t in rows)
    print(f"# {name}: {len(rows)} points, worst relative misfit {worst:.0%}")
    if VERBOSE:
        for f, t in rows:
            print(f"#   features {f}: measured {t * 1e3:.3f} ms, model {model(f, coef) * 1e3:.3f} ms")


def two_layer_step(n: int, m: int, d: int, base: str, dtype: str, optimizer: str, reps: int) -> float:
    """One update of hrta.train: loss_and_grad on n rows + the parameter update (d = 2)."""
    gen = torch.Generator().manual_seed(0)
    net = TwoLayerNet(d, m, s=1.0, base=base, seed=0, dtype=dtype)
    X = torch.randn(n, d, generator=gen, dtype=net.W.dtype)
    y = torch.randn(n, generator=gen, dtype=net.W.dtype)
    params = [net.W, net.a]
    adam = _Adam(params, (0.9, 0.999), 1e-8) if optimizer == "adam" else None

    def step():
        with torch.no_grad():
            _, gW, ga = net.loss_and_grad(X, y)
            if adam is not None:
                adam.step([gW, ga], 1e-6)
            else:
                net.W.sub_(gW, alpha=1e-6)
                net.a.sub_(ga, alpha=1e-6)

    return timeit(step, reps)


def two_layer_forward(rows: int, m: int, d: int, base: str, dtype: str, reps: int) -> float:
    """The logged loss (loss_and_grad(grad=False)) on ``rows`` rows."""
    gen = torch.Generator().manual_seed(0)
    net = TwoLayerNet(d, m, s=1.0, base=base, seed=0, dtype=dtype)
    X = torch.randn(rows, d, generator=gen, dtype=net.W.dtype)
    y = torch.randn(rows, generator=gen, dtype=net.W.dtype)
    return timeit(lambda: net.loss_and_grad(X, y, grad=False), reps)


def step_features(n: int, m: int, d: int, base: str, dtype: str) -> list[float]:
    """hrta.pipeline.two_layer_step_s's features: 1, n·m, m, for the ReLU CPU path when the n×m pattern
    spans more than one cache block n·m again (the pattern is recomputed), and n·m·d (the GEMMs with the
    input dimension, which matter at d = 20, E8's sphere)."""
    itemsize = 8 if dtype == "float64" else 4
    recompute = base == "relu" and n * m * itemsize > TwoLayerNet.fast_block_bytes
    return [1.0, n * m, m, n * m if recompute else 0.0, n * m * d]


def deep_step(n: int, d: int, widths: tuple[int, ...], reps: int, dtype: str = "float64") -> float:
    """One update of a DeepNet as hrta.train does it: the hand-written loss_and_grad, then GD."""
    gen = torch.Generator().manual_seed(0)
    net = DeepNet(d, list(widths), s=1.0, seed=0, dtype=dtype)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64).to(net.a.dtype)
    y = torch.randn(n, generator=gen, dtype=torch.float64).to(net.a.dtype)
    params = [p for p in net.parameters() if p.requires_grad]

    def step():
        _, grads = net.loss_and_grad(X, y)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(g, alpha=1e-6)

    return timeit(step, reps)


def deep_matmul(d: int, widths: tuple[int, ...]) -> int:
    """Σ fan_in·fan_out over the layers (the GEMM size per row)."""
    dims = (d, *widths, 1)
    return sum(a * b for a, b in zip(dims[:-1], dims[1:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--verbose", action="store_true", help="print every measurement and its fit")
    ap.add_argument("--write", action="store_true", help="store the constants in hrta/pipeline/runtime_constants.json")
    ap.add_argument(
        "--only", nargs="+", metavar="PREFIX", help="measure (and write) only the operations whose names start so"
    )
    args = ap.parse_args()
    global VERBOSE  # noqa: PLW0603
    VERBOSE = args.verbose
    reps = 3 if args.quick else args.reps
    widths = [1000, 10000] if args.quick else [1000, 10000, 100000]
    ns = [50, 200] if args.quick else [50, 100, 200, 400]
    consts: dict[str, float | dict] = {}
    step_model = lambda f, c: sum(a * b for a, b in zip(f, c))  # noqa: E731

    def want(*names: str) -> bool:  # a section (names: its constants or their common prefix) that --only asks for
        return not args.only or any(n.startswith(p) or p.startswith(n) for n in names for p in args.only)

    if want("step_", "adam_"):
        # --- TwoLayerNet update: t = c0 + m·(c_nm·n + c_m) per (base, dtype); Adam adds c_adam·m(d + 1)
        for base in base_names():  # every registered base (hrta.bases)
            for dtype in ("float64", "float32"):
                if not want(f"step_{base}_{dtype}"):
                    continue
                rows = []
                # the smooth bases at small widths too, where the per-update overhead c0 shows
                for m in widths if base == "relu" else [100, *widths[:2]]:
                    for n, d in [(n, 2) for n in ns] + ([(ns[0], 20), (ns[-1], 20)] if m <= 10000 else []):
                        t = two_layer_step(n, m, d, base, dtype, "gd", reps)
                        rows.append((step_features(n, m, d, base, dtype), t))
                coef = fit(rows)
                report(f"step {base} {dtype}", rows, coef, step_model)
                consts[f"step_{base}_{dtype}"] = dict(zip(STEP_TERMS, coef))
        for dtype in ("float64", "float32") if want("adam_") else ():
            rows = []
            for m in widths:
                gd = two_layer_step(100, m, 2, "relu", dtype, "gd", reps)
                adam = two_layer_step(100, m, 2, "relu", dtype, "adam", reps)
                rows.append(([m * 3], max(adam - gd, 1e-7)))
            coef = fit(rows)
            consts[f"adam_{dtype}"] = {"param": coef[0]}
            print(f"# adam extra {dtype}: {[(r[0][0] // 3, round(r[1] * 1e3, 3)) for r in rows]} ms")

    if want("forward_"):
        # --- forward (logged loss) on r rows: t = c0 + c_rm·rows·m + c_rmd·rows·m·d
        for base in base_names():  # every registered base (hrta.bases)
            if not want(f"forward_{base}"):
                continue
            rows = []
            for m in widths if base == "relu" else widths[:2]:
                for r, d in ((100, 2), (400, 2), (400, 20)):
                    rows.append(([1.0, r * m, r * m * d], two_layer_forward(r, m, d, base, "float64", reps)))
            coef = fit(rows)
            report(f"forward {base}", rows, coef, step_model)
            consts[f"forward_{base}"] = {"c0": coef[0], "rm": coef[1], "rmd": coef[2]}

    if want("deep_step_"):
        # --- DeepNet update (hand-written gradient): t = c0 + c_mac·n·Σ fan_in·fan_out + c_act·n·Σ widths
        for dtype in ("float64", "float32"):
            rows = []
            for w in (64, 256) if args.quick else (64, 256, 1000):
                for n in (50, 200):
                    widths_ = (w, w)
                    t = deep_step(n, 2, widths_, reps, dtype)
                    rows.append(([1.0, n * deep_matmul(2, widths_), n * sum(widths_)], t))
            coef = fit(rows)
            report(f"deep step {dtype}", rows, coef, step_model)
            consts[f"deep_step_{dtype}"] = {"c0": coef[0], "mac": coef[1], "act": coef[2]}

    if want("empirical_ntk"):
        # --- empirical NTK of a TwoLayerNet (closed form, width-chunked): t = c0 + c_nnm·n²·m + c_nm·n·m
        rows = []
        for m in widths:
            for n in (50, 100, 200) if not args.quick else (50, 100):
                net = TwoLayerNet(2, m, s=1.0, seed=0, dtype="float64")
                X = torch.randn(n, 2, dtype=torch.float64)
                rows.append(([1.0, n * n * m, n * m], timeit(lambda net=net, X=X: empirical_ntk(net, X), reps)))
        coef = fit(rows)
        report("empirical ntk", rows, coef, step_model)
        consts["empirical_ntk"] = {"c0": coef[0], "nnm": coef[1], "nm": coef[2]}

    if want("jacobian_ntk"):
        # --- Jacobian NTK of a DeepNet (torch.func): t = c0 + c·n²·P + c'·n·P·(layers)
        rows = []
        for w in (32, 64) if args.quick else (32, 64, 128):
            for n in (50, 100):
                net = DeepNet(2, [w, w], s=1.0, seed=0, dtype="float64")
                X = torch.randn(n, 2, dtype=torch.float64)
                P = sum(p.numel() for p in net.parameters())
                rows.append(([1.0, n * n * P, n * P], timeit(lambda net=net, X=X: jacobian_ntk(net, X), reps)))
        coef = fit(rows)
        report("jacobian ntk", rows, coef, step_model)
        consts["jacobian_ntk"] = {"c0": coef[0], "nnp": coef[1], "np": coef[2]}

    if want("analytic_relu", "analytic_quadrature"):
        # --- analytic NTK: ReLU closed form t = c0 + c·n²·d; tanh/gelu quadrature t = c0 + c·n²·q²
        rows = []
        for n in (100, 400, 1000):
            X = torch.randn(n, 2, dtype=torch.float64)
            rows.append(([1.0, n * n * 2], timeit(lambda X=X: analytic_ntk(X, 1.0), reps)))
        coef = fit(rows)
        report("analytic ntk relu", rows, coef, step_model)
        consts["analytic_relu"] = {"c0": coef[0], "nnd": coef[1]}
        rows = []
        for n in (50, 100) if args.quick else (50, 100, 200):
            X = torch.randn(n, 2, dtype=torch.float64)
            rows.append(([1.0, n * n * 96 * 96], timeit(lambda X=X: analytic_ntk(X, 1.0, base="tanh"), min(reps, 3))))
        coef = fit(rows)
        report("analytic ntk quadrature", rows, coef, step_model)
        consts["analytic_quadrature"] = {"c0": coef[0], "nnq2": coef[1]}

    if want("relu_ntks"):
        # --- relu_analytic_ntks over k values of s: the angles once, then elementwise n² work per s:
        # t = c0 + c·n²·d + c'·k·n²
        rows = []
        for n in (100, 400) if args.quick else (100, 400, 1000):
            X = torch.randn(n, 3, dtype=torch.float64)
            for k in (1, 20):
                grid = [0.1 * (i + 1) for i in range(k)]
                t = timeit(lambda X=X, grid=grid: list(relu_analytic_ntks(X, grid)), min(reps, 5))
                rows.append(([1.0, n * n * 3, k * n * n], t))
        coef = fit(rows)
        report("relu ntks per s", rows, coef, step_model)
        consts["relu_ntks"] = {"c0": coef[0], "nnd": coef[1], "knn": coef[2]}

    if want("spectrum"):
        # --- spectrum (eigvalsh) t = c0 + c·n³
        rows = []
        for n in (100, 400, 1000) if not args.quick else (100, 400):
            K = torch.randn(n, n, dtype=torch.float64)
            K = K @ K.T
            rows.append(([1.0, float(n) ** 3], timeit(lambda K=K: spectrum(K), reps)))
        coef = fit(rows)
        report("spectrum", rows, coef, step_model)
        consts["spectrum"] = {"c0": coef[0], "n3": coef[1]}

    if want("predict"):
        # --- predict_loss_curve: eig·(one eigvalsh of n) (its eigh) + pow·(steps + 1)·n
        rows = []
        for n, steps in ((100, 2000), (100, 10000), (400, 2000)):
            K = torch.randn(n, n, dtype=torch.float64)
            K = K @ K.T / n
            r0 = torch.randn(n, dtype=torch.float64)
            t = timeit(lambda K=K, r0=r0, steps=steps: predict_loss_curve(K, r0, 0.1, steps), reps)
            spec = consts.get("spectrum") or RUNTIME_CONSTANTS["spectrum"]
            eig = spec["c0"] + spec["n3"] * n**3
            rows.append(([eig, (steps + 1) * n], t))
        coef = fit(rows)
        report("predict curve", rows, coef, step_model)
        consts["predict"] = {"eig": coef[0], "pow": coef[1]}

    if want("search_"):
        # --- claim 1's search (hrta.claims.claim1_search): per draw, K_0 and K_2 for both layer choices
        # (kernel_parts_all) t = c0 + c·n² + c'·n²·d; per point of a λ_min curve, K_s and its two extreme
        # eigenvalues (lambda_min_curve with the parts given) t = c0 + c·n² + c'·n³ (the tridiagonal
        # reduction runs at matrix-vector speed below n ≈ 500, so its n² term dominates there)
        rows = []
        for n in (10, 50, 200):
            for d in (3, 21):
                X = claim1_search.sphere_draw(n, d, 0)
                t = timeit(lambda X=X: claim1_search.kernel_parts_all(X), reps)
                rows.append(([1.0, n * n, n * n * d], t))
        coef = fit(rows)
        report("search kernel parts", rows, coef, step_model)
        consts["search_kernel_parts"] = {"c0": coef[0], "nn": coef[1], "nnd": coef[2]}
        rows, grid = [], claim1_search.s_grid_search(0.1, 0.1, 0.2)
        for n in (10, 30, 100, 200, 400) if not args.quick else (10, 100):
            X = claim1_search.sphere_draw(n, 5, 0)
            parts = claim1_search.kernel_parts(X)
            t = timeit(lambda X=X, parts=parts: claim1_search.lambda_min_curve(X, grid, parts=parts), reps)
            rows.append(([1.0, float(n) ** 2, float(n) ** 3], t / grid.size))
        coef = fit(rows)
        report("search curve point", rows, coef, step_model)
        consts["search_curve_point"] = {"c0": coef[0], "n2": coef[1], "n3": coef[2]}

    consts = {k: v for k, v in consts.items() if not args.only or k.startswith(tuple(args.only))}
    if not consts:
        raise SystemExit(f"--only {' '.join(args.only)}: no operation's constants start so (see RUNTIME_CONSTANTS)")
    print(f"# machine: {machine()}")
    print("RUNTIME_CONSTANTS = {")
    for key, value in consts.items():
        inner = ", ".join(f'"{k}": {v:.4g}' for k, v in value.items())
        print(f'    "{key}": {{{inner}}},')
    print("}")
    if args.write:
        from hrta.pipeline.runtime import CONSTANTS_FILE, load_runtime_constants  # noqa: PLC0415

        data = load_runtime_constants()
        data["operations"].update({k: {kk: float(f"{vv:.4g}") for kk, vv in v.items()} for k, v in consts.items()})
        if args.only:  # the other constants keep the machine and date they were measured on
            data["calibration_machine"] += f"; {', '.join(sorted(consts))} measured {dt.date.today()} on {machine()}"
        else:
            data["calibration_machine"] = machine()
        CONSTANTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"# written to {CONSTANTS_FILE}")


if __name__ == "__main__":
    main()
