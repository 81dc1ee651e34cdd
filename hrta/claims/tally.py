"""One rule for every claim (issue 24): cell labels, Holm-adjusted within a claim, then where the claim holds,
fails, is reversed or is undecided, stratum by stratum.

Conventions
-----------
* A *cell* is one primary comparison of :mod:`hrta.claims.endpoints` (columns ``verdict``, ``estimate``,
  ``ci_low``, ``ci_high``, ``sd_log``, ``n``): r = control / treatment, r > 1 the treatment is better, the
  interval a two-sided t-interval at ``level`` on log r.
* Words: supported → **holds**, negligible → **negligible** (a real gain below δ), not supported → **fails**,
  reversed → **reversed**, inconclusive → **undecided**, not estimable → **not estimable** (n < 2; left out of
  every tally and of the Holm family, and named), censored → **censored** (issue 24, 5b: a tuned rate at the widening
  limit, :data:`hrta.claims.endpoints.RULE_CENSORED`; likewise never counted, and named). Claims 1–3's parts (supported / not supported / inconclusive)
  use the same words.
* Holm within a claim. A cell's label rests on one bound of its interval beyond one threshold: supported on
  lo > 1, not supported on hi < δ, reversed on hi < 1, negligible on both lo > 1 and hi < δ. Each bound is a
  one-sided t-test on log r at (1 − level)/2 (a two-sided 95 % interval = two one-sided 2.5 % tests): the
  cell's *decisive* p-value is that test's (for negligible the larger of its two). Holm's step-down
  (statsmodels.stats.multitest.multipletests, method "holm") runs over every estimable cell of the claim at
  family-wise (1 − level)/2; an undecided cell enters with p = 1 (it counts in the family, it rejects nothing).
  The intervals are adjusted consistently: a cell with decisive p and Holm-adjusted p̃ gets the interval whose
  each tail is (1 − level)/2 · p/p̃, so its decisive bound lies beyond its threshold exactly when p̃ <
  (1 − level)/2; the adjusted label is the same rule (:func:`hrta.claims.endpoints.effect_verdict`) applied to
  the adjusted interval (a supported cell that loses its lower bound becomes undecided, a reversed cell that
  loses its upper bound below 1 may become "fails").
* A claim's (or a stratum's) label from its cells' words (:func:`claim_label`): **holds** when every estimable
  cell holds; **reversed** when every one is reversed; **undecided** when none holds and some are undecided;
  **fails** when none holds or is undecided (fails, negligible or reversed); **holds in part** when some hold
  and some do not (the strata say where); **not estimable** when no cell is estimable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats
from statsmodels.stats.multitest import multipletests

from hrta.claims import endpoints as E

__all__ = [
    "WORDS",
    "CLAIM_LABELS",
    "HOLDS",
    "HOLDS_IN_PART",
    "FAILS",
    "REVERSED_WORD",
    "UNDECIDED",
    "NOT_ESTIMABLE_WORD",
    "CENSORED_WORD",
    "UNCOUNTED",
    "RULE_TALLY",
    "DIRECTIONS",
    "SURVIVES",
    "DOES_NOT_SURVIVE",
    "NO_DIRECTION",
    "label_direction",
    "variant_pairs",
    "one_sided_p",
    "decisive_p",
    "holm_within_claim",
    "claim_label",
    "label_with_counts",
    "stratum_columns",
    "Stratum",
    "strata",
]

HOLDS, HOLDS_IN_PART, FAILS, REVERSED_WORD, UNDECIDED, NOT_ESTIMABLE_WORD, CENSORED_WORD = (
    "holds",
    "holds in part",
    "fails",
    "reversed",
    "undecided",
    "not estimable",
    "censored",
)
WORDS = {
    E.SUPPORTED: HOLDS,
    E.NEGLIGIBLE: "negligible",
    E.NOT_SUPPORTED: FAILS,
    E.REVERSED: REVERSED_WORD,
    E.INCONCLUSIVE: UNDECIDED,
    E.NOT_ESTIMABLE: NOT_ESTIMABLE_WORD,
    E.CENSORED: CENSORED_WORD,
}
#: the cell words that are never counted in a tally (named apart)
UNCOUNTED = (NOT_ESTIMABLE_WORD, CENSORED_WORD)
CLAIM_LABELS = (HOLDS, HOLDS_IN_PART, FAILS, REVERSED_WORD, UNDECIDED, NOT_ESTIMABLE_WORD, CENSORED_WORD)

RULE_TALLY = (
    "Each cell is labelled by the effect rule, then Holm-adjusted within its claim (every estimable cell of the claim "
    "is one test: the one-sided t-test of the bound its label rests on, at family-wise (1 − level)/2, so that the "
    "unadjusted labels are exactly the unadjusted intervals'; the interval is widened to the Holm level and the "
    "rule applied again). Cell words: supported = holds, not supported = fails, inconclusive = undecided. A claim, "
    "and each stratum of it (registered factors claims.endpoints.strata), holds when every estimable cell holds, is "
    "reversed when every one is reversed, undecided when none holds and some are undecided, fails when none holds "
    "or is undecided, and holds in part otherwise; not-estimable cells (n < 2) and censored cells (a tuned rate at "
    "the widening limit) are named and never counted, nor are they in the Holm family."
)


def one_sided_p(mean_log: float, sd_log: float, n: int, threshold_log: float, alternative: str) -> float:
    """p-value of the one-sample t-test of the mean log ratio against ``threshold_log``:
    ``alternative="greater"`` tests H0: μ ≤ θ (p = P(T ≥ t)), ``"less"`` H0: μ ≥ θ (p = P(T ≤ t)), with
    t = (mean − θ)/(sd/√n) and n − 1 degrees of freedom (scipy.stats.t). With sd = 0 (every seed the same ratio)
    p = 0 when the mean lies strictly on the alternative's side, else 1. NaN with n < 2."""
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative must be 'greater' or 'less', got {alternative!r}")
    if n < 2 or not (math.isfinite(mean_log) and math.isfinite(sd_log)):
        return math.nan
    diff = mean_log - threshold_log
    if sd_log == 0:
        side = diff > 0 if alternative == "greater" else diff < 0
        return 0.0 if side else 1.0
    t = diff / (sd_log / math.sqrt(n))
    dist = scipy.stats.t(n - 1)
    return float(dist.sf(t) if alternative == "greater" else dist.cdf(t))


def decisive_p(label: str, estimate: float, sd_log: float, n: int, delta: float) -> float:
    """The p-value of the test a cell's label rests on (module docstring); 1.0 for an undecided cell, NaN for a
    cell that is not estimable or censored (neither is in the Holm family)."""
    if label in (E.NOT_ESTIMABLE, E.CENSORED):
        return math.nan
    mean = math.log(estimate)
    up = one_sided_p(mean, sd_log, n, 0.0, "greater")
    below_delta = one_sided_p(mean, sd_log, n, math.log(delta), "less")
    if label == E.SUPPORTED:
        return up
    if label == E.NEGLIGIBLE:
        return max(up, below_delta)
    if label == E.NOT_SUPPORTED:
        return below_delta
    if label == E.REVERSED:
        return one_sided_p(mean, sd_log, n, 0.0, "less")
    if label == E.INCONCLUSIVE:
        return 1.0
    raise ValueError(f"unknown cell label {label!r}; expected one of {E.LABELS}")


def _adjusted_interval(estimate: float, sd_log: float, n: int, tail: float) -> tuple[float, float]:
    if sd_log == 0:
        return estimate, estimate
    half = float(scipy.stats.t.ppf(1 - tail, n - 1)) * sd_log / math.sqrt(n)
    return math.exp(math.log(estimate) - half), math.exp(math.log(estimate) + half)


def holm_within_claim(
    cells: pd.DataFrame, level: float = E.DEFAULT_LEVEL, delta: float = E.DEFAULT_DELTA
) -> pd.DataFrame:
    """``cells`` (one claim's primary cells: verdict, estimate, sd_log, n) with columns added: ``p_decisive``,
    ``p_holm`` (Holm over the claim's estimable cells at family-wise (1 − level)/2), ``ci_low_holm`` /
    ``ci_high_holm`` (the interval whose tails are (1 − level)/2 · p/p̃) and ``verdict_holm`` (the effect rule on
    that interval; not estimable, censored and undecided cells keep their label). Rows keep their order and index."""
    missing = [c for c in ("verdict", "estimate", "sd_log", "n") if c not in cells.columns]
    if missing:
        raise ValueError(f"cells lack column(s) {missing}")
    out = cells.copy()
    p = np.array(
        [decisive_p(r.verdict, float(r.estimate), float(r.sd_log), int(r.n), delta) for r in out.itertuples()],
        dtype=float,
    )
    out["p_decisive"] = p
    out["p_holm"] = math.nan
    out["ci_low_holm"] = out["ci_low"] if "ci_low" in out.columns else math.nan
    out["ci_high_holm"] = out["ci_high"] if "ci_high" in out.columns else math.nan
    out["verdict_holm"] = out["verdict"]
    tested = np.isfinite(p)
    if not tested.any():
        return out
    alpha = (1 - level) / 2
    _, adjusted, _, _ = multipletests(p[tested], alpha=alpha, method="holm")
    idx = out.index[tested]
    out.loc[idx, "p_holm"] = adjusted
    for i, p_raw, p_adj in zip(idx, p[tested], adjusted):
        r = out.loc[i]
        if r["verdict"] == E.INCONCLUSIVE:
            continue
        tail = alpha if p_adj == 0 else alpha * p_raw / p_adj
        lo, hi = _adjusted_interval(float(r["estimate"]), float(r["sd_log"]), int(r["n"]), tail)
        out.loc[i, ["ci_low_holm", "ci_high_holm"]] = [lo, hi]
        label = E.effect_verdict(float(r["estimate"]), lo, hi, delta)
        # A cell never gains a label from the adjustment (a diverged treatment's inconclusive stays, above).
        out.loc[i, "verdict_holm"] = label if p_adj >= alpha else r["verdict"]
    return out


def claim_label(words: Iterable[str]) -> str:
    """The claim's (or a stratum's) label from its cells' words (module docstring); with no counted cell, censored
    when some cell is censored, else not estimable."""
    words = list(words)
    unknown = set(words) - set(WORDS.values())
    if unknown:
        raise ValueError(f"unknown cell word(s) {sorted(unknown)}; expected {sorted(WORDS.values())}")
    counted = [w for w in words if w not in UNCOUNTED]
    if not counted:
        return CENSORED_WORD if CENSORED_WORD in words else NOT_ESTIMABLE_WORD
    if all(w == HOLDS for w in counted):
        return HOLDS
    if HOLDS in counted:
        return HOLDS_IN_PART
    if all(w == REVERSED_WORD for w in counted):
        return REVERSED_WORD
    if UNDECIDED in counted:
        return UNDECIDED
    return FAILS


def _word_order(word: str) -> tuple[int, str]:
    """Cell words in the order fails, negligible, reversed, undecided, then any other (alphabetical)."""
    order = [FAILS, WORDS[E.NEGLIGIBLE], REVERSED_WORD, UNDECIDED]
    return (order.index(word), "") if word in order else (len(order), word)


def label_with_counts(words: Iterable[str], unit: str = "cells") -> str:
    """:func:`claim_label` with the counts behind it wherever the label alone hides them, i.e. whenever the counted
    cells do not all carry one word: "holds in part (2 of 13 cells hold; 7 reversed)", "undecided (0 of 22 cells
    hold; 8 fails; 13 reversed; 1 undecided)" (a two-minute reader took "undecided" for "no evidence either way").
    A label over cells of one word is returned bare. Not-estimable and censored cells are not counted (as in
    claim_label: UNCOUNTED)."""
    words = list(words)
    label = claim_label(words)
    counted = [w for w in words if w not in UNCOUNTED]
    if len(set(counted)) <= 1:
        return label
    others = {w: counted.count(w) for w in sorted(set(counted) - {HOLDS}, key=_word_order)}
    rest = "; ".join(f"{k} {w}" for w, k in others.items())
    return f"{label} ({counted.count(HOLDS)} of {len(counted)} {unit} hold{'; ' + rest if rest else ''})"


RATE_NAMES = {"": "fixed rate", "best": "tuned rate", "kernel": "kernel-scaled rate"}


def stratum_columns(cells: pd.DataFrame, variants: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The registered stratification factors of endpoint cells as columns: ``rate`` (fixed rate: both arms at one
    configured rate; tuned rate: each method at its own tuned rate; kernel-scaled rate: each stage at
    1/λ_max(K_s/n)), ``regime_name`` ("λ_min": the λ_min regime, else "NTK"), ``base`` (the model of an e5 cell,
    else "ReLU": the two-layer ReLU network), ``variant`` (``variants[source]``: what a source changes in E3's
    design, config claims.endpoints.variants, e.g. "T = 20,000 (e3_long)"; "" for every other source, so that
    their strata are the same with or without the factor); ``optimizer`` and ``width`` are the table's own."""
    out = cells.copy()
    variants = dict(variants or {})
    out["variant"] = [variants.get(str(s), "") for s in out["source"]]
    lr = out["lr_choice"].fillna("").astype(str) if "lr_choice" in out.columns else pd.Series("", index=out.index)
    bad = sorted(set(lr) - set(RATE_NAMES))
    if bad:
        raise ValueError(f"unknown lr_choice value(s) {bad}; expected one of {sorted(RATE_NAMES)}")
    out["rate"] = [RATE_NAMES[v] for v in lr]
    regime = out["regime"].fillna("").astype(str) if "regime" in out.columns else pd.Series("", index=out.index)
    out["regime_name"] = ["λ_min" if v else "NTK" for v in regime]
    cell = out["cell"].fillna("").astype(str) if "cell" in out.columns else pd.Series("", index=out.index)
    out["base"] = [c if s == "e5" else "ReLU" for s, c in zip(out["source"], cell)]
    return out


@dataclass(frozen=True)
class Stratum:
    """One stratum of a claim: its factor values, its label and the words of its cells by the ``within`` factor."""

    key: tuple
    label: str
    words: tuple[tuple[str, str], ...]  # (within value, word), one per cell

    def describe(self, names: Sequence[str] = ()) -> str:
        where = " · ".join(str(k) for k in self.key if str(k))
        counts: dict[str, list[str]] = {}
        for value, word in self.words:
            counts.setdefault(word, []).append(value)
        parts = [
            f"{word} {len(vals)}" + (f" ({', '.join(vals)})" if any(vals) else "") for word, vals in counts.items()
        ]
        return f"{where}: **{self.label}** — {'; '.join(parts)}"


def strata(
    cells: pd.DataFrame, factors: Sequence[str], within: str | None = None, word_col: str = "word"
) -> list[Stratum]:
    """Group a claim's cells by ``factors`` (in first-seen order) and label each group (:func:`claim_label` of
    its ``word_col``); ``within``: the factor listed inside each stratum (e.g. width), with the treatment."""
    missing = [c for c in (*factors, word_col) if c not in cells.columns]
    if missing:
        raise ValueError(f"cells lack column(s) {missing}")
    out = []
    for key, g in cells.groupby(list(factors), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        inner = []
        for r in g.itertuples():
            bits = [str(getattr(r, "treatment", ""))]
            value = getattr(r, within, "") if within else ""
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if str(value) not in ("", "nan"):
                bits.append(f"{within} {value}")
            inner.append((" ".join(b for b in bits if b), getattr(r, word_col)))
        out.append(Stratum(key, claim_label(g[word_col]), tuple(inner)))
    return out


#: the direction a cell's word asserts: a gain (holds, or negligible: a real gain below δ), a loss (reversed); the
#: other words (fails, undecided, not estimable) assert none
DIRECTIONS = {HOLDS: "gain", WORDS[E.NEGLIGIBLE]: "gain", REVERSED_WORD: "loss"}
SURVIVES, DOES_NOT_SURVIVE, NO_DIRECTION = "survives", "does not survive", "no gain or loss to carry over"


def label_direction(word: str) -> str:
    """Direction "gain", "loss" or "" (none) of a cell word (:data:`DIRECTIONS`); ValueError for an unknown word."""
    if word not in WORDS.values():
        raise ValueError(f"unknown cell word {word!r}; expected one of {sorted(WORDS.values())}")
    return DIRECTIONS.get(word, "")


def variant_pairs(
    cells: pd.DataFrame,
    reference: str,
    variant: str,
    keys: Sequence[str] = ("claim", "treatment", "control", "optimizer", "width"),
    word_col: str = "word",
    interval: tuple[str, str] = ("ci_low_holm", "ci_high_holm"),
) -> pd.DataFrame:
    """Each cell of source ``variant`` beside the cell of source ``reference`` with the same ``keys`` (e.g. e3's
    Gaussian-init cell beside e3_equal_init's at the same claim, treatment, control, optimizer and width), in the
    variant's row order; a variant cell without a reference cell is left out.

    Columns: ``keys``, then per side (``ref_`` and ``var_``) estimate, ci_low, ci_high (from ``interval``), n, word
    and direction (:func:`label_direction`), then ``outcome``: "survives" when the reference cell asserts a direction
    (a gain: holds or negligible; a loss: reversed) and the variant cell asserts the same one; "does not survive"
    when the reference asserts one and the variant does not (or the other); "no gain or loss to carry over" when the
    reference asserts none (fails, undecided, not estimable)."""
    need = ["source", *keys, "estimate", *interval, "n", word_col]
    missing = [c for c in need if c not in cells.columns]
    if missing:
        raise ValueError(f"cells lack column(s) {missing}")

    def side(source: str, prefix: str) -> pd.DataFrame:
        rows = cells[cells["source"].astype(str) == source]
        out = rows[list(keys)].astype(str).reset_index(drop=True)
        out[f"{prefix}estimate"] = rows["estimate"].astype(float).to_numpy()
        out[f"{prefix}ci_low"] = rows[interval[0]].astype(float).to_numpy()
        out[f"{prefix}ci_high"] = rows[interval[1]].astype(float).to_numpy()
        out[f"{prefix}n"] = rows["n"].to_numpy()
        out[f"{prefix}word"] = rows[word_col].astype(str).to_numpy()
        out[f"{prefix}direction"] = [label_direction(w) for w in out[f"{prefix}word"]]
        return out

    ref, var = side(reference, "ref_"), side(variant, "var_")
    if ref.duplicated(list(keys)).any():
        raise ValueError(f"source {reference!r} has several cells with the same {list(keys)}")
    pairs = var.merge(ref, on=list(keys), how="inner", sort=False)
    pairs["outcome"] = [
        NO_DIRECTION if not r else SURVIVES if r == v else DOES_NOT_SURVIVE
        for r, v in zip(pairs["ref_direction"], pairs["var_direction"])
    ]
    return pairs[
        [*keys, *[c for c in pairs.columns if c.startswith("ref_")], *[c for c in var.columns if c.startswith("var_")]]
        + ["outcome"]
    ]
