"""Job logs of the pipeline's scripts: a logger per job writing to the rule's ``log:`` file, uncaught
exceptions and termination signals logged, a watcher process that records how the job ended (an OOM
kill included), and the torch thread count. Torch is imported only by set_torch_threads.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["TERMINATION_SIGNALS", "exit_without_teardown", "job_logger", "set_torch_threads"]

_WATCHERS: dict[str, Any] = {}
# how the job is ending: "abnormal" once an uncaught exception or a termination signal ends it, "orderly" once
# job_logger's exit hook has run without either (read by exit_without_teardown)
_ENDING: dict[str, Any] = {"logger": None, "registered": False, "started": None, "how": None}


def job_logger(log_path: str | os.PathLike, name: str = "hrta") -> logging.Logger:
    """A logger writing timestamped lines to the job's log file (and stderr).

    The log is never left empty or silent about how the job ended: it starts with a "job started"
    line; an exception that ends the job, an interrupt (SIGINT) and a termination signal (SIGTERM,
    SIGHUP, SIGXCPU, SIGUSR1/2: a scheduler's cancel or time limit, Snakemake stopping) are logged
    before the job exits (:func:`_log_how_the_job_ends`); a kill that cannot be caught (SIGKILL, the
    kernel's out-of-memory killer) is logged by a small watcher process (:func:`_start_watcher`); a
    job that ends normally logs its resource use ("job resources: wall … s, CPU … s, peak RSS … MB",
    read by benchmarks/runtime_check.py).
    """
    # the script's imports are done: keep their objects out of every later collection and resume the collector
    # (paused by hrta.pipeline.job_start during the imports; on already, this changes nothing else)
    gc.freeze()
    gc.enable()
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    for handler in (logging.FileHandler(log_path, mode="w", encoding="utf-8"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    logger.propagate = False
    logger.info("job started (pid %d on %s)", os.getpid(), platform.node())
    _log_uncaught_exceptions(logger)
    _log_how_the_job_ends(logger, Path(log_path))
    return logger


def _log_uncaught_exceptions(logger: logging.Logger) -> None:
    """Make an exception that ends the job also land in its log file (Snakemake points the user to
    the log; the traceback itself still goes to stderr)."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        _ENDING["how"] = "abnormal"
        if issubclass(kind, KeyboardInterrupt):
            logger.error("job interrupted (SIGINT / KeyboardInterrupt)")
        else:
            logger.error("job failed: %s: %s", kind.__name__, value)
        previous(kind, value, tb)

    sys.excepthook = hook


#: Signals a scheduler or Snakemake sends to stop a job (SIGKILL cannot be caught: see _start_watcher).
TERMINATION_SIGNALS = ("SIGTERM", "SIGHUP", "SIGXCPU", "SIGUSR1", "SIGUSR2")


_WATCHER = r"""
import sys, time
log, pid, before = sys.argv[1], sys.argv[2], sys.argv[3]
done = sys.stdin.buffer.read()  # EOF when the job process ends, however it ends
if done.startswith(b"ok"):
    sys.exit(0)
try:
    with open("/sys/fs/cgroup/memory.events") as fh:
        after = next((l.split()[1] for l in fh if l.startswith("oom_kill ")), "?")
except OSError:
    after = "?"
oom = f"; this cgroup's out-of-memory kills went from {before} to {after}: the kernel's OOM killer ended it" \
    if before != "?" and after != "?" and int(after) > int(before) else \
    " (SIGKILL: e.g. the kernel's out-of-memory killer, or a scheduler's hard kill)"
with open(log, "a", encoding="utf-8") as fh:
    fh.write(time.strftime("%H:%M:%S") + f" ERROR job process {pid} was killed from outside before it finished{oom}; "
             "its outputs are incomplete (check the memory and time requests)\n")
"""


def _oom_kills() -> str:
    try:
        with open("/sys/fs/cgroup/memory.events", encoding="ascii") as fh:
            return next((line.split()[1] for line in fh if line.startswith("oom_kill ")), "?")
    except OSError:
        return "?"


def _start_watcher(log_path: Path) -> None:
    """A tiny process (no imports) that waits for this job to end (its stdin pipe closes) and, unless
    the job said it exited in an orderly way, appends "killed from outside" to the log (naming an
    out-of-memory kill when the cgroup's memory.events count grew). One per log file and process."""
    import subprocess  # noqa: PLC0415

    key = f"{os.getpid()}:{log_path.resolve()}"
    if key in _WATCHERS or os.environ.get("HRTA_NO_WATCHER") == "1":
        return
    try:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _WATCHER, str(log_path), str(os.getpid()), _oom_kills()],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # survives a Ctrl-C to the job's process group
        )
    except OSError:
        return
    _WATCHERS[key] = proc


def _log_how_the_job_ends(logger: logging.Logger, log_path: Path) -> None:
    """Signal handlers and an exit hook (installed once per process) that log to the latest job log."""
    import atexit  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    _start_watcher(log_path)
    _ENDING["logger"] = logger
    if _ENDING["registered"]:
        return
    _ENDING["registered"] = True
    _ENDING["started"] = time.time()
    with contextlib.suppress(Exception):  # psutil is a Snakemake dependency; else: since the first logger
        import psutil  # noqa: PLC0415

        _ENDING["started"] = psutil.Process().create_time()

    def on_signal(signum, frame):
        _ENDING["how"] = "abnormal"
        _ENDING["logger"].error(
            "job received %s (cancelled: a scheduler's cancel or time limit, or Snakemake stopping); exiting",
            signal.Signals(signum).name,
        )
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        for name in TERMINATION_SIGNALS:
            with contextlib.suppress(AttributeError, ValueError, OSError):
                signal.signal(getattr(signal, name), on_signal)
    atexit.register(_at_exit)


def _at_exit() -> None:
    """Log the job's resource use, and tell the watchers that the job ended in an orderly way."""
    import resource  # noqa: PLC0415
    import time  # noqa: PLC0415

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    with contextlib.suppress(Exception):
        _ENDING["logger"].info(
            "job resources: wall %.2f s, CPU %.2f s, peak RSS %.0f MB",
            time.time() - _ENDING["started"],
            cpu,
            max(own.ru_maxrss, children.ru_maxrss) / 1024,
        )
    for key, proc in list(_WATCHERS.items()):
        if key.startswith(f"{os.getpid()}:"):
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.write(b"ok\n")
                proc.stdin.close()
    # The job is over: move every object to the collector's permanent generation, so that the interpreter's
    # teardown does not traverse torch's and pandas' module objects again (≈ 0.3 CPU-s of a job that imports torch).
    gc.freeze()
    if _ENDING["how"] is None:
        _ENDING["how"] = "orderly"


def exit_without_teardown() -> None:
    """The last exit hook of a Snakemake script job (hrta.pipeline.job_start registers it before any other, and
    atexit runs the first-registered last): a job that ended in an orderly way (job_logger's exit hook ran, no
    uncaught exception, no termination signal) flushes stdout and stderr and leaves with ``os._exit(0)``, without
    the interpreter's teardown, which deallocates every module object again (≈ 0.15 CPU-s of a job that imports
    torch and pandas; the pipeline runs ≈ 140 jobs, the tests ≈ 250). Every other exit hook has run by then:
    logging's own closes the log files. Any other ending keeps the teardown and its exit status.

    What this asks of the job's code: outputs are closed before the job ends (``with`` blocks, writers that close
    their files; a file left open would lose what it had not flushed), and a job ends by reaching its end or by
    an exception, never by ``SystemExit`` with a status, which this hook cannot see (tests/test_layout.py checks
    both in workflow/scripts and hrta/)."""
    if _ENDING["how"] != "orderly":
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def set_torch_threads(threads: int) -> None:
    """Pin torch's intra- and inter-op thread pools to the rule's ``threads``.

    Results on the CPU depend on the thread count (reduction order), so a fixed count per rule
    also keeps outputs reproducible.
    """
    import torch  # noqa: PLC0415  (deferred: only training and kernel jobs pay for torch)

    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    with contextlib.suppress(RuntimeError):  # can only be set once per process
        torch.set_num_interop_threads(threads)
