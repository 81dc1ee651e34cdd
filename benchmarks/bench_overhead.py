"""Per-job overhead: Python + torch import time in fresh processes, what a job's end costs with and
without the interpreter's teardown, and what batching several short training runs into one process saves.

    .venv/bin/python benchmarks/bench_overhead.py [--reps 5] [--runs 8] [--m 1000] [--steps 1000]

import: wall time of ``python -c "pass"``, ``python -c "import torch"`` and
``python -c "import hrta.train, hrta.ntk"``, each in a fresh process, median of --reps.
job end: CPU seconds of a fresh process that starts as a pipeline script does (hrta.pipeline.job_start, torch,
pandas, hrta.train, job_logger) and ends at once, as a Snakemake script job (``snakemake`` defined in
``__main__``: hrta.pipeline.joblog.exit_without_teardown leaves with os._exit) and as any other process (the
interpreter's teardown); median of --reps each, round-robin, and their ratio.
batching: --runs short GD trainings (TwoLayerNet n=100 d=2 width --m, --steps updates, float64, one
thread each, seeds 0..runs−1) once as --runs sequential processes (one run each) and once as one
process doing all of them; the difference is what batching saves. ``compute_s`` is the median
in-process time of one run (train() alone), to compare with the import time.
figure save: CPU seconds of saving one PNG and one PDF of an E2-like figure (2 × 3 log-log panels with error
bars, constrained layout, a legend outside), as ``savefig`` does it by itself (bbox "tight", the layout engine on:
each format drawn twice and laid out at every draw) and as hrta.pipeline.outputs.save_figure does it (layout
frozen once by hrta.plots.freeze_layout, each format drawn once); median of --reps each, round-robin, and their
ratio.
``import_times`` and ``batching`` are the one implementation; benchmarks/run_all.py imports them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

IMPORTS = {"python": "pass", "torch": "import torch", "hrta": "import hrta.train, hrta.ntk"}


def _wall(cmd: list[str], env=None) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return dt, proc.stdout


def import_times(reps: int = 5) -> dict[str, float]:
    """Median wall seconds of each IMPORTS statement in a fresh interpreter (round-robin)."""
    times = {k: [] for k in IMPORTS}
    for _ in range(reps):
        for name, stmt in IMPORTS.items():
            times[name].append(_wall([sys.executable, "-c", stmt])[0])
    return {k: statistics.median(v) for k, v in times.items()}


JOB_END = """
import sys
if sys.argv[1] == "job":
    snakemake = object()  # what Snakemake's script preamble defines
import hrta.pipeline.job_start
import pandas, torch, hrta.train
from hrta.pipeline.joblog import job_logger
job_logger(sys.argv[2])
"""


def job_end_times(reps: int = 5) -> dict[str, float]:
    """Median CPU seconds (the child's user + system) of JOB_END as a Snakemake job and as another process."""
    import resource  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    times = {"job": [], "other": []}
    env = dict(os.environ, HRTA_NO_WATCHER="1")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(reps):
            for kind in times:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run(
                    [sys.executable, "-c", JOB_END, kind, f"{tmp}/job.log"], check=True, env=env, capture_output=True
                )
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                times[kind].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {k: statistics.median(v) for k, v in times.items()}


def _e2_like_figure():
    """2 × 3 log-log panels with error bars and mathtext labels, a legend outside: E2's spectrum figure's kind."""
    import numpy as np  # noqa: PLC0415

    from hrta.plots import FULL_WIDTH, subplots  # noqa: PLC0415

    fig, axes = subplots(2, 3, width=FULL_WIDTH, panel_height=1.9)
    s = np.linspace(0.0, 2.0, 9)
    for i, ax in enumerate(axes.flat):
        ax.plot(s + 0.1, 10.0 ** -(i + s), label=r"$m=\infty$")
        for k, m in enumerate((50, 200, 800)):
            ax.errorbar(s + 0.1, 10.0 ** -(i + s + k / 5), yerr=0.1 * 10.0 ** -(i + s), fmt="o", ms=3, label=f"$m={m}$")
        ax.set(xscale="log", yscale="log", xlabel="$s$", ylabel=r"$\lambda_{\min}(K_s/n)$", title=f"panel {i}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    return fig


def figure_save_times(reps: int = 5) -> dict[str, float]:
    """Median CPU seconds of saving _e2_like_figure as PNG + PDF, by savefig alone and by save_figure's way."""
    import tempfile  # noqa: PLC0415

    from hrta.plots import _PDF_METADATA, _PNG_METADATA, _pyplot, freeze_layout  # noqa: PLC0415

    def save(fig, tmp: str, frozen: bool) -> None:
        box = freeze_layout(fig) if frozen else None
        for fmt, metadata in (("png", _PNG_METADATA), ("pdf", _PDF_METADATA)):
            fig.savefig(
                f"{tmp}/figure.{fmt}", format=fmt, metadata=metadata, **({"bbox_inches": box} if frozen else {})
            )

    times = {"savefig": [], "frozen": []}
    with tempfile.TemporaryDirectory() as tmp:
        save(_e2_like_figure(), tmp, False)  # warm-up: fonts, mathtext parser
        for _ in range(reps):
            for kind in times:
                fig = _e2_like_figure()
                start = time.process_time()
                save(fig, tmp, kind == "frozen")
                times[kind].append(time.process_time() - start)
                _pyplot().close(fig)
    return {k: statistics.median(v) for k, v in times.items()}


def train_runs(seeds: list[int], m: int, steps: int) -> list[float]:
    """Run one short GD training per seed in this process; seconds of each train() call."""
    import torch

    torch.set_num_threads(1)  # as a pipeline job with threads: 1
    from hrta.data import make_dataset
    from hrta.models import TwoLayerNet
    from hrta.train import TrainConfig, train

    ds = make_dataset("sin1d", n_train=100, n_test=200, seed=0)
    times = []
    for seed in seeds:
        net = TwoLayerNet(ds.d, m, seed=seed, dtype="float64")
        cfg = TrainConfig(f"1x{steps}", lr=1.0, log_every=10, dtype="float64")
        t0 = time.perf_counter()
        result = train(net, ds.X_train, ds.y_train, cfg, X_test=ds.X_test, y_test=ds.y_test)
        times.append(time.perf_counter() - t0)
        if result.status != "ok":
            raise RuntimeError(f"benchmark run seed={seed} {result.status}")
    return times


def _worker_cmd(seeds: list[int], m: int, steps: int) -> list[str]:
    return [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        ",".join(map(str, seeds)),
        "--m",
        str(m),
        "--steps",
        str(steps),
    ]


def batching(runs: int = 8, m: int = 1000, steps: int = 1000) -> dict:
    """Wall seconds of ``runs`` trainings as separate processes vs one process, and the saving."""
    seeds = list(range(runs))
    separate = sum(_wall(_worker_cmd([s], m, steps))[0] for s in seeds)
    batched, out = _wall(_worker_cmd(seeds, m, steps))
    compute = json.loads(out.strip().splitlines()[-1])
    saved = separate - batched
    return {
        "runs": runs,
        "m": m,
        "steps": steps,
        "separate_s": separate,
        "batched_s": batched,
        "saved_s": saved,
        "saved_fraction": saved / separate,
        "per_job_overhead_s": saved / (runs - 1) if runs > 1 else float("nan"),
        "compute_s": statistics.median(compute),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--m", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(train_runs([int(s) for s in args.worker.split(",")], args.m, args.steps)))
        return
    for name, t in import_times(args.reps).items():
        print(f"import {name:6s} {t:.3f} s (fresh process, median of {args.reps})")
    end = job_end_times(args.reps)
    print(
        f"job start and end: {end['job']:.3f} CPU-s as a Snakemake job (no teardown), {end['other']:.3f} CPU-s with "
        f"the interpreter's teardown (ratio {end['job'] / end['other']:.2f}; median of {args.reps})"
    )
    fig = figure_save_times(args.reps)
    print(
        f"figure save (PNG + PDF): {fig['savefig']:.3f} CPU-s by savefig alone, {fig['frozen']:.3f} CPU-s with the "
        f"layout frozen (ratio {fig['frozen'] / fig['savefig']:.2f}; median of {args.reps})"
    )
    b = batching(args.runs, args.m, args.steps)
    print(
        f"{b['runs']} runs (m={b['m']}, {b['steps']} steps): separate processes {b['separate_s']:.2f} s, "
        f"one process {b['batched_s']:.2f} s, saved {b['saved_s']:.2f} s ({100 * b['saved_fraction']:.0f} %), "
        f"{b['per_job_overhead_s']:.2f} s per job; one run computes {b['compute_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
