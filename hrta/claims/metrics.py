"""Metrics of training histories, one shared definition each for the tables and the verdicts: steps to a
tolerance ("stays" and "first below"), loss at a budget, paired speed-ups over seeds, the data-driven tolerance
and the learning-rate choice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hrta.claims.stats import geometric_mean_interval

__all__ = [
    "BUDGET_FRACTIONS",
    "METRICS",
    "METRIC_NAMES",
    "RULE_TOLERANCE",
    "RatioStats",
    "SpeedupStats",
    "TOLERANCE_FRACTIONS",
    "add_steps_to_tolerance",
    "baseline_tolerance",
    "best_by_final_loss",
    "budget_step",
    "check_history",
    "check_run_tables",
    "is_diverged",
    "loss_at_budget",
    "loss_at_budget_or_inf",
    "paired_loss_ratio",
    "paired_speedup",
    "steps_first_below",
    "steps_to_tolerance",
]


def check_run_tables(runs: pd.DataFrame, histories: pd.DataFrame, group_cols: Sequence[str]) -> list[str]:
    """The run keys group_cols + method + seed, after checking that ``runs`` (keys, status, budget) and
    ``histories`` (keys, step, train_loss) have their columns and that the runs are unique per key."""
    keys = [*group_cols, "method", "seed"]
    for name, table, cols in (
        ("runs", runs, [*keys, "status", "budget"]),
        ("histories", histories, [*keys, "step", "train_loss"]),
    ):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise ValueError(f"{name} table lacks column(s) {missing}")
    if runs.duplicated(keys).any():
        raise ValueError(f"runs are not unique per {keys}")
    return keys


def check_history(history: pd.DataFrame) -> None:
    """ValueError unless ``history`` has columns step and train_loss and at least one row."""
    for col in ("step", "train_loss"):
        if col not in history.columns:
            raise ValueError(f"history has no column {col!r} (columns: {list(history.columns)})")
    if len(history) == 0:
        raise ValueError("history is empty")


def is_diverged(history: pd.DataFrame, status: str = "ok") -> bool:
    """True if the run diverged: ``status == "diverged"`` or any logged train_loss is NaN/±inf."""
    if status not in ("ok", "diverged"):
        raise ValueError(f"status must be 'ok' or 'diverged', got {status!r}")
    check_history(history)
    return status == "diverged" or not bool(np.all(np.isfinite(history["train_loss"].to_numpy(float))))


def steps_to_tolerance(history: pd.DataFrame, tol: float, status: str = "ok") -> float:
    """First logged step t from which the training loss *stays* ≤ tol: L(t') ≤ tol for every logged
    t' ≥ t up to the end of the run; ``math.inf`` if the last logged loss is above tol.

    Why "stays" rather than "first touches": the loss is logged under the s in force, and it jumps
    when a schedule switches s. A σ_{1.5} network can dip below tol during the relaxation stage and
    land above it again after the switch to s = 1; the method has reached the tolerance only once the
    network it ends with (the last stage's s) is below it. For a monotone curve both definitions agree.
    A diverged run (see :func:`is_diverged`) returns ``math.inf``: a method that ends diverged has not
    solved the problem.
    """
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tolerance must be a positive finite number, got {tol!r}")
    if is_diverged(history, status):
        return math.inf
    h = history.sort_values("step")
    above = np.flatnonzero(~(h["train_loss"].to_numpy(float) <= tol))
    if above.size == 0:
        return float(h["step"].iloc[0])
    if above[-1] == len(h) - 1:
        return math.inf
    return float(h["step"].iloc[above[-1] + 1])


def steps_first_below(history: pd.DataFrame, tol: float, status: str = "ok") -> float:
    """First logged step t with train_loss(t) ≤ tol under whatever s is in force (``math.inf`` if
    never, or if the run diverged). A diagnostic next to :func:`steps_to_tolerance`: the two differ
    when an intermediate σ_s network dips below tol and the switch of s lifts the loss again."""
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tolerance must be a positive finite number, got {tol!r}")
    if is_diverged(history, status):
        return math.inf
    h = history.sort_values("step")
    hit = h.loc[h["train_loss"].to_numpy(float) <= tol, "step"]
    return float(hit.iloc[0]) if len(hit) else math.inf


def loss_at_budget(history: pd.DataFrame, step: int, status: str = "ok") -> float:
    """train_loss at the last logged step ≤ ``step`` (the loss after at most ``step`` updates).

    A diverged run returns ``math.inf``. ValueError if ``step`` lies beyond the last logged step of a
    run that did not diverge (the run was shorter than the budget) or before the first logged step.
    """
    if is_diverged(history, status):
        return math.inf
    h = history.sort_values("step")
    steps = h["step"].to_numpy()
    if step < steps[0] or step > steps[-1]:
        raise ValueError(f"budget step {step} lies outside the logged steps [{steps[0]}, {steps[-1]}]")
    return float(h.loc[h["step"] <= step, "train_loss"].iloc[-1])


# ----------------------------------------------------------------------------- paired speed-ups
@dataclass(frozen=True)
class SpeedupStats:
    """Paired speed-ups of a method over the baseline across seeds.

    ``ratios[i]`` = baseline_steps_i / method_steps_i, censored at the budget T when one run never
    reached the tolerance: only the method reached → T / method_steps (a *lower* bound of the true
    speed-up); only the baseline reached → baseline_steps / T (an *upper* bound). Both bounds err
    toward "no difference", so a verdict built on them is conservative. NaN where neither reached.
    """

    ratios: tuple[float, ...]
    n_both: int
    n_only_method: int
    n_only_baseline: int
    n_neither: int
    n_diverged_method: int = 0
    n_diverged_baseline: int = 0
    geo_mean: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan

    @property
    def n_valid(self) -> int:
        """Seeds where at least one of the two runs reached the tolerance."""
        return self.n_both + self.n_only_method + self.n_only_baseline

    def describe(self) -> str:
        """One line with the numbers a verdict rests on."""
        rs = ", ".join(f"{r:.3g}" for r in self.ratios)
        parts = [f"speed-up {self.geo_mean:.3g}× [95% CI {self.ci_low:.3g}, {self.ci_high:.3g}]", f"per seed ({rs})"]
        if self.n_only_method or self.n_only_baseline or self.n_neither:
            parts.append(
                f"only method reached tol: {self.n_only_method}, only baseline: "
                f"{self.n_only_baseline}, neither: {self.n_neither}"
            )
        if self.n_diverged_method or self.n_diverged_baseline:
            parts.append(f"diverged runs: method {self.n_diverged_method}, baseline {self.n_diverged_baseline}")
        return "; ".join(parts)


def paired_speedup(
    baseline_steps: Sequence[float],
    method_steps: Sequence[float],
    budget: float,
    level: float = 0.95,
    n_diverged_method: int = 0,
    n_diverged_baseline: int = 0,
) -> SpeedupStats:
    """Per-seed speed-ups r_i = b_i / m_i (``math.inf`` steps = never reached), censored at ``budget``
    as described in :class:`SpeedupStats`, with their geometric mean and 95% t-interval.

    ``budget`` is the planned number of steps of each run (same for both methods).
    """
    b, m = np.asarray(baseline_steps, dtype=float), np.asarray(method_steps, dtype=float)
    if b.shape != m.shape or b.ndim != 1:
        raise ValueError(f"baseline and method steps must be paired 1-D arrays, got {b.shape} and {m.shape}")
    if np.any(np.isnan(b)) or np.any(np.isnan(m)):
        raise ValueError("steps contain NaN; use math.inf for 'never reached'")
    if not budget > 0:
        raise ValueError(f"budget must be positive, got {budget!r}")
    b_ok, m_ok = np.isfinite(b), np.isfinite(m)
    # Reaching at step 0 means the loss started below tol: count one step so ratios stay finite.
    bb, mm = np.maximum(b, 1.0), np.maximum(m, 1.0)
    ratios = np.full(b.shape, math.nan)
    ratios[b_ok & m_ok] = bb[b_ok & m_ok] / mm[b_ok & m_ok]
    ratios[~b_ok & m_ok] = budget / mm[~b_ok & m_ok]
    ratios[b_ok & ~m_ok] = bb[b_ok & ~m_ok] / budget
    valid = ratios[np.isfinite(ratios)]
    centre, lo, hi = geometric_mean_interval(valid, level) if valid.size else (math.nan,) * 3
    return SpeedupStats(
        ratios=tuple(float(r) for r in ratios),
        n_both=int((b_ok & m_ok).sum()),
        n_only_method=int((~b_ok & m_ok).sum()),
        n_only_baseline=int((b_ok & ~m_ok).sum()),
        n_neither=int((~b_ok & ~m_ok).sum()),
        n_diverged_method=int(n_diverged_method),
        n_diverged_baseline=int(n_diverged_baseline),
        geo_mean=centre,
        ci_low=lo,
        ci_high=hi,
    )


RULE_TOLERANCE = (
    "tolerance per group = the largest training loss among the baseline's seeds at {fraction:g} of the "
    "budget (diverged baseline runs left out), so every baseline seed reaches it by then"
)


def baseline_tolerance(
    histories: Sequence[pd.DataFrame], statuses: Sequence[str], budget: int, fraction: float
) -> float:
    """Loosest loss the baseline reaches at step ⌊fraction·budget⌋ over its seeds: max_i L_i(⌊fraction·T⌋).

    Diverged baseline runs are left out; NaN if all diverged. The tolerance comes from the
    baseline's own curves (not from a typed number), so it is reachable by construction and the
    method is measured on the baseline's scale.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"tolerance fraction must be in (0, 1], got {fraction!r}")
    step = int(math.floor(fraction * budget))
    losses = [loss_at_budget(h, step, st) for h, st in zip(histories, statuses)]
    finite = [x for x in losses if math.isfinite(x)]
    return max(finite) if finite else math.nan


def add_steps_to_tolerance(
    runs: pd.DataFrame, histories: pd.DataFrame, group_cols: Sequence[str], baseline: str, fraction: float
) -> pd.DataFrame:
    """``runs`` with columns ``tolerance`` (per group, :func:`baseline_tolerance`), ``steps_to_tol``
    (:func:`steps_to_tolerance`), ``steps_first_below`` (:func:`steps_first_below`, a diagnostic)
    and ``diverged`` added.

    ``runs``: one row per run, columns group_cols + method, seed, status, budget. ``histories``: the
    long history table with the same key columns (group_cols + method + seed) and step, train_loss.
    A group whose baseline diverged on every seed gets tolerance NaN and steps_to_tol inf for all.
    """
    keys = check_run_tables(runs, histories, group_cols)
    hist = {k if isinstance(k, tuple) else (k,): h for k, h in histories.groupby(keys, sort=False)}
    out = []
    groups = runs.groupby(list(group_cols), sort=False) if group_cols else [((), runs)]
    for _, g in groups:
        g = g.copy()
        base = g[g["method"] == baseline]
        if base.empty:
            raise ValueError(f"no baseline ({baseline!r}) runs in group {g[list(group_cols)].iloc[0].to_dict()}")
        budgets = set(g["budget"])
        if len(budgets) != 1:
            raise ValueError(f"runs of one group differ in budget: {sorted(budgets)}")
        base_h = [hist[tuple(r[k] for k in keys)] for _, r in base.iterrows()]
        tol = baseline_tolerance(base_h, list(base["status"]), budgets.pop(), fraction)
        g["tolerance"] = tol
        g["diverged"] = [is_diverged(hist[tuple(r[k] for k in keys)], r["status"]) for _, r in g.iterrows()]
        for col, fn in (("steps_to_tol", steps_to_tolerance), ("steps_first_below", steps_first_below)):
            g[col] = [
                fn(hist[tuple(r[k] for k in keys)], tol, r["status"]) if math.isfinite(tol) else math.inf
                for _, r in g.iterrows()
            ]
        out.append(g)
    return pd.concat(out, ignore_index=True)


def best_by_final_loss(runs: pd.DataFrame, keys: Sequence[str], choice_col: str) -> pd.DataFrame:
    """For each ``keys`` combination, the run (over ``choice_col``, e.g. the learning rate) with the
    lowest final training loss; a diverged run counts as +inf and is chosen only if all diverged
    (ties: the first in table order)."""
    for c in (*keys, choice_col, "final_train_loss", "status"):
        if c not in runs.columns:
            raise ValueError(f"runs table lacks column {c!r}")
    loss = runs["final_train_loss"].astype(float).where(runs["status"] == "ok", math.inf).fillna(math.inf)
    order = runs.assign(_loss=loss).reset_index(drop=True)
    idx = order.groupby(list(keys), sort=False)["_loss"].idxmin()
    return order.loc[sorted(idx)].drop(columns="_loss").reset_index(drop=True)


# ----------------------------------------------------------------------------- the three metrics
# One definition each, used by the tables and the verdicts (hrta.claims.rules.METRIC_RULES):
#   (a) "stays" speed-up at the family of tolerances τ_q = baseline_tolerance(q), q ∈ TOLERANCE_FRACTIONS;
#   (b) loss ratio L_baseline(⌊qT⌋) / L_method(⌊qT⌋) at equal budgets, q ∈ BUDGET_FRACTIONS;
#   (c) "first below" speed-up at the same tolerances as (a): a diagnostic (it counts an intermediate σ_s network).
METRICS = ("a", "b", "c")
METRIC_NAMES = {
    "a": "(a) stays speed-up",
    "b": "(b) loss ratio at equal budget",
    "c": "(c) first-below speed-up (diagnostic)",
}
TOLERANCE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
BUDGET_FRACTIONS = (0.25, 0.5, 1.0)


@dataclass(frozen=True)
class RatioStats:
    """Paired loss ratios r_i = L_baseline,i / L_method,i at one budget (r > 1: the method's loss is lower).

    A diverged run has loss +inf: a pair where only the method diverged is a loss for the method
    (r = 0), only the baseline diverged a win (r = +inf); such pairs are counted, not averaged. The
    geometric mean and its t-interval are over the pairs where both losses are finite and > 0.
    """

    ratios: tuple[float, ...]
    n_finite: int
    n_diverged_method: int
    n_diverged_baseline: int
    geo_mean: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan

    def describe(self) -> str:
        rs = ", ".join(f"{r:.3g}" for r in self.ratios)
        text = f"loss ratio {self.geo_mean:.3g}× [95% CI {self.ci_low:.3g}, {self.ci_high:.3g}], per seed ({rs})"
        if self.n_diverged_method or self.n_diverged_baseline:
            text += f"; diverged runs: method {self.n_diverged_method}, baseline {self.n_diverged_baseline}"
        return text


def paired_loss_ratio(
    baseline_losses: Sequence[float], method_losses: Sequence[float], level: float = 0.95
) -> RatioStats:
    """Per-seed r_i = L_b,i / L_m,i (``math.inf`` = diverged), geometric mean and t-interval over finite pairs."""
    b, m = np.asarray(baseline_losses, dtype=float), np.asarray(method_losses, dtype=float)
    if b.shape != m.shape or b.ndim != 1:
        raise ValueError(f"baseline and method losses must be paired 1-D arrays, got {b.shape} and {m.shape}")
    if np.any(np.isnan(b)) or np.any(np.isnan(m)) or np.any(b < 0) or np.any(m < 0):
        raise ValueError("losses must be ≥ 0 (math.inf for a diverged run), got NaN or a negative value")
    b_div, m_div = ~np.isfinite(b), ~np.isfinite(m)
    ok = ~b_div & ~m_div & (b > 0) & (m > 0)
    ratios = np.full(b.shape, math.nan)
    ratios[ok] = b[ok] / m[ok]
    ratios[m_div & ~b_div] = 0.0
    ratios[b_div & ~m_div] = math.inf
    centre, lo, hi = geometric_mean_interval(ratios[ok], level) if ok.any() else (math.nan,) * 3
    return RatioStats(
        ratios=tuple(float(r) for r in ratios),
        n_finite=int(ok.sum()),
        n_diverged_method=int(m_div.sum()),
        n_diverged_baseline=int(b_div.sum()),
        geo_mean=centre,
        ci_low=lo,
        ci_high=hi,
    )


def budget_step(budget: int, fraction: float) -> int:
    """⌊fraction·T⌋, the step at which metric (b) compares losses and at which (a)/(c) read the tolerance."""
    if not 0 < fraction <= 1:
        raise ValueError(f"budget fraction must be in (0, 1], got {fraction!r}")
    return int(math.floor(fraction * budget))


def loss_at_budget_or_inf(history: pd.DataFrame, step: int, status: str = "ok") -> float:
    """:func:`loss_at_budget`, but a run that diverged before ``step`` (its history stops early) is +inf."""
    if is_diverged(history, status):
        return math.inf
    return loss_at_budget(history, step, status)
