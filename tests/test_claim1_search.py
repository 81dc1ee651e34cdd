"""Claim 1 counterexample search (hrta.claims.claim1_search): the fall rule on synthetic curves with known answers,
λ_min curves against direct eigenvalues of analytic_ntk, the scaling bounds of the decomposition, and the two
regimes worked out in the module docstring (full-rank linear kernel near s = 0; near-antipodal inputs near s = 2)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hrta.claims import claim1_search as C
from hrta.data import add_constant_feature
from hrta.ntk import analytic_ntk

EPS = float(np.finfo(np.float64).eps)


S5 = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
ALL = np.ones(5, dtype=bool)

# ---------------------------------------------------------------------------------- the rule on synthetic curves


def test_increasing_curve_has_no_fall():
    assert C.first_fall(S5, [1.0, 2.0, 3.0, 4.0, 5.0], ALL) is None
    assert C.falls(S5, [1.0, 2.0, 3.0, 4.0, 5.0], ALL).size == 0


def test_fall_at_known_s():
    f = C.first_fall(S5, [1.0, 2.0, 3.0, 2.5, 4.0], ALL)
    assert f is not None
    assert f.s == 0.4
    assert f.relative_drop == pytest.approx(0.5 / 3.0, rel=1e-14)
    assert f.max_relative_drop == pytest.approx(0.5 / 3.0, rel=1e-14)


def test_max_drop_is_from_the_highest_earlier_point():
    lam = [1.0, 3.0, 2.0, 4.0, 1.0]
    f = C.first_fall(S5, lam, ALL)
    assert (f.s, f.relative_drop) == (0.3, pytest.approx(1 / 3, rel=1e-14))
    assert f.max_relative_drop == pytest.approx(0.75, rel=1e-14)
    assert list(C.falls(S5, lam, ALL)) == [2, 4]


def test_plateau_within_rounding_is_not_a_fall():
    # relative decrease 5e-11 < 1e-10: flat
    assert C.first_fall(S5, [1.0, 1.0 + 1e-12, 1.0 + 1e-12 - 5e-11, 1.5, 2.0], ALL) is None
    # 1e-8 absolute at λ = 1e-3 (1e-5 relative) is within a floor of 1e-7 ...
    lam = [1e-4, 1e-3, 1e-3 - 1e-8, 2e-3, 3e-3]
    assert C.first_fall(S5, lam, ALL, floor=1e-7) is None
    # ... but not within a floor of 1e-9: the same curve then falls at 0.3
    assert C.first_fall(S5, lam, ALL, floor=1e-9).s == 0.3
    # the larger of the two points' floors counts
    floor = np.array([0, 0, 1e-7, 0, 0])
    assert C.first_fall(S5, lam, ALL, floor=floor) is None


def test_unresolved_point_is_skipped():
    unres = np.array([True, True, False, True, True])
    # an apparent fall through an unresolved point is no fall
    assert C.first_fall(S5, [1.0, 2.0, 1e-20, 3.0, 4.0], unres) is None
    # nor is an unresolved point a rise: the fall is measured from the previous *resolved* point
    f = C.first_fall(S5, [1.0, 3.0, 5.0, 2.0, 4.0], unres)
    assert f.s == 0.4
    assert f.relative_drop == pytest.approx(1 / 3, rel=1e-14)
    # NaN counts as unresolved
    assert C.first_fall(S5, [1.0, 2.0, np.nan, 3.0, 4.0], ALL) is None


def test_rule_rejects_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        C.first_fall([0.1, 0.1, 0.2], [1, 2, 3], [True] * 3)
    with pytest.raises(ValueError, match="equal lengths"):
        C.first_fall([0.1, 0.2], [1, 2, 3], [True] * 3)


# ---------------------------------------------------------------------------------- grid and data


def test_search_grid():
    s = C.s_grid_search()
    assert s[0] == pytest.approx(0.01) and s[-1] == 2.0 and np.all(s > 0)
    assert np.all(np.diff(s) > 0)
    low, high = s[s <= 0.2 + 1e-12], s[s >= 1.8 - 1e-12]
    assert np.max(np.diff(low)) <= 0.01 + 1e-12 and low[-1] == pytest.approx(0.2)
    assert np.max(np.diff(high)) <= 0.01 + 1e-12 and high[0] == pytest.approx(1.8)
    mid = s[(s >= 0.2 - 1e-12) & (s <= 1.8 + 1e-12)]
    assert np.allclose(np.diff(mid), 0.05)
    assert s.size == 72
    with pytest.raises(ValueError):
        C.s_grid_search(fine_width=1.0)


def test_sphere_draw():
    X = C.sphere_draw(7, 4, 3, False)
    Xc = C.sphere_draw(7, 4, 3, True)
    assert X.shape == (7, 4) and Xc.shape == (7, 5)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-15)
    assert np.array_equal(Xc[:, :4], X) and np.all(Xc[:, 4] == 1.0)
    assert np.array_equal(Xc, add_constant_feature(X))
    assert np.array_equal(C.sphere_draw(7, 4, 3), X)
    assert not np.array_equal(C.sphere_draw(7, 4, 4), X)


def test_kernel_parts_all_equals_analytic_ntk():
    X = C.sphere_draw(30, 3, 1, True)
    parts = C.kernel_parts_all(X)
    for layers in ("both", "first"):
        K0, K2 = C.kernel_parts(X, layers)
        assert np.array_equal(parts[layers][0], K0) and np.array_equal(parts[layers][1], K2)


# ---------------------------------------------------------------------------------- λ_min curves


@pytest.mark.parametrize("layers", ["both", "first"])
@pytest.mark.parametrize("n,d,cf", [(5, 10, False), (30, 3, True), (60, 2, False), (40, 5, True)])
def test_lambda_min_curve_matches_direct_eigvalsh(n, d, cf, layers):
    """Reference without the decomposition: eigvalsh of analytic_ntk(X, s)/n itself."""
    X = C.sphere_draw(n, d, 11, cf)
    s = np.array([0.1, 0.7, 1.3, 1.95])
    c = C.lambda_min_curve(X, s, layers)
    for i, si in enumerate(s):
        w = np.linalg.eigvalsh(analytic_ntk(X, float(si), layers).numpy() / n)
        tol = 1e-9 * w[0] + 20 * n * EPS * w[-1]
        assert abs(c.lam[i] - w[0]) <= tol, (si, c.lam[i], w[0])
        assert c.lam_max[i] == pytest.approx(w[-1], rel=1e-12)
    assert np.allclose(c.floor, C.C_FLOOR * n * EPS * c.lam_max, rtol=0, atol=0)
    assert np.array_equal(c.resolved, c.lam > c.floor)


def test_unresolved_when_lambda_min_is_rounding():
    """Duplicate rows make K_s exactly singular: λ_min is rounding noise and must be flagged unresolved."""
    X = C.sphere_draw(20, 3, 0, True)
    X[1] = X[0]
    c = C.lambda_min_curve(X, C.s_grid_search(), "both")
    assert not c.resolved.any()
    assert C.first_fall(C.s_grid_search(), c.lam, c.resolved, c.floor) is None


@pytest.mark.parametrize("layers", ["both", "first"])
@pytest.mark.parametrize("n,d,cf", [(5, 10, False), (10, 2, False), (50, 3, True), (20, 20, True)])
def test_scaling_bounds(n, d, cf, layers):
    """λ(s)/s² nonincreasing and λ(s)/(2 − s)² nondecreasing (module docstring, item 1), within rounding."""
    s = C.s_grid_search()
    c = C.lambda_min_curve(C.sphere_draw(n, d, 5, cf), s, layers)
    assert c.resolved.all()
    tol = 2 * np.maximum(c.floor[:-1], c.floor[1:]) + 1e-12 * c.lam[:-1]
    a, b = c.lam[:-1], c.lam[1:]
    s0, s1 = s[:-1], s[1:]
    assert np.all(b <= a * (s1 / s0) ** 2 + tol)
    ok = s1 < 2
    assert np.all(b[ok] >= a[ok] * ((2 - s1[ok]) / (2 - s0[ok])) ** 2 - tol[ok])


# ---------------------------------------------------------------------------------- the two regimes


@pytest.mark.parametrize("layers", ["both", "first"])
@pytest.mark.parametrize("seed", range(5))
def test_full_rank_linear_kernel_falls_near_zero(seed, layers):
    """n = 5 ≤ d = 10: K_0 = c·X Xᵀ has full rank, λ(s) = (1 − s/2)²λ_min(K_0/n) + O(s²) falls from the start;
    λ'(0) = −λ_min(K_0/n). Measured (both layers, seeds 0–4): λ(0.02)/λ(0.01) = 0.9901–0.9903."""
    X = C.sphere_draw(5, 10, seed, False)
    s = C.s_grid_search()
    c = C.lambda_min_curve(X, s, layers)
    f = C.first_fall(s, c.lam, c.resolved, c.floor)
    assert f is not None and f.s == pytest.approx(0.02)
    bound = 1 - ((2 - 0.02) / (2 - 0.01)) ** 2  # the largest fall the scaling bound allows on [0.01, 0.02]
    assert 0.5 * bound < f.relative_drop <= bound + 1e-12
    c0 = C.lambda_min_curve(X, [0.0, 1e-4], layers)
    assert (c0.lam[1] - c0.lam[0]) / 1e-4 == pytest.approx(-c0.lam[0], rel=1e-3)


@pytest.mark.parametrize("layers", ["both", "first"])
@pytest.mark.parametrize("seed", range(3))
def test_many_points_in_2d_with_constant_feature_increase(seed, layers):
    """n = 100, d = 2 + constant feature: rank K_0 = 3 < n, λ(0) = 0 and λ grows like s² near 0. Measured:
    no fall on the search grid for seeds 0–2, λ(0.02)/λ(0.01) = 4.000 to 6 digits."""
    X = C.sphere_draw(100, 2, seed, True)
    s = C.s_grid_search()
    c = C.lambda_min_curve(X, s, layers)
    assert c.resolved.all()
    assert C.first_fall(s, c.lam, c.resolved, c.floor) is None
    assert c.lam[1] / c.lam[0] == pytest.approx(4.0, rel=1e-4)


@pytest.mark.parametrize("layers", ["both", "first"])
def test_near_antipodal_pair_falls_near_two(layers):
    """Docstring item 4: |z| cannot tell x from −x, so x_1 ≈ −x_0 (angle π + 1e-6) makes K_2 nearly singular along
    e_0 − e_1, where K_0 is large: λ falls just below s = 2. The constant feature removes the antipodality."""
    th = np.random.default_rng(0).uniform(0, 2 * np.pi, 20)
    th[1] = th[0] + np.pi + 1e-6
    X = np.stack([np.cos(th), np.sin(th)], axis=1)
    s = C.s_grid_search()
    c = C.lambda_min_curve(X, s, layers)
    f = C.first_fall(s, c.lam, c.resolved, c.floor)
    assert f is not None and f.s >= 1.9 and f.max_relative_drop > 0.9
    cc = C.lambda_min_curve(add_constant_feature(X), s, layers)
    assert C.first_fall(s, cc.lam, cc.resolved, cc.floor) is None


# ---------------------------------------------------------------------------------- table and verdict


@pytest.fixture(scope="module")
def small_search():
    return C.search_table(ns=(5, 30), ds=(2, 10), draws=3, return_curves=True)


def test_search_table(small_search):
    summary, curves = small_search
    assert list(summary.columns) == list(C.SUMMARY_COLUMNS)
    assert len(summary) == 2 * 2 * 2 * 2 and (summary["draws"] == 3).all()
    assert np.allclose(summary["fraction_violating"], summary["violations"] / summary["draws"])
    full = summary[(summary.n == 5) & (summary.d == 10)]
    assert full["full_rank_lin"].all()
    assert (full["violations"] == 3).all() and (full["falls_near_0"] == 3).all()
    assert np.allclose(full["first_fall_s"], 0.02)
    assert curves.lam.shape == (len(curves.keys), curves.s.size) == (48, 72)
    # the summary is recomputable from the stored curves
    for i in range(len(curves.keys)):
        f = C.first_fall(curves.s, curves.lam[i], curves.resolved[i], curves.floor[i])
        assert curves.keys["violates"].iloc[i] == (f is not None)
    # falls inside the schedules' range [0.5, 1.5] (issue 24, point 6), recounted from the stored curves with
    # hrta.claims.claim1_search.falls (a second pass over the curves, not the search's own labels)
    lo, hi = C.SCHEDULE_RANGE
    recount = [
        bool(np.any((fs >= lo - 1e-12) & (fs <= hi + 1e-12)))
        for fs in (curves.s[C.falls(curves.s, curves.lam[i], curves.resolved[i], curves.floor[i])] for i in range(48))
    ]
    assert curves.keys["fall_in_schedule_range"].tolist() == recount
    assert int(summary["falls_in_schedule_range"].sum()) == sum(recount)
    long = C.curves_long(curves)
    assert len(long) == 48 * 72 and {"s", "lam", "resolved", "layers"} <= set(long.columns)


def test_verdict_universal(small_search):
    summary, curves = small_search
    v = C.verdict_universal(summary, int(curves.resolved.sum(1).min()))
    assert v.verdict == C.NOT_SUPPORTED and v.rule == C.RULE_UNIVERSAL
    assert (5, 10, False, "both") in v.fails_on
    assert len(v.holds_on) + len(v.fails_on) == len(summary)
    clean = summary.assign(violations=0)
    assert C.verdict_universal(clean).verdict == C.SUPPORTED
    assert C.verdict_universal(clean, min_resolved_points=1).verdict == C.INCONCLUSIVE
    assert C.verdict_universal(pd.DataFrame(columns=summary.columns)).verdict == C.INCONCLUSIVE
    assert math.isclose(summary["fraction_violating"].max(), 1.0)


def test_full_rank_fall_can_end_before_the_grid():
    """n = d = 20: K_0 has full rank, so λ falls from s = 0 (λ'(0) = −λ_min(K_0/n) < 0), but X Xᵀ is nearly
    singular and the fall ends near s = 1e-5, before the search grid starts (measured: draw 2 of seed0 = 0,
    minimum at s ≈ 7.5e-6, relative drop 3.4e-6). A fine log grid sees it, the search grid does not."""
    X = C.sphere_draw(20, 20, C.draw_seed(0, 20, 20, 2), False)
    fine = np.geomspace(1e-7, 0.05, 80)
    c = C.lambda_min_curve(X, fine, "both")
    f = C.first_fall(fine, c.lam, c.resolved, c.floor)
    assert f is not None and f.s < 1e-5 and f.max_relative_drop < 1e-4
    s = C.s_grid_search()
    g = C.lambda_min_curve(X, s, "both")
    assert C.first_fall(s, g.lam, g.resolved, g.floor) is None
