"""The to_relu export check near a perfect fit (the λ_min regime reaches L ≈ 1e-14): a correct export passes,
a wrong one (output weights off by 1e-8; 1e-6 for a float32 network) is refused. Reference: the σ_s network's own forward pass."""

import pytest
import torch

import hrta.models as M
from hrta.data import make_dataset


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_correct_export_passes_at_a_near_zero_loss(dtype):
    ds = make_dataset("sin1d", n_train=30, n_test=0, seed=3)
    net = M.TwoLayerNet(ds.d, 256, s=1.5, seed=1, dtype=dtype)
    with torch.no_grad():
        y = net(torch.as_tensor(ds.X_train, dtype=net.W.dtype)).double().reshape(-1).numpy() + 3e-7
    with torch.no_grad():
        f = M.as_float64(net)(torch.as_tensor(ds.X_train, dtype=torch.float64)).reshape(-1).numpy()
    assert 0.5 * ((f - y) ** 2).mean() < 1e-13  # a near-perfect fit, where a loss-relative check breaks
    assert M.export_loss_check(net, ds.X_train, y) <= M.EXPORT_RTOL


@pytest.mark.parametrize(
    ("dtype", "width", "error"),
    [("float64", 256, 1e-8), ("float32", 64, 1e-6)],
    ids=["float64-near-a-perfect-fit", "float32-checked-in-float64"],
)
def test_a_wrong_export_is_refused(monkeypatch, dtype, width, error):
    """A float32-trained network is checked in float64 (weights cast exactly), so a correct export holds to
    rounding; output weights off by ``error`` are refused."""
    ds = make_dataset("sin1d", n_train=30, n_test=0, seed=3)
    net = M.TwoLayerNet(ds.d, width, s=1.5, seed=1, dtype=dtype)
    assert M.export_loss_check(net, ds.X_train, ds.y_train) <= M.EXPORT_RTOL
    exact = M.to_relu

    def off_by(model):
        relu = exact(model)
        with torch.no_grad():
            relu.a.mul_(1 + error)
        return relu

    monkeypatch.setattr(M, "to_relu", off_by)
    with pytest.raises(ValueError, match="relative difference"):
        M.export_loss_check(net, ds.X_train, ds.y_train)
