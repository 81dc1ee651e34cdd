"""DeepNet.loss_and_grad (the hand-written backward pass) and hrta.train's use of it.

References: torch.autograd of ``0.5 * mean((model(X) − y)²)`` through DeepNet.forward (gradients and loss), and
hrta.train.train run through its generic autograd path (a wrapper module that is not a DeepNet) for the
loss histories.
"""

import numpy as np
import pytest
import torch
from torch import nn

from hrta.data import make_dataset
from hrta.models import DeepNet
from hrta.schedules import parse_schedule
from hrta.train import TrainConfig, _loss_and_grads_fn, train

WIDTHS = [(7,), (5, 9), (6, 4, 8)]
S_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0]


def autograd_loss_and_grads(net: DeepNet, X: torch.Tensor, y: torch.Tensor):
    """Reference: autograd of 0.5·mean((f(X) − y)²) w.r.t. the trained parameters, in parameters() order."""
    params = [p for p in net.parameters() if p.requires_grad]
    loss = 0.5 * torch.mean((net(X) - y) ** 2)
    return loss.detach(), list(torch.autograd.grad(loss, params))


def data(n: int, d: int, seed: int = 0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=dtype)
    y = torch.randn(n, generator=gen, dtype=dtype)
    return X, y


@pytest.mark.parametrize("train_output", [True, False])
@pytest.mark.parametrize("widths", WIDTHS, ids=lambda w: "x".join(map(str, w)))
@pytest.mark.parametrize("s", S_VALUES)
@pytest.mark.parametrize("base", ["relu", "tanh", "gelu"])
def test_loss_and_grad_matches_autograd(base, s, widths, train_output):
    """Reference: torch.autograd through DeepNet.forward (float64); relative max error < 1e-12 per tensor."""
    net = DeepNet(3, widths, s=s, base=base, seed=4, train_output=train_output, dtype="float64")
    X, y = data(13, 3, seed=1)
    loss, grads = net.loss_and_grad(X, y)
    ref_loss, ref_grads = autograd_loss_and_grads(net, X, y)
    assert abs(float(loss) - float(ref_loss)) <= 1e-12 * abs(float(ref_loss))
    params = [p for p in net.parameters() if p.requires_grad]
    assert len(grads) == len(ref_grads) == len(params) == len(widths) + int(train_output)
    for g, ref, p in zip(grads, ref_grads, params):
        assert g.shape == ref.shape == p.shape
        assert g.dtype == torch.float64 and not g.requires_grad
        rel = float((g - ref).abs().max() / ref.abs().max())
        assert rel < 1e-12, (base, s, widths, train_output, tuple(p.shape), rel)


@pytest.mark.parametrize("base", ["relu", "gelu"])
def test_grad_false_returns_loss_only(base):
    """Reference: the loss of the grad=True call (bitwise) and autograd's loss."""
    net = DeepNet(3, (5, 9), s=0.5, base=base, seed=1, dtype="float64")
    X, y = data(11, 3, seed=2)
    loss, grads = net.loss_and_grad(X, y, grad=False)
    assert grads is None
    assert torch.equal(loss, net.loss_and_grad(X, y)[0])
    assert abs(float(loss) - float(autograd_loss_and_grads(net, X, y)[0])) <= 1e-12 * float(loss)


def test_float32_model_gradients_close_to_float64():
    """Reference: the float64 gradients of the same weights (cast exactly); float32 rounding only."""
    net64 = DeepNet(3, (20, 15), s=1.5, seed=5, dtype="float64")
    net32 = DeepNet(3, (20, 15), s=1.5, seed=5, dtype="float32")
    net32.load_state_dict({k: v.float() for k, v in net64.state_dict().items()})
    X, y = data(17, 3, seed=6)
    loss64, g64 = net64.loss_and_grad(X, y)
    loss32, g32 = net32.loss_and_grad(X.float(), y.float())
    assert abs(float(loss32) - float(loss64)) <= 1e-5 * float(loss64)
    for a, b in zip(g32, g64):
        assert a.dtype == torch.float32
        assert float((a.double() - b).abs().max() / b.abs().max()) < 1e-4


def test_loss_and_grad_rejects_bad_inputs():
    """Reference: the stated contract (X (n, d), y (n,), both of the model's dtype)."""
    net = DeepNet(3, (4, 5), dtype="float64")
    X, y = data(6, 3)
    with pytest.raises(ValueError, match="torch.float32"):
        net.loss_and_grad(X.float(), y)
    with pytest.raises(ValueError, match="torch.float32"):
        net.loss_and_grad(X, y.float())
    with pytest.raises(ValueError, match="targets must have shape"):
        net.loss_and_grad(X, y[:, None])
    with pytest.raises(ValueError, match="targets must have shape"):
        net.loss_and_grad(X, y[:5])
    with pytest.raises(ValueError, match="inputs must have shape"):
        net.loss_and_grad(X[:, :2], y)


class AutogradOnly(nn.Module):
    """A DeepNet seen through a module that is not a DeepNet: hrta.train then takes its generic autograd path.

    Same parameters in the same order (a, then W_1 … W_L), same forward, settable s.
    """

    def __init__(self, net: DeepNet):
        super().__init__()
        self.net = net
        self.d = net.d

    @property
    def s(self) -> float:
        return self.net.s

    @s.setter
    def s(self, value: float) -> None:
        self.net.s = value

    def forward(self, X):
        return self.net(X)


OPTIMIZERS = {
    "gd": {"optimizer": "gd", "lr": 0.5},
    "adam": {"optimizer": "adam", "lr": 0.01},
}


@pytest.mark.parametrize("schedule", ["1x300", "1.5x100,1x100", "0.5:1x150,1x50"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("widths", [(16, 12), (10, 8, 6)], ids=lambda w: "x".join(map(str, w)))
def test_train_history_matches_autograd_path(optimizer, schedule, widths):
    """Reference: the same training through hrta.train's generic autograd path (AutogradOnly wrapper), float64,
    loss histories equal to rtol 1e-10 and final weights close."""
    ds = make_dataset("sin1d", n_train=50, seed=0)
    s0 = parse_schedule(schedule).stages[0].s_start
    fast = DeepNet(ds.d, widths, s=s0, seed=3, dtype="float64")
    slow = DeepNet(ds.d, widths, s=s0, seed=3, dtype="float64")
    wrapped = AutogradOnly(slow)
    # the two paths really are different: the fast one is the hand-written pass, the other autograd
    assert _loss_and_grads_fn(fast).__name__ == "deep"
    assert _loss_and_grads_fn(wrapped).__name__ == "generic"
    histories = []
    for model in (fast, wrapped):
        config = TrainConfig(parse_schedule(schedule), dtype="float64", log_every=5, **OPTIMIZERS[optimizer])
        result = train(model, ds.X_train, ds.y_train, config, ds.X_test, ds.y_test)
        assert result.status == "ok"
        histories.append(result.history)
    h_fast, h_slow = histories
    assert list(h_fast["step"]) == list(h_slow["step"])
    assert list(h_fast["s"]) == list(h_slow["s"])
    np.testing.assert_allclose(h_fast["train_loss"], h_slow["train_loss"], rtol=1e-10, atol=0)
    np.testing.assert_allclose(h_fast["test_loss"], h_slow["test_loss"], rtol=1e-10, atol=0)
    # training did something (the comparison is not between two flat curves)
    assert h_fast["train_loss"].iloc[-1] < 0.8 * h_fast["train_loss"].iloc[0]
    for p, q in zip(fast.parameters(), slow.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("frozen", [0, 1])
def test_frozen_hidden_weight_trains_through_autograd(frozen):
    """Reference: autograd (hrta.train's fallback when a hidden weight is frozen); the frozen weight is
    bitwise unchanged, the others move, and the loss falls."""
    ds = make_dataset("sin1d", n_train=50, seed=0)
    net = DeepNet(ds.d, (12, 10), s=1.5, seed=1, dtype="float64")
    net.weights[frozen].requires_grad_(False)
    assert _loss_and_grads_fn(net).__name__ == "generic"
    before = [p.detach().clone() for p in net.parameters()]
    frozen_before = net.weights[frozen].detach().clone()
    config = TrainConfig("1.5x100,1x100", dtype="float64", log_every=10, optimizer="gd", lr=0.5)
    result = train(net, ds.X_train, ds.y_train, config)
    assert result.status == "ok"
    assert torch.equal(net.weights[frozen], frozen_before)
    moved = [not torch.equal(p, b) for p, b in zip(net.parameters(), before)]
    assert sum(moved) == len(before) - 1
    losses = result.history["train_loss"].to_numpy()
    assert losses[-1] < 0.5 * losses[0]


def test_output_layer_frozen_by_requires_grad_trains():
    """`a` frozen by requires_grad_(False) on a train_output=True net: the hand-written gradients leave it out
    (they follow requires_grad), `a` stays bitwise unchanged and the loss falls."""
    ds = make_dataset("sin1d", n_train=50, seed=0)
    net = DeepNet(ds.d, (12, 10), s=1.5, seed=1, dtype="float64")
    net.a.requires_grad_(False)
    a_before = net.a.detach().clone()
    result = train(net, ds.X_train, ds.y_train, TrainConfig("1x100", dtype="float64", log_every=10, lr=0.5))
    assert torch.equal(net.a, a_before)
    losses = result.history["train_loss"].to_numpy()
    assert losses[-1] < 0.5 * losses[0]
