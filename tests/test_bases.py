"""hrta.bases: the one registry of base activations (conventions, the in-place paths, register_base)."""

import dataclasses
import math
import subprocess
import sys

import pytest
import torch

from hrta import bases
from hrta.activations import homotopy, homotopy_derivative
from hrta.data import make_dataset
from hrta.models import TwoLayerNet, homotopy_and_derivative_
from hrta.schedules import parse_schedule
from hrta.train import TrainConfig, train


def test_registry_order_labels_and_conventions():
    assert bases.base_names() == ("relu", "tanh", "gelu")
    assert [bases.base_label(b) for b in bases.base_names()] == ["ReLU", "tanh", "GELU"]
    z = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    assert bases.get_base("relu").derivative(z).tolist() == [0.0, 0.0, 1.0]  # ReLU'(0) = 0
    phi = 0.5 * (1 + math.erf(2.0 / math.sqrt(2)))  # GELU(2) = 2Φ(2), the exact (erf) form
    assert bases.get_base("gelu").value(z)[2].item() == pytest.approx(2 * phi, rel=1e-15)
    with pytest.raises(ValueError, match=r"unknown base activation 'sigmoid'; expected one of relu, tanh, gelu"):
        bases.get_base("sigmoid")


def test_importing_the_registry_does_not_import_torch():
    code = "import sys, hrta.bases; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("base", ["tanh", "gelu"])
@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5])
def test_in_place_paths_match_the_out_of_place_definition(base, s):
    Z0 = torch.linspace(-6, 6, 241, dtype=torch.float64).reshape(1, -1)
    Z, D, E = Z0.clone(), torch.empty_like(Z0), torch.empty_like(Z0)
    assert bases.get_base(base).homotopy_inplace is not None
    assert homotopy_and_derivative_(Z, s, base, D, E) is Z
    torch.testing.assert_close(Z, homotopy(Z0, s, base), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(D, homotopy_derivative(Z0, s, base), rtol=1e-14, atol=1e-14)


#: the plain torch formula of each smooth base (the project's GELU is the exact erf form, bases docstring)
PLAIN = {"tanh": torch.tanh, "gelu": lambda z: torch.nn.functional.gelu(z, approximate="none")}


def autograd_homotopy(z0: torch.Tensor, s: float, base: str) -> tuple[torch.Tensor, torch.Tensor]:
    """σ_s(z) = (1 − s)z + s·base(z) from the plain torch formula, and σ_s'(z) by autograd: the reference."""
    z = z0.clone().requires_grad_(True)
    sigma = (1 - s) * z + s * PLAIN[base](z)
    (derivative,) = torch.autograd.grad(sigma.sum(), z)
    return sigma.detach(), derivative


def wide_z(dtype: torch.dtype) -> torch.Tensor:
    """z on [−40, 40] (step 2e-4) and the edges: ±0, tiny, the float32/float64 exp overflow points, ±700."""
    edges = [0.0, -0.0, 1e-300, -1e-300, 1e-30, -1e-30, 1e-8, -1e-8, 20, -20, 44, -44, 45, -45, 88, -88, 89, -89]
    edges += [300, -300, 355, -355, 356, -356, 700, -700, 1e10, -1e10]
    z = torch.cat([torch.linspace(-40, 40, 400_001, dtype=torch.float64), torch.tensor(edges, dtype=torch.float64)])
    return z.to(dtype).reshape(1, -1)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("base", ["tanh", "gelu"])
@pytest.mark.parametrize("s", [0.0, 0.5, 1.0, 1.5, 2.0])
def test_in_place_paths_equal_the_autograd_reference_of_the_plain_formula(dtype, base, s):
    """Reference: autograd of (1 − s)z + s·torch.tanh(z) / s·F.gelu(z, approximate="none") in the same dtype.
    "To rounding": |error| ≤ 10 ulp(1)·(1 + |reference|), absolute near 0 (tanh z ≈ z is computed as
    2·sigmoid(2z) − 1); measured ≤ 4.4 ulp for tanh, and ≤ 8.7 for GELU in float32, as the old path (torch.erf
    against F.gelu's float32 erf)."""
    z = wide_z(dtype)
    Z, D, E = z.clone(), torch.empty_like(z), torch.empty_like(z)
    homotopy_and_derivative_(Z, s, base, D, E)
    ref_sigma, ref_derivative = autograd_homotopy(z, s, base)
    assert torch.isfinite(Z).all() and torch.isfinite(D).all()
    tol = 10 * torch.finfo(dtype).eps
    assert ((Z - ref_sigma).abs() <= tol * (1 + ref_sigma.abs())).all()
    assert ((D - ref_derivative).abs() <= tol * (1 + ref_derivative.abs())).all()
    zero = (z == 0).nonzero()[:, 1]  # exact at z = 0: σ_s(0) = 0, σ_s'(0) = (1 − s) + s·base'(0)
    assert (Z[0, zero] == 0).all()
    assert (D[0, zero] == (1.0 if base == "tanh" else 1 - s / 2)).all()


def _old_tanh_homotopy_inplace(Z, s, D, E):
    """The tanh in-place path before issue 23 (torch.tanh), kept as the reference of the trained-run test."""
    torch.tanh(Z, out=E)
    torch.mul(E, E, out=D).mul_(-s).add_(1.0)
    return Z.mul_(1.0 - s).add_(E, alpha=s)


def _old_gelu_homotopy_inplace(Z, s, D, E):
    """The GELU in-place path before issue 23, kept as the reference of the trained-run test."""
    torch.mul(Z, 1.0 / math.sqrt(2.0), out=D).erf_().add_(1.0).mul_(0.5)
    torch.mul(Z, Z, out=E).mul_(-0.5).exp_().mul_(1.0 / math.sqrt(2.0 * math.pi)).mul_(Z)
    D.mul_(s).add_(1.0 - s)
    Z.mul_(D)
    D.add_(E, alpha=s)
    return Z


OLD_PATHS = {"tanh": _old_tanh_homotopy_inplace, "gelu": _old_gelu_homotopy_inplace}


@pytest.mark.parametrize("base", ["tanh", "gelu"])
def test_a_trained_run_equals_the_old_in_place_path(base, monkeypatch):
    """30 GD steps of E5's kind of cell (sin1d, n = 100, m = 1000, float64, lr 1, s through 0.5, 1 and 1.5) with
    the registry's path and with the path before issue 23 (reference): losses and weights equal to rounding
    (measured: losses within 5.4e-16 relative, weights 6.7e-16; over E5's 2000-step "0.5x500,1x500,1.5x1000"
    tanh 1.3e-15 and 9.1e-15, GELU 1.8e-15 and 4.4e-15)."""
    ds = make_dataset("sin1d", n_train=100, n_test=50, seed=0)
    config = TrainConfig(parse_schedule("0.5x10,1x10,1.5x10"), lr=1.0, log_every=1, dtype="float64")

    def run():
        net = TwoLayerNet(ds.d, m=1000, s=0.5, base=base, seed=0, dtype="float64")
        history = train(net, ds.X_train, ds.y_train, config, ds.X_test, ds.y_test).history
        return history[["train_loss", "test_loss"]].to_numpy(), net.W.detach(), net.a.detach()

    new = run()
    monkeypatch.setitem(
        bases.REGISTRY, base, dataclasses.replace(bases.REGISTRY[base], homotopy_inplace=OLD_PATHS[base])
    )
    old = run()
    assert old[0].shape == (31, 2)
    torch.testing.assert_close(torch.from_numpy(new[0]), torch.from_numpy(old[0]), rtol=1e-14, atol=0)
    for got, want in zip(new[1:], old[1:]):
        torch.testing.assert_close(got, want, rtol=1e-14, atol=1e-14)


@pytest.fixture
def cube():
    """A made-up base z³ (no in-place path), removed from the registry after the test."""
    entry = bases.register_base("cube", lambda z: z**3, lambda z: 3 * z**2)
    yield entry
    del bases.REGISTRY["cube"]


def test_register_base_adds_a_base_the_library_uses(cube):
    assert bases.base_names()[-1] == "cube" and cube.label == "cube" and cube.homotopy_inplace is None
    Z0 = torch.linspace(-2, 2, 9, dtype=torch.float64).reshape(1, -1)
    Z, D = Z0.clone(), torch.empty_like(Z0)
    homotopy_and_derivative_(Z, 0.5, "cube", D, torch.empty_like(Z0))  # the out-of-place fallback
    torch.testing.assert_close(Z, 0.5 * Z0 + 0.5 * Z0**3)
    torch.testing.assert_close(D, 0.5 + 1.5 * Z0**2)


def test_register_base_refuses_a_taken_or_malformed_name_and_non_functions(cube):
    with pytest.raises(ValueError, match="'cube' is already registered"):
        bases.register_base("cube", abs, abs)
    with pytest.raises(ValueError, match="'relu' is already registered"):
        bases.register_base("relu", abs, abs)
    for bad in ("Soft Plus", "", "2x", None):
        with pytest.raises(ValueError, match="must match"):
            bases.register_base(bad, abs, abs)
    with pytest.raises(TypeError, match="'square': derivative must be callable"):
        bases.register_base("square", abs, 2.0)
    assert "square" not in bases.REGISTRY
