"""TwoLayerNet / DeepNet: construction, identities, to_relu, hand-written loss and gradient."""

import math

import pytest
import torch

from hrta.bases import base_names
from hrta.models import DeepNet, TwoLayerNet, to_relu

S_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0)


def inputs(n=17, d=3, seed=1, dtype=torch.float64):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_forward_shape_and_formula():
    net = TwoLayerNet(3, 40, s=0.7, dtype="float64")
    X = inputs()
    out = net(X)
    assert out.shape == (17,)
    Z = X @ net.W.T
    expected = ((0.3 * Z + 0.7 * torch.relu(Z)) @ net.a) / math.sqrt(40)
    torch.testing.assert_close(out, expected, rtol=1e-14, atol=1e-14)


def test_seeds_reproducible_and_distinct():
    a, b, c = TwoLayerNet(3, 50, seed=4), TwoLayerNet(3, 50, seed=4), TwoLayerNet(3, 50, seed=5)
    assert torch.equal(a.W, b.W) and torch.equal(a.a, b.a)
    assert not torch.equal(a.W, c.W)
    d1, d2 = DeepNet(3, (20, 10), seed=2), DeepNet(3, (20, 10), seed=2)
    assert all(torch.equal(p, q) for p, q in zip(d1.parameters(), d2.parameters()))


def test_sign_output_init_and_frozen_output():
    net = TwoLayerNet(2, 200, output_init="sign", train_output=False)
    assert set(net.a.tolist()) == {-1.0, 1.0}
    assert not net.a.requires_grad and net.W.requires_grad


@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5, 2.0, -0.7, 3.2])
def test_to_relu_computes_the_same_function(s):
    net = TwoLayerNet(3, 30, s=s, seed=3, dtype="float64")
    relu_net = to_relu(net)
    assert relu_net.s == 1.0 and relu_net.m == 60
    X = inputs(50)
    torch.testing.assert_close(relu_net(X), net(X), rtol=0, atol=1e-12)


def test_to_relu_rejects_other_bases():
    with pytest.raises(ValueError, match="base 'relu'"):
        to_relu(TwoLayerNet(2, 5, base="tanh"))


@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5, 2.0])
def test_odd_part_of_relu_homotopy_net_is_linear(s):
    # σ_s(z) − σ_s(−z) = (2 − s)·z, so f(x) − f(−x) = (2 − s)/√m · (Wᵀa)·x.
    net = TwoLayerNet(3, 64, s=s, seed=7, dtype="float64")
    X = inputs(30)
    with torch.no_grad():
        odd = net(X) - net(-X)
        linear = (2.0 - s) / math.sqrt(64) * (X @ (net.W.T @ net.a))
        torch.testing.assert_close(odd, linear, rtol=0, atol=1e-12)
        x1, x2 = X[:1], X[1:2]
        g = lambda x: net(x) - net(-x)  # noqa: E731
        torch.testing.assert_close(g(2.0 * x1 - 3.0 * x2), 2.0 * g(x1) - 3.0 * g(x2), rtol=0, atol=1e-12)
    # The even part is not linear unless s = 0 (sanity check that the test can fail).
    if s != 0.0:
        with torch.no_grad():
            even = lambda x: net(x) + net(-x)  # noqa: E731
            assert (even(2.0 * x1) - 2.0 * even(x1)).abs().item() < 1e-12  # positively homogeneous
            assert (even(x1 + x2) - even(x1) - even(x2)).abs().item() > 1e-6


@pytest.mark.parametrize("m", [0, -3, 2.5, True, "10"])
def test_bad_width_rejected(m):
    with pytest.raises(ValueError, match="m must be a positive integer"):
        TwoLayerNet(2, m)


def test_bad_widths_for_deepnet_rejected():
    with pytest.raises(ValueError, match=r"widths\[1\] must be a positive integer"):
        DeepNet(2, (5, 0))
    with pytest.raises(ValueError, match="at least one hidden layer"):
        DeepNet(2, ())


def test_bad_constructor_arguments_rejected():
    with pytest.raises(ValueError, match="unknown base activation 'sigmoid'"):
        TwoLayerNet(2, 4, base="sigmoid")
    with pytest.raises(ValueError, match="finite"):
        TwoLayerNet(2, 4, s=float("inf"))
    with pytest.raises(ValueError, match="unknown output_init 'uniform'"):
        TwoLayerNet(2, 4, output_init="uniform")
    with pytest.raises(ValueError, match="unknown dtype 'float16'"):
        TwoLayerNet(2, 4, dtype="float16")
    net = TwoLayerNet(2, 4)
    with pytest.raises(ValueError, match="finite"):
        net.s = float("nan")


@pytest.mark.parametrize("shape", [(5, 3), (5,), (2, 5, 2)])
def test_wrong_shaped_inputs_rejected(shape):
    X = torch.zeros(shape)
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, 2\)"):
        TwoLayerNet(2, 4)(X)
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, 2\)"):
        DeepNet(2, (4,))(X)
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, 2\)"):
        TwoLayerNet(2, 4).loss_and_grad(X, torch.zeros(X.shape[0]))


def test_loss_and_grad_rejects_bad_targets_and_dtype():
    net = TwoLayerNet(2, 4)
    with pytest.raises(ValueError, match=r"targets must have shape \(5,\)"):
        net.loss_and_grad(torch.zeros(5, 2), torch.zeros(5, 1))
    with pytest.raises(ValueError, match="dtype"):
        net.loss_and_grad(torch.zeros(5, 2, dtype=torch.float64), torch.zeros(5, dtype=torch.float64))


def test_deepnet_forward_shape_and_s():
    net = DeepNet(3, (16, 8, 4), s=0.5, dtype="float64")
    assert net(inputs()).shape == (17,)
    assert len(net.weights) == 3 and net.widths == (16, 8, 4)
    net.s = 1.5
    assert net.activation.s == 1.5


def test_deepnet_ntk_scaling_output_variance_is_order_one():
    # |x|² = d gives h_1 ~ N(0, 1); for ReLU E[f²] = E[ReLU(h_2)²]·... = 1/4 exactly, at every width.
    d, n, seeds = 4, 16, 40
    X = inputs(n, d, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True) * math.sqrt(d)
    second_moments = []
    for width in (64, 512):
        with torch.no_grad():
            f = torch.stack([DeepNet(d, (width, width), seed=k, dtype="float64")(X) for k in range(seeds)])
        second_moments.append((f**2).mean().item())
    for value in second_moments:
        assert 0.25 * 0.6 < value < 0.25 * 1.6
    # NTK parameterization: no growth with width (standard parameterization would grow ∝ width).
    assert 0.5 < second_moments[1] / second_moments[0] < 2.0


def test_two_layer_output_variance_order_one():
    X = inputs(16, 3)
    X = X / X.norm(dim=1, keepdim=True) * math.sqrt(3.0)  # |x|² = 3: w·x ~ N(0, 3), E[ReLU²] = 3/2
    with torch.no_grad():
        f = torch.stack([TwoLayerNet(3, 2048, seed=k, dtype="float64")(X) for k in range(40)])
    assert 1.5 * 0.6 < (f**2).mean().item() < 1.5 * 1.6


# ---- hand-written loss and gradient ------------------------------------------------------------


def autograd_loss_and_grad(net, X, y):
    net.zero_grad()
    loss = 0.5 * torch.mean((net(X) - y) ** 2)
    loss.backward()
    return loss.detach(), net.W.grad.clone(), None if net.a.grad is None else net.a.grad.clone()


@pytest.mark.parametrize("train_output", [True, False])
@pytest.mark.parametrize("base", base_names())
@pytest.mark.parametrize("s", S_VALUES)
def test_hand_written_gradient_matches_autograd(s, base, train_output):
    net = TwoLayerNet(3, 37, s=s, base=base, seed=11, train_output=train_output, dtype="float64")
    X = inputs(23)
    y = torch.sin(X[:, 0])
    loss, grad_W, grad_a = net.loss_and_grad(X, y)
    ref_loss, ref_W, ref_a = autograd_loss_and_grad(net, X, y)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(grad_W, ref_W, rtol=1e-12, atol=1e-14)
    if train_output:
        torch.testing.assert_close(grad_a, ref_a, rtol=1e-12, atol=1e-14)
    else:
        assert grad_a is None and ref_a is None


def test_hand_written_gradient_float32_close_to_float64():
    net64 = TwoLayerNet(2, 500, s=1.5, seed=2, dtype="float64")
    net32 = TwoLayerNet(2, 500, s=1.5, seed=2, dtype="float32")
    with torch.no_grad():  # same weights (randn draws differ between dtypes)
        net32.W.copy_(net64.W)
        net32.a.copy_(net64.a)
    X = inputs(40, 2)
    y = torch.cos(X[:, 1])
    loss64, gW64, ga64 = net64.loss_and_grad(X, y)
    loss32, gW32, ga32 = net32.loss_and_grad(X.float(), y.float())
    torch.testing.assert_close(loss32.double(), loss64, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(gW32.double(), gW64, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(ga32.double(), ga64, rtol=1e-4, atol=1e-6)


def test_buffers_are_reused_per_batch_size_and_s_changes_take_effect():
    net = TwoLayerNet(3, 20, s=0.5, seed=1, dtype="float64")
    X, y = inputs(10), torch.zeros(10, dtype=torch.float64)
    _, gW1, _ = net.loss_and_grad(X, y)
    ptr = gW1.data_ptr()
    net.s = 1.5
    _, gW2, ga2 = net.loss_and_grad(X, y)
    assert gW2.data_ptr() == ptr  # same buffer, overwritten
    _, ref_W, ref_a = autograd_loss_and_grad(net, X, y)
    torch.testing.assert_close(gW2, ref_W, rtol=1e-12, atol=1e-14)
    # A different batch size gets its own buffers and the right answer.
    _, gW3, _ = net.loss_and_grad(X[:4], y[:4])
    assert gW3.data_ptr() != ptr
    _, ref_W3, _ = autograd_loss_and_grad(net, X[:4], y[:4])
    torch.testing.assert_close(gW3, ref_W3, rtol=1e-12, atol=1e-14)


def test_relu_gradient_at_exact_kink_uses_zero_derivative():
    # Inputs with w·x = 0 exactly: ReLU'(0) = 0 convention, same as autograd's.
    net = TwoLayerNet(2, 6, s=1.0, seed=0, dtype="float64")
    with torch.no_grad():
        net.W[:, 1] = 0.0
    X = torch.tensor([[0.0, 1.0], [0.0, -2.0], [1.0, 0.5]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    _, gW, ga = net.loss_and_grad(X, y)
    _, ref_W, ref_a = autograd_loss_and_grad(net, X, y)
    torch.testing.assert_close(gW, ref_W, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(ga, ref_a, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("train_output", [True, False])
@pytest.mark.parametrize("block_cols", [1, 7, 36, 37])
def test_relu_gradient_with_column_blocks_matches_autograd(block_cols, train_output):
    # The ReLU path processes W in column blocks (last one partial unless it divides m = 37).
    net = TwoLayerNet(3, 37, s=1.5, seed=5, train_output=train_output, dtype="float64")
    n = 19
    net.fast_block_bytes = n * 8 * block_cols
    X, y = inputs(n), torch.cos(inputs(n)[:, 1])
    loss, grad_W, grad_a = net.loss_and_grad(X, y)
    ((_, _, _, cols),) = net._fast_buffer_cache.keys()
    assert cols == block_cols
    ref_loss, ref_W, ref_a = autograd_loss_and_grad(net, X, y)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(grad_W, ref_W, rtol=1e-12, atol=1e-14)
    if train_output:
        torch.testing.assert_close(grad_a, ref_a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("base", base_names())
def test_loss_only_matches_forward(base):
    net = TwoLayerNet(3, 41, s=0.5, base=base, seed=2, dtype="float64")
    net.fast_block_bytes = 13 * 8 * 10  # several blocks for relu
    X, y = inputs(13), torch.sin(inputs(13)[:, 2])
    loss, grad_W, grad_a = net.loss_and_grad(X, y, grad=False)
    assert grad_W is None and grad_a is None
    with torch.no_grad():
        expected = 0.5 * torch.mean((net(X) - y) ** 2)
    torch.testing.assert_close(loss, expected, rtol=1e-13, atol=1e-15)


def test_deepnet_functional_call_jacobian_reaches_every_layer():
    """torch.func through functional_call must see every weight matrix, not only the first."""
    from torch.func import functional_call, jacrev

    net = DeepNet(3, [7, 5, 4], s=1.5, seed=2, dtype="float64")
    X = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    params = {k: v.detach() for k, v in net.named_parameters()}
    jac = jacrev(lambda p: functional_call(net, p, (X,)))(params)
    for name, p in net.named_parameters():
        expected = torch.stack([torch.autograd.grad(net(X)[i], p)[0] for i in range(X.shape[0])])
        assert jac[name].abs().max() > 0, name
        torch.testing.assert_close(jac[name], expected, rtol=1e-12, atol=1e-12)


def test_loss_and_grad_rejects_data_on_another_device():
    net = TwoLayerNet(2, 8, dtype="float64")
    X = torch.zeros(3, 2, dtype=torch.float64, device="meta")
    y = torch.zeros(3, dtype=torch.float64, device="meta")
    with pytest.raises(ValueError, match="model's device"):
        net.loss_and_grad(X, y)
