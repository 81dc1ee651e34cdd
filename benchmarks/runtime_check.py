"""The runtime estimates (hrta.pipeline) against a real run: every job's estimate next to what it used.

    .venv/bin/python benchmarks/runtime_check.py                      # run the default pipeline (minutes), then check
    .venv/bin/python benchmarks/runtime_check.py --config smoke       # the smoke config (< 1 min)
    .venv/bin/python benchmarks/runtime_check.py --workdir DIR --config default   # check a finished run in DIR
    .venv/bin/python benchmarks/runtime_check.py --workdir DIR --config default --update-snapshot  # the committed copy

Runs ``snakemake --cores 2`` with config/<config>.yaml in a fresh temporary directory (unless
--workdir), then reads every job's use from its log (hrta.io.job_logger's "job resources" line: CPU
seconds of the job's script, wall seconds, peak RSS) and its `benchmark:` file where the rule has one,
and compares with hrta.pipeline.estimates.estimate_job. Writes the table (one row per job, the totals, the
machine) where ``--out`` says, by default into the run's directory, DIR/runtime_check.md (without --workdir the run
is in a temporary directory, deleted afterwards, and the table goes to a new directory
/tmp/hrta-runtime-check-*/runtime_check_<config>.md), and prints the summary and the table's path. Measuring never
writes a tracked file: only ``--update-snapshot`` replaces the committed benchmarks/runtime_check_<config>.md (the
README's generated block reads runtime_check_default.md, hrta.pipeline.snapshot). Targets (hrta.pipeline.plan.summarize_ratios):
the host's speed against the calibration machine (the median of estimate / measured) within 3×, and after
dividing it out every job within 2× and the run's total within 1.5×; exit status 1 if one is missed.

Measured time = CPU time: the estimates are one-thread times on an idle machine, where a one-thread
job's CPU and wall times agree; on a shared machine the wall time stretches with the other load
(both are in the table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

from hrta.pipeline.plan import (  # noqa: E402
    HOST_TARGET,
    JOB_TARGET,
    TOTAL_TARGET,
    comparison_table,
    measure_run,
    summarize_ratios,
)
from hrta.pipeline.runtime import CALIBRATION_MACHINE  # noqa: E402
from hrta.pipeline.snapshot import BUDGET_CPU_S  # noqa: E402

BUDGET_TOLERANCE = 1.2  # a measured default run may use up to 1.2× the budget at the calibration speed (issue 23)


def run_pipeline(workdir: Path, configfile: Path) -> float:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe), "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2"]
    cmd += ["--configfile", str(configfile)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"pipeline failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="default", help="default | smoke | paper | a path to a config file")
    ap.add_argument("--workdir", help="a finished run to check (default: run the pipeline in a temporary directory)")
    ap.add_argument(
        "--out",
        help="markdown output (default: DIR/runtime_check.md with --workdir DIR, else "
        "/tmp/hrta-runtime-check-*/runtime_check_<config>.md)",
    )
    ap.add_argument(
        "--update-snapshot",
        action="store_true",
        help="write the committed benchmarks/runtime_check_<config>.md instead (a tracked file: the README's "
        "generated block reads the default run's)",
    )
    ap.add_argument(
        "--fit-fixed",
        action="store_true",
        help="store each light rule's measured CPU seconds in this run as its fixed cost (job_fixed_s of "
        "hrta/pipeline/runtime_constants.json); use a smoke run on a quiet machine",
    )
    args = ap.parse_args()
    name = "config" if args.config == "default" else args.config
    configfile = Path(name) if name.endswith((".yaml", ".yml")) else REPO / "config" / f"{name}.yaml"
    label = Path(configfile).stem if name.endswith((".yaml", ".yml")) else args.config
    with tempfile.TemporaryDirectory(prefix="hrta-runtime-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        wall = None if args.workdir else run_pipeline(workdir, configfile)
        rows = measure_run(workdir, configfile)
    done = [r for r in rows if r.cpu_s]
    if args.fit_fixed:
        fit_fixed_costs(done)
    ratios = sorted((r.ratio, r.estimate.describe()) for r in done)
    agreement = summarize_ratios(done)
    summary = [
        f"{len(done)} of {len(rows)} jobs measured; estimate / measured CPU time per job: "
        f"{ratios[0][0]:.2f} ({ratios[0][1]}) to {ratios[-1][0]:.2f} ({ratios[-1][1]}); total {agreement.total:.2f}.",
        f"Host speed (the median ratio; 1 = the calibration machine): {agreement.host_speed:.2f} "
        f"({'within' if 1 / HOST_TARGET <= agreement.host_speed <= HOST_TARGET else 'OUTSIDE'} {HOST_TARGET:g}×).",
        f"Jobs outside {JOB_TARGET:g}× of the host speed: {len(agreement.off)}"
        + (f" ({'; '.join(agreement.off)})" if agreement.off else "")
        + ".",
        f"Total within {TOTAL_TARGET:g}× of the host speed: "
        f"{'yes' if 1 / TOTAL_TARGET <= agreement.relative_total <= TOTAL_TARGET else 'NO'} "
        f"({agreement.relative_total:.2f}).",
    ]
    if label == "default":  # the budget is the default run's, at the calibration machine's speed (issue 23)
        measured = sum(r.cpu_s for r in done)
        at_calibration = measured * agreement.host_speed  # host speed = estimate / measured: slower hosts < 1
        summary.append(
            f"Budget: {measured:.0f} CPU-s measured × host speed {agreement.host_speed:.2f} = {at_calibration:.0f} "
            f"CPU-s at the calibration machine's speed, {at_calibration / BUDGET_CPU_S:.2f} of the budget "
            f"{BUDGET_CPU_S} ({'within' if at_calibration <= BUDGET_TOLERANCE * BUDGET_CPU_S else 'OVER'} "
            f"{BUDGET_TOLERANCE:g}×)."
        )
    if wall is not None:
        summary.append(f"Pipeline wall time (--cores 2): {wall:.0f} s.")
    text = "\n".join(
        [
            f"# Runtime estimates vs the `{label}` run",
            "",
            f"Generated by `benchmarks/runtime_check.py --config {args.config}"
            f"{' --workdir DIR` (a finished `snakemake --cores 2` run)' if args.workdir else '`'} on {dt.date.today()}; "
            f"measured on {Path('/proc/cpuinfo').exists() and _cpu() or 'unknown CPU'}; "
            f"estimates calibrated on {CALIBRATION_MACHINE}.",
            "",
            *summary,
            "",
            comparison_table(rows),
            "",
        ]
    )
    out = output_path(args, label)
    out.write_text(text, encoding="utf-8")
    print("\n".join(summary))
    print(f"table: {out}")
    return 0 if agreement.passes() else 1


def output_path(args, label: str) -> Path:
    """Where the table goes: --out; with --update-snapshot the committed benchmarks/runtime_check_<label>.md; else
    the run's directory (DIR/runtime_check.md) or, for a run in a temporary directory, a new directory in /tmp."""
    if args.out and args.update_snapshot:
        raise SystemExit("--out and --update-snapshot exclude each other")
    if args.out:
        return Path(args.out)
    if args.update_snapshot:
        return HERE / f"runtime_check_{label}.md"
    if args.workdir:
        return Path(args.workdir) / "runtime_check.md"
    return Path(tempfile.mkdtemp(prefix="hrta-runtime-check-")) / f"runtime_check_{label}.md"


def fit_fixed_costs(rows) -> None:
    """job_fixed_s ← for each rule listed there, the mean over its jobs in this run of the measured CPU seconds
    at the calibration machine's speed less the estimate's variable part (estimate − the rule's current fixed
    cost; ≈ 0 for the light rules of a smoke run), written to hrta/pipeline/runtime_constants.json.

    At the calibration machine's speed: measured × the host's speed in this run, the median estimate / measured
    over the jobs of the rules not refitted (their estimates come from the per-operation constants), so a
    refit on a slow or fast phase of the host stays consistent with the other constants. Run it on a smoke
    run on a quiet machine of the calibration machine's CPU type: across CPU types start-up and compute do not
    scale alike (docs/planning.md)."""
    import json  # noqa: PLC0415

    from hrta.pipeline.runtime import CONSTANTS_FILE, load_runtime_constants  # noqa: PLC0415

    data = load_runtime_constants()
    reference = [r.ratio for r in rows if r.estimate.rule not in data["job_fixed_s"]]
    if not reference:
        raise SystemExit("--fit-fixed: no job of a rule outside job_fixed_s to measure the host's speed with")
    speed = statistics.median(reference)
    print(f"host speed from the {len(reference)} jobs not refitted: {speed:.2f}")
    by_rule: dict[str, list[float]] = {}
    for r in rows:
        rule = r.estimate.rule
        if rule in data["job_fixed_s"]:
            variable = r.estimate.seconds - data["job_fixed_s"][rule]
            by_rule.setdefault(rule, []).append(r.cpu_s * speed - variable)
    for rule, fixed in by_rule.items():
        data["job_fixed_s"][rule] = round(max(sum(fixed) / len(fixed), 0.0), 2)
    CONSTANTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"fixed costs written to {CONSTANTS_FILE}")


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
