"""Claim verdicts: turn measured histories, spectra and errors into "supported" / "not supported" /
"inconclusive", each by a stated rule, with the numbers that drove it.

Conventions
-----------
* A *history* is the DataFrame of :class:`hrta.train.TrainResult` (columns ``step`` and
  ``train_loss``, at least). Loss L = (1/(2n)) Σ (f(x_i) − y_i)².
* A run that diverged (status ``"diverged"``, or any non-finite logged loss) counts as *never
  reaching* a tolerance and as having infinite loss at any budget — divergence is a failure, not a
  missing value.
* Steps are resolved only to the logging period: ``steps_to_tolerance`` returns the first *logged*
  step from which the loss stays at or below the tolerance, so it over-states the true step by
  < ``log_every`` for every method alike. Ratios are therefore quantized; with few seeds and coarse
  logging, identical ratios on every seed give a zero-width interval — log often enough that the
  steps to tolerance span many periods.
* Speed-up of a method over the baseline on one seed: r = baseline_steps / method_steps (r > 1: the
  method is faster). Seeds are paired (same data and initialization).
* Intervals are two-sided 95% Student-t intervals: on log ratios for speed-ups (so the centre is the
  geometric mean) and on the least-squares slope for log-log trends. Why t and not a bootstrap: with
  the 3–5 seeds we can afford, a percentile bootstrap interval can never be wider than the range of
  the data and under-covers badly, while the t-interval is exact for log-normal ratios and widens
  honestly as the number of seeds shrinks. The t quantile is computed here (no scipy dependency).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)


# ----------------------------------------------------------------------------- small statistics
def student_t_quantile(p: float, df: int) -> float:
    """The p-quantile q of Student's t with ``df`` degrees of freedom: P(T ≤ q) = p.

    CDF(q) = ½ + ∫_0^q c·(1 + t²/df)^{−(df+1)/2} dt, c = Γ((df+1)/2) / (√(df·π)·Γ(df/2)); the
    integral by composite Simpson (4000 panels) and q by bisection — accurate to ~1e-8 for df ≥ 1.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    if isinstance(df, bool) or int(df) != df or df < 1:
        raise ValueError(f"df must be a positive integer, got {df!r}")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    nu = float(df)
    log_c = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)

    def cdf(q: float) -> float:
        t = np.linspace(0.0, q, 4001)
        f = np.exp(log_c - (nu + 1) / 2 * np.log1p(t * t / nu))
        h = q / 4000
        return 0.5 + h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())

    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        lo, hi = hi, 2 * hi
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return 0.5 * (lo + hi)


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


# ----------------------------------------------------------------------------- histories
def _check_history(history: pd.DataFrame) -> None:
    for col in ("step", "train_loss"):
        if col not in history.columns:
            raise ValueError(f"history has no column {col!r} (columns: {list(history.columns)})")
    if len(history) == 0:
        raise ValueError("history is empty")


def is_diverged(history: pd.DataFrame, status: str = "ok") -> bool:
    """True if the run diverged: ``status == "diverged"`` or any logged train_loss is NaN/±inf."""
    if status not in ("ok", "diverged"):
        raise ValueError(f"status must be 'ok' or 'diverged', got {status!r}")
    _check_history(history)
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


# ----------------------------------------------------------------------------- verdicts
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


# ----------------------------------------------------------------------------- claims report
@dataclass(frozen=True)
class Claim:
    """One row of the claims report: what is claimed, where the evidence is, and the computed verdict."""

    id: str
    sentence: str
    evidence: str
    verdict: Verdict
    parts: dict[str, Verdict] = field(default_factory=dict)

    @property
    def measured(self) -> str:
        return self.verdict.numbers


CLAIM_COLUMNS = ["id", "claim", "evidence", "verdict", "measured", "rule"]


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """One row per claim with columns CLAIM_COLUMNS."""
    rows = [
        {
            "id": c.id,
            "claim": c.sentence,
            "evidence": c.evidence,
            "verdict": c.verdict.label,
            "measured": c.measured,
            "rule": c.verdict.rule,
        }
        for c in claims
    ]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_claims_markdown(
    claims: Sequence[Claim], title: str = "Claims and computed verdicts", preamble: str = ""
) -> str:
    """CLAIMS.md: a summary table (claim, evidence, verdict) then, per claim, the rule, the numbers
    and each part's verdict."""
    lines = [f"# {title}", ""]
    if preamble:
        lines += [preamble.strip(), ""]
    lines += ["| # | Claim | Evidence | Verdict |", "|---|---|---|---|"]
    for c in claims:
        lines.append(f"| {c.id} | {_md_cell(c.sentence)} | {_md_cell(c.evidence)} | **{c.verdict.label}** |")
    lines.append("")
    for c in claims:
        lines += [
            f"## Claim {c.id}: {c.sentence}",
            "",
            f"- **Verdict:** {c.verdict.label}",
            f"- **Evidence:** {c.evidence}",
            f"- **Rule:** {c.verdict.rule}",
        ]
        if c.parts:
            lines.append("- **Parts:**")
            for name, v in c.parts.items():
                lines.append(f"  - {name}: **{v.label}** — {v.numbers}")
        else:
            lines.append(f"- **Measured:** {c.measured}")
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- tables of runs
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


# ----------------------------------------------------------------------------- tolerances and lr selection
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
