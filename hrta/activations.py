"""Homotopy activations σ_s(z) = (1 − s)·z + s·base(z).

s = 0 is the identity, s = 1 the base activation (ReLU in the paper), s ∈ (1, 2) is the
paper's *relaxation* (σ_{3/2}(z) = −½z + 3/2·ReLU(z)) and, for base = ReLU, s = 2 gives |z|.
For ReLU, σ_s(z) = ReLU(z) + (s − 1)·ReLU(−z) = (1 − s/2)·z + (s/2)·|z|.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from . import sizes
from .checks import finite_real
from .sizes import BASES  # re-exported for callers; checks read sizes.BASES at call time

__all__ = [
    "BASES",
    "BASE_FUNCTIONS",
    "Homotopy",
    "base_activation",
    "base_derivative",
    "check_base",
    "check_s",
    "homotopy",
    "homotopy_derivative",
]


def check_base(base: str) -> str:
    """Return ``base`` if it names a known base activation (hrta.sizes.BASES, read at call time), else
    raise ValueError naming it."""
    if base not in sizes.BASES:
        raise ValueError(f"unknown base activation {base!r}; expected one of {', '.join(sizes.BASES)}")
    return base


def _gelu_derivative(z: torch.Tensor) -> torch.Tensor:
    cdf = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
    pdf = torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return cdf + z * pdf


#: base name -> (base(z), base'(z)): the implementation of every name in hrta.sizes.BASES (a test checks
#: that the keys are exactly BASES). ReLU'(0) = 0; GELU is the exact (erf) form. A new base adds its
#: name to BASES and its pair here; docs/extending.md lists what else it may touch.
BASE_FUNCTIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "relu": (torch.relu, lambda z: (z > 0).to(z.dtype)),
    "tanh": (torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2),
    "gelu": (torch.nn.functional.gelu, _gelu_derivative),
}


def check_s(s: float) -> float:
    """Return ``s`` as a float if it is finite, else raise ValueError naming it."""
    return finite_real("homotopy parameter s", s)


def base_activation(z: torch.Tensor, base: str = "relu") -> torch.Tensor:
    """The base activation (BASE_FUNCTIONS): ReLU(z), tanh(z) or GELU(z) (exact, erf form)."""
    return BASE_FUNCTIONS[check_base(base)][0](z)


def base_derivative(z: torch.Tensor, base: str = "relu") -> torch.Tensor:
    """Derivative of the base activation (BASE_FUNCTIONS); for ReLU the convention ReLU'(0) = 0."""
    return BASE_FUNCTIONS[check_base(base)][1](z)


def homotopy(z: torch.Tensor, s: float, base: str = "relu") -> torch.Tensor:
    """σ_s(z) = (1 − s)·z + s·base(z)."""
    s = check_s(s)
    check_base(base)
    return (1.0 - s) * z + s * base_activation(z, base)


def homotopy_derivative(z: torch.Tensor, s: float, base: str = "relu") -> torch.Tensor:
    """σ_s'(z) = (1 − s) + s·base'(z)."""
    s = check_s(s)
    check_base(base)
    return (1.0 - s) + s * base_derivative(z, base)


class Homotopy(nn.Module):
    """σ_s as a module; ``s`` may be reassigned in place between training stages."""

    def __init__(self, s: float = 1.0, base: str = "relu"):
        super().__init__()
        self.base = check_base(base)
        self.s = s

    @property
    def s(self) -> float:
        return self._s

    @s.setter
    def s(self, value: float) -> None:
        self._s = check_s(value)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return homotopy(z, self._s, self.base)

    def extra_repr(self) -> str:
        return f"s={self._s}, base={self.base!r}"
