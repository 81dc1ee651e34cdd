"""output_init "antisymmetric" (issue 24, point 11): units in pairs (w_k, a_k), (w_k, −a_k), so f_0 ≡ 0 for every s.

References used here, each independent of the code under test: the per-unit terms a_k σ_s(w_k·x) written out with
torch.relu; the pairwise gradient and NTK formulas written out with einsum; autograd's Jacobian (jacobian_ntk); the
width-m/2 gaussian network of the same seed; scipy's quadrature for E σ_s(z)²."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
import torch

from hrta import models
from hrta.models import EXPORT_RTOL, TwoLayerNet, export_loss_check, to_relu
from hrta.ntk import empirical_ntk, jacobian_ntk
from hrta.pipeline import config_schema
from hrta.schedules import parse_schedule
from hrta.train import TrainConfig, train

S_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0)


def inputs(n=23, d=3, seed=1, dtype=torch.float64):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def sigma(Z, s):
    return (1 - s) * Z + s * torch.relu(Z)


def sigma_prime(Z, s):
    return (1 - s) + s * (Z > 0).to(Z.dtype)


def antisymmetric(m=40, d=3, s=1.0, seed=5, dtype="float64", **kw):
    return TwoLayerNet(d, m, s=s, seed=seed, output_init="antisymmetric", dtype=dtype, **kw)


def test_layout_is_the_half_width_gaussian_network_mirrored():
    """Units k and k + m/2: the same input weights, opposite output weights; the first half is the width-m/2
    gaussian network of the same seed, weight for weight."""
    net, half = antisymmetric(40), TwoLayerNet(3, 20, seed=5, dtype="float64")
    assert torch.equal(net.W[:20], half.W) and torch.equal(net.W[20:], half.W)
    assert torch.equal(net.a[:20], half.a) and torch.equal(net.a[20:], -half.a)
    assert net.output_init == "antisymmetric" and net.a.requires_grad


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("s", S_VALUES)
def test_initial_function_is_zero_for_every_s(s, dtype):
    """f_0 = 0 exactly when each pair is evaluated alike: the weights pair bitwise (w equal, a opposite), so the two
    halves' terms a_k σ_s(w_k·x), each half computed by the same product, are exact negatives and every pair sums
    to exactly 0. The network's own forward (one GEMM over all m columns, whose rounding may differ by column) is
    0 up to its rounding, ≤ m·eps·(1/√m) Σ_k |a_k σ_s(w_k·x)|; the hand-written loss at y = 0 is that squared."""
    m, X = 400, inputs(dtype=getattr(torch, dtype))
    net = antisymmetric(m, s=s, dtype=dtype)
    h = m // 2
    with torch.no_grad():
        first, second = sigma(X @ net.W[:h].T, s) * net.a[:h], sigma(X @ net.W[h:].T, s) * net.a[h:]
        assert torch.equal(first, -second)
        assert torch.equal((first + second).sum(1), torch.zeros(X.shape[0], dtype=X.dtype))
        f0 = net(X)
        terms = (first.abs().sum(1) + second.abs().sum(1)) / math.sqrt(m)
        bound = m * torch.finfo(X.dtype).eps * terms
        assert bool((f0.abs() <= bound).all()), (f0.abs().max(), bound.min())
        assert float(f0.abs().max()) <= 1e-3 * float(terms.min())  # far below a gaussian network's (next test)
        loss, _, _ = net.loss_and_grad(X, torch.zeros(X.shape[0], dtype=X.dtype), grad=False)
    assert float(loss) <= 0.5 * float(bound.max()) ** 2


def test_a_gaussian_network_does_not_start_at_zero():
    with torch.no_grad():
        assert float(TwoLayerNet(3, 400, s=0.5, seed=5, dtype="float64")(inputs()).abs().max()) > 1e-2


@pytest.mark.parametrize("s", [0.5, 1.0, 1.5])
def test_gradient_at_init_is_the_pairwise_formula(s):
    """r = f_0 − y = −y; per pair k (k ≤ m/2): ∂L/∂a_k = ∂L/∂a_{k+m/2} = (1/(n√m)) Σ_i r_i σ_s(w_k·x_i) and
    ∂L/∂w_k = −∂L/∂w_{k+m/2} = (a_k/(n√m)) Σ_i r_i σ_s'(w_k·x_i) x_i."""
    m, X = 60, inputs()
    y = torch.sin(3 * X[:, 0])
    net = antisymmetric(m, s=s)
    _, gW, ga = net.loss_and_grad(X, y)
    h, n = m // 2, X.shape[0]
    W, a, r = net.W[:h].detach(), net.a[:h].detach(), -y
    Z = X @ W.T
    ga_ref = torch.einsum("i,ik->k", r, sigma(Z, s)) / (n * math.sqrt(m))
    gW_ref = torch.einsum("i,ik,id->kd", r, sigma_prime(Z, s), X) * a[:, None] / (n * math.sqrt(m))
    torch.testing.assert_close(ga[:h], ga_ref, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(ga[h:], ga_ref, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(gW[:h], gW_ref, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(gW[h:], -gW_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("s", [0.5, 1.0, 1.5])
def test_ntk_at_init_is_the_pairwise_formula(s):
    """Θ_0(x, x') = (2/m) Σ_{k ≤ m/2} [σ_s(w_k·x)σ_s(w_k·x') + a_k² σ_s'(w_k·x)σ_s'(w_k·x') x·x']: autograd's
    Jacobian kernel, the fast empirical NTK and the width-m/2 gaussian network's NTK all equal it."""
    m, X = 80, inputs()
    net = antisymmetric(m, s=s)
    h = m // 2
    W, a = net.W[:h].detach(), net.a[:h].detach()
    Z = X @ W.T
    S, D = sigma(Z, s), sigma_prime(Z, s)
    ref = (2.0 / m) * (S @ S.T + ((D * a**2) @ D.T) * (X @ X.T))
    with torch.no_grad():
        fast = empirical_ntk(net, X)
    torch.testing.assert_close(jacobian_ntk(net, X), ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        torch.testing.assert_close(empirical_ntk(TwoLayerNet(3, h, s=s, seed=5, dtype="float64"), X), ref)


@pytest.mark.parametrize("s", [0.0, 0.5, 1.5, 2.0])
def test_export_to_a_width_2m_relu_network_still_matches(s):
    """At init the exported ReLU network computes 0 too (to the terms' rounding), and export_loss_check accepts it
    (its scale floor: the outputs cancel); after 50 GD steps at s the two networks agree to 1e-12 and the check
    returns the same small ratio as before issue 24's floor (the outputs have a scale of their own)."""
    m, X = 64, inputs(40)
    y = torch.sin(3 * X[:, 0])
    net = antisymmetric(m, s=s)
    relu_net = to_relu(net)
    assert relu_net.m == 2 * m and relu_net.s == 1.0
    with torch.no_grad():
        terms = (sigma(X @ net.W.T, s) * net.a).abs().sum(1) / math.sqrt(m)
        assert bool(((relu_net(X) - net(X)).abs() <= 1e-13 * terms).all())
    assert export_loss_check(net, X, y) <= EXPORT_RTOL
    result = train(net, X, y, TrainConfig(parse_schedule(f"{s}x50"), lr=0.5, dtype="float64"))
    assert result.status == "ok"
    with torch.no_grad():
        assert float(net(X).abs().max()) > 1e-3
        torch.testing.assert_close(to_relu(net)(X), net(X), rtol=0, atol=1e-12)
    assert export_loss_check(net, X, y) <= EXPORT_RTOL


def test_export_check_still_refuses_a_real_mismatch(monkeypatch):
    """The floor does not hide a broken export: a ReLU network off by 1e-6 of the output scale is refused."""
    net = antisymmetric(64, s=0.5)
    X = inputs(40)
    train(net, X, torch.sin(3 * X[:, 0]), TrainConfig(parse_schedule("0.5x20"), lr=0.5, dtype="float64"))
    real = models.to_relu

    def broken(model):
        out = real(model)
        with torch.no_grad():
            out.a.mul_(1 + 1e-6)
        return out

    monkeypatch.setattr(models, "to_relu", broken)
    with pytest.raises(ValueError, match="outputs differ"):
        export_loss_check(net, X, None)


@pytest.mark.parametrize("m", [1, 3, 101])
def test_odd_width_is_refused_naming_the_init(m):
    with pytest.raises(ValueError, match=r"output_init 'antisymmetric' pairs unit k with unit k \+ m/2.*m = " + str(m)):
        antisymmetric(m)


def test_float32_and_frozen_output_layer():
    net = antisymmetric(50, dtype="float32", train_output=False)
    assert net.W.dtype == torch.float32 and not net.a.requires_grad
    assert torch.equal(net.a[:25], -net.a[25:])


def test_validation_knows_the_same_paired_inits_as_the_models():
    """hrta.pipeline.config_schema keeps its own copy (torch-free validation)."""
    assert config_schema.PAIRED_OUTPUT_INITS == models.PAIRED_OUTPUT_INITS
    assert set(models.PAIRED_OUTPUT_INITS) <= set(models.OUTPUT_INITS)
    schema = config_schema.config_schema()
    assert schema["$defs"]["model"]["properties"]["output_init"]["enum"] == list(models.OUTPUT_INITS)
    assert schema["$defs"]["sweep_model"]["properties"]["output_init"]["enum"] == list(models.OUTPUT_INITS)


@pytest.mark.parametrize("s", [0.5, 1.0, 1.5])
def test_gaussian_init_output_variance_motivating_the_paired_init(s):
    """E σ_s(z)² for z ~ N(0, 1) = (1 − s)² + s(1 − s) + s²/2 (scipy quadrature): 0.625 at s = 0.5 and 1.5, 0.5 at
    s = 1 (config/config.yaml e3_equal_init: HRTA starts from a 25 % larger initial output variance)."""
    value, _ = scipy.integrate.quad(
        lambda z: ((1 - s) * z + s * max(z, 0.0)) ** 2 * scipy.stats.norm.pdf(z), -np.inf, np.inf
    )
    assert value == pytest.approx((1 - s) ** 2 + s * (1 - s) + s**2 / 2, rel=1e-9)
    assert value == pytest.approx({0.5: 0.625, 1.0: 0.5, 1.5: 0.625}[s], rel=1e-9)
