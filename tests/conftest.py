"""Shared fixtures: run the Snakemake workflow as a subprocess in a temporary directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
CONFIGS = REPO / "config"


def snakemake_command() -> list[str]:
    """The snakemake of this Python environment (so the tests use the pinned version)."""
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def run_snakemake(workdir: Path, *args: str, configfile: Path | None = None, timeout: float = 300):
    """Run the repository's workflow with `workdir` as working directory (outputs land there, never
    in the repository). Returns the CompletedProcess with stdout and stderr merged into .stdout."""
    cmd = snakemake_command() + ["--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", "2"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run(
        cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
    )


def sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` of a subprocess that a test interrupts with SIGINT (Ctrl-C): pytest-xdist workers ignore
    SIGINT, an ignored signal stays ignored across exec, and Python then installs no KeyboardInterrupt handler,
    so the child would finish as if never interrupted. Restores the default before exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def dry_run_batch(cases: dict[str, tuple[Path, Path]], timeout: float = 600) -> dict[str, tuple[Path, dict]]:
    """``snakemake --dry-run`` of each case {name: (workdir, configfile)} in one subprocess
    (tests/dry_run_batch.py): {name: (workdir, {"ok", "error", "message"})}. The working directories must exist."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cases_file, results_file = Path(tmp) / "cases.json", Path(tmp) / "results.json"
        cases_file.write_text(json.dumps({k: {"workdir": str(w), "configfile": str(c)} for k, (w, c) in cases.items()}))
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("dry_run_batch.py")), str(cases_file), str(results_file)],
            env=dict(os.environ, PYTHONHASHSEED="0"),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(results_file.read_text())
    return {name: (workdir, results[name]) for name, (workdir, _) in cases.items()}


# The tests that start the most pipeline jobs, heaviest first (CPU-seconds on 2 quiet cores, 2026-12-07). pytest-xdist
# (`--dist loadgroup`) hands out the xdist_group batches first, then single tests in collection order: started
# first, these run beside each other and beside the shared smoke run instead of alone at the end of the session.
RUN_FIRST = (
    "test_user_data.py::test_whole_smoke_run_with_every_experiment_on_one_file",  # ~110, its own pipeline
    "test_reliability.py::test_rerun_jobs_are_byte_identical",  # ~80, after the smoke run (~140)
    "test_reliability.py::test_diverged_runs_are_recorded_and_marked",  # ~18
    "test_extending.py::test_readme_e9_on_the_smoke_config_dry_runs_and_runs",  # ~16
    "test_reliability.py::test_interrupted_training_resumes_to_identical_results",  # ~14 each
    "test_extending.py::test_new_schedule_reaches_claims_md_through_a_reading_and_an_endpoint",  # ~20
)


def pytest_collection_modifyitems(config, items):
    """Move the RUN_FIRST tests to the front, in RUN_FIRST's order (the rest keep theirs)."""

    def rank(item) -> int:
        name = f"{Path(item.path).name}::{item.originalname}"
        return RUN_FIRST.index(name) if name in RUN_FIRST else len(RUN_FIRST)

    items.sort(key=rank)


def pytest_collection_finish(session):
    """After collection, the imported modules (torch, pandas, scipy, hypothesis, the test modules) stay for the
    session: freeze them so that the collector's full passes during the tests do not re-traverse them (the
    fast tests of test_endpoints, test_claims, test_train, test_ntk, test_models in one process: 16.1 -> 14.3
    CPU-s), as the pipeline's jobs do (hrta.pipeline.job_start)."""
    import gc  # noqa: PLC0415

    gc.freeze()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test computes with one torch thread (restored afterwards). The tensors here are small and the
    2 cores are shared with the pipeline jobs the tests start (and with other work): with 2 threads, GEMMs
    that wait on a busy core made the float32-vs-float64 training tests (tests/test_precision.py) ~10× slower.
    Jobs that the tests start in subprocesses set their own thread counts (config `threads`)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _session_root(tmp_path_factory, worker_id) -> Path:
    """The temporary root common to the pytest-xdist workers of this session (each worker has its own basetemp
    under it), or the basetemp without xdist."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if worker_id != "master" else root


def _once_per_session(root: Path, name: str, run) -> subprocess.CompletedProcess:
    """``run()`` (a CompletedProcess with its output in stdout) once per session, shared by the workers: the first
    worker that needs it runs it under a file lock in ``root`` and records its exit status and output; the others
    wait on the lock and reuse both."""
    from filelock import FileLock

    record = root / f"{name}.json"
    with FileLock(str(root / f"{name}.lock")):
        if not record.exists():
            result = run()
            record.write_text(
                json.dumps({"args": result.args, "returncode": result.returncode, "stdout": result.stdout})
            )
        done = json.loads(record.read_text())
    return subprocess.CompletedProcess(done["args"], done["returncode"], stdout=done["stdout"])


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, worker_id):
    """One full run of config/smoke.yaml in a fresh temporary directory: (workdir, CompletedProcess).

    Shared by every pytest-xdist worker (_once_per_session). Tests must not write into the shared directory
    (dry runs are fine; copy it to change it)."""
    root = _session_root(tmp_path_factory, worker_id)
    workdir = root / "smoke"

    def run():
        workdir.mkdir()
        return run_snakemake(workdir, configfile=CONFIGS / "smoke.yaml", timeout=600)

    return workdir, _once_per_session(root, "smoke_run", run)


@pytest.fixture(scope="session")
def shipped_dry_run(tmp_path_factory, worker_id):
    """``snakemake --dry-run`` of a shipped config (config/NAME.yaml) in a fresh, otherwise empty directory, once
    per session for every test that reads it (_once_per_session): a function NAME -> (workdir, CompletedProcess).
    Tests must not write into the directory."""
    root = _session_root(tmp_path_factory, worker_id)

    def dry_run(name: str):
        workdir = root / f"dry_run_{name}"

        def run():
            workdir.mkdir()
            return run_snakemake(workdir, "--dry-run", configfile=CONFIGS / f"{name}.yaml")

        return workdir, _once_per_session(root, f"dry_run_{name}", run)

    return dry_run
