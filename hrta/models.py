"""Networks in the neural-tangent-kernel (NTK) parameterization, without biases.

Two-layer network (the paper's setting)::

    f(x) = (1/√m) Σ_{k=1..m} a_k σ_s(w_k·x),   w_k ~ N(0, I_d),  a_k ~ N(0, 1) (or ±1).

With ``output_init="antisymmetric"`` (the doubling trick, m even) unit k + m/2 copies unit k with the opposite
output weight: w_{k+m/2} = w_k, a_{k+m/2} = −a_k, so f_0 ≡ 0 for every s (every schedule starts from one function).

Both layers are trained by default; ``train_output=False`` freezes ``a`` (the Du et al. setting).
Deep network (the paper's "deep neural networks" extension), widths n_1..n_L::

    h_1 = W_1 x / √d,  h_{l+1} = W_{l+1} σ_s(h_l) / √n_l,  f(x) = a·σ_s(h_L) / √n_L,

all weights N(0, 1), the homotopy activation on every hidden layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .activations import Homotopy, homotopy, homotopy_derivative
from .bases import get_base
from .sizes import FAST_BLOCK_BYTES

__all__ = [
    "DeepNet",
    "EXPORT_RTOL",
    "EXPORT_SCALE_FLOOR",
    "OUTPUT_INITS",
    "PAIRED_OUTPUT_INITS",
    "TwoLayerNet",
    "as_float64",
    "check_input_shape",
    "check_inputs",
    "check_loss_inputs",
    "check_output_init",
    "export_loss_check",
    "homotopy_and_derivative_",
    "resolve_device",
    "resolve_dtype",
    "to_relu",
]

OUTPUT_INITS = ("gaussian", "sign", "antisymmetric")
#: output_init values whose units come in pairs (unit k and k + m/2): the width must be even
PAIRED_OUTPUT_INITS = ("antisymmetric",)


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
    resolved = torch.device(device)
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return resolved


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
    if (
        isinstance(value, bool)
        or not isinstance(value, (int,))
        and not (isinstance(value, float) and value.is_integer())
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value}")
    return value


def _generator(seed: int) -> torch.Generator:
    # Initialize on the CPU with a private generator so a seed gives the same weights on any device.
    return torch.Generator(device="cpu").manual_seed(int(seed))


def check_output_init(output_init: str, m: int) -> str:
    """``output_init`` if it is one of OUTPUT_INITS and fits width ``m`` (a paired init needs m even), else
    ValueError naming both."""
    if output_init not in OUTPUT_INITS:
        raise ValueError(f"unknown output_init {output_init!r}; expected one of {', '.join(OUTPUT_INITS)}")
    if output_init in PAIRED_OUTPUT_INITS and m % 2:
        raise ValueError(
            f"output_init {output_init!r} pairs unit k with unit k + m/2, so the width must be even; got m = {m}"
        )
    return output_init


def _initial_weights(
    m: int, d: int, output_init: str, gen: torch.Generator, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, a) at initialization: W ~ N(0, 1) then a, both drawn from ``gen`` in that order.

    gaussian: a ~ N(0, 1); sign: a = ±1. antisymmetric: the first m/2 units are drawn exactly as a gaussian network of
    width m/2 with the same generator (W_h, then a_h), and W = [W_h; W_h], a = [a_h; −a_h]: unit k + m/2 has unit k's
    input weights and the opposite output weight, so f_0 = (1/√m) Σ_{k ≤ m/2} (a_k − a_k) σ_s(w_k·x) = 0 for every s.
    """
    if check_output_init(output_init, m) == "antisymmetric":
        W_h = torch.randn(m // 2, d, generator=gen, dtype=dtype)
        a_h = torch.randn(m // 2, generator=gen, dtype=dtype)
        return torch.cat([W_h, W_h]), torch.cat([a_h, -a_h])
    W = torch.randn(m, d, generator=gen, dtype=dtype)
    if output_init == "gaussian":
        return W, torch.randn(m, generator=gen, dtype=dtype)
    return W, torch.randint(0, 2, (m,), generator=gen).to(dtype) * 2 - 1


def check_input_shape(X: torch.Tensor, d: int) -> None:
    """Raise ValueError unless X is an (n, d) matrix."""
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"inputs must have shape (n, {d}), got {tuple(X.shape)}")


def check_inputs(X: torch.Tensor, d: int) -> None:
    """Raise ValueError unless X is a finite (n, d) matrix."""
    check_input_shape(X, d)
    if not torch.isfinite(X).all():
        raise ValueError("inputs contain NaN or inf")


def check_loss_inputs(X: torch.Tensor, y: torch.Tensor, d: int, weight: torch.Tensor) -> None:
    """Raise ValueError unless X is (n, d), y is (n,) and both have ``weight``'s dtype and device
    (the hand-written loss_and_grad methods; values are checked once, up front, by hrta.train)."""
    check_input_shape(X, d)
    if X.dtype != weight.dtype or y.dtype != weight.dtype:
        raise ValueError(f"X and y must have the model's dtype {weight.dtype}, got {X.dtype} and {y.dtype}")
    if X.device != weight.device or y.device != weight.device:
        raise ValueError(f"X and y must be on the model's device {weight.device}, got {X.device} and {y.device}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"targets must have shape ({X.shape[0]},), got {tuple(y.shape)}")


def homotopy_and_derivative_(Z: torch.Tensor, s: float, base: str, D: torch.Tensor, E: torch.Tensor) -> torch.Tensor:
    """In place: Z ← σ_s(Z) = (1 − s)Z + s·base(Z) and D ← σ_s'(Z) = (1 − s) + s·base'(Z); returns Z.

    E is a scratch buffer of Z's shape. A base with its own in-place path (hrta.bases.Base.homotopy_inplace:
    tanh, gelu) uses it; any other base is computed out of place (hrta.activations), then copied in.
    """
    inplace = get_base(base).homotopy_inplace
    if inplace is not None:
        return inplace(Z, s, D, E)
    D.copy_(homotopy_derivative(Z, s, base))
    return Z.copy_(homotopy(Z, s, base))


class _HomotopyNet(nn.Module):
    """A network whose hidden layers share one σ_s (``self.activation``): ``s`` is read and reassigned in
    place between training stages, ``base`` is fixed at construction."""

    @property
    def s(self) -> float:
        return self.activation.s

    @s.setter
    def s(self, value: float) -> None:
        self.activation.s = value

    @property
    def base(self) -> str:
        return self.activation.base


class TwoLayerNet(_HomotopyNet):
    """f(x) = (1/√m) Σ_k a_k σ_s(w_k·x) in NTK parameterization (no biases).

    Parameters ``W`` (m, d) and ``a`` (m,), both N(0, 1) at initialization (``output_init="sign"``
    draws a_k = ±1). ``output_init="antisymmetric"`` (m even): units k and k + m/2 share w_k and have output weights
    a_k and −a_k, a_k ~ N(0, 1), so the network computes f_0 ≡ 0 at initialization for every s (in exact arithmetic;
    each pair's two terms are exact negatives, and the floating sum is zero up to its rounding), while its gradients
    and NTK at initialization are those of the width-m/2 gaussian network of the same seed (the first m/2 units):
    ∂f/∂a is the same for both units of a pair, ∂f/∂w opposite, so Θ_0 = (2/m) Σ_{k ≤ m/2} [σ_s(w_k·x)σ_s(w_k·x')
    + a_k² σ_s'(w_k·x)σ_s'(w_k·x') x·x']. With Gaussian output weights the initial output variance is
    E σ_s(z)² = (1 − s)² + s(1 − s) + s²/2 per unit ‖x‖² (0.625 at s = 0.5 and 1.5, 0.5 at s = 1): the paired init
    removes that difference between schedules. ``s`` can be reassigned between stages; the weights stay.
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
        device = resolve_device(device)  # before any work, so a bad device fails fast
        gen = _generator(seed)
        W, a = _initial_weights(self.m, self.d, output_init, gen, dtype)
        self.W = nn.Parameter(W.to(device))
        self.a = nn.Parameter(a.to(device), requires_grad=self.train_output)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Network outputs f(X), shape (n,)."""
        check_input_shape(X, self.d)
        return self.activation(X @ self.W.T) @ self.a / math.sqrt(self.m)

    # ---- fast hand-written loss and gradient (used by hrta.train; no autograd) ----------------

    def loss_and_grad(
        self, X: torch.Tensor, y: torch.Tensor, *, grad: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """L = (1/(2n))·‖f(X) − y‖² and its gradients (∂L/∂W, ∂L/∂a), computed by hand.

        With r = f − y, c = 1/(n√m) and σ_s' the homotopy derivative (ReLU'(0) = 0)::

            ∂L/∂a_k = c · Σ_i r_i σ_s(w_k·x_i),     ∂L/∂w_k = c · a_k · Σ_i r_i σ_s'(w_k·x_i) x_i.

        Returns ``(loss, grad_W, grad_a)``: loss a 0-dim tensor, grad_W (m, d), grad_a (m,) or None
        when the output layer is frozen (``train_output=False``); ``grad=False`` computes the loss
        alone and returns ``(loss, None, None)``. The gradient tensors are internal
        buffers, allocated once per (n, dtype, device) and overwritten by the next call: copy them
        if they must be kept. X must be (n, d) and y (n,), both of the model's dtype and device;
        values are not checked for NaN/inf here (hrta.train validates data once, up front).

        ReLU base: only the pattern P = 1[XWᵀ > 0] is stored, because ReLU(w·x) = 1[w·x > 0]·(w·x)
        lets every n×m product be written with P and d-columns (on the CPU P is formed in column
        blocks of ``fast_block_bytes`` that stay in cache, and recomputed for the second pass)::

            f_i = (1/√m)·x_i·[(1 − s)·Wᵀa + s·(P (a⊙W))_i],
            Σ_i r_i σ_s'(z_ik) x_i = H_k := (1 − s)·Xᵀr + s·(Pᵀ(r⊙X))_k,   Σ_i r_i σ_s(z_ik) = w_k·H_k.

        tanh/gelu bases: σ_s(Z) and σ_s'(Z) are written into n×m buffers, then
        f = σ_s(Z)a/√m, ∂L/∂a = c·σ_s(Z)ᵀr, ∂L/∂w_k = c·a_k·(σ_s'(Z)ᵀ(r⊙X))_k.
        """
        check_loss_inputs(X, y, self.d, self.W)
        buffers = self._fast_buffers(X.shape[0], X.dtype, X.device)
        with torch.no_grad():
            if self.base == "relu":
                return self._relu_loss_and_grad(X, y, buffers, grad)
            return self._smooth_loss_and_grad(X, y, buffers, grad)

    #: ReLU fast path: the n×m pattern is processed in column blocks of about this many bytes so a
    #: block stays in cache; one block (no recomputation) when n·m fits. Benchmarked on CPU.
    fast_block_bytes: int = FAST_BLOCK_BYTES

    def _fast_buffers(self, n: int, dtype: torch.dtype, device: torch.device) -> dict[str, torch.Tensor]:
        """Work buffers for batch size n, allocated on first use and reused by every later step."""
        cache = self.__dict__.setdefault("_fast_buffer_cache", {})
        itemsize = torch.empty((), dtype=dtype).element_size()
        cols = self.m
        if self.base == "relu" and device.type == "cpu":
            cols = min(self.m, max(1, self.fast_block_bytes // (n * itemsize)))
        key = (n, dtype, device, cols)
        if key not in cache:
            m, d = self.m, self.d

            def empty(*shape: int) -> torch.Tensor:
                return torch.empty(*shape, dtype=dtype, device=device)

            buffers = {
                "Z": empty(n * cols),  # XWᵀ (block), then 1[XWᵀ > 0] (relu) or σ_s(XWᵀ) (tanh/gelu)
                "dm": empty(d, m),
                "dc": empty(d * cols),
                "dc2": empty(d * cols),
                "dn": empty(d, n),
                "dn2": empty(d, n),
                "d": empty(d),
                "d2": empty(d),
                "f": empty(n),
                "grad_W": empty(m, d),
                "grad_a": empty(m),
            }
            if self.base != "relu":
                buffers["D"] = empty(n, m)  # σ_s'(XWᵀ)
                buffers["E"] = empty(n, m)  # gelu scratch
            cache[key] = buffers
        return cache[key]

    def _relu_loss_and_grad(self, X, y, buf, grad):
        s, n, d, m, W, a = self.s, X.shape[0], self.d, self.m, self.W, self.a
        inv_sqrt_m = 1.0 / math.sqrt(m)
        c = inv_sqrt_m / n
        aW, V, rX, wa, xr, r = buf["dm"], buf["dn"], buf["dn2"], buf["d"], buf["d2"], buf["f"]
        cols = buf["Z"].numel() // n
        blocks = [(j, min(cols, m - j)) for j in range(0, m, cols)]
        Xt = X.T

        def pattern(j: int, k: int) -> torch.Tensor:
            # 1[XW_bᵀ > 0] for columns j..j+k, in place in the float dtype (no second n×k buffer).
            # (n, m) orientation with (d, ·)-shaped products: measured faster than (m, n) on CPU.
            return torch.mm(X, W[j : j + k].T, out=buf["Z"][: n * k].view(n, k)).gt_(0)

        torch.mul(W.T, a, out=aW)  # (a ⊙ W)ᵀ, (d, m)
        torch.sum(aW, 1, out=wa)  # Wᵀa
        V.zero_()
        for j, k in blocks:
            V.addmm_(aW[:, j : j + k], pattern(j, k).T)  # += (P_b (a⊙W)_b)ᵀ, (d, n)
        V.mul_(s).add_(wa[:, None], alpha=1.0 - s).mul_(Xt)
        torch.sum(V, 0, out=r)
        r.mul_(inv_sqrt_m).sub_(y)  # residual f − y
        loss = torch.dot(r, r) * (0.5 / n)
        if not grad:
            return loss, None, None
        torch.mul(Xt, r, out=rX)  # (r ⊙ X)ᵀ, (d, n)
        torch.sum(rX, 1, out=xr)  # Xᵀr
        grad_W, grad_a = buf["grad_W"], buf["grad_a"]
        for j, k in blocks:
            # With one block the pattern from the first pass is still in the buffer.
            P = pattern(j, k) if len(blocks) > 1 else buf["Z"][: n * k].view(n, k)
            H = torch.mm(rX, P, out=buf["dc"][: d * k].view(d, k))  # (P_bᵀ(r ⊙ X))ᵀ
            H.mul_(s).add_(xr[:, None], alpha=1.0 - s)  # H_bᵀ, H_k = Σ_i r_i σ_s'(z_ik) x_i
            torch.mul(H.T, a[j : j + k, None], out=grad_W[j : j + k])
            if self.train_output:
                prod = torch.mul(W[j : j + k].T, H, out=buf["dc2"][: d * k].view(d, k))
                torch.sum(prod, 0, out=grad_a[j : j + k])  # w_k·H_k = Σ_i r_i σ_s(z_ik)
        grad_W.mul_(c)
        if not self.train_output:
            return loss, grad_W, None
        return loss, grad_W, grad_a.mul_(c)

    def _smooth_loss_and_grad(self, X, y, buf, grad):
        s, n, W, a = self.s, X.shape[0], self.W, self.a
        inv_sqrt_m = 1.0 / math.sqrt(self.m)
        c = inv_sqrt_m / n
        m = self.m
        Z, D, G, rX, r = buf["Z"].view(n, m), buf["D"], buf["dc"].view(-1, m), buf["dn"], buf["f"]
        torch.mm(X, W.T, out=Z)
        S = homotopy_and_derivative_(Z, s, self.base, D, buf["E"])
        torch.mv(S, a, out=r)
        r.mul_(inv_sqrt_m).sub_(y)
        loss = torch.dot(r, r) * (0.5 / n)
        if not grad:
            return loss, None, None
        torch.mul(X.T, r, out=rX)
        torch.mm(rX, D, out=G)  # (σ_s'(Z)ᵀ(r ⊙ X))ᵀ, (d, m)
        grad_W = torch.mul(G.T, a[:, None], out=buf["grad_W"]).mul_(c)
        grad_a = None
        if self.train_output:
            grad_a = torch.mv(S.T, r, out=buf["grad_a"]).mul_(c)
        return loss, grad_W, grad_a


class DeepNet(_HomotopyNet):
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

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Network outputs f(X), shape (n,)."""
        check_input_shape(X, self.d)
        h = X @ self.weights[0].T / math.sqrt(self.d)
        # Index rather than slice: slicing a ParameterList re-wraps the tensors as new Parameters,
        # which detaches them from torch.func.functional_call's substituted weights.
        for i in range(1, len(self.weights)):
            W = self.weights[i]
            h = self.activation(h) @ W.T / math.sqrt(W.shape[1])
        return self.activation(h) @ self.a / math.sqrt(self.widths[-1])

    def loss_and_grad(
        self, X: torch.Tensor, y: torch.Tensor, *, grad: bool = True
    ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """L = (1/(2n))·‖f(X) − y‖² and its gradients, by one hand-written backward pass (no autograd).

        With a_0 = X, h_l = a_{l−1}W_lᵀ/√n_{l−1}, a_l = σ_s(h_l), D_l = σ_s'(h_l) (n_0 = d; ReLU'(0) = 0),
        f = a_L a/√n_L and r = f − y::

            δ_L = (r aᵀ/(n√n_L)) ⊙ D_L,   δ_{l−1} = (δ_l W_l/√n_{l−1}) ⊙ D_{l−1},
            ∂L/∂W_l = δ_lᵀ a_{l−1}/√n_{l−1},   ∂L/∂a = a_Lᵀ r/(n√n_L).

        Three n·n_{l−1}·n_l products per hidden layer (one forward, two backward) and no autograd graph:
        the GEMM floor of a step (benchmarks/bench_deep_step.py measures it against autograd). ReLU base:
        σ_s(h) = h ⊙ D with D = (1 − s) + s·1[h > 0], so D alone is formed. Returns ``(loss, grads)``,
        grads in the order of ``parameters()`` with requires_grad (a if it requires grad, then W_1 … W_L),
        or ``(loss, None)`` with ``grad=False``. X (n, d) and y (n,) of the model's dtype and device.
        """
        check_loss_inputs(X, y, self.d, self.a)
        s, base, n = self.s, self.base, X.shape[0]
        scales = [1.0 / math.sqrt(W.shape[1]) for W in self.weights]
        with torch.no_grad():
            acts, derivs = [X], []
            for W, c in zip(self.weights, scales):
                h = torch.mm(acts[-1], W.T).mul_(c)
                if base == "relu":
                    D = (h > 0).to(h.dtype).mul_(s).add_(1.0 - s)
                    acts.append(h.mul_(D))
                else:
                    D = torch.empty_like(h)
                    acts.append(homotopy_and_derivative_(h, s, base, D, torch.empty_like(h)))
                derivs.append(D)
            c_out = 1.0 / math.sqrt(self.widths[-1])
            r = torch.mv(acts[-1], self.a).mul_(c_out).sub_(y)
            loss = torch.dot(r, r) * (0.5 / n)
            if not grad:
                return loss, None
            g = r / n
            grads = []
            delta = torch.outer(g, self.a).mul_(c_out).mul_(derivs[-1])
            for layer in range(len(self.weights) - 1, -1, -1):
                W, c = self.weights[layer], scales[layer]
                delta.mul_(c)  # 1/√n_{l−1} once on the n×n_l factor, shared by both products
                grads.append(torch.mm(delta.T, acts[layer]))
                if layer > 0:
                    delta = torch.mm(delta, W).mul_(derivs[layer - 1])
            grads.reverse()
            if self.a.requires_grad:
                grads.insert(0, torch.mv(acts[-1].T, g).mul_(c_out))
        return loss, grads


def to_relu(model: TwoLayerNet) -> TwoLayerNet:
    """The width-2m ReLU network (s = 1) computing exactly the same function as ``model``.

    Uses σ_s(z) = ReLU(z) + (s − 1)·ReLU(−z): neurons (w_k, a_k) and (−w_k, (s − 1)·a_k), with the
    output weights scaled by √2 because the 1/√(width) prefactor changes from 1/√m to 1/√(2m). An identity for any
    weights, so for every ``output_init`` (an antisymmetric network at initialization exports to a ReLU network
    that computes 0 too); the export keeps the weights, not the initialization's label.
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


EXPORT_RTOL = 1e-10  # float64: the two networks compute the same sums up to rounding (≈ 1e-15 relative)
#: export_loss_check's scale is max_i |f_σ(x_i)|, but at least this fraction of the terms' scale
#: max_i (1/√m) Σ_k |a_k σ_s(w_k·x_i)|: outputs that cancel (f_0 ≡ 0 of output_init "antisymmetric") have no scale
#: of their own, and their rounding is relative to the terms'. Ordinary networks are far above it.
EXPORT_SCALE_FLOOR = 2.0**-20


def as_float64(model: TwoLayerNet) -> TwoLayerNet:
    """A float64 copy of ``model`` (same s, base, weights cast exactly: float32 → float64 loses nothing)."""
    copy = TwoLayerNet(
        model.d,
        model.m,
        s=model.s,
        base=model.base,
        output_init=model.output_init,
        train_output=model.train_output,
        dtype="float64",
        device=model.W.device,
    )
    with torch.no_grad():
        copy.W.copy_(model.W)
        copy.a.copy_(model.a)
    return copy


def _term_scale(model: TwoLayerNet, X: torch.Tensor, chunk: int = 1 << 14) -> float:
    """max_i (1/√m) Σ_k |a_k σ_s(w_k·x_i)|, the scale of the sum f(x_i) is rounded at (column chunks: no n×m matrix)."""
    total = torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)
    with torch.no_grad():
        for j in range(0, model.m, chunk):
            total += model.activation(X @ model.W[j : j + chunk].T).abs() @ model.a[j : j + chunk].abs()
    return float(total.max()) / math.sqrt(model.m) if total.numel() else 0.0


def export_loss_check(model: TwoLayerNet, X, y) -> float:
    """Export ``model`` with :func:`to_relu` and return the relative difference of the two networks' outputs on X,
    max_i |f_relu(x_i) − f_σ(x_i)| / max_i |f_σ(x_i)|, both computed in float64 (whatever dtype the network was
    trained in: its weights are cast exactly), f_σ by the σ_s network's own forward pass, f_relu by the width-2m
    ReLU network's. Equal outputs give equal training losses L = (1/(2n))‖f(X) − y‖².

    Raises ValueError when the difference exceeds EXPORT_RTOL: the export is an exact identity, so a larger gap is
    a bug, not a result. The outputs, not the losses, are compared: near a perfect fit (L ≈ 1e-14, reached in the
    λ_min regime) the loss is a difference of nearly equal numbers, and rounding alone moves it by ~1e-9 relative.
    Outputs that cancel (f_0 ≡ 0 of output_init "antisymmetric") have no scale of their own: where the ratio exceeds
    EXPORT_RTOL it is taken again with the denominator at least EXPORT_SCALE_FLOOR times the terms' scale
    max_i (1/√m) Σ_k |a_k σ_s(w_k·x_i)|, the scale their rounding is relative to.
    """
    model64 = as_float64(model)
    relu_net = to_relu(model64)
    Xt = torch.as_tensor(X, dtype=torch.float64, device=model64.W.device)
    with torch.no_grad():
        f_sigma = model64(Xt).reshape(-1)
        f_relu = relu_net(Xt).reshape(-1)
    scale = float(f_sigma.abs().max()) if f_sigma.numel() else 0.0
    rel = float((f_relu - f_sigma).abs().max()) / max(scale, 1e-300) if f_sigma.numel() else 0.0
    if rel > EXPORT_RTOL:  # outputs that cancel: measured against the terms' scale (only here, so that it costs nothing
        # and changes no value where the outputs have a scale of their own)
        scale = max(scale, EXPORT_SCALE_FLOOR * _term_scale(model64, Xt))
        rel = float((f_relu - f_sigma).abs().max()) / max(scale, 1e-300)
    del y  # the training labels do not enter the identity; kept in the signature for the callers
    if rel > EXPORT_RTOL:
        raise ValueError(
            f"to_relu export of the s = {model.s:g} network: outputs differ by {rel:.3g} of their scale "
            f"(relative difference {rel:.3g} > {EXPORT_RTOL:g})"
        )
    return rel
