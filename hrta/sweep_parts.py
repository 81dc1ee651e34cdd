"""A fairness sweep (E6, e6_regime) trained in parts and joined again (rules claims_tune, claims_score, claims_gather).

One cell of a fairness sweep (one optimizer) trains every method on a learning-rate grid. With ``lr_choice`` the
grid runs on the held-out tuning seeds first, the rate is chosen there by ``lr_choice.criterion``
(hrta.claims.tuning.choose_lr: final loss or time to target; :func:`widen_lr_grid`), and only then the scoring seeds train at the chosen rate (and at the kernel-scaled rate). The parts
(hrta.pipeline.jobs.fairness_parts): "tune" (the tuning seeds, with the grid's widening) and "seed<k>" per scoring
seed (each needs the tune part's choice, no other seed). A part's runs table carries ``call``: the index of the
training call (workflow/scripts/claims_sweep.py ``run_plan``: one optimizer and factor, some methods, some seeds) that
made the row; every scoring part makes the same sequence of calls, one seed each.

One job over all seeds made, per call, the rows of every seed in seed order, each seed's rows in method order; the
tuning calls all came first. :func:`gather_fairness_parts` puts the parts' rows back in that order, so the joined
files are byte-identical to the single job's (the tables are joined as text: no number is parsed and written again).
Torch-free (the gather job imports only pandas).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import pandas as pd

from .io import write_csv

__all__ = [
    "CALL_COLUMN",
    "RUN_LABELS",
    "gather_fairness_parts",
    "mark_chosen",
    "read_lr_choice",
    "read_part",
    "widen_lr_grid",
    "write_lr_choice",
]

#: Column of a part's runs table: which training call of its job made the row (dropped by the gather).
CALL_COLUMN = "call"
#: The labels that name one run, in the order they lead both the history and the runs table.
RUN_LABELS = ("cell", "optimizer", "lr_factor", "method", "seed")


def widen_lr_grid(
    choose: Callable[[], pd.DataFrame],
    train: Callable[[str, float, str], object],
    lr_factors: Sequence[float],
    step: float,
    max_steps: int,
) -> pd.DataFrame:
    """The tune part's widening (hrta.claims.tuning.RULE_LR_TUNING, RULE_LR_TUNING_TIME), after the grid has been
    trained: ``choose()`` gives the choice from every tuning run so far (hrta.claims.tuning.choose_lr with the
    sweep's criterion: one row per optimizer × method with lr_factor, at_low, at_high); for each row whose optimum sits
    at an end of the factors tried, ``train(optimizer, factor, method)`` trains the factor one ``step`` beyond
    (hrta.claims.tuning.widened_factor), and the choice is made again, until every optimum is interior or the next
    factor would pass the limit min(lr_factors)/step^max_steps … max(lr_factors)·step^max_steps. Returns the last
    choice (its at_low / at_high rows sit at the limit)."""
    from hrta.claims.tuning import widened_factor  # lazily: the gather job imports this module with pandas alone

    low_limit = min(lr_factors) / step**max_steps
    high_limit = max(lr_factors) * step**max_steps
    while True:
        chosen = choose()
        widen = [
            (r.optimizer, f, r.method)
            for r in chosen.itertuples()
            if (f := widened_factor(r, step, low_limit, high_limit))
        ]
        if not widen:
            return chosen
        for optimizer, factor, method in widen:
            train(optimizer, factor, method)


def write_lr_choice(chosen: pd.DataFrame, path: str | os.PathLike) -> None:
    """The tune part's choice (hrta.claims.tuning.choose_lr's rows) as CSV, ``lr_factor`` as the ``repr`` of the float
    so that :func:`read_lr_choice` gives back the very same float (write_csv would round it to 10 digits)."""
    write_csv(chosen.assign(lr_factor=[repr(float(f)) for f in chosen["lr_factor"]]), path)


def read_lr_choice(path: str | os.PathLike) -> pd.DataFrame:
    """The choice written by :func:`write_lr_choice`: lr_factor the exact float (Python's float of its repr),
    at_low and at_high bools, in the order it was written."""
    table = pd.read_csv(path, dtype={"lr_factor": str, "optimizer": str, "method": str})
    table["lr_factor"] = [float(f) for f in table["lr_factor"]]
    for col in ("at_low", "at_high"):
        table[col] = table[col].astype(bool)
    return table


def read_part(path: str | os.PathLike) -> pd.DataFrame:
    """A part's CSV as text (every column a string, empty fields kept empty), so joining it changes no byte."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def mark_chosen(runs: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with columns ``chosen`` (a scoring run at its method's chosen factor) and ``at_edge`` (chosen, and
    the choice sits at an end of the factors tried at the widening limit). ``runs["lr_factor"]`` is the label the
    training script writes, str(factor) (= repr), compared with the chosen factor's repr."""
    key = runs["optimizer"] + "/" + runs["method"]
    names = chosen["optimizer"] + "/" + chosen["method"]
    pick = dict(zip(names, (repr(float(f)) for f in chosen["lr_factor"])))
    edge = dict(zip(names, chosen["at_low"] | chosen["at_high"]))
    out = runs.copy()
    out["chosen"] = [r == "scoring" and f == pick.get(k) for r, f, k in zip(runs["role"], runs["lr_factor"], key)]
    out["at_edge"] = [bool(edge.get(k, False)) and c for k, c in zip(key, out["chosen"])]
    return out


def _blocks(history: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """{run labels: that run's history rows, in order}."""
    return {key: block for key, block in history.groupby(list(RUN_LABELS), sort=False)}


def gather_fairness_parts(
    scoring: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
    tune: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    chosen: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, runs) of a whole fairness-sweep cell from its parts, in the order one job over all seeds writes.

    ``scoring``: (history, runs) of each scoring part, in the config's seed order; ``tune``: the tune part's, when
    the sweep has lr_choice, and ``chosen`` its choice (:func:`read_lr_choice`), which adds the columns of
    :func:`mark_chosen`. Parts as read by :func:`read_part`. Order: the tune part's rows as they are, then the
    scoring rows by (call, seed, position in the part): a stable sort on ``call`` of the parts joined in seed order.
    """
    if not scoring:
        raise ValueError("a fairness sweep cell needs at least one scoring part")
    calls = [list(runs[CALL_COLUMN]) for _, runs in scoring]
    if any(c != calls[0] for c in calls[1:]):
        raise ValueError("the scoring parts made different sequences of training calls; they cannot be joined")
    runs = pd.concat([r for _, r in scoring], ignore_index=True)
    runs = runs.iloc[runs[CALL_COLUMN].astype(int).argsort(kind="stable")]
    parts = ([tune] if tune is not None else []) + list(scoring)
    if tune is not None:
        runs = pd.concat([tune[1], runs], ignore_index=True)
    runs = runs.drop(columns=CALL_COLUMN).reset_index(drop=True)
    blocks: dict[tuple, pd.DataFrame] = {}
    for history, _ in parts:
        for key, block in _blocks(history).items():
            if key in blocks:
                raise ValueError(f"run {dict(zip(RUN_LABELS, key))} is in more than one part")
            blocks[key] = block
    order = [tuple(row) for row in runs[list(RUN_LABELS)].itertuples(index=False)]
    missing = [key for key in order if key not in blocks]
    if missing or len(order) != len(blocks):
        raise ValueError(f"the parts' histories and runs do not match (e.g. {missing[:1] or 'a history without run'})")
    history = pd.concat([blocks[key] for key in order], ignore_index=True)
    if chosen is not None:
        runs = mark_chosen(runs, chosen)
    return history, runs
