"""Base activations of the homotopy σ_s(z) = (1 − s)·z + s·base(z): the one registry.

Every base activation is one entry of ``REGISTRY`` (name → Base): its value base(z), its derivative
base'(z), its name in reports and, optionally, a fast in-place σ_s/σ_s' path for the hand-written
training passes (hrta.models.homotopy_and_derivative_). Everything else reads the registry: the
library (hrta.activations, hrta.models, hrta.ntk), the config schema (the enum of ``$defs.base`` is
filled from ``base_names()`` when a config is validated: hrta.pipeline.config_schema), the estimates
(hrta.pipeline.memory, hrta.pipeline.runtime) and the claims text (workflow/scripts/claims_summary.py).

A new base is one entry of ``REGISTRY`` below (docs/extending.md, "A new base activation")::

    "softplus": Base("softplus", lambda z: z.clamp_min(0) + (-z.abs()).exp().log1p(), lambda z: z.sigmoid()),

or, for a script that uses the library alone, ``register_base("softplus", value, derivative)`` at run time.
The ReLU fast paths (hrta.models: the stored sign pattern; the estimates) are keyed on the name "relu" too.

Conventions: ReLU'(0) = 0; GELU is the exact (erf) form gelu(z) = z·Φ(z), not the tanh approximation.
The closed-form (arc-cosine) NTK exists for ReLU only (hrta.ntk.analytic, hrta.ntk._dual and
hrta.ntk.deep select it by the name "relu"); every other base gets its analytic kernels by Gauss–Hermite
quadrature of ``value`` and ``derivative``.

Torch-free at import (the pipeline validates configs without torch): the functions are written with
tensor methods, or import torch in their bodies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = [
    "REGISTRY",
    "Base",
    "base_label",
    "base_names",
    "check_base",
    "get_base",
    "register_base",
]

#: A base name: it appears in config values and in runtime constant names (``step_<base>_float64``).
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Base:
    """One base activation of σ_s(z) = (1 − s)·z + s·base(z).

    ``label``: its name in reports (figures/CLAIMS.md). ``value(z)`` = base(z) and ``derivative(z)`` =
    base'(z): elementwise, tensor → tensor of z's shape and dtype. ``homotopy_inplace(Z, s, D, E)``
    (optional, for speed only): in place Z ← σ_s(Z) and D ← σ_s'(Z) = (1 − s) + s·base'(Z), with E a
    scratch buffer of Z's shape; returns Z. Without it hrta.models.homotopy_and_derivative_ computes
    σ_s and σ_s' out of place from ``value`` and ``derivative`` and copies them in.
    """

    label: str
    value: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor]
    homotopy_inplace: Callable[[torch.Tensor, float, torch.Tensor, torch.Tensor], torch.Tensor] | None = None


def _relu(z: torch.Tensor) -> torch.Tensor:
    """ReLU(z) = max(z, 0)."""
    return z.relu()


def _relu_derivative(z: torch.Tensor) -> torch.Tensor:
    """ReLU'(z) = 1[z > 0], with the convention ReLU'(0) = 0."""
    return (z > 0).to(z.dtype)


def _tanh(z: torch.Tensor) -> torch.Tensor:
    return z.tanh()


def _tanh_derivative(z: torch.Tensor) -> torch.Tensor:
    """tanh'(z) = 1 − tanh²(z)."""
    return 1.0 - z.tanh() ** 2


def _tanh_homotopy_inplace(Z: torch.Tensor, s: float, D: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """Z ← (1 − s)Z + s·tanh(Z), D ← (1 − s) + s(1 − tanh²Z) = 1 − s·tanh²Z; E: scratch.

    tanh from one exponential: tanh(z) = 2·sigmoid(2z) − 1 with sigmoid(x) = 1/(1 + e⁻ˣ) (torch.sigmoid:
    about 4× cheaper than torch.tanh in float64 on the CPU, benchmarks/bench_train_step.py --bases). Exact
    at z = 0 (sigmoid(0) = ½), no overflow: e⁻ˣ = inf gives sigmoid = 0, tanh = −1, and e⁻ˣ = 0 gives 1.
    Absolute error a few units of rounding (near z = 0 absolute, not relative to tanh z ≈ z: the value
    enters the step only through sums of O(1) terms). At s = 1 tanh is written into Z directly.
    """
    import torch  # noqa: PLC0415 (this module stays importable without torch)

    T = Z if s == 1.0 else E
    torch.mul(Z, 2.0, out=E).sigmoid_()  # sigmoid(2z)
    torch.add(Z.new_full((), -1.0), E, alpha=2.0, out=T)  # tanh z = 2·sigmoid(2z) − 1
    torch.addcmul(Z.new_full((), 1.0), T, T, value=-s, out=D)  # 1 − s·tanh²z
    if T is E:
        Z.lerp_(E, s)  # (1 − s)z + s·tanh z
    return Z


def _gelu(z: torch.Tensor) -> torch.Tensor:
    """GELU(z) = z·Φ(z), exact (erf) form."""
    import torch  # noqa: PLC0415

    return torch.nn.functional.gelu(z)


def _gelu_derivative(z: torch.Tensor) -> torch.Tensor:
    """GELU'(z) = Φ(z) + z·φ(z), Φ(z) = ½(1 + erf(z/√2)), φ(z) = exp(−z²/2)/√(2π)."""
    cdf = 0.5 * (1.0 + (z / math.sqrt(2.0)).erf())
    pdf = (-0.5 * z * z).exp() / math.sqrt(2.0 * math.pi)
    return cdf + z * pdf


def _gelu_homotopy_inplace(Z: torch.Tensor, s: float, D: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """With g = (1 − s) + s·Φ(Z): Z ← Z·g = σ_s(Z) and D ← g + s·Zφ(Z) = σ_s'(Z); E ← Zφ(Z).

    One erf and one exp, each fused pass writing its result where it is used: u = z/√2,
    g = (1 − s/2) + (s/2)·erf(u), φ(z) = exp(−u² − ½ln 2π) (the 1/√(2π) folded into the exponent).
    """
    import torch  # noqa: PLC0415

    torch.mul(Z, 1.0 / math.sqrt(2.0), out=E)  # u = z/√2
    torch.erf(E, out=D)
    torch.addcmul(Z.new_full((), -0.5 * math.log(2.0 * math.pi)), E, E, value=-1.0, out=E).exp_()  # φ(z)
    E.mul_(Z)  # zφ(z)
    torch.add(Z.new_full((), 1.0 - 0.5 * s), D, alpha=0.5 * s, out=D)  # g = (1 − s) + s·½(1 + erf u)
    Z.mul_(D)  # σ_s(z) = z·g
    D.add_(E, alpha=s)  # σ_s'(z) = g + s·zφ(z)
    return Z


#: name → Base: every base activation, in the order reports list them. Add one with register_base (the
#: library API) or, to make it part of the pipeline (config schema, estimates, reports), one entry here.
REGISTRY: dict[str, Base] = {
    "relu": Base("ReLU", _relu, _relu_derivative),
    "tanh": Base("tanh", _tanh, _tanh_derivative, _tanh_homotopy_inplace),
    "gelu": Base("GELU", _gelu, _gelu_derivative, _gelu_homotopy_inplace),
}


def base_names() -> tuple[str, ...]:
    """The names of the registered bases, in registration order (read at call time)."""
    return tuple(REGISTRY)


def check_base(name: str) -> str:
    """Return ``name`` if it names a registered base activation, else raise ValueError naming it and
    the known ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown base activation {name!r}; expected one of {', '.join(REGISTRY)}")
    return name


def get_base(name: str) -> Base:
    """The registry entry of base ``name`` (ValueError for an unknown name, as check_base)."""
    return REGISTRY[check_base(name)]


def base_label(name: str) -> str:
    """How reports name base ``name`` (its ``label``: "ReLU", "tanh", "GELU")."""
    return get_base(name).label


def register_base(
    name: str,
    value: Callable[[torch.Tensor], torch.Tensor],
    derivative: Callable[[torch.Tensor], torch.Tensor],
    *,
    label: str | None = None,
    homotopy_inplace: Callable[[torch.Tensor, float, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> Base:
    """Add base activation ``name`` (value base(z), derivative base'(z); ``label`` defaults to the name) to
    the registry and return its entry. ValueError for a name already registered or not of the form
    ``[a-z][a-z0-9_]*``, TypeError for a function that is not callable."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"base activation name {name!r} must match {_NAME.pattern} (lower case, digits, _)")
    if name in REGISTRY:
        raise ValueError(f"base activation {name!r} is already registered; registered: {', '.join(REGISTRY)}")
    functions = {"value": value, "derivative": derivative}
    if homotopy_inplace is not None:
        functions["homotopy_inplace"] = homotopy_inplace
    for what, fn in functions.items():
        if not callable(fn):
            raise TypeError(f"base activation {name!r}: {what} must be callable, got {fn!r}")
    entry = Base(label or name, value, derivative, homotopy_inplace)
    REGISTRY[name] = entry
    return entry
