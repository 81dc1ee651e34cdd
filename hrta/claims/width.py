"""Rules of claims 1–3 (where the NTK theory lives): λ_min(s) on every data set, the slope of the
kernel error with width, and the lazy horizon of GD against width.

* Slopes are least-squares slopes of log(value) on log(width) over all (width, seed) points, with a
  two-sided 95% Student-t interval (hrta.claims.stats.loglog_slope); a trend "falls with width" when
  the whole interval lies below 0. For the kernel error the central-limit rate is slope −½: the
  report says whether the interval contains it, but that does not decide the claim.
* The measured/predicted loss ratio at step t is L_measured(t) / L_predicted(t), the prediction being
  GD on the network linearized at θ₀ (hrta.ntk.predict_lazy_loss_curve); mismatch = |ratio − 1|.
* The lazy horizon t_ε of one run is the last logged step t such that |ratio(t') − 1| ≤ ε at every
  logged t' ≤ t (ratio(0) = 1 by construction). If it holds through the last logged step, t_ε is
  that step and *censored* (the true horizon is at least that). A diverged run has t_ε at most its
  last finite logged step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hrta.claims.rules import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Verdict, verdict_monotone
from hrta.claims.stats import loglog_slope

__all__ = [
    "RULE_LAMBDA_MIN",
    "RULE_SLOPE_BELOW_ZERO",
    "RULE_MISMATCH_TREND",
    "RULE_LAZY_HORIZON",
    "Drop",
    "SlopeFit",
    "decreasing_intervals",
    "falls_between",
    "verdict_lambda_min_increasing",
    "slope_fit",
    "verdict_slope_below_zero",
    "ratio_at_horizons",
    "lazy_horizon",
    "verdict_mismatch_falls",
    "RULE_WITHIN_EPSILON",
    "verdict_within_epsilon",
    "verdict_lazy_horizon_grows",
]


# ----------------------------------------------------------------------------------------------------
# claim 1: λ_min(s)


@dataclass(frozen=True)
class Drop:
    """A maximal interval [s_from, s_to] of the grid over which λ_min does not increase: it falls
    from ``start`` to ``end`` (``fall`` = start − end ≥ 0, ``relative`` = fall / start)."""

    s_from: float
    s_to: float
    start: float
    end: float

    @property
    def fall(self) -> float:
        return self.start - self.end

    @property
    def relative(self) -> float:
        return self.fall / abs(self.start) if self.start != 0 else math.inf

    def describe(self) -> str:
        return (
            f"s ∈ [{self.s_from:.4g}, {self.s_to:.4g}]: {self.start:.4g} → {self.end:.4g} "
            f"(falls by {self.fall:.3g}, {100 * self.relative:.3g}%)"
        )


def decreasing_intervals(s: Sequence[float], values: Sequence[float]) -> list[Drop]:
    """Every maximal run of consecutive grid points (sorted by s) over which ``values`` does not
    increase (each step Δ ≤ 0), with the total fall over the run. Non-finite points are dropped."""
    x, y = np.asarray(s, dtype=float), np.asarray(values, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"s and values differ in length: {x.size} vs {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    x, y = x[keep][order], y[keep][order]
    drops, i = [], 0
    while i < x.size - 1:
        if y[i + 1] <= y[i]:
            j = i + 1
            while j < x.size - 1 and y[j + 1] <= y[j]:
                j += 1
            drops.append(Drop(float(x[i]), float(x[j]), float(y[i]), float(y[j])))
            i = j
        else:
            i += 1
    return drops


def falls_between(
    s: Sequence[float], lam: Sequence[float], resolved: Sequence[bool], lo: float = 0.5, hi: float = 1.5
) -> list[Drop]:
    """The intervals of :func:`decreasing_intervals` over the resolved points that overlap (lo, hi): where λ_min
    fails to increase inside the range of s the paper's schedules use (s ∈ [0.5, 1.5] by default). A drop
    [s_from, s_to] overlaps when s_from < hi and s_to > lo."""
    keep = np.asarray(resolved, dtype=bool)
    drops = decreasing_intervals(np.asarray(s, dtype=float)[keep], np.asarray(lam, dtype=float)[keep])
    return [d for d in drops if d.s_from < hi and d.s_to > lo]


RULE_LAMBDA_MIN = (
    "supported if λ_min(K_s/n) strictly increases over the resolved points of the s grid in (0, 2) "
    "(sorted by s); not supported if it does not increase between some consecutive resolved points "
    "(every such interval of s is named with its fall); inconclusive with fewer than 3 resolved points"
)


def verdict_lambda_min_increasing(s: Sequence[float], lam: Sequence[float], resolved: Sequence[bool]) -> Verdict:
    """Claim 1 on one data set × layer choice (rule RULE_LAMBDA_MIN): hrta.claims.verdict_monotone
    on the resolved points, plus every interval where λ_min fails to increase and by how much."""
    base = verdict_monotone(s, lam, resolved)
    keep = np.asarray(resolved, dtype=bool)
    drops = decreasing_intervals(np.asarray(s, dtype=float)[keep], np.asarray(lam, dtype=float)[keep])
    grid = np.sort(np.asarray(s, dtype=float))
    step = float(np.diff(grid).min()) if grid.size > 1 else math.nan
    numbers = base.numbers.replace("y from", "λ_min(K_s/n) from").replace(" at x=", " at s=").replace("x=", "s=")
    numbers += f"; finest s step {step:.3g}"
    if drops:
        numbers += f"; λ_min fails to increase on {len(drops)} interval(s): " + "; ".join(d.describe() for d in drops)
    return Verdict(base.label, RULE_LAMBDA_MIN, numbers)


# ----------------------------------------------------------------------------------------------------
# claims 2–3: slopes with width


@dataclass(frozen=True)
class SlopeFit:
    """log-log slope of value on width with its interval, and the mean value per width."""

    slope: float
    low: float
    high: float
    n_points: int
    means: dict

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)

    def describe(self) -> str:
        trend = ", ".join(f"{_num(k)}: {v:.3g}" for k, v in self.means.items())
        return f"slope {self.slope:.3g} [95% CI {self.low:.3g}, {self.high:.3g}] over {self.n_points} points; mean by width {trend}"


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def slope_fit(widths: Sequence[float], values: Sequence[float], level: float = 0.95) -> SlopeFit | None:
    """SlopeFit of log(values) on log(widths); None with < 3 points or < 2 widths. Values must be > 0."""
    w, v = np.asarray(widths, dtype=float), np.asarray(values, dtype=float)
    if w.shape != v.shape:
        raise ValueError(f"widths and values differ in length: {w.size} vs {v.size}")
    if w.size < 3 or np.unique(w).size < 2:
        return None
    b, lo, hi = loglog_slope(w, v, level)
    means = {float(k): float(x) for k, x in pd.Series(v).groupby(w).mean().items()}
    return SlopeFit(b, lo, hi, int(w.size), means)


RULE_SLOPE_BELOW_ZERO = (
    "least-squares slope of log(value) on log(width) over all (width, seed) points with a 95% t-interval: "
    "supported if the interval lies below 0; not supported if it lies at or above 0; inconclusive otherwise "
    "or with fewer than 3 points / 2 widths (whether the interval contains the reference rate {ref:g} is reported, "
    "not decided on)"
)


def verdict_slope_below_zero(
    widths: Sequence[float], values: Sequence[float], reference: float = -0.5, level: float = 0.95
) -> Verdict:
    """Verdict on "value falls with width" (rule RULE_SLOPE_BELOW_ZERO), e.g. claim 2's
    ‖K_emp − K_∞‖_F/‖K_∞‖_F with reference −½ (the central-limit rate m^{-1/2})."""
    rule = RULE_SLOPE_BELOW_ZERO.format(ref=reference)
    v = np.asarray(values, dtype=float)
    bad = ~(np.isfinite(v) & (v > 0))
    if bad.any():
        return Verdict(INCONCLUSIVE, rule, f"{int(bad.sum())} value(s) non-finite or ≤ 0")
    fit = slope_fit(widths, v, level)
    if fit is None:
        return Verdict(INCONCLUSIVE, rule, f"{v.size} point(s) at {np.unique(widths).size} width(s)")
    where = "contains" if fit.contains(reference) else "excludes"
    numbers = f"{fit.describe()}; interval {where} {reference:g}"
    if fit.high < 0:
        return Verdict(SUPPORTED, rule, numbers)
    if fit.low >= 0:
        return Verdict(NOT_SUPPORTED, rule, numbers)
    return Verdict(INCONCLUSIVE, rule, numbers)


def ratio_at_horizons(
    steps: Sequence[int], measured: Sequence[float], predicted: Sequence[float], horizons: Sequence[int]
) -> dict[int, float]:
    """{t: L_measured(t)/L_predicted(t)} at each horizon t among the logged ``steps`` (NaN where t was
    not logged, e.g. after a divergence, or a loss is not finite)."""
    frame = pd.DataFrame({"m": np.asarray(measured, float), "p": np.asarray(predicted, float)}, index=list(steps))
    out = {}
    for t in horizons:
        if t in frame.index:
            m, p = frame.loc[t, "m"], frame.loc[t, "p"]
            out[int(t)] = float(m / p) if np.isfinite(m) and np.isfinite(p) and p > 0 else math.nan
        else:
            out[int(t)] = math.nan
    return out


def lazy_horizon(
    steps: Sequence[int], measured: Sequence[float], predicted: Sequence[float], epsilon: float
) -> tuple[int, bool]:
    """(t_ε, censored): the last logged step up to which |measured/predicted − 1| ≤ ε at every
    logged step (non-finite ratios count as failures); censored = True when it never fails."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a positive finite number, got {epsilon!r}")
    t = np.asarray(steps, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    t = t[order]
    m, p = np.asarray(measured, float)[order], np.asarray(predicted, float)[order]
    if t.size == 0:
        raise ValueError("no logged steps")
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = np.isfinite(m) & np.isfinite(p) & (p > 0) & (np.abs(m / p - 1.0) <= epsilon)
    bad = np.flatnonzero(~ok)
    if bad.size == 0:
        return int(t[-1]), True
    if bad[0] == 0:
        return 0, False
    return int(t[bad[0] - 1]), False


def _diverged_note(diverged: Sequence[str]) -> str:
    return f"{len(diverged)} diverged run(s): {', '.join(diverged)}" if diverged else "0 diverged runs"


RULE_MISMATCH_TREND = (
    "mismatch |L_measured/L_predicted − 1| against the K_∞ linearization at θ₀ at a fixed step, per "
    "(width, seed): supported if its log-log slope on width has a 95% t-interval below 0 and no run "
    "diverged, or (consistent) if the mean mismatch is already within the tolerance ε (e4.lazy_epsilon) at "
    "every width, so that no trend can show; not supported if the interval lies at or above 0 and some width "
    "is outside ε; inconclusive otherwise (also when any run diverged: diverged runs are counted and named, "
    "never dropped silently). Never read on a logged switch step of the method's schedule. The mean mismatch "
    "at the largest width is reported"
)


def verdict_mismatch_falls(
    widths: Sequence[float],
    mismatches: Sequence[float],
    diverged: Sequence[str] = (),
    level: float = 0.95,
    tolerance: float | None = None,
) -> Verdict:
    """Claim 3, one (method, horizon) part (rule RULE_MISMATCH_TREND). ``mismatches`` of the runs that
    reached the horizon; ``diverged`` names the runs that did not (diverged before it). A mismatch of
    exactly 0 is floored at 1e-12 so the log-log fit is defined."""
    w, e = np.asarray(widths, float), np.asarray(mismatches, float)
    finite = np.isfinite(e)
    notes = [_diverged_note(diverged)]
    if not finite.all():
        notes.append(f"{int((~finite).sum())} non-finite mismatch(es) left out")
    w, e = w[finite], np.maximum(e[finite], 1e-12)
    fit = slope_fit(w, e, level)
    if fit is None:
        return Verdict(INCONCLUSIVE, RULE_MISMATCH_TREND, f"{w.size} point(s); " + "; ".join(notes))
    at_largest = fit.means[max(fit.means)]
    numbers = f"{fit.describe()}; mean mismatch at the largest width {_num(max(fit.means))}: {at_largest:.3g}; "
    numbers += "; ".join(notes)
    within = tolerance is not None and all(v <= tolerance for v in fit.means.values())
    if within and not diverged:
        return Verdict(
            SUPPORTED, RULE_MISMATCH_TREND, f"consistent: within ε = {tolerance:g} at every width; " + numbers
        )
    if fit.low >= 0:
        return Verdict(NOT_SUPPORTED, RULE_MISMATCH_TREND, numbers)
    if fit.high < 0 and not diverged:
        return Verdict(SUPPORTED, RULE_MISMATCH_TREND, numbers)
    return Verdict(INCONCLUSIVE, RULE_MISMATCH_TREND, numbers)


RULE_WITHIN_EPSILON = (
    "claim 3a, per (method, fixed step): supported if the mean mismatch |L_measured/L_predicted − 1| against the K_∞ "
    "linearization at θ₀ is within ε (e4.lazy_epsilon) at every width and no run diverged; not supported if it "
    "exceeds ε at some width; inconclusive otherwise (a diverged run, or no width measured). Says nothing about "
    "a trend with width (that is claim 3b)"
)


def verdict_within_epsilon(
    widths: Sequence[float], mismatches: Sequence[float], tolerance: float, diverged: Sequence[str] = ()
) -> Verdict:
    """Claim 3a, one (method, horizon) part (rule RULE_WITHIN_EPSILON): the mean mismatch per width against ε.
    ``mismatches`` of the runs that reached the horizon; ``diverged`` names those that did not."""
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive finite number, got {tolerance!r}")
    w, e = np.asarray(widths, float), np.asarray(mismatches, float)
    if w.shape != e.shape:
        raise ValueError(f"widths and mismatches differ in length: {w.size} vs {e.size}")
    keep = np.isfinite(e)
    means = pd.Series(e[keep]).groupby(w[keep]).mean()
    if means.empty:
        return Verdict(INCONCLUSIVE, RULE_WITHIN_EPSILON, f"no width measured; {_diverged_note(diverged)}")
    by_width = ", ".join(f"{_num(k)}: {v:.3g}" for k, v in means.items())
    outside = [k for k, v in means.items() if v > tolerance]
    numbers = f"mean mismatch by width {by_width} (ε = {tolerance:g}); {_diverged_note(diverged)}"
    if outside:
        return Verdict(
            NOT_SUPPORTED, RULE_WITHIN_EPSILON, f"outside ε at width {', '.join(map(_num, outside))}; {numbers}"
        )
    if diverged:
        return Verdict(INCONCLUSIVE, RULE_WITHIN_EPSILON, numbers)
    return Verdict(SUPPORTED, RULE_WITHIN_EPSILON, f"within ε at every width; {numbers}")


RULE_LAZY_HORIZON = (
    "lazy horizon t_ε (last logged step up to which |L_measured/L_predicted − 1| ≤ ε throughout, K_∞ "
    "linearization at θ₀), per (width, seed), floored at the logging period: supported if its log-log slope "
    "on width has a 95% t-interval above 0 and no run diverged; not supported if the interval lies at or "
    "below 0 (and t_ε at the largest width is not censored); inconclusive otherwise. Censored horizons (ε never exceeded) enter at the run length, a lower "
    "bound, which can only flatten the slope"
)


def verdict_lazy_horizon_grows(
    widths: Sequence[float],
    horizons: Sequence[float],
    censored: Sequence[bool],
    floor: float,
    diverged: Sequence[str] = (),
    level: float = 0.95,
) -> Verdict:
    """Claim 3, the lazy-horizon part of one method (rule RULE_LAZY_HORIZON)."""
    w = np.asarray(widths, float)
    t = np.maximum(np.asarray(horizons, float), float(floor))
    c = np.asarray(censored, bool)
    fit = slope_fit(w, t, level)
    notes = f"{int(c.sum())} of {c.size} censored; {_diverged_note(diverged)}"
    if fit is None:
        return Verdict(INCONCLUSIVE, RULE_LAZY_HORIZON, f"{w.size} point(s); {notes}")
    numbers = f"{fit.describe()}; {notes}"
    if fit.high <= 0 and not c[w == w.max()].any():  # a censored widest width only bounds t_ε from below
        return Verdict(NOT_SUPPORTED, RULE_LAZY_HORIZON, numbers)
    if fit.low > 0 and not diverged:
        return Verdict(SUPPORTED, RULE_LAZY_HORIZON, numbers)
    return Verdict(INCONCLUSIVE, RULE_LAZY_HORIZON, numbers)
