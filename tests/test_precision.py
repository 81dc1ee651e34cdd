"""float32 training against float64 with the same weights: the reason config.yaml trains E3's widest width in
float32 (`e3.wide`). Reference: the float64 run of the same network (weights drawn in float64, cast to float32)."""

import numpy as np
import pytest
import torch

from hrta.data import make_dataset
from hrta.models import DeepNet, TwoLayerNet
from hrta.schedules import parse_schedule
from hrta.train import TrainConfig, train

OPTIMIZERS = {
    "gd": {"optimizer": "gd", "lr": 1.0, "lr_schedule": "constant"},
    "adam": {"optimizer": "adam", "lr": 1.0e-3, "lr_schedule": "step", "lr_gamma": 0.5, "lr_step_every": 150},
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", ["1x400", "1.5x100,1x300", "0.5x100,1x100,1.5x200", "1.5:1x100,1x300"])
def test_float32_loss_curve_follows_float64(optimizer, schedule):
    ds = make_dataset("sin1d", n_train=100, seed=0)
    s0 = parse_schedule(schedule).stages[0].s_start
    losses = {}
    for dtype in ("float64", "float32"):
        reference = TwoLayerNet(ds.d, m=2000, s=s0, seed=0, dtype="float64")
        net = TwoLayerNet(ds.d, m=2000, s=s0, seed=0, dtype=dtype)
        net.load_state_dict({k: v.to(getattr(torch, dtype)) for k, v in reference.state_dict().items()})
        config = TrainConfig(parse_schedule(schedule), dtype=dtype, log_every=10, **OPTIMIZERS[optimizer])
        losses[dtype] = train(net, ds.X_train, ds.y_train, config).history["train_loss"].to_numpy()
    relative = np.abs(losses["float32"] - losses["float64"]) / losses["float64"]
    # Measured ≤ 1.4e-5 at m = 10⁴ over E3's 2000-step schedules; the claims compare losses that differ by > 1 %.
    assert relative.max() < 1e-4


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", ["1x400", "1.5x100,1x300", "0.5x100,1x100,1.5x200"])
def test_deep_float32_loss_curve_follows_float64(optimizer, schedule):
    """The three-layer ReLU network (DeepNet, widths (300, 300)) trained in float32 against float64 with the same
    weights: the reason E5's three-layer cell may train at (1000, 1000) in float32. Reference: the float64 run."""
    ds = make_dataset("sin1d", n_train=100, seed=0)
    s0 = parse_schedule(schedule).stages[0].s_start
    reference = DeepNet(ds.d, (300, 300), s=s0, seed=0, dtype="float64")
    losses = {}
    for dtype in ("float64", "float32"):
        net = DeepNet(ds.d, (300, 300), s=s0, seed=0, dtype=dtype)
        net.load_state_dict({k: v.to(getattr(torch, dtype)) for k, v in reference.state_dict().items()})
        config = TrainConfig(parse_schedule(schedule), dtype=dtype, log_every=10, **OPTIMIZERS[optimizer])
        losses[dtype] = train(net, ds.X_train, ds.y_train, config).history["train_loss"].to_numpy()
    relative = np.abs(losses["float32"] - losses["float64"]) / losses["float64"]
    # Bound 1e-3: the claims compare losses that differ by > 1 %. Not the two-layer test's 1e-4, which this network
    # exceeds: its float32-vs-float64 difference jumps within single steps of a smooth descent (ReLU pattern flips
    # shifted by a step; the loss falls ≈ 0.13 %/step) and depends on the GEMM summation order: GD "1.5x100,1x300"
    # here measured 2.2e-4 with 2 threads, 1.6e-6 with 1. At widths (1000, 1000) over E5's six 2000-step schedules,
    # GD lr 1.0, seeds 0–2 (1 thread): max 5.4e-4 (seed 1, "0.5x500,1x500,1.5x1000"), final losses within 5.2e-4.
    assert relative.max() < 1e-3


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", ["1x400", "0.5x100,1x100,1.5x200"])
def test_gelu_float32_loss_curve_follows_float64(optimizer, schedule):
    """The GELU two-layer network at E5's width (m = 10³) trained in float32 against float64 with the same weights:
    the reason E5's GELU cell trains in float32 (issue 23: torch.erf and torch.exp alone make a float64 GELU step
    2.2x a ReLU step). Reference: the float64 run."""
    ds = make_dataset("sin1d", n_train=100, seed=0)
    s0 = parse_schedule(schedule).stages[0].s_start
    reference = TwoLayerNet(ds.d, m=1000, s=s0, base="gelu", seed=0, dtype="float64")
    losses = {}
    for dtype in ("float64", "float32"):
        net = TwoLayerNet(ds.d, m=1000, s=s0, base="gelu", seed=0, dtype=dtype)
        net.load_state_dict({k: v.to(getattr(torch, dtype)) for k, v in reference.state_dict().items()})
        config = TrainConfig(parse_schedule(schedule), dtype=dtype, log_every=10, **OPTIMIZERS[optimizer])
        losses[dtype] = train(net, ds.X_train, ds.y_train, config).history["train_loss"].to_numpy()
    relative = np.abs(losses["float32"] - losses["float64"]) / losses["float64"]
    # The two-layer bound (the claims compare losses that differ by > 1 %). Measured at E5's full settings (m = 10³,
    # its four 2000-step schedules, seeds 0–1): ≤ 6.9e-7 with GD and ≤ 3.9e-6 with Adam.
    assert relative.max() < 1e-4
