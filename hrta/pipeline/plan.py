"""Plan a pipeline run before running it: every job's estimated time and memory, per rule.

    python -m hrta.plan config/paper.yaml                   # markdown table on stdout
    python -m hrta.plan config/config.yaml --cores 2 8 64   # wall time on these core counts

Nothing is executed. The jobs come from the workflow's own DAG: ``snakemake --dag`` (jobs and their
dependencies) and ``snakemake --dry-run`` (each job's threads), run in an empty temporary directory
so that every job of the config is listed, with ``HRTA_PLAN=1`` so that the resource caps
(resources.max_mem_mb, max_runtime) are reported here instead of stopping the dry run. Each job's
estimate is hrta.pipeline.estimates.estimate_job (the same function that sets the rules' requests), from the
config validated and completed by the workflow's schema. Takes a few seconds.

Reported per rule: jobs, estimated time and memory per job (range), CPU-hours (Σ one-thread time: the
work; a job with threads > 1 holds that many cores for its time),
the request per job (hrta.pipeline.job_requests), then the total, the wall time on N cores and the
longest single job. Wall time: list scheduling over the DAG (a job starts when its inputs are done
and min(threads, N) cores are free; longest-path-first), with each job's one-thread estimate as its
duration whatever its threads (no speed-up from threads is assumed: an upper bound).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .cluster import format_duration, job_requests, request_settings, resolve_memory_cap
from .config_schema import validate_config
from .estimates import JobEstimate, estimate_job
from .lint import config_warnings
from .memory import format_mb
from .runtime import CALIBRATION_MACHINE

__all__ = [
    "DEFAULT_CORES",
    "Job",
    "Measured",
    "REPO",
    "SCHEMA",
    "SNAKEFILE",
    "comparison_table",
    "complete_wildcards",
    "load_config",
    "main",
    "measure_run",
    "parse_dag",
    "parse_threads",
    "plan_jobs",
    "render",
    "wall_time",
]

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "Snakefile"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_CORES = (1, 2, 8, 32, 128)


@dataclass
class Job:
    """One job of the DAG: rule, wildcards, threads, the jobs it waits for, and its estimate."""

    id: str
    rule: str
    wildcards: dict[str, str]
    threads: int = 1
    deps: list[str] = field(default_factory=list)
    estimate: JobEstimate | None = None


def load_config(path: str | os.PathLike) -> dict:
    """The config as the workflow sees it: YAML validated by the schema, defaults filled in
    (hrta.pipeline.config_schema.validate_config, as the workflow validates it)."""
    import yaml  # noqa: PLC0415

    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return validate_config(config, SCHEMA)


def _snakemake(configfile: Path, workdir: Path, *args: str) -> str:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    cmd += ["--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--configfile", str(configfile)]
    cmd += ["--cores", "4096", *args]  # many cores: Snakemake caps each job's threads at --cores
    env = dict(os.environ, HRTA_PLAN="1")
    result = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(
            f"snakemake {' '.join(args)} failed for {configfile}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


_NODE = re.compile(r'^\s*(\d+)\[label = "([^"]*)"', re.MULTILINE)
_EDGE = re.compile(r"^\s*(\d+) -> (\d+)", re.MULTILINE)


def parse_dag(dot: str, known: set[tuple[str, tuple]] | None = None) -> dict[str, Job]:
    """Jobs and dependencies from ``snakemake --dag`` (labels "rule\\nkey: value\\n...").

    Snakemake labels a job only with the wildcards that none of its dependencies has with the same value
    (DAG.new_wildcards): claims_score (exp, cell, seed) after claims_tune (exp, cell) shows only its seed. With
    ``known``, the (rule, sorted wildcard items) of every job (parse_threads of the dry run), each job gets its
    whole wildcards back (complete_wildcards)."""
    jobs = {}
    for jid, label in _NODE.findall(dot):
        rule, *pairs = label.split("\\n")
        wildcards = dict(p.split(": ", 1) for p in pairs)
        jobs[jid] = Job(jid, rule, wildcards)
    for src, dst in _EDGE.findall(dot):
        jobs[dst].deps.append(src)
    if known is not None:
        complete_wildcards(jobs, known)
    return jobs


def complete_wildcards(jobs: Mapping[str, Job], known: set[tuple[str, tuple]]) -> None:
    """Give each job of parse_dag its whole wildcards: the one job of its rule in ``known`` whose wildcards contain
    the label's and whose other wildcards each equal one of its dependencies' (completed first); a rule the dry run
    does not list (a local rule) keeps its label's. ValueError when none or several fit."""
    by_rule: dict[str, list[dict[str, str]]] = defaultdict(list)
    for rule, items in known:
        by_rule[rule].append(dict(items))
    done: set[str] = set()

    def complete(jid: str) -> None:
        stack = [jid]
        while stack:
            top = stack[-1]
            pending = [d for d in jobs[top].deps if d not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if top in done:
                continue
            job = jobs[top]
            done.add(top)
            if job.rule not in by_rule:  # not in the dry run's rule blocks (a local rule such as `all`): as shown
                continue
            shown = set(job.wildcards.items())
            inherited = {item for d in job.deps for item in jobs[d].wildcards.items()}
            fits = [wc for wc in by_rule[job.rule] if shown <= set(wc.items()) <= shown | inherited]
            if len(fits) != 1:
                raise ValueError(
                    f"cannot tell the wildcards of DAG job {top} (rule {job.rule}, shown {job.wildcards}): "
                    f"{len(fits)} jobs of the dry run fit"
                )
            job.wildcards = fits[0]

    for jid in jobs:
        complete(jid)


def parse_threads(dry_run: str) -> dict[tuple[str, tuple], int]:
    """{(rule, sorted wildcards): threads} from ``snakemake --dry-run`` (threads 1 is not printed)."""
    threads = {}
    for block in re.split(r"\n(?=rule \S+:\n)", dry_run):
        head = re.match(r"rule (\S+):\n", block)
        if not head:
            continue
        wc = re.search(r"^\s+wildcards: (.*)$", block, re.MULTILINE)
        pairs = dict(p.split("=", 1) for p in wc.group(1).split(", ")) if wc else {}
        th = re.search(r"^\s+threads: (\d+)", block, re.MULTILINE)
        threads[(head.group(1), tuple(sorted(pairs.items())))] = int(th.group(1)) if th else 1
    return threads


def plan_jobs(configfile: str | os.PathLike) -> tuple[dict, dict[str, Job], list[str]]:
    """(config, jobs with estimates, warnings) of a config; runs only snakemake's DAG and dry run."""
    configfile = Path(configfile).resolve()
    config = load_config(configfile)
    with tempfile.TemporaryDirectory(prefix="hrta-plan-") as tmp:
        threads = parse_threads(_snakemake(configfile, Path(tmp), "--dry-run"))
        jobs = parse_dag(_snakemake(configfile, Path(tmp), "--dag"), known=set(threads))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for job in jobs.values():
            job.threads = threads.get((job.rule, tuple(sorted(job.wildcards.items()))), 1)
            job.estimate = estimate_job(job.rule, job.wildcards, config)
    # the workflow's own warnings (workflow/rules/common.smk prints the same in a dry run)
    messages = sorted({str(w.message) for w in caught} | set(config_warnings(config)))
    return config, jobs, messages


def wall_time(jobs: Mapping[str, Job], cores: int) -> float:
    """Seconds to run the DAG on ``cores`` cores: list scheduling, longest remaining path first."""
    children = defaultdict(list)
    for job in jobs.values():
        for dep in job.deps:
            children[dep].append(job.id)
    tail: dict[str, float] = {}

    def longest(jid: str) -> float:  # the job plus its longest chain of dependants
        if jid not in tail:
            tail[jid] = jobs[jid].estimate.seconds + max((longest(c) for c in children[jid]), default=0.0)
        return tail[jid]

    sys.setrecursionlimit(max(10_000, 4 * len(jobs)))
    waiting = {jid: len(job.deps) for jid, job in jobs.items()}
    ready = [(-longest(jid), jid) for jid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    running: list[tuple[float, str, int]] = []
    now, free = 0.0, cores
    while ready or running:
        blocked = []
        while ready:
            prio, jid = heapq.heappop(ready)
            need = min(jobs[jid].threads, cores)
            if need <= free:
                free -= need
                heapq.heappush(running, (now + jobs[jid].estimate.seconds, jid, need))
            else:
                blocked.append((prio, jid))
        for item in blocked:
            heapq.heappush(ready, item)
        now, jid, need = heapq.heappop(running)
        free += need
        for child in children[jid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (-longest(child), child))
    return now


def _span(values: Sequence[float], fmt) -> str:
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} – {fmt(hi)}"


def _minutes(value: float) -> str:
    return format_duration(60 * value)


def render(
    configfile: str,
    config: dict,
    jobs: Mapping[str, Job],
    messages: Sequence[str],
    cores: Sequence[int],
    seconds: float,
    top: int = 0,
) -> str:
    """The plan as markdown; with ``top`` > 0 also the ``top`` longest jobs, each with its share of the run's
    CPU-seconds (a job holding a large share bounds the wall time on any number of cores)."""
    resources = request_settings(config.get("resources"))
    by_rule: dict[str, list[Job]] = defaultdict(list)
    for job in jobs.values():
        if job.rule != "all":
            by_rule[job.rule].append(job)
    order = sorted(by_rule, key=lambda r: -sum(j.estimate.seconds for j in by_rule[r]))
    lines = [
        f"- Plan for `{configfile}`: {sum(len(v) for v in by_rule.values())} jobs, {len(by_rule)} rules "
        f"(from the workflow's DAG in {seconds:.1f} s; nothing was run).",
        f"- Estimates: hrta.pipeline, one thread on {CALIBRATION_MACHINE}.",
        f"- Requests: runtime × {resources['runtime_factor']:g} (≥ {resources['min_runtime']} min), memory × "
        f"{resources['mem_factor']:g} (≥ {resources['min_mem_mb']} MB); device: {config.get('device', 'cpu')} "
        "(the estimates are CPU times).",
        "",
        "| rule | jobs | threads | time per job | memory per job | CPU-hours | request per job (runtime, mem_mb) |",
        "|---|---:|---:|---|---|---:|---|",
    ]
    total_cpu = 0.0
    for rule in order:
        group = by_rule[rule]
        cpu_h = sum(j.estimate.seconds for j in group) / 3600
        total_cpu += cpu_h
        requests = [job_requests(j.estimate, resources) for j in group]
        unknown = "" if all(j.estimate.known for j in group) else " (no estimator: default)"
        lines.append(
            f"| {rule}{unknown} | {len(group)} | {_span([j.threads for j in group], str)} | "
            f"{_span([j.estimate.seconds for j in group], format_duration)} | "
            f"{_span([j.estimate.mem_mb for j in group], format_mb)} | {cpu_h:.2f} | "
            f"{_span([r[0] for r in requests], _minutes)}, {_span([r[1] for r in requests], format_mb)} |"
        )
    lines.append(f"| **total** | {sum(len(v) for v in by_rule.values())} | | | | **{total_cpu:.2f}** | |")
    lines.append("")
    walls = ", ".join(f"{n} core{'s' if n > 1 else ''} {format_duration(wall_time(jobs, n))}" for n in cores)
    lines.append(f"- Wall time (DAG list scheduling, no speed-up from threads): {walls}.")
    longest = max((j for j in jobs.values()), key=lambda j: j.estimate.seconds)
    total_s = sum(j.estimate.seconds for j in jobs.values())
    lines.append(
        f"- Longest single job: {longest.estimate.describe()}: {format_duration(longest.estimate.seconds)} "
        f"({100 * longest.estimate.seconds / total_s:.1f} % of the run's CPU-seconds), "
        f"{format_mb(longest.estimate.mem_mb)}; largest memory: "
        + (lambda j: f"{j.estimate.describe()}: {format_mb(j.estimate.mem_mb)}.")(
            max(jobs.values(), key=lambda j: j.estimate.mem_mb)
        )
    )
    cap = resources["max_mem_mb"]
    cap_mb = resolve_memory_cap(cap)
    over_mem = [j for j in jobs.values() if cap_mb is not None and j.estimate.mem_mb > cap_mb]
    max_rt = resources["max_runtime"]
    over_time = [j for j in jobs.values() if max_rt is not None and j.estimate.seconds > 60 * max_rt]
    if over_mem:
        where = " (auto: this machine's available memory)" if cap == "auto" else ""
        lines.append(
            f"- Over resources.max_mem_mb = {format_mb(cap_mb)}{where}: {len(over_mem)} job(s), e.g. "
            f"{over_mem[0].estimate.describe()} ({format_mb(over_mem[0].estimate.mem_mb)})."
        )
    if over_time:
        lines.append(
            f"- Over resources.max_runtime = {max_rt} min: {len(over_time)} job(s), e.g. "
            f"{over_time[0].estimate.describe()} ({format_duration(over_time[0].estimate.seconds)})."
        )
    for message in messages:
        lines.append(f"- Warning: {message}")
    if top > 0:
        lines += ["", "| job | time | share of the CPU-seconds |", "|---|---:|---:|"]
        for job in sorted(jobs.values(), key=lambda j: -j.estimate.seconds)[:top]:
            share = 100 * job.estimate.seconds / total_s
            lines.append(f"| {job.estimate.describe()} | {format_duration(job.estimate.seconds)} | {share:.1f} % |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# estimates against a finished run (tests/test_plan.py on the smoke run; benchmarks/runtime_check.py)

_RESOURCES_LINE = re.compile(r"job resources: wall ([\d.]+) s, CPU ([\d.]+) s, peak RSS ([\d.]+) MB")


@dataclass
class Measured:
    """One job of a finished run: its estimate and what it used (hrta.io.job_logger's last log line:
    CPU seconds of the job's script process and its children, wall seconds, peak RSS; and the wall
    seconds of its `benchmark:` file when the rule has one)."""

    rule: str
    wildcards: dict[str, str]
    estimate: JobEstimate
    cpu_s: float | None
    wall_s: float | None
    rss_mb: float | None
    benchmark_s: float | None

    @property
    def ratio(self) -> float | None:
        """estimate / measured CPU time (None when the job logged no resource line)."""
        return None if not self.cpu_s else self.estimate.seconds / self.cpu_s


#: Agreement targets of a run's estimates (benchmarks/runtime_check.py, tests/test_plan.py): every job within
#: JOB_TARGET× and the run's total within TOTAL_TARGET× after dividing out the host's speed, and that speed
#: within HOST_TARGET× of the calibration machine's. The same job on this 2-core host measured 7.3 and 16.1
#: CPU-seconds 80 minutes apart on 2026-12-03 (E3, m = 10³, seed 4), so the host's speed alone moves every
#: absolute ratio by up to ≈ 2.2×; the relative ratios test the cost models, the speed the calibration.
JOB_TARGET, TOTAL_TARGET, HOST_TARGET = 2.0, 1.5, 3.0


class RatioSummary(NamedTuple):
    """host_speed: the median over the jobs of estimate / measured CPU (> 1: the host ran faster than the
    calibration machine); total: Σ estimates / Σ measured; off: the jobs whose ratio / host_speed lies outside
    JOB_TARGET×, as "job: ×relative"; relative_total: total / host_speed."""

    host_speed: float
    total: float
    relative_total: float
    off: list[str]

    def passes(self) -> bool:
        return (
            not self.off
            and 1 / TOTAL_TARGET <= self.relative_total <= TOTAL_TARGET
            and 1 / HOST_TARGET <= self.host_speed <= HOST_TARGET
        )


def summarize_ratios(rows: Sequence[Measured]) -> RatioSummary:
    """The agreement of a finished run's measured jobs (those with a CPU time) with their estimates."""
    done = [r for r in rows if r.cpu_s]
    if not done:
        raise ValueError("no measured job: every log lacks its 'job resources' line")
    speed = statistics.median(r.ratio for r in done)
    total = sum(r.estimate.seconds for r in done) / sum(r.cpu_s for r in done)
    off = [
        f"{r.estimate.describe()}: ×{r.ratio / speed:.2f}"
        for r in sorted(done, key=lambda r: r.ratio)
        if not 1 / JOB_TARGET <= r.ratio / speed <= JOB_TARGET
    ]
    return RatioSummary(speed, total, total / speed, off)


def _job_blocks(dry_run: str):
    for block in re.split(r"\n(?=(?:local)?rule \S+:\n)", dry_run):
        head = re.match(r"(?:local)?rule (\S+):\n", block)
        if not head:
            continue
        fields = dict(re.findall(r"^\s+(\w+): (.*)$", block, re.MULTILINE))
        wc = dict(p.split("=", 1) for p in fields["wildcards"].split(", ")) if "wildcards" in fields else {}
        yield head.group(1), wc, fields


def measure_run(workdir: str | os.PathLike, configfile: str | os.PathLike) -> list[Measured]:
    """Every job of a finished run in ``workdir`` with its estimate and its measured use. The jobs,
    their log and benchmark files come from ``snakemake --dry-run --forceall`` in that directory."""
    workdir, configfile = Path(workdir).resolve(), Path(configfile).resolve()
    config = load_config(configfile)
    rows = []
    for rule, wc, fields in _job_blocks(_snakemake(configfile, workdir, "--dry-run", "--forceall")):
        if rule == "all":
            continue
        cpu = wall = rss = bench = None
        log = workdir / fields["log"].split(",")[0].strip() if "log" in fields else None
        if log is not None and log.is_file():
            found = _RESOURCES_LINE.findall(log.read_text(encoding="utf-8", errors="replace"))
            if found:
                wall, cpu, rss = map(float, found[-1])
        if "benchmark" in fields and (workdir / fields["benchmark"]).is_file():
            lines = (workdir / fields["benchmark"]).read_text().splitlines()
            with contextlib.suppress(IndexError, ValueError):
                bench = float(lines[-1].split("\t")[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimate = estimate_job(rule, wc, config)
        rows.append(Measured(rule, wc, estimate, cpu, wall, rss, bench))
    return rows


def comparison_table(rows: Sequence[Measured]) -> str:
    """Markdown: each job's estimate next to its measured CPU and wall times, then the totals."""
    lines = [
        "| job | estimate | measured CPU | ratio | wall (log) | wall (benchmark file) | peak RSS / estimate |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r.rule, sorted(r.wildcards.items()))):
        fmt = lambda v, unit=" s": "–" if v is None else f"{v:.2f}{unit}"  # noqa: E731
        rss = "–" if r.rss_mb is None else f"{r.rss_mb:.0f} / {r.estimate.mem_mb:.0f} MB"
        lines.append(
            f"| {r.estimate.describe()} | {r.estimate.seconds:.2f} s | {fmt(r.cpu_s)} | "
            f"{fmt(r.ratio, '')} | {fmt(r.wall_s)} | {fmt(r.benchmark_s)} | {rss} |"
        )
    done = [r for r in rows if r.cpu_s]
    est, cpu = sum(r.estimate.seconds for r in done), sum(r.cpu_s for r in done)
    wall = sum(r.wall_s for r in done if r.wall_s)
    lines.append(
        f"| **total ({len(done)} jobs)** | **{est:.1f} s** | **{cpu:.1f} s** | **{est / cpu:.2f}** | {wall:.1f} s | | |"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m hrta.plan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("configfile", help="a pipeline config, e.g. config/paper.yaml")
    ap.add_argument("--cores", type=int, nargs="+", default=list(DEFAULT_CORES), help="core counts for the wall time")
    ap.add_argument("--jobs", type=int, default=0, metavar="K", help="also list the K longest jobs and their shares")
    args = ap.parse_args(argv)
    if not Path(args.configfile).is_file():
        ap.error(f"no such config file: {args.configfile}")
    if any(n < 1 for n in args.cores):
        ap.error("--cores must be positive integers")
    start = time.perf_counter()
    config, jobs, messages = plan_jobs(args.configfile)
    if args.jobs < 0:
        ap.error("--jobs must be 0 or more")
    print(render(args.configfile, config, jobs, messages, args.cores, time.perf_counter() - start, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
