"""Infinite-width NNGP and NTK of a depth-L homotopy network (``hrta.models.DeepNet``), and its exact
finite-width NTK without a Jacobian.

Convention (DeepNet's own): widths n_1..n_L, all weights N(0, 1), no biases, every layer trained::

    h_1 = W_1 x / √d,   h_{l+1} = W_{l+1} σ_s(h_l) / √n_l,   f(x) = a·σ_s(h_L) / √n_L.

As n_1, …, n_L → ∞ (Jacot et al. 2018; Arora et al. 2019, the dual-kernel recursion)::

    Σ¹(x, x') = x·x'/d,                               Θ¹ = Σ¹,
    Σ^{l+1} = E[σ_s(u)σ_s(v)],  Σ̇^{l+1} = E[σ_s'(u)σ_s'(v)],   (u, v) ~ N(0, Σ^l restricted to {x, x'}),
    Θ^{l+1} = Σ^{l+1} + Θ^l ⊙ Σ̇^{l+1},                                                     l = 1..L,

and the network's NTK is Θ^{L+1}, its NNGP kernel (the covariance of f at initialization) Σ^{L+1}.
``depth = 1`` is the two-layer kernel ``hrta.ntk.analytic_ntk`` of X/√d (TwoLayerNet has no 1/√d).

ReLU base, closed form. With q = Σ(x, x), θ the angle of Σ (cos θ = Σ(x,x')/√(q q')), δ = π − θ,
ρ₀ = E[σ_s(z)²] = ((1 − s)² + 1)/2 and J(t) = sin t − t cos t (see hrta.ntk)::

    Σ^{l+1} = √(q q')·ρ(θ),  ρ(θ) = (1 − s/2)² cos θ + (s/2)²(2/π)(sin θ + (π/2 − θ) cos θ)
                                  = −(1 − s) cos δ + (s²/(2π)) J(δ),
    Σ̇^{l+1} = (1 − s/2)² + (s/2)²(1 − 2θ/π) = (1 − s) + (s²/(2π)) δ,    q^{l+1} = ρ₀ q^l.

Numerically stable angles: Σ̇ is linear in θ and θ ≈ √(2(1 − cos θ)) near 0, so an arccos of a rounded
cosine would cost 8 digits for nearly parallel (or antiparallel) inputs. The first angle comes from the
inputs with hrta.ntk.pairwise_angles (a few ulps relative); every later one from
θ' = 2·atan2(√(ρ₀ − ρ), √(ρ₀ + ρ)), δ' = 2·atan2(√(ρ₀ + ρ), √(ρ₀ − ρ)), with the two differences written
without cancellation for s ∈ [0, 2] (θ ≤ π/2 | θ > π/2)::

    ρ₀ − ρ = 2ρ₀ sin²(θ/2) − (s²/(2π)) J(θ)    | (2 − s)²/2 − 2(1 − s) sin²(δ/2) − (s²/(2π)) J(δ)
    ρ₀ + ρ = ρ₀ + ρ(θ)  (both terms ≥ 0)        | s²/2 + 2(1 − s) sin²(δ/2) + (s²/(2π)) J(δ)

so the kernel keeps ~1e-15 relative accuracy at any angle (tested against a 40-digit mpmath evaluation
of the recursion with the arccos formula). tanh / GELU bases: the 2-D Gauss–Hermite rule of
hrta.ntk.dual_kernels at every layer (diagonal q^{l+1} = E[σ_s(√q z)²] by the same rule in 1-D; later
angles from arccos of the correlation, which moves E[σσ], E[σ'σ'] only at second order in the angle
error since they are even in sin θ at θ = 0 up to O(sin² θ)). See deep_analytic_ntk for its measured
accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from hrta.activations import check_s, homotopy
from hrta.bases import check_base
from hrta.models import DeepNet
from hrta.sizes import DEFAULT_QUADRATURE_NODES

from ._dual import (
    _ANGLE_TEMPORARIES,
    _angle_factors,
    _angles_block,
    _as_float64_matrix,
    _gauss_hermite,
    _model_inputs,
    _quadrature_dual_kernels,
    _row_blocks,
)

__all__ = ["KERNELS", "deep_analytic_ntk", "deep_analytic_ntks", "deep_empirical_ntk", "relative_kernel_error"]

KERNELS = ("ntk", "nngp")
# n×b temporaries alive at once in one step of the ReLU recursion (θ, δ, Θ, Σ, Σ̇, p and their intermediates), an upper bound
_RELU_TEMPORARIES = 32


def _check_depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1 (number of hidden layers), got {depth!r}")
    return int(depth)


def _sin_minus_x_cos_from(x, sin_x, cos_x):
    """J(x) = sin x − x cos x from given sin x, cos x; the Taylor series Σ_k (−1)^{k+1} 2k x^{2k+1}/(2k+1)!
    for x < 0.1, as hrta.ntk._sin_minus_x_cos (the direct form cancels there)."""
    x2 = x * x
    series = torch.zeros_like(x)
    for k in range(5, 0, -1):  # Horner in x², terms k = 1..5
        series = series * x2 + (-1) ** (k + 1) * 2 * k / math.factorial(2 * k + 1)
    return torch.where(x < 0.1, series * x2 * x, sin_x - x * cos_x)


def _relu_recursion(theta, delta, p, s: float, depth: int, kernel: str):
    """The ReLU-base recursion on one block of pairs: θ, δ = π − θ of Σ¹, p = √(q q') of Σ¹; yields the
    kernel (Θ^{l+1} or Σ^{l+1}) of the network with l hidden layers for l = 1..depth.

    Only the smaller of θ and δ, φ = min(θ, δ) ∈ [0, π/2], and which one it is (near = θ ≤ π/2) are
    carried: every formula of the module docstring is written in φ (θ ≤ π/2: φ = θ; else φ = δ), with
    sin²(φ/2) = sin²φ / (2(1 + cos φ)) (no cancellation for φ ≤ π/2), and the next angle is
    φ' = 2·atan2(min(a, b), max(a, b)), near' = a ≤ b for a = √(ρ₀ − ρ), b = √(ρ₀ + ρ): one sin, one
    cos and one atan2 per pair and layer."""
    rho0 = 0.5 * ((1.0 - s) ** 2 + 1.0)
    c_lin, c_abs = (1.0 - 0.5 * s) ** 2, (0.5 * s) ** 2
    k_j = s * s / (2.0 * math.pi)
    near = theta <= delta
    phi = torch.where(near, theta, delta)
    cos_phi, sin_phi = torch.cos(phi), torch.sin(phi)
    theta_kernel = p * torch.where(near, cos_phi, -cos_phi)  # Θ¹ = Σ¹ = x·x'/d
    for layer in range(1, depth + 1):
        j_phi = _sin_minus_x_cos_from(phi, sin_phi, cos_phi)
        # near: ρ = c_lin cos θ + c_abs (2/π)(sin θ + (π/2 − θ) cos θ); far: ρ = −(1 − s) cos δ + k_j J(δ)
        rho_near = c_lin * cos_phi + c_abs * (2.0 / math.pi) * (sin_phi + (0.5 * math.pi - phi) * cos_phi)
        rho = torch.where(near, rho_near, k_j * j_phi - (1.0 - s) * cos_phi)
        sigma_dot = torch.where(near, c_lin + c_abs * (1.0 - 2.0 * phi / math.pi), (1.0 - s) + k_j * phi)
        sigma = p * rho
        theta_kernel = sigma + theta_kernel * sigma_dot
        yield theta_kernel if kernel == "ntk" else sigma
        if layer == depth:
            return
        half = sin_phi * sin_phi / (2.0 * (1.0 + cos_phi))  # sin²(φ/2)
        far_part = 2.0 * (1.0 - s) * half + k_j * j_phi
        minus = torch.where(near, 2.0 * rho0 * half - k_j * j_phi, 0.5 * (2.0 - s) ** 2 - far_part)
        plus = torch.where(near, rho0 + rho_near, 0.5 * s * s + far_part)
        a, b = minus.clamp_(min=0.0).sqrt_(), plus.clamp_(min=0.0).sqrt_()
        near = a <= b
        phi = 2.0 * torch.atan2(torch.minimum(a, b), torch.maximum(a, b))
        cos_phi, sin_phi = torch.cos(phi), torch.sin(phi)
        p = p * rho0


def _quadrature_diagonal(q: torch.Tensor, s: float, base: str, z, w) -> torch.Tensor:
    """q^{l+1}_i = E[σ_s(√q_i z)²], z ~ N(0, 1), by the 1-D Gauss–Hermite rule (nodes z, weights w)."""
    return (homotopy(q.sqrt()[:, None] * z[None, :], s, base) ** 2) @ w


def _quadrature_recursion(theta, q_rows, q_all, s, base, depth, kernel, z, w):
    """The recursion on one block of rows for a smooth base; q_rows/q_all: per-layer diagonals. Yields
    the kernel of the network with l hidden layers for l = 1..depth."""
    p = (q_rows[0][:, None] * q_all[0][None, :]).sqrt()
    sigma = p * torch.cos(theta)
    theta_kernel = sigma
    for layer in range(1, depth + 1):
        if layer > 1:
            corr = sigma / torch.where(p > 0, p, torch.ones_like(p))
            theta = torch.arccos(corr.clamp_(-1.0, 1.0))
        sigma, sigma_dot = _quadrature_dual_kernels(
            q_rows[layer - 1].sqrt(), q_all[layer - 1].sqrt(), theta, s, base, z, w
        )
        theta_kernel = sigma + theta_kernel * sigma_dot
        yield theta_kernel if kernel == "ntk" else sigma
        p = (q_rows[layer][:, None] * q_all[layer][None, :]).sqrt()


def deep_analytic_ntk(
    X,
    s: float,
    depth: int,
    base: str = "relu",
    kernel: str = "ntk",
    *,
    nodes: int | None = None,
) -> torch.Tensor:
    """Infinite-width NTK (``kernel="ntk"``) or NNGP kernel (``"nngp"``) of DeepNet with ``depth``
    hidden layers of activation σ_s, by the recursion in the module docstring; every layer trained.

    ReLU base: closed form with stable angles (~1e-15 relative to √(Θ(x,x)Θ(x',x')) at any angle,
    checked against 40-digit mpmath). tanh / gelu: ``nodes``×``nodes`` Gauss–Hermite quadrature per
    layer (default hrta.ntk.DEFAULT_QUADRATURE_NODES = 96). Measured accuracy (max |K − K_ref| / max |K_ref|,
    NTK, 12 random points in R³ with |x| ∈ [0.3, 1.5] scaled by 1/√d as DeepNet does, s ∈ {0.5, 1.5}, depth 1 / 3 / 5, reference
    ``nodes=200``; tests/test_ntk_deep.py re-measures the 96-node row)::

        nodes     32                 64                 96 (default)
        tanh      2e-05/1e-05/7e-06  1e-08/7e-09/5e-09  3e-11/2e-11/1e-11
        gelu      8e-12/2e-12/3e-13  5e-16/3e-15/5e-15  7e-16/3e-15/4e-15

    (smaller errors than dual_kernels' two-layer table at the same |x| because of the 1/√d, and tanh
    contracts the norms layer by layer).
    X: (n, d) finite tensor or array. Computed in float64 and row-chunked: the n×n output and its
    symmetrized copy plus row-block temporaries of at most a few × 32 MB (hrta.ntk._PAIR_BLOCK_ELEMENTS),
    whatever n (measured extra peak at n = 4000, L = 3: 428 MB; benchmarks/bench_ntk_deep.py).
    Returned as float32 if X is float32, else float64. Symmetric to rounding (symmetrized).
    """
    return deep_analytic_ntks(X, s, [depth], base, kernel, nodes=nodes)[_check_depth(depth)]


def deep_analytic_ntks(
    X,
    s: float,
    depths: Sequence[int],
    base: str = "relu",
    kernel: str = "ntk",
    *,
    nodes: int | None = None,
) -> dict[int, torch.Tensor]:
    """{L: deep_analytic_ntk(X, s, L, base, kernel)} for every L in ``depths``, from one pass of the
    recursion up to max(depths) (the kernel of depth L is an intermediate of every deeper one), so a
    sweep over depths costs one deepest evaluation. Memory: one n×n output per requested depth."""
    X64, out_dtype = _as_float64_matrix(X)
    s = check_s(s)
    if isinstance(depths, (int, np.integer)) or len(depths) == 0:
        raise ValueError(f"depths must be a non-empty sequence of integers >= 1, got {depths!r}")
    wanted = sorted({_check_depth(L) for L in depths})
    check_base(base)
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {', '.join(KERNELS)}")
    nodes = DEFAULT_QUADRATURE_NODES if nodes is None else nodes
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 2:
        raise ValueError(f"nodes must be an integer >= 2, got {nodes!r}")
    n, d = X64.shape
    depth = wanted[-1]
    f = _angle_factors(X64)
    q1 = (X64 * X64).sum(dim=1) / d  # Σ¹(x, x) = |x|²/d
    out = {L: torch.empty(n, n, dtype=torch.float64, device=X64.device) for L in wanted}
    if base == "relu":
        norms = q1.sqrt()
        blocks = _row_blocks(n, max(_ANGLE_TEMPORARIES * d, _RELU_TEMPORARIES))
    else:
        z, w = _gauss_hermite(nodes, X64.device)
        q = [q1]
        for _ in range(depth):
            q.append(_quadrature_diagonal(q[-1], s, base, z, w))
        blocks = _row_blocks(n, max(_ANGLE_TEMPORARIES * d, 4 * nodes * nodes))
    for rows in blocks:
        theta, delta = _angles_block(f, rows)
        if base == "relu":
            layers = _relu_recursion(theta, delta, norms[rows, None] * norms[None, :], s, depth, kernel)
        else:
            layers = _quadrature_recursion(theta, [v[rows] for v in q], q, s, base, depth, kernel, z, w)
        for L, K in enumerate(layers, start=1):
            if L in out:
                out[L][rows] = K
    return {L: (0.5 * (K + K.T)).to(out_dtype) for L, K in out.items()}


# ----------------------------------------------------------------------------------------------------
# exact finite-width NTK of a DeepNet


def deep_empirical_ntk(model: DeepNet, X) -> torch.Tensor:
    """Exact NTK of a DeepNet, Σ_p ∂f(x)/∂θ_p ∂f(x')/∂θ_p, from one forward and one backward pass.

    With a_0 = x, a_l = σ_s(h_l) and g_l = ∂f/∂h_l (one row per input: f is a sum over inputs of
    per-input outputs, so the backward pass of Σ_i f(x_i) gives every per-input g_l at once),
    ∂f/∂W_l = g_l ⊗ a_{l−1}/√n_{l−1}, hence::

        Θ = Σ_l (G_l G_lᵀ) ⊙ (A_{l−1} A_{l−1}ᵀ)/n_{l−1}  +  A_L A_Lᵀ/n_L   (output layer, if trained),

    n_0 = d. Memory O(n·Σ n_l + n²), not the O(n·P) of the (n, P) Jacobian (hrta.ntk.jacobian_ntk,
    which this equals to rounding: tests/test_ntk_deep.py). Computed in float64, returned in the
    model's dtype. Only the trained parameters (requires_grad) count.
    """
    if not isinstance(model, DeepNet):
        raise ValueError(f"deep_empirical_ntk needs a DeepNet, got {type(model).__name__}")
    X64 = _model_inputs(model, X)
    s, base = model.s, model.base
    weights = [W.detach().to(torch.float64).requires_grad_(True) for W in model.weights]
    a = model.a.detach().to(torch.float64)
    hs, acts = [], [X64]
    for W in weights:
        h = acts[-1] @ W.T / math.sqrt(W.shape[1])  # W_1 has d columns: h_1 = W_1 x/√d
        hs.append(h)
        acts.append(homotopy(h, s, base))
    f = acts[-1] @ a / math.sqrt(model.widths[-1])
    grads = torch.autograd.grad(f.sum(), hs)
    fan_in = (model.d, *model.widths[:-1])
    n = X64.shape[0]
    K = torch.zeros(n, n, dtype=torch.float64, device=X64.device)
    with torch.no_grad():
        for W, g, a_prev, fan in zip(model.weights, grads, acts[:-1], fan_in):
            if W.requires_grad:
                K.add_((g @ g.T) * (a_prev @ a_prev.T) / fan)
        if model.a.requires_grad:
            A = acts[-1].detach()
            K.add_(A @ A.T / model.widths[-1])
        K = 0.5 * (K + K.T)
    return K.to(model.a.dtype)


def relative_kernel_error(K_emp, K_inf) -> float:
    """‖K_emp − K_∞‖_F / ‖K_∞‖_F (the E2 kernel-error metric)."""
    A, B = torch.as_tensor(K_emp, dtype=torch.float64), torch.as_tensor(K_inf, dtype=torch.float64)
    return float(torch.linalg.matrix_norm(A - B) / torch.linalg.matrix_norm(B))
