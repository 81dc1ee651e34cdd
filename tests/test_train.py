"""hrta.train: optimizers, schedules of s and lr, logging, divergence, validation, determinism."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from hrta.models import DeepNet, TwoLayerNet
from hrta.schedules import parse_schedule
from hrta.train import HISTORY_COLUMNS, TrainConfig, _batches, learning_rate, train


def data(n=24, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    y = np.sin(2.0 * X[:, 0]) + 0.5 * X[:, 1]
    return X, y


def reference_losses(net, X, y, schedule, lr, steps, optimizer="gd", betas=(0.9, 0.999), eps=1e-8):
    """Autograd + torch.optim reference: loss of the parameters before update t, under s_at(t)."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr) if optimizer == "gd" else torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)
    losses = []
    for t in range(steps + 1):
        net.s = schedule.s_at(t)
        opt.zero_grad()
        loss = 0.5 * torch.mean((net(X) - y) ** 2)
        losses.append(loss.item())
        if t < steps:
            loss.backward()
            opt.step()
    return losses


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("train_output", [True, False])
def test_two_layer_matches_autograd_reference(optimizer, train_output):
    X, y = data()
    spec = "0.5x4,0.5:1x5,1.5x3"
    lr = 0.3 if optimizer == "gd" else 0.01
    net = TwoLayerNet(2, 64, seed=3, dtype="float64", train_output=train_output)
    ref = TwoLayerNet(2, 64, seed=3, dtype="float64", train_output=train_output)
    a0 = net.a.detach().clone()
    config = TrainConfig(spec, optimizer=optimizer, lr=lr, log_every=1, dtype="float64")
    result = train(net, X, y, config)
    expected = reference_losses(ref, X, y, parse_schedule(spec), lr, 12, optimizer)
    assert result.status == "ok" and result.steps_done == 12
    assert list(result.history["step"]) == list(range(13))
    np.testing.assert_allclose(result.history["train_loss"], expected, rtol=1e-11, atol=0)
    torch.testing.assert_close(net.W, ref.W, rtol=1e-11, atol=1e-13)
    torch.testing.assert_close(net.a, ref.a, rtol=1e-11, atol=1e-13)
    if not train_output:
        assert torch.equal(net.a, a0)


def test_deepnet_gd_matches_autograd_reference():
    X, y = data(d=3)
    net = DeepNet(3, (16, 8), s=1.5, seed=1, dtype="float64")
    ref = DeepNet(3, (16, 8), s=1.5, seed=1, dtype="float64")
    result = train(net, X, y, TrainConfig("1.5x3,1x3", lr=0.2, log_every=1, dtype="float64"))
    expected = reference_losses(ref, X, y, parse_schedule("1.5x3,1x3"), 0.2, 6)
    np.testing.assert_allclose(result.history["train_loss"], expected, rtol=1e-11, atol=0)


def test_history_rows_columns_and_s_at_logged_steps_and_boundaries():
    X, y = data()
    spec = "0.5x7,0.5:1x6,1.5x8"
    schedule = parse_schedule(spec)
    net = TwoLayerNet(2, 32, dtype="float64")
    result = train(net, X, y, TrainConfig(spec, lr=0.1, log_every=5, dtype="float64"), X_test=X[:5], y_test=y[:5])
    h = result.history
    assert tuple(h.columns) == HISTORY_COLUMNS
    assert list(h["step"]) == [0, 5, 10, 15, 20, 21]  # every 5 and the last (t = total_steps)
    assert list(h["s"]) == [schedule.s_at(t) for t in h["step"]]
    assert list(h["stage"]) == [schedule.stage_at(t) for t in h["step"]]
    assert net.s == 1.5
    # Exactly at the boundaries: log every step.
    net = TwoLayerNet(2, 32, dtype="float64")
    h = train(net, X, y, TrainConfig(spec, lr=0.1, log_every=1, dtype="float64")).history.set_index("step")
    for b in schedule.boundaries:
        assert h.loc[b - 1, "s"] == schedule.s_at(b - 1) and h.loc[b, "s"] == schedule.s_at(b)
    assert h.loc[6, "s"] == 0.5 and h.loc[7, "s"] == 0.5 and h.loc[12, "s"] == 1.0 and h.loc[13, "s"] == 1.5
    assert h.loc[9, "s"] == pytest.approx(0.5 + 0.5 * 2 / 5, abs=1e-15)


def test_logged_loss_is_loss_of_current_parameters_under_current_s():
    X, y = data()
    net = TwoLayerNet(2, 32, dtype="float64")
    result = train(net, X, y, TrainConfig("1x5,2x5", lr=0.1, log_every=3, dtype="float64"), X_test=X[:7], y_test=y[:7])
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    with torch.no_grad():
        assert net.s == 2.0
        final = 0.5 * torch.mean((net(Xt) - yt) ** 2).item()
        final_test = 0.5 * torch.mean((net(Xt[:7]) - yt[:7]) ** 2).item()
    assert result.final_train_loss == pytest.approx(final, rel=1e-13)
    assert result.final_test_loss == pytest.approx(final_test, rel=1e-13)
    assert result.history["train_loss"].iloc[-1] == result.final_train_loss
    no_test = train(TwoLayerNet(2, 8), X, y, TrainConfig("1x3"))
    assert no_test.history["test_loss"].isna().all() and math.isnan(no_test.final_test_loss)


@pytest.mark.parametrize("optimizer, extra", [("gd", {}), ("sgd", {"batch_size": 5}), ("adam", {"lr": 0.01})])
def test_identical_seeds_give_identical_history(optimizer, extra):
    X, y = data()
    runs = []
    for _ in range(2):
        net = TwoLayerNet(2, 50, s=0.5, seed=9)
        cfg = TrainConfig("0.5x10,1x10", optimizer=optimizer, log_every=4, seed=3, **extra)
        runs.append(train(net, X, y, cfg, X_test=X, y_test=y))
    h0, h1 = (r.history.drop(columns="elapsed_s") for r in runs)
    pd.testing.assert_frame_equal(h0, h1, check_exact=True)
    assert runs[0].final_train_loss == runs[1].final_train_loss


def test_sgd_seed_changes_batch_order_and_epochs_are_permutations():
    X, y = data()
    losses = []
    for seed in (0, 1):
        cfg = TrainConfig("1x12", optimizer="sgd", batch_size=5, seed=seed, log_every=12)
        losses.append(train(TwoLayerNet(2, 50, seed=9), X, y, cfg).final_train_loss)
    assert losses[0] != losses[1]
    stream = _batches(11, 4, seed=2, device=torch.device("cpu"))
    for _ in range(3):
        epoch = torch.cat([next(stream) for _ in range(3)])
        assert sorted(epoch.tolist()) == list(range(11))


def test_sgd_full_batch_equals_gd():
    X, y = data()
    gd = train(
        TwoLayerNet(2, 40, seed=1, dtype="float64"), X, y, TrainConfig("1x6", lr=0.2, log_every=1, dtype="float64")
    )
    sgd = train(
        TwoLayerNet(2, 40, seed=1, dtype="float64"),
        X,
        y,
        TrainConfig("1x6", optimizer="sgd", batch_size=len(y), lr=0.2, log_every=1, dtype="float64"),
    )
    # Same updates up to the order of summation over the permuted rows.
    np.testing.assert_allclose(sgd.history["train_loss"], gd.history["train_loss"], rtol=1e-12)


def test_training_reduces_loss():
    X, y = data()
    result = train(TwoLayerNet(2, 200, s=1.0), X, y, TrainConfig("1x200", lr=0.5, log_every=50))
    losses = result.history["train_loss"].to_numpy()
    assert result.status == "ok"
    assert losses[-1] < 0.5 * losses[0]


def test_divergence_stops_and_keeps_history():
    X, y = data()
    cfg = TrainConfig("1x100", lr=1e4, log_every=10, divergence_threshold=1e6)
    result = train(TwoLayerNet(2, 50), X, y, cfg)
    assert result.status == "diverged"
    assert result.steps_done < 100
    last = result.history.iloc[-1]
    assert last["step"] == result.steps_done
    assert not (math.isfinite(last["train_loss"]) and last["train_loss"] <= 1e6)
    assert (result.history["train_loss"].iloc[:-1] <= 1e6).all()


def test_learning_rate_schedules():
    sched = "1x100"
    step = TrainConfig(sched, lr=0.8, lr_schedule="step", lr_gamma=0.5, lr_step_every=30)
    assert [learning_rate(step, t) for t in (0, 29, 30, 59, 60, 89, 90)] == [0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1]
    cos = TrainConfig(sched, lr=0.8, lr_schedule="cosine", lr_min=0.1)
    assert learning_rate(cos, 0) == pytest.approx(0.8)
    assert learning_rate(cos, 50) == pytest.approx(0.45)
    assert learning_rate(cos, 100) == pytest.approx(0.1)
    X, y = data()
    h = train(
        TwoLayerNet(2, 16), X, y, TrainConfig("1x40", lr=0.8, lr_schedule="step", lr_step_every=15, log_every=10)
    ).history
    assert list(h["step"]) == [0, 10, 20, 30, 40]
    assert list(h["lr"]) == [0.8, 0.8, 0.4, 0.2, 0.2]


def test_float64_and_dtype_mismatch():
    X, y = data()
    result = train(TwoLayerNet(2, 16, dtype="float64"), X, y, TrainConfig("1x3", dtype="float64"))
    assert result.status == "ok"
    with pytest.raises(ValueError, match=r"config dtype 'float32' does not match the model's dtype torch.float64"):
        train(TwoLayerNet(2, 16, dtype="float64"), X, y, TrainConfig("1x3"))


def test_tensor_inputs_and_column_targets_accepted():
    X, y = data()
    a = train(TwoLayerNet(2, 16), torch.tensor(X), torch.tensor(y)[:, None], TrainConfig("1x3"))
    b = train(TwoLayerNet(2, 16), X, y, TrainConfig("1x3"))
    assert a.final_train_loss == b.final_train_loss


BAD_DATA = {
    "nan in X": (
        lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y),
        "X_train contains NaN",
    ),
    "inf in y": (lambda X, y: (X, np.where(np.arange(y.size) == 2, np.inf, y)), "y_train contains NaN or inf"),
    "y length": (lambda X, y: (X, y[:-1]), r"y_train must have shape \(24,\)"),
    "X columns": (lambda X, y: (np.hstack([X, X]), y), r"X_train must have shape \(n, 2\) to match the model's d=2"),
    "X 1-d": (lambda X, y: (X[:, 0], y), r"X_train must have shape \(n, 2\)"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_rejected_before_any_work(case):
    X, y = data()
    make, message = BAD_DATA[case]
    Xb, yb = make(X, y)
    net = TwoLayerNet(2, 8)
    W0 = net.W.detach().clone()
    with pytest.raises(ValueError, match=message):
        train(net, Xb, yb, TrainConfig("1x5"))
    assert torch.equal(net.W, W0)


def test_bad_test_data_rejected():
    X, y = data()
    with pytest.raises(ValueError, match="both X_test and y_test"):
        train(TwoLayerNet(2, 8), X, y, TrainConfig("1x5"), X_test=X)
    with pytest.raises(ValueError, match="X_test contains NaN"):
        train(TwoLayerNet(2, 8), X, y, TrainConfig("1x5"), X_test=X * np.nan, y_test=y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": 0.0}, "lr must be > 0"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"lr": float("nan")}, "lr must be finite"),
        ({"lr": float("inf")}, "lr must be finite"),
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'"),
        ({"lr_schedule": "linear"}, "unknown lr_schedule 'linear'"),
        ({"lr_schedule": "step"}, "lr_schedule 'step' needs lr_step_every"),
        ({"lr_gamma": 0.0}, "lr_gamma must be in"),
        ({"lr_min": 1.0, "lr": 0.1}, "lr_min must be in"),
        ({"optimizer": "sgd"}, "optimizer 'sgd' needs batch_size"),
        ({"optimizer": "sgd", "batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": 4}, "batch_size is only used by optimizer 'sgd'"),
        ({"log_every": 0}, "log_every must be a positive integer"),
        ({"dtype": "float16"}, "unknown dtype 'float16'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"schedule": "1x-3"}, "stage 1 '1x-3': steps must be a positive integer"),
        ({"adam_betas": (0.9, 1.0)}, "adam_betas"),
    ],
)
def test_bad_config_rejected(kwargs, message):
    kwargs = {"schedule": "1x5", **kwargs}
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_batch_size_larger_than_n_rejected():
    X, y = data()
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, n=24\], got 25"):
        train(TwoLayerNet(2, 8), X, y, TrainConfig("1x5", optimizer="sgd", batch_size=25))


def test_config_mutated_after_construction_is_revalidated():
    X, y = data()
    cfg = TrainConfig("1x5")
    cfg.lr = -1.0
    with pytest.raises(ValueError, match="lr must be > 0"):
        train(TwoLayerNet(2, 8), X, y, cfg)
