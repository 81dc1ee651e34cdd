"""Claim 7's learning-rate choice on held-out tuning seeds (hrta.claims.tuning.choose_lr_by_final_loss,
widened_factor) on synthetic runs whose best factor is known: a loss bowl in log(lr) with its minimum at √2."""

import math

import numpy as np
import pandas as pd
import pytest

from hrta.claims.tuning import RULE_LR_TUNING, choose_lr_by_final_loss, widened_factor

STEP = math.sqrt(2)


def runs(factors, diverged=(), seeds=(0,)):
    rows = []
    for f in factors:
        for seed in seeds:
            loss = 0.1 + (math.log(f) - math.log(STEP)) ** 2 + 0.001 * seed
            rows.append(
                {
                    "optimizer": "gd",
                    "method": "relu",
                    "lr_factor": f,
                    "seed": seed,
                    "status": "diverged" if f in diverged else "ok",
                    "final_train_loss": loss,
                }
            )
    return pd.DataFrame(rows)


def grid(lo_exp, hi_exp):
    return [STEP**k for k in range(lo_exp, hi_exp + 1)]


def test_interior_optimum_is_chosen_and_not_widened():
    chosen = choose_lr_by_final_loss(runs(grid(-2, 2)))
    row = next(chosen.itertuples())
    assert row.lr_factor == pytest.approx(STEP) and not row.at_low and not row.at_high
    assert widened_factor(row, STEP, 0.1, 10) is None


def test_an_optimum_at_the_edge_widens_one_step_until_the_limit():
    row = next(choose_lr_by_final_loss(runs(grid(-2, 0))).itertuples())
    assert row.at_high and row.lr_factor == pytest.approx(1.0)
    assert widened_factor(row, STEP, STEP**-4, STEP**2) == pytest.approx(STEP)
    assert widened_factor(row, STEP, STEP**-4, 1.2) is None  # the next step would pass the stated limit


def test_a_diverged_factor_never_wins():
    row = next(choose_lr_by_final_loss(runs(grid(-2, 2), diverged=(STEP,))).itertuples())
    assert row.lr_factor != pytest.approx(STEP)
    assert row.score < math.inf


def test_the_score_is_the_geometric_mean_over_tuning_seeds():
    r = runs([1.0], seeds=(0, 1))
    row = next(choose_lr_by_final_loss(r).itertuples())
    assert row.score == pytest.approx(math.exp(r["final_train_loss"].map(math.log).mean()))


def test_rule_text_states_the_step_seeds_and_limit():
    text = RULE_LR_TUNING.format(step=STEP, seeds=[0], max_steps=4)
    assert "1.414" in text and "[0]" in text and "4 steps" in text


# ------------------------------------------------------------------ issue 24, point 5a: tuning by time to target
T_STEPS, LOG = 400, 10


def rate(f, cap=2.0):
    """Decay rate (per 100 steps) of the synthetic run at factor f: grows with f up to ``cap``, then falls."""
    return f if f <= cap else cap * cap / f


def curve(c, steps=None):
    steps = np.arange(0, T_STEPS + 1, LOG) if steps is None else steps
    return pd.DataFrame({"step": steps, "train_loss": np.exp(-c * steps / 100.0)})


def tt_tables(curves, schedules=None, statuses=None, seeds=(0,)):
    """(runs, histories) of synthetic tuning runs: curves = {(method, factor): history or callable(seed)}."""
    runs, hists = [], []
    for (method, f), h in curves.items():
        for seed in seeds:
            hh = h(seed) if callable(h) else h
            status = (statuses or {}).get((method, f), "ok")
            sched = (schedules or {}).get(method, f"1x{T_STEPS}")
            runs.append(
                {
                    "optimizer": "gd",
                    "method": method,
                    "lr_factor": f,
                    "seed": seed,
                    "status": status,
                    "schedule": sched,
                    "budget": T_STEPS,
                    "final_train_loss": float(hh["train_loss"].iloc[-1]),
                }
            )
            hists.append(hh.assign(optimizer="gd", method=method, lr_factor=str(f), seed=seed))
    return pd.DataFrame(runs), pd.concat(hists, ignore_index=True)


def expected_score(c, fractions=(0.25, 0.5, 0.75, 1.0)):
    """Reference by hand: baseline exp(-t/100) sets τ_q = exp(-4q) at t = 400q; a run exp(-c·t/100) first stays below
    it at the first logged step ≥ 400q/c (a multiple of 10), censored at T = 400; geometric mean over q."""
    times = []
    for q in fractions:
        t = math.ceil(round(400 * q / c, 9) / LOG) * LOG
        times.append(min(max(t, 1), T_STEPS))
    return math.exp(sum(math.log(t) for t in times) / len(times))


def test_time_to_target_choice_matches_the_hand_computed_scores():
    from hrta.claims.tuning import choose_lr_by_time_to_target

    factors = grid(-1, 2)  # 0.707, 1, 1.414, 2
    curves = {("relu", f): curve(f) for f in factors}
    curves |= {("fast", f): curve(rate(f, cap=1.5)) for f in factors}
    runs_t, hists = tt_tables(curves)
    chosen = choose_lr_by_time_to_target(runs_t, hists, "relu", (0.25, 0.5, 0.75, 1.0)).set_index("method")
    # relu: faster with the factor up to 2 (the largest tried): at the upper end
    assert chosen.loc["relu", "lr_factor"] == pytest.approx(2.0) and chosen.loc["relu", "at_high"]
    assert chosen.loc["relu", "score"] == pytest.approx(expected_score(2.0))
    # fast: rate 1.414 at f = √2, 1.5²/2 = 1.125 at f = 2: the optimum √2 is interior
    assert chosen.loc["fast", "lr_factor"] == pytest.approx(STEP)
    assert not chosen.loc["fast", "at_low"] and not chosen.loc["fast", "at_high"]
    assert chosen.loc["fast", "score"] == pytest.approx(expected_score(STEP))
    # the baseline at factor 1 reaches its own targets at q·T exactly
    assert expected_score(1.0) == pytest.approx(math.exp(np.mean(np.log([100, 200, 300, 400]))))


def test_time_to_target_picks_the_fastest_where_final_losses_are_rounding_noise():
    """The λ_min regime's case (issue 24, 5a): every fast run ends at a rounding floor whose noise decides the
    final-loss choice; time to target picks the factor that gets there first."""
    from hrta.claims.tuning import choose_lr_by_final_loss, choose_lr_by_time_to_target

    factors = grid(-1, 1)
    noise = {factors[0]: 1.0e-30, factors[1]: 3.0e-31, factors[2]: 2.0e-30}  # floor noise: lowest at factor 1

    def floored(f):
        h = curve(1.0 if f == 1.0 else 3 * f)
        h["train_loss"] = np.maximum(h["train_loss"], noise[f])
        h.loc[h.index[-1], "train_loss"] = noise[f]
        return h

    curves = {("relu", 1.0): curve(1.0)} | {("s1.5", f): floored(f) for f in factors}
    runs_t, hists = tt_tables(curves)
    by_loss = choose_lr_by_final_loss(runs_t).set_index("method")
    by_time = choose_lr_by_time_to_target(runs_t, hists, "relu", (0.25, 0.5, 0.75, 1.0)).set_index("method")
    assert by_loss.loc["s1.5", "lr_factor"] == 1.0  # the noise's pick
    assert by_time.loc["s1.5", "lr_factor"] == pytest.approx(STEP)  # the fastest (rate 3·√2)


def test_time_to_target_ties_go_to_the_smaller_factor_and_divergence_never_wins():
    from hrta.claims.tuning import choose_lr_by_time_to_target

    factors = grid(-1, 2)
    curves = {("relu", 1.0): curve(1.0)} | {("a", f): curve(min(f, 1.0)) for f in factors}  # equal from f = 1 on
    runs_t, hists = tt_tables(curves)
    row = choose_lr_by_time_to_target(runs_t, hists, "relu", (0.5, 1.0)).set_index("method").loc["a"]
    assert row["lr_factor"] == 1.0 and not row["at_high"]
    diverged = curve(5.0)
    diverged.loc[diverged.index[-3:], "train_loss"] = np.nan  # fastest, then NaN: diverged
    curves[("a", 2.0)] = diverged
    runs_t, hists = tt_tables(curves, statuses={("a", 2.0): "diverged"})
    chosen = choose_lr_by_time_to_target(runs_t, hists, "relu", (0.5, 1.0))
    row = chosen.set_index("method").loc["a"]
    assert row["lr_factor"] == 1.0
    from hrta.claims.tuning import time_to_target_score

    assert time_to_target_score(diverged, [0.1], f"1x{T_STEPS}", T_STEPS, "diverged") == math.inf


def test_time_to_target_leaves_out_switch_steps_and_averages_over_seeds():
    """Reference: hrta.claims.endpoints.time_to_target_effect's per-seed summary (the primary endpoint), computed on
    the same histories with the baseline's targets: the tuning score is exactly its treatment geometric mean."""
    from hrta.claims import endpoints as E
    from hrta.claims.tuning import choose_lr_by_time_to_target

    def spiky(seed):  # HRTA-like: a switch at 100 with a one-row spike there, above every target
        h = curve(1.3 + 0.1 * seed)
        h.loc[h["step"] == 100, "train_loss"] = 10.0
        return h

    def base(seed):
        return curve(1.0 + 0.05 * seed)

    curves = {("relu", 1.0): base, ("hrta", 1.0): spiky}
    runs_t, hists = tt_tables(curves, schedules={"hrta": f"0.5x100,1x{T_STEPS - 100}"}, seeds=(0, 1))
    fr = (0.25, 0.5, 0.75, 1.0)
    row = choose_lr_by_time_to_target(runs_t, hists, "relu", fr).set_index("method").loc["hrta"]
    per_seed = []
    for seed in (0, 1):
        targets = E.target_family([base(seed)], fr, (), T_STEPS)
        eff = E.time_to_target_effect(
            [base(seed)] * 2, [spiky(seed)] * 2, targets, (), E.switch_steps("0.5x100,1x300"), T_STEPS, n_resamples=9
        )
        per_seed.append(math.exp(np.mean(np.log(eff.times_treatment[0]))))
    assert row["score"] == pytest.approx(math.exp(np.mean(np.log(per_seed))), rel=1e-12)


def test_time_to_target_needs_the_baseline_at_factor_one():
    from hrta.claims.tuning import choose_lr, choose_lr_by_time_to_target

    runs_t, hists = tt_tables({("relu", STEP): curve(1.0), ("a", 1.0): curve(1.0)})
    with pytest.raises(ValueError, match="no run of the baseline 'relu' at factor 1"):
        choose_lr_by_time_to_target(runs_t, hists, "relu", (0.5,))
    bad = curve(1.0)
    bad.loc[bad.index[-1], "train_loss"] = np.inf
    runs_t, hists = tt_tables({("relu", 1.0): bad, ("a", 1.0): curve(1.0)})
    with pytest.raises(ValueError, match="diverged at its configured rate"):
        choose_lr_by_time_to_target(runs_t, hists, "relu", (0.5,))
    with pytest.raises(ValueError, match="unknown lr_choice criterion"):
        choose_lr("lowest_loss", runs_t)
    with pytest.raises(ValueError, match="needs the histories"):
        choose_lr("time_to_target", runs_t)
    assert choose_lr("final_loss", runs_t)["criterion"].eq("final_loss").all()


@pytest.mark.parametrize("criterion", ["final_loss", "time_to_target"])
def test_widening_follows_the_criterion_to_the_limit(criterion):
    """hrta.sweep_parts.widen_lr_grid with a fake trainer: the optimum (the rate's peak) at f = 4 lies three steps
    beyond the grid's top √2; with max_steps 4 the widening tries 2, 2√2, 4 and 4√2 (4 at the end, one more step)
    and stops with 4 interior; with max_steps 1 it stops at the limit 2, still at the upper end."""
    from hrta.claims.tuning import choose_lr
    from hrta.sweep_parts import widen_lr_grid

    def trained(max_steps):
        curves = {("relu", f): curve(rate(f, cap=4.0) / 4) for f in grid(-1, 1)}
        # the final loss falls with the rate as the time does (no floor): both criteria agree on the answer
        calls = []

        def train(optimizer, factor, method):
            calls.append((optimizer, round(factor, 9), method))
            curves[(method, factor)] = curve(rate(factor, cap=4.0) / 4)

        def choose():
            runs_t, hists = tt_tables(curves)
            return choose_lr(criterion, runs_t, hists, "relu", (0.25, 0.5, 0.75, 1.0))

        return widen_lr_grid(choose, train, grid(-1, 1), STEP, max_steps), calls

    chosen, calls = trained(4)
    assert [c[1] for c in calls] == [round(STEP**k, 9) for k in (2, 3, 4, 5)]
    row = next(chosen.itertuples())
    assert row.lr_factor == pytest.approx(4.0) and not row.at_high
    chosen, calls = trained(1)
    assert [c[1] for c in calls] == [2.0]
    row = next(chosen.itertuples())
    assert row.lr_factor == pytest.approx(2.0) and row.at_high
