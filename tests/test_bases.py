"""hrta.bases: the one registry of base activations (conventions, the in-place paths, register_base)."""

import math
import subprocess
import sys

import pytest
import torch

from hrta import bases
from hrta.activations import homotopy, homotopy_derivative
from hrta.models import homotopy_and_derivative_


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
