"""Networks in the neural-tangent-kernel (NTK) parameterization, without biases.

Two-layer network (the paper's setting)::

    f(x) = (1/√m) Σ_{k=1..m} a_k σ_s(w_k·x),   w_k ~ N(0, I_d),  a_k ~ N(0, 1) (or ±1).

Both layers are trained by default; ``train_output=False`` freezes ``a`` (the Du et al. setting).
Deep network (the paper's "deep neural networks" extension), widths n_1..n_L::

    h_1 = W_1 x / √d,  h_{l+1} = W_{l+1} σ_s(h_l) / √n_l,  f(x) = a·σ_s(h_L) / √n_L,

all weights N(0, 1), the homotopy activation on every hidden layer.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from .activations import Homotopy, check_base, check_s

OUTPUT_INITS = ("gaussian", "sign")


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """Map "cpu" | "cuda" | "auto" to a torch.device; "auto" picks CUDA when it is available."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'auto'")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype = "float32") -> torch.dtype:
    """Map "float32" | "float64" (or a torch dtype) to a torch floating dtype."""
    table = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, torch.dtype):
        if dtype not in table.values():
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return dtype
    if dtype not in table:
        raise ValueError(f"unknown dtype {dtype!r}; expected 'float32' or 'float64'")
    return table[dtype]


def _check_width(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
        isinstance(value, float) and value.is_integer()
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value}")
    return value


def _generator(seed: int) -> torch.Generator:
    # Initialize on the CPU with a private generator so a seed gives the same weights on any device.
    return torch.Generator(device="cpu").manual_seed(int(seed))


def _output_weights(m: int, output_init: str, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    if output_init == "gaussian":
        return torch.randn(m, generator=gen, dtype=dtype)
    if output_init == "sign":
        return torch.randint(0, 2, (m,), generator=gen).to(dtype) * 2 - 1
    raise ValueError(f"unknown output_init {output_init!r}; expected one of {', '.join(OUTPUT_INITS)}")


def check_inputs(X: torch.Tensor, d: int) -> None:
    """Raise ValueError unless X is a finite (n, d) matrix."""
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"inputs must have shape (n, {d}), got {tuple(X.shape)}")
    if not torch.isfinite(X).all():
        raise ValueError("inputs contain NaN or inf")


class TwoLayerNet(nn.Module):
    """f(x) = (1/√m) Σ_k a_k σ_s(w_k·x) in NTK parameterization (no biases).

    Parameters ``W`` (m, d) and ``a`` (m,), both N(0, 1) at initialization (``output_init="sign"``
    draws a_k = ±1). ``s`` can be reassigned between stages; the weights stay.
    """

    def __init__(
        self,
        d: int,
        m: int,
        s: float = 1.0,
        base: str = "relu",
        seed: int = 0,
        output_init: str = "gaussian",
        train_output: bool = True,
        dtype: str | torch.dtype = "float32",
        device: str | torch.device = "cpu",
    ):
        super().__init__()
        self.d = _check_width("d", d)
        self.m = _check_width("m", m)
        self.activation = Homotopy(s, base)
        self.output_init = output_init
        self.train_output = bool(train_output)
        dtype = resolve_dtype(dtype)
        gen = _generator(seed)
        W = torch.randn(self.m, self.d, generator=gen, dtype=dtype)
        a = _output_weights(self.m, output_init, gen, dtype)
        device = resolve_device(device)
        self.W = nn.Parameter(W.to(device))
        self.a = nn.Parameter(a.to(device), requires_grad=self.train_output)

    @property
    def s(self) -> float:
        return self.activation.s

    @s.setter
    def s(self, value: float) -> None:
        self.activation.s = value

    @property
    def base(self) -> str:
        return self.activation.base

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Network outputs f(X), shape (n,)."""
        return self.activation(X @ self.W.T) @ self.a / math.sqrt(self.m)


class DeepNet(nn.Module):
    """NTK-parameterized MLP with the homotopy activation on every hidden layer (no biases).

    h_1 = W_1 x/√d, h_{l+1} = W_{l+1} σ_s(h_l)/√n_l, f(x) = a·σ_s(h_L)/√n_L; all weights N(0, 1).
    ``widths`` = (n_1, ..., n_L): L hidden layers, so a "three-layer network" is ``widths=(m, m)``.
    """

    def __init__(
        self,
        d: int,
        widths: Sequence[int],
        s: float = 1.0,
        base: str = "relu",
        seed: int = 0,
        train_output: bool = True,
        dtype: str | torch.dtype = "float32",
        device: str | torch.device = "cpu",
    ):
        super().__init__()
        self.d = _check_width("d", d)
        if len(widths) == 0:
            raise ValueError("widths must name at least one hidden layer")
        self.widths = tuple(_check_width(f"widths[{i}]", w) for i, w in enumerate(widths))
        self.activation = Homotopy(s, base)
        self.train_output = bool(train_output)
        dtype = resolve_dtype(dtype)
        device = resolve_device(device)
        gen = _generator(seed)
        fan_in = (self.d,) + self.widths[:-1]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(n_out, n_in, generator=gen, dtype=dtype).to(device))
            for n_in, n_out in zip(fan_in, self.widths)
        )
        a = torch.randn(self.widths[-1], generator=gen, dtype=dtype).to(device)
        self.a = nn.Parameter(a, requires_grad=self.train_output)

    @property
    def s(self) -> float:
        return self.activation.s

    @s.setter
    def s(self, value: float) -> None:
        self.activation.s = value

    @property
    def base(self) -> str:
        return self.activation.base

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        h = X @ self.weights[0].T / math.sqrt(self.d)
        for W in self.weights[1:]:
            h = self.activation(h) @ W.T / math.sqrt(W.shape[1])
        return self.activation(h) @ self.a / math.sqrt(self.widths[-1])


def to_relu(model: TwoLayerNet) -> TwoLayerNet:
    """The width-2m ReLU network (s = 1) computing exactly the same function as ``model``.

    Uses σ_s(z) = ReLU(z) + (s − 1)·ReLU(−z): neurons (w_k, a_k) and (−w_k, (s − 1)·a_k), with the
    output weights scaled by √2 because the 1/√(width) prefactor changes from 1/√m to 1/√(2m).
    """
    if not isinstance(model, TwoLayerNet) or model.base != "relu":
        raise ValueError("to_relu needs a TwoLayerNet with base 'relu'")
    s = model.s
    dtype, device = model.W.dtype, model.W.device
    relu_net = TwoLayerNet(
        model.d, 2 * model.m, s=1.0, base="relu", train_output=model.train_output, dtype=dtype, device=device
    )
    with torch.no_grad():
        relu_net.W.copy_(torch.cat([model.W, -model.W]))
        relu_net.a.copy_(math.sqrt(2.0) * torch.cat([model.a, (s - 1.0) * model.a]))
    return relu_net
