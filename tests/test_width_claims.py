"""Claims 1–3 machinery: the chunked every-s empirical kernel (hrta.ntk.relu_kernel_grams), the
cross-s kernels, the lazy (linearized-at-θ₀) loss curve through s switches, and the rules of
hrta.claims.width on synthetic data with known answers. Each number is checked against an
independent computation named in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hrta import claims as C
from hrta.models import TwoLayerNet
from hrta.ntk import (
    analytic_cross_ntk,
    analytic_ntk,
    jacobian_ntk,
    predict_lazy_loss_curve,
    predict_loss_curve,
    relu_analytic_ntks,
    relu_kernel_grams,
    two_layer_ntk,
)
from hrta.pipeline.memory import e2_empirical_job_mb, relu_grams_mb


def _inputs(n=12, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X[:, -1] = 1.0  # a constant feature, as the data sets have
    return X


def _jacobian(net, X, s):
    """Rows ∂f_s(x_i)/∂θ over (W, a) by plain autograd, one output at a time (reference)."""
    net.s = s
    out = net(X)
    rows = []
    for i in range(out.shape[0]):
        gW, ga = torch.autograd.grad(out[i], [net.W, net.a], retain_graph=True)
        rows.append(torch.cat([gW.reshape(-1), ga]))
    return torch.stack(rows).detach()


@pytest.mark.parametrize("layers", ["both", "first"])
def test_grams_kernel_equals_two_layer_ntk_and_autograd(layers):
    X = _inputs()
    net = TwoLayerNet(3, 700, seed=3, dtype="float64", train_output=(layers == "both"))
    grams = relu_kernel_grams(X, net.W, net.a, chunk=128)  # several chunks, the last one partial
    for s in (0.0, 0.3, 1.0, 1.5, 2.0):
        net.s = s
        ref = two_layer_ntk(net, X)  # reference 1: the per-s closed form of hrta.ntk
        ref2 = jacobian_ntk(net, X)  # reference 2: J Jᵀ from batched autograd
        K = grams.kernel(s, layers)
        assert torch.allclose(K, ref, rtol=1e-12, atol=1e-12 * ref.abs().max())
        assert torch.allclose(K, ref2, rtol=1e-10, atol=1e-10 * ref.abs().max())


def test_cross_kernel_equals_autograd_jacobians():
    X = _inputs(n=8)
    net = TwoLayerNet(3, 300, seed=1, dtype="float64")
    grams = relu_kernel_grams(X, net.W, net.a, chunk=64)
    J05, J15 = _jacobian(net, X, 0.5), _jacobian(net, X, 1.5)  # reference: J_s J_tᵀ by autograd
    K = grams.kernel(0.5, "both", t=1.5)
    assert torch.allclose(K, J05 @ J15.T, rtol=1e-12, atol=1e-12)
    assert torch.allclose(grams.kernel(1.5, "both", t=0.5), K.T, rtol=0, atol=1e-14)


def test_chunked_kernel_at_a_million_equals_unchunked_pieces():
    """m = 10⁶ in chunks of 2048 equals the width-weighted mean of four unchunked kernels (one GEMM
    each) of the networks made of the same draws' four quarters, m = 250 000 each."""
    X = _inputs(n=10, d=2)
    m = 1_000_000
    net = TwoLayerNet(2, m, seed=0, dtype="float64")
    chunked = relu_kernel_grams(X, net.W, net.a)
    quarters = [
        relu_kernel_grams(X, net.W[i : i + m // 4], net.a[i : i + m // 4], chunk=None) for i in range(0, m, m // 4)
    ]
    for s, layers in [(0.5, "both"), (1.0, "first"), (1.7, "both")]:
        K = chunked.kernel(s, layers)
        ref = sum(q.kernel(s, layers) for q in quarters) / 4
        assert torch.allclose(K, ref, rtol=1e-10, atol=1e-12 * ref.abs().max())
    # and it is the width-10⁶ network's NTK by the independent per-s code path
    net.s = 1.3
    assert torch.allclose(chunked.kernel(1.3), two_layer_ntk(net, X), rtol=1e-10, atol=1e-12)


def test_relu_grams_memory_estimate_is_flat_in_width():
    small = relu_grams_mb(100, 10_000, 2)
    big = relu_grams_mb(100, 1_000_000, 2)
    # only the weights grow with m: 8·m·(d + 1) bytes
    assert big - small == pytest.approx(8 * (1_000_000 - 10_000) * 3 / 2**20, rel=1e-9)
    assert e2_empirical_job_mb(n=200, d=3, width=10**7, base="relu", layers=["both"], dtype="float64") < 1024


def test_analytic_cross_kernel():
    X = _inputs(n=9)
    for layers in ("both", "first"):
        assert torch.allclose(analytic_cross_ntk(X, 1.3, 1.3, layers), analytic_ntk(X, 1.3, layers), atol=1e-14)
    # reference: a width-400 000 network's own cross kernel (Monte Carlo, error ~ m^{-1/2})
    net = TwoLayerNet(3, 400_000, seed=5, dtype="float64")
    grams = relu_kernel_grams(X, net.W, net.a)
    for s, t in [(0.5, 1.5), (0.2, 1.0), (1.0, 1.8)]:
        A, E = analytic_cross_ntk(X, s, t), grams.kernel(s, "both", t=t)
        assert float(torch.linalg.norm(A - E) / torch.linalg.norm(A)) < 0.02
    # σ_0 is odd and σ_2 = |z| even: their cross kernel vanishes
    assert float(analytic_cross_ntk(X, 0.0, 2.0).abs().max()) < 1e-14


def test_relu_analytic_ntks_equal_analytic_ntk():
    """The shared-angle loop of claim 1 gives analytic_ntk bit for bit (reference: analytic_ntk per s)."""
    X = _inputs(n=15)
    grid = [0.0, 0.01, 0.5, 1.0, 1.99, 2.0]
    for layers in ("both", "first"):
        for s, K in relu_analytic_ntks(X, grid, layers):
            assert torch.equal(K, analytic_ntk(X, s, layers))


def test_lazy_curve_matches_linearized_gd_in_parameter_space():
    """Reference: GD on θ with the residual r = f_s(θ₀) − y + J_s(θ₀)(θ − θ₀), Jacobians by autograd."""
    X = _inputs(n=10)
    y = torch.sin(X[:, 0])
    n = X.shape[0]
    net = TwoLayerNet(3, 200, seed=2, dtype="float64")
    grams = relu_kernel_grams(X, net.W, net.a)
    stages = [(0.5, 30), (1.0, 20), (1.5, 10)]

    def residual0(s):
        net.s = s
        with torch.no_grad():
            return (net(X) - y).numpy()

    curve, starts = predict_lazy_loss_curve(lambda s, t: grams.kernel(s, "both", t=t), residual0, stages, 0.7)
    J = {s: _jacobian(net, X, s) for s, _ in stages}
    dtheta = torch.zeros(J[0.5].shape[1], dtype=torch.float64)
    losses = []
    for s, steps in stages:
        for _ in range(steps):
            r = torch.as_tensor(residual0(s)) + J[s] @ dtheta
            losses.append(float(r.square().sum() / (2 * n)))
            dtheta = dtheta - 0.7 / n * (J[s].T @ r)
    r = torch.as_tensor(residual0(1.5)) + J[1.5] @ dtheta
    losses.append(float(r.square().sum() / (2 * n)))
    assert len(curve) == 61
    np.testing.assert_allclose(curve, losses, rtol=1e-10)
    # one stage = predict_loss_curve
    one, _ = predict_lazy_loss_curve(lambda s, t: grams.kernel(s, "both", t=t), residual0, [(1.0, 25)], 0.7)
    np.testing.assert_allclose(one, predict_loss_curve(grams.kernel(1.0), residual0(1.0), 0.7, 25), rtol=1e-12)
    assert len(starts) == 3


# ---- rules ----------------------------------------------------------------------------------------


def _widths(seeds=5):
    return np.repeat([1e2, 1e3, 1e4, 1e5, 1e6], seeds)


def test_slope_rule_known_answers():
    rng = np.random.default_rng(0)
    w = _widths()
    half = 0.3 * w**-0.5 * np.exp(0.05 * rng.standard_normal(w.size))
    v = C.verdict_slope_below_zero(w, half)
    assert v.label == C.SUPPORTED and "contains -0.5" in v.numbers
    fit = C.slope_fit(w, half)
    assert fit.slope == pytest.approx(-0.5, abs=0.02)  # least squares recovers the exponent
    steep = 0.3 / w * np.exp(0.05 * rng.standard_normal(w.size))
    v = C.verdict_slope_below_zero(w, steep)
    assert v.label == C.SUPPORTED and "excludes -0.5" in v.numbers
    flat = np.exp(0.5 * rng.standard_normal(w.size))
    assert C.verdict_slope_below_zero(w, flat).label == C.INCONCLUSIVE
    assert C.verdict_slope_below_zero(w, w**0.3).label == C.NOT_SUPPORTED
    assert C.verdict_slope_below_zero(w[:2], half[:2]).label == C.INCONCLUSIVE
    assert C.verdict_slope_below_zero(w, np.where(w > 1e5, 0.0, half)).label == C.INCONCLUSIVE


def test_lazy_horizon_and_ratios_known_answers():
    steps = np.arange(0, 2001, 10)
    pred = np.exp(-steps / 500)
    meas = pred * (1 + 0.001 * steps)  # |ratio − 1| = 0.001·t: ≤ 0.105 up to t = 100, ≤ 0.095 up to t = 90
    assert C.lazy_horizon(steps, meas, pred, 0.105) == (100, False)
    assert C.lazy_horizon(steps, meas, pred, 0.095) == (90, False)
    assert C.lazy_horizon(steps, pred, pred, 0.1) == (2000, True)  # never exceeded: censored at the end
    bumpy = meas.copy()
    bumpy[3] = pred[3] * 2  # one early failure ends the horizon even if later steps agree again
    assert C.lazy_horizon(steps, bumpy, pred, 0.105) == (20, False)
    nan = meas.copy()
    nan[5] = np.nan
    assert C.lazy_horizon(steps, nan, pred, 0.105) == (40, False)
    r = C.ratio_at_horizons(steps[:51], meas[:51], pred[:51], [10, 500, 1000])
    assert r[10] == pytest.approx(1.01) and r[500] == pytest.approx(1.5) and math.isnan(r[1000])


def test_mismatch_and_lazy_horizon_verdicts():
    rng = np.random.default_rng(1)
    w = _widths(3)
    mismatch = 2.0 * w**-0.5 * np.exp(0.1 * rng.standard_normal(w.size))
    assert C.verdict_mismatch_falls(w, mismatch).label == C.SUPPORTED
    v = C.verdict_mismatch_falls(w, mismatch, diverged=["relu m=100 seed=1"])
    assert v.label == C.INCONCLUSIVE and "1 diverged run(s): relu m=100 seed=1" in v.numbers
    assert C.verdict_mismatch_falls(w, w**0.2 * 1e-2).label == C.NOT_SUPPORTED
    assert "largest width 1000000" in C.verdict_mismatch_falls(w, mismatch).numbers
    t_eps = np.minimum(np.round(3 * w**0.5, -1), 2000)
    censored = t_eps >= 2000
    assert C.verdict_lazy_horizon_grows(w, t_eps, censored, floor=10).label == C.SUPPORTED
    flat = np.full(w.size, 2000.0)
    assert C.verdict_lazy_horizon_grows(w, flat, np.ones(w.size, bool), floor=10).label == C.INCONCLUSIVE
    shrinking = np.round(1e4 * w**-0.3)
    assert C.verdict_lazy_horizon_grows(w, shrinking, np.zeros(w.size, bool), floor=10).label == C.NOT_SUPPORTED


def test_decreasing_intervals_and_claim1_rule():
    s = np.round(np.arange(0.01, 2.0, 0.01), 2)
    lam = s**2
    lam[(s >= 1.0) & (s <= 1.05)] = lam[s == 1.0]  # flat on [1.00, 1.05]
    lam[s == 1.9] = lam[s == 1.89] - 0.5  # a dip at 1.90
    drops = C.decreasing_intervals(s, lam)
    assert [(d.s_from, d.s_to) for d in drops] == [(1.0, 1.05), (1.89, 1.9)]
    assert drops[0].fall == 0.0 and drops[1].fall == pytest.approx(0.5)
    v = C.verdict_lambda_min_increasing(s, lam, np.ones(s.size, bool))
    assert v.label == C.NOT_SUPPORTED and "2 interval(s)" in v.numbers and "s ∈ [1.89, 1.9]" in v.numbers
    v = C.verdict_lambda_min_increasing(s, s**2, np.ones(s.size, bool))
    assert v.label == C.SUPPORTED and "finest s step 0.01" in v.numbers


def test_falls_between_counts_only_falls_inside_the_schedules_range():
    """Issue 24.6: a fall near s = 0 or 2 is not one inside [0.5, 1.5]. Reference: the curve built by hand."""
    from hrta.claims.width import falls_between

    s = np.linspace(0.0, 2.0, 21)
    lam = s**2 + 1.0
    lam[1] = 1.5  # a fall from s = 0.1 to 0.2 (1.5 → 1.04): near 0
    assert falls_between(s, lam, np.ones_like(s, bool)) == []
    mid = lam.copy()
    mid[10] = mid[9] - 0.01  # a fall from s = 0.9 to 1.0: inside
    found = falls_between(s, mid, np.ones_like(s, bool))
    assert [(round(d.s_from, 6), round(d.s_to, 6)) for d in found] == [(0.9, 1.0)]
    unresolved = np.ones_like(s, bool)
    unresolved[10] = False  # the falling point unresolved: dropped, as in claim 1's rule
    assert falls_between(s, mid, unresolved) == []
