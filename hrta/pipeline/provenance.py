"""Provenance records of the pipeline's outputs.

Every output ``X`` gets a provenance record ``data/provenance/X.json`` (see :func:`write_metadata`
and :func:`metadata_path`; all records in one tree, so ``figures/`` holds only figures, tables and
CLAIMS.md): the config slice that made it, its hash, the seeds, package versions and wall-clock
timings. Timings live only in the record so that the data files themselves are byte-identical
between two runs of the same config on the CPU. Torch-free.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hrta.io import write_text

__all__ = [
    "META_SUFFIX",
    "PACKAGES",
    "PROVENANCE_DIR",
    "canonical_json",
    "config_hash",
    "metadata_path",
    "package_versions",
    "write_metadata",
]

PACKAGES = ("hrta", "torch", "numpy", "pandas", "matplotlib", "seaborn", "snakemake")


#: Provenance records live under this directory (relative to the working directory), one per output:
#: ``data/provenance/<output path>.json``.
PROVENANCE_DIR = Path("data", "provenance")


META_SUFFIX = ".json"


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
