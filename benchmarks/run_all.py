"""Every hrta benchmark in one run: one table on stdout, the same as markdown in benchmarks/results.md.

    .venv/bin/python benchmarks/run_all.py                 # full CPU run (minutes; use a quiet machine)
    .venv/bin/python benchmarks/run_all.py --quick         # small sizes, < 60 s: checks that it all runs
    .venv/bin/python benchmarks/run_all.py --pipeline      # + wall time of the smoke pipeline
    .venv/bin/python benchmarks/run_all.py --pipeline default   # + the default pipeline (minutes)
    .venv/bin/python benchmarks/run_all.py --device cuda --only train,ntk --widths 1e5,1e6 --ntk-widths 1e5,1e6

Sections (--only picks some; docs/benchmarks.md explains every number):
  train     one full-batch GD step of TwoLayerNet (n=100, d=2), float32/float64: hrta vs the naive
            nn.Sequential + autograd + torch.optim.SGD loop vs the one-pass memory bound (bench_train_step)
  ntk       empirical_ntk (closed form) vs torch.func jacrev + JJᵀ vs its two n×m×n GEMMs, time and
            extra peak memory, each in a fresh subprocess (bench_ntk)
  eig       spectrum() (float64 eigvalsh) time vs n (bench_ntk)
  deep      deep_analytic_ntk (n=1000, L=3) vs one n×n eigvalsh and GEMM; DeepNet's empirical NTK
            (deep_empirical_ntk, jacobian_ntk) vs torch.func, time and extra memory (bench_ntk_deep)
  deepstep  one training step (loss + all gradients) of DeepNet, widths (m, m), 1 thread: loss_and_grad vs
            autograd vs a naive nn.Sequential loop vs its three n×m×m GEMMs (bench_deep_step)
  overhead  fresh-process import times (median) and what batching short runs into one process saves
            (bench_overhead)
  pipeline  only with --pipeline [smoke|default]: `snakemake --cores 2 --configfile config/<x>.yaml
            --forceall` in a temporary copy of git HEAD (commit first); wall time, and every job's wall time
            from the rules' benchmark: files against the hrta import time
Ratio lines compare with the targets (issue 6 and the train-step / NTK issues) and say PASS or MISS.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench_deep_step  # noqa: E402
import bench_ntk  # noqa: E402
import bench_ntk_deep  # noqa: E402
import bench_overhead  # noqa: E402
import bench_train_step  # noqa: E402
import torch  # noqa: E402

from hrta.models import resolve_device  # noqa: E402

SECTIONS = ("train", "ntk", "eig", "deep", "deepstep", "overhead", "pipeline")
#: issue 6: the default pipeline in at most this many seconds on 2 cores
PIPELINE_DEFAULT_TARGET_S = 600.0


@dataclass
class Sizes:
    train_widths: list[int]
    train_reps: int
    ntk_n: int
    ntk_widths: list[int]
    func_widths: list[int]
    eig_sizes: list[int]
    import_reps: int
    batch_runs: int
    batch_m: int
    batch_steps: int


FULL = Sizes([10**4, 10**5], 20, 1000, [10**5], [10**4, 2 * 10**4], [250, 500, 1000, 2000, 4000], 5, 8, 1000, 1000)
QUICK = Sizes([10**4], 3, 200, [10**4], [2000, 10**4], [100, 200, 400], 3, 2, 1000, 200)


class Report:
    """Rows of the results table and the ratio lines with their targets."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []
        self.ratios: list[tuple[str, float, str, bool]] = []

    def add(self, section: str, quantity: str, value: float | str, unit: str = "", fmt: str = ".4g") -> None:
        text = value if isinstance(value, str) else format(value, fmt)
        self.rows.append((section, quantity, text, unit))
        print(f"{section:9s} {quantity:58s} {text:>12s} {unit}", flush=True)

    def ratio(self, name: str, value: float, op: str, target: float) -> None:
        ok = value >= target if op == ">=" else value <= target
        self.ratios.append((name, value, f"{op} {target:g}", ok))
        print(f"ratio {name:62s} {value:9.3g}  (target {op} {target:g})  {'PASS' if ok else 'MISS'}", flush=True)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def default_training_run() -> tuple[int, str] | None:
    """(widest training width, dtype) of config/config.yaml's training experiments (e3, e4, claims:
    every section with both "methods" and "widths"), or None if the config cannot be read."""
    import yaml

    try:
        cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
        widths = [
            int(w) for sec in cfg.values() if isinstance(sec, dict) and "methods" in sec for w in sec.get("widths", [])
        ]
        return (max(widths), cfg.get("dtype", "float32")) if widths else None
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
        return None


def run_train(rep: Report, sz: Sizes, device: torch.device) -> None:
    widest = default_training_run()
    for m in sz.train_widths:
        for dtype in (torch.float32, torch.float64):
            t = bench_train_step.measure(m, dtype, reps=sz.train_reps, device=device)
            tag = f"m={m:.0e} {_dtype_name(dtype)}"
            med = {k: v[0] for k, v in t.items()}
            rep.add(
                "train",
                f"{tag} naive autograd step",
                f"{med['naive'] * 1e3:.3f}; {t['naive'][1] * 1e3:.3f}",
                "ms (median; min)",
            )
            rep.add(
                "train",
                f"{tag} hrta loss_and_grad + update",
                f"{med['hrta'] * 1e3:.3f}; {t['hrta'][1] * 1e3:.3f}",
                "ms (median; min)",
            )
            rep.add(
                "train",
                f"{tag} hrta.train.train per step",
                f"{med['train'] * 1e3:.3f}; {t['train'][1] * 1e3:.3f}",
                "ms (median; min)",
            )
            rep.add(
                "train",
                f"{tag} one-pass bound (write+read n×m)",
                f"{med['bound'] * 1e3:.3f}; {t['bound'][1] * 1e3:.3f}",
                "ms (median; min)",
            )
            rep.ratio(
                f"train {tag} naive/hrta (median)", med["naive"] / med["hrta"], ">=", bench_train_step.naive_target(m)
            )
            issue = " [issue 6: widest default width]" if widest == (m, _dtype_name(dtype)) else ""
            rep.ratio(
                f"train {tag} hrta/bound (median){issue}",
                med["hrta"] / med["bound"],
                "<=",
                bench_train_step.BOUND_TARGET,
            )


def run_ntk(rep: Report, sz: Sizes, device: torch.device, threads: int) -> None:
    for m in sz.ntk_widths:
        r = bench_ntk.compare_ntk(sz.ntk_n, m, threads, sz.func_widths, str(device))
        tag = f"n={sz.ntk_n} m={m:.0e}"
        mem = "device memory" if device.type == "cuda" else "RSS"
        rep.add("ntk", f"{tag} empirical_ntk (closed form)", r["closed"]["time_s"], "s")
        rep.add("ntk", f"{tag} empirical_ntk extra peak {mem}", r["closed"]["extra_peak_mb"], "MB", ".0f")
        rep.add("ntk", f"{tag} its two n×m×n GEMMs alone", r["two_mm"]["time_s"], "s")
        for f in r["func"]:
            rep.add("ntk", f"n={sz.ntk_n} m={f['m']:.0e} torch.func jacrev+JJᵀ", f["time_s"], "s")
            rep.add("ntk", f"n={sz.ntk_n} m={f['m']:.0e} torch.func extra peak {mem}", f["extra_peak_mb"], "MB", ".0f")
        how = "extrapolated linearly in m" if r["func_extrapolated"] else "measured"
        rep.add("ntk", f"{tag} torch.func ({how})", f"{r['func_time_s']:.4g}; {r['func_extra_mb']:.0f}", "s; MB")
        rep.add(
            "ntk", f"trace rel. diff closed vs torch.func, m={r['func'][0]['m']:.0e}", r["trace_rel_diff"], "", ".1e"
        )
        rep.ratio(f"ntk {tag} torch.func/closed time", r["speed_ratio"], ">=", bench_ntk.SPEED_TARGET)
        rep.ratio(f"ntk {tag} torch.func/closed extra memory", r["memory_ratio"], ">=", bench_ntk.MEMORY_TARGET)
        rep.ratio(f"ntk {tag} closed/two-GEMM time", r["gemm_ratio"], "<=", bench_ntk.GEMM_TARGET)


def run_eig(rep: Report, sz: Sizes, device: torch.device, threads: int) -> None:
    for e in bench_ntk.eigensolver_times(sz.eig_sizes, threads, str(device)):
        rep.add("eig", f"n={e['n']} spectrum (float64 eigvalsh)", e["spectrum_s"], "s")
        rep.add("eig", f"n={e['n']} analytic_ntk (to build K)", e["analytic_ntk_s"], "s")


def run_deep(rep: Report, quick: bool, threads: int) -> None:
    """bench_ntk_deep: the infinite-width deep NTK vs n³ references; DeepNet's empirical NTK three ways (CPU)."""
    n, n_emp, widths, n_big = (300, 50, [100, 100], None) if quick else (1000, 200, [500, 500], 4000)
    r = bench_ntk_deep.compare(n, 3, n_emp, widths, threads, n_big)
    rep.add("deep", f"n={n} L=3 deep_analytic_ntk", r["analytic"]["time_s"], "s")
    rep.add("deep", f"n={n} deep_analytic_ntk / one n×n eigvalsh", r["analytic_over_eig"], "×", ".3g")
    rep.add("deep", f"n={n} deep_analytic_ntk / one n×n GEMM", r["analytic_over_gemm"], "×", ".3g")
    if n_big:
        rep.add("deep", f"n={n_big} L=3 deep_analytic_ntk extra peak", r["big"]["extra_peak_mb"], "MB", ".0f")
    for m in ("closed", "jacobian"):
        rep.add("deep", f"n={n_emp} widths {widths}: torch.func / {m} time", r[f"func_over_{m}_time"], "×", ".3g")
        rep.add("deep", f"n={n_emp} widths {widths}: torch.func / {m} memory", r[f"func_over_{m}_memory"], "×", ".3g")


def run_deepstep(rep: Report, quick: bool) -> None:
    """bench_deep_step: DeepNet's hand-written step vs autograd, nn.Sequential and the GEMM floor (CPU, 1 thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for m in [256] if quick else [256, 1000, 2000]:
            for dtype in (torch.float32, torch.float64):
                t = bench_deep_step.measure(m, dtype, reps=3 if quick else 10)
                tag = f"widths ({m}, {m}) {_dtype_name(dtype)}"
                for kind in bench_deep_step.KINDS:
                    rep.add(
                        "deepstep",
                        f"{tag} {kind}",
                        f"{t[kind][0] * 1e3:.3f}; {t[kind][1] * 1e3:.3f}",
                        "ms (median; min)",
                    )
                for kind in ("autograd", "sequential"):
                    rep.add("deepstep", f"{tag} {kind}/manual (median)", t[kind][0] / t["manual"][0], "×", ".3g")
                rep.add("deepstep", f"{tag} manual/gemm floor (median)", t["manual"][0] / t["gemm"][0], "×", ".3g")
    finally:
        torch.set_num_threads(threads)


def run_overhead(rep: Report, sz: Sizes) -> dict:
    imp = bench_overhead.import_times(sz.import_reps)
    rep.add("overhead", 'python -c "pass" (fresh process, median)', imp["python"], "s", ".3f")
    rep.add("overhead", 'python -c "import torch"', imp["torch"], "s", ".3f")
    rep.add("overhead", 'python -c "import hrta.train, hrta.ntk"', imp["hrta"], "s", ".3f")
    b = bench_overhead.batching(sz.batch_runs, sz.batch_m, sz.batch_steps)
    tag = f"{b['runs']} runs m={b['m']} {b['steps']} steps"
    rep.add("overhead", f"{tag}: one run's train() (median)", b["compute_s"], "s", ".3f")
    rep.add("overhead", f"{tag}: as {b['runs']} processes", b["separate_s"], "s", ".2f")
    rep.add("overhead", f"{tag}: in one process", b["batched_s"], "s", ".2f")
    rep.add("overhead", f"{tag}: saved by batching", f"{b['saved_s']:.2f} ({100 * b['saved_fraction']:.0f} %)", "s")
    rep.add("overhead", "per-job overhead (saved / (runs − 1))", b["per_job_overhead_s"], "s", ".2f")
    rep.ratio(
        f"overhead import hrta / one run's compute (m={b['m']}, {b['steps']} steps)",
        imp["hrta"] / b["compute_s"],
        "<=",
        1.0,
    )
    return imp


def git_commit() -> str:
    """HEAD's short hash, with "+changes" when tracked files differ from it."""

    def git(*a):
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_pipeline(rep: Report, which: str, threads_note: str, import_hrta_s: float | None) -> None:
    config = {"smoke": "config/smoke.yaml", "default": "config/config.yaml"}[which]
    snakemake = Path(sys.executable).with_name("snakemake")
    with tempfile.TemporaryDirectory(prefix="hrta-bench-") as tmp:
        # the committed tree (git HEAD), so the time belongs to a commit and not to edits in progress
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=REPO, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = dict(
            os.environ,
            PYTHONHASHSEED="0",
            PYTHONPATH=tmp,
            PATH=f"{snakemake.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        # outputs in a separate directory, as tests/conftest.py runs it: from the repository root,
        # Snakemake would deep-merge --configfile into the Snakefile's default config/config.yaml
        work = Path(tmp, "work")
        work.mkdir()
        cmd = [
            str(snakemake),
            "--snakefile",
            str(Path(tmp, "Snakefile")),
            "--directory",
            str(work),
            "--cores",
            "2",
            "--configfile",
            str(Path(tmp, config)),
            "--forceall",
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed in {tmp}:\n{proc.stdout[-3000:]}")
        rep.add("pipeline", f"{which}: snakemake --cores 2 --configfile {config} --forceall", wall, "s", ".1f")
        jobs = []
        for tsv in sorted(Path(work, "logs", "benchmarks").rglob("*.tsv")):
            with open(tsv) as fh:
                jobs += [float(r["s"]) for r in csv.DictReader(fh, delimiter="\t")]
        if jobs:
            rep.add(
                "pipeline",
                f"{which}: jobs with a benchmark: file (count; median; min wall)",
                f"{len(jobs)}; {statistics.median(jobs):.2f}; {min(jobs):.2f}",
                "s",
            )
            if import_hrta_s is not None:
                # a job whose wall time is under twice the import time spent more on the import than on compute
                short = sum(w < 2 * import_hrta_s for w in jobs)
                rep.add("pipeline", f"{which}: benchmarked jobs with wall < 2 × import hrta", f"{short}/{len(jobs)}")
                rep.ratio(f"pipeline {which} benchmarked jobs importing longer than computing", short, "<=", 0)
    if which == "default":
        rep.ratio(f"pipeline default wall time (s, {threads_note})", wall, "<=", PIPELINE_DEFAULT_TARGET_S)


def machine(device: torch.device, threads: int) -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = (
        f"{cpu}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), torch {torch.__version__}, "
        f"{threads} torch threads, Python {platform.python_version()}"
    )
    if device.type == "cuda":
        text += f", GPU {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return text


def write_markdown(path: Path, rep: Report, header: list[str]) -> None:
    lines = [
        "# hrta benchmark results",
        "",
        *[f"- {h}" for h in header],
        "",
        "| section | quantity | value | unit |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {s} | {q} | {v} | {u} |" for s, q, v, u in rep.rows]
    lines += ["", "| ratio | value | target | verdict |", "|---|---:|---|---|"]
    lines += [f"| {n} | {v:.3g} | {t} | {'PASS' if ok else 'MISS'} |" for n, v, t, ok in rep.ratios]
    path.write_text("\n".join(lines) + "\n")


def _widths(text: str) -> list[int]:
    return [int(float(w)) for w in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (< 60 s): a check that everything runs")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    ap.add_argument("--only", default="train,ntk,eig,overhead", help=f"comma-separated sections of {SECTIONS}")
    ap.add_argument("--widths", help="train-step widths, e.g. 1e5,1e6")
    ap.add_argument("--ntk-widths", help="empirical_ntk widths, e.g. 1e5,1e6")
    ap.add_argument("--func-widths", help="widths at which torch.func runs (others are extrapolated)")
    ap.add_argument(
        "--pipeline",
        nargs="?",
        const="smoke",
        choices=("smoke", "default"),
        help="also time the pipeline (smoke, or default: minutes)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    args = ap.parse_args()
    sections = [s for s in args.only.split(",") if s]
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {bad} in --only; expected some of {', '.join(SECTIONS)}")
    if args.pipeline and "pipeline" not in sections:
        sections.append("pipeline")
    if "pipeline" in sections and not args.pipeline:
        args.pipeline = "smoke"
    if args.threads < 1:
        ap.error(f"--threads must be >= 1, got {args.threads}")
    try:
        device = resolve_device(args.device)  # before any work: CUDA asked for and absent is an error
    except ValueError as err:
        ap.error(str(err))
    torch.set_num_threads(args.threads)
    sz = QUICK if args.quick else FULL
    if args.widths:
        sz.train_widths = _widths(args.widths)
    if args.ntk_widths:
        sz.ntk_widths = _widths(args.ntk_widths)
    if args.func_widths:
        sz.func_widths = _widths(args.func_widths)

    started = time.perf_counter()
    header = [
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {machine(device, args.threads)}",
        f"device: {device}; sizes: {'quick' if args.quick else 'full'}; commit {git_commit()}",
        f"command: {' '.join([Path(sys.executable).name, 'benchmarks/run_all.py', *sys.argv[1:]])}",
    ]
    for h in header:
        print(h)
    rep = Report()
    imp = None
    if "train" in sections:
        run_train(rep, sz, device)
    if "ntk" in sections:
        run_ntk(rep, sz, device, args.threads)
    if "eig" in sections:
        run_eig(rep, sz, device, args.threads)
    if "deep" in sections:
        run_deep(rep, args.quick, args.threads)
    if "deepstep" in sections:
        run_deepstep(rep, args.quick)
    if "overhead" in sections:
        imp = run_overhead(rep, sz)
    if "pipeline" in sections:
        if imp is None:
            imp = bench_overhead.import_times(sz.import_reps)
        run_pipeline(rep, args.pipeline, f"{args.threads} threads, --cores 2", imp["hrta"])
    total = time.perf_counter() - started
    header.append(
        f"benchmark wall time: {total:.0f} s; {sum(ok for *_, ok in rep.ratios)}/{len(rep.ratios)} ratios PASS"
    )
    print(header[-1])
    write_markdown(args.out, rep, header)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
