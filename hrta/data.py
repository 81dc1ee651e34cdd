"""Regression data sets: target functions, seeded train/test draws, validated .npz storage.

A data set is one seeded draw of ``n_train + n_test`` inputs, uniform on the target's domain; the
first ``n_train`` rows are the training set, the rest the test set. Labels are the target function
values; optional Gaussian label noise is added to the training labels only.

Why a constant input feature by default: the networks in :mod:`hrta.models` have no biases, and for
base ReLU σ_s(z) = (1 − s/2)·z + (s/2)·|z|. On 1-D inputs a bias-free network therefore splits as

    f(x) − f(−x) = c₁·x,   f(x) + f(−x) = c₂·|x|,

so its odd part is linear and its even part a multiple of |x|: it cannot fit the even part of a
1-D target (e.g. Runge's function), and the NTK restricted to inputs ±x is degenerate.
Appending a column of ones (x ↦ (x, 1)) plays the role of a bias and removes both limitations.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .checks import integer_at_least
from .io import atomic_path

__all__ = [
    "ARRAY_NAMES",
    "DataError",
    "Dataset",
    "META_NAME",
    "TARGETS",
    "Target",
    "DATA_FILE_FORMATS",
    "add_constant_feature",
    "check_arrays",
    "check_dataset_file",
    "dataset_file_sizes",
    "dataset_from_config",
    "franke2d",
    "get_target",
    "load_dataset",
    "load_dataset_file",
    "make_dataset",
    "poly1d",
    "runge1d",
    "save_dataset",
    "sin1d",
    "sphere",
    "sphere_d",
    "sphere_d_target",
    "uniform_interval",
    "uniform_sphere",
    "uniform_unit_square",
]

ARRAY_NAMES = ("X_train", "y_train", "X_test", "y_test")
META_NAME = "meta"


def _is_real_array(arr) -> bool:
    return isinstance(arr, np.ndarray) and (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    )


class DataError(ValueError):
    """A data set file or array set is unusable; the message names the file (or source) and the problem."""


# --------------------------------------------------------------------------------------------
# Samplers: uniform on the domain, driven by a numpy Generator.


def uniform_interval(rng: np.random.Generator, n: int) -> np.ndarray:
    """n points uniform on [−1, 1], shape (n, 1)."""
    return rng.uniform(-1.0, 1.0, size=(n, 1))


def uniform_unit_square(rng: np.random.Generator, n: int) -> np.ndarray:
    """n points uniform on [0, 1]², shape (n, 2)."""
    return rng.uniform(0.0, 1.0, size=(n, 2))


def uniform_sphere(rng: np.random.Generator, n: int) -> np.ndarray:
    """n points uniform on the unit sphere S² ⊂ R³, shape (n, 3): normalized standard Gaussians."""
    g = rng.standard_normal(size=(n, 3))
    # A standard Gaussian vector is exactly 0 with probability zero; the norm is always > 0 in practice.
    return g / np.linalg.norm(g, axis=1, keepdims=True)


# --------------------------------------------------------------------------------------------
# Target functions: X (n, d) -> y (n,).


def sin1d(X: np.ndarray) -> np.ndarray:
    """f(x) = sin(πx) + ½·sin(3πx)."""
    x = X[:, 0]
    return np.sin(np.pi * x) + 0.5 * np.sin(3.0 * np.pi * x)


def runge1d(X: np.ndarray) -> np.ndarray:
    """Runge's function f(x) = 1 / (1 + 25x²)."""
    x = X[:, 0]
    return 1.0 / (1.0 + 25.0 * x * x)


def poly1d(X: np.ndarray) -> np.ndarray:
    """f(x) = T₃(x) + ½·T₂(x) = 4x³ + x² − 3x − ½ (Chebyshev polynomials; |f| ≤ 1.5 on [−1, 1])."""
    x = X[:, 0]
    return 4.0 * x**3 + x**2 - 3.0 * x - 0.5


def franke2d(X: np.ndarray) -> np.ndarray:
    """Franke's function on [0, 1]²:

    f(x, y) = ¾·exp(−((9x−2)² + (9y−2)²)/4) + ¾·exp(−(9x+1)²/49 − (9y+1)/10)
              + ½·exp(−((9x−7)² + (9y−3)²)/4) − ⅕·exp(−(9x−4)² − (9y−7)²).
    """
    x, y = 9.0 * X[:, 0], 9.0 * X[:, 1]
    return (
        0.75 * np.exp(-((x - 2.0) ** 2 + (y - 2.0) ** 2) / 4.0)
        + 0.75 * np.exp(-((x + 1.0) ** 2) / 49.0 - (y + 1.0) / 10.0)
        + 0.5 * np.exp(-((x - 7.0) ** 2 + (y - 3.0) ** 2) / 4.0)
        - 0.2 * np.exp(-((x - 4.0) ** 2) - (y - 7.0) ** 2)
    )


def sphere(X: np.ndarray) -> np.ndarray:
    """f(x) = x₁x₂ + x₃² + ½·sin(πx₃) for x on the unit sphere S²."""
    return X[:, 0] * X[:, 1] + X[:, 2] ** 2 + 0.5 * np.sin(np.pi * X[:, 2])


@dataclass(frozen=True)
class Target:
    """A regression target: ``function`` maps inputs (n, d) to labels (n,); ``sampler(rng, n)`` draws
    n inputs uniform on ``domain``. ``d`` is the raw input dimension (before any constant feature)."""

    name: str
    d: int
    domain: str
    sampler: Callable[[np.random.Generator, int], np.ndarray]
    function: Callable[[np.ndarray], np.ndarray]
    description: str

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Target values at X (n, d) as float64, shape (n,)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"target {self.name!r} needs inputs of shape (n, {self.d}), got {X.shape}")
        return np.asarray(self.function(X), dtype=np.float64)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("sin1d", 1, "[-1, 1]", uniform_interval, sin1d, "sin1d: f(x) = sin(πx) + ½·sin(3πx) on [−1, 1]"),
        Target("runge1d", 1, "[-1, 1]", uniform_interval, runge1d, "runge1d: f(x) = 1/(1 + 25x²) on [−1, 1]"),
        Target(
            "poly1d", 1, "[-1, 1]", uniform_interval, poly1d, "poly1d: f(x) = 4x³ + x² − 3x − ½ = T₃ + ½T₂ on [−1, 1]"
        ),
        Target(
            "franke2d",
            2,
            "[0, 1]^2",
            uniform_unit_square,
            franke2d,
            "franke2d: Franke's function (sum of three Gaussian bumps minus one dip) on [0, 1]²",
        ),
        Target(
            "sphere",
            3,
            "unit sphere S^2 in R^3",
            uniform_sphere,
            sphere,
            "sphere: f(x) = x₁x₂ + x₃² + ½·sin(πx₃) on S²",
        ),
    )
}


# sphere_d: the well-conditioned setting of E8 (the λ_min regime), inputs on S^{d−1} ⊂ R^d with a
# configurable dimension d (dataset key `dim`; without it SPHERE_D_DEFAULT_DIM) and no constant feature.
SPHERE_D_DEFAULT_DIM = 20
SPHERE_D_DIRECTIONS_SEED = 8  # u, v below: fixed per dimension, independent of the data set's seed


def uniform_sphere_d(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """n points uniform on the unit sphere S^{dim−1} ⊂ R^dim, shape (n, dim): normalized standard Gaussians."""
    g = rng.standard_normal(size=(n, dim))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def sphere_d_directions(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed unit vectors (u, v) of sphere_d in R^dim, drawn from default_rng(SPHERE_D_DIRECTIONS_SEED)."""
    g = np.random.default_rng(SPHERE_D_DIRECTIONS_SEED).standard_normal(size=(2, dim))
    u, v = g / np.linalg.norm(g, axis=1, keepdims=True)
    return u, v


def sphere_d(X: np.ndarray) -> np.ndarray:
    """f(x) = sin(π·x·u) + (x·v)² for x on S^{d−1}, d = X.shape[1], u and v fixed unit vectors
    (sphere_d_directions(d)): smooth, one odd and one even ridge component."""
    u, v = sphere_d_directions(X.shape[1])
    return np.sin(np.pi * (X @ u)) + (X @ v) ** 2


def sphere_d_target(dim: int) -> Target:
    """The sphere_d target in dimension ``dim`` ≥ 2 (inputs uniform on S^{dim−1} ⊂ R^dim)."""
    dim = integer_at_least("dim", dim, 2)
    return Target(
        "sphere_d",
        dim,
        f"unit sphere S^{dim - 1} in R^{dim}",
        lambda rng, n: uniform_sphere_d(rng, n, dim),
        sphere_d,
        f"sphere_d: f(x) = sin(π·x·u) + (x·v)² on S^{dim - 1} ⊂ R^{dim}, u, v fixed unit vectors",
    )


TARGETS["sphere_d"] = sphere_d_target(SPHERE_D_DEFAULT_DIM)
#: Targets whose input dimension is set by the data set key `dim` (make_dataset(dim=...)).
DIM_TARGETS = {"sphere_d": sphere_d_target}


# --------------------------------------------------------------------------------------------
# Data sets.


def add_constant_feature(X: np.ndarray, value: float = 1.0) -> np.ndarray:
    """[X, value·1]: X (n, d) -> (n, d + 1) float64, the last column constant (acts as a bias)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n, d), got shape {X.shape}")
    if not math.isfinite(float(value)):
        raise ValueError(f"value must be finite, got {value!r}")
    return np.hstack([X, np.full((X.shape[0], 1), float(value))])


def check_arrays(X_train, y_train, X_test, y_test, source: str = "dataset") -> None:
    """Raise DataError (message starting with ``source``) unless the arrays form a valid data set.

    Valid: X_* 2-D with ≥ 1 column and equal column counts, y_* 1-D with one label per row of X_*,
    all finite, and at least one training row (the test set may be empty).
    """
    arrays = {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}
    for name, arr in arrays.items():
        if not _is_real_array(arr):
            dtype = getattr(arr, "dtype", type(arr).__name__)
            raise DataError(f"{source}: array {name!r} must be real-valued (float or int), got dtype {dtype}")
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim != 2:
            raise DataError(f"{source}: X_{split} must be 2-D (n, d), got shape {X.shape}")
        if y.ndim != 1:
            raise DataError(f"{source}: y_{split} must be 1-D (n,), got shape {y.shape}")
        if y.shape[0] != X.shape[0]:
            raise DataError(f"{source}: y_{split} has {y.shape[0]} labels but X_{split} has {X.shape[0]} rows")
    if X_train.shape[0] == 0:
        raise DataError(f"{source}: X_train is empty (0 rows)")
    if X_train.shape[1] == 0:
        raise DataError(f"{source}: X_train has 0 columns")
    if X_test.shape[1] != X_train.shape[1]:
        raise DataError(f"{source}: X_test has {X_test.shape[1]} columns but X_train has {X_train.shape[1]}")
    for name, arr in arrays.items():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise DataError(f"{source}: array {name!r} has {bad} non-finite value(s) (NaN or inf)")


@dataclass
class Dataset:
    """Train/test arrays (float64): X_* (n, d), y_* (n,). ``d`` counts the constant feature if present."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    target: str
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ARRAY_NAMES:
            arr = np.asarray(getattr(self, name))
            if _is_real_array(arr):
                arr = arr.astype(np.float64, copy=False)
            setattr(self, name, arr)
        check_arrays(self.X_train, self.y_train, self.X_test, self.y_test, source=f"dataset {self.target!r}")

    @property
    def d(self) -> int:
        return self.X_train.shape[1]


def get_target(name: str) -> Target:
    """TARGETS[name], or ValueError listing the known targets."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known targets: {', '.join(TARGETS)}")
    return TARGETS[name]


def make_dataset(
    target: str = "sin1d",
    n_train: int = 100,
    n_test: int = 200,
    seed: int = 0,
    constant_feature: bool = True,
    noise: float = 0.0,
    dim: int | None = None,
) -> Dataset:
    """One seeded draw of n_train + n_test inputs uniform on the target's domain, split train/test.

    Inputs come from ``numpy.random.default_rng(seed)``: the first n_train rows are the training
    set, so the training inputs do not depend on n_test. Label noise ε ~ N(0, noise²) is added to
    y_train only, drawn from an independent stream (``SeedSequence(seed).spawn(1)[0]``) so switching
    noise on or off leaves the inputs unchanged. ``constant_feature=True`` appends a column of ones
    (see the module docstring for why a bias-free σ_s network needs it). ``dim``: the input dimension
    of a target in DIM_TARGETS (sphere_d), else None.
    """
    spec = get_target(target)
    if dim is not None:
        if target not in DIM_TARGETS:
            raise ValueError(f"dim is only for the targets {', '.join(DIM_TARGETS)}, not {target!r}")
        spec = DIM_TARGETS[target](dim)
    n_train = integer_at_least("n_train", n_train, 1)
    n_test = integer_at_least("n_test", n_test, 0)
    seed = integer_at_least("seed", seed, 0)
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite real >= 0 (label noise std), got {noise!r}")
    noise = float(noise)

    X = np.asarray(spec.sampler(np.random.default_rng(seed), n_train + n_test), dtype=np.float64)
    y = spec(X)
    y_train, y_test = y[:n_train].copy(), y[n_train:].copy()
    if noise > 0:
        noise_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        y_train += noise * noise_rng.standard_normal(n_train)
    if constant_feature:
        X = add_constant_feature(X)
    meta = {
        "target": spec.name,
        "description": spec.description,
        "n_train": n_train,
        "n_test": n_test,
        "seed": seed,
        "noise": noise,
        "constant_feature": bool(constant_feature),
        **({"dim": spec.d} if dim is not None else {}),
        "hrta_version": __version__,
        "numpy_version": np.__version__,
    }
    return Dataset(X[:n_train].copy(), y_train, X[n_train:].copy(), y_test, target=spec.name, meta=meta)


# --------------------------------------------------------------------------------------------
# Storage.


def save_dataset(ds: Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` as .npz (the four arrays plus ``meta`` as a JSON string), atomically.

    The file is written to a temporary file in the same directory and moved into place with
    os.replace, so an interrupted write never leaves a partial file under ``path`` (an existing
    file there stays intact). Returns ``path`` as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(ds.meta, target=ds.target)
    arrays = {name: np.ascontiguousarray(getattr(ds, name), dtype=np.float64) for name in ARRAY_NAMES}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file object: np.savez would append ".npz" to a name
        np.savez(fh, **arrays, **{META_NAME: np.array(json.dumps(meta, sort_keys=True))})
    return path


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a .npz written by save_dataset, validating it; DataError names the file and the problem."""
    path = Path(path)
    src = f"data file {str(path)!r}"
    if not path.is_file():
        raise DataError(f"{src}: no such file")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{src}: not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in (*ARRAY_NAMES, META_NAME) if name not in npz.files]
            if missing:
                raise DataError(f"{src}: missing array(s) {', '.join(missing)}")
            arrays = {name: npz[name] for name in ARRAY_NAMES}
            meta_raw = npz[META_NAME]
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{src}: unreadable .npz ({exc})") from None
    try:
        meta = json.loads(str(meta_raw.item()))
    except (ValueError, TypeError) as exc:
        raise DataError(f"{src}: 'meta' is not a JSON string ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("target"), str):
        raise DataError(f"{src}: 'meta' must be a JSON object with a string 'target'")
    check_arrays(**arrays, source=src)
    return Dataset(**{k: v.astype(np.float64) for k, v in arrays.items()}, target=meta["target"], meta=meta)


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
    import hashlib  # noqa: PLC0415

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


def dataset_from_config(spec: dict) -> Dataset:
    """The Dataset of one config entry ``datasets.NAME`` (a ``name`` key is ignored): a user's file
    (``{file, constant_feature}``, load_dataset_file) or a built-in draw (make_dataset arguments)."""
    args = {k: v for k, v in spec.items() if k != "name"}
    if "file" in args:
        return load_dataset_file(args["file"], constant_feature=bool(args.get("constant_feature", False)))
    return make_dataset(**args)
