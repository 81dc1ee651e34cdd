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
    "add_constant_feature",
    "check_arrays",
    "franke2d",
    "get_target",
    "load_dataset",
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
