"""Atomic output writing and provenance sidecars for the pipeline.

Every file the workflow writes goes through :func:`atomic_path`: the content is written to a
temporary file in the same directory and moved into place with ``os.replace``, so an interrupted
job never leaves a half-written file under its final name.

Every output ``X`` gets a provenance sidecar ``X.meta.json`` (see :func:`write_metadata`): the
config slice that made it, its hash, the seeds, package versions and wall-clock timings. Timings
live only in the sidecar so that the data files themselves are byte-identical between two runs of
the same config on the CPU.

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

META_SUFFIX = ".meta.json"


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


def metadata_path(path: str | os.PathLike) -> Path:
    """The sidecar path of an output: ``X`` → ``X.meta.json``."""
    path = Path(path)
    return path.with_name(path.name + META_SUFFIX)


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
    """Write the provenance sidecar of output ``path`` and return its path.

    The sidecar holds the config slice and its hash (:func:`config_hash`), the rule, the input
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
    sidecar = metadata_path(path)
    write_text(sidecar, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return sidecar


def job_logger(log_path: str | os.PathLike, name: str = "hrta") -> logging.Logger:
    """A logger writing timestamped lines to the job's log file (and stderr)."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    for handler in (logging.FileHandler(log_path, mode="w", encoding="utf-8"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    logger.propagate = False
    _log_uncaught_exceptions(logger)
    return logger


def _log_uncaught_exceptions(logger: logging.Logger) -> None:
    """Make an exception that ends the job also land in its log file (Snakemake points the user to
    the log; the traceback itself still goes to stderr)."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if not issubclass(kind, KeyboardInterrupt):
            logger.error("job failed: %s: %s", kind.__name__, value)
        previous(kind, value, tb)

    sys.excepthook = hook


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
