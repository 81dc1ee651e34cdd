"""hrta.claims.endpoints on synthetic histories with known answers (issue 17). References: closed-form
values of the constructed data, scipy.stats.t by hand, a noncentral-t power computation (scipy.stats.nct) for the
minimum detectable effect, and a hand-worked Holm example."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hrta.claims import endpoints as E


def history(losses, every=10):
    return pd.DataFrame({"step": np.arange(len(losses)) * every, "train_loss": np.asarray(losses, float)})


def decaying(rate, steps=2001, every=10, spike_at=(), spike=100.0):
    t = np.arange(0, steps, every)
    loss = np.exp(-rate * t)
    for s in spike_at:
        loss[t == s] *= spike
    return pd.DataFrame({"step": t, "train_loss": loss})


def test_switch_steps_of_schedules():
    assert E.switch_steps("0.5x500,1x500,1.5x1000") == (500, 1000)
    assert E.switch_steps("1x2000") == ()


def test_a_switch_step_spike_never_enters():
    h = decaying(0.002, spike_at=(500,))
    assert E.evaluable_history(h, (500,))["step"].tolist().count(500) == 0
    with pytest.raises(ValueError, match="switch step"):
        E.loss_at_step(h, 500, (500,))
    # Without the exclusion the spike at 500 would push "stays below" past 500 for a target met at 400.
    target = math.exp(-0.002 * 400)
    assert E.time_to_target(h, target, (500,), 2000) == (400.0, False)
    assert E.time_to_target(h, target, (), 2000)[0] == 510.0
    # the target family reads the nearest logged non-switch step: 490 or 510, not the spike at 500
    tau = E.target_family([h], [0.25], (500,), 2000)[0]
    assert tau in (pytest.approx(math.exp(-0.002 * 490)), pytest.approx(math.exp(-0.002 * 510)))


def test_stays_rule_takes_the_last_crossing():
    h = history([1.0, 0.4, 0.6, 0.3, 0.2])
    assert E.time_to_target(h, 0.5, (), 40) == (30.0, False)


def test_censored_run_counts_the_budget():
    slow = decaying(0.0001)
    t, censored = E.time_to_target(slow, 1e-6, (), 2000)
    assert (t, censored) == (2000.0, True)
    fast = decaying(0.01)
    e = E.time_to_target_effect([slow] * 3, [fast] * 3, [1e-6], (), (), 2000)
    assert e.censored_control == 3 and e.censored_treatment == 0
    assert e.estimate == pytest.approx(2000 / E.time_to_target(fast, 1e-6, (), 2000)[0])  # a bound: control censored


def test_paired_effect_matches_the_t_interval_by_hand():
    rng = np.random.default_rng(0)
    logs = rng.normal(math.log(1.5), 0.2, 8)
    control, treatment = np.exp(logs) * 3.0, np.full(8, 3.0)
    e = E.paired_effect(control, treatment, level=0.95, delta=1.1)
    half = stats.t.ppf(0.975, 7) * logs.std(ddof=1) / math.sqrt(8)
    assert e.estimate == pytest.approx(math.exp(logs.mean()), rel=1e-12)
    assert (e.ci_low, e.ci_high) == (
        pytest.approx(math.exp(logs.mean() - half)),
        pytest.approx(math.exp(logs.mean() + half)),
    )
    assert e.n == 8


def test_bootstrap_interval_agrees_with_t_on_a_large_sample():
    rng = np.random.default_rng(1)
    logs = rng.normal(0.3, 0.5, 200)
    e = E.paired_effect(np.exp(logs), np.ones(200))
    assert e.boot_low == pytest.approx(e.ci_low, rel=0.03) and e.boot_high == pytest.approx(e.ci_high, rel=0.03)


def test_minimum_detectable_effect_has_the_requested_power():
    sd, n, alpha = 0.3, 8, 0.05
    mde = E.minimum_detectable_effect(sd, n, alpha, 0.8)
    d = math.log(mde) / sd
    crit = stats.t.ppf(1 - alpha / 2, n - 1)
    nc = d * math.sqrt(n)
    power = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
    assert power == pytest.approx(0.8, abs=1e-6)


def test_holm_against_a_hand_worked_example():
    reject, adjusted = E.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert reject == [True, False, False, True]


@pytest.mark.parametrize(
    ("estimate", "lo", "hi", "verdict"),
    [
        (1.5, 1.2, 1.9, E.SUPPORTED),
        (1.05, 1.02, 1.08, E.NEGLIGIBLE),
        (0.8, 0.7, 0.95, E.NOT_SUPPORTED),
        (1.2, 0.9, 1.6, E.INCONCLUSIVE),
        (1.06, 1.01, 1.3, E.INCONCLUSIVE),  # direction clear, size undecided
    ],
)
def test_effect_verdict_branches(estimate, lo, hi, verdict):
    assert E.effect_verdict(estimate, lo, hi, 1.1) == verdict


def test_a_diverged_treatment_is_not_supported():
    e = E.paired_effect([1.0, 1.0, 1.0], [0.1, 0.1, math.inf])
    assert e.verdict == E.NOT_SUPPORTED and e.diverged_treatment == 1
