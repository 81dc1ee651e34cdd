"""hrta.io: a job's log always says how the job ended (normal end, exception, termination signal, a
kill from outside), and provenance records live in one tree, data/provenance/<output path>.json."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hrta.pipeline.provenance import metadata_path, write_metadata

JOB = textwrap.dedent("""
    import os, signal, sys, time
    from hrta.pipeline.joblog import job_logger
    log = job_logger(sys.argv[1])
    log.info("working")
    how = sys.argv[2]
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "term":
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
    elif how == "error":
        raise ValueError("bad input")
""")


def _run(tmp_path: Path, how: str) -> tuple[int, str]:
    log = tmp_path / f"{how}.log"
    env = {k: v for k, v in os.environ.items() if k != "HRTA_NO_WATCHER"}
    proc = subprocess.run(
        [sys.executable, "-c", JOB, str(log), how], capture_output=True, text=True, env=env, timeout=60
    )
    for _ in range(100):  # the watcher appends its line right after the job process is gone
        text = log.read_text()
        if how != "kill" or "killed from outside" in text:
            break
        time.sleep(0.1)
    return proc.returncode, text


def test_normal_end_logs_start_and_resource_use(tmp_path):
    rc, text = _run(tmp_path, "ok")
    assert rc == 0
    assert re.search(r"INFO job started \(pid \d+ on ", text)
    assert re.search(r"INFO job resources: wall [\d.]+ s, CPU [\d.]+ s, peak RSS \d+ MB", text)
    assert "ERROR" not in text


def test_job_end_freezes_the_heap_before_the_interpreter_tears_down(tmp_path):
    """After the job's exit hook every object is in the collector's permanent generation (gc.freeze), the job's
    own too, so the interpreter's teardown does not traverse them again; read by an exit hook that runs after the
    job's (atexit runs hooks last-registered-first)."""
    script = textwrap.dedent("""
        import atexit, gc, sys
        atexit.register(lambda: print("at_exit", gc.get_freeze_count()))
        from hrta.pipeline.joblog import job_logger
        job_logger(sys.argv[1]).info("working")
        print("after_job_logger", gc.get_freeze_count())
        kept = [[i] for i in range(5000)]  # the job's objects (lists: always tracked), alive at its end
    """)
    env = dict(os.environ, HRTA_NO_WATCHER="1")
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "job.log")], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    counts = {k: int(v) for k, v in (line.split() for line in proc.stdout.splitlines())}
    assert counts["at_exit"] >= counts["after_job_logger"] + 5000, counts


# a Snakemake script job as hrta.pipeline.job_start recognizes one (its preamble defines `snakemake` in __main__),
# or another process (third argument 0); "last" is printed by an exit hook registered before job_start's, so it runs
# after exit_without_teardown and only if that returned; "hook" by one the job registers after its imports
TEARDOWN_PROBE = textwrap.dedent("""
    import os, sys
    if sys.argv[3] == "1":
        snakemake = object()
    import atexit
    atexit.register(lambda: print("last", flush=True))
    import hrta.pipeline.job_start
    from hrta.pipeline.joblog import job_logger

    log = job_logger(sys.argv[1])
    atexit.register(lambda: print("hook", flush=True))
    with open(sys.argv[1] + ".out", "w") as fh:
        fh.write("output")
    print("unflushed", end=" ")  # left in stdout's buffer: the exit must flush it
    how = sys.argv[2]
    if how == "error":
        raise ValueError("bad input")
    if how == "term":
        os.kill(os.getpid(), __import__("signal").SIGTERM)
    if how == "exit3":
        sys.exit(3)
""")


@pytest.mark.parametrize(
    ("job", "how", "rc", "torn_down"),
    [
        (True, "ok", 0, False),  # the orderly end: os._exit(0) after every exit hook
        (True, "error", 1, True),
        (True, "term", 128 + signal.SIGTERM, True),
        (False, "ok", 0, True),  # job_start imported outside a Snakemake job: nothing registered
        (False, "exit3", 3, True),
    ],
)
def test_only_an_orderly_job_leaves_without_the_interpreter_teardown(tmp_path, job, how, rc, torn_down):
    """hrta.pipeline.joblog.exit_without_teardown: a Snakemake script job that ended in an orderly way leaves from
    that hook (the hook registered before it never runs, nor does the interpreter's teardown), after the exit
    hooks registered after job_start ran, with its output file complete, its log ending with the resource line
    and stdout flushed; an exception or a termination signal keeps the teardown and the exit status, and so does
    any process that is not a Snakemake job."""
    log = tmp_path / "job.log"
    env = dict(os.environ, HRTA_NO_WATCHER="1")
    proc = subprocess.run(
        [sys.executable, "-c", TEARDOWN_PROBE, str(log), how, "1" if job else "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == rc, proc.stderr
    assert proc.stdout.startswith("unflushed hook\n"), proc.stdout
    assert ("last" in proc.stdout) == torn_down, proc.stdout
    assert (tmp_path / "job.log.out").read_text() == "output"
    assert re.search(r"INFO job resources: wall [\d.]+ s", log.read_text())


def test_exception_is_logged(tmp_path):
    rc, text = _run(tmp_path, "error")
    assert rc == 1 and "ERROR job failed: ValueError: bad input" in text


def test_termination_signal_is_logged(tmp_path):
    rc, text = _run(tmp_path, "term")
    assert rc == 128 + signal.SIGTERM
    assert "ERROR job received SIGTERM (cancelled" in text
    assert "killed from outside" not in text  # it ended in an orderly way


def test_kill_from_outside_is_logged_by_the_watcher(tmp_path):
    """SIGKILL (what the kernel's out-of-memory killer sends) cannot be caught: the watcher process
    writes the line instead, so the log is never silent about it."""
    rc, text = _run(tmp_path, "kill")
    assert rc == -signal.SIGKILL
    assert "INFO working" in text
    assert re.search(r"ERROR job process \d+ was killed from outside before it finished", text), text


def test_provenance_lives_in_one_tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert metadata_path("figures/e3_loss.png") == Path("data/provenance/figures/e3_loss.png.json")
    assert metadata_path(tmp_path / "data/e2/x.csv") == Path("data/provenance/data/e2/x.csv.json")
    assert metadata_path("figures/t.csv", root=tmp_path) == tmp_path / "data/provenance/figures/t.csv.json"
    with pytest.raises(ValueError, match="outside the working directory"):
        metadata_path("../elsewhere.csv")
    record = write_metadata("figures/tables/t.csv", {"a": 1}, rule="r", seeds=[0])
    assert record == Path("data/provenance/figures/tables/t.csv.json") and record.is_file()
    assert not Path("figures").exists()  # nothing written next to the output
