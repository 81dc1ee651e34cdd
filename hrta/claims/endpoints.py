"""Pre-registered one-factor endpoints (config ``claims.endpoints``): effect sizes with intervals, n and a verdict.

A comparison pairs a *treatment* with a *control* that differs from it only in what a claim asserts, seed by
seed (same data and initialization). Per seed i the effect is the ratio r_i = c_i / t_i of the control's value
to the treatment's (> 1: the treatment is better, i.e. a lower loss or fewer steps). Two quantities:

* **final loss** — the training loss at the last logged step T;
* **time to target** — for each target τ_q of a family (the control's geometric-mean loss at q·T), the first
  logged step from which the loss *stays* ≤ τ_q, restricted at T (a run that never gets there counts T and is
  *censored*: the ratio of restricted times, as a restricted mean survival time, is then a bound); per seed the
  geometric mean over the family.

No metric is ever read on a logged switch step (where s changes and the loss spikes for one logged point): those
points are removed before anything is read, and an endpoint declared on one is an error.

Statistics from the field's libraries: the t interval (scipy.stats.t) on mean log r, its bootstrap cross-check
(scipy.stats.bootstrap), the one-sided p-value (scipy.stats.ttest_1samp), the minimum detectable effect
(statsmodels TTestPower) and the Holm correction (statsmodels multipletests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

from hrta.schedules import parse_schedule

__all__ = [
    "EFFECT_VERDICTS",
    "INCONCLUSIVE",
    "NEGLIGIBLE",
    "NOT_SUPPORTED",
    "RULE_EFFECT",
    "SUPPORTED",
    "Effect",
    "effect_verdict",
    "evaluable_history",
    "final_loss",
    "final_loss_effect",
    "holm",
    "loss_at_step",
    "paired_effect",
    "switch_steps",
    "target_family",
    "time_to_target",
    "time_to_target_effect",
]

SUPPORTED = "supported"
NEGLIGIBLE = "negligible"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
EFFECT_VERDICTS = (SUPPORTED, NEGLIGIBLE, NOT_SUPPORTED, INCONCLUSIVE)

RULE_EFFECT = (
    "per cell, the geometric-mean ratio control/treatment over paired seeds with its {level:.0%} t interval: "
    "supported when the interval lies above 1 and the estimate reaches δ = {delta:g}; not supported when the "
    "interval lies below δ (a gain of δ or more is ruled out), called negligible when it still lies above 1; "
    "otherwise inconclusive, with the minimum detectable effect at this n (power {power:.0%}); a diverged "
    "treatment run makes its cell not supported, a diverged control run leaves it inconclusive"
)


def switch_steps(schedule) -> tuple[int, ...]:
    """Steps at which s changes: the boundaries between stages whose s differ (a ramp's end counts when the next
    stage starts at another s). ``schedule``: a spec string or a parsed Schedule."""
    sched = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    out, step = [], 0
    for prev, nxt in zip(sched.stages, sched.stages[1:]):
        step += prev.steps
        if prev.s_end != nxt.s_start or prev.is_ramp or nxt.is_ramp:
            out.append(step)
    return tuple(out)


def _sorted(history: pd.DataFrame) -> pd.DataFrame:
    for col in ("step", "train_loss"):
        if col not in history.columns:
            raise ValueError(f"history has no column {col!r}")
    if len(history) == 0:
        raise ValueError("history is empty")
    return history.sort_values("step")


def evaluable_history(history: pd.DataFrame, switches: Sequence[int]) -> pd.DataFrame:
    """The history without its logged switch steps (no metric reads those points)."""
    h = _sorted(history)
    return h[~h["step"].isin(list(switches))]


def loss_at_step(history: pd.DataFrame, step: int, switches: Sequence[int]) -> float:
    """Training loss logged at ``step``; ValueError on a switch step or a step that was not logged."""
    if step in set(switches):
        raise ValueError(f"step {step} is a switch step; endpoints are never read there")
    h = _sorted(history)
    rows = h[h["step"] == step]
    if rows.empty:
        raise ValueError(f"step {step} was not logged (logged steps {int(h['step'].min())}…{int(h['step'].max())})")
    return float(rows["train_loss"].iloc[0])


def final_loss(history: pd.DataFrame, switches: Sequence[int]) -> float:
    """Loss at the last logged step (+inf if any logged loss is not finite: the run diverged)."""
    h = _sorted(history)
    if not np.all(np.isfinite(h["train_loss"].to_numpy(float))):
        return math.inf
    return loss_at_step(h, int(h["step"].iloc[-1]), switches)


def time_to_target(history: pd.DataFrame, target: float, switches: Sequence[int], budget: int) -> tuple[float, bool]:
    """(t, censored): the first logged step from which the loss stays ≤ ``target`` up to the end (switch-step
    points excluded), restricted at ``budget``; (budget, True) when it never gets there or diverged."""
    h = evaluable_history(history, switches)
    loss = h["train_loss"].to_numpy(float)
    steps = h["step"].to_numpy(int)
    above = ~(np.isfinite(loss) & (loss <= target))
    if above[-1]:
        return float(budget), True
    last_above = np.flatnonzero(above)
    first = int(steps[last_above[-1] + 1]) if last_above.size else int(steps[0])
    return float(min(first, budget)), False


def target_family(
    control_histories: Sequence[pd.DataFrame], fractions: Sequence[float], switches: Sequence[int], budget: int
) -> list[float]:
    """τ_q = geometric mean over the control's seeds of its loss at the logged step nearest q·budget that is not
    a switch step (from the control only, so the targets do not favour the treatment)."""
    targets = []
    for q in fractions:
        values = []
        for h in control_histories:
            ev = evaluable_history(h, switches)
            steps = ev["step"].to_numpy(int)
            i = int(np.argmin(np.abs(steps - q * budget)))
            values.append(float(ev["train_loss"].iloc[i]))
        values = np.asarray(values, float)
        targets.append(
            float(np.exp(np.log(values).mean())) if np.all(values > 0) and np.all(np.isfinite(values)) else math.nan
        )
    return targets


@dataclass(frozen=True)
class Effect:
    """A paired effect: n seeds, geometric-mean ratio control/treatment, its t interval and bootstrap interval,
    one-sided p (H1: ratio > 1), sd of log ratios, minimum detectable effect, verdict, diverged counts."""

    n: int
    estimate: float
    ci_low: float
    ci_high: float
    boot_low: float
    boot_high: float
    p_one_sided: float
    sd_log: float
    mde: float
    verdict: str
    diverged_treatment: int = 0
    diverged_control: int = 0
    censored_treatment: int = 0
    censored_control: int = 0


def effect_verdict(estimate: float, lo: float, hi: float, delta: float) -> str:
    """RULE_EFFECT on one interval (see the rule's text)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return INCONCLUSIVE
    if lo > 1 and estimate >= delta:
        return SUPPORTED
    if hi < delta:
        return NEGLIGIBLE if lo > 1 else NOT_SUPPORTED
    return INCONCLUSIVE


def minimum_detectable_effect(sd_log: float, n: int, alpha: float, power: float) -> float:
    """Smallest ratio a two-sided paired t test at ``alpha`` detects with ``power`` for n seeds whose log ratios
    have standard deviation sd_log: exp(d·sd_log), d from statsmodels' TTestPower."""
    if n < 2 or not math.isfinite(sd_log):
        return math.nan
    if sd_log == 0:
        return 1.0
    d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power, alternative="two-sided")
    return float(math.exp(d * sd_log))


def paired_effect(
    control: Sequence[float],
    treatment: Sequence[float],
    *,
    level: float = 0.95,
    delta: float = 1.1,
    power: float = 0.8,
    seed: int = 0,
) -> Effect:
    """Effect of paired positive values (control_i, treatment_i); +inf marks a diverged run (dropped from the
    interval, counted, and deciding the verdict as RULE_EFFECT says)."""
    c, t = np.asarray(control, float), np.asarray(treatment, float)
    if c.shape != t.shape:
        raise ValueError(f"control and treatment are not paired: {c.size} vs {t.size} values")
    div_t, div_c = int(np.sum(~np.isfinite(t))), int(np.sum(~np.isfinite(c)))
    ok = np.isfinite(c) & np.isfinite(t)
    if np.any(c[ok] <= 0) or np.any(t[ok] <= 0):
        raise ValueError("values must be positive")
    logs = np.log(c[ok] / t[ok])
    n = int(logs.size)
    nan = math.nan
    if n < 2:
        est = float(np.exp(logs.mean())) if n else nan
        verdict = NOT_SUPPORTED if div_t else INCONCLUSIVE
        return Effect(n, est, nan, nan, nan, nan, nan, nan, nan, verdict, div_t, div_c)
    mean, sd = float(logs.mean()), float(logs.std(ddof=1))
    alpha = 1 - level
    if sd == 0:
        lo = hi = blo = bhi = math.exp(mean)
        p = 0.0 if mean > 0 else 1.0
    else:
        half = stats.t.ppf(1 - alpha / 2, n - 1) * sd / math.sqrt(n)
        lo, hi = math.exp(mean - half), math.exp(mean + half)
        p = float(stats.ttest_1samp(logs, 0.0, alternative="greater").pvalue)
        boot = stats.bootstrap(
            (logs,), np.mean, confidence_level=level, n_resamples=2000, method="percentile", random_state=seed
        )
        blo, bhi = math.exp(boot.confidence_interval.low), math.exp(boot.confidence_interval.high)
    verdict = effect_verdict(math.exp(mean), lo, hi, delta)
    if div_t:
        verdict = NOT_SUPPORTED
    elif div_c and verdict != SUPPORTED:
        verdict = INCONCLUSIVE
    mde = minimum_detectable_effect(sd, n, alpha, power)
    return Effect(n, math.exp(mean), lo, hi, blo, bhi, p, sd, mde, verdict, div_t, div_c)


def final_loss_effect(
    control: Sequence[pd.DataFrame],
    treatment: Sequence[pd.DataFrame],
    switches_control: Sequence[int],
    switches_treatment: Sequence[int],
    **kwargs,
) -> Effect:
    """paired_effect of the final losses (seed-paired lists of histories)."""
    return paired_effect(
        [final_loss(h, switches_control) for h in control],
        [final_loss(h, switches_treatment) for h in treatment],
        **kwargs,
    )


def time_to_target_effect(
    control: Sequence[pd.DataFrame],
    treatment: Sequence[pd.DataFrame],
    targets: Sequence[float],
    switches_control: Sequence[int],
    switches_treatment: Sequence[int],
    budget: int,
    **kwargs,
) -> Effect:
    """paired_effect of the restricted times to the targets: per seed the geometric mean over the targets of
    max(t, 1), censored runs counted at the budget (a pair censored on both sides gives ratio 1)."""
    targets = [tau for tau in targets if math.isfinite(tau)]
    per_c, per_t, cens_c, cens_t = [], [], 0, 0
    for hc, ht in zip(control, treatment):
        tc = [time_to_target(hc, tau, switches_control, budget) for tau in targets]
        tt = [time_to_target(ht, tau, switches_treatment, budget) for tau in targets]
        cens_c += sum(c for _, c in tc)
        cens_t += sum(c for _, c in tt)
        per_c.append(float(np.exp(np.mean([math.log(max(v, 1.0)) for v, _ in tc]))))
        per_t.append(float(np.exp(np.mean([math.log(max(v, 1.0)) for v, _ in tt]))))
    e = paired_effect(per_c, per_t, **kwargs)
    return Effect(**{**e.__dict__, "censored_control": cens_c, "censored_treatment": cens_t})


def holm(p_values: Sequence[float], alpha: float = 0.05) -> tuple[list[bool], list[float]]:
    """Holm–Bonferroni (statsmodels multipletests): (reject, adjusted p); NaN p-values stay NaN, not rejected."""
    p = np.asarray(p_values, float)
    ok = np.isfinite(p)
    reject, adjusted = np.zeros(p.size, bool), np.full(p.size, math.nan)
    if ok.any():
        r, a, _, _ = multipletests(p[ok], alpha=alpha, method="holm")
        reject[ok], adjusted[ok] = r, a
    return reject.tolist(), adjusted.tolist()
