"""hrta.plan: the plan of a config from the workflow's DAG, its wall-time scheduler, and the runtime
estimates (hrta.pipeline) against what the smoke run's jobs measured."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from conftest import CONFIGS, run_snakemake

from hrta.pipeline.estimates import JobEstimate
from hrta.pipeline.plan import (
    HOST_TARGET,
    TOTAL_TARGET,
    Job,
    Measured,
    measure_run,
    parse_dag,
    plan_jobs,
    summarize_ratios,
    wall_time,
)


def _job(jid, seconds, deps=(), threads=1):
    job = Job(jid, f"r{jid}", {}, threads=threads, deps=list(deps))
    job.estimate = JobEstimate(job.rule, {}, float(seconds), 1.0)
    return job


def _dag(*jobs):
    return {j.id: j for j in jobs}


def test_wall_time_by_hand():
    """The list scheduler against schedules worked out by hand (the reference)."""
    independent = _dag(*(_job(str(i), 1.0) for i in range(4)))
    assert wall_time(independent, 1) == 4.0
    assert wall_time(independent, 2) == 2.0
    assert wall_time(independent, 8) == 1.0
    chain = _dag(_job("a", 1.0), _job("b", 2.0, ["a"]), _job("c", 3.0, ["b"]))
    assert wall_time(chain, 1) == wall_time(chain, 64) == 6.0
    # longest path first: the 5-s chain head starts at once, the short jobs fill the other core
    mixed = _dag(_job("long", 3.0), _job("tail", 2.0, ["long"]), _job("s1", 1.0), _job("s2", 1.0), _job("s3", 1.0))
    assert wall_time(mixed, 2) == 5.0
    # a 2-thread job waits for two free cores
    threads = _dag(_job("x", 1.0), _job("y", 1.0, threads=2))
    assert wall_time(threads, 2) == 2.0
    assert wall_time(threads, 1) == 2.0  # threads are capped at the core count


def test_parse_dag_reads_rules_wildcards_and_edges():
    dot = (
        "digraph snakemake_dag {\n"
        '\t0[label = "all", color = "0.00 0.6 0.85", style="rounded"];\n'
        '\t1[label = "train\\nexp: e3\\nseed: 0\\nwidth: 100", color = "0.64 0.6 0.85", style="rounded"];\n'
        '\t2[label = "dataset\\ndataset: main", color = "0.11 0.6 0.85", style="rounded"];\n'
        "\t2 -> 1\n\t1 -> 0\n}\n"
    )
    jobs = parse_dag(dot)
    assert jobs["1"].rule == "train" and jobs["1"].wildcards == {"exp": "e3", "seed": "0", "width": "100"}
    assert jobs["1"].deps == ["2"] and jobs["0"].deps == ["1"] and jobs["2"].deps == []


def test_parse_dag_completes_the_wildcards_a_label_leaves_out():
    """Snakemake labels a job only with the wildcards its dependencies lack (claims_score after claims_tune shows
    its seed only; claims_gather after both shows none). Reference: the dry run's full wildcards, written by hand."""
    dot = (
        "digraph snakemake_dag {\n"
        '\t0[label = "all", color = "0.00 0.6 0.85", style="rounded"];\n'
        '\t1[label = "claims_tune\\ncell: gd\\nexp: e6", color = "0.1 0.6 0.85", style="rounded"];\n'
        '\t2[label = "claims_score\\nseed: 1", color = "0.2 0.6 0.85", style="rounded"];\n'
        '\t3[label = "claims_score\\nseed: 2", color = "0.2 0.6 0.85", style="rounded"];\n'
        '\t4[label = "claims_gather", color = "0.3 0.6 0.85", style="rounded"];\n'
        '\t5[label = "claims_tune\\ncell: adam\\nexp: e6", color = "0.1 0.6 0.85", style="rounded"];\n'
        '\t6[label = "claims_score\\nseed: 1", color = "0.2 0.6 0.85", style="rounded"];\n'
        '\t7[label = "claims_gather", color = "0.3 0.6 0.85", style="rounded"];\n'
        "\t1 -> 2\n\t1 -> 3\n\t1 -> 4\n\t2 -> 4\n\t3 -> 4\n\t5 -> 6\n\t5 -> 7\n\t6 -> 7\n\t4 -> 0\n\t7 -> 0\n}\n"
    )

    def job(rule, **wc):
        return rule, tuple(sorted(wc.items()))

    known = {
        job("claims_tune", exp="e6", cell="gd"),
        job("claims_tune", exp="e6", cell="adam"),
        job("claims_score", exp="e6", cell="gd", seed="1"),
        job("claims_score", exp="e6", cell="gd", seed="2"),
        job("claims_score", exp="e6", cell="adam", seed="1"),
        job("claims_gather", exp="e6", cell="gd"),
        job("claims_gather", exp="e6", cell="adam"),
    }
    jobs = parse_dag(dot, known=known)
    assert {(j.rule, tuple(sorted(j.wildcards.items()))) for j in jobs.values() if j.rule != "all"} == known
    assert jobs["6"].wildcards == {"exp": "e6", "cell": "adam", "seed": "1"}
    assert jobs["4"].wildcards == {"exp": "e6", "cell": "gd"} and jobs["0"].wildcards == {}
    with pytest.raises(ValueError, match="2 jobs of the dry run fit"):  # the seed could be the gather's own
        parse_dag(dot, known=known | {job("claims_gather", exp="e6", cell="gd", seed="1")})


def _dry_run_job_counts(result):
    """Job counts per rule from the `Job stats` table of a `snakemake --dry-run` (an independent parse)."""
    assert result.returncode == 0, result.stdout[-3000:]
    table = result.stdout.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smoke", "config", "paper"])
def test_plan_lists_every_job_of_the_dag(name, shipped_dry_run):
    """The plan's jobs (Snakemake's DAG, parse_dag of `snakemake --dag`) are the dry run's, and the jobs that
    hrta.pipeline.jobs.wildcard_jobs (the estimates' list of the run) names; tests/test_jobs.py checks the latter
    on edited configs."""
    from hrta.pipeline.jobs import wildcard_jobs

    config, jobs, messages = plan_jobs(CONFIGS / f"{name}.yaml")
    counts = {}
    for job in jobs.values():
        counts[job.rule] = counts.get(job.rule, 0) + 1
    assert counts == _dry_run_job_counts(shipped_dry_run(name)[1])
    expected = wildcard_jobs(config)
    rules = {rule for rule, _ in expected}
    assert {(j.rule, tuple(sorted(j.wildcards.items()))) for j in jobs.values() if j.rule in rules} == expected
    unknown = sorted({j.rule for j in jobs.values() if not j.estimate.known})
    assert not unknown, f"rules without a runtime/memory estimator in hrta/pipeline/estimates.py: {unknown}"
    # config.yaml trains only some readings' methods in e5/e6 (cost): hrta.pipeline.lint says so, and
    # hrta.plan lists the same warnings as the dry run; nothing else may warn
    from hrta.pipeline.lint import config_warnings

    assert messages == sorted(config_warnings(config))
    assert all(m.startswith("reading '") for m in messages) and (name == "config" or not messages)
    assert all(j.estimate.seconds >= 0 and j.estimate.mem_mb >= 0 for j in jobs.values())
    if name == "config":  # issue 23: the budget, and no job on the critical path of the default run
        from hrta.pipeline.snapshot import BUDGET_CPU_S

        total = sum(j.estimate.seconds for j in jobs.values())  # one-thread CPU-s, as the plan's CPU-hours
        assert total <= BUDGET_CPU_S, f"the default run's estimate {total:.0f} CPU-s exceeds its budget {BUDGET_CPU_S}"
        largest = max(jobs.values(), key=lambda j: j.estimate.seconds)
        assert largest.estimate.seconds <= 0.10 * total, largest.estimate.describe()
        assert wall_time(jobs, 8) <= 1.3 * total / 8


@pytest.mark.slow
def test_plan_command_prints_the_plan_without_running_anything(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hrta.plan", str(CONFIGS / "paper.yaml"), "--cores", "1", "16"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "| train |" in out and "**total**" in out
    assert re.search(r"Wall time .*: 1 core [\d.]+ \w+, 16 cores [\d.]+ \w+\.", out), out
    assert "Longest single job: rule " in out
    assert re.search(r"\| train \| \d+ \| 4 \|", out), out  # paper.yaml: threads.train = 4
    assert list(tmp_path.iterdir()) == []  # nothing written where it ran


@pytest.mark.slow
def test_estimated_request_follows_the_estimate(shipped_dry_run):
    """The rules' requests (dry run) are hrta.pipeline.job_requests of the job's estimate."""
    from hrta.pipeline.cluster import job_requests
    from hrta.pipeline.estimates import estimate_job
    from hrta.pipeline.plan import load_config

    config = load_config(CONFIGS / "paper.yaml")
    _, result = shipped_dry_run("paper")
    assert result.returncode == 0, result.stdout[-3000:]
    block = re.search(
        r"rule train:\n(?:.*\n)*?\s+wildcards: exp=e3, width=100000, seed=0\n(?:.*\n)*?\s+resources: (.*)\n",
        result.stdout,
    )
    assert block, result.stdout[-3000:]
    resources = dict(kv.split("=", 1) for kv in block.group(1).split(", "))
    runtime, mem = job_requests(
        estimate_job("train", {"exp": "e3", "width": "100000", "seed": "0"}, config), config["resources"]
    )
    assert int(resources["runtime"]) == runtime and int(resources["mem_mb"]) == mem


def _write_yaml(config, path):
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.slow
def test_too_wide_network_is_refused_at_the_dry_run(tmp_path):
    """resources.max_mem_mb: auto (the default) refuses, at the dry run, a job that needs more memory than
    this machine has, naming the rule, the wildcards, the estimate, the cap and the key."""
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    config["e3"]["widths"] = [300_000_000]
    result = run_snakemake(tmp_path, "--dry-run", configfile=_write_yaml(config, tmp_path / "wide.yaml"))
    assert result.returncode != 0
    assert re.search(
        r"job refused before it runs: rule train \(exp=e3, width=300000000, seed=\d\) needs ≈ [\d.]+ GB "
        r"\(hrta.pipeline estimate\) > cap [\d.]+ GB \(auto: the memory available where the job runs\); .*"
        r"config key resources\.max_mem_mb",
        result.stdout,
    ), result.stdout[-3000:]
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_too_long_job_is_refused_at_the_dry_run(tmp_path):
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    config["resources"] = {"max_runtime": 1}
    config["e3"]["widths"] = [1_000_000]
    result = run_snakemake(tmp_path, "--dry-run", configfile=_write_yaml(config, tmp_path / "long.yaml"))
    assert result.returncode != 0
    assert re.search(
        r"rule train \(exp=e3, width=1000000, seed=\d\) needs ≈ [\d.]+ \w+ \(hrta.pipeline estimate, one thread "
        r"on the calibration machine\) > cap 1 min; .*config key resources\.max_runtime",
        result.stdout,
    ), result.stdout[-3000:]


@pytest.mark.slow
def test_estimates_match_the_smoke_run(smoke_run):
    """After dividing out the host's speed (the median of estimate / measured over the jobs), every job of the
    smoke run within 2× of its estimate and the run's total within 1.5×; the host's speed within 3× of the
    calibration machine's (hrta.pipeline.plan: JOB_TARGET, TOTAL_TARGET, HOST_TARGET and why).

    Measured: the CPU seconds each job's script used (its log's "job resources" line, hrta.io); for
    a one-thread job on an idle machine that is its wall time, and unlike the wall time it does not
    stretch when other processes share the cores. Every job's log must have that line (none empty)."""
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    rows = measure_run(workdir, CONFIGS / "smoke.yaml")
    missing = [r.estimate.describe() for r in rows if r.cpu_s is None]
    assert not missing, f"jobs whose log has no 'job resources' line: {missing}"
    unknown = sorted({r.rule for r in rows if not r.estimate.known})
    assert not unknown, f"rules without an estimator: {unknown}"
    agreement = summarize_ratios(rows)
    assert not agreement.off, (agreement.host_speed, agreement.off)
    assert 1 / TOTAL_TARGET <= agreement.relative_total <= TOTAL_TARGET, agreement
    assert 1 / HOST_TARGET <= agreement.host_speed <= HOST_TARGET, agreement


def test_ratio_summary_divides_out_the_host_speed():
    """summarize_ratios on made-up runs (the reference: ratios worked out by hand). A host twice as fast as the
    calibration machine halves every measured time: no job is off. One job's model 3× too low is off, whatever
    the host's speed."""

    def run(measured):
        return [
            Measured(f"r{i}", {}, JobEstimate(f"r{i}", {}, e, 1.0), m, m, 1.0, None)
            for i, (e, m) in enumerate(measured)
        ]

    fast = summarize_ratios(run([(10, 5), (2, 1), (4, 2), (6, 3)]))
    assert fast.host_speed == 2 and fast.relative_total == 1 and not fast.off and fast.passes()
    wrong = summarize_ratios(run([(10, 5), (2, 1), (4, 2), (6, 9)]))
    assert wrong.off == ["rule r3: ×0.33"] and not wrong.passes()
    slow = summarize_ratios(run([(10, 40), (2, 8), (4, 16), (6, 24)]))
    assert slow.host_speed == 0.25 and not slow.off and not slow.passes()  # outside HOST_TARGET = 3×
    with pytest.raises(ValueError, match="no measured job"):
        summarize_ratios(run([(1, None)]))


def test_calibration_of_one_operation_group():
    """benchmarks/calibrate_runtime.py --only search --quick times claim 1's search primitives and prints only
    their constants (nothing written without --write); the model with the printed constants reproduces each
    timed primitive's own measurement (the reference) within the misfit it reports, and that misfit is < 100 %."""
    script = CONFIGS.parent / "benchmarks" / "calibrate_runtime.py"
    out = subprocess.run(
        [sys.executable, str(script), "--only", "search", "--quick"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    names = re.findall(r'^    "(\w+)": \{', out.stdout, flags=re.M)
    assert names == ["search_kernel_parts", "search_curve_point"], out.stdout
    misfits = [int(m) for m in re.findall(r"worst relative misfit (\d+)%", out.stdout)]
    assert len(misfits) == 2 and max(misfits) < 100, out.stdout
    assert "written to" not in out.stdout


@pytest.mark.parametrize("module", ["hrta.claims", "hrta.claims.endpoints", "hrta.claims.tuning"])
def test_importing_claims_does_not_load_scipy_stats_or_statsmodels(module):
    """`import hrta.claims` leaves scipy.stats unloaded (≈ 1.4 CPU-s): the per-job fixed costs are measured that
    way, and a module-level import of it (40b41ff) put e4_horizons, table_e3, table_e2_lambda_min and tables_deep
    outside 2× of their estimates in CI. hrta.claims.endpoints and hrta.claims.tuning leave scipy.stats and
    statsmodels unloaded too: a fairness sweep's tune job with the time-to-target criterion uses endpoints' time
    and target helpers, and endpoints' module-level imports of both put the smoke run's e6_regime tune job at ×0.45
    of its estimate after the host speed (a suite run, 2026-12-07). The reference: sys.modules of a fresh
    interpreter."""
    code = f"import sys, {module}; print(any(m in sys.modules for m in ('scipy.stats', 'statsmodels')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_fit_fixed_costs_divides_out_the_host_speed(tmp_path, monkeypatch):
    """benchmarks/runtime_check.py --fit-fixed on a made-up run of a host twice as slow as the calibration
    machine (the reference: worked out by hand): the jobs priced from per-operation constants measure the host
    speed (0.5), and a light rule's measured 2.0 s becomes a fixed cost of 1.0 s, not 2.0 s."""
    import importlib.util  # noqa: PLC0415
    import json  # noqa: PLC0415

    import hrta.pipeline.runtime as runtime  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("runtime_check", CONFIGS.parent / "benchmarks" / "runtime_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    constants = runtime.load_runtime_constants()
    constants["job_fixed_s"] = {"light": 0.3}
    target = tmp_path / "constants.json"
    monkeypatch.setattr(runtime, "CONSTANTS_FILE", target)
    monkeypatch.setattr(runtime, "load_runtime_constants", lambda: json.loads(json.dumps(constants)))

    def row(rule, estimate, cpu):
        return Measured(rule, {}, JobEstimate(rule, {}, estimate, 1.0), cpu, cpu, 1.0, None)

    module.fit_fixed_costs(
        [row("train", 2.0, 4.0), row("train", 3.0, 6.0), row("e2_empirical", 1.0, 2.0)] + [row("light", 0.3, 2.0)]
    )
    assert json.loads(target.read_text())["job_fixed_s"] == {"light": 1.0}


def test_runtime_check_writes_into_the_run_not_the_checkout(tmp_path):
    """benchmarks/runtime_check.py --workdir DIR writes DIR/runtime_check.md and leaves the committed
    benchmarks/runtime_check_<config>.md alone (issue 23: a check after the default run dirtied the checkout);
    only --update-snapshot writes the committed copy. Reference: the paths spelled out, and the committed file's
    bytes before and after."""
    import argparse  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("runtime_check", CONFIGS.parent / "benchmarks" / "runtime_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = CONFIGS.parent / "benchmarks" / "runtime_check_default.md"
    before = committed.read_bytes()

    def path(**kw):
        return module.output_path(
            argparse.Namespace(**{"out": None, "update_snapshot": False, "workdir": None, **kw}), "default"
        )

    assert path(workdir=str(tmp_path)) == tmp_path / "runtime_check.md"
    assert path(out=str(tmp_path / "x.md"), workdir=str(tmp_path)) == tmp_path / "x.md"
    assert path(update_snapshot=True, workdir=str(tmp_path)) == committed
    fresh = path()
    assert fresh.name == "runtime_check_default.md" and CONFIGS.parent not in fresh.parents
    assert fresh.parent.is_dir() and not any(fresh.parent.iterdir())
    fresh.parent.rmdir()
    with pytest.raises(SystemExit, match="exclude each other"):
        path(out="x.md", update_snapshot=True)
    assert committed.read_bytes() == before


@pytest.mark.parametrize("name", ["smoke", "config"])
def test_history_files_count_the_jobs_that_write_them(name):
    """estimates.history_files (the per-file terms of claims_endpoints, table_e3, the E4 rules) against an
    independent count: the jobs of rule train and of claims_sweep / claims_gather in jobs.wildcard_jobs (which
    tests/test_jobs.py checks against Snakemake's DAG), one history file each."""
    from hrta.pipeline import jobs as jobs_module
    from hrta.pipeline.estimates import PER_FILE_S, history_files
    from hrta.pipeline.plan import load_config

    config = load_config(CONFIGS / f"{name}.yaml")
    writers = [
        dict(wc)["exp"]
        for rule, wc in jobs_module.wildcard_jobs(config)
        if rule in ("train", "claims_sweep", "claims_gather")
    ]
    for experiments, _, smoke_files in PER_FILE_S.values():
        experiments = experiments(config) if callable(experiments) else experiments  # claims_endpoints: its sources
        count = sum(writers.count(exp) for exp in experiments)
        assert history_files(config, experiments) == count
        if name == "smoke":
            assert smoke_files == count  # the anchor of each slope is the smoke config as it is
