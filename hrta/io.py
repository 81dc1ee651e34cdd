"""Atomic output writing and provenance records for the pipeline.

Every file the workflow writes goes through :func:`atomic_path`: the content is written to a
temporary file in the same directory and moved into place with ``os.replace``, so an interrupted
job never leaves a half-written file under its final name.

Every output ``X`` gets a provenance record ``data/provenance/X.json`` (see :func:`write_metadata`
and :func:`metadata_path`; all records in one tree, so ``figures/`` holds only figures, tables and
CLAIMS.md): the config slice that made it, its hash, the seeds, package versions and wall-clock
timings. Timings live only in the record so that the data files themselves are byte-identical
between two runs of the same config on the CPU.

This module must not import torch at module level: figure and table jobs use it and should not pay
for the torch import.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import platform
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

PACKAGES = ("hrta", "torch", "numpy", "pandas", "matplotlib", "seaborn", "snakemake")

# Floats in CSV tables: 10 significant digits is far below run-to-run noise across machines and
# keeps the files short; the same format everywhere keeps them byte-stable.
CSV_FLOAT_FORMAT = "%.10g"

#: Provenance records live under this directory (relative to the working directory), one per output:
#: ``data/provenance/<output path>.json``.
PROVENANCE_DIR = Path("data", "provenance")
META_SUFFIX = ".json"


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path`` (``os.replace``).

    The temporary file gets the permissions of an ordinary new file (0666 minus the umask, e.g.
    0644; ``mkstemp`` alone creates 0600) and is flushed to disk before the rename. On an exception
    (including KeyboardInterrupt) the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # never ends in .csv/.png
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
    finally:
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8, '\\n' line endings)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(df, path: str | os.PathLike) -> None:
    """Write a pandas DataFrame as CSV atomically, floats as ``CSV_FLOAT_FORMAT``, no index."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")


def package_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``packages`` (None when not installed) plus the Python version."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal configs give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def config_hash(config_slice: Any) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of a config slice."""
    return hashlib.sha256(canonical_json(config_slice).encode("utf-8")).hexdigest()[:16]


def _json_default(value: Any) -> Any:
    # Snakemake hands params over as its own Namedlist/dict subclasses and numpy scalars may appear.
    if hasattr(value, "items"):
        return dict(value.items())
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, tuple, list)) or hasattr(value, "__iter__"):
        return list(value)
    return str(value)


def _jsonable(value: Any) -> Any:
    return json.loads(canonical_json(value))


def metadata_path(path: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """The provenance record of an output: ``X`` → ``<root>/data/provenance/X.json``.

    ``root`` is the working directory by default (where Snakemake runs the jobs, so ``X`` is the
    output path as the rule names it, e.g. ``figures/e3_loss.png`` →
    ``data/provenance/figures/e3_loss.png.json``). An absolute ``X`` inside ``root`` is taken
    relative to it; one outside ``root`` keeps its full path below the provenance directory.
    """
    path = Path(path)
    base = Path(root) if root is not None else Path.cwd()
    if path.is_absolute():
        try:
            path = path.relative_to(base.resolve())
        except ValueError:
            path = Path(*path.parts[1:])
    if path.parts and path.parts[0] == "..":
        raise ValueError(f"output {str(path)!r} lies outside the working directory {str(base)!r}")
    record = PROVENANCE_DIR / path
    record = record.with_name(record.name + META_SUFFIX)
    return base / record if root is not None else record


def write_metadata(
    path: str | os.PathLike,
    config_slice: Mapping[str, Any],
    *,
    rule: str | None = None,
    inputs: Sequence[str] = (),
    seeds: Sequence[int] | None = None,
    timings: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the provenance record of output ``path`` (:func:`metadata_path`) and return its path.

    The record holds the config slice and its hash (:func:`config_hash`), the rule, the input
    files, the seeds, package versions, the command line, and wall-clock ``timings`` in seconds.
    """
    record = {
        "output": str(path),
        "rule": rule,
        "config": _jsonable(config_slice),
        "config_hash": config_hash(config_slice),
        "inputs": [str(p) for p in inputs],
        "seeds": None if seeds is None else [int(s) for s in seeds],
        "versions": package_versions(),
        "platform": platform.platform(),
        "timings_s": {k: round(float(v), 4) for k, v in (timings or {}).items()},
    }
    if extra:
        record["extra"] = _jsonable(extra)
    record_path = metadata_path(path)
    write_text(record_path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record_path


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


_WATCHERS: dict[str, Any] = {}


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


_ENDING: dict[str, Any] = {"logger": None, "registered": False, "started": None}


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


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN/inf (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None
