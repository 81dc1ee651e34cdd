"""A researcher's own data: `datasets: NAME: {file: PATH}` in the config, a .npz (X_train, y_train[, X_test,
y_test]) or a .csv (columns x1..xd, y[, split]); validated with the file and the problem named, and loaded as the
same Dataset a built-in target gives (hrta.data). dataset_from_config turns either form of a data set config into
a Dataset, with or without an experiment's per-seed draw (dataset_draw, dataset_draw_config): the one way the
workflow's scripts and rules get the data of a config data set (tests/test_layout.py checks that none calls
make_dataset itself)."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import __version__
from .data import ARRAY_NAMES, DataError, Dataset, _is_real_array, add_constant_feature, make_dataset

__all__ = [
    "DATA_FILE_FORMATS",
    "check_dataset_file",
    "dataset_draw",
    "dataset_draw_config",
    "dataset_file_sizes",
    "dataset_from_config",
    "load_dataset_file",
]

# --------------------------------------------------------------------------------------------
# A user's own data set (config `datasets: NAME: {file: PATH}`).
#
# Formats (the file's extension decides):
#
# * ``.npz`` (``numpy.savez``): arrays ``X_train`` (n, d) and ``y_train`` (n,) or (n, 1), optionally
#   ``X_test`` (n_test, d) and ``y_test`` (n_test,) or (n_test, 1) (both or neither). Other arrays are
#   ignored (so a file written by save_dataset loads too). Real (float or integer) values only.
# * ``.csv``: a header row, then one row per sample. Columns ``x1, x2, ..., xd`` (the inputs, every
#   index from 1 to d once, in any order), ``y`` (the label) and optionally ``split`` with values
#   ``train`` or ``test`` (without a ``split`` column every row is a training row). No other
#   columns; lines starting with ``#`` are comments.
#
# Valid: n ≥ 2 training rows, d ≥ 1 input columns, every value finite, and a test set (if any) with
# the training set's d. The inputs are used as they are: no constant feature is appended unless the
# config says ``constant_feature: true`` (unlike the built-in targets, where it is the default).

DATA_FILE_FORMATS = (".npz", ".csv")


def _file_error(src: str, problem: str) -> DataError:
    return DataError(f"{src}: {problem}")


def _read_npz_arrays(path: Path, src: str) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise _file_error(src, "not an .npz archive (write it with numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in ARRAY_NAMES if name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _file_error(src, f"unreadable .npz ({exc})") from None


def _read_csv_arrays(path: Path, src: str) -> dict[str, np.ndarray]:
    import csv  # noqa: PLC0415

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [(i, row) for i, row in enumerate(csv.reader(fh), start=1) if row and not row[0].startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _file_error(src, f"unreadable .csv ({exc})") from None
    if not rows:
        raise _file_error(src, "empty .csv: need a header row with columns x1..xd, y and optionally split")
    header = [name.strip() for name in rows[0][1]]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise _file_error(src, f"duplicate column(s) {', '.join(dup)} in the header")
    xcols = {}
    for j, name in enumerate(header):
        if name.startswith("x") and name[1:].isdigit() and not name[1:].startswith("0"):
            xcols[int(name[1:])] = j
    unknown = [h for j, h in enumerate(header) if j not in xcols.values() and h not in ("y", "split")]
    if unknown:
        raise _file_error(
            src, f"unknown column(s) {', '.join(map(repr, unknown))}; expected x1..xd, y and optionally split"
        )
    if "y" not in header:
        raise _file_error(src, "no column 'y' (the labels); expected columns x1..xd, y and optionally split")
    d = len(xcols)
    if d < 1:
        raise _file_error(src, "no input column x1 (d < 1); expected columns x1..xd, y and optionally split")
    if sorted(xcols) != list(range(1, d + 1)):
        missing = [f"x{k}" for k in range(1, max(xcols) + 1) if k not in xcols]
        raise _file_error(src, f"input columns must be x1..x{d} without gaps; missing {', '.join(missing)}")
    jy, js = header.index("y"), (header.index("split") if "split" in header else None)
    jx = [xcols[k] for k in range(1, d + 1)]
    X = {"train": [], "test": []}
    y = {"train": [], "test": []}
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise _file_error(src, f"line {line} has {len(row)} fields, the header has {len(header)}")
        split = "train" if js is None else row[js].strip().lower()
        if split not in ("train", "test"):
            raise _file_error(src, f"line {line}: split must be 'train' or 'test', got {row[js]!r}")
        try:
            X[split].append([float(row[j]) for j in jx])
            y[split].append(float(row[jy]))
        except ValueError:
            bad = next(header[j] for j in (*jx, jy) if not _is_float(row[j]))
            raise _file_error(src, f"line {line}, column {bad!r}: {row[header.index(bad)]!r} is not a number") from None
    arrays = {"X_train": np.array(X["train"], dtype=np.float64).reshape(-1, d), "y_train": np.array(y["train"])}
    if X["test"]:
        arrays.update(X_test=np.array(X["test"], dtype=np.float64).reshape(-1, d), y_test=np.array(y["test"]))
    return arrays


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _file_arrays(path: str | os.PathLike, src: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read and validate a user's data file: (X_train, y_train, X_test, y_test) as float64, y 1-D and
    an empty (0, d) test set when the file has none. DataError ``"{src}: {problem}"`` otherwise."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DATA_FILE_FORMATS:
        raise _file_error(src, f"unknown extension {path.suffix or '(none)'!r}; use .npz or .csv")
    if not path.exists():
        raise _file_error(src, "no such file")
    if not path.is_file():
        raise _file_error(src, "not a regular file")
    arrays = _read_npz_arrays(path, src) if suffix == ".npz" else _read_csv_arrays(path, src)
    missing = [name for name in ("X_train", "y_train") if name not in arrays]
    if missing:
        raise _file_error(src, f"missing array(s) {', '.join(missing)} (need X_train and y_train)")
    test = [name for name in ("X_test", "y_test") if name in arrays]
    if len(test) == 1:
        other = "y_test" if test[0] == "X_test" else "X_test"
        raise _file_error(src, f"has {test[0]} but no {other}; give both test arrays or neither")
    for name, arr in arrays.items():
        if not _is_real_array(arr) or np.issubdtype(arr.dtype, np.bool_):
            raise _file_error(src, f"array {name!r} must be real-valued (float or int), got dtype {arr.dtype}")
    out = {}
    for split in ("train", "test") if test else ("train",):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim != 2:
            raise _file_error(src, f"X_{split} must be 2-D (n, d), got shape {X.shape}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise _file_error(src, f"y_{split} must be 1-D (n,) or (n, 1), got shape {y.shape}")
        if y.shape[0] != X.shape[0]:
            raise _file_error(src, f"y_{split} has {y.shape[0]} labels but X_{split} has {X.shape[0]} rows")
        out[f"X_{split}"], out[f"y_{split}"] = X.astype(np.float64), y.astype(np.float64)
    n, d = out["X_train"].shape
    if d < 1:
        raise _file_error(src, f"X_train has {d} columns; need d >= 1 input column")
    if n < 2:
        raise _file_error(src, f"X_train has {n} row(s); need n >= 2 training samples")
    if test and out["X_test"].shape[1] != d:
        raise _file_error(src, f"X_test has {out['X_test'].shape[1]} columns but X_train has {d} (d must agree)")
    if not test:
        out["X_test"], out["y_test"] = np.zeros((0, d)), np.zeros(0)
    for name, arr in out.items():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise _file_error(src, f"array {name!r} has {bad} non-finite value(s) (NaN or inf)")
    return out["X_train"], out["y_train"], out["X_test"], out["y_test"]


def check_dataset_file(path: str | os.PathLike, key: str) -> tuple[int, int, int]:
    """Validate a user's data file named by config key ``key`` (e.g. ``datasets.mine.file``).

    Returns (n, n_test, d) of the file's own arrays (d without any constant feature). Raises DataError
    ``"key '{key}': data file '{path}': {problem}"`` for a missing file, an extension other than
    .npz/.csv, missing X_train/y_train, wrong shapes, non-finite values, n < 2, d < 1, or a test set
    that does not match (only one of X_test/y_test, other d, label count ≠ row count).
    """
    X_train, _, X_test, _ = _file_arrays(path, f"key '{key}': data file '{path}'")
    return X_train.shape[0], X_test.shape[0], X_train.shape[1]


def _file_sha256(path: Path) -> str:

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_dataset_file(path: str | os.PathLike, constant_feature: bool = False) -> Dataset:
    """A user's data file (.npz or .csv, formats above) as a Dataset, validated.

    The inputs are used as given; ``constant_feature=True`` appends a column of ones to X_train and
    X_test (then ``Dataset.d`` is the file's d + 1). A file without a test set gets an empty one,
    shape (0, d). ``target`` is ``"file:<file name>"``; ``meta`` records the path, the file's
    SHA-256, the sizes and ``constant_feature``. DataError names the file and the problem.
    """
    path = Path(path)
    X_train, y_train, X_test, y_test = _file_arrays(path, f"data file '{path}'")
    if constant_feature:
        X_train, X_test = add_constant_feature(X_train), add_constant_feature(X_test)
    meta = {
        "target": f"file:{path.name}",
        "file": str(path),
        "sha256": _file_sha256(path),
        "n_train": int(X_train.shape[0]),
        "n_test": int(X_test.shape[0]),
        "constant_feature": bool(constant_feature),
        "hrta_version": __version__,
        "numpy_version": np.__version__,
    }
    return Dataset(X_train, y_train, X_test, y_test, target=meta["target"], meta=meta)


def dataset_file_sizes(path: str | os.PathLike, constant_feature: bool = False) -> tuple[int, int, int]:
    """(n, n_test, d) of a user's data file as the pipeline uses it (d counts the constant feature),
    without torch; cached per file version (path, size, modification time)."""
    path = Path(path)
    try:
        st = path.stat()
        version = (st.st_size, st.st_mtime_ns)
    except OSError:
        version = None
    n, n_test, d = _cached_file_sizes(str(path), version)
    return n, n_test, d + (1 if constant_feature else 0)


_FILE_SIZES: dict[tuple, tuple[int, int, int]] = {}


def _cached_file_sizes(path: str, version) -> tuple[int, int, int]:
    key = (path, version)
    if key not in _FILE_SIZES:
        X_train, _, X_test, _ = _file_arrays(path, f"data file '{path}'")
        _FILE_SIZES[key] = (X_train.shape[0], X_test.shape[0], X_train.shape[1])
    return _FILE_SIZES[key]


def dataset_draw(settings: Mapping, seed: int) -> int | None:
    """The draw of data an experiment's seed ``seed`` trains on (config key ``vary_data_seed``): ``seed`` when
    ``settings["vary_data_seed"]`` is true (a new draw per seed, dataset_draw_config), else None (the data set's
    one draw, the same for every seed). ``settings`` is an experiment's config slice."""
    return int(seed) if settings.get("vary_data_seed") else None


def dataset_draw_config(spec: Mapping, draw: int | None = None) -> dict:
    """The config entry of draw ``draw`` of data set ``spec`` (``datasets.NAME``): the entry itself for None,
    else the built-in target drawn with seed ``spec["seed"] + draw`` (the convention of ``vary_data_seed``).

    A user's file (``{file: PATH}``) has one draw: a DataError naming the file for any ``draw`` other than None.
    """
    spec = dict(spec)
    if draw is None:
        return spec
    if "file" in spec:
        where = (
            f"data set {spec['name']!r} (datasets.{spec['name']}.file = {spec['file']!r})"
            if "name" in spec
            else f"data file {spec['file']!r}"
        )
        raise DataError(
            f"{where} has one draw; it cannot be drawn again with seed + {draw} (set vary_data_seed: false)"
        )
    return {**spec, "seed": int(spec["seed"]) + int(draw)}


def dataset_from_config(spec: Mapping, draw: int | None = None) -> Dataset:
    """The Dataset of one config entry ``datasets.NAME`` (a ``name`` key is ignored), the one way the workflow
    turns a config data set into data: a user's file (``{file, constant_feature}``, load_dataset_file) or a
    built-in target (make_dataset arguments). ``draw``: None for the entry's own draw, an int k for the draw of
    seed k of an experiment with ``vary_data_seed`` (seed = spec.seed + k, dataset_draw_config; pass
    ``dataset_draw(settings, seed)``); a DataError for a file, which has one draw."""
    args = {k: v for k, v in dataset_draw_config(spec, draw).items() if k != "name"}
    if "file" in args:
        return load_dataset_file(args["file"], constant_feature=bool(args.get("constant_feature", False)))
    return make_dataset(**args)
