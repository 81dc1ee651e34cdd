"""Decision rules: each turns measured numbers into "supported" / "not supported" / "inconclusive" with the
rule stated (the RULE_* strings are what CLAIMS.md prints), and combines the parts of a claim."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hrta.claims.metrics import (
    BUDGET_FRACTIONS,
    TOLERANCE_FRACTIONS,
    RatioStats,
    SpeedupStats,
    baseline_tolerance,
    budget_step,
    check_run_tables,
    is_diverged,
    loss_at_budget_or_inf,
    paired_loss_ratio,
    paired_speedup,
    steps_first_below,
    steps_to_tolerance,
)
from hrta.claims.stats import loglog_slope

__all__ = [
    "INCONCLUSIVE",
    "METRIC_RULES",
    "NOT_SUPPORTED",
    "RULE_ALL",
    "RULE_DECREASING",
    "RULE_LOSS_RATIO",
    "RULE_MONOTONE",
    "RULE_RATE",
    "RULE_SPEEDUP",
    "RUN_COLUMNS",
    "SUPPORTED",
    "VERDICTS",
    "Verdict",
    "combine_verdicts",
    "metric_rows",
    "parts_from_table",
    "speedup_table",
    "verdict_decreasing_with_width",
    "verdict_loss_ratio",
    "verdict_monotone",
    "verdict_rate_matches_ntk",
    "verdict_speedup",
]

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)


@dataclass(frozen=True)
class Verdict:
    """A computed verdict: ``label`` ∈ VERDICTS, the ``rule`` that produced it and the ``numbers``."""

    label: str
    rule: str
    numbers: str

    def __post_init__(self):
        if self.label not in VERDICTS:
            raise ValueError(f"verdict label must be one of {VERDICTS}, got {self.label!r}")


RULE_SPEEDUP = (
    "supported if the 95% t-interval of the geometric-mean speed-up (baseline steps / method steps until "
    "the training loss stays ≤ the tolerance, paired by seed, censored at the budget) lies above 1; not supported if it lies at or below 1, or "
    "if the method reaches the tolerance on no seed where the baseline does (diverged = not reached); "
    "inconclusive otherwise or with fewer than 2 seeds where either run reached the tolerance"
)


def verdict_speedup(stats: SpeedupStats) -> Verdict:
    """Verdict on "the method reaches the tolerance in fewer steps than the baseline" (rule: RULE_SPEEDUP)."""
    numbers = stats.describe()
    if stats.n_valid < 2:
        return Verdict(INCONCLUSIVE, RULE_SPEEDUP, f"{stats.n_valid} seed(s) where either run reached tol; {numbers}")
    if stats.n_only_baseline == stats.n_valid:
        return Verdict(NOT_SUPPORTED, RULE_SPEEDUP, f"method never reached tol; {numbers}")
    if stats.ci_low > 1.0:
        return Verdict(SUPPORTED, RULE_SPEEDUP, numbers)
    if stats.ci_high <= 1.0:
        return Verdict(NOT_SUPPORTED, RULE_SPEEDUP, numbers)
    return Verdict(INCONCLUSIVE, RULE_SPEEDUP, numbers)


RULE_MONOTONE = (
    "supported if y strictly increases with x over the resolved points (sorted by x); not supported if "
    "some consecutive pair of resolved points does not increase; inconclusive with fewer than 3 resolved points"
)


def verdict_monotone(xs: Sequence[float], ys: Sequence[float], resolved: Sequence[bool] | None = None) -> Verdict:
    """Verdict on "y grows with x" (e.g. λ_min vs s): rule RULE_MONOTONE.

    ``resolved[i]`` False drops point i (e.g. λ_min below the eigen-solver's resolution floor, where
    its value is noise); NaN points are dropped too.
    """
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"xs and ys differ in length: {x.size} vs {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    if resolved is not None:
        keep &= np.asarray(resolved, dtype=bool)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n_dropped = int((~keep).sum())
    if x.size < 3:
        return Verdict(INCONCLUSIVE, RULE_MONOTONE, f"{x.size} resolved point(s) ({n_dropped} dropped)")
    dy = np.diff(y)
    bad = np.flatnonzero(dy <= 0)
    span = f"y from {y[0]:.4g} at x={x[0]:.3g} to {y[-1]:.4g} at x={x[-1]:.3g} over {x.size} resolved points"
    if n_dropped:
        span += f" ({n_dropped} unresolved dropped)"
    if bad.size:
        i = bad[0]
        return Verdict(
            NOT_SUPPORTED,
            RULE_MONOTONE,
            f"{span}; {bad.size} non-increasing step(s), first x={x[i]:.3g}→{x[i + 1]:.3g}: {y[i]:.4g}→{y[i + 1]:.4g}",
        )
    return Verdict(SUPPORTED, RULE_MONOTONE, f"{span}; strictly increasing")


RULE_DECREASING = (
    "least-squares slope of log(error) on log(width) over all (width, seed) points with a 95% t-interval: "
    "supported if the interval lies below 0; not supported if it lies at or above 0; inconclusive "
    "otherwise or with fewer than 3 points / 2 widths"
)


def verdict_decreasing_with_width(widths: Sequence[float], errors: Sequence[float]) -> Verdict:
    """Verdict on "the error shrinks as the width grows" (rule RULE_DECREASING).

    Non-finite or non-positive errors make the verdict inconclusive (the log-log fit needs them
    positive); the theory's rate for the empirical NTK is slope −1/2.
    """
    w, e = np.asarray(widths, dtype=float), np.asarray(errors, dtype=float)
    if w.shape != e.shape:
        raise ValueError(f"widths and errors differ in length: {w.size} vs {e.size}")
    bad = ~(np.isfinite(e) & (e > 0))
    if bad.any():
        return Verdict(INCONCLUSIVE, RULE_DECREASING, f"{int(bad.sum())} error value(s) non-finite or ≤ 0")
    if w.size < 3 or np.unique(w).size < 2:
        return Verdict(INCONCLUSIVE, RULE_DECREASING, f"{w.size} point(s) at {np.unique(w).size} width(s)")
    b, lo, hi = loglog_slope(w, e)
    means = pd.Series(e).groupby(w).mean()
    trend = ", ".join(f"{int(k) if float(k).is_integer() else k}: {v:.3g}" for k, v in means.items())
    numbers = f"slope {b:.3g} [95% CI {lo:.3g}, {hi:.3g}]; mean error by width {trend}"
    if hi < 0:
        return Verdict(SUPPORTED, RULE_DECREASING, numbers)
    if lo >= 0:
        return Verdict(NOT_SUPPORTED, RULE_DECREASING, numbers)
    return Verdict(INCONCLUSIVE, RULE_DECREASING, numbers)


RULE_RATE = (
    "relative mismatch of the measured GD decay rate to the NTK prediction per (width, seed, stage): supported if it "
    "decreases with width (log-log slope interval below 0) and its mean at the largest width is ≤ {tol:g}; "
    "not supported if it does not decrease (slope interval at or above 0); inconclusive otherwise"
)


def verdict_rate_matches_ntk(widths: Sequence[float], mismatches: Sequence[float], tol: float = 0.25) -> Verdict:
    """Verdict on "GD decays at the NTK-predicted rate, better at larger widths" (rule RULE_RATE).

    ``mismatches`` are relative errors of the measured linear decay rate to the predicted one, e.g.
    |κ_meas/κ_pred − 1| with κ = −log(per-step loss factor).
    A mismatch of exactly 0 is floored at 1e-12 so the log-log fit is defined.
    """
    w, e = np.asarray(widths, dtype=float), np.asarray(mismatches, dtype=float)
    rule = RULE_RATE.format(tol=tol)
    finite = np.isfinite(e)
    if not finite.all():
        return Verdict(INCONCLUSIVE, rule, f"{int((~finite).sum())} mismatch value(s) non-finite")
    trend = verdict_decreasing_with_width(w, np.maximum(e, 1e-12))
    at_largest = float(e[w == w.max()].mean()) if w.size else math.nan
    numbers = f"{trend.numbers}; mean mismatch at width {w.max():g}: {at_largest:.3g}" if w.size else trend.numbers
    if trend.label == NOT_SUPPORTED:
        return Verdict(NOT_SUPPORTED, rule, numbers)
    if trend.label == SUPPORTED and at_largest <= tol:
        return Verdict(SUPPORTED, rule, numbers)
    return Verdict(INCONCLUSIVE, rule, numbers)


RULE_ALL = "supported if every part is supported; not supported if any part is not supported; else inconclusive"


def combine_verdicts(parts: dict[str, Verdict]) -> Verdict:
    """A claim made of several parts (widths, optimizers, schedules…) holds only if each part does
    (rule RULE_ALL, after the parts' own rules); the numbers list each part's verdict.
    No parts → inconclusive."""
    part_rules = list(dict.fromkeys(v.rule for v in parts.values()))
    rule = "; ".join(["per part: " + r for r in part_rules] + ["overall: " + RULE_ALL])
    if not parts:
        return Verdict(INCONCLUSIVE, RULE_ALL, "no parts measured")
    labels = [v.label for v in parts.values()]
    counts = ", ".join(f"{labels.count(label)} {label}" for label in VERDICTS if labels.count(label))
    detail = " | ".join(f"{name}: {v.label} ({v.numbers})" for name, v in parts.items())
    if NOT_SUPPORTED in labels:
        label = NOT_SUPPORTED
    elif all(part == SUPPORTED for part in labels):
        label = SUPPORTED
    else:
        label = INCONCLUSIVE
    return Verdict(label, rule, f"{len(parts)} parts: {counts} — {detail}")


RUN_COLUMNS = ("method", "seed", "steps_to_tol", "diverged", "budget")


def speedup_table(
    runs: pd.DataFrame, baseline: str, group_cols: Sequence[str] = (), level: float = 0.95
) -> pd.DataFrame:
    """Paired speed-up of every method over ``baseline`` within each group, with its verdict.

    ``runs`` has one row per run with columns RUN_COLUMNS (``steps_to_tol`` = math.inf when the
    tolerance was never reached, ``diverged`` bool, ``budget`` = planned steps) plus ``group_cols``.
    Runs are paired by seed; a seed present for one method but not the baseline is an error.
    Returns one row per (group, method): the group values, method, SpeedupStats fields, verdict, numbers.
    """
    missing = [c for c in (*RUN_COLUMNS, *group_cols) if c not in runs.columns]
    if missing:
        raise ValueError(f"runs table lacks column(s) {missing}")
    if baseline not in set(runs["method"]):
        raise ValueError(f"baseline method {baseline!r} not among the runs' methods {sorted(set(runs['method']))}")
    rows = []
    groups = runs.groupby(list(group_cols), sort=False) if group_cols else [((), runs)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        base = g[g["method"] == baseline].set_index("seed")
        if base.index.has_duplicates:
            raise ValueError(f"group {dict(zip(group_cols, key))}: baseline has duplicate seeds")
        for method, mg in g[g["method"] != baseline].groupby("method", sort=False):
            mg = mg.set_index("seed")
            if set(mg.index) != set(base.index):
                raise ValueError(
                    f"group {dict(zip(group_cols, key))}: method {method!r} seeds {sorted(mg.index)} "
                    f"do not pair with baseline seeds {sorted(base.index)}"
                )
            seeds = sorted(base.index)
            budgets = set(base.loc[seeds, "budget"]) | set(mg.loc[seeds, "budget"])
            if len(budgets) != 1:
                raise ValueError(
                    f"group {dict(zip(group_cols, key))}: method {method!r} and baseline differ in budget {budgets}"
                )
            budgets_value = budgets.pop()
            stats = paired_speedup(
                base.loc[seeds, "steps_to_tol"].to_numpy(float),
                mg.loc[seeds, "steps_to_tol"].to_numpy(float),
                budgets_value,
                level,
                n_diverged_method=int(mg.loc[seeds, "diverged"].sum()),
                n_diverged_baseline=int(base.loc[seeds, "diverged"].sum()),
            )
            verdict = verdict_speedup(stats)
            extra = {}
            if "steps_first_below" in runs.columns:
                # Diagnostic only (no verdict): the speed-up if an intermediate σ_s network counted.
                extra["speedup_first_below"] = paired_speedup(
                    base.loc[seeds, "steps_first_below"].to_numpy(float),
                    mg.loc[seeds, "steps_first_below"].to_numpy(float),
                    budgets_value,
                    level,
                ).geo_mean
            rows.append(
                {
                    **dict(zip(group_cols, key)),
                    "method": method,
                    "n_seeds": len(seeds),
                    "speedup": stats.geo_mean,
                    "ci_low": stats.ci_low,
                    "ci_high": stats.ci_high,
                    "n_only_method": stats.n_only_method,
                    "n_only_baseline": stats.n_only_baseline,
                    "n_neither": stats.n_neither,
                    "n_diverged_method": stats.n_diverged_method,
                    "n_diverged_baseline": stats.n_diverged_baseline,
                    "ratios": " ".join(f"{r:.4g}" for r in stats.ratios),
                    "verdict": verdict.label,
                    "numbers": verdict.numbers,
                    "rule": verdict.rule,
                    **extra,
                }
            )
    return pd.DataFrame(rows)


def parts_from_table(table: pd.DataFrame, name_cols: Sequence[str]) -> dict[str, Verdict]:
    """Verdicts of a :func:`speedup_table` keyed by "col=value, ..." over ``name_cols``."""
    return {
        ", ".join(f"{c}={row[c]}" for c in name_cols): Verdict(row["verdict"], row["rule"], row["numbers"])
        for _, row in table.iterrows()
    }


RULE_LOSS_RATIO = (
    "geometric-mean loss ratio baseline/method at the budget step (paired by seed, 95% t-interval): supported if "
    "the interval lies above 1; not supported if it lies at or below 1, or if the method diverged on any seed; "
    "inconclusive otherwise or with fewer than 2 seeds where both losses are finite"
)


def verdict_loss_ratio(stats: RatioStats) -> Verdict:
    """Verdict on "the method's loss at this budget is lower than the baseline's" (rule RULE_LOSS_RATIO)."""
    numbers = stats.describe()
    if stats.n_diverged_method:
        return Verdict(
            NOT_SUPPORTED, RULE_LOSS_RATIO, f"method diverged on {stats.n_diverged_method} seed(s); {numbers}"
        )
    if stats.n_finite < 2:
        return Verdict(INCONCLUSIVE, RULE_LOSS_RATIO, f"{stats.n_finite} seed(s) with both losses finite; {numbers}")
    if stats.ci_low > 1.0:
        return Verdict(SUPPORTED, RULE_LOSS_RATIO, numbers)
    if stats.ci_high <= 1.0:
        return Verdict(NOT_SUPPORTED, RULE_LOSS_RATIO, numbers)
    return Verdict(INCONCLUSIVE, RULE_LOSS_RATIO, numbers)


# The rule of each metric's parts (the names CLAIMS.md prints next to each metric).
METRIC_RULES = {
    "a": "(a) per tolerance τ_q, q ∈ tolerance fractions: " + RULE_SPEEDUP,
    "b": "(b) per budget qT, q ∈ budget fractions: " + RULE_LOSS_RATIO,
    "c": "(c) diagnostic, per tolerance τ_q: the same rule as (a) with 'first logged step ≤ τ under any s' in "
    "place of 'stays'",
}


def metric_rows(
    runs: pd.DataFrame,
    histories: pd.DataFrame,
    group_cols: Sequence[str],
    baseline: str,
    tolerance_fractions: Sequence[float] = TOLERANCE_FRACTIONS,
    budget_fractions: Sequence[float] = BUDGET_FRACTIONS,
    level: float = 0.95,
) -> pd.DataFrame:
    """Every metric of every method against ``baseline`` within each group, one row per (group, method,
    metric, fraction), with the part's verdict (rules in :mod:`hrta.claims.rules`).

    ``runs``: one row per run (group_cols + method, seed, status, budget); ``histories``: the long
    history table (same keys + step, train_loss). Seeds are paired. Columns of the result: group_cols,
    method, metric, fraction, threshold (the tolerance τ_q for a/c, the step ⌊qT⌋ for b), value
    (geometric mean), ci_low, ci_high, ratios, n_seeds, n_diverged_method, n_diverged_baseline,
    verdict, numbers, rule.
    """
    keys = check_run_tables(runs, histories, group_cols)
    hist = {k if isinstance(k, tuple) else (k,): h.sort_values("step") for k, h in histories.groupby(keys, sort=False)}
    rows = []
    groups = runs.groupby(list(group_cols), sort=False) if group_cols else [((), runs)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        where = dict(zip(group_cols, key))
        base = g[g["method"] == baseline].set_index("seed").sort_index()
        if base.empty:
            raise ValueError(f"no baseline ({baseline!r}) runs in group {where}")
        budgets = set(g["budget"])
        if len(budgets) != 1:
            raise ValueError(f"runs of group {where} differ in budget: {sorted(budgets)}")
        budget = int(budgets.pop())
        seeds = list(base.index)

        def h_of(method, seed, _key=key):
            return hist[(*_key, method, seed)]

        base_h = [h_of(baseline, s) for s in seeds]
        base_st = list(base["status"])
        base_div = sum(is_diverged(h, st) for h, st in zip(base_h, base_st))
        for method, mg in g[g["method"] != baseline].groupby("method", sort=False):
            mg = mg.set_index("seed")
            if set(mg.index) != set(seeds):
                raise ValueError(f"group {where}: method {method!r} seeds {sorted(mg.index)} do not pair with {seeds}")
            meth_h = [h_of(method, s) for s in seeds]
            meth_st = [mg.loc[s, "status"] for s in seeds]
            meth_div = sum(is_diverged(h, st) for h, st in zip(meth_h, meth_st))
            common = {**where, "method": method, "n_seeds": len(seeds)}
            for q in tolerance_fractions:
                tol = baseline_tolerance(base_h, base_st, budget, q)
                for metric, fn in (("a", steps_to_tolerance), ("c", steps_first_below)):
                    if math.isfinite(tol):
                        b = [fn(h, tol, st) for h, st in zip(base_h, base_st)]
                        m = [fn(h, tol, st) for h, st in zip(meth_h, meth_st)]
                    else:
                        b = m = [math.inf] * len(seeds)
                    stats = paired_speedup(b, m, budget, level, meth_div, base_div)
                    v = verdict_speedup(stats)
                    rows.append(
                        {
                            **common,
                            "metric": metric,
                            "fraction": q,
                            "threshold": tol,
                            "value": stats.geo_mean,
                            "ci_low": stats.ci_low,
                            "ci_high": stats.ci_high,
                            "ratios": " ".join(f"{r:.4g}" for r in stats.ratios),
                            "n_diverged_method": meth_div,
                            "n_diverged_baseline": base_div,
                            "verdict": v.label,
                            "numbers": f"{v.numbers}; tolerance {tol:.3g} (baseline at {q:g}·T)",
                            "rule": v.rule if metric == "a" else v.rule.replace("stays ≤", "is first ≤ (under any s)"),
                        }
                    )
            for q in budget_fractions:
                step = budget_step(budget, q)
                b = [loss_at_budget_or_inf(h, step, st) for h, st in zip(base_h, base_st)]
                m = [loss_at_budget_or_inf(h, step, st) for h, st in zip(meth_h, meth_st)]
                stats = paired_loss_ratio(b, m, level)
                v = verdict_loss_ratio(stats)
                rows.append(
                    {
                        **common,
                        "metric": "b",
                        "fraction": q,
                        "threshold": float(step),
                        "value": stats.geo_mean,
                        "ci_low": stats.ci_low,
                        "ci_high": stats.ci_high,
                        "ratios": " ".join(f"{r:.4g}" for r in stats.ratios),
                        "n_diverged_method": stats.n_diverged_method,
                        "n_diverged_baseline": stats.n_diverged_baseline,
                        "verdict": v.label,
                        "numbers": f"{v.numbers}; at step {step} ({q:g}·T)",
                        "rule": v.rule,
                    }
                )
    return pd.DataFrame(rows)
