"""K_s = (1 − s/2)²·K_0 + (s/2)²·K_2 for the analytic NTK (ReLU base), both layers and first layer; K_0 and K_2
against formulas written here from the convention of hrta.ntk (independent of its code path)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrta.data import add_constant_feature
from hrta.ntk import analytic_ntk

S_VALUES = (0.1, 0.5, 1.0, 1.3, 1.5, 1.9)
# Each entry of K_s, K_0, K_2 carries a few ulps of |x||x'| (stable angles, closed forms); combining K_0 and K_2
# adds a few more. Entries are ≤ 2|x||x'| ≤ 2·max|x|², so the Frobenius error is ≲ 10 ε‖K‖_F ≈ 2e-15‖K‖_F;
# 1e-12 leaves a margin of ~500 and still catches any missing cross term (which would be O(1) relative).
RTOL_FROB = 1e-12


def _data(kind: str, n: int, d: int, constant: bool, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng([seed, n, d, int(constant), kind == "sphere"])
    X = rng.standard_normal((n, d))
    if kind == "sphere":
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    return add_constant_feature(X) if constant else X


DATASETS = [(k, n, d, c) for k in ("gauss", "sphere") for n in (5, 30) for d in (1, 3, 10) for c in (False, True)]


def _rel_frob(A, B) -> float:
    return float(np.linalg.norm(A - B) / np.linalg.norm(B))


@pytest.mark.parametrize("layers", ["both", "first"])
@pytest.mark.parametrize("data", DATASETS, ids=lambda t: f"{t[0]}-n{t[1]}-d{t[2]}-{'c' if t[3] else 'nc'}")
def test_ntk_is_combination_of_linear_and_abs_kernels(data, layers):
    X = _data(*data)
    K0 = analytic_ntk(X, 0.0, layers).numpy()
    K2 = analytic_ntk(X, 2.0, layers).numpy()
    for s in S_VALUES:
        direct = analytic_ntk(X, s, layers).numpy()
        combo = (1 - s / 2) ** 2 * K0 + (s / 2) ** 2 * K2
        assert _rel_frob(combo, direct) <= RTOL_FROB, (s, _rel_frob(combo, direct))


def test_decomposition_check_would_catch_a_cross_term():
    """The tolerance is meaningful: adding the (vanishing) cross term's size αβ·K_0 breaks it by far."""
    X = _data("gauss", 30, 3, True)
    K0, K2 = (analytic_ntk(X, s).numpy() for s in (0.0, 2.0))
    s = 1.0
    wrong = (1 - s / 2) ** 2 * K0 + (s / 2) ** 2 * K2 + (1 - s / 2) * (s / 2) * 1e-9 * K0
    assert _rel_frob(wrong, analytic_ntk(X, s).numpy()) > RTOL_FROB


@pytest.mark.parametrize("data", DATASETS, ids=lambda t: f"{t[0]}-n{t[1]}-d{t[2]}-{'c' if t[3] else 'nc'}")
def test_linear_kernel_by_hand(data):
    """σ_0 = id: E[uv] = x·x' and E[σ_0'σ_0'] = 1, so K_0 = 2·X Xᵀ (both layers) and X Xᵀ (first layer)."""
    X = _data(*data)
    G = X @ X.T
    scale = np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1))
    for layers, c in (("both", 2.0), ("first", 1.0)):
        K0 = analytic_ntk(X, 0.0, layers).numpy()
        assert np.all(np.abs(K0 - c * G) <= 1e-14 * c * scale + 1e-300), layers


@pytest.mark.parametrize("data", [t for t in DATASETS if t[2] > 1 or t[3]], ids=str)
def test_abs_kernel_by_hand(data):
    """σ_2 = |z|: E[|u||v|] = |x||x'|(2/π)(sin θ + (π/2 − θ) cos θ), E[sign u sign v] = 1 − 2θ/π; θ from arccos
    (loses ~1e-8 at near-parallel pairs, hence the looser tolerance; d = 1 without feature has only θ ∈ {0, π})."""
    X = _data(*data)
    nrm = np.linalg.norm(X, axis=1)
    scale = np.outer(nrm, nrm)
    G = X @ X.T
    th = np.arccos(np.clip(G / scale, -1.0, 1.0))
    np.fill_diagonal(th, 0.0)
    e_dd = 1 - 2 * th / math.pi
    e_ss = scale * (2 / math.pi) * (np.sin(th) + (math.pi / 2 - th) * np.cos(th))
    for layers, ref in (("first", G * e_dd), ("both", G * e_dd + e_ss)):
        K2 = analytic_ntk(X, 2.0, layers).numpy()
        assert np.all(np.abs(K2 - ref) <= 1e-7 * scale), layers
