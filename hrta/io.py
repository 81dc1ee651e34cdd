"""Atomic output writing.

Every file the workflow writes goes through :func:`atomic_path`: the content is written to a
temporary file in the same directory and moved into place with ``os.replace``, so an interrupted
job never leaves a half-written file under its final name.

Provenance records and job logs of the pipeline live in hrta.pipeline (provenance, joblog).

This module must not import torch at module level: figure and table jobs use it and should not pay
for the torch import.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["CSV_FLOAT_FORMAT", "atomic_path", "current_umask", "finite_or_none", "write_csv", "write_text"]

# Floats in CSV tables: 10 significant digits is far below run-to-run noise across machines and
# keeps the files short; the same format everywhere keeps them byte-stable.
CSV_FLOAT_FORMAT = "%.10g"


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


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN/inf (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None
