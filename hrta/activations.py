"""Homotopy activations σ_s(z) = (1 − s)·z + s·base(z).

s = 0 is the identity, s = 1 the base activation (ReLU in the paper), s ∈ (1, 2) is the
paper's *relaxation* (σ_{3/2}(z) = −½z + 3/2·ReLU(z)) and, for base = ReLU, s = 2 gives |z|.
For ReLU, σ_s(z) = ReLU(z) + (s − 1)·ReLU(−z) = (1 − s/2)·z + (s/2)·|z|.
"""

from __future__ import annotations

import torch
from torch import nn

from .bases import check_base, get_base
from .checks import finite_real

__all__ = [
    "Homotopy",
    "base_activation",
    "base_derivative",
    "check_s",
    "homotopy",
    "homotopy_derivative",
]


def check_s(s: float) -> float:
    """Return ``s`` as a float if it is finite, else raise ValueError naming it."""
    return finite_real("homotopy parameter s", s)


def base_activation(z: torch.Tensor, base: str = "relu") -> torch.Tensor:
    """base(z) of a registered base activation (hrta.bases: ReLU, tanh, GELU in its exact erf form, ...)."""
    return get_base(base).value(z)


def base_derivative(z: torch.Tensor, base: str = "relu") -> torch.Tensor:
    """base'(z) of a registered base activation (hrta.bases); for ReLU the convention ReLU'(0) = 0."""
    return get_base(base).derivative(z)


def homotopy(z: torch.Tensor, s: float, base: str = "relu") -> torch.Tensor:
    """σ_s(z) = (1 − s)·z + s·base(z)."""
    s = check_s(s)
    return (1.0 - s) * z + s * get_base(base).value(z)


def homotopy_derivative(z: torch.Tensor, s: float, base: str = "relu") -> torch.Tensor:
    """σ_s'(z) = (1 − s) + s·base'(z)."""
    s = check_s(s)
    return (1.0 - s) + s * get_base(base).derivative(z)


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
