"""Small statistics for the verdicts: Student-t quantiles (scipy.stats), geometric-mean intervals on paired
ratios, log-log slopes with intervals."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["geometric_mean_interval", "loglog_slope", "student_t_quantile"]


def student_t_quantile(p: float, df: int) -> float:
    """The p-quantile q of Student's t with ``df`` degrees of freedom, P(T ≤ q) = p (scipy.stats.t.ppf), with
    the arguments checked first."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    if isinstance(df, bool) or int(df) != df or df < 1:
        raise ValueError(f"df must be a positive integer, got {df!r}")
    # imported here: scipy.stats costs ≈ 1.4 CPU-s to import, and most jobs that import hrta.claims never ask
    # for a quantile (the per-job fixed costs of hrta.pipeline.runtime are measured that way)
    import scipy.stats  # noqa: PLC0415

    return float(scipy.stats.t.ppf(p, int(df)))


def geometric_mean_interval(ratios: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Geometric mean of positive finite ratios and its t-interval on the log scale.

    With l_i = log r_i (k values): centre exp(mean l), interval exp(mean l ± t_{(1+level)/2, k−1}·sd(l)/√k)
    (sd with k − 1 in the denominator). Needs k ≥ 2 (else the interval is (NaN, NaN)).
    """
    r = np.asarray(ratios, dtype=float)
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError(f"ratios must be positive and finite, got {r.tolist()}")
    logs = np.log(r)
    centre = float(np.exp(logs.mean()))
    if r.size < 2:
        return centre, math.nan, math.nan
    half = student_t_quantile((1 + level) / 2, r.size - 1) * logs.std(ddof=1) / math.sqrt(r.size)
    return centre, float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half))


def loglog_slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Least-squares slope b of log y = a + b·log x and its t-interval b ± t_{(1+level)/2, N−2}·se(b).

    se(b) = sqrt(RSS/(N−2) / Σ(log x − mean)²). All (x, y) pairs enter (several seeds per x are
    several points). Needs N ≥ 3 points and ≥ 2 distinct x (else the interval is (NaN, NaN)).
    """
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    if lx.shape != ly.shape or lx.size < 2 or not (np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))):
        raise ValueError("x and y must be positive, finite and of the same length ≥ 2")
    sxx = float(((lx - lx.mean()) ** 2).sum())
    if sxx == 0.0:
        return math.nan, math.nan, math.nan
    b = float(((lx - lx.mean()) * (ly - ly.mean())).sum() / sxx)
    if lx.size < 3:
        return b, math.nan, math.nan
    resid = ly - ly.mean() - b * (lx - lx.mean())
    se = math.sqrt(float((resid**2).sum()) / (lx.size - 2) / sxx)
    half = student_t_quantile((1 + level) / 2, lx.size - 2) * se
    return b, b - half, b + half
