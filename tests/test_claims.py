"""Verdict rules of hrta.claims on synthetic data whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hrta import claims as C

BUDGET = 1000


def history(rate: float, steps: int = BUDGET, log_every: int = 10, loss0: float = 1.0, blowup_at=None):
    """A made-up history with loss0·exp(−rate·t), logged every log_every steps; blowup_at ends it with NaN."""
    t = np.arange(0, steps + 1, log_every)
    loss = loss0 * np.exp(-rate * t)
    if blowup_at is not None:
        keep = t <= blowup_at
        t, loss = t[keep], loss[keep]
        loss[-1] = math.nan
    return pd.DataFrame({"step": t, "train_loss": loss})


def speedup_from_rates(base_rates, method_rates, tol=1e-3, method_status=None):
    method_status = method_status or ["ok"] * len(method_rates)
    b = [C.steps_to_tolerance(history(r), tol) for r in base_rates]
    m = [C.steps_to_tolerance(history(r), tol, st) for r, st in zip(method_rates, method_status)]
    return C.paired_speedup(b, m, BUDGET, n_diverged_method=method_status.count("diverged"))


# ------------------------------------------------------------------ statistics
@pytest.mark.parametrize("df", [1, 2])
def test_t_quantile_matches_closed_forms(df):
    p = 0.975
    exact = math.tan(math.pi * (p - 0.5)) if df == 1 else (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert C.student_t_quantile(p, df) == pytest.approx(exact, rel=1e-9)
    assert C.student_t_quantile(1 - p, df) == pytest.approx(-exact, rel=1e-9)


def test_t_quantile_tends_to_normal():
    # Φ^{-1}(0.975) = 1.959963985; the t quantile exceeds it and converges to it as df grows.
    z = 1.959963985
    q = [C.student_t_quantile(0.975, df) for df in (3, 10, 30, 10**6)]
    assert all(a > b for a, b in zip(q, q[1:]))
    assert q[-1] == pytest.approx(z, abs=1e-5)


def test_t_quantile_rejects_bad_arguments():
    with pytest.raises(ValueError, match="df"):
        C.student_t_quantile(0.9, 0)
    with pytest.raises(ValueError, match="p must"):
        C.student_t_quantile(1.0, 3)


def test_geometric_mean_interval_is_symmetric_in_log_and_contains_mean():
    g, lo, hi = C.geometric_mean_interval([2.0, 8.0])
    assert g == pytest.approx(4.0)
    assert lo * hi == pytest.approx(16.0)  # symmetric on the log scale
    assert lo < g < hi
    g1, lo1, hi1 = C.geometric_mean_interval([3.0])
    assert g1 == pytest.approx(3.0) and math.isnan(lo1) and math.isnan(hi1)


def test_loglog_slope_recovers_power_law():
    w = np.repeat([100.0, 1000.0, 10000.0], 3)
    noise = np.tile([0.95, 1.0, 1.05], 3)
    b, lo, hi = C.loglog_slope(w, 2.0 * w**-0.5 * noise)
    assert b == pytest.approx(-0.5, abs=1e-9)  # noise pattern is the same at each width
    assert lo < -0.5 < hi


# ------------------------------------------------------------------ histories
def test_steps_to_tolerance_first_logged_step():
    h = history(0.01)  # loss = exp(-0.01 t) ≤ 1e-2 from t = 460.5 → first logged step 470
    assert C.steps_to_tolerance(h, 1e-2) == 470
    assert C.steps_to_tolerance(h, 2.0) == 0
    assert C.steps_to_tolerance(h, 1e-9) == math.inf


def test_steps_to_tolerance_waits_until_the_loss_stays_below():
    # A relaxation stage dips below tol, the switch of s lifts the loss above it, then it comes back.
    h = pd.DataFrame({"step": [0, 10, 20, 30, 40, 50], "train_loss": [1.0, 0.05, 0.3, 0.2, 0.08, 0.02]})
    assert C.steps_to_tolerance(h, 0.1) == 40
    assert C.steps_to_tolerance(h, 0.01) == math.inf
    assert C.steps_to_tolerance(h, 1.0) == 0
    assert C.steps_first_below(h, 0.1) == 10  # the diagnostic counts the dip
    assert C.steps_first_below(h, 0.1, status="diverged") == math.inf


def test_steps_to_tolerance_counts_divergence_as_never():
    assert C.steps_to_tolerance(history(0.01), 0.5, status="diverged") == math.inf
    h = history(0.01, blowup_at=500)  # reached 0.5 at t=70, then NaN
    assert C.steps_to_tolerance(h, 0.5) == math.inf
    huge = history(0.01)
    huge.loc[len(huge) - 1, "train_loss"] = math.inf
    assert C.steps_to_tolerance(huge, 0.5) == math.inf


def test_steps_to_tolerance_errors_name_the_problem():
    with pytest.raises(ValueError, match="train_loss"):
        C.steps_to_tolerance(pd.DataFrame({"step": [0]}), 0.1)
    with pytest.raises(ValueError, match="tolerance"):
        C.steps_to_tolerance(history(0.01), -1.0)
    with pytest.raises(ValueError, match="status"):
        C.steps_to_tolerance(history(0.01), 0.1, status="weird")


def test_loss_at_budget():
    h = history(0.01)
    assert C.loss_at_budget(h, 500) == pytest.approx(math.exp(-5.0))
    assert C.loss_at_budget(h, 505) == pytest.approx(math.exp(-5.0))  # last logged step ≤ budget
    assert C.loss_at_budget(h, 500, status="diverged") == math.inf
    assert C.loss_at_budget(history(0.01, blowup_at=300), 200) == math.inf
    with pytest.raises(ValueError, match="budget step 2000"):
        C.loss_at_budget(h, 2000)


# ------------------------------------------------------------------ speed-up verdicts
def test_faster_method_is_supported():
    stats = speedup_from_rates([0.010, 0.011, 0.009], [0.020, 0.021, 0.019])
    assert stats.geo_mean == pytest.approx(2.0, rel=0.1)
    v = C.verdict_speedup(stats)
    assert v.label == C.SUPPORTED
    assert "speed-up" in v.numbers and "95% CI" in v.numbers


def test_slower_method_is_not_supported():
    v = C.verdict_speedup(speedup_from_rates([0.020, 0.021, 0.019], [0.010, 0.011, 0.009]))
    assert v.label == C.NOT_SUPPORTED


def test_mixed_noisy_seeds_are_inconclusive():
    v = C.verdict_speedup(speedup_from_rates([0.010, 0.010, 0.010], [0.020, 0.008, 0.012]))
    assert v.label == C.INCONCLUSIVE


def test_single_seed_is_inconclusive():
    v = C.verdict_speedup(speedup_from_rates([0.010], [0.030]))
    assert v.label == C.INCONCLUSIVE


def test_method_that_always_diverges_is_not_supported_and_counted():
    stats = speedup_from_rates([0.010] * 3, [0.030] * 3, method_status=["diverged"] * 3)
    assert stats.n_only_baseline == 3 and stats.n_diverged_method == 3
    v = C.verdict_speedup(stats)
    assert v.label == C.NOT_SUPPORTED
    assert "never reached" in v.numbers and "diverged runs: method 3" in v.numbers


def test_one_diverged_seed_spoils_a_speedup():
    # Two seeds 3x faster, one diverged: the censored ratio (≤ baseline/budget) pulls the interval over 1.
    stats = speedup_from_rates([0.010] * 3, [0.030] * 3, method_status=["ok", "ok", "diverged"])
    assert stats.n_diverged_method == 1
    assert C.verdict_speedup(stats).label == C.INCONCLUSIVE


def test_censoring_when_only_method_reaches():
    # Baseline never reaches tol within the budget: ratio is the lower bound budget / method_steps.
    stats = C.paired_speedup([math.inf, math.inf, math.inf], [100.0, 125.0, 80.0], BUDGET)
    assert stats.ratios == pytest.approx((10.0, 8.0, 12.5))
    assert C.verdict_speedup(stats).label == C.SUPPORTED


def test_neither_reaching_is_excluded_and_reported():
    stats = C.paired_speedup([math.inf, 200.0, 300.0], [math.inf, 100.0, 150.0], BUDGET)
    assert stats.n_neither == 1 and math.isnan(stats.ratios[0])
    assert stats.geo_mean == pytest.approx(2.0)
    assert "neither: 1" in stats.describe()
    all_fail = C.paired_speedup([math.inf] * 3, [math.inf] * 3, BUDGET)
    assert C.verdict_speedup(all_fail).label == C.INCONCLUSIVE


def test_paired_speedup_rejects_nan_and_unpaired():
    with pytest.raises(ValueError, match="NaN"):
        C.paired_speedup([1.0, math.nan], [1.0, 2.0], BUDGET)
    with pytest.raises(ValueError, match="paired"):
        C.paired_speedup([1.0, 2.0], [1.0], BUDGET)


# ------------------------------------------------------------------ other verdicts
def test_verdict_monotone():
    s = np.linspace(0.1, 1.9, 10)
    assert C.verdict_monotone(s, s**2).label == C.SUPPORTED
    dip = s**2
    dip[5] = dip[4]
    v = C.verdict_monotone(s, dip)
    assert v.label == C.NOT_SUPPORTED and "non-increasing" in v.numbers
    # An unresolved point (noise below the floor) is dropped rather than counted against the claim.
    resolved = np.ones(10, bool)
    resolved[5] = False
    assert C.verdict_monotone(s, dip, resolved).label == C.SUPPORTED
    assert C.verdict_monotone(s[:2], s[:2]).label == C.INCONCLUSIVE
    with_nan = s**2
    with_nan[3] = math.nan
    assert C.verdict_monotone(s, with_nan).label == C.SUPPORTED


def test_verdict_decreasing_with_width():
    w = np.repeat([100.0, 1000.0, 10000.0], 2)
    shrinking = w**-0.5 * np.tile([1.0, 1.2], 3)
    assert C.verdict_decreasing_with_width(w, shrinking).label == C.SUPPORTED
    assert C.verdict_decreasing_with_width(w, w**0.3 * np.tile([1.0, 1.2], 3)).label == C.NOT_SUPPORTED
    flat = np.array([0.1, 0.3, 0.3, 0.1, 0.2, 0.2])
    assert C.verdict_decreasing_with_width(w, flat).label == C.INCONCLUSIVE
    assert C.verdict_decreasing_with_width(w[:2], shrinking[:2]).label == C.INCONCLUSIVE
    bad = shrinking.copy()
    bad[0] = math.nan
    assert C.verdict_decreasing_with_width(w, bad).label == C.INCONCLUSIVE


def test_verdict_rate_matches_ntk():
    w = np.repeat([100.0, 1000.0, 10000.0], 2)
    good = 1.0 * w**-0.5 * np.tile([1.0, 1.3], 3)  # 0.01–0.013 at the largest width
    assert C.verdict_rate_matches_ntk(w, good).label == C.SUPPORTED
    # Improving but still far off at the largest width: the trend is right, the match is not there yet.
    assert C.verdict_rate_matches_ntk(w, 100 * good).label == C.INCONCLUSIVE
    assert C.verdict_rate_matches_ntk(w, w**0.2 * np.tile([1.0, 1.3], 3) / 100).label == C.NOT_SUPPORTED


def test_combine_verdicts():
    s = C.Verdict(C.SUPPORTED, "r", "x")
    n = C.Verdict(C.NOT_SUPPORTED, "r", "y")
    i = C.Verdict(C.INCONCLUSIVE, "r", "z")
    assert C.combine_verdicts({"a": s, "b": s}).label == C.SUPPORTED
    assert C.combine_verdicts({"a": s, "b": i}).label == C.INCONCLUSIVE
    assert C.combine_verdicts({"a": s, "b": i, "c": n}).label == C.NOT_SUPPORTED
    assert C.combine_verdicts({}).label == C.INCONCLUSIVE
    with pytest.raises(ValueError, match="verdict label"):
        C.Verdict("probably", "r", "x")


def test_claims_table_and_markdown():
    stats = speedup_from_rates([0.010, 0.011, 0.009], [0.020, 0.021, 0.019])
    part = C.verdict_speedup(stats)
    claims = [
        C.Claim(
            "4",
            "HRTA is faster | really",
            "fig_training.png",
            C.combine_verdicts({"m=1000": part}),
            parts={"m=1000": part},
        ),
        C.Claim("5", "Relaxation helps", "tab.csv", C.verdict_speedup(speedup_from_rates([0.01] * 3, [0.005] * 3))),
    ]
    table = C.claims_table(claims)
    assert list(table.columns) == C.CLAIM_COLUMNS
    assert table["verdict"].tolist() == [C.SUPPORTED, C.NOT_SUPPORTED]
    md = C.render_claims_markdown(claims)
    assert "| 4 | HRTA is faster \\| really | fig_training.png | **supported** |" in md
    assert "## Claim 5: Relaxation helps" in md and "**Verdict:** not supported" in md
    assert "m=1000: **supported**" in md


def test_claim_details_and_summary_are_rendered():
    part = C.verdict_speedup(speedup_from_rates([0.010, 0.011, 0.009], [0.020, 0.021, 0.019]))
    claim = C.Claim(
        "6",
        "Extensions",
        "fig.png",
        C.combine_verdicts({"deep": part}),
        parts={"deep": part},
        details={"Per model": ["deep3: kernel error 0.06, above the 0.05 tolerance", "tanh: supported"]},
        summary="decided on the to-ReLU reading",
    )
    md = C.render_claims_markdown([claim])
    assert "- **Measured:** decided on the to-ReLU reading" in md
    assert "- **Per model:**\n  - deep3: kernel error 0.06, above the 0.05 tolerance\n  - tanh: supported" in md
    assert md.index("**Per model:**") < md.index("**Parts:**")
    row = C.claims_table([claim]).iloc[0]
    assert row["details"] == "Per model: deep3: kernel error 0.06, above the 0.05 tolerance; tanh: supported"
    # Without a summary, a claim with parts shows its parts alone (their numbers are the measurements).
    plain = C.render_claims_markdown([C.Claim("1", "x", "y", C.combine_verdicts({"deep": part}), parts={"deep": part})])
    assert "**Measured:**" not in plain


# ------------------------------------------------------------------ tables of runs
def runs_table(rates_by_method: dict, tol=1e-3, width=100):
    rows = []
    for method, rates in rates_by_method.items():
        for seed, r in enumerate(rates):
            status = "diverged" if r is None else "ok"
            h = history(r if r is not None else 0.0)
            rows.append(
                {
                    "width": width,
                    "method": method,
                    "seed": seed,
                    "budget": BUDGET,
                    "steps_to_tol": C.steps_to_tolerance(h, tol, status),
                    "diverged": status == "diverged",
                }
            )
    return pd.DataFrame(rows)


def test_speedup_table_groups_and_verdicts():
    runs = pd.concat(
        [
            runs_table(
                {"relu": [0.010, 0.011, 0.009], "fast": [0.020, 0.022, 0.019], "slow": [0.005, 0.0055, 0.0045]},
                width=100,
            ),
            runs_table(
                {"relu": [0.010, 0.011, 0.009], "fast": [0.020, None, None], "slow": [0.005, 0.0055, 0.0045]},
                width=1000,
            ),
        ]
    )
    t = C.speedup_table(runs, "relu", ["width"])
    got = {(r.width, r.method): r.verdict for r in t.itertuples()}
    assert got == {
        (100, "fast"): C.SUPPORTED,
        (100, "slow"): C.NOT_SUPPORTED,
        (1000, "fast"): C.INCONCLUSIVE,
        (1000, "slow"): C.NOT_SUPPORTED,
    }
    assert t.set_index(["width", "method"]).loc[(1000, "fast"), "n_diverged_method"] == 2
    parts = C.parts_from_table(t, ["width", "method"])
    assert parts["width=100, method=fast"].label == C.SUPPORTED
    assert C.combine_verdicts(parts).label == C.NOT_SUPPORTED


def test_speedup_table_rejects_unpaired_seeds():
    runs = runs_table({"relu": [0.01, 0.01], "fast": [0.02, 0.02]})
    with pytest.raises(ValueError, match="do not pair"):
        C.speedup_table(runs.iloc[:-1], "relu")
    with pytest.raises(ValueError, match="baseline method 'gelu'"):
        C.speedup_table(runs, "gelu")
    with pytest.raises(ValueError, match="lacks column"):
        C.speedup_table(runs.drop(columns="budget"), "relu")


# ------------------------------------------------------------------ tolerances and lr selection
def long_histories(spec: dict):
    """spec: (group, method, seed) -> rate or None (diverged at step 300). Returns (runs, histories)."""
    runs, hs = [], []
    for (group, method, seed), rate in spec.items():
        h = history(0.01 if rate is None else rate, blowup_at=300 if rate is None else None)
        hs.append(h.assign(group=group, method=method, seed=seed))
        runs.append(
            {
                "group": group,
                "method": method,
                "seed": seed,
                "budget": BUDGET,
                "status": "diverged" if rate is None else "ok",
                "final_train_loss": float(h["train_loss"].iloc[-1]),
            }
        )
    return pd.DataFrame(runs), pd.concat(hs, ignore_index=True)


def test_baseline_tolerance_is_loosest_seed_at_fraction():
    hs = [history(0.010), history(0.008), history(0.01, blowup_at=200)]
    tol = C.baseline_tolerance(hs, ["ok", "ok", "diverged"], BUDGET, 0.5)
    assert tol == pytest.approx(math.exp(-0.008 * 500))  # the slower seed; the diverged one is left out
    assert math.isnan(C.baseline_tolerance(hs[2:], ["diverged"], BUDGET, 0.5))
    with pytest.raises(ValueError, match="fraction"):
        C.baseline_tolerance(hs, ["ok"] * 3, BUDGET, 0.0)


def test_add_steps_to_tolerance_then_speedup():
    spec = {("a", "relu", s): 0.010 for s in range(3)}
    spec.update({("a", "fast", s): r for s, r in enumerate([0.020, 0.021, 0.019])})
    spec.update({("a", "blowup", s): None for s in range(3)})
    runs, hs = long_histories(spec)
    out = C.add_steps_to_tolerance(runs, hs, ["group"], "relu", 0.5)
    assert out["tolerance"].nunique() == 1
    assert (out.loc[out.method == "relu", "steps_to_tol"] == 500).all()
    assert (out.loc[out.method == "blowup", "steps_to_tol"] == math.inf).all()
    assert out.loc[out.method == "blowup", "diverged"].all()
    t = C.speedup_table(out, "relu", ["group"]).set_index("method")
    assert t.loc["fast", "verdict"] == C.SUPPORTED and t.loc["blowup", "verdict"] == C.NOT_SUPPORTED
    # Monotone curves: the diagnostic first-below speed-up equals the verdict's speed-up.
    assert t.loc["fast", "speedup_first_below"] == pytest.approx(t.loc["fast", "speedup"])
    with pytest.raises(ValueError, match="no baseline"):
        C.add_steps_to_tolerance(runs[runs.method != "relu"], hs, ["group"], "relu", 0.5)


def test_best_by_final_loss_skips_diverged():
    runs = pd.DataFrame(
        {
            "method": ["m"] * 3 + ["n"] * 2,
            "seed": [0] * 5,
            "lr": [0.1, 1.0, 10.0, 0.1, 10.0],
            "final_train_loss": [0.5, 0.1, 1e-9, math.nan, 2.0],
            "status": ["ok", "ok", "diverged", "diverged", "ok"],
        }
    )
    best = C.best_by_final_loss(runs, ["method", "seed"], "lr")
    assert best.set_index("method")["lr"].to_dict() == {"m": 1.0, "n": 10.0}


# ------------------------------------------------------------------ pipeline: CLAIMS.md and the report
CLAIM_IDS = ["1", "2", "3", "3a", "3b", "4", "5", "6", "7"]  # claims.csv: 3 under the earlier rule, 3a and 3b
CLAIM_FIGURES = [
    "claims_speedups",
    "claims_e5_extensions",
    "claims_e6_lr_grid",
    "claims_e7_sensitivity",
    "claims_matrix",
]


@pytest.mark.slow
def test_default_dry_run_schedules_the_claims_rules(shipped_dry_run):
    import re

    _, result = shipped_dry_run("config")
    assert result.returncode == 0, result.stdout
    # E5: tanh and GELU × 8 seeds + the three-layer net × 3 (one job each), E7: 3 values of n + 2 further targets;
    # the fairness sweeps in parts (hrta.pipeline.jobs.fairness_parts): E6's 2 optimizers and e6_regime's 1, each a
    # tune job, one job per scoring seed (E6 7, e6_regime 5) and a gather job.
    assert re.search(r"^claims_sweep\s+24$", result.stdout, re.M), result.stdout
    for rule, count in (("claims_tune", 3), ("claims_score", 2 * 7 + 5), ("claims_gather", 3)):
        assert re.search(rf"^{rule}\s+{count}$", result.stdout, re.M), rule
    rules = ("claims_speedups", "table_claims_speedups", "figure_claims", "claims_report", "figure_claims_matrix")
    for rule in (*rules, "claims_endpoints", "claims_summary"):
        assert re.search(rf"^{rule}\s+1$", result.stdout, re.M), rule


# id: (section, key, value (None: the key left out), regex the refusal must match)
BAD_CLAIMS_CASES = {
    "unknown-baseline": ("e5", "baseline", "relu", r"key 'e5\.baseline': 'relu' is not one of e5\.methods"),
    "unknown-key": ("e6", "lr_factorz", [1.0], r"unknown key 'e6\.lr_factorz'"),
    "kernel-lr-not-gd": ("e6", "kernel_lr", {"optimizer": "adam", "fraction": 1.0}, r"key 'e6\.kernel_lr\.optimizer'"),
    "fraction-above-1": ("claims", "tolerance_fraction", 1.5, r"key 'claims\.tolerance_fraction'"),
    "reading-typo": (
        "claims",
        "readings",
        {"to_relu": {"label": "x", "methods": ["hrta_0.5", "hrta_typo"]}},
        r"key 'claims\.readings\.to_relu\.methods\[1\]': 'hrta_typo' is not a method",
    ),
    "decided-on-unknown": (
        "claims",
        "decided_on",
        {"4": "to_relu", "5": "nope", "6": "to_relu", "7": "to_relu"},
        r"key 'claims\.decided_on\.5': 'nope' is not one of claims\.readings",
    ),
    "budget-fraction-0": ("claims", "budget_fractions", [0.0], r"key 'claims\.budget_fractions\[0\]'"),
    "lr-tuning-seed-unknown": (
        "e6",
        "lr_choice",
        {"tuning_seeds": [7], "step": 1.4142135623730951, "max_steps": 1},
        r"key 'e6\.lr_choice\.tuning_seeds\[0\]': 7 is not one of e6\.seeds",
    ),
    "lr-criterion-unknown": (  # issue 24, 5a
        "e6",
        "lr_choice",
        {"tuning_seeds": [0], "step": 1.4142135623730951, "max_steps": 1, "criterion": "lowest_loss"},
        r"key 'e6\.lr_choice\.criterion'",
    ),
    "regime-time-criterion-without-factor-1": (
        "e6_regime",
        "lr_factors",
        [1.4142135623730951, 2.0],
        r"key 'e6_regime\.lr_factors': lr_choice\.criterion time_to_target .* must hold 1\.0",
    ),
    "regime-grid-not-one-step": (
        "e6_regime",
        "lr_factors",
        [1.0, 2.0],
        r"key 'e6_regime\.lr_factors': neighbouring factors 1, 2 are not one step",
    ),
    "regime-endpoint-best-without-lr-choice": (
        "e6_regime",
        "lr_choice",
        None,
        r"key 'claims\.endpoints\.comparisons\[\d+\]\.lr_choice': 'best' needs e6_regime\.lr_choice",
    ),
    "finding-headline-not-a-comparison": (
        "claims",
        "endpoints",
        "FINDING",  # the smoke endpoints with a finding whose headline names no comparison of its claim
        r"key 'claims\.endpoints\.findings\.4\.headline': 'relax' vs 'relu' on e3 is no comparison of claim 4",
    ),
}


@pytest.fixture(scope="module")
def bad_claims_dry_runs(tmp_path_factory):
    """Every BAD_CLAIMS_CASES config planned as `snakemake -n` would, in one process (conftest.dry_run_batch)."""
    import yaml
    from conftest import CONFIGS, dry_run_batch

    root, cases = tmp_path_factory.mktemp("bad_claims"), {}
    for name, (section, key, value, _) in BAD_CLAIMS_CASES.items():
        config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
        if value is None:  # the key left out
            del config[section][key]
        elif value == "FINDING":
            config["claims"]["endpoints"]["findings"] = {
                "4": {
                    "claim": "4",
                    "asserts": "x",
                    "headline": {"source": "e3", "treatment": "relax", "control": "relu"},
                }
            }
        else:
            config[section][key] = value
        (root / name).mkdir()
        bad = root / name / "bad.yaml"
        bad.write_text(yaml.safe_dump(config, allow_unicode=True))
        cases[name] = (root / name, bad)
    return dry_run_batch(cases)


@pytest.mark.slow
@pytest.mark.xdist_group("bad_claims")  # one worker runs the module fixture's batch
@pytest.mark.parametrize("case", list(BAD_CLAIMS_CASES))
def test_bad_claims_config_stops_before_any_job(bad_claims_dry_runs, case):
    import re

    workdir, result = bad_claims_dry_runs[case]
    expected = BAD_CLAIMS_CASES[case][3]
    assert not result["ok"] and result["error"] == "WorkflowError", result
    assert re.search(expected, result["message"]), result["message"]
    assert not (workdir / "data").exists()


@pytest.mark.slow
def test_smoke_run_writes_every_claim_with_a_computed_verdict(smoke_run):
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    table = pd.read_csv(workdir / "figures" / "tables" / "claims.csv", dtype={"id": str})
    assert table["id"].tolist() == CLAIM_IDS
    assert set(table["verdict"]) <= set(C.VERDICTS)
    assert table[["claim", "evidence", "measured", "rule"]].map(lambda x: isinstance(x, str) and len(x) > 0).all().all()
    # The metric-by-metric detail (claims_parts.md) keeps every claim's rule, verdict and parts ...
    md = (workdir / "figures" / "tables" / "claims_parts.md").read_text()
    for cid, verdict in zip(table["id"], table["verdict"]):
        assert f"## Claim {cid}:" in md and f"| {cid} |" in md
        assert f"**Verdict:** {verdict}" in md
    assert md.index("## Verdict matrix") < md.index("| # | Claim |")
    assert all(f"- Claim {cid}:" in md for cid in ("4", "5", "6", "7"))
    # ... and CLAIMS.md opens with one page: one row per claim with a bold verdict, no line over 600 characters.
    page = (workdir / "figures" / "CLAIMS.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    # one row per finding: claims 1–3 with claim 3 as two findings (3a within ε, 3b improves with width), 4–7
    assert [r.split(" | ")[0][2:] for r in rows] == ["1", "2", "3a", "3b", "4", "5", "6", "7"]
    # issue 24: the bottom lines and the table come first, the rule block after the table; no truncated text
    assert page.index("## Bottom lines") < page.index("| # |") < page.index("## Rules")
    assert " …" not in "\n".join(rows)
    words = {"holds", "holds in part", "fails", "reversed", "undecided", "not estimable", "censored"}
    assert all(any(f"**{w}" in r for w in words) for r in rows)
    assert all("| **" in r for r in rows)
    # The two-minute part (bottom lines, how to read, the table) is the one page: < 10 KB (6.5 KB here, 8.6 KB in the
    # default run). The whole file < 45 KB: issue 24's detail sections (tuned rates, equal initial function, the
    # split on every data set) took it from 29 to 34 KB here (the cap was 30 KB on the whole file before).
    assert len(page[: page.index("## Rules")].encode()) < 10_000
    assert len(page.encode()) < 45_000 and max(map(len, page.splitlines())) <= 600
    import yaml
    from conftest import CONFIGS

    smoke = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    readings = smoke["claims"]["readings"]
    matrix = pd.read_csv(workdir / "figures" / "tables" / "claims_matrix.csv", dtype={"claim": str})
    # every claim 4–7 decided on every reading with every metric
    assert len(matrix) == 4 * len(readings)
    assert (matrix["label"] != C.NOT_MEASURED).all(), matrix[["claim", "reading", "label"]]
    for m in C.METRICS:
        assert set(matrix[f"verdict_{m}"]) <= set(C.VERDICTS)
    # The verdicts follow from the data: claim 4's to-ReLU cell recomputed by hand from the per-run histories
    # (stays steps and budget losses straight from the E3 files, parts combined by "all parts") agrees.
    hist = pd.concat(pd.read_csv(p) for p in sorted((workdir / "data" / "train" / "e3").glob("w*_seed*[0-9].csv")))
    runs = pd.concat(pd.read_csv(p) for p in sorted((workdir / "data" / "train" / "e3").glob("w*_runs.csv")))
    labels = {"a": [], "b": []}
    for (opt, width), g in runs.groupby(["optimizer", "width"]):
        T = 60
        base = {
            r.seed: hist[
                (hist.optimizer == opt) & (hist.width == width) & (hist.method == "relu") & (hist.seed == r.seed)
            ]
            for r in g[g.method == "relu"].itertuples()
        }
        for method in readings["to_relu"]["methods"]:
            meth = {
                seed: hist[
                    (hist.optimizer == opt) & (hist.width == width) & (hist.method == method) & (hist.seed == seed)
                ]
                for seed in base
            }
            for q in smoke["claims"]["tolerance_fractions"]:
                tol = max(float(h[h.step <= int(q * T)].train_loss.iloc[-1]) for h in base.values())
                b = [C.steps_to_tolerance(base[k], tol) for k in base]
                m = [C.steps_to_tolerance(meth[k], tol) for k in base]
                labels["a"].append(C.verdict_speedup(C.paired_speedup(b, m, T)).label)
            for q in smoke["claims"]["budget_fractions"]:
                step = int(q * T)
                b = [float(h[h.step <= step].train_loss.iloc[-1]) for h in base.values()]
                m = [float(meth[k][meth[k].step <= step].train_loss.iloc[-1]) for k in base]
                labels["b"].append(C.verdict_loss_ratio(C.paired_loss_ratio(b, m)).label)
    cell = matrix[(matrix.claim == "4") & (matrix.reading == "to_relu")].iloc[0]
    for m in ("a", "b"):
        parts = {str(i): C.Verdict(v, "rule", "n") for i, v in enumerate(labels[m])}
        assert C.combine_verdicts(parts).label == cell[f"verdict_{m}"], m
    decided = table.set_index("id").loc["4"]
    assert decided["verdict"] == (cell["label"] if cell["robust"] else C.INCONCLUSIVE)
    assert decided["robustness"] == ("robust" if cell["robust"] else "metric-dependent")
    speedups = pd.read_csv(workdir / "figures" / "tables" / "claims_speedups.csv")
    assert set(speedups["experiment"]) == {"e3", "e5", "e6", "e7"}
    # relaxed-final networks were exported with to_relu and matched to 1e-10 relative (float64)
    steps = pd.read_csv(workdir / "data" / "claims" / "steps_to_tolerance.csv")
    relax = steps[(steps.experiment == "e3") & (steps.method == "relax") & (steps.status == "ok")]
    assert len(relax) and (relax["export_rel_diff"] <= 1e-10).all()
    for name in CLAIM_FIGURES:
        for ext in ("png", "pdf"):
            assert (workdir / "figures" / f"{name}.{ext}").stat().st_size > 1000, name


@pytest.mark.slow
def test_smoke_report_builds_offline_with_the_claims(smoke_run):
    from conftest import CONFIGS, run_snakemake

    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    report = workdir / "figures" / "report.html"
    built = run_snakemake(workdir, "--report", str(report), configfile=CONFIGS / "smoke.yaml")
    assert built.returncode == 0, built.stdout[-5000:]
    html = report.read_text(encoding="utf-8")
    assert "CLAIMS.md" in html and "claims.csv" in html
    for name in CLAIM_FIGURES:
        assert f"{name}.png" in html, name
    assert "extensions (claim 6)" in html  # the captions made it in
