"""Claim 7's learning-rate choice on held-out tuning seeds (hrta.claims.metrics.choose_lr_by_final_loss,
widened_factor) on synthetic runs whose best factor is known: a loss bowl in log(lr) with its minimum at √2."""

import math

import pandas as pd
import pytest

from hrta.claims.metrics import RULE_LR_TUNING, choose_lr_by_final_loss, widened_factor

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
