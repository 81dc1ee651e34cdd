"""The λ_min regime (E8): the sphere_d target, the regime numbers, the rate fit and the predicted rate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from hrta.data import DIM_TARGETS, make_dataset, sphere_d, sphere_d_directions
from hrta.ntk import analytic_ntk, predict_loss_curve, spectrum
from hrta.pipeline.jobs import dataset_sizes, wildcard_jobs
from hrta.regime import (
    fit_log_rate,
    predicted_log_rate,
    regime_numbers,
    relu_ntk,
    spectral_split,
    spectrum_ends,
    speedup_decomposition,
)

ROOT = Path(__file__).resolve().parents[1]


# ---- the sphere_d target ----------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 6, 20])
def test_sphere_d_shape_on_the_sphere_and_deterministic(dim):
    ds = make_dataset("sphere_d", n_train=30, n_test=10, seed=3, constant_feature=False, dim=dim)
    assert ds.X_train.shape == (30, dim) and ds.X_test.shape == (10, dim) and ds.y_train.shape == (30,)
    np.testing.assert_allclose(np.linalg.norm(ds.X_train, axis=1), 1.0, rtol=1e-12)
    again = make_dataset("sphere_d", n_train=30, n_test=10, seed=3, constant_feature=False, dim=dim)
    np.testing.assert_array_equal(ds.X_train, again.X_train)
    np.testing.assert_array_equal(ds.y_train, again.y_train)
    other = make_dataset("sphere_d", n_train=30, n_test=10, seed=4, constant_feature=False, dim=dim)
    assert not np.allclose(ds.X_train, other.X_train)
    u, v = sphere_d_directions(dim)
    np.testing.assert_allclose(ds.y_train, np.sin(np.pi * ds.X_train @ u) + (ds.X_train @ v) ** 2)
    np.testing.assert_allclose(sphere_d(ds.X_train), ds.y_train)
    assert ds.meta["dim"] == dim and ds.meta["target"] == "sphere_d"


def test_sphere_d_directions_are_fixed_unit_vectors_and_default_dim():
    u, v = sphere_d_directions(20)
    assert np.isclose(np.linalg.norm(u), 1) and np.isclose(np.linalg.norm(v), 1)
    np.testing.assert_array_equal(u, sphere_d_directions(20)[0])
    assert make_dataset("sphere_d", n_train=5, n_test=0, constant_feature=False).d == 20  # default dim
    assert make_dataset("sphere_d", n_train=5, n_test=0, constant_feature=True, dim=4).d == 5


def test_dim_only_for_targets_of_configurable_dimension():
    assert "sphere_d" in DIM_TARGETS
    with pytest.raises(ValueError, match="dim is only for"):
        make_dataset("sin1d", n_train=5, n_test=0, dim=3)
    with pytest.raises(ValueError, match="dim"):
        make_dataset("sphere_d", n_train=5, n_test=0, dim=1)


def test_dimension_from_config():
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    ds = cfg["datasets"][cfg["e8"]["dataset"]]
    assert ds["target"] == "sphere_d" and not ds["constant_feature"]
    assert dataset_sizes(ds) == (ds["n_train"], ds["n_test"], ds["dim"])
    made = make_dataset(**ds)
    assert made.d == ds["dim"] == 20
    smoke = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    assert dataset_sizes(smoke["datasets"][smoke["e8"]["dataset"]])[2] == 6


def test_e8_jobs_are_listed():
    cfg = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    cfg["e3"]["divergence_threshold"] = cfg["e4"]["divergence_threshold"] = 1e12
    jobs = {dict(w)["exp"] for rule, w in wildcard_jobs(cfg) if rule == "train"}
    assert "e8" in jobs


# ---- the regime numbers -----------------------------------------------------------------------


def test_numpy_kernel_matches_analytic_ntk():
    X = make_dataset("sphere_d", n_train=25, n_test=0, constant_feature=False, dim=6).X_train
    for s in (0.5, 1.0, 1.5):
        for layers in ("both", "first"):
            K = analytic_ntk(torch.as_tensor(X), s, layers=layers).numpy()
            np.testing.assert_allclose(relu_ntk(X, s, layers), K, atol=1e-12)


def test_regime_numbers_against_a_direct_computation():
    X = make_dataset("sphere_d", n_train=20, n_test=0, seed=1, constant_feature=False, dim=4).X_train
    lr, T = 2.0, 300
    K = analytic_ntk(torch.as_tensor(X), 1.0).numpy() / len(X)
    eig = np.linalg.eigvalsh(K)
    row = regime_numbers(lr, T, *spectrum_ends(relu_ntk(X, 1.0)))
    assert row["lambda_min"] == pytest.approx(eig[0], rel=1e-6)
    assert row["lambda_max"] == pytest.approx(eig[-1], rel=1e-6)
    assert row["lr_lambda_min_T"] == pytest.approx(lr * eig[0] * T, rel=1e-6)
    assert row["lr_lambda_max"] == pytest.approx(lr * eig[-1], rel=1e-6)
    assert row["kappa"] == pytest.approx(eig[-1] / eig[0], rel=1e-6)
    # the λ_min mode's residual left at T, by iterating r ← (I − lr·K/n) r on that eigenvector
    w, V = np.linalg.eigh(K)
    r = V[:, 0].copy()
    for _ in range(T):
        r = r - lr * K @ r
    assert row["residual_left"] == pytest.approx(abs(r @ V[:, 0]), rel=1e-6)


# ---- the rate fit and the predicted rate -------------------------------------------------------


def test_rate_fit_recovers_a_known_rate():
    steps = np.arange(0, 2001, 10)
    rate = -3.7e-3
    losses = 0.4 * np.exp(rate * steps) * (1 + 5 * np.exp(-0.05 * steps))  # a fast transient, then the rate
    fit = fit_log_rate(steps, losses, window=0.5)
    assert fit.log_rate == pytest.approx(rate, rel=1e-6)
    assert fit.start == 1000 and fit.stop == 2000 and not fit.floored


def test_rate_fit_stops_at_the_floor():
    steps = np.arange(0, 4001, 10)
    losses = np.exp(-0.02 * steps)
    losses = np.maximum(losses, 1e-30 * (1 + 0.3 * np.sin(steps)))  # rounding floor: flat noise
    fit = fit_log_rate(steps, losses, window=0.5, floor=1e-20)
    assert fit.floored and fit.stop < 2310  # e^{-0.02 t} = 1e-20 at t ≈ 2303
    assert fit.log_rate == pytest.approx(-0.02, rel=1e-9)
    naive = fit_log_rate(steps, losses, window=0.1)  # steps 3600–4000: all on the floor
    assert abs(naive.log_rate) < 1e-3  # without the floor the fit measures the noise


def test_predicted_rate_matches_the_linearized_loss_curve():
    """Second computation of 2·log(1 − lr·λ_min): the late-time slope of predict_loss_curve (every mode)."""
    X = torch.as_tensor(make_dataset("sphere_d", n_train=30, n_test=0, constant_feature=False, dim=6).X_train)
    n, lr = X.shape[0], 3.0
    for s in (0.5, 1.5):
        K = analytic_ntk(X, s)
        lam = spectrum(K / n)
        assert lr * lam.lambda_max < 2
        steps = int(15 / (lr * lam.lambda_min))  # lr·λ_min·T = 15: the λ_min mode dominates the second half
        r0 = np.random.default_rng(0).standard_normal(n)
        curve = predict_loss_curve(K, r0, lr, steps)
        t = np.arange(steps + 1)
        late = t >= steps // 2
        slope = np.polyfit(t[late], np.log(curve[late]), 1)[0]
        assert slope == pytest.approx(predicted_log_rate(lr, lam.lambda_min), rel=2e-2)
        assert predicted_log_rate(lr, lam.lambda_min) == pytest.approx(2 * math.log(1 - lr * lam.lambda_min))


def _late_slope(K, lr, n, lam_min):
    """Late-time slope of log L of linearized GD with kernel K at rate lr (every mode, hrta.ntk.predict_loss_curve)."""
    steps = int(60 / (lr * lam_min))  # lr·λ_min·T = 60: the λ_min mode dominates the last quarter
    r0 = np.random.default_rng(1).standard_normal(n)
    curve = predict_loss_curve(K, r0, lr, steps)
    t = np.arange(steps + 1)
    late = t >= 3 * steps // 4
    return np.polyfit(t[late], np.log(curve[late]), 1)[0]


def test_speedup_decomposition_against_linearized_loss_curves():
    """Second computation: the decay-rate ratios of full linearized GD loss curves (every mode) at one rate and at
    each s's kernel-scaled rate c/λ_max(K_s/n) give speedup_decomposition's fixed and conditioning parts; their
    quotient is the step part, ≈ the λ_max ratio; fixed = step × conditioning exactly."""
    X = torch.as_tensor(make_dataset("sphere_d", n_train=30, n_test=0, constant_feature=False, dim=6).X_train)
    n, lr, c = X.shape[0], 1.0, 0.9
    kernels = {s: analytic_ntk(X, s) for s in (1.0, 1.5)}
    lams = {s: (spectrum(K / n).lambda_min, spectrum(K / n).lambda_max) for s, K in kernels.items()}
    assert all(lr * hi < 2 for _, hi in lams.values())
    d = speedup_decomposition(lr, c, lams[1.5], lams[1.0])
    fixed = _late_slope(kernels[1.5], lr, n, lams[1.5][0]) / _late_slope(kernels[1.0], lr, n, lams[1.0][0])
    kernel_rate = {s: c / hi for s, (_, hi) in lams.items()}
    conditioning = _late_slope(kernels[1.5], kernel_rate[1.5], n, lams[1.5][0]) / _late_slope(
        kernels[1.0], kernel_rate[1.0], n, lams[1.0][0]
    )
    assert d["fixed"] == pytest.approx(fixed, rel=3e-2)
    assert d["conditioning"] == pytest.approx(conditioning, rel=3e-2)
    assert d["fixed"] == pytest.approx(d["step"] * d["conditioning"], rel=1e-12)
    # first order in lr·λ_min: the λ_min ratio, κ(1)/κ(s), the λ_max ratio
    assert d["fixed_first_order"] == pytest.approx(lams[1.5][0] / lams[1.0][0])
    assert d["step_first_order"] == pytest.approx(lams[1.5][1] / lams[1.0][1])
    small = speedup_decomposition(1e-6, 1e-6, lams[1.5], lams[1.0])
    for part in ("fixed", "conditioning", "step"):
        assert small[part] == pytest.approx(small[f"{part}_first_order"], rel=1e-5)


def test_speedup_decomposition_of_a_pure_rescaling_is_all_step():
    """K' = 2K: twice λ_min and λ_max, the same κ: at one rate twice as fast (to first order), at the kernel-scaled
    rate exactly as fast."""
    d = speedup_decomposition(1e-3, 1.0, (2e-3, 0.4), (1e-3, 0.2))
    assert d["conditioning"] == pytest.approx(1.0, rel=1e-12)
    assert d["fixed"] == pytest.approx(d["step"]) and d["step"] == pytest.approx(2.0, rel=1e-5)


def test_spectral_split_on_every_data_set_against_numpy_spectra():
    """Issue 24, point 4: the split from the spectra alone, per data set. Rows built with the torch kernel
    (hrta.ntk.analytic_ntk); second computation: the numpy kernel (hrta.regime.relu_ntk) and eigvalsh give the first-order
    parts λ_min(s)/λ_min(1), λ_max(s)/λ_max(1) and κ(1)/κ(s); fixed = step × conditioning exactly; a data set without
    s = 1 gives no row."""
    import pandas as pd

    data = {
        "cube": make_dataset("sin1d", n_train=40, n_test=0, constant_feature=True).X_train,
        "sphere": make_dataset("sphere_d", n_train=30, n_test=0, constant_feature=False, dim=6).X_train,
    }
    rows = []
    for name, X in data.items():
        X = torch.as_tensor(X, dtype=torch.float64)
        for s in (0.5, 1.0, 1.5):
            sp = spectrum(analytic_ntk(X, s) / X.shape[0])
            rows.append(
                {
                    "experiment": name,
                    "dataset": name,
                    "optimizer": "gd",
                    "s": s,
                    **regime_numbers(1.0, 100, sp.lambda_min, sp.lambda_max),
                }
            )
    rows.append({**rows[0], "experiment": "no_reference", "s": 0.5})
    split = spectral_split(pd.DataFrame(rows))
    assert sorted(set(split.experiment)) == ["cube", "sphere"] and len(split) == 4
    for r in split.itertuples():
        X = np.asarray(data[r.dataset], dtype=np.float64)
        (lo, hi), (lo1, hi1) = spectrum_ends(relu_ntk(X, r.s)), spectrum_ends(relu_ntk(X, 1.0))
        assert r.fixed_first_order == pytest.approx(lo / lo1, rel=1e-6)
        assert r.step_first_order == pytest.approx(hi / hi1, rel=1e-9)
        assert r.conditioning_first_order == pytest.approx((hi1 / lo1) / (hi / lo), rel=1e-6)
        assert r.conditioning_first_order == pytest.approx(r.kappa_reference / r.kappa, rel=1e-12)
        assert r.fixed == pytest.approx(r.step * r.conditioning, rel=1e-12)


@pytest.mark.slow
def test_smoke_run_splits_the_regime_speedup_and_says_so_in_claims_md(smoke_run):
    """The smoke run's e6_regime kernel-rate runs reach regime_rates: the decomposition table (fixed = step ×
    conditioning, the prediction beside each part) and its paragraph in CLAIMS.md."""
    import pandas as pd

    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-3000:]
    table = pd.read_csv(workdir / "figures" / "tables" / "regime_decomposition.csv", comment="#")
    assert list(table.s) == [1.5] and (table.fixed_n >= 2).all() and (table.conditioning_n >= 2).all()
    assert np.allclose(table.fixed, table.step * table.conditioning, rtol=1e-9)
    for part in ("fixed", "step", "conditioning"):
        assert np.isfinite(table[f"predicted_{part}"]).all()
    rates = pd.read_csv(workdir / "figures" / "tables" / "regime_rates.csv", comment="#")
    assert set(rates.rate) == {"fixed", "kernel"}
    page = (workdir / "figures" / "CLAIMS.md").read_text()
    assert "## Where λ_min governs training: step size and conditioning" in page
    assert "e6_regime" in page
    # the split from the spectra on every data set the run trains on (issue 24, point 4)
    regime = pd.read_csv(workdir / "figures" / "tables" / "regime.csv")
    split = pd.read_csv(workdir / "figures" / "tables" / "regime_split.csv")
    assert set(split.dataset) == set(regime.dataset) and {"e3", "e8"} <= set(split.experiment)
    assert any(e.startswith("e7 ") for e in split.experiment)
    assert np.allclose(split.fixed, split.step * split.conditioning, rtol=1e-12)
    assert "figures/tables/regime_split.csv" in page
