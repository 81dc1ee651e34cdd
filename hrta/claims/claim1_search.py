"""Claim 1 ("λ_min(K_s) grows with s on (0, 2)") searched for counterexamples over random data sets.

Decomposition
-------------
For the ReLU base, σ_s(z) = (1 − s)·z + s·ReLU(z) = α·z + β·|z| with α = 1 − s/2, β = s/2, and
σ_s'(z) = α + β·sign z. In the infinite-width NTK (hrta.ntk)

    Θ_s(x, x') = E[σ_s(u)σ_s(v)] + (x·x')·E[σ_s'(u)σ_s'(v)],   (u, v) ~ N(0, Gram(x, x')),

the cross terms αβ·E[u|v|], αβ·E[sign u] are odd under (u, v) → (−u, −v) (the symmetry w → −w of
the Gaussian weights) and vanish, so for both layers and for the first layer alone, exactly,

    K_s = α²·K_0 + β²·K_2,

K_0 the kernel of the identity activation (s = 0): K_0 = 2·X Xᵀ (both layers: E[uv] + x·x') or
K_0 = X Xᵀ (first layer), and K_2 the kernel of |z| (s = 2, σ_2 = |z|). Both are PSD; rank K_0 =
rank X ≤ d (d counting a constant feature).

What it implies for λ(s) = λ_min(K_s/n), the quantity computed here (eigenvalues of K/n drive
linearized GD, see hrta.ntk):

1. Scaling bounds. λ(s) = β²·μ(r) with r = (α/β)² = ((2 − s)/s)², decreasing in s, and μ(r) =
   λ_min((r·K_0 + K_2)/n), nondecreasing in r (K_0 ⪰ 0). Hence λ(s)/s² is nonincreasing in s; in the
   same way λ(s)/(2 − s)² = λ_min((K_0 + q·K_2)/n)/4 with q = (s/(2 − s))² increasing, so it is
   nondecreasing. For 0 < s < t < 2:

       λ(s)·((2 − t)/(2 − s))²  ≤  λ(t)  ≤  λ(s)·(t/s)²,

   so a fall of λ over [s, t] has relative size at most 1 − ((2 − t)/(2 − s))², and a rise at most
   (t/s)² − 1. Neither bound forces monotonicity.
2. Derivative. At a simple bottom eigenvalue with unit eigenvector v (envelope theorem), writing
   λ = E_0 + E_2 with E_0 = α²·vᵀK_0v/n (linear part) and E_2 = β²·vᵀK_2v/n,

       λ'(s) = −α·vᵀK_0v/n + β·vᵀK_2v/n = 2·E_2/s − 2·E_0/(2 − s),

   so λ increases at s  ⇔  E_0/λ < 1 − s/2: the linear part's share of the bottom Rayleigh
   quotient must stay below 1 − s/2.
3. Near s = 0. If K_0 has full rank (n ≤ d, or n ≤ d + 1 with a constant feature, for data in
   general position), the bottom eigenvector is carried by the linear part (share → 1 > 1 − s/2):
   λ(s) = α²·λ_min(K_0/n) + O(s²), λ'(0) = −λ_min(K_0/n) < 0 — λ *decreases* near 0, a counterexample
   for every such data set, with a relative fall ≈ 1 − ((2 − t)/(2 − s))² per step, i.e. the largest
   the bound of 1. allows. If rank K_0 < n, λ(0) = 0 and λ(s) ≈ β²·λ_min of K_2/n compressed to
   null(K_0): λ grows like s² near 0.
   The fall lasts only while the linear share stays ≥ 1 − s/2, i.e. until β²·vᵀK_2v/n becomes comparable
   with λ_min(K_0/n): for n close to d, X Xᵀ is nearly singular and the fall ends before the search grid's
   first step (measured, n = d = 20, no constant feature, 6 draws: minimum at s = 8e-6…4e-3, relative
   drop 3e-6…2e-3). Grid counts of falls near 0 are therefore lower bounds for full-rank families.
4. Near s = 2. λ'(2) = λ_min(K_2/n) > 0 when K_2 is positive definite, so λ increases at s = 2. But
   with v near the bottom eigenvector of K_2 the condition of 2. reads, to leading order,
   1 − s/2 < vᵀK_2v / vᵀK_0v: if K_2 is nearly singular along a direction where K_0 is large, λ can
   fall on an interval ending just below 2. This happens without a constant feature: the |z| kernel
   cannot tell x from −x (K_2(x, ·) = K_2(−x, ·)), so a nearly antipodal pair x_i ≈ −x_j gives
   v ≈ (e_i − e_j)/√2 with vᵀK_2v ≈ 0 and vᵀK_0v ≈ 2c|x_i|² (c = 2 or 1). With the constant feature
   (x, 1) and (−x, 1) are not antipodal.
5. In between, no general statement: the search below measures it.

Numerics
--------
K_0 and K_2 are computed once per data set with :func:`hrta.ntk.analytic_ntk`; for every s the matrix
α²K_0/n + β²K_2/n is reduced to tridiagonal form (LAPACK dsytrd, the O(n³) part) and its smallest and largest eigenvalues
found by bisection on the tridiagonal matrix (dstebz, O(n) each), float64 throughout.
Both are backward stable: each computed eigenvalue is exact for a matrix within ~p(n)·ε·‖K/n‖ of the
one formed, and the kernel entries themselves carry ~1e-15·|x||x'| error. A λ_min is *resolved* if
λ_min > floor = C_FLOOR·n·ε·λ_max with C_FLOOR = 10, ε = 2⁻⁵² (FLOOR_RULE); below it the computed value
is rounding noise and is never counted as a rise or a fall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.linalg import lapack

from hrta.data import add_constant_feature

__all__ = [
    "C_FLOOR",
    "FLOOR_RULE",
    "FLAT_RTOL",
    "RULE_FALL",
    "RULE_UNIVERSAL",
    "SUPPORTED",
    "NOT_SUPPORTED",
    "INCONCLUSIVE",
    "DEFAULT_NS",
    "DEFAULT_DS",
    "DEFAULT_DRAWS",
    "SCHEDULE_RANGE",
    "SUMMARY_COLUMNS",
    "Fall",
    "LambdaCurve",
    "SearchCurves",
    "UniversalVerdict",
    "sphere_draw",
    "draw_seed",
    "kernel_parts",
    "kernel_parts_all",
    "lambda_min_curve",
    "s_grid_search",
    "falls",
    "first_fall",
    "search_curves",
    "summarize_curves",
    "curves_long",
    "search_table",
    "verdict_universal",
]

EPS = float(np.finfo(np.float64).eps)
C_FLOOR = 10.0
FLOOR_RULE = "λ_min is resolved if λ_min > 10·n·ε·λ_max (ε = 2⁻⁵², eigenvalues of K_s/n in float64)"
# a decrease smaller than this relative to λ (or than either point's rounding floor) is flat
FLAT_RTOL = 1e-10

RULE_FALL = (
    "over the resolved points of a λ_min(K_s/n) curve in increasing s (unresolved points skipped, never a rise "
    "nor a fall), λ_min falls at s_j if λ(s_j) < λ(s_i) − tol for the previous resolved point s_i, "
    "tol = max(floor_i, floor_j, 1e-10·λ(s_i)); smaller decreases are a plateau within rounding"
)
SUPPORTED = "supported"
NOT_SUPPORTED = "not supported in general"
INCONCLUSIVE = "inconclusive"
RULE_UNIVERSAL = (
    "the universal statement 'λ_min(K_s) increases with s on (0, 2)' is not supported in general if any "
    "draw of any family (n, d, constant feature, layers) has a resolved fall (RULE_FALL); supported if no draw "
    "has one and every draw has at least 2 resolved points; inconclusive otherwise (also with no draws)"
)

DEFAULT_NS = (10, 20, 50, 100, 200)
DEFAULT_DS = (2, 3, 5, 10, 20)
DEFAULT_DRAWS = 20


# ----------------------------------------------------------------------------------------------------
# data


def sphere_draw(n: int, d: int, seed: int, constant_feature: bool = False) -> np.ndarray:
    """n points uniform on the unit sphere S^{d−1} ⊂ R^d (standard Gaussians normalised), drawn with
    ``numpy.random.default_rng(seed)``; with ``constant_feature`` a column of ones is appended
    (hrta.data.add_constant_feature), giving (n, d + 1). The first d columns do not depend on the flag."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    g = np.random.default_rng(seed).standard_normal((int(n), int(d)))
    X = g / np.linalg.norm(g, axis=1, keepdims=True)  # a Gaussian vector is 0 with probability zero
    return add_constant_feature(X) if constant_feature else X


def draw_seed(seed0: int, n: int, d: int, draw: int) -> int:
    """The seed of draw ``draw`` of the family (n, d): a 63-bit integer from SeedSequence([seed0, n, d, draw]),
    so families and draws get independent streams and the constant-feature / layers variants share X."""
    return int(np.random.SeedSequence([int(seed0), int(n), int(d), int(draw)]).generate_state(2, np.uint64)[0] >> 1)


# ----------------------------------------------------------------------------------------------------
# λ_min curves


class LambdaCurve(NamedTuple):
    """λ_min and λ_max of K_s/n at each s, whether λ_min is resolved, and the rounding floor used."""

    lam: np.ndarray
    resolved: np.ndarray
    lam_max: np.ndarray
    floor: np.ndarray


def kernel_parts(X, layers: str = "both") -> tuple[np.ndarray, np.ndarray]:
    """(K_0, K_2) = (analytic_ntk(X, 0, layers), analytic_ntk(X, 2, layers)) as float64 numpy arrays, so that
    K_s = (1 − s/2)²·K_0 + (s/2)²·K_2 (module docstring)."""
    from hrta.ntk import analytic_ntk  # noqa: PLC0415 (deferred: the claims report reads the rules without torch)

    X = np.asarray(X, dtype=np.float64)
    return analytic_ntk(X, 0.0, layers).numpy(), analytic_ntk(X, 2.0, layers).numpy()


def kernel_parts_all(X, layers_list: Sequence[str] = ("both", "first")) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{layers: (K_0, K_2)} for several ``layers`` from one dual_kernels call per s ∈ {0, 2}: the same
    arithmetic as analytic_ntk (K = (X Xᵀ)⊙E[σ'σ'] (+ E[σσ] for both layers), then ½(K + Kᵀ)), so the
    result equals kernel_parts(X, layers) bit for bit, at half the cost when both layers are wanted."""
    import torch  # noqa: PLC0415 (deferred, as in kernel_parts)

    from hrta.ntk import dual_kernels  # noqa: PLC0415

    X64 = torch.as_tensor(np.asarray(X, dtype=np.float64))
    G = X64 @ X64.T
    duals = [dual_kernels(X64, s, "relu", "closed") for s in (0.0, 2.0)]
    out = {}
    for layers in layers_list:
        if layers not in ("both", "first"):
            raise ValueError(f"unknown layers {layers!r}; expected 'both' or 'first'")
        parts = []
        for e_ss, e_dd in duals:
            K = G * e_dd
            if layers == "both":
                K = K + e_ss
            parts.append((0.5 * (K + K.T)).numpy())
        out[layers] = (parts[0], parts[1])
    return out


def _extreme_eigenvalues(M: np.ndarray) -> tuple[float, float]:
    """(λ_min, λ_max) of the symmetric M: Householder tridiagonalisation (dsytrd, O(n³)), then bisection for
    the first and the last eigenvalue of the tridiagonal matrix (dstebz, O(n) each, absolute tolerance
    ε·‖T‖). Both steps are backward stable."""
    n = M.shape[0]
    if n == 1:
        return float(M[0, 0]), float(M[0, 0])
    # M is exactly symmetric, so M.T (Fortran-ordered, not copied by f2py) is the same matrix
    _, d, e, _, info = lapack.dsytrd(M.T, lower=1, lwork=64 * n, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dsytrd failed (info={info})")
    ends = []
    for k in (1, n):  # range 2 = by index (1-based il..iu)
        m, w, _, _, info = lapack.dstebz(d, e, 2, 0.0, 0.0, k, k, 0.0, "E")
        if info != 0 or m != 1:
            raise np.linalg.LinAlgError(f"dstebz failed (info={info}, m={m})")
        ends.append(float(w[0]))
    return ends[0], ends[1]


def lambda_min_curve(X, s_grid, layers: str = "both", parts: tuple | None = None) -> LambdaCurve:
    """λ_min(K_s/n) for every s in ``s_grid``, via K_s/n = (1 − s/2)²·K_0/n + (s/2)²·K_2/n (float64).

    K_0, K_2 come from :func:`kernel_parts` (or ``parts``, precomputed); for each s only the tridiagonal
    reduction of one n×n matrix is done, and λ_min, λ_max are found by bisection on the tridiagonal matrix.
    resolved[i] = λ_min > floor[i] = 10·n·ε·λ_max (C_FLOOR = 10, ε = 2⁻⁵²). λ_max gives κ = λ_max/λ_min.
    Returns LambdaCurve(lam, resolved, lam_max, floor), arrays of len(s_grid).
    """
    s_grid = np.asarray(s_grid, dtype=np.float64).ravel()
    if not np.all(np.isfinite(s_grid)):
        raise ValueError("s_grid must be finite")
    K0, K2 = kernel_parts(X, layers) if parts is None else parts
    n = K0.shape[0]
    K0n, K2n = K0 / n, K2 / n
    lam = np.empty(s_grid.size)
    lam_max = np.empty(s_grid.size)
    for i, s in enumerate(s_grid):
        a2, b2 = (1.0 - 0.5 * s) ** 2, (0.5 * s) ** 2
        lam[i], lam_max[i] = _extreme_eigenvalues(a2 * K0n + b2 * K2n)
    floor = C_FLOOR * n * EPS * np.abs(lam_max)
    return LambdaCurve(lam, lam > floor, lam_max, floor)


def s_grid_search(fine_step: float = 0.01, coarse_step: float = 0.05, fine_width: float = 0.2) -> np.ndarray:
    """The search grid in (0, 2]: fine_step, 2·fine_step, …, fine_width; then coarse_step steps strictly between
    fine_width and 2 − fine_width; then 2 − fine_width, …, 2 in fine_step steps. Defaults: 0.01…0.20,
    0.25…1.75, 1.80…2.00 (72 points). Values are rounded to 12 decimals (no accumulated drift)."""
    for name, v in (("fine_step", fine_step), ("coarse_step", coarse_step), ("fine_width", fine_width)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if not fine_width < 1.0:
        raise ValueError(f"fine_width must be < 1 (the two fine ranges may not overlap), got {fine_width!r}")
    if coarse_step < fine_step:
        raise ValueError(f"coarse_step ({coarse_step}) must be >= fine_step ({fine_step})")
    k = int(math.floor(fine_width / fine_step + 1e-9))
    low = fine_step * np.arange(1, k + 1)
    high = 2.0 - fine_step * np.arange(k, -1, -1)
    top = fine_width + coarse_step * np.arange(1, int(math.ceil((2.0 - 2.0 * fine_width) / coarse_step)) + 1)
    mid = top[top < 2.0 - fine_width - 1e-9]
    grid = np.unique(np.round(np.concatenate([low, mid, high]), 12))
    return grid[(grid > 0) & (grid <= 2.0)]


# ----------------------------------------------------------------------------------------------------
# the rule on one curve


class Fall(NamedTuple):
    """The first fall of a curve: s at which λ first lies below the previous resolved point, that drop
    relative to the previous point, and the largest drop of any resolved point below the highest earlier
    resolved point, relative to that peak (≥ relative_drop)."""

    s: float
    relative_drop: float
    max_relative_drop: float


def _check_curve(s, lam, resolved, floor):
    s = np.asarray(s, dtype=np.float64).ravel()
    lam = np.asarray(lam, dtype=np.float64).ravel()
    resolved = np.asarray(resolved, dtype=bool).ravel()
    floor = np.zeros_like(lam) if floor is None else np.broadcast_to(np.asarray(floor, dtype=np.float64), lam.shape)
    if not (s.size == lam.size == resolved.size):
        raise ValueError(f"s, lam and resolved must have equal lengths, got {s.size}, {lam.size}, {resolved.size}")
    if s.size > 1 and not np.all(np.diff(s) > 0):
        raise ValueError("s must be strictly increasing")
    resolved = resolved & np.isfinite(lam)
    return s, lam, resolved, floor


def falls(s, lam, resolved, floor=None) -> np.ndarray:
    """Indices j of every fall (RULE_FALL): resolved points with λ_j < λ_i − max(floor_i, floor_j, 1e-10·λ_i),
    i the previous resolved point. ``floor`` (per point or scalar; default 0) is lambda_min_curve's floor."""
    s, lam, resolved, floor = _check_curve(s, lam, resolved, floor)
    idx = np.flatnonzero(resolved)
    if idx.size < 2:
        return np.zeros(0, dtype=np.int64)
    i, j = idx[:-1], idx[1:]
    tol = np.maximum(np.maximum(floor[i], floor[j]), FLAT_RTOL * np.abs(lam[i]))
    return j[lam[j] < lam[i] - tol]


def first_fall(s, lam, resolved, floor=None) -> Fall | None:
    """None if λ_min never falls between consecutive resolved points by more than rounding (RULE_FALL),
    else Fall(s_j of the first fall, (λ_i − λ_j)/λ_i, max over resolved j of (peak_{<j} − λ_j)/peak_{<j})."""
    s, lam, resolved, floor = _check_curve(s, lam, resolved, floor)
    where = falls(s, lam, resolved, floor)
    if where.size == 0:
        return None
    idx = np.flatnonzero(resolved)
    j = int(where[0])
    i = int(idx[np.searchsorted(idx, j) - 1])
    lr = lam[idx]
    peak = np.maximum.accumulate(lr)[:-1]
    max_drop = float(np.max((peak - lr[1:]) / peak))
    return Fall(float(s[j]), float((lam[i] - lam[j]) / lam[i]), max_drop)


# ----------------------------------------------------------------------------------------------------
# the search


def _kappa_max(c: LambdaCurve) -> float:
    """Largest κ = λ_max/λ_min over the resolved points of a curve (inf if none is resolved)."""
    return float(np.max(c.lam_max[c.resolved] / c.lam[c.resolved])) if c.resolved.any() else math.inf


@dataclass
class SearchCurves:
    """Per-draw curves of a search: ``keys`` has one row per curve (n, d, constant_feature, layers, draw, seed,
    features, full_rank_lin, and the rule's outcome); ``lam``, ``lam_max``, ``floor``, ``resolved`` are
    (curves, len(s)) arrays on the grid ``s``."""

    s: np.ndarray
    keys: pd.DataFrame
    lam: np.ndarray
    lam_max: np.ndarray
    floor: np.ndarray
    resolved: np.ndarray
    fine_width: float = 0.2
    meta: dict = field(default_factory=dict)


#: the s the paper's schedules use (0.5 → 1, 1.5 → 1): falls there are counted apart (issue 24, point 6)
SCHEDULE_RANGE = (0.5, 1.5)


def search_curves(
    ns: Sequence[int] = DEFAULT_NS,
    ds: Sequence[int] = DEFAULT_DS,
    draws: int = DEFAULT_DRAWS,
    constant_features: Sequence[bool] = (False, True),
    layers_list: Sequence[str] = ("both", "first"),
    s_grid=None,
    seed0: int = 0,
    fine_width: float = 0.2,
    schedule_range: tuple[float, float] = SCHEDULE_RANGE,
) -> SearchCurves:
    """λ_min(K_s/n) curves for every (n, d, draw, constant_feature, layers); X = sphere_draw(n, d,
    draw_seed(seed0, n, d, draw), constant_feature), so the variants of one draw share the sphere points.
    ``fine_width`` only labels falls as near 0 (s ≤ fine_width), near 2 (s ≥ 2 − fine_width) or middle;
    ``schedule_range`` [a, b] labels falls at a ≤ s ≤ b (fall_in_schedule_range: the s the paper's schedules use)."""
    s = s_grid_search(fine_width=fine_width) if s_grid is None else np.asarray(s_grid, dtype=np.float64).ravel()
    rows, lams, lmaxs, floors, res = [], [], [], [], []
    for n in ns:
        for d in ds:
            for draw in range(int(draws)):
                seed = draw_seed(seed0, n, d, draw)
                for cf in constant_features:
                    X = sphere_draw(n, d, seed, bool(cf))
                    parts = kernel_parts_all(X, layers_list)
                    for layers in layers_list:
                        c = lambda_min_curve(X, s, layers, parts[layers])
                        where = falls(s, c.lam, c.resolved, c.floor)
                        ff = first_fall(s, c.lam, c.resolved, c.floor)
                        fs = s[where]
                        rows.append(
                            {
                                "n": int(n),
                                "d": int(d),
                                "constant_feature": bool(cf),
                                "layers": layers,
                                "draw": draw,
                                "seed": seed,
                                "features": X.shape[1],
                                "full_rank_lin": bool(n <= X.shape[1]),
                                "violates": ff is not None,
                                "first_fall_s": np.nan if ff is None else ff.s,
                                "last_fall_s": np.nan if ff is None else float(fs[-1]),
                                "relative_drop": np.nan if ff is None else ff.relative_drop,
                                "max_relative_drop": np.nan if ff is None else ff.max_relative_drop,
                                "fall_near_0": bool(np.any(fs <= fine_width + 1e-12)),
                                "fall_middle": bool(np.any((fs > fine_width + 1e-12) & (fs < 2 - fine_width - 1e-12))),
                                "fall_near_2": bool(np.any(fs >= 2 - fine_width - 1e-12)),
                                "fall_in_schedule_range": bool(
                                    np.any((fs >= schedule_range[0] - 1e-12) & (fs <= schedule_range[1] + 1e-12))
                                ),
                                "unresolved_points": int(np.count_nonzero(~c.resolved)),
                                "kappa_max": _kappa_max(c),
                            }
                        )
                        lams.append(c.lam)
                        lmaxs.append(c.lam_max)
                        floors.append(c.floor)
                        res.append(c.resolved)
    stack = lambda a, dt: np.array(a, dtype=dt).reshape(len(rows), s.size)  # noqa: E731
    return SearchCurves(
        s,
        pd.DataFrame(rows),
        stack(lams, np.float64),
        stack(lmaxs, np.float64),
        stack(floors, np.float64),
        stack(res, bool),
        fine_width,
        {"seed0": seed0, "draws": int(draws)},
    )


SUMMARY_COLUMNS = (
    "n",
    "d",
    "constant_feature",
    "layers",
    "full_rank_lin",
    "draws",
    "violations",
    "fraction_violating",
    "first_fall_s",
    "median_first_fall_s",
    "max_relative_drop",
    "falls_near_0",
    "falls_middle",
    "falls_near_2",
    "falls_in_schedule_range",
    "unresolved_points",
)


def summarize_curves(curves: SearchCurves) -> pd.DataFrame:
    """One row per (n, d, constant_feature, layers): draws, violations (draws with a fall), fraction_violating,
    first_fall_s (min over draws), median_first_fall_s (over violating draws), max_relative_drop (max over
    draws), draws with a fall near 0 / in the middle / near 2 / in the schedules' range [0.5, 1.5],
    unresolved_points (total over draws)."""
    k = curves.keys
    g = k.groupby(["n", "d", "constant_feature", "layers"], sort=True)
    out = g.agg(
        full_rank_lin=("full_rank_lin", "all"),
        draws=("draw", "size"),
        violations=("violates", "sum"),
        first_fall_s=("first_fall_s", "min"),
        median_first_fall_s=("first_fall_s", "median"),
        max_relative_drop=("max_relative_drop", "max"),
        falls_near_0=("fall_near_0", "sum"),
        falls_middle=("fall_middle", "sum"),
        falls_near_2=("fall_near_2", "sum"),
        falls_in_schedule_range=("fall_in_schedule_range", "sum"),
        unresolved_points=("unresolved_points", "sum"),
    ).reset_index()
    out["violations"] = out["violations"].astype(int)
    out["fraction_violating"] = out["violations"] / out["draws"]
    return out[list(SUMMARY_COLUMNS)]


def curves_long(curves: SearchCurves) -> pd.DataFrame:
    """Long table of a search: one row per (curve, s) with the curve's keys, s, lam, lam_max, floor, resolved."""
    m = curves.s.size
    keys = curves.keys[["n", "d", "constant_feature", "layers", "draw", "violates"]].loc[
        np.repeat(curves.keys.index, m)
    ]
    keys = keys.reset_index(drop=True)
    keys["s"] = np.tile(curves.s, len(curves.keys))
    keys["lam"] = curves.lam.ravel()
    keys["lam_max"] = curves.lam_max.ravel()
    keys["floor"] = curves.floor.ravel()
    keys["resolved"] = curves.resolved.ravel()
    return keys


def search_table(
    ns: Sequence[int] = DEFAULT_NS,
    ds: Sequence[int] = DEFAULT_DS,
    draws: int = DEFAULT_DRAWS,
    constant_features: Sequence[bool] = (False, True),
    layers_list: Sequence[str] = ("both", "first"),
    s_grid=None,
    seed0: int = 0,
    return_curves: bool = False,
):
    """The search summary (summarize_curves of search_curves with these arguments); with ``return_curves``
    the pair (summary, SearchCurves) — the per-draw curves for the worst/typical draws figure."""
    curves = search_curves(ns, ds, draws, constant_features, layers_list, s_grid, seed0)
    summary = summarize_curves(curves)
    return (summary, curves) if return_curves else summary


# ----------------------------------------------------------------------------------------------------
# verdict


@dataclass(frozen=True)
class UniversalVerdict:
    """Verdict on the universal statement, the families (n, d, constant_feature, layers) where it held on every
    draw and where some draw fell, and the rule (RULE_UNIVERSAL)."""

    verdict: str
    holds_on: list
    fails_on: list
    rule: str = RULE_UNIVERSAL


def verdict_universal(summary: pd.DataFrame, min_resolved_points: int | None = None) -> UniversalVerdict:
    """Apply RULE_UNIVERSAL to a summary of summarize_curves. Without per-draw resolution counts the summary
    cannot tell how many points each draw resolved; pass ``min_resolved_points`` (the smallest number of
    resolved points of any draw, e.g. from SearchCurves.resolved.sum(1).min()) to get "inconclusive" when < 2."""
    key = lambda r: (int(r.n), int(r.d), bool(r.constant_feature), str(r.layers))  # noqa: E731
    fails = [key(r) for r in summary.itertuples() if r.violations > 0]
    holds = [key(r) for r in summary.itertuples() if r.violations == 0]
    if fails:
        label = NOT_SUPPORTED
    elif summary.empty or (min_resolved_points is not None and min_resolved_points < 2):
        label = INCONCLUSIVE
    else:
        label = SUPPORTED
    return UniversalVerdict(label, holds, fails)
