"""hrta.ntk.deep: the infinite-width NNGP/NTK of DeepNet and its exact finite-width NTK, each against an
independent reference (named in every test)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import hrta.ntk as ntk
from hrta.models import DeepNet
from hrta.ntk import (
    analytic_ntk,
    deep_analytic_ntk,
    deep_analytic_ntks,
    deep_empirical_ntk,
    empirical_ntk,
    jacobian_ntk,
    relative_kernel_error,
)

mpmath = pytest.importorskip("mpmath")  # ships with sympy, a torch dependency


def _points(n=6, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X[1] = -0.7 * X[0]  # antiparallel pair
    X[2] = X[0] * (1 + 1e-12) + 1e-9  # nearly parallel pair (angle ~1e-9)
    return X


def test_reexported_from_hrta_ntk():
    assert ntk.deep_analytic_ntk is deep_analytic_ntk


@pytest.mark.parametrize("base", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5, 2.0])
def test_depth_one_is_the_two_layer_kernel_of_x_over_sqrt_d(base, s):
    """Reference: hrta.ntk.analytic_ntk (DeepNet with one hidden layer is TwoLayerNet on X/√d)."""
    X = _points()
    K = deep_analytic_ntk(X, s, 1, base)
    K2 = analytic_ntk(X / math.sqrt(X.shape[1]), s, base=base)
    assert torch.allclose(K, K2, rtol=1e-13, atol=1e-14 * K2.abs().max().item())


@pytest.mark.parametrize("base", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_s_zero_is_the_linear_network_kernel(base, depth):
    """Reference: closed form for σ_0 = identity, NNGP = XXᵀ/d and NTK = (L + 1)·XXᵀ/d."""
    X = _points()
    gram = X @ X.T / X.shape[1]
    scale = gram.abs().max().item()
    assert torch.allclose(deep_analytic_ntk(X, 0.0, depth, base, "nngp"), gram, atol=1e-14 * scale, rtol=0)
    assert torch.allclose(
        deep_analytic_ntk(X, 0.0, depth, base), (depth + 1) * gram, atol=1e-14 * scale * depth, rtol=0
    )


def _mp_recursion(X, s, depth, kernel):
    """The recursion at 40 digits with the arccos form of the module docstring (no stable angles)."""
    mp = mpmath.mp
    mp.dps = 40
    s = mp.mpf(s)
    c_lin, c_abs = (1 - s / 2) ** 2, (s / 2) ** 2
    rows = [[mp.mpf(float(v)) for v in x] for x in X]
    n, d = len(rows), len(rows[0])
    sig = [[mp.fsum(a * b for a, b in zip(rows[i], rows[j])) / d for j in range(n)] for i in range(n)]
    theta_k = [r[:] for r in sig]
    for _ in range(depth):
        new, dot = [[None] * n for _ in range(n)], [[None] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                norm = mp.sqrt(sig[i][i] * sig[j][j])
                c = max(min(sig[i][j] / norm, mp.mpf(1)), mp.mpf(-1))
                t = mp.acos(c)
                new[i][j] = norm * (c_lin * c + c_abs * (2 / mp.pi) * (mp.sin(t) + (mp.pi / 2 - t) * c))
                dot[i][j] = c_lin + c_abs * (1 - 2 * t / mp.pi)
        theta_k = [[new[i][j] + theta_k[i][j] * dot[i][j] for j in range(n)] for i in range(n)]
        sig = new
    out = theta_k if kernel == "ntk" else sig
    return np.array([[float(v) for v in r] for r in out])


@pytest.mark.parametrize("s", [0.5, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("depth", [1, 3, 5])
@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_relu_matches_a_40_digit_mpmath_recursion(s, depth, kernel):
    """Reference: mpmath at 40 digits. The error is measured relative to √(K_ii K_jj), the scale of
    each entry; nearly parallel and antiparallel pairs are included, where an arccos of a float64
    cosine would be ~1e-8 off."""
    X = _points()
    ref = _mp_recursion(X.tolist(), s, depth, kernel)
    K = deep_analytic_ntk(X, s, depth, kernel=kernel).numpy()
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.max(np.abs(K - ref) / scale) < 1e-14


def test_the_mpmath_check_detects_an_unstable_angle():
    """The test above can fail: the same recursion in float64 with arccos misses by far more than 1e-14."""
    X = _points()
    ref = _mp_recursion(X.tolist(), 1.0, 3, "ntk")
    c_lin = c_abs = 0.25
    sig = (X @ X.T / 3).numpy()
    th = sig.copy()
    for _ in range(3):
        norm = np.sqrt(np.outer(np.diag(sig), np.diag(sig)))
        c = np.clip(sig / norm, -1, 1)
        t = np.arccos(c)
        new = norm * (c_lin * c + c_abs * (2 / np.pi) * (np.sin(t) + (np.pi / 2 - t) * c))
        th = new + th * (c_lin + c_abs * (1 - 2 * t / np.pi))
        sig = new
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.max(np.abs(th - ref) / scale) > 1e-10


@pytest.mark.parametrize(
    ("depth", "s", "base"), [(1, 1.5, "relu"), (2, 1.5, "relu"), (3, 0.5, "relu"), (2, 1.0, "tanh"), (2, 0.5, "gelu")]
)
def test_monte_carlo_mean_of_empirical_kernels(depth, s, base):
    """Reference: the mean of hrta.ntk.empirical_ntk(DeepNet) (autograd Jacobians) over 32 seeds. At each
    width each of the 10 distinct entries of the mean is within 5 standard errors of K_∞ (t with 31 degrees
    of freedom: P(|t| > 5) ≈ 2e-5 per entry if the mean is unbiased; the O(1/m) finite-width bias is a
    fraction of one SE at these widths),
    and the single-seed error shrinks with width (MC rate m^{-1/2}: ×0.5 from m = 128 to 512)."""
    X = _points(n=6, d=3, seed=1)[[0, 3, 4, 5]]
    K = deep_analytic_ntk(X, s, depth, base)
    seeds = range(32)
    errors = {}
    for m in (128, 512):
        Ks = torch.stack(
            [empirical_ntk(DeepNet(3, [m] * depth, s=s, base=base, seed=seed, dtype="float64"), X) for seed in seeds]
        )
        se = Ks.std(0) / math.sqrt(len(seeds))
        z = (Ks.mean(0) - K) / se
        assert z.abs().max() < 5.0, (m, z)
        errors[m] = np.mean([relative_kernel_error(k, K) for k in Ks])
    assert errors[512] < 0.75 * errors[128], errors


@pytest.mark.parametrize("train_output", [True, False])
@pytest.mark.parametrize(("base", "s"), [("relu", 1.5), ("tanh", 0.7), ("gelu", 1.2)])
def test_deep_empirical_ntk_equals_the_jacobian_kernel(base, s, train_output):
    """Reference: hrta.ntk.jacobian_ntk (J·Jᵀ from batched autograd Jacobians)."""
    X = _points()
    net = DeepNet(3, [20, 15, 10], s=s, base=base, seed=3, train_output=train_output, dtype="float64")
    K, J = deep_empirical_ntk(net, X), jacobian_ntk(net, X)
    assert torch.allclose(K, J, rtol=1e-12, atol=1e-13 * J.abs().max().item())


def test_deep_empirical_ntk_respects_frozen_layers():
    """Reference: jacobian_ntk, which uses exactly the parameters with requires_grad."""
    X = _points()
    net = DeepNet(3, [12, 9], s=1.0, seed=0, dtype="float64")
    net.weights[0].requires_grad_(False)
    assert torch.allclose(deep_empirical_ntk(net, X), jacobian_ntk(net, X), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("base", "tol"), [("tanh", 1e-10), ("gelu", 1e-14)])
def test_quadrature_accuracy_stated_in_the_docstring(base, tol):
    """Reference: the same recursion with 200 Gauss–Hermite nodes; the default (96) meets the
    docstring's measured accuracy (measured there on 12 points and depths 1/3/5; re-measured here on 6
    points, |x| ∈ [0.3, 1.5], depths 1 and 5, s ∈ {0.5, 1.5}, to keep the test short)."""
    g = torch.Generator().manual_seed(1)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True) * torch.empty(6, 1, dtype=torch.float64).uniform_(0.3, 1.5, generator=g)
    for depth in (1, 5):
        for s in (0.5, 1.5):
            ref = deep_analytic_ntk(X, s, depth, base, nodes=200)
            err = ((deep_analytic_ntk(X, s, depth, base) - ref).abs().max() / ref.abs().max()).item()
            assert err < tol, (depth, s, err)


@pytest.mark.parametrize("base", ["relu", "tanh"])
def test_row_chunking_does_not_change_the_result(base, monkeypatch):
    """Reference: the same call with one row block (the default for n = 30) vs one row per block (equal to
    rounding: vectorized and scalar transcendental functions may differ in the last bit)."""
    X = torch.randn(30, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    whole = deep_analytic_ntk(X, 1.5, 3, base, nodes=16)
    monkeypatch.setattr(ntk._dual, "_PAIR_BLOCK_ELEMENTS", 1)
    chunked = deep_analytic_ntk(X, 1.5, 3, base, nodes=16)
    assert torch.allclose(whole, chunked, rtol=0, atol=1e-15 * whole.abs().max().item())


def test_kernel_is_symmetric_psd_and_keeps_float32():
    X = torch.randn(40, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    K = deep_analytic_ntk(X, 1.3, 4)
    assert torch.equal(K, K.T)
    assert torch.linalg.eigvalsh(K).min() > -1e-12 * K.abs().max()
    assert deep_analytic_ntk(X.float(), 1.3, 4).dtype == torch.float32


def test_zero_rows_give_zero_kernel_rows():
    X = torch.randn(5, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    X[2] = 0
    for base in ("relu", "gelu"):
        K = deep_analytic_ntk(X, 1.5, 3, base)
        assert torch.isfinite(K).all() and K[2].abs().max() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"depth": 0}, "depth"),
        ({"depth": 2.0}, "depth"),
        ({"depth": 2, "kernel": "gp"}, "kernel"),
        ({"depth": 2, "base": "sigmoid"}, "base"),
        ({"depth": 2, "s": float("nan")}, "s"),
        ({"depth": 2, "base": "tanh", "nodes": 1}, "nodes"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    X = torch.ones(3, 2, dtype=torch.float64)
    kwargs = {"s": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        deep_analytic_ntk(X, **kwargs)


@pytest.mark.parametrize("base", ["relu", "gelu"])
def test_all_depths_in_one_pass_equal_separate_calls(base):
    """Reference: one deep_analytic_ntk call per depth."""
    X = _points()
    many = deep_analytic_ntks(X, 1.5, [3, 1, 5], base, nodes=24)
    assert sorted(many) == [1, 3, 5]
    for L, K in many.items():
        assert torch.equal(K, deep_analytic_ntk(X, 1.5, L, base, nodes=24))
    with pytest.raises(ValueError, match="depths"):
        deep_analytic_ntks(X, 1.0, [])
