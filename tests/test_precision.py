"""float32 training against float64 with the same weights: the reason config.yaml trains E3's widest width in
float32 (`e3.wide`). Reference: the float64 run of the same network (weights drawn in float64, cast to float32)."""

import numpy as np
import pytest
import torch

from hrta.data import make_dataset
from hrta.models import TwoLayerNet
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
