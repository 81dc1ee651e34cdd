"""hrta.claims.endpoints on synthetic histories and samples whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from hrta.claims import endpoints as E
from hrta.claims.stats import geometric_mean_interval

TOTAL = 2000
SWITCH = 500  # "0.5x500,1x1500"


def history(rate: float, total: int = TOTAL, log_every: int = 10, loss0: float = 1.0, spike_at=None, spike=1e3):
    """loss0·exp(−rate·t) logged every log_every steps; ``spike_at`` replaces that row's loss by ``spike``."""
    t = np.arange(0, total + 1, log_every)
    loss = loss0 * np.exp(-rate * t)
    if spike_at is not None:
        loss[t == spike_at] = spike
    return pd.DataFrame({"step": t, "train_loss": loss})


def first_logged_step_below(rate: float, target: float, log_every: int = 10) -> int:
    """Closed form: the first multiple of log_every with exp(−rate·t) ≤ target."""
    return int(math.ceil(math.log(1 / target) / rate / log_every) * log_every)


# ------------------------------------------------------------------ switch steps
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0.5x500,1x1500", (500,)),
        ("1x2000", ()),
        ("0.5x500,1x500,1x1000", (500,)),  # the boundary at 1000 keeps s = 1
        ("0.5:1x500,1x1500", ()),  # the ramp ends at the next stage's s
        ("0.5:1x500,0.5x1500", (500,)),  # the ramp ends at 1, the next stage starts at 0.5
        ("0.5x500,0.5:1x500,1x1000", ()),  # a ramp starting where the stage before ended
        ("0.25x200,0.5x300,1x1500", (200, 500)),
    ],
)
def test_switch_steps(spec, expected):
    assert E.switch_steps(spec) == expected


def test_switch_spike_is_never_read():
    switches = E.switch_steps("0.5x500,1x1500")
    h = history(0.01, spike_at=SWITCH)
    assert SWITCH not in set(E.evaluable_history(h, switches)["step"])
    assert len(E.evaluable_history(h, switches)) == len(h) - 1
    # exp(−0.01 t) ≤ 0.01 from t = 470 on; the spike at 500 (1e3) would push the "stays" step to 510.
    assert E.time_to_target(h, 0.01, switches, TOTAL) == (470, False)
    assert E.time_to_target(h, 0.01, (), TOTAL) == (510, False)  # what reading the spike would give
    with pytest.raises(ValueError, match="switch step"):
        E.loss_at_step(h, SWITCH, switches)
    with pytest.raises(ValueError, match="not logged"):
        E.loss_at_step(h, 505, switches)
    assert E.loss_at_step(h, 490, switches) == pytest.approx(math.exp(-4.9), rel=1e-12)


def test_target_family_from_control_ignores_the_spike():
    switches = (SWITCH,)
    rates = [0.004, 0.005, 0.006]
    controls = [history(r, spike_at=SWITCH) for r in rates]
    targets = E.target_family(controls, (0.25, 0.5, 1.0), switches, TOTAL)
    # q = 0.25: q·T = 500 is the switch step; 490 and 510 tie, the earlier (490) is read.
    # Geometric mean over seeds of exp(−r_i·t) = exp(−mean(r)·t).
    mean_rate = float(np.mean(rates))
    assert targets == pytest.approx(
        [math.exp(-mean_rate * 490), math.exp(-mean_rate * 1000), math.exp(-mean_rate * 2000)]
    )
    assert max(targets) < 1.0  # the spike (1e3) did not enter


def test_target_family_leaves_out_diverged_controls():
    ok = history(0.005)
    bad = history(0.005)
    bad.loc[bad.index[-1], "train_loss"] = math.nan
    assert E.target_family([ok, bad], (0.5,), (), TOTAL) == pytest.approx((math.exp(-5.0),))
    with pytest.raises(ValueError, match="no non-diverged control"):
        E.target_family([bad], (0.5,), (), TOTAL)


# ------------------------------------------------------------------ time to target
def test_time_to_target_monotone_is_first_crossing():
    for rate, target in [(0.01, 1e-3), (0.003, 0.05), (0.02, 1e-6)]:
        assert E.time_to_target(history(rate), target, (), TOTAL) == (first_logged_step_below(rate, target), False)


def test_time_to_target_stays_rule_returns_the_later_step():
    # Dips below 0.1 at step 30, rises above at 50, below for good from 70.
    loss = [1.0, 0.5, 0.2, 0.05, 0.08, 0.3, 0.2, 0.09, 0.05, 0.01]
    h = pd.DataFrame({"step": np.arange(0, 100, 10), "train_loss": loss})
    assert E.time_to_target(h, 0.1, (), 90) == (70, False)


def test_time_to_target_censored_at_the_budget():
    slow = history(0.001)  # exp(−2) ≈ 0.135 at the end: never ≤ 1e-3
    assert E.time_to_target(slow, 1e-3, (), TOTAL) == (TOTAL, True)
    # Reached only after the budget: restricted to the budget and censored.
    assert E.time_to_target(history(0.01), 1e-3, (), 500) == (500, True)
    diverged = history(0.01)
    diverged.loc[diverged.index[-1], "train_loss"] = math.inf
    assert E.time_to_target(diverged, 1e-3, (), TOTAL) == (TOTAL, True)
    assert E.time_to_target(history(0.01), 1e-3, (), TOTAL, status="diverged") == (TOTAL, True)


def test_time_to_target_effect_with_censoring_is_a_bound():
    rates_c = [0.01, 0.011, 0.012]
    rates_t = [0.02, 0.001, 0.024]  # seed 1: the treatment never reaches the target
    target = 1e-3
    res = E.time_to_target_effect([history(r) for r in rates_c], [history(r) for r in rates_t], [target], (), (), TOTAL)
    a = [first_logged_step_below(r, target) for r in rates_c]
    b = [first_logged_step_below(rates_t[0], target), TOTAL, first_logged_step_below(rates_t[2], target)]
    assert res.censored_treatment == 1 and res.censored_control == 0
    assert [row[0] for row in res.times_treatment] == b
    # The censored pair's ratio is a / T, an upper bound of the true a / b (b > T).
    assert res.effect.ratios == pytest.approx([x / y for x, y in zip(a, b)])
    assert res.effect.ratios[1] < 1


def test_time_to_target_effect_both_censored_gives_one_and_family_geomean():
    targets = [1e-2, 1e-6]  # 1e-6 is reached by neither arm at rate ≤ 0.005 within T = 2000
    res = E.time_to_target_effect(
        [history(0.004), history(0.005)], [history(0.003), history(0.0035)], targets, (), (), TOTAL
    )
    assert res.censored_control == 2 and res.censored_treatment == 2
    # Per seed: geometric mean over targets of (a_k / b_k) with the censored target giving T / T = 1.
    for (rc, rt), r in zip([(0.004, 0.003), (0.005, 0.0035)], res.effect.ratios):
        a, b = first_logged_step_below(rc, 1e-2), first_logged_step_below(rt, 1e-2)
        assert r == pytest.approx(math.sqrt(a / b * 1.0))


def test_time_to_target_effect_diverged_treatment_forbids_support():
    bad = history(0.05)
    bad.loc[bad.index[-1], "train_loss"] = math.nan
    controls = [history(0.01), history(0.01), history(0.01)]
    treatments = [history(0.05), history(0.049), bad]
    res = E.time_to_target_effect(controls, treatments, [1e-2], (), (), TOTAL)
    assert res.effect.n_diverged_treatment == 1
    assert res.effect.verdict != E.SUPPORTED


# ------------------------------------------------------------------ final loss
def test_final_loss_and_its_effect():
    h = history(0.002)
    assert E.final_loss(h, (SWITCH,)) == pytest.approx(math.exp(-4.0))
    with pytest.raises(ValueError, match="switch step"):
        E.final_loss(h, (TOTAL,))
    controls = [history(0.002, spike_at=SWITCH), history(0.0021, spike_at=SWITCH), history(0.0019, spike_at=SWITCH)]
    treatments = [history(0.003), history(0.0031), history(0.0028)]
    eff = E.final_loss_effect(controls, treatments, (SWITCH,), ())
    expected = [math.exp((rt - rc) * TOTAL) for rc, rt in [(0.002, 0.003), (0.0021, 0.0031), (0.0019, 0.0028)]]
    assert eff.ratios == pytest.approx(expected)
    assert eff.verdict == E.SUPPORTED
    with pytest.raises(ValueError, match="different steps"):
        E.final_loss_effect(controls, [history(0.003, total=1000)] * 3, (SWITCH,), ())


def test_final_loss_effect_diverged_treatment():
    bad = history(0.003)
    bad.loc[bad.index[-1], "train_loss"] = math.inf
    controls = [history(0.002), history(0.0021), history(0.0019), history(0.002)]
    treatments = [history(0.003), history(0.0031), history(0.0028), bad]
    eff = E.final_loss_effect(controls, treatments, (), ())
    assert E.final_loss(bad, ()) == math.inf
    assert eff.n == 3 and eff.n_diverged_treatment == 1
    assert eff.verdict == E.INCONCLUSIVE  # would be supported without the diverged seed
    assert "diverged" in eff.note


# ------------------------------------------------------------------ paired effect
def constructed_logs(mu: float, n: int, sd: float, seed: int = 0) -> np.ndarray:
    """n log ratios with sample mean exactly mu and sample sd exactly sd."""
    z = np.random.default_rng(seed).standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mu + sd * z


def test_paired_effect_estimate_and_t_interval_match_a_hand_computation():
    mu, sd, n = math.log(1.3), 0.2, 8
    logs = constructed_logs(mu, n, sd)
    control = np.exp(logs) * 2.5  # c_i / t_i = exp(l_i)
    treatment = np.full(n, 2.5)
    eff = E.paired_effect(control, treatment)
    assert eff.n == n
    assert eff.estimate == pytest.approx(1.3, rel=1e-12)
    assert eff.sd_log == pytest.approx(sd, rel=1e-12)
    half = scipy.stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    assert eff.ci_low == pytest.approx(math.exp(mu - half), rel=1e-12)
    assert eff.ci_high == pytest.approx(math.exp(mu + half), rel=1e-12)
    # An independent implementation (Simpson-integrated t quantile) agrees.
    centre, lo, hi = geometric_mean_interval(np.exp(logs))
    assert (eff.estimate, eff.ci_low, eff.ci_high) == pytest.approx((centre, lo, hi), rel=1e-7)
    # One-sided p from the t statistic directly.
    t_stat = mu / (sd / math.sqrt(n))
    assert eff.p_value == pytest.approx(scipy.stats.t.sf(t_stat, n - 1), rel=1e-10)
    assert eff.verdict == E.SUPPORTED


def test_bootstrap_interval_close_to_t_interval_on_a_large_sample():
    rng = np.random.default_rng(7)
    logs = rng.normal(math.log(1.2), 0.3, size=200)
    eff = E.paired_effect(np.exp(logs), np.ones(200))
    half = math.log(eff.ci_high) - math.log(eff.estimate)
    assert abs(math.log(eff.boot_low) - math.log(eff.ci_low)) < 0.1 * half
    assert abs(math.log(eff.boot_high) - math.log(eff.ci_high)) < 0.1 * half
    # Fixed seed: the cross-check is reproducible.
    again = E.paired_effect(np.exp(logs), np.ones(200))
    assert (again.boot_low, again.boot_high) == (eff.boot_low, eff.boot_high)


@pytest.mark.parametrize("n", [3, 5, 10, 30])
def test_minimum_detectable_effect_has_the_requested_power(n):
    sd, alpha, power = 0.25, 0.05, 0.8
    eff = E.paired_effect(np.exp(constructed_logs(0.1, n, sd)), np.ones(n), alpha=alpha, power=power)
    d = math.log(eff.mde) / sd
    df, nc = n - 1, d * math.sqrt(n)
    crit = scipy.stats.t.ppf(1 - alpha / 2, df)
    achieved = scipy.stats.nct.sf(crit, df, nc) + scipy.stats.nct.cdf(-crit, df, nc)
    assert achieved == pytest.approx(power, abs=1e-6)
    assert eff.mde > 1


def test_paired_effect_special_cases():
    one = E.paired_effect([2.0], [1.0])
    assert one.verdict == E.NOT_ESTIMABLE and one.estimate == 2.0 and math.isnan(one.ci_low)
    equal = E.paired_effect([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert equal.estimate == equal.ci_low == equal.ci_high == equal.boot_low == equal.boot_high == 2.0
    assert equal.verdict == E.SUPPORTED and "zero variance" in equal.note
    assert equal.p_value == 0.0 and equal.mde == 1.0
    with pytest.raises(ValueError, match="> 0"):
        E.paired_effect([1.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="> 0"):
        E.paired_effect([1.0, math.nan], [1.0, 1.0])
    with pytest.raises(ValueError, match="paired"):
        E.paired_effect([1.0, 2.0], [1.0])


# ------------------------------------------------------------------ verdict rule and Holm
@pytest.mark.parametrize(
    ("estimate", "lo", "hi", "verdict"),
    [
        (1.3, 1.15, 1.5, E.SUPPORTED),
        (1.1, 1.01, 1.2, E.SUPPORTED),  # estimate exactly δ
        (1.05, 1.02, 1.08, E.NEGLIGIBLE),
        (1.0, 0.9, 1.08, E.NOT_SUPPORTED),
        (0.8, 0.7, 0.9, E.REVERSED),  # the treatment is worse: the interval lies below 1
        (0.135, 0.0706, 0.258, E.REVERSED),  # issue 24's Adam cell, no longer "not supported"
        (1.01, 0.999, 1.02, E.NOT_SUPPORTED),  # issue 24's kernel-rate cell: no gain of size δ, none shown
        (0.97, 0.94, 1.0, E.NOT_SUPPORTED),  # hi = 1 is not below 1
        (1.3, 0.9, 1.8, E.INCONCLUSIVE),
        (1.08, 1.02, 1.2, E.INCONCLUSIVE),  # direction clear, size undecided
        (1.05, 0.95, 1.1, E.INCONCLUSIVE),  # hi = δ is not below δ
        (1.3, math.nan, math.nan, E.INCONCLUSIVE),
    ],
)
def test_effect_verdict_branches(estimate, lo, hi, verdict):
    assert E.effect_verdict(estimate, lo, hi, delta=1.1) == verdict


def test_rule_text_names_every_verdict():
    assert len(set(E.LABELS)) == 7
    for label in E.LABELS:
        assert f"{label}:" in E.RULE_EFFECT


@pytest.mark.parametrize(("mu", "sd"), [(math.log(1.07), 0.06), (math.log(1.3), 0.5), (math.log(0.98), 0.3)])
def test_n_to_decide_is_where_the_verdict_flips(mu, sd):
    """Reference: paired_effect itself. With the observed mean and sd held fixed (constructed samples), n_decide
    seeds give a decided label (below δ: hi < δ, against δ; above δ: lo > 1, supported), one seed fewer an
    inconclusive cell."""
    n = int(E.paired_effect(np.exp(constructed_logs(mu, 8, sd)), np.ones(8)).n_decide)
    assert n > 8
    at = E.paired_effect(np.exp(constructed_logs(mu, n, sd)), np.ones(n), n_resamples=99)
    below = E.paired_effect(np.exp(constructed_logs(mu, n - 1, sd)), np.ones(n - 1), n_resamples=99)
    assert below.verdict == E.INCONCLUSIVE
    assert at.verdict != E.INCONCLUSIVE
    assert (at.verdict == E.SUPPORTED) if mu > math.log(1.1) else (at.ci_high < 1.1)
    assert at.n_decide == n  # it does not move with n when mean and sd stay


def test_n_to_decide_edge_cases():
    assert E.n_to_decide(1.1, 0.3, delta=1.1) < math.inf  # at δ the open question is the direction (lo > 1)
    assert E.n_to_decide(1.3, 0.0) == 2.0
    assert math.isnan(E.n_to_decide(math.nan, 0.3)) and math.isnan(E.n_to_decide(1.3, math.nan))
    # Normal-theory lower bound (z·sd/gap)² with z = 1.96: the t answer is at or above it, and close at large n.
    gap, sd = math.log(1.1 / 1.09), 0.2
    z_bound = (1.959963984540054 * sd / gap) ** 2
    assert z_bound <= E.n_to_decide(1.09, sd) <= 1.01 * z_bound + 3


def test_holm_hand_worked():
    # Sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005, 3·0.01, 2·0.03, max(1·0.04, 0.06) = 0.02, 0.03, 0.06, 0.06.
    reject, adjusted = E.holm([0.01, 0.04, 0.03, 0.005], alpha=0.05)
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert reject.tolist() == [True, False, False, True]


# ------------------------------------------------------------------ one rule for every claim (issue 24.2)
def _cell(mu, sd, n, **extra):
    """A primary cell from paired_effect on n constructed log ratios (sample mean mu, sample sd sd)."""
    eff = E.paired_effect(np.exp(constructed_logs(mu, n, sd)) if n > 1 else [math.exp(mu)], np.ones(n), n_resamples=99)
    return {
        "verdict": eff.verdict,
        "estimate": eff.estimate,
        "ci_low": eff.ci_low,
        "ci_high": eff.ci_high,
        "sd_log": eff.sd_log,
        "n": eff.n,
        "logs": constructed_logs(mu, n, sd) if n > 1 else None,
        **extra,
    }


def test_one_sided_p_matches_scipy_ttest_on_the_log_ratios():
    """Reference: scipy.stats.ttest_1samp on the seeds' log ratios (popmean = log threshold)."""
    from hrta.claims import tally as T

    logs = constructed_logs(math.log(1.2), 6, 0.15)
    mean, sd = float(logs.mean()), float(logs.std(ddof=1))
    for theta in (0.0, math.log(1.1), math.log(1.4)):
        for alt in ("greater", "less"):
            ref = scipy.stats.ttest_1samp(logs, theta, alternative=alt).pvalue
            assert T.one_sided_p(mean, sd, 6, theta, alt) == pytest.approx(ref, rel=1e-10)
    # The unadjusted labels are the intervals': lo > 1 exactly when the 'greater' p is below (1 − level)/2.
    eff = E.paired_effect(np.exp(logs), np.ones(6), n_resamples=99)
    assert (eff.ci_low > 1) == (T.one_sided_p(mean, sd, 6, 0.0, "greater") < 0.025)


def test_tally_reversed_and_not_estimable_cells():
    from hrta.claims import tally as T

    cells = pd.DataFrame(
        [
            _cell(math.log(0.5), 0.2, 8, treatment="a"),  # clearly worse: reversed, not "fails"
            _cell(math.log(1.5), 0.1, 8, treatment="b"),  # holds
            _cell(math.log(4.0), 0.0, 1, treatment="c"),  # n = 1: not estimable, whatever its ratio
        ]
    )
    assert cells["verdict"].tolist() == [E.REVERSED, E.SUPPORTED, E.NOT_ESTIMABLE]
    out = T.holm_within_claim(cells)
    assert out["verdict_holm"].tolist() == [E.REVERSED, E.SUPPORTED, E.NOT_ESTIMABLE]  # p ≈ 1e-6: Holm keeps both
    assert math.isnan(out.loc[2, "p_holm"])  # the n = 1 cell is not in the Holm family
    words = [T.WORDS[v] for v in out["verdict_holm"]]
    assert T.claim_label(words) == T.HOLDS_IN_PART
    # The n = 1 cell is never counted: with only it and a holding cell the claim holds (it could not before).
    assert T.claim_label([T.HOLDS, T.NOT_ESTIMABLE_WORD]) == T.HOLDS
    assert T.claim_label([T.REVERSED_WORD, T.REVERSED_WORD]) == T.REVERSED_WORD
    assert T.claim_label([T.REVERSED_WORD, T.FAILS, "negligible"]) == T.FAILS
    assert T.claim_label([T.FAILS, T.UNDECIDED]) == T.UNDECIDED
    assert T.claim_label([T.NOT_ESTIMABLE_WORD]) == T.NOT_ESTIMABLE_WORD
    with pytest.raises(ValueError, match="unknown cell word"):
        T.claim_label(["mixed"])


def test_holds_in_part_carries_its_counts():
    """Issue 24 (the two-minute reader): "holds in part" spanned 25 of 28 parts and 2 of 13 cells alike; the label
    now carries the proportion and what the rest are, as does any label over mixed cells; not-estimable cells not
    counted."""
    from hrta.claims import tally as T

    words = [T.HOLDS] * 2 + [T.REVERSED_WORD] * 7 + [T.FAILS] * 3 + [T.UNDECIDED] + [T.NOT_ESTIMABLE_WORD]
    assert T.label_with_counts(words) == "holds in part (2 of 13 cells hold; 3 fails; 7 reversed; 1 undecided)"
    assert T.label_with_counts([T.HOLDS] * 25 + [T.UNDECIDED] * 3, unit="parts") == (
        "holds in part (25 of 28 parts hold; 3 undecided)"
    )
    # every word that is not "holds" is counted, "negligible" too (a cell whose stratum fails)
    negligible = T.WORDS[E.NEGLIGIBLE]
    assert T.label_with_counts([T.HOLDS] * 9 + [T.UNDECIDED] * 3 + [negligible] * 2) == (
        f"holds in part (9 of 14 cells hold; 2 {negligible}; 3 undecided)"
    )
    assert T.label_with_counts([T.HOLDS, T.HOLDS]) == T.HOLDS
    assert T.label_with_counts([T.REVERSED_WORD, T.REVERSED_WORD, T.NOT_ESTIMABLE_WORD]) == T.REVERSED_WORD
    # a label over mixed cells carries them too (the second reader: "undecided" hid 13 reversed cells)
    assert T.label_with_counts([T.REVERSED_WORD, T.FAILS]) == "fails (0 of 2 cells hold; 1 fails; 1 reversed)"
    assert T.label_with_counts([T.FAILS, T.UNDECIDED, T.REVERSED_WORD]) == (
        "undecided (0 of 3 cells hold; 1 fails; 1 reversed; 1 undecided)"
    )


def test_censored_cells_are_named_and_never_counted():
    """Issue 24, 5b: a tuned-rate cell at the widening limit is censored: out of the Holm family (the other cells'
    adjusted p-values are those of a family without it; reference: Holm by hand over the remaining cells) and out of
    the tally, whatever its ratio."""
    from hrta.claims import tally as T

    assert E.censored_at_rate_limit(E.REVERSED, 2, "best") == E.CENSORED
    assert E.censored_at_rate_limit(E.REVERSED, 0, "best") == E.REVERSED
    assert E.censored_at_rate_limit(E.SUPPORTED, 3, "kernel") == E.SUPPORTED  # kernel-scaled: never censored
    assert E.censored_at_rate_limit(E.SUPPORTED, 3, "") == E.SUPPORTED
    with pytest.raises(ValueError, match="n_at_edge"):
        E.censored_at_rate_limit(E.SUPPORTED, -1, "best")
    n, sd = 8, 0.2
    mu = scipy.stats.t.ppf(1 - 0.012, n - 1) * sd / math.sqrt(n)  # one-sided p = 0.012 each: alone supported
    rows = [_cell(mu, sd, n, treatment="a"), _cell(mu + 1e-3, sd, n, treatment="b"), _cell(0.0, 0.3, n, treatment="c")]
    cells = pd.DataFrame(rows)
    assert cells["verdict"].tolist() == [E.SUPPORTED, E.SUPPORTED, E.INCONCLUSIVE]
    uncensored = T.holm_within_claim(cells)
    cells.loc[2, "verdict"] = E.censored_at_rate_limit(cells.loc[2, "verdict"], 16, "best")
    out = T.holm_within_claim(cells)
    assert out.loc[2, "verdict_holm"] == E.CENSORED and math.isnan(out.loc[2, "p_holm"])
    p = [scipy.stats.ttest_1samp(c, 0.0, alternative="greater").pvalue for c in cells["logs"][:2]]
    by_hand = [min(1.0, 2 * min(p)), max(min(1.0, 2 * min(p)), max(p))]  # Holm over the two cells left
    assert sorted(out.loc[:1, "p_holm"]) == pytest.approx(by_hand, rel=1e-9)
    assert (out.loc[:1, "verdict_holm"] == E.SUPPORTED).all()  # 2·0.012 < 0.025: both still hold
    # counted (an undecided cell enters Holm with p = 1): 3·0.012 > 0.025, neither holds
    assert (uncensored.loc[:1, "verdict_holm"] == E.INCONCLUSIVE).all()
    words = [T.WORDS[v] for v in out["verdict_holm"]]
    assert T.claim_label(words) == T.HOLDS
    assert T.claim_label([T.CENSORED_WORD, T.NOT_ESTIMABLE_WORD]) == T.CENSORED_WORD
    assert T.claim_label([T.FAILS, T.CENSORED_WORD]) == T.FAILS
    st = T.strata(pd.DataFrame({"optimizer": "adam", "treatment": ["a", "b", "c"], "word": words}), ["optimizer"])
    assert st[0].label == T.HOLDS and "censored 1 (c)" in st[0].describe()


def test_holm_flips_a_tally():
    """Three cells each supported on its own (one-sided p ≈ 0.02 < 0.025) are not after Holm over the claim
    (3·p > 0.025): the claim goes from 'holds' to 'undecided'. Reference: the Holm step-down by hand."""
    from hrta.claims import tally as T

    n, sd = 8, 0.2
    t_crit = scipy.stats.t.ppf(1 - 0.02, n - 1)  # a mean with one-sided p = 0.02 exactly
    mu = t_crit * sd / math.sqrt(n)
    cells = pd.DataFrame([_cell(mu + 0.001 * k, sd, n, treatment=f"t{k}") for k in range(3)])
    # estimate ≈ exp(0.155) ≈ 1.17 ≥ δ and lo > 1: supported, one by one
    assert (cells["verdict"] == E.SUPPORTED).all()
    out = T.holm_within_claim(cells)
    p = [scipy.stats.ttest_1samp(c, 0.0, alternative="greater").pvalue for c in cells["logs"]]
    order = np.argsort(p)
    by_hand = np.maximum.accumulate([min(1.0, (3 - j) * p[i]) for j, i in enumerate(order)])
    assert out["p_holm"].to_numpy()[order] == pytest.approx(by_hand, rel=1e-9)
    assert (out["verdict_holm"] == E.INCONCLUSIVE).all()
    assert (out["ci_low_holm"] <= 1).all() and (out["ci_low_holm"] < out["ci_low"]).all()
    before = T.claim_label(T.WORDS[v] for v in out["verdict"])
    after = T.claim_label(T.WORDS[v] for v in out["verdict_holm"])
    assert (before, after) == (T.HOLDS, T.UNDECIDED)
    # One such cell alone is its own family: Holm changes nothing.
    alone = T.holm_within_claim(cells.iloc[:1])
    assert alone["verdict_holm"].tolist() == [E.SUPPORTED]


def test_strata_say_where_a_claim_holds():
    from hrta.claims import tally as T

    rows = []
    for lr, mu in (("", math.log(1.5)), ("best", math.log(0.8)), ("kernel", math.log(0.9))):
        for width in (1000, 10000):
            rows.append(
                _cell(
                    mu,
                    0.1,
                    8,
                    treatment="s1.5",
                    source="e3",
                    lr_choice=lr,
                    regime="",
                    cell="",
                    optimizer="gd",
                    width=width,
                )
            )
    cells = T.stratum_columns(pd.DataFrame(rows))
    cells["word"] = [T.WORDS[v] for v in T.holm_within_claim(cells)["verdict_holm"]]
    found = {s.key: s.label for s in T.strata(cells, ["optimizer", "rate", "regime_name", "base"], within="width")}
    assert found == {
        ("gd", "fixed rate", "NTK", "ReLU"): T.HOLDS,
        ("gd", "tuned rate", "NTK", "ReLU"): T.REVERSED_WORD,
        ("gd", "kernel-scaled rate", "NTK", "ReLU"): T.REVERSED_WORD,
    }
    assert T.claim_label(cells["word"]) == T.HOLDS_IN_PART
    with pytest.raises(ValueError, match="lr_choice"):
        T.stratum_columns(pd.DataFrame([{"lr_choice": "tuned", "source": "e6"}]))
