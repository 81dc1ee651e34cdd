"""Tests for hrta.data: targets, seeded draws, the constant feature, validated atomic storage."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hrta import data
from hrta.data import (
    TARGETS,
    DataError,
    Dataset,
    add_constant_feature,
    load_dataset,
    make_dataset,
    save_dataset,
)
from hrta.models import TwoLayerNet

REQUIRED_TARGETS = ("sin1d", "runge1d", "poly1d", "franke2d", "sphere")


def _write_npz(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def _valid_arrays(ds: Dataset) -> dict:
    return {
        "X_train": ds.X_train,
        "y_train": ds.y_train,
        "X_test": ds.X_test,
        "y_test": ds.y_test,
        "meta": np.array(json.dumps(ds.meta)),
    }


# ------------------------------------------------------------------------------ targets


def test_registry_has_required_targets_with_dimensions():
    dims = {name: TARGETS[name].d for name in REQUIRED_TARGETS}
    assert dims == {"sin1d": 1, "runge1d": 1, "poly1d": 1, "franke2d": 2, "sphere": 3}
    for name, t in TARGETS.items():
        assert t.name == name and t.description and t.domain


def test_target_values_at_known_points():
    x = np.array([[0.0], [0.2], [-0.2], [0.5], [1.0]])
    np.testing.assert_allclose(TARGETS["runge1d"](x), [1.0, 0.5, 0.5, 1 / 7.25, 1 / 26])
    # sin(π/2) + ½ sin(3π/2) = 1 − ½
    np.testing.assert_allclose(TARGETS["sin1d"](x[[0, 3]]), [0.0, 0.5], atol=1e-15)
    # T₃ + ½T₂ at ±1: 1 + ½ and −1 + ½
    np.testing.assert_allclose(TARGETS["poly1d"](np.array([[1.0], [-1.0], [0.0]])), [1.5, -0.5, -0.5])
    # Franke at the origin: ¾e^{-2} + ¾e^{-1/49-1/10} + ½e^{-(49+9)/4} − ⅕e^{-16-49}
    expect = 0.75 * math.exp(-2) + 0.75 * math.exp(-1 / 49 - 0.1) + 0.5 * math.exp(-58 / 4) - 0.2 * math.exp(-65)
    np.testing.assert_allclose(TARGETS["franke2d"](np.zeros((1, 2))), [expect], rtol=1e-14)
    np.testing.assert_allclose(TARGETS["sphere"](np.array([[0.0, 0.0, 1.0], [0.6, 0.8, 0.0]])), [1.0, 0.48], atol=1e-15)


def test_target_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r"'franke2d'.*\(n, 2\)"):
        TARGETS["franke2d"](np.zeros((3, 1)))


@pytest.mark.parametrize("name", REQUIRED_TARGETS)
def test_samples_lie_in_domain(name):
    ds = make_dataset(name, n_train=300, n_test=300, seed=3, constant_feature=False)
    X = np.vstack([ds.X_train, ds.X_test])
    assert X.shape == (600, TARGETS[name].d)
    if name == "franke2d":
        assert X.min() >= 0.0 and X.max() <= 1.0
        # uniform on the square: both halves of each axis are populated
        assert (X < 0.5).any(axis=0).all() and (X > 0.5).any(axis=0).all()
    elif name == "sphere":
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=0, atol=1e-14)
        # uniform on S²: each coordinate's mean is 0 (std of the mean ≈ 1/√(3·600) ≈ 0.024)
        assert np.abs(X.mean(axis=0)).max() < 0.1
    else:
        assert X.min() >= -1.0 and X.max() <= 1.0
        assert X.min() < -0.9 and X.max() > 0.9
    np.testing.assert_array_equal(ds.y_train, TARGETS[name](ds.X_train))
    np.testing.assert_array_equal(ds.y_test, TARGETS[name](ds.X_test))


# ------------------------------------------------------------------------------ make_dataset


def test_defaults_match_the_paper_size_and_add_the_constant_column():
    ds = make_dataset()
    assert ds.target == "sin1d"
    assert ds.X_train.shape == (100, 2) and ds.y_train.shape == (100,)
    assert ds.X_test.shape == (200, 2) and ds.y_test.shape == (200,)
    assert ds.d == 2
    assert all(a.dtype == np.float64 for a in (ds.X_train, ds.y_train, ds.X_test, ds.y_test))
    np.testing.assert_array_equal(ds.X_train[:, -1], 1.0)
    np.testing.assert_array_equal(ds.X_test[:, -1], 1.0)
    np.testing.assert_array_equal(ds.y_train, TARGETS["sin1d"](ds.X_train[:, :1]))
    assert ds.meta["target"] == "sin1d" and ds.meta["n_train"] == 100 and ds.meta["n_test"] == 200
    assert ds.meta["seed"] == 0 and ds.meta["noise"] == 0.0 and ds.meta["constant_feature"] is True
    assert ds.meta["numpy_version"] == np.__version__ and "hrta_version" in ds.meta


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(REQUIRED_TARGETS),
    n_train=st.integers(1, 40),
    n_test=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
    constant=st.booleans(),
)
def test_same_seed_same_arrays_and_train_independent_of_n_test(name, n_train, n_test, seed, constant):
    a = make_dataset(name, n_train, n_test, seed=seed, constant_feature=constant)
    b = make_dataset(name, n_train, n_test, seed=seed, constant_feature=constant)
    for k in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.d == TARGETS[name].d + int(constant)
    assert a.X_test.shape == (n_test, a.d)
    # the split is a prefix of one draw: more test points never change the training set
    c = make_dataset(name, n_train, n_test + 7, seed=seed, constant_feature=constant)
    np.testing.assert_array_equal(a.X_train, c.X_train)
    np.testing.assert_array_equal(a.X_test, c.X_test[:n_test])


def test_different_seed_gives_different_arrays():
    a, b = make_dataset(seed=0), make_dataset(seed=1)
    assert not np.array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_test, b.X_test)


def test_noise_on_train_labels_only_and_inputs_unchanged():
    clean = make_dataset("runge1d", seed=5)
    noisy = make_dataset("runge1d", seed=5, noise=0.1)
    np.testing.assert_array_equal(clean.X_train, noisy.X_train)
    np.testing.assert_array_equal(clean.X_test, noisy.X_test)
    np.testing.assert_array_equal(clean.y_test, noisy.y_test)
    eps = noisy.y_train - clean.y_train
    assert np.all(eps != 0)
    # 100 draws of N(0, 0.1²): sample std within ±30 % of 0.1 (a wider miss has probability < 1e-6)
    assert 0.07 < eps.std() < 0.13
    np.testing.assert_array_equal(make_dataset("runge1d", seed=5, noise=0.1).y_train, noisy.y_train)
    assert noisy.meta["noise"] == 0.1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "cos9d"}, r"unknown target 'cos9d'; known targets: sin1d, runge1d, poly1d, franke2d, sphere"),
        ({"n_train": 0}, r"n_train must be an integer >= 1, got 0"),
        ({"n_train": 10.0}, r"n_train must be an integer"),
        ({"n_test": -1}, r"n_test must be an integer >= 0, got -1"),
        ({"noise": -0.1}, r"noise must be a finite real >= 0.*-0.1"),
        ({"noise": float("nan")}, r"noise must be a finite real >= 0.*nan"),
        ({"noise": float("inf")}, r"noise must be a finite real >= 0.*inf"),
        ({"seed": 1.5}, r"seed must be an integer >= 0, got 1.5"),
        ({"seed": "0"}, r"seed must be an integer >= 0, got '0'"),
        ({"seed": True}, r"seed must be an integer"),
        ({"seed": -3}, r"seed must be an integer >= 0, got -3"),
    ],
)
def test_argument_validation_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


def test_numpy_integer_seed_accepted():
    np.testing.assert_array_equal(make_dataset(seed=np.int64(4)).X_train, make_dataset(seed=4).X_train)


def test_add_constant_feature():
    X = np.arange(6.0).reshape(3, 2)
    out = add_constant_feature(X, value=2.5)
    np.testing.assert_array_equal(out, [[0, 1, 2.5], [2, 3, 2.5], [4, 5, 2.5]])
    assert out.dtype == np.float64
    with pytest.raises(ValueError, match="2-D"):
        add_constant_feature(np.arange(3.0))


# ------------------------------------------------------------------------------ why the constant feature


def _odd_even_parts(d, x, s, seed, constant):
    """f(x) − f(−x) and f(x) + f(−x) for a bias-free float64 TwoLayerNet, x flipped in column 0 only."""
    net = TwoLayerNet(d=d, m=64, s=s, seed=seed, dtype="float64")
    X = x[:, None]
    if constant:
        X = add_constant_feature(X)
    with torch.no_grad():
        f_pos = net(torch.from_numpy(X)).numpy()
        X_neg = X.copy()
        X_neg[:, 0] *= -1
        f_neg = net(torch.from_numpy(X_neg)).numpy()
    return f_pos - f_neg, f_pos + f_neg


def _relative_residual(y, basis):
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return np.linalg.norm(y - basis @ coef) / max(np.linalg.norm(y), 1e-300)


def _fit(y, basis_col):
    return float(basis_col @ y / (basis_col @ basis_col))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(s=st.floats(0.25, 2.0), seed=st.integers(0, 10_000))
def test_bias_free_net_has_linear_odd_part_and_abs_even_part_without_constant_feature(s, seed):
    x = np.linspace(-1.0, 1.0, 41)
    odd, even = _odd_even_parts(1, x, s, seed, constant=False)
    # f(x) − f(−x) = c₁·x and f(x) + f(−x) = c₂·|x| exactly (up to float64 rounding)
    assert np.abs(odd - x * _fit(odd, x)).max() <= 1e-12 * (1 + np.abs(odd).max())
    assert np.abs(even - np.abs(x) * _fit(even, np.abs(x))).max() <= 1e-12 * (1 + np.abs(even).max())

    odd_c, _ = _odd_even_parts(2, x, s, seed, constant=True)
    # with the constant feature the odd part is not affine in x: the residual of the best affine fit
    # is far above float64 rounding (≥ 1e-3 over 2000 sampled nets; 1e-16 without the feature)
    assert _relative_residual(odd_c, np.stack([np.ones_like(x), x], axis=1)) > 1e-6


def test_abs_even_part_cannot_fit_runge():
    # The even part of a bias-free 1-D net is c₂·|x| (above); the best such fit to the even part of
    # Runge's function leaves 96 % of its norm on this grid.
    x = np.linspace(-1.0, 1.0, 41)
    runge_even = 2 * TARGETS["runge1d"](x[:, None])
    assert _relative_residual(runge_even, np.abs(x)[:, None]) > 0.9


# ------------------------------------------------------------------------------ storage


def test_save_load_round_trip_is_exact(tmp_path):
    ds = make_dataset("franke2d", n_train=17, n_test=9, seed=11, noise=0.05)
    path = save_dataset(ds, tmp_path / "sub" / "franke.npz")
    assert path == tmp_path / "sub" / "franke.npz" and path.is_file()
    back = load_dataset(path)
    for k in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(back, k), getattr(ds, k))
        assert getattr(back, k).dtype == np.float64
    assert back.target == "franke2d"
    assert back.meta == ds.meta
    assert back.d == 3


def test_round_trip_with_empty_test_set(tmp_path):
    ds = make_dataset("sphere", n_train=5, n_test=0)
    back = load_dataset(save_dataset(ds, tmp_path / "s.npz"))
    assert back.X_test.shape == (0, 4) and back.y_test.shape == (0,)


def test_atomic_write_leaves_no_temp_files_and_overwrites(tmp_path):
    path = tmp_path / "d.npz"
    save_dataset(make_dataset(seed=0), path)
    save_dataset(make_dataset(seed=1), path)
    assert sorted(os.listdir(tmp_path)) == ["d.npz"]
    np.testing.assert_array_equal(load_dataset(path).X_train, make_dataset(seed=1).X_train)


def test_failing_write_leaves_no_file_under_final_name(tmp_path, monkeypatch):
    def broken_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(data.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_dataset(make_dataset(), tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def test_failing_overwrite_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "d.npz"
    ds = make_dataset(seed=2)
    save_dataset(ds, path)
    before = path.read_bytes()

    def broken_savez(fh, **arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(data.np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        save_dataset(make_dataset(seed=3), path)
    assert sorted(os.listdir(tmp_path)) == ["d.npz"]
    assert path.read_bytes() == before


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(DataError, match=r"nope\.npz.*no such file"):
        load_dataset(path)


def test_load_not_an_npz(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("X_train,y_train\n1,2\n")
    with pytest.raises(DataError, match=r"text\.npz.*not an \.npz"):
        load_dataset(path)
    npy = tmp_path / "plain.npz"
    with open(npy, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(DataError, match=r"plain\.npz.*not an \.npz"):
        load_dataset(npy)


def test_load_truncated_npz(tmp_path):
    good = save_dataset(make_dataset(), tmp_path / "good.npz")
    bad = tmp_path / "trunc.npz"
    raw = good.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"trunc\.npz"):
        load_dataset(bad)


def test_load_missing_arrays_named(tmp_path):
    arrays = _valid_arrays(make_dataset())
    del arrays["y_test"], arrays["meta"]
    path = _write_npz(tmp_path / "m.npz", **arrays)
    with pytest.raises(DataError, match=r"m\.npz.*missing array\(s\) y_test, meta"):
        load_dataset(path)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda a: a.update(X_train=a["X_train"][:, 0]), r"X_train must be 2-D \(n, d\), got shape \(100,\)"),
        (lambda a: a.update(y_train=a["y_train"][:, None]), r"y_train must be 1-D"),
        (lambda a: a.update(y_train=a["y_train"][:-1]), r"y_train has 99 labels but X_train has 100 rows"),
        (lambda a: a.update(y_test=a["y_test"][:3]), r"y_test has 3 labels but X_test has 200 rows"),
        (lambda a: a.update(X_test=a["X_test"][:, :1]), r"X_test has 1 columns but X_train has 2"),
        (
            lambda a: a.update(X_train=np.zeros((0, 2)), y_train=np.zeros(0)),
            r"X_train is empty \(0 rows\)",
        ),
        (
            lambda a: a.update(X_train=np.zeros((100, 0)), X_test=np.zeros((200, 0))),
            r"X_train has 0 columns",
        ),
        (lambda a: a.update(y_test=np.array(["a"] * 200)), r"'y_test' must be real-valued"),
        (lambda a: a.update(meta=np.array("{not json")), r"'meta' is not a JSON string"),
        (lambda a: a.update(meta=np.array(json.dumps({"seed": 0}))), r"string 'target'"),
    ],
)
def test_load_bad_shapes_and_content(tmp_path, change, match):
    arrays = _valid_arrays(make_dataset())
    change(arrays)
    path = _write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=r"bad\.npz.*" + match):
        load_dataset(path)


@pytest.mark.parametrize("name", ["X_train", "y_train", "X_test", "y_test"])
def test_load_non_finite_names_array_and_count(tmp_path, name):
    arrays = _valid_arrays(make_dataset())
    arr = arrays[name].copy()
    arr.flat[0] = np.nan
    arr.flat[3] = np.inf
    arr.flat[5] = -np.inf
    arrays[name] = arr
    path = _write_npz(tmp_path / "nan.npz", **arrays)
    with pytest.raises(DataError, match=rf"nan\.npz.*'{name}' has 3 non-finite value\(s\)"):
        load_dataset(path)


def test_data_error_is_value_error_and_dataset_validates_on_construction():
    assert issubclass(DataError, ValueError)
    with pytest.raises(DataError, match=r"dataset 'x'.*y_train has 2 labels but X_train has 3 rows"):
        Dataset(np.zeros((3, 1)), np.zeros(2), np.zeros((1, 1)), np.zeros(1), target="x")
