"""Finite-width (empirical) NTK of a model at its current parameters: J·Jᵀ over the trained parameters
(conventions: hrta.ntk)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from hrta.activations import check_s, homotopy, homotopy_derivative
from hrta.models import DeepNet, TwoLayerNet
from hrta.sizes import WIDTH_CHUNK

from ._dual import (
    _as_float64_matrix,
    _check_layers,
    _model_inputs,
)
from .deep import deep_empirical_ntk

__all__ = ["ReluGrams", "empirical_ntk", "jacobian_ntk", "relu_kernel_grams", "two_layer_ntk"]


def _trained(p: nn.Parameter) -> bool:
    return p.requires_grad


def two_layer_ntk(model: TwoLayerNet, X) -> torch.Tensor:
    """Exact NTK of a TwoLayerNet in closed form, J·Jᵀ without forming J:

        Θ = σ_s(Z) σ_s(Z)ᵀ / m  [if a is trained]  +  (X Xᵀ) ⊙ [σ_s'(Z) diag(a²) σ_s'(Z)ᵀ] / m,   Z = X Wᵀ,

    accumulated over WIDTH_CHUNK columns of the width with in-place GEMMs, so memory is
    O(n·WIDTH_CHUNK + n²) for any m. Computed in float64, returned in the model's dtype.
    """
    if not isinstance(model, TwoLayerNet):
        raise ValueError(f"two_layer_ntk needs a TwoLayerNet, got {type(model).__name__}")
    X64 = _model_inputs(model, X)
    n, dev = X64.shape[0], X64.device
    s, base = model.s, model.base
    W = model.W.detach().to(torch.float64)
    a = model.a.detach().to(torch.float64)
    K_out = torch.zeros(n, n, dtype=torch.float64, device=dev)
    K_in = torch.zeros(n, n, dtype=torch.float64, device=dev)
    with torch.no_grad():
        for start in range(0, model.m, WIDTH_CHUNK):
            Z = X64 @ W[start : start + WIDTH_CHUNK].T
            if _trained(model.a):
                S = homotopy(Z, s, base)
                K_out.addmm_(S, S.T)
            if _trained(model.W):
                D = homotopy_derivative(Z, s, base).mul_(a[start : start + WIDTH_CHUNK])
                K_in.addmm_(D, D.T)
        K = K_in.mul_(X64 @ X64.T).add_(K_out).div_(model.m)
        K = 0.5 * (K + K.T)  # GEMM of A·Aᵀ is symmetric only up to rounding
    return K.to(model.W.dtype)


def jacobian_ntk(model: nn.Module, X) -> torch.Tensor:
    """Exact NTK J·Jᵀ of any scalar-output model, J the (n, P) Jacobian over the parameters with
    requires_grad, from one vmapped backward pass (torch.autograd.grad with is_grads_batched=True,
    i.e. torch.func's vmap over the VJP with the rows of I_n). Runs on a float64 copy of the model;
    returned in the model's dtype. Memory O(n·P): the generic, not the fast, path.
    """
    import copy

    X64 = _model_inputs(model, X)
    model64 = copy.deepcopy(model).to(torch.float64)
    params = [p for p in model64.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trained parameters (none with requires_grad)")
    n = X64.shape[0]
    out = model64(X64)
    if out.shape != (n,):
        raise ValueError(f"model must map (n, d) inputs to (n,) outputs, got {tuple(out.shape)}")
    eye = torch.eye(n, dtype=torch.float64, device=X64.device)
    grads = torch.autograd.grad(out, params, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    J = torch.cat([g.reshape(n, -1) for g in grads if g is not None], dim=1)
    K = J @ J.T
    return (0.5 * (K + K.T)).to(next(model.parameters()).dtype)


def empirical_ntk(model: nn.Module, X) -> torch.Tensor:
    """Exact finite-width NTK Σ_p ∂f(x)/∂θ_p ∂f(x')/∂θ_p over the trained parameters (requires_grad).

    TwoLayerNet: closed form (two_layer_ntk, memory independent of m); DeepNet: one forward and backward
    pass (hrta.ntk.deep_empirical_ntk); any other model: batched-autograd Jacobians (jacobian_ntk).
    Returns (n, n) in the model's dtype, computed in float64.
    """
    if isinstance(model, TwoLayerNet):
        return two_layer_ntk(model, X)
    if isinstance(model, DeepNet):
        return deep_empirical_ntk(model, X)
    return jacobian_ntk(model, X)


@dataclass(frozen=True)
class ReluGrams:
    """Width averages of a ReLU-base TwoLayerNet from which its empirical NTK at *every* s follows.

    With Z = X Wᵀ (n×m), R = ReLU(Z), H = 1[Z > 0] (ReLU'(0) = 0, as hrta.activations) and
    σ_s(z) = (1 − s)z + s·ReLU(z), σ_s'(z) = (1 − s) + s·1[z > 0]::

        zz = Z Zᵀ/m,  zr = Z Rᵀ/m,  rr = R Rᵀ/m,
        a2 = Σ_k a_k²/m,  h = H a²/m (n-vector),  hh = (H ⊙ a)(H ⊙ a)ᵀ/m,  xx = X Xᵀ.

    The cross-s kernel Θ_{s,t}(x_i, x_j) = Σ_p ∂f_s(x_i)/∂θ_p · ∂f_t(x_j)/∂θ_p (see kernel) is then a
    combination of these with the coefficients (1 − s), s, (1 − t), t: the n×m products are formed
    once per network, not once per s.
    """

    m: int
    xx: torch.Tensor
    zz: torch.Tensor
    zr: torch.Tensor
    rr: torch.Tensor
    a2: float
    h: torch.Tensor
    hh: torch.Tensor

    def kernel(self, s: float, layers: str = "both", t: float | None = None) -> torch.Tensor:
        """Θ_{s,t} of the network (t = s: its NTK at s, equal to two_layer_ntk), float64 (n, n)::

            output layer  (1/m) Σ_k σ_s(z_ik) σ_t(z_jk)
                = (1−s)(1−t) zz + (1−s) t zr + s (1−t) zrᵀ + s t rr,
            first layer   (x_i·x_j) (1/m) Σ_k a_k² σ_s'(z_ik) σ_t'(z_jk)
                = xx ⊙ [(1−s)(1−t) a2 + (1−s) t h_j + s (1−t) h_i + s t hh].

        ``layers="first"`` keeps the first-layer term (output layer frozen). Θ_{t,s} = Θ_{s,t}ᵀ.
        """
        s = check_s(s)
        t = s if t is None else check_s(t)
        _check_layers(layers)
        u, v = 1.0 - s, 1.0 - t
        dd = (u * v * self.a2) + u * t * self.h[None, :] + s * v * self.h[:, None] + s * t * self.hh
        K = self.xx * dd
        if layers == "both":
            K = K + u * v * self.zz + u * t * self.zr + s * v * self.zr.T + s * t * self.rr
        return 0.5 * (K + K.T) if s == t else K


def relu_kernel_grams(X, W, a, chunk: int = WIDTH_CHUNK) -> ReluGrams:
    """ReluGrams of the two-layer net with first-layer weights W (m, d) and output weights a (m,).

    The width is processed ``chunk`` columns at a time (two n×chunk×n GEMMs per chunk, R Rᵀ and
    (H⊙a)(H⊙a)ᵀ; Z Rᵀ = X (R W)ᵀ and Z Zᵀ = X (WᵀW) Xᵀ need only n×d and d×d products), so the memory beyond W and a is
    O(n·chunk + n²) for any m (estimate: hrta.pipeline.relu_grams_mb). ``chunk=None``: one block
    of all m columns (the unchunked reference). Computed in float64.
    """
    X64, _ = _as_float64_matrix(X)
    W64, _ = _as_float64_matrix(W, "W")
    a64 = torch.as_tensor(a).detach().to(torch.float64).reshape(-1)
    m, d = W64.shape
    if X64.shape[1] != d:
        raise ValueError(f"X has {X64.shape[1]} columns but W has d = {d}")
    if a64.shape != (m,):
        raise ValueError(f"a must have shape ({m},) to match W, got {tuple(a64.shape)}")
    if chunk is None:
        chunk = m
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer or None, got {chunk!r}")
    X64 = X64.to(W64.device)
    a64 = a64.to(W64.device)
    n = X64.shape[0]
    rr = torch.zeros(n, n, dtype=torch.float64, device=W64.device)
    rw = torch.zeros(n, d, dtype=torch.float64, device=W64.device)
    hh = torch.zeros_like(rr)
    h = torch.zeros(n, dtype=torch.float64, device=W64.device)
    gram_w = torch.zeros(d, d, dtype=torch.float64, device=W64.device)
    with torch.no_grad():
        for start in range(0, m, chunk):
            Wc, ac = W64[start : start + chunk], a64[start : start + chunk]
            Z = X64 @ Wc.T
            R = torch.relu(Z)
            rw.addmm_(R, Wc)  # Z Rᵀ = X (R W)ᵀ: an n×d product instead of an n×n GEMM
            rr.addmm_(R, R.T)
            Ha = (Z > 0).to(torch.float64).mul_(ac)  # H ⊙ a
            hh.addmm_(Ha, Ha.T)
            h.addmv_(Ha, ac)
            gram_w.addmm_(Wc.T, Wc)
            del Z, R, Ha
    zz = X64 @ gram_w @ X64.T
    return ReluGrams(
        m=m,
        xx=X64 @ X64.T,
        zz=0.5 * (zz + zz.T) / m,
        zr=X64 @ rw.T / m,
        rr=0.5 * (rr + rr.T) / m,
        a2=float(a64.square().sum()) / m,
        h=h / m,
        hh=0.5 * (hh + hh.T) / m,
    )
