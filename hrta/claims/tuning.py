"""The learning-rate choice of the fairness sweeps (claim 7, e6 and e6_regime): a factor grid trained on held-out
tuning seeds, one factor chosen per optimizer × method by the sweep's registered criterion (final loss, or time to
the baseline's targets: the primary endpoint of the λ_min-regime cells), the grid widened while the optimum sits at
an end. Its own module (moved from hrta.claims.metrics): the time-to-target criterion uses hrta.claims.endpoints,
which imports hrta.claims.metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hrta.claims.metrics import is_diverged

__all__ = [
    "LR_CRITERIA",
    "RULE_LR_TUNING",
    "RULE_LR_TUNING_TIME",
    "choose_lr",
    "choose_lr_by_final_loss",
    "choose_lr_by_time_to_target",
    "time_to_target_score",
    "widened_factor",
]


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
    from hrta.claims import endpoints as E  # noqa: PLC0415 (lazily: statsmodels only for this criterion)

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
    from hrta.claims import endpoints as E  # noqa: PLC0415 (lazily: statsmodels only for this criterion)

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
