"""Homotopy activation identities (σ_s(z) = (1 − s)z + s·base(z))."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hrta.activations import (
    Homotopy,
    base_activation,
    base_derivative,
    check_s,
    homotopy,
    homotopy_derivative,
)
from hrta.bases import base_names, check_base


def grid(dtype=torch.float64):
    return torch.linspace(-5.0, 5.0, 1001, dtype=dtype)


@pytest.mark.parametrize("base", base_names())
def test_s0_is_identity(base):
    z = grid()
    assert torch.equal(homotopy(z, 0.0, base), z)
    assert torch.equal(homotopy_derivative(z, 0.0, base), torch.ones_like(z))


@pytest.mark.parametrize("base", base_names())
def test_s1_is_base(base):
    z = grid()
    torch.testing.assert_close(homotopy(z, 1.0, base), base_activation(z, base), rtol=0, atol=1e-15)


def test_s1_relu_and_s2_abs_and_s15_relaxation():
    z = grid()
    torch.testing.assert_close(homotopy(z, 1.0), torch.relu(z), rtol=0, atol=0)
    torch.testing.assert_close(homotopy(z, 2.0), z.abs(), rtol=0, atol=1e-15)
    torch.testing.assert_close(homotopy(z, 1.5), -0.5 * z + 1.5 * torch.relu(z), rtol=0, atol=1e-15)


@settings(max_examples=100, deadline=None)
@given(
    s=st.floats(min_value=-3, max_value=3, allow_nan=False),
    zs=st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=1, max_size=20),
)
def test_relu_homotopy_decompositions(s, zs):
    z = torch.tensor(zs, dtype=torch.float64)
    value = homotopy(z, s, "relu")
    tol = 1e-12 * (1 + z.abs().max().item()) * (1 + abs(s))
    torch.testing.assert_close(value, torch.relu(z) + (s - 1) * torch.relu(-z), rtol=0, atol=tol)
    torch.testing.assert_close(value, (1 - s / 2) * z + (s / 2) * z.abs(), rtol=0, atol=tol)


@settings(max_examples=50, deadline=None)
@given(s=st.floats(min_value=-3, max_value=3, allow_nan=False), base=st.sampled_from(base_names()))
def test_derivative_matches_autograd_away_from_kink(s, base):
    z = torch.linspace(-4, 4, 81, dtype=torch.float64)
    z = z[z.abs() > 1e-9].requires_grad_(True)  # ReLU is not differentiable at 0
    homotopy(z, s, base).sum().backward()
    torch.testing.assert_close(homotopy_derivative(z.detach(), s, base), z.grad, rtol=1e-12, atol=1e-12)


def test_relu_derivative_at_zero_is_one_minus_s():
    z = torch.zeros(1, dtype=torch.float64)
    assert base_derivative(z, "relu").item() == 0.0
    assert homotopy_derivative(z, 1.5).item() == pytest.approx(-0.5)


def test_module_s_settable_and_validated():
    act = Homotopy(0.5)
    z = grid()
    torch.testing.assert_close(act(z), homotopy(z, 0.5), rtol=0, atol=0)
    act.s = 2.0
    torch.testing.assert_close(act(z), z.abs(), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="finite"):
        act.s = float("nan")
    assert act.s == 2.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -math.inf, "abc", None])
def test_bad_s_rejected(bad):
    with pytest.raises(ValueError, match="s must be"):
        check_s(bad)
    with pytest.raises(ValueError):
        homotopy(grid(), bad)


def test_unknown_base_rejected():
    with pytest.raises(ValueError, match="unknown base activation 'softplus'"):
        check_base("softplus")
    with pytest.raises(ValueError, match="softplus"):
        homotopy(grid(), 1.0, "softplus")
    with pytest.raises(ValueError, match="softplus"):
        Homotopy(1.0, "softplus")
