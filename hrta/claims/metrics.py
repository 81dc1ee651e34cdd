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
    "RULE_LR_TUNING",
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
    "LR_CRITERIA",
    "RULE_LR_TUNING_TIME",
    "choose_lr",
    "choose_lr_by_final_loss",
    "choose_lr_by_time_to_target",
    "time_to_target_score",
    "widened_factor",
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


# ----------------------------------------------------------------------------- claim 7: lr tuned on held-out seeds
RULE_LR_TUNING = (
    "per optimizer × method, the learning-rate factor of a grid with step {step:.4g} with the lowest geometric-mean "
    "final training loss over the tuning seeds {seeds} (a diverged run counts +inf); where the optimum sits at an end "
    "of the factors tried, the grid widens by one step beyond it, up to {max_steps} steps beyond the configured grid "
    "on each side (an optimum still at an end is reported 'at the limit'); the tuning seeds are never scored, so "
    "the rate is chosen and scored by the same criterion on different seeds"
)


RULE_LR_TUNING_TIME = (
    "per optimizer × method, the learning-rate factor of a grid with step {step:.4g} whose runs reach the targets "
    "soonest on the tuning seeds {seeds}: on each tuning seed the targets are τ_q = the baseline's loss at its "
    "configured rate (factor 1) at the logged step nearest q·T, q ∈ {fractions} (the endpoints' target family); a "
    "run's score is the geometric mean over q of its restricted time to τ_q (the first logged step from which the "
    "loss stays ≤ τ_q, switch steps left out, at least 1; T if it never does), a diverged run +inf, the geometric "
    "mean over the tuning seeds; ties go to the smaller factor; where the optimum sits at an end of the factors "
    "tried, the grid widens by one step beyond it, up to {max_steps} steps beyond the configured grid on each side "
    "(an optimum still at an end is reported 'at the limit'); the tuning seeds are never scored, so the rate is "
    "chosen and scored by the same criterion (the primary endpoint, time to target) on different seeds"
)
#: the tuning criteria of lr_choice.criterion (config schema), each with its rule text
LR_CRITERIA = {"final_loss": RULE_LR_TUNING, "time_to_target": RULE_LR_TUNING_TIME}


def _choice_rows(keys: Sequence[str], scored: dict[tuple, dict[float, float]]) -> pd.DataFrame:
    """One row per group from {group key: {factor: score}}: the factor with the lowest score (ties: the smaller
    factor), its score, the factors tried and whether the best is the smallest / largest of them."""
    rows = []
    for key, scores in scored.items():
        tried = sorted(scores)
        best = min(tried, key=lambda f: (scores[f], f))
        rows.append(
            {
                **dict(zip(keys, key)),
                "lr_factor": best,
                "score": scores[best],
                "factors_tried": " ".join(f"{f:.6g}" for f in tried),
                "at_low": best == tried[0],
                "at_high": best == tried[-1],
            }
        )
    return pd.DataFrame(rows)


def _need(table: pd.DataFrame, name: str, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"{name} table lacks column(s) {missing}")


def choose_lr_by_final_loss(runs: pd.DataFrame, keys: Sequence[str] = ("optimizer", "method")) -> pd.DataFrame:
    """One factor per ``keys`` group by the final-loss criterion of :data:`RULE_LR_TUNING`.

    ``runs``: keys + lr_factor (numeric), seed, status, final_train_loss. Score of a factor = exp(mean over seeds
    of log final loss), +inf if a run diverged or its loss is not finite. Returns one row per group: keys,
    lr_factor (the best; ties go to the smaller factor), score, factors_tried (space-separated), at_low and
    at_high (the best is the smallest / largest factor tried).
    """
    _need(runs, "runs", [*keys, "lr_factor", "seed", "status", "final_train_loss"])
    scored = {}
    for key, g in runs.groupby(list(keys), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        scores = {}
        for factor, fg in g.groupby("lr_factor", sort=True):
            loss = fg["final_train_loss"].astype(float).where(fg["status"] == "ok", math.inf)
            loss = loss.where(np.isfinite(loss) & (loss > 0), math.inf)
            scores[float(factor)] = math.inf if np.isinf(loss).any() else float(np.exp(np.log(loss).mean()))
        scored[key] = scores
    return _choice_rows(keys, scored)


def time_to_target_score(
    history: pd.DataFrame, targets: Sequence[float], schedule, budget: int, status: str = "ok"
) -> float:
    """A run's score under :data:`RULE_LR_TUNING_TIME`: exp((1/K) Σ_k log max(1, t_k)), t_k the restricted time to
    target k (hrta.claims.endpoints.time_to_target with the schedule's switch steps: ``budget`` when the loss never
    stays below it), the per-seed summary of the primary endpoint (hrta.claims.endpoints.time_to_target_effect);
    +inf for a diverged run (:func:`is_diverged`)."""
    from hrta.claims import endpoints as E  # endpoints imports this module

    if is_diverged(history, status):
        return math.inf
    switches = E.switch_steps(schedule)
    times = [max(E.time_to_target(history, float(t), switches, int(budget), status)[0], 1) for t in targets]
    return float(np.exp(np.mean(np.log(times))))


def choose_lr_by_time_to_target(
    runs: pd.DataFrame,
    histories: pd.DataFrame,
    baseline: str,
    fractions: Sequence[float],
    keys: Sequence[str] = ("optimizer", "method"),
) -> pd.DataFrame:
    """One factor per ``keys`` group by the time-to-target criterion of :data:`RULE_LR_TUNING_TIME`.

    ``runs``: keys + lr_factor (numeric), seed, status, schedule, budget; ``histories``: keys + lr_factor, seed,
    step, train_loss. The targets of a seed (and of the keys other than ``method``) are
    hrta.claims.endpoints.target_family of the ``baseline`` method's run at factor 1 on that seed (its schedule's
    switch steps, T its budget); a factor's score is the geometric mean over the seeds of
    :func:`time_to_target_score` (+inf if any run diverged). Returns the rows of :func:`choose_lr_by_final_loss`
    (score in steps). ValueError when a seed has no baseline run at factor 1 or that run diverged.
    """
    from hrta.claims import endpoints as E

    _need(runs, "runs", [*keys, "lr_factor", "seed", "status", "schedule", "budget"])
    _need(histories, "histories", [*keys, "lr_factor", "seed", "step", "train_loss"])
    if "method" not in keys:
        raise ValueError(f"keys must hold 'method' (the baseline is a method), got {list(keys)}")
    outer = [k for k in keys if k != "method"]  # the targets are per outer key × seed
    labels = [*keys, "lr_factor", "seed"]
    hist = dict(iter(histories.assign(lr_factor=histories["lr_factor"].astype(float)).groupby(labels, sort=False)))

    def history(row) -> pd.DataFrame:
        key = (*(getattr(row, k) for k in keys), float(row.lr_factor), row.seed)
        if key not in hist:
            raise ValueError(f"no history for the run {dict(zip(labels, key))}")
        return hist[key]

    targets: dict[tuple, tuple[float, ...]] = {}
    base = runs[(runs["method"] == baseline) & (runs["lr_factor"].astype(float) == 1.0)]
    for row in base.itertuples():
        where = (*(getattr(row, k) for k in outer), row.seed)
        if where in targets:
            raise ValueError(f"more than one baseline run at factor 1 for {dict(zip([*outer, 'seed'], where))}")
        if is_diverged(history(row), row.status):
            raise ValueError(
                f"the baseline {baseline!r} diverged at its configured rate (factor 1) on {dict(zip([*outer, 'seed'], where))}: "
                "it sets no targets"
            )
        switches = E.switch_steps(row.schedule)
        targets[where] = E.target_family([history(row)], list(fractions), switches, int(row.budget), [row.status])
    scored: dict[tuple, dict[float, float]] = {}
    for row in runs.itertuples():
        where = (*(getattr(row, k) for k in outer), row.seed)
        if where not in targets:
            raise ValueError(
                f"no run of the baseline {baseline!r} at factor 1 on {dict(zip([*outer, 'seed'], where))}: "
                "the time-to-target criterion takes its targets from it"
            )
        score = time_to_target_score(history(row), targets[where], row.schedule, int(row.budget), row.status)
        key = tuple(getattr(row, k) for k in keys)
        scored.setdefault(key, {}).setdefault(float(row.lr_factor), []).append(score)
    means = {
        key: {
            f: math.inf if np.isinf(v).any() else float(np.exp(np.mean(np.log(v))))
            for f, v in ((f, np.asarray(v, float)) for f, v in by_factor.items())
        }
        for key, by_factor in scored.items()
    }
    return _choice_rows(keys, means)


def choose_lr(
    criterion: str,
    runs: pd.DataFrame,
    histories: pd.DataFrame | None = None,
    baseline: str | None = None,
    fractions: Sequence[float] | None = None,
    keys: Sequence[str] = ("optimizer", "method"),
) -> pd.DataFrame:
    """The choice by ``criterion`` (a key of :data:`LR_CRITERIA`: :func:`choose_lr_by_final_loss` or
    :func:`choose_lr_by_time_to_target`, which needs ``histories``, ``baseline`` and ``fractions``), with a column
    ``criterion`` added."""
    if criterion == "final_loss":
        chosen = choose_lr_by_final_loss(runs, keys)
    elif criterion == "time_to_target":
        if histories is None or baseline is None or not fractions:
            raise ValueError("the time_to_target criterion needs the histories, the baseline and the target fractions")
        chosen = choose_lr_by_time_to_target(runs, histories, baseline, fractions, keys)
    else:
        raise ValueError(f"unknown lr_choice criterion {criterion!r}; expected one of {sorted(LR_CRITERIA)}")
    return chosen.assign(criterion=criterion)


def widened_factor(row, step: float, low_limit: float, high_limit: float) -> float | None:
    """The next factor to try for a chosen row of :func:`choose_lr_by_final_loss`: one ``step`` beyond the end
    where the optimum sits, or None when it is interior or the next factor would pass the limit."""
    if row.at_low and row.lr_factor / step >= low_limit * (1 - 1e-9):
        return row.lr_factor / step
    if row.at_high and row.lr_factor * step <= high_limit * (1 + 1e-9):
        return row.lr_factor * step
    return None
