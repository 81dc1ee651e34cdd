"""Pre-registered one-factor endpoints: which logged points a metric may read, the restricted time to a target,
the final loss, paired effects with t- and bootstrap intervals, the minimum detectable effect, Holm's correction
and the verdict rule.

Conventions
-----------
* A *history* is a DataFrame with columns ``step`` (logged every ``log_every`` updates and at the end) and
  ``train_loss``; the row at step t holds the loss of the parameters after t updates under s_at(t).
* A *switch step* is a step where s jumps (:func:`switch_steps`). The row logged there evaluates parameters
  trained under the old s with the new s, so it shows a one-point spike; it is never read by any endpoint
  (:func:`evaluable_history`), and an endpoint may not be declared on it (:func:`loss_at_step` raises). Only the
  row *at* the switch step is dropped: choose ``log_every`` dividing the stage boundaries.
* A run has *diverged* when its status is ``"diverged"`` or any logged loss is NaN/±inf (the convention of
  :mod:`hrta.claims.metrics`). Its final loss is +inf and it never reaches a target.
* Effects are paired by seed: r_i = c_i / t_i (control over treatment), so r > 1 means the treatment is better
  (lower loss, less time). Statistics are on log r_i.
* The thresholds (δ = 1.1, α = 0.05, power 0.8, level 0.95, target fractions 0.25/0.5/0.75/1) are pre-registered
  defaults, fixed before any result was looked at.

Only numpy, pandas, scipy.stats and statsmodels are used (no torch). scipy.stats and statsmodels (≈ 1 CPU-s to
import) are imported by the functions that use them: the tuning jobs' time-to-target criterion (hrta.claims.tuning)
needs only the time and target helpers here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from hrta.claims.metrics import check_history, is_diverged
from hrta.schedules import parse_schedule

__all__ = [
    "SUPPORTED",
    "NEGLIGIBLE",
    "NOT_SUPPORTED",
    "INCONCLUSIVE",
    "REVERSED",
    "NOT_ESTIMABLE",
    "CENSORED",
    "LABELS",
    "RULE_EFFECT",
    "RULE_CENSORED",
    "censored_at_rate_limit",
    "DEFAULT_DELTA",
    "DEFAULT_ALPHA",
    "DEFAULT_POWER",
    "DEFAULT_LEVEL",
    "DEFAULT_TARGET_FRACTIONS",
    "BOOTSTRAP_SEED",
    "switch_steps",
    "evaluable_history",
    "loss_at_step",
    "final_loss",
    "time_to_target",
    "target_family",
    "Effect",
    "paired_effect",
    "minimum_detectable_ratio",
    "n_to_decide",
    "effect_verdict",
    "holm",
    "TimeToTargetEffect",
    "time_to_target_effect",
    "final_loss_effect",
]

SUPPORTED = "supported"
NEGLIGIBLE = "negligible"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
REVERSED = "reversed"  # issue 24: the interval lies below 1, the treatment is worse
NOT_ESTIMABLE = "not estimable"  # issue 24: fewer than 2 usable pairs, no interval
CENSORED = "censored"  # issue 24, point 5b: a tuned rate at the widening limit (the optimum not bracketed)
#: every cell label, from the treatment's best to its worst standing; inconclusive, not estimable and censored decide
#: nothing
LABELS = (SUPPORTED, NEGLIGIBLE, NOT_SUPPORTED, REVERSED, INCONCLUSIVE, NOT_ESTIMABLE, CENSORED)

# Pre-registered defaults, chosen before looking at any result.
DEFAULT_DELTA = 1.1  # smallest ratio of interest: a 10% gain
DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8
DEFAULT_LEVEL = 0.95
DEFAULT_TARGET_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
BOOTSTRAP_SEED = 20240601  # fixed, so the bootstrap cross-check is reproducible

RULE_EFFECT = (
    "effect r = control / treatment per seed (r > 1: the treatment is better), geometric mean over seeds with its "
    "two-sided t-interval [lo, hi] on log r; δ = the smallest ratio of interest. "
    "supported: lo > 1 and estimate ≥ δ. "
    "negligible: lo > 1 and hi < δ (a real gain, but below the size of interest). "
    "not supported: 1 ≤ hi < δ (no gain of size δ, and no gain shown at all). "
    "reversed: hi < 1 (the treatment is worse). "
    "not estimable: fewer than 2 usable seeds (no interval). "
    "inconclusive: everything else, including lo > 1 with estimate < δ ≤ hi (direction clear, size undecided) "
    "and a verdict of supported or negligible when any treatment run diverged "
    "(pairs with a diverged run are left out of the interval and counted; a diverged treatment forbids a claimed gain); "
    "an inconclusive cell states the n that would decide it at the observed mean and spread "
    "(below δ: the n at which hi < δ, deciding it against δ; at or above δ: the n at which lo > 1). "
    "When every seed gives the same ratio the interval collapses to the point and the verdict rests on the point. "
    "censored: a tuned-rate cell whose paired runs' rate is still at an end of the factors tried at the widening "
    "limit (hrta.claims.endpoints.RULE_CENSORED); its ratio is shown, it decides nothing."
)

RULE_CENSORED = (
    "A tuned-rate cell (each method at its own rate, chosen on held-out seeds from a grid widened until the optimum is "
    "interior) is censored when the chosen rate of its treatment or control still sits at an end of the factors tried "
    "at the stated widening limit (runs marked at_edge): the tuning did not bracket that method's optimum, so the cell "
    "is no comparison of each method at its best rate. Its ratio and interval are shown with the reason; it is kept "
    "out of its claim's tally and of the Holm families. Kernel-scaled and fixed-rate cells are never censored."
)


def censored_at_rate_limit(verdict: str, n_at_edge: int, lr_choice: str) -> str:
    """The cell's label under :data:`RULE_CENSORED`: :data:`CENSORED` for a tuned-rate cell (``lr_choice`` "best")
    with ``n_at_edge`` > 0 paired runs whose chosen rate sits at the widening limit, else ``verdict`` unchanged."""
    if n_at_edge < 0:
        raise ValueError(f"n_at_edge must be ≥ 0, got {n_at_edge!r}")
    return CENSORED if lr_choice == "best" and n_at_edge > 0 else verdict


# ----------------------------------------------------------------------------- which logged points count
def switch_steps(schedule: Any) -> tuple[int, ...]:
    """Steps at which s jumps: stage boundaries b with s_end(stage before b) ≠ s_start(stage from b).

    ``schedule``: a Schedule or anything :func:`hrta.schedules.parse_schedule` accepts. A ramp stage's end counts
    when the next stage starts at another s ("0.5:1x500,0.5x1500" → (500,)); a ramp continuing where the previous
    stage ended does not ("0.5x500,0.5:1x500,1x1000" → ()), and the small per-update changes inside a ramp are not
    switches.
    """
    sched = parse_schedule(schedule)
    out = []
    for k, b in enumerate(sched.boundaries, start=1):
        if sched.stages[k - 1].s_end != sched.stages[k].s_start:
            out.append(int(b))
    return tuple(out)


def evaluable_history(history: pd.DataFrame, switch_steps: Iterable[int]) -> pd.DataFrame:
    """The history sorted by step without the rows logged at a switch step (those rows are never read)."""
    check_history(history)
    skip = {int(s) for s in switch_steps}
    h = history.sort_values("step", kind="stable")
    return h.loc[~h["step"].isin(skip)].reset_index(drop=True)


def loss_at_step(history: pd.DataFrame, step: int, switch_steps: Iterable[int]) -> float:
    """train_loss logged at exactly ``step``.

    ValueError if ``step`` is a switch step (an endpoint must never be declared there) or was not logged.
    """
    switches = {int(s) for s in switch_steps}
    if int(step) in switches:
        raise ValueError(f"step {step} is a switch step {sorted(switches)}: endpoints are never declared on one")
    h = evaluable_history(history, switches)
    hit = h.loc[h["step"] == step, "train_loss"]
    if hit.empty:
        steps = h["step"].to_numpy()
        raise ValueError(
            f"step {step} was not logged (logged steps {steps[0]}..{steps[-1]}, {len(steps)} rows without switch steps)"
        )
    return float(hit.iloc[0])


def final_loss(history: pd.DataFrame, switch_steps: Iterable[int], status: str = "ok") -> float:
    """Loss at the last logged step, L(t_last); +inf for a diverged run.

    ValueError if the last logged step is a switch step (the endpoint would read the spike).
    """
    check_history(history)
    if is_diverged(history, status):
        return math.inf
    last = int(history["step"].max())
    return loss_at_step(history, last, switch_steps)


def time_to_target(
    history: pd.DataFrame, target: float, switch_steps: Iterable[int], budget: int, status: str = "ok"
) -> tuple[int, bool]:
    """Restricted time to ``target``: (min(t*, budget), censored) with censored = (t* undefined or t* > budget).

    t* = the first logged step from which the loss *stays* ≤ target: L(t') ≤ target for every logged t' ≥ t*
    up to the end of the run, switch-step rows left out (:func:`evaluable_history`). A run whose last loss is
    above the target, or that diverged, has no t*: it returns (budget, True).

    This is the restricted time min(T, τ) of restricted-mean-survival analysis (τ = ``budget``): a censored run
    counts the whole budget, a lower bound of its true time. A ratio control/treatment with a censored treatment
    time is therefore an *upper* bound of the true ratio, one with a censored control time a *lower* bound; when
    both are censored the pair gives 1 (both at the restriction).
    """
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        raise ValueError(f"target must be a positive finite number, got {target!r}")
    if not (isinstance(budget, (int, np.integer)) and budget > 0):
        raise ValueError(f"budget must be a positive integer, got {budget!r}")
    check_history(history)
    if is_diverged(history, status):
        return int(budget), True
    h = evaluable_history(history, switch_steps)
    loss, steps = h["train_loss"].to_numpy(float), h["step"].to_numpy()
    above = np.flatnonzero(~(loss <= target))
    if above.size and above[-1] == len(h) - 1:
        return int(budget), True
    t_star = int(steps[above[-1] + 1]) if above.size else int(steps[0])
    return (t_star, False) if t_star <= budget else (int(budget), True)


def _nearest_evaluable_step(history: pd.DataFrame, switch_steps: Iterable[int], at: float) -> int:
    steps = evaluable_history(history, switch_steps)["step"].to_numpy()
    # argmin takes the first minimum: ties go to the earlier step.
    return int(steps[int(np.argmin(np.abs(steps - at)))])


def target_family(
    control_histories: Sequence[pd.DataFrame],
    fractions: Sequence[float],
    switch_steps: Iterable[int],
    total_steps: int,
    statuses: Sequence[str] | None = None,
) -> tuple[float, ...]:
    """Targets from the control runs only: for each q in ``fractions``,

        τ_q = exp( mean_i log L_i(t_i(q)) ),   t_i(q) = the logged step of run i nearest q·T that is not a switch step

    (T = ``total_steps``; ties go to the earlier step), the geometric mean over the control seeds. Deriving the
    targets from the control alone keeps them from favouring the treatment. Diverged control runs are left out;
    ValueError if all diverged.
    """
    switches = tuple(int(s) for s in switch_steps)
    statuses = list(statuses) if statuses is not None else ["ok"] * len(control_histories)
    if len(statuses) != len(control_histories):
        raise ValueError(f"{len(statuses)} statuses for {len(control_histories)} control histories")
    ok = [h for h, st in zip(control_histories, statuses) if not is_diverged(h, st)]
    if not ok:
        raise ValueError("no non-diverged control run to derive targets from")
    targets = []
    for q in fractions:
        if not 0 < q <= 1:
            raise ValueError(f"target fractions must lie in (0, 1], got {q!r}")
        losses = [loss_at_step(h, _nearest_evaluable_step(h, switches, q * total_steps), switches) for h in ok]
        targets.append(float(np.exp(np.mean(np.log(losses)))))
    return tuple(targets)


# ----------------------------------------------------------------------------- paired effects
@dataclass(frozen=True)
class Effect:
    """A paired effect r_i = c_i / t_i over seeds (r > 1: the treatment is better).

    ``estimate`` = exp(mean log r) (geometric mean); [``ci_low``, ``ci_high``] = exp(mean ± t_{(1+level)/2, n−1}·sd/√n)
    on the log ratios; ``p_value``: one-sided t-test of mean log r > 0; ``sd_log``: sd of log r (ddof 1);
    ``mde``: the smallest ratio a two-sided paired t-test at ``alpha`` detects with ``power`` at this n and sd;
    ``n_decide``: the number of seeds at which the cell, at the observed mean and sd, would be decided
    (:func:`n_to_decide`: against δ below δ; what an inconclusive cell prints);
    [``boot_low``, ``boot_high``]: percentile bootstrap interval of exp(mean log r), a cross-check only.
    ``n`` counts the usable pairs; ``n_diverged_control`` / ``n_diverged_treatment`` the pairs left out because
    that arm's value was +inf (a pair where both diverged counts in both). ``note`` states special cases.
    """

    n: int
    ratios: tuple[float, ...]
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    sd_log: float
    mde: float
    boot_low: float
    boot_high: float
    verdict: str
    level: float
    delta: float
    n_diverged_control: int = 0
    n_diverged_treatment: int = 0
    note: str = ""
    n_decide: float = math.nan

    def describe(self) -> str:
        """One line with the numbers the verdict rests on."""
        pct = f"{100 * self.level:g}%"
        text = (
            f"{self.verdict}: ratio {self.estimate:.3g} [{pct} t-CI {self.ci_low:.3g}, {self.ci_high:.3g}; "
            f"bootstrap {self.boot_low:.3g}, {self.boot_high:.3g}], n = {self.n}, one-sided p = {self.p_value:.3g}, "
            f"MDE {self.mde:.3g}, δ = {self.delta:g}"
        )
        if self.verdict == INCONCLUSIVE:
            text += f"; n to decide: {self.n_decide:g}"
        if self.n_diverged_control or self.n_diverged_treatment:
            text += f"; diverged: control {self.n_diverged_control}, treatment {self.n_diverged_treatment}"
        if self.note:
            text += f"; {self.note}"
        return text


def effect_verdict(estimate: float, lo: float, hi: float, delta: float = DEFAULT_DELTA) -> str:
    """Verdict of :data:`RULE_EFFECT` from the point estimate and interval of a ratio (r > 1: treatment better).

    supported: lo > 1 and estimate ≥ δ; negligible: lo > 1 and hi < δ; reversed: hi < 1; not supported:
    1 ≤ hi < δ (and lo ≤ 1); otherwise inconclusive (also for NaN bounds; :func:`paired_effect` labels a cell
    with fewer than 2 pairs not estimable before this rule is asked).
    """
    if not delta > 1:
        raise ValueError(f"delta must be > 1, got {delta!r}")
    if lo > 1 and estimate >= delta:
        return SUPPORTED
    if hi < delta and lo > 1:
        return NEGLIGIBLE
    if hi < 1:
        return REVERSED
    if hi < delta and lo <= 1:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def n_to_decide(
    estimate: float, sd_log: float, delta: float = DEFAULT_DELTA, level: float = DEFAULT_LEVEL, n_max: int = 10**7
) -> float:
    """The number of seeds n at which the cell would be decided, at the observed mean and spread: the smallest
    n ≥ 2 with

        t_{(1+level)/2, n−1} · sd / √n  <  gap,   gap = log δ − log estimate  (estimate < δ)
                                                  gap = log estimate          (estimate ≥ δ)

    (the half-width of the two-sided t-interval on log r; Student-t quantiles from scipy.stats). Below δ the
    question left open is the size: at that n the interval ends below δ (negligible, not supported or reversed),
    i.e. the cell is decided *against δ*. At or above δ the open question is the direction: at that n the
    interval lies above 1 (supported). It assumes mean and sd stay as observed; it is not a power calculation.
    +inf when the gap is 0 (estimate = δ, or = 1 with δ ≤ 1 impossible) or n would exceed ``n_max``; NaN when sd
    or the estimate is not finite; 2 when sd = 0.
    """
    import scipy.stats  # noqa: PLC0415

    if not (math.isfinite(estimate) and estimate > 0 and math.isfinite(sd_log)):
        return math.nan
    gap = math.log(estimate) if estimate >= delta else math.log(delta) - math.log(estimate)
    if gap == 0:
        return math.inf
    if sd_log == 0:
        return 2.0
    q = (1 + level) / 2
    # The normal quantile is below every t quantile, so the normal answer is a lower bound: start the search there.
    n = max(2, math.ceil((float(scipy.stats.norm.ppf(q)) * sd_log / gap) ** 2))
    while n <= n_max:
        ns = np.arange(n, min(2 * n, n_max) + 1)
        ok = scipy.stats.t.ppf(q, ns - 1) * sd_log / np.sqrt(ns) < gap
        if ok.any():
            return float(ns[int(np.argmax(ok))])
        n = int(ns[-1]) + 1
    return math.inf


def minimum_detectable_ratio(
    n: int, sd_log: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> float:
    """Smallest ratio exp(d·sd) that a two-sided paired (one-sample on log r) t-test at ``alpha`` detects with
    ``power``, d solving power(d) = ``power`` by statsmodels' TTestPower (noncentral t, df = n − 1, noncentrality
    d·√n). NaN for n < 2; 1.0 when sd = 0 (no noise: any gain is detectable)."""
    from statsmodels.stats.power import TTestPower  # noqa: PLC0415

    if n < 2 or not math.isfinite(sd_log):
        return math.nan
    if sd_log == 0:
        return 1.0
    d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power, alternative="two-sided")
    return float(math.exp(float(np.asarray(d).item()) * sd_log))


def _check_values(name: str, values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} values must be 1-D, got shape {x.shape}")
    bad = np.isnan(x) | (x <= 0)
    if bad.any():
        raise ValueError(
            f"{name} values must be > 0, or +inf for a diverged run; got {x[bad].tolist()} "
            "(a zero loss or time makes the ratio undefined: clamp it upstream)"
        )
    return x


def paired_effect(
    control: Sequence[float],
    treatment: Sequence[float],
    level: float = DEFAULT_LEVEL,
    delta: float = DEFAULT_DELTA,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    n_resamples: int = 9999,
    seed: int = BOOTSTRAP_SEED,
) -> Effect:
    """Paired effect of per-seed values c_i (control) and t_i (treatment), r_i = c_i / t_i, with l_i = log r_i:

        estimate = exp(mean l);  interval = exp(mean l ± t.ppf((1+level)/2, n−1)·sd(l)/√n);
        p = ttest_1samp(l, 0, alternative="greater").pvalue;  mde = :func:`minimum_detectable_ratio`;
        bootstrap = scipy.stats.bootstrap percentile interval of mean l (``n_resamples``, rng seed ``seed``), exp'd;
        verdict = :func:`effect_verdict`, with the special cases of :data:`RULE_EFFECT`.

    Values must be > 0; +inf marks a diverged run. Pairs with a diverged value are left out and counted; if any
    *treatment* value diverged, a supported/negligible verdict becomes inconclusive. n < 2 usable pairs: verdict
    not estimable, intervals and p NaN. Zero variance (all r_i equal): the t- and bootstrap intervals collapse to
    the point, p = 0 if the common ratio is > 1 else 1, and ``note`` says so.
    """
    import scipy.stats  # noqa: PLC0415

    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    c, t = _check_values("control", control), _check_values("treatment", treatment)
    if c.shape != t.shape:
        raise ValueError(f"control and treatment must be paired (same length), got {c.size} and {t.size}")
    c_div, t_div = np.isinf(c), np.isinf(t)
    ok = ~c_div & ~t_div
    # log of the quotient (not a difference of logs), so pairs with the same ratio give the same float.
    logs = np.log(c[ok] / t[ok])
    n = int(logs.size)
    counts = {"n_diverged_control": int(c_div.sum()), "n_diverged_treatment": int(t_div.sum())}
    ratios = tuple(float(r) for r in np.exp(logs))
    nan = math.nan
    if n < 2:
        est = float(np.exp(logs[0])) if n else nan
        note = f"fewer than 2 usable pairs ({n})"
        return Effect(
            n, ratios, est, nan, nan, nan, nan, nan, nan, nan, NOT_ESTIMABLE, level, delta, **counts, note=note
        )
    mean, sd = float(logs.mean()), float(logs.std(ddof=1))
    if np.ptp(logs) == 0:  # all ratios identical: exactly zero spread (the mean's rounding aside)
        mean, sd = float(logs[0]), 0.0
    est = math.exp(mean)
    note = ""
    if sd == 0:
        lo = hi = boot_lo = boot_hi = est
        p = 0.0 if mean > 0 else 1.0
        note = "zero variance: every seed gives the same ratio, the interval collapses to the point"
    else:
        half = float(scipy.stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
        lo, hi = math.exp(mean - half), math.exp(mean + half)
        p = float(scipy.stats.ttest_1samp(logs, 0.0, alternative="greater").pvalue)
        boot = scipy.stats.bootstrap(
            (logs,),
            np.mean,
            n_resamples=n_resamples,
            confidence_level=level,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        boot_lo, boot_hi = math.exp(boot.confidence_interval.low), math.exp(boot.confidence_interval.high)
    verdict = effect_verdict(est, lo, hi, delta)
    if counts["n_diverged_treatment"] and verdict in (SUPPORTED, NEGLIGIBLE):
        verdict = INCONCLUSIVE
        note = "; ".join(filter(None, [note, f"{counts['n_diverged_treatment']} treatment run(s) diverged"]))
    mde = minimum_detectable_ratio(n, sd, alpha, power)
    n_dec = n_to_decide(est, sd, delta, level)
    return Effect(
        n, ratios, est, lo, hi, p, sd, mde, boot_lo, boot_hi, verdict, level, delta, **counts, note=note, n_decide=n_dec
    )


def holm(p_values: Sequence[float], alpha: float = DEFAULT_ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Holm–Bonferroni over a family of m one-sided p-values: with p_(1) ≤ … ≤ p_(m), the adjusted
    p̃_(k) = max_{j ≤ k} min(1, (m − j + 1)·p_(j)); reject where p̃ ≤ alpha. Returns (reject, adjusted) in the
    input order (statsmodels.stats.multitest.multipletests, method "holm")."""
    from statsmodels.stats.multitest import multipletests  # noqa: PLC0415

    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or p.size == 0 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p-values must be a non-empty 1-D sequence in [0, 1], got {p.tolist()}")
    reject, adjusted, _, _ = multipletests(p, alpha=alpha, method="holm")
    return np.asarray(reject, dtype=bool), np.asarray(adjusted, dtype=float)


# ----------------------------------------------------------------------------- the two endpoints
def _statuses(statuses: Sequence[str] | None, n: int, arm: str) -> list[str]:
    out = list(statuses) if statuses is not None else ["ok"] * n
    if len(out) != n:
        raise ValueError(f"{len(out)} {arm} statuses for {n} {arm} histories")
    return out


def _paired(control: Sequence[pd.DataFrame], treatment: Sequence[pd.DataFrame]) -> None:
    if len(control) != len(treatment):
        raise ValueError(f"histories must be paired by seed: {len(control)} control, {len(treatment)} treatment")


@dataclass(frozen=True)
class TimeToTargetEffect:
    """:class:`Effect` of the restricted time to the target family, with the censoring counts.

    ``times_control`` / ``times_treatment``: per seed, per target, the restricted times (≥ 1). ``censored_control`` /
    ``censored_treatment``: the number of (seed, target) cells censored at the budget in each arm. A censored
    treatment cell makes its ratio an upper bound, a censored control cell a lower bound; both censored gives 1.
    """

    effect: Effect
    targets: tuple[float, ...]
    times_control: tuple[tuple[int, ...], ...]
    times_treatment: tuple[tuple[int, ...], ...]
    censored_control: int
    censored_treatment: int
    budget: int


def time_to_target_effect(
    control_histories: Sequence[pd.DataFrame],
    treatment_histories: Sequence[pd.DataFrame],
    targets: Sequence[float],
    switch_steps_control: Iterable[int],
    switch_steps_treatment: Iterable[int],
    budget: int,
    statuses_control: Sequence[str] | None = None,
    statuses_treatment: Sequence[str] | None = None,
    **effect_kwargs: Any,
) -> TimeToTargetEffect:
    """Paired effect of the restricted time to a family of targets (histories paired by seed, same order).

    For seed i and target k, a_ik and b_ik = :func:`time_to_target` of control and treatment, each clamped to ≥ 1
    step (a loss starting below the target counts one step, so ratios stay finite). The per-seed summary is the
    geometric mean over the K targets of the ratios, R_i = exp((1/K) Σ_k log(a_ik / b_ik)), handed to
    :func:`paired_effect` as c_i = geomean_k a_ik, t_i = geomean_k b_ik (the same ratio). A cell censored in both
    arms contributes ratio 1 (both at the restriction). A diverged run counts the whole budget in every cell;
    a diverged treatment run also forbids a supported/negligible verdict (:data:`RULE_EFFECT`).
    ``effect_kwargs``: level, delta, alpha, power, n_resamples, seed of :func:`paired_effect`.
    """
    _paired(control_histories, treatment_histories)
    if len(targets) == 0:
        raise ValueError("no targets")
    sc, st = tuple(switch_steps_control), tuple(switch_steps_treatment)
    stat_c = _statuses(statuses_control, len(control_histories), "control")
    stat_t = _statuses(statuses_treatment, len(treatment_histories), "treatment")

    def arm(histories, switches, statuses):
        times, censored = [], 0
        for h, status in zip(histories, statuses):
            row = []
            for target in targets:
                time, cens = time_to_target(h, float(target), switches, budget, status)
                row.append(max(time, 1))
                censored += cens
            times.append(tuple(row))
        return tuple(times), censored

    times_c, cens_c = arm(control_histories, sc, stat_c)
    times_t, cens_t = arm(treatment_histories, st, stat_t)
    c = [float(np.exp(np.mean(np.log(row)))) for row in times_c]
    t = [float(np.exp(np.mean(np.log(row)))) for row in times_t]
    effect = paired_effect(c, t, **effect_kwargs)
    n_div_t = sum(is_diverged(h, s) for h, s in zip(treatment_histories, stat_t))
    n_div_c = sum(is_diverged(h, s) for h, s in zip(control_histories, stat_c))
    if n_div_t and effect.verdict in (SUPPORTED, NEGLIGIBLE):
        note = "; ".join(filter(None, [effect.note, f"{n_div_t} treatment run(s) diverged"]))
        effect = replace(effect, verdict=INCONCLUSIVE, note=note)
    effect = replace(effect, n_diverged_control=n_div_c, n_diverged_treatment=n_div_t)
    return TimeToTargetEffect(effect, tuple(float(x) for x in targets), times_c, times_t, cens_c, cens_t, int(budget))


def final_loss_effect(
    control_histories: Sequence[pd.DataFrame],
    treatment_histories: Sequence[pd.DataFrame],
    switch_steps_control: Iterable[int],
    switch_steps_treatment: Iterable[int],
    statuses_control: Sequence[str] | None = None,
    statuses_treatment: Sequence[str] | None = None,
    **effect_kwargs: Any,
) -> Effect:
    """Paired effect of the final loss, r_i = L_control,i(T) / L_treatment,i(T) (:func:`final_loss`; r > 1: the
    treatment ends lower). A diverged run has final loss +inf and its pair is handled by :func:`paired_effect`.
    ValueError if the non-diverged runs do not all end at the same step (the endpoint compares equal budgets).
    ``effect_kwargs``: level, delta, alpha, power, n_resamples, seed of :func:`paired_effect`.
    """
    _paired(control_histories, treatment_histories)
    stat_c = _statuses(statuses_control, len(control_histories), "control")
    stat_t = _statuses(statuses_treatment, len(treatment_histories), "treatment")
    sc, st = tuple(switch_steps_control), tuple(switch_steps_treatment)
    ends = {
        int(h["step"].max())
        for hs, ss in ((control_histories, stat_c), (treatment_histories, stat_t))
        for h, s in zip(hs, ss)
        if not is_diverged(h, s)
    }
    if len(ends) > 1:
        raise ValueError(f"non-diverged runs end at different steps {sorted(ends)}: final losses are not comparable")
    c = [final_loss(h, sc, s) for h, s in zip(control_histories, stat_c)]
    t = [final_loss(h, st, s) for h, s in zip(treatment_histories, stat_t)]
    return paired_effect(c, t, **effect_kwargs)
