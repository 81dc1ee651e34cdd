"""hrta.ntk.predict_schedule_loss (the theory column of the claims endpoints). References: predict_loss_curve on
analytic_ntk (a one-stage schedule, another code path), the same s split into two stages (the lazy prediction
through a switch to the same s must not change the curve), and a brute-force linearized GD on explicit kernels."""

import numpy as np
import pytest
import torch

from hrta.data import make_dataset
from hrta.ntk import analytic_cross_ntk, analytic_ntk, predict_loss_curve, predict_schedule_loss


@pytest.fixture(scope="module")
def data():
    ds = make_dataset("sin1d", n_train=30, seed=3)
    return ds.X_train, ds.y_train


def test_one_stage_is_the_linearized_curve(data):
    X, y = data
    direct = predict_loss_curve(analytic_ntk(torch.as_tensor(X), 1.5), -y, 0.8, 200)
    assert np.allclose(predict_schedule_loss(X, y, "1.5x200", 0.8), direct, rtol=1e-12, atol=0)


def test_a_switch_to_the_same_s_changes_nothing(data):
    X, y = data
    assert np.allclose(
        predict_schedule_loss(X, y, "1x80,1x120", 1.0), predict_schedule_loss(X, y, "1x200", 1.0), rtol=1e-10
    )


def test_two_stages_against_brute_force_linearized_gd(data):
    """f_s(θ) − y = −y + Σ_j Θ_{s,s_j} c_j with c_j accumulated step by step: explicit GD in function space."""
    X, y = data
    n, lr = len(y), 1.0
    stages = [(0.5, 60), (1.0, 90)]
    coefs, losses = [], []
    for s, steps in stages:
        c = np.zeros(n)
        for _ in range(steps):
            r = (
                -y
                + sum(analytic_cross_ntk(torch.as_tensor(X), s, t).numpy() @ cj for t, cj in coefs)
                + (analytic_ntk(torch.as_tensor(X), s).numpy() @ c)
            )
            losses.append(0.5 * np.mean(r**2))
            c = c - lr / n * r
        coefs.append((s, c))
    s, _ = stages[-1]
    r = -y + sum(analytic_cross_ntk(torch.as_tensor(X), s, t).numpy() @ cj for t, cj in coefs)
    losses.append(0.5 * np.mean(r**2))
    assert np.allclose(predict_schedule_loss(X, y, "0.5x60,1x90", lr), losses, rtol=1e-8)


def test_a_ramp_has_no_single_kernel(data):
    X, y = data
    with pytest.raises(ValueError, match="ramp"):
        predict_schedule_loss(X, y, "1.5:1x100,1x100", 1.0)
