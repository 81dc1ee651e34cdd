"""Reliability of the pipeline (issue 5): bad data, divergence, interruption (SIGINT/SIGKILL) and
resume, determinism, incrementality, atomic writes.

The reference for byte comparisons is the session `smoke_run` fixture (tests/conftest.py).
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import CONFIGS, SNAKEFILE, run_snakemake, sigint_as_in_a_terminal, snakemake_command

SMOKE = CONFIGS / "smoke.yaml"


def _train_targets(config: dict) -> list[str]:
    """Every E3/E4 training history of ``config`` (widths ≥ wide.min_width train wide.seeds only)."""
    targets = []
    for exp in ("e3", "e4"):
        section, wide = config[exp], config[exp].get("wide") or {}
        for width in section["widths"]:
            seeds = wide.get("seeds", section["seeds"]) if wide and width >= wide["min_width"] else section["seeds"]
            targets += [f"data/train/{exp}/w{width}_seed{seed}.csv" for seed in seeds]
    return targets


TRAIN_TARGETS = _train_targets(yaml.safe_load(SMOKE.read_text()))


def _write_config(path: Path, edit=None) -> Path:
    config = yaml.safe_load(SMOKE.read_text())
    if edit is not None:
        edit(config)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def _tables(root: Path, pattern_dirs=("data", "figures/tables")) -> dict[str, bytes]:
    """Every visible CSV under data/ and figures/tables/: {relative path: bytes}."""
    out = {}
    for sub in pattern_dirs:
        for path in sorted((root / sub).rglob("*.csv")):
            if not any(part.startswith(".") for part in path.relative_to(root).parts):
                out[str(path.relative_to(root))] = path.read_bytes()
    return out


def _copy_workdir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True, copy_function=shutil.copy2)
    return dst


def _ok(smoke_run):
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    return workdir


def _targets(*targets: str) -> list[str]:
    """Targets after run_snakemake's `--configfile FILE` (which takes several values): a one-value
    option first ends that list."""
    return ["--cores", "2", *targets]


def _job_counts(stdout: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stdout, re.M) if m.group(1) != "total"}


# ------------------------------------------------------------------------------------------------
# atomic writes


def test_atomic_writes_get_ordinary_permissions_and_leave_nothing_on_failure(tmp_path):
    from hrta.io import atomic_path, write_csv, write_text

    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x\n")
        write_csv(pd.DataFrame({"a": [1.5]}), tmp_path / "b.csv")
        for name in ("a.txt", "b.csv"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
        os.umask(0o077)
        write_text(tmp_path / "c.txt", "x\n")
        assert (tmp_path / "c.txt").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
    (tmp_path / "d.csv").write_text("old\n")
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "d.csv") as tmp:
        tmp.write_text("half a fi")
        raise KeyboardInterrupt
    assert (tmp_path / "d.csv").read_text() == "old\n"  # untouched under its final name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.csv", "c.txt", "d.csv"]  # no temporaries


@pytest.mark.slow
def test_pipeline_outputs_have_ordinary_permissions(smoke_run):
    workdir = _ok(smoke_run)
    files = [p for p in (workdir / "data").rglob("*") if p.is_file()] + [
        p for p in (workdir / "figures").rglob("*") if p.is_file()
    ]
    assert files
    mask = os.umask(0o022)
    os.umask(mask)
    wrong = [p for p in files if p.stat().st_mode & 0o777 != 0o666 & ~mask]
    assert not wrong, wrong


# ------------------------------------------------------------------------------------------------
# bad data


def _corrupt(path: Path, kind: str) -> str:
    """Rewrite the dataset .npz with one defect; returns the message the train job must print."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    if kind == "nan":
        arrays["X_train"] = arrays["X_train"].copy()
        arrays["X_train"][3, 0] = np.nan
        arrays["y_test"] = arrays["y_test"].copy()
        arrays["y_test"][0] = np.inf
        expected = r"array 'X_train' has 1 non-finite value\(s\) \(NaN or inf\)"
    elif kind == "shape":
        arrays["y_train"] = arrays["y_train"].reshape(-1, 1)
        expected = r"y_train must be 1-D \(n,\), got shape \(20, 1\)"
    elif kind == "missing":
        del arrays["X_test"]
        expected = r"missing array\(s\) X_test"
    else:  # truncated file
        path.write_bytes(path.read_bytes()[:100])
        return r"(unreadable \.npz|not an \.npz archive)"
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return expected


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nan", "shape", "missing", "truncated"])
def test_bad_dataset_file_is_rejected_with_its_name_and_problem(smoke_run, tmp_path, kind):
    """A corrupted data/datasets/main.npz: the train job fails, its error names the file and the
    defect, and it writes no output."""
    workdir = _ok(smoke_run)
    dataset = tmp_path / "data" / "datasets" / "main.npz"
    dataset.parent.mkdir(parents=True)
    shutil.copy2(workdir / "data" / "datasets" / "main.npz", dataset)
    expected = _corrupt(dataset, kind)
    target = "data/train/e4/w50_seed0.csv"
    result = run_snakemake(tmp_path, *_targets(target), "--allowed-rules", "train", configfile=SMOKE)
    assert result.returncode != 0, result.stdout[-3000:]
    message = r"DataError: data file '[^']*data/datasets/main\.npz': " + expected
    assert re.search(message, result.stdout), result.stdout[-3000:]
    assert re.search(message, (tmp_path / "logs" / "train" / "e4" / "w50_seed0.log").read_text())
    assert not (tmp_path / target).exists()


# ------------------------------------------------------------------------------------------------
# divergence


def _huge_lr(config):
    config["e3"]["optimizers"]["gd"]["lr"] = 1.0e4  # lr·λ_max ≫ 2: GD blows up in a few steps
    config["e4"]["optimizers"]["gd"]["lr"] = 1.0e4
    config["e4"]["widths"], config["e4"]["seeds"] = [50], [0]


@pytest.mark.slow
def test_diverged_runs_are_recorded_and_marked(tmp_path):
    config = _write_config(tmp_path / "diverge.yaml", _huge_lr)
    targets = [
        "figures/tables/e3_loss_at_budget.csv",
        "figures/e3_loss.png",
        "figures/tables/e4_rates.csv",
        "figures/e4_rates.png",
    ]
    result = run_snakemake(tmp_path, *_targets(*targets), configfile=config)
    assert result.returncode == 0, result.stdout[-5000:]
    runs = pd.concat(pd.read_csv(p) for p in sorted((tmp_path / "data" / "train").glob("*/*_runs.csv")))
    assert set(runs.status) == {"ok", "diverged"}
    assert (runs[runs.optimizer == "adam"].status == "ok").all()
    # HRTA schedules start at s = 0.5/1.5 (near-linear): GD blows up; ReLU GD may instead kill every unit
    diverged = runs[runs.status == "diverged"]
    assert set(diverged[diverged.width == 100].method) >= {"hrta_0.5", "hrta_1.5", "relax"}
    assert (diverged.steps_done < 60).all()
    history = pd.read_csv(tmp_path / "data" / "train" / "e3" / "w100_seed0.csv")
    run = history[(history.optimizer == "gd") & (history.method == "hrta_0.5")]
    assert run.step.max() < 60  # truncated at the divergence
    # tables: counted in n_diverged, marked in the Markdown, no inf anywhere
    budget = pd.read_csv(tmp_path / "figures" / "tables" / "e3_loss_at_budget.csv")
    e3_runs = runs[runs.width == 100]
    for r in budget.itertuples():
        sel = e3_runs[(e3_runs.optimizer == r.optimizer) & (e3_runs.method == r.method)]
        assert r.n_diverged == (sel.status == "diverged").sum(), r
    assert not np.isinf(budget.select_dtypes("number").to_numpy(float)).any()
    md = (tmp_path / "figures" / "tables" / "e3_loss_at_budget.md").read_text()
    assert "(2/2 diverged)" in md
    tol_md = (tmp_path / "figures" / "tables" / "e3_steps_to_tolerance.md").read_text()
    assert "(2/2 diverged)" in tol_md
    rates = pd.read_csv(tmp_path / "data" / "e4" / "rates.csv")
    e4_runs = runs[runs.width == 50].set_index("method").status
    assert (rates.status == rates.method.map(e4_runs)).all()
    assert rates[rates.status == "diverged"].measured_rate.isna().all() and (rates.status == "diverged").any()
    e4_table = pd.read_csv(tmp_path / "figures" / "tables" / "e4_rates.csv")
    assert (e4_table.n_diverged > 0).any()
    assert "| diverged |" in (tmp_path / "figures" / "tables" / "e4_rates.md").read_text()
    for name in ("e3_loss", "e4_rates", "e4_curves"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 1000
    assert "diverged" in (tmp_path / "logs" / "train" / "e3" / "w100_seed0.log").read_text()


# ------------------------------------------------------------------------------------------------
# interruption and resume


def _checkpoints(workdir: Path) -> list[Path]:
    return (
        sorted((workdir / "data" / "checkpoints").rglob("*.pt")) if (workdir / "data" / "checkpoints").exists() else []
    )


# The interruption tests start from a copy of the shared smoke run with these jobs' outputs removed: the
# two E3 jobs (12 runs each, run side by side on the 2 cores, so both are interrupted) and the wide float32
# E4 job. Re-training everything from scratch tested nothing more and took several times as long.
RESUME_TARGETS = ["data/train/e3/w100_seed0.csv", "data/train/e3/w100_seed1.csv", "data/train/e4/w400_seed0.csv"]


def _remove_train_outputs(work: Path, targets: list[str]) -> None:
    """Delete what the train jobs of ``targets`` wrote (history, runs table, log, provenance)."""
    for target in targets:
        exp, name = Path(target).parent.name, Path(target).stem
        for path in (
            work / target,
            work / target.replace(".csv", "_runs.csv"),
            work / "logs" / "train" / exp / f"{name}.log",
            work / "data" / "provenance" / (target + ".json"),
            work / "data" / "provenance" / (target.replace(".csv", "_runs.csv") + ".json"),
        ):
            path.unlink(missing_ok=True)
        assert not (work / target).exists()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_training_resumes_to_identical_results(smoke_run, tmp_path, sig):
    """Interrupt the training jobs once a checkpoint exists (SIGINT = Ctrl-C to the process group;
    SIGKILL = the whole group dies at once), check that nothing is left half-written under a final
    name, re-run to completion, and compare every CSV byte for byte with the smoke run."""
    assert set(RESUME_TARGETS) <= set(TRAIN_TARGETS)
    reference = _ok(smoke_run)
    config = _write_config(tmp_path / "ckpt.yaml", lambda c: c.update(checkpoint_every=1))  # checkpoint every step
    work = _copy_workdir(reference, tmp_path / "work")
    _remove_train_outputs(work, RESUME_TARGETS)
    cmd = snakemake_command() + [
        "--snakefile",
        str(SNAKEFILE),
        "--directory",
        str(work),
        "--cores",
        "2",
        *RESUME_TARGETS,
        "--configfile",
        str(config),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=dict(os.environ, PYTHONHASHSEED="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=sigint_as_in_a_terminal,
    )
    deadline = time.monotonic() + 120
    while not _checkpoints(work) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before a checkpoint was seen:\n" + proc.stdout.read()[-3000:]
    time.sleep(0.3)  # well into the run
    while not _checkpoints(work) and proc.poll() is None:  # (between two runs of a job: wait for the next)
        time.sleep(0.01)
    assert proc.poll() is None, "training finished before the interruption:\n" + proc.stdout.read()[-3000:]
    os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out[-3000:]
    left = _checkpoints(work)
    assert left, "no checkpoint survived the interruption"
    # nothing half-written under a final name: every visible CSV that exists is complete
    ref_tables = _tables(reference)
    partial = _tables(work)
    for name, data in partial.items():
        assert data == ref_tables[name], f"{name} differs after the interruption"

    args = ["--rerun-incomplete", *_targets(*RESUME_TARGETS)]
    if sig == signal.SIGKILL:  # the killed Snakemake left its lock behind
        unlock = run_snakemake(work, "--unlock", configfile=config)
        assert unlock.returncode == 0, unlock.stdout[-3000:]
    again = run_snakemake(work, *args, configfile=config)
    assert again.returncode == 0, again.stdout[-5000:]
    logs = "".join(p.read_text() for p in (work / "logs" / "train").rglob("*.log"))
    assert "resuming from checkpoint" in logs
    assert not _checkpoints(work), "checkpoints must be removed when their runs end"
    done = _tables(work)
    assert set(done) == set(ref_tables), sorted(set(done) ^ set(ref_tables))
    for name in ref_tables:
        assert done[name] == ref_tables[name], f"{name} differs from the uninterrupted run"


@pytest.mark.slow
def test_unusable_checkpoint_is_discarded_and_the_run_restarts(smoke_run, tmp_path):
    """A checkpoint that cannot be resumed (garbage, or left by another configuration) is discarded
    with a warning in the job log; the run restarts from step 0 and gives the reference result."""
    reference = _ok(smoke_run)
    dataset = tmp_path / "data" / "datasets" / "main.npz"
    dataset.parent.mkdir(parents=True)
    shutil.copy2(reference / "data" / "datasets" / "main.npz", dataset)
    stale = tmp_path / "data" / "checkpoints" / "train" / "e4" / "w50_seed0" / "relu__gd.pt"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not a checkpoint")
    target = "data/train/e4/w50_seed0.csv"
    result = run_snakemake(tmp_path, *_targets(target), "--allowed-rules", "train", configfile=SMOKE)
    assert result.returncode == 0, result.stdout[-3000:]
    log = (tmp_path / "logs" / "train" / "e4" / "w50_seed0.log").read_text()
    assert re.search(
        r"WARNING checkpoint file '.*relu__gd\.pt' is unreadable .*; discarding it and restarting the run", log, re.S
    ), log
    assert not stale.exists()
    for name in (target, target.replace(".csv", "_runs.csv")):
        assert (tmp_path / name).read_bytes() == (reference / name).read_bytes(), name


# ------------------------------------------------------------------------------------------------
# determinism


def _npz_arrays(path: Path) -> dict[str, tuple[str, tuple, bytes]]:
    """The arrays of an .npz as {name: (dtype, shape, bytes)}: np.savez stamps each zip member with the time of
    writing, so two writes of the same arrays differ as files."""
    with np.load(path) as z:
        return {k: (z[k].dtype.str, z[k].shape, z[k].tobytes()) for k in z.files}


def _job_kind(rule: str, path: str, config: dict) -> tuple:
    """What a job exercises beyond its rule: its experiment (data/train/EXP/..., data/claims/EXP/...), whether a
    training or theory job takes the wide float32 path (width >= the experiment's wide.min_width), the kind of an
    E5 model (two_layer or deep), the data set of a dataset job."""
    parts = Path(path).parts
    width = re.search(r"(?:^|_)w(\d+)", Path(path).stem)
    if rule == "dataset":
        return (rule, Path(path).stem)
    if rule == "e4_theory":
        return (rule, int(width.group(1)) >= config["e4"]["wide"]["min_width"])
    if parts[:2] == ("data", "train"):
        wide = config[parts[2]].get("wide") or {}
        return (rule, parts[2], bool(wide) and int(width.group(1)) >= wide["min_width"])
    if parts[:2] == ("data", "claims") and len(parts) > 3:
        models = config[parts[2]].get("models") or {}
        model = next((m for m in models if Path(path).stem.startswith(f"{m}_")), None)
        return (rule, parts[2], models[model]["kind"] if model else None)
    return (rule,)


def _representative_jobs(workdir: Path, config: dict) -> dict[tuple, str]:
    """One output file (the last in path order) of one job per kind (_job_kind) of every rule that writes a CSV
    under data/ or figures/tables/ or a data set, by the rule its provenance record names: {kind: path}."""
    files = sorted(
        [*_tables(workdir), *(str(p.relative_to(workdir)) for p in (workdir / "data/datasets").glob("*.npz"))]
    )
    kinds: dict[tuple, str] = {}
    for path in files:
        record = workdir / "data" / "provenance" / (path + ".json")
        assert record.exists(), f"{path} has no provenance record"
        kinds[_job_kind(json.loads(record.read_text())["rule"], path, config)] = path
    return kinds


def _rule_depths(workdir: Path) -> dict[str, int]:
    """{rule: length of the longest path to it from a rule with no input rule}, from `snakemake --rulegraph`."""
    result = run_snakemake(workdir, "--rulegraph", configfile=SMOKE)
    assert result.returncode == 0, result.stdout[-3000:]
    labels = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', result.stdout, re.M))
    parents: dict[str, set[str]] = {rule: set() for rule in labels.values()}
    for a, b in re.findall(r"^\s*(\d+) -> (\d+)", result.stdout, re.M):
        parents[labels[b]].add(labels[a])
    depth: dict[str, int] = {}

    def visit(rule: str) -> int:
        if rule not in depth:
            depth[rule] = 1 + max((visit(p) for p in parents[rule]), default=-1)
        return depth[rule]

    for rule in parents:
        visit(rule)
    return depth


@pytest.mark.slow
def test_rerun_jobs_are_byte_identical(smoke_run, tmp_path):
    """Determinism: in a copy of the smoke run, one job per rule and kind of job (_job_kind: experiment, the
    wide float32 path, the E5 model kind, the data set) of every rule that writes a CSV (and the data sets) has
    its output removed and runs again, in a fresh process, on the smoke run's inputs; every CSV under data/ and
    figures/tables/ is then byte-identical to the smoke run's, and every data set has the same arrays.

    One job per rule and kind checks each code path: the other jobs of a kind run the same script on the same
    code path with other wildcard values (another seed, width or optimizer), and a job's output is a function
    of its inputs, its params and the code. The jobs that only draw figures are left out (their PNG/PDF are
    not compared). `--rerun-triggers` without mtime: the re-run jobs' newer outputs do not make the jobs that
    read them run again (a cascade would re-run them on identical inputs and test nothing more)."""
    reference = _ok(smoke_run)
    first = _tables(reference)
    config = yaml.safe_load(SMOKE.read_text())
    kinds = _representative_jobs(reference, config)
    rules = {kind[0] for kind in kinds}
    assert {"dataset", "train", "claims_sweep", "claims_tune", "claims_score", "table_e3", "claims_report"} <= rules
    assert {k for k in kinds if k[0] == "train"} == {
        ("train", exp, wide) for exp in ("e3", "e4", "e8") for wide in (False, True) if (exp, wide) != ("e3", True)
    } | {("train", "e3_long", False), ("train", "e3_equal_init", False)}
    work = _copy_workdir(reference, tmp_path / "work")
    depth = _rule_depths(work)
    for path in kinds.values():
        (work / path).unlink()
    # in layers of the rule graph, upstream first: within one Snakemake run a re-run job would make the jobs
    # between it and another re-run job (e.g. the other seeds' training between a data set and a table) run too
    triggers = ["params", "input", "code", "software-env"]
    for layer in sorted({depth[kind[0]] for kind in kinds}):
        jobs = {kind: path for kind, path in kinds.items() if depth[kind[0]] == layer}
        result = run_snakemake(work, "--rerun-triggers", *triggers, "--", *jobs.values(), configfile=SMOKE)
        assert result.returncode == 0, result.stdout[-5000:]
        stats = result.stdout[result.stdout.index("Job stats:") :]
        ran = _job_counts(stats[: stats.index("\ntotal")])
        assert ran == dict(collections.Counter(kind[0] for kind in jobs)), (layer, ran)  # these jobs, no others
    for path in kinds.values():
        assert (work / path).exists(), path
    second = _tables(work)
    assert len(first) >= 20 and set(first) == set(second)
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, differ
    for path in (work / "data/datasets").glob("*.npz"):
        assert _npz_arrays(path) == _npz_arrays(reference / path.relative_to(work)), path
    # the provenance record (data/provenance/<path>.json) of each re-run file says how to reproduce it:
    # config slice + hash, seeds, versions, the same as the smoke run's
    from hrta.pipeline.provenance import config_hash

    for path in kinds.values():
        meta = json.loads((work / "data/provenance" / (path + ".json")).read_text())
        ref_meta = json.loads((reference / "data/provenance" / (path + ".json")).read_text())
        assert meta["versions"]["torch"] and meta["versions"]["hrta"] and meta["versions"]["python"], path
        assert (meta["config"], meta["config_hash"], meta["seeds"]) == (
            ref_meta["config"],
            ref_meta["config_hash"],
            ref_meta["seeds"],
        ), path
    for name in ("data/train/e3/w100_seed1_runs.csv", "data/e2/empirical_w50.csv"):  # row-producing files
        assert name in kinds.values(), sorted(kinds.values())
        meta = json.loads((work / "data/provenance" / (name + ".json")).read_text())
        assert meta["config_hash"] == config_hash(meta["config"]) and meta["seeds"]
    runs_meta = json.loads((work / "data/provenance/data/train/e3/w100_seed1_runs.csv.json").read_text())
    assert runs_meta["seeds"] == [1] and runs_meta["config"]["width"] == 100


# ------------------------------------------------------------------------------------------------
# incrementality (the no-op second run is tests/test_pipeline.py::test_smoke_rerun_has_nothing_to_do)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # one E3 width: its 2 training jobs (one per seed), the E3 table and figure, and the claims
        # computed from E3 (speed-ups, their table and figure, the endpoints, claims_parts.md and CLAIMS.md)
        (
            lambda c: c["e3"].update(widths=[120]),
            {
                "train": 2,
                "table_e3": 1,
                "figure_e3_loss": 1,
                "claims_speedups": 1,
                "table_claims_speedups": 1,
                "figure_claims": 1,
                "claims_report": 1,
                "claims_endpoints": 1,
                "claims_summary": 1,
                "figure_claims_matrix": 1,
                "verify": 1,  # reads every table
                "all": 1,
            },
        ),
        # one E4 schedule: every E4 training job (4) and theory job (2) that runs it (the wide width 400 trains
        # only relu), then rates, horizons, tables, figures, CLAIMS.md
        (
            lambda c: c["e4"]["methods"]["hrta_0.5"].update(schedule="0.5x20,1x40"),
            {
                "train": 4,
                "e4_theory": 2,
                "e4_rates": 1,
                "e4_horizons": 1,
                "table_e4": 1,
                "table_e4_horizons": 1,
                "figures_e4": 1,
                "claims_report": 1,
                # not claims_endpoints: no comparison of smoke.yaml reads E4 (it reads only the sources they name)
                "claims_summary": 1,
                "regime_table": 1,
                "figure_claims_matrix": 1,
                "verify": 1,  # reads every table
                "all": 1,
            },
        ),
        # one E2 width: only that width's empirical-kernel job, the E2 table and figures, CLAIMS.md
        (
            lambda c: c["e2"].update(widths=[50, 300]),
            {
                "e2_empirical": 1,
                "table_e2_spectrum": 1,
                "figures_e2": 1,
                "claims_report": 1,
                "claims_summary": 1,
                "figure_claims_matrix": 1,
                "verify": 1,  # reads every table
                "all": 1,
            },
        ),
        # checkpoint_every changes no result: nothing to do
        (lambda c: c.update(checkpoint_every=7), {}),
    ],
    ids=["e3-width", "e4-schedule", "e2-width", "checkpoint_every"],
)
def test_changing_one_value_reruns_only_affected_jobs(smoke_run, tmp_path, edit, expected):
    workdir = _copy_workdir(_ok(smoke_run), tmp_path / "work")
    changed = _write_config(tmp_path / "changed.yaml", edit)
    dry = run_snakemake(workdir, "-n", configfile=changed)
    assert dry.returncode == 0, dry.stdout[-3000:]
    if expected:
        assert _job_counts(dry.stdout) == expected, dry.stdout[-3000:]
    else:
        assert "Nothing to be done" in dry.stdout, dry.stdout[-3000:]


# ------------------------------------------------------------------------------------------------
# memory cap inside the jobs (the up-front check is tests/test_config_errors.py)


@pytest.mark.slow
def test_kernel_job_checks_the_memory_cap_on_the_data_it_reads(tmp_path):
    """Belt and braces: a job re-checks resources.max_mem_mb with the sizes of the data it actually
    loads (here a dataset file far larger than the config says), before allocating anything."""
    from hrta.data import make_dataset, save_dataset

    save_dataset(make_dataset("sin1d", n_train=20000, n_test=20, seed=0), tmp_path / "data" / "datasets" / "main.npz")
    config = _write_config(tmp_path / "capped.yaml", lambda c: c.update(resources={"max_mem_mb": 1000}))
    target = "data/e2/empirical_w50.csv"
    result = run_snakemake(tmp_path, *_targets(target), "--allowed-rules", "e2_empirical", configfile=config)
    assert result.returncode != 0, result.stdout[-3000:]
    message = (
        r"ResourceError: kernel job e2_empirical width m=50 \(n=20000, d=2, float64\) needs ≈ [\d.]+ GB > cap 1000 MB"
    )
    assert re.search(message, result.stdout), result.stdout[-3000:]
    assert re.search(message, (tmp_path / "logs" / "ntk" / "e2_empirical_w50.log").read_text())
    assert not (tmp_path / target).exists()
