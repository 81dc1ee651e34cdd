"""hrta.sweeps: model specs, kernel-scaled learning rates, stage-wise training."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from hrta import sweeps
from hrta.data import make_dataset
from hrta.models import DeepNet, TwoLayerNet
from hrta.ntk import analytic_ntk, spectrum


@pytest.fixture(scope="module")
def ds():
    return make_dataset("sin1d", n_train=30, n_test=10, seed=0)


def test_build_model_kinds(ds):
    two = sweeps.build_model({"kind": "two_layer", "width": 16, "base": "tanh"}, ds.d, seed=1)
    deep = sweeps.build_model({"kind": "deep", "widths": [8, 8]}, ds.d, seed=1)
    assert isinstance(two, TwoLayerNet) and two.m == 16 and two.base == "tanh"
    assert isinstance(deep, DeepNet) and deep.widths == (8, 8)
    same = sweeps.build_model({"kind": "two_layer", "width": 16, "base": "tanh"}, ds.d, seed=1)
    assert torch.equal(two.W, same.W)  # paired runs start from the same initialization
    with pytest.raises(ValueError, match="unknown model kind 'wide'"):
        sweeps.build_model({"kind": "wide"}, ds.d, seed=0)
    with pytest.raises(ValueError, match="needs 'widths'"):
        sweeps.build_model({"kind": "deep"}, ds.d, seed=0)


def test_train_config_lr_override_and_unknown_key():
    cfg = sweeps.train_config(
        {"optimizer": "adam", "lr": 1e-3, "label": "Adam", "adam_betas": [0.9, 0.99]}, "1x10", lr=2e-3
    )
    assert cfg.lr == 2e-3 and cfg.adam_betas == (0.9, 0.99)
    with pytest.raises(ValueError, match="lr_typo"):
        sweeps.train_config({"optimizer": "gd", "lr_typo": 1.0}, "1x10")


def test_stage_learning_rates_scale_with_the_kernel(ds):
    lrs = sweeps.stage_learning_rates(ds.X_train, "0.5x5,1x5,1.5x5", fraction=1.0)
    X = torch.as_tensor(ds.X_train)
    for s, lr in zip((0.5, 1.0, 1.5), lrs):
        lam = spectrum(analytic_ntk(X, s, "both")).lambda_max / X.shape[0]
        assert lr == pytest.approx(1.0 / lam)
    ramp = sweeps.stage_learning_rates(ds.X_train, "0.5:1.5x5", fraction=0.5)
    assert ramp == [pytest.approx(min(0.5 * lrs[0], 0.5 * lrs[2]))]


def test_stagewise_equals_single_run_at_equal_rates(ds):
    schedule = "0.5x20,1x40"
    cfg = sweeps.train_config({"optimizer": "gd", "lr": 0.3}, schedule, log_every=10)
    a = TwoLayerNet(ds.d, 32, seed=3, dtype="float64")
    b = TwoLayerNet(ds.d, 32, seed=3, dtype="float64")
    from hrta.train import train

    single = train(a, ds.X_train, ds.y_train, cfg)
    staged = sweeps.train_stagewise(b, ds.X_train, ds.y_train, schedule, [0.3, 0.3], cfg)
    cols = ["step", "stage", "s", "train_loss"]
    assert staged.history["step"].tolist() == single.history["step"].tolist() == list(range(0, 61, 10))
    pd.testing.assert_frame_equal(single.history[cols], staged.history[cols], rtol=1e-12, atol=0)
    assert torch.allclose(a.W, b.W, rtol=0, atol=1e-12)
    assert staged.steps_done == 60 and staged.status == "ok"


def test_stagewise_stops_at_divergence(ds):
    cfg = sweeps.train_config({"optimizer": "gd", "lr": 0.1}, "1x20,1x20", log_every=5)
    net = TwoLayerNet(ds.d, 16, seed=0, dtype="float64")
    res = sweeps.train_stagewise(net, ds.X_train, ds.y_train, "1x20,1x20", [0.1, 1e6], cfg)
    assert res.status == "diverged"
    assert res.history["step"].iloc[-1] < 40
    with pytest.raises(ValueError, match="Adam"):
        sweeps.train_stagewise(
            net, ds.X_train, ds.y_train, "1x20", [0.1], sweeps.train_config({"optimizer": "adam", "lr": 0.1}, "1x20")
        )
