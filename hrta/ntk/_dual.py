"""Shared helpers of the kernels: input checks, pairwise angles in compensated float64 arithmetic,
the dual kernels E[σσ], E[σ'σ'] (ReLU closed form and Gauss–Hermite quadrature), row blocking.
Private to hrta.ntk; imports no model."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from hrta.activations import homotopy, homotopy_derivative
from hrta.bases import get_base
from hrta.sizes import ANGLE_TEMPORARIES, PAIR_BLOCK_ELEMENTS

LAYERS = ("both", "first")
DUAL_KERNEL_METHODS = ("auto", "closed", "quadrature")

# Gauss–Hermite nodes, width chunk, pairwise block size: hrta.sizes (the cost models read the same).
_PAIR_BLOCK_ELEMENTS = PAIR_BLOCK_ELEMENTS
_ANGLE_TEMPORARIES = ANGLE_TEMPORARIES
_EPS64 = float(np.finfo(np.float64).eps)


# ----------------------------------------------------------------------------------------------------
# validation helpers


def _as_float64_matrix(X, name: str = "X") -> tuple[torch.Tensor, torch.dtype]:
    """(X as a float64 tensor, dtype to return): float32 in → float32 out, anything else → float64."""
    if isinstance(X, np.ndarray):
        X = torch.from_numpy(X)
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor or numpy array, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) matrix, got shape {tuple(X.shape)}")
    if X.dtype.is_complex or X.dtype == torch.bool:
        raise ValueError(f"{name} must be real-valued, got dtype {X.dtype}")
    out_dtype = torch.float32 if X.dtype == torch.float32 else torch.float64
    X64 = X.detach().to(torch.float64)
    if not torch.isfinite(X64).all():
        raise ValueError(f"{name} contains NaN or inf")
    return X64, out_dtype


def _check_layers(layers: str) -> str:
    if layers not in LAYERS:
        raise ValueError(f"unknown layers {layers!r}; expected one of {', '.join(LAYERS)}")
    return layers


def _row_chunk(n: int, per_row: int) -> int:
    return max(1, _PAIR_BLOCK_ELEMENTS // max(1, n * per_row))


# ----------------------------------------------------------------------------------------------------
# angles


def _split(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Dekker/Veltkamp split a = hi + lo with 26-bit halves, so products of halves are exact."""
    c = 134217729.0 * a  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi


def _two_product_error(p, ah, al, bh, bl):
    """Exact rounding error e = a·b − fl(a·b) (Dekker's TwoProduct, no FMA needed)."""
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


class _AngleFactors(NamedTuple):
    """Per-row quantities for the pairwise angles: rows rescaled by powers of two, their norms, and
    Dekker splits of both."""

    Xs: torch.Tensor
    r: torch.Tensor
    xh: torch.Tensor
    xl: torch.Tensor
    rh: torch.Tensor
    rl: torch.Tensor


def _angle_factors(X: torch.Tensor) -> _AngleFactors:
    norms = torch.linalg.vector_norm(X, dim=1)
    _, expo = torch.frexp(torch.where(norms > 0, norms, torch.ones_like(norms)))
    Xs = torch.ldexp(X, -expo[:, None].to(X.dtype))  # exact rescaling by 2^-e, norms in [0.5, 1)
    r = torch.linalg.vector_norm(Xs, dim=1)
    return _AngleFactors(Xs, r, *_split(Xs), *_split(r))


def _angles_block(f: _AngleFactors, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
    """θ and δ = π − θ for rows ``rows`` against all rows (see pairwise_angles)."""
    # p1[i, j] = x_i |x_j|, p2[i, j] = x_j |x_i|, each with its exact rounding error e1, e2
    p1 = f.Xs[rows, None, :] * f.r[None, :, None]
    e1 = _two_product_error(p1, f.xh[rows, None, :], f.xl[rows, None, :], f.rh[None, :, None], f.rl[None, :, None])
    p2 = f.Xs[None, :, :] * f.r[rows, None, None]
    e2 = _two_product_error(p2, f.xh[None, :, :], f.xl[None, :, :], f.rh[rows, None, None], f.rl[rows, None, None])
    minus = torch.linalg.vector_norm((p1 - p2) + (e1 - e2), dim=2)
    plus = torch.linalg.vector_norm((p1 + p2) + (e1 + e2), dim=2)
    theta = 2.0 * torch.atan2(minus, plus)
    delta = 2.0 * torch.atan2(plus, minus)
    idx = torch.arange(theta.shape[0], device=theta.device)
    theta[idx, idx + rows.start] = 0.0  # exact diagonal even for zero rows
    delta[idx, idx + rows.start] = math.pi
    return theta, delta


def _row_blocks(n: int, per_row: int):
    step = _row_chunk(n, per_row)
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def pairwise_angles(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Norms |x_i|, angles θ_ij ∈ [0, π] and δ_ij = π − θ_ij, each with a few ulps *relative* error.

    θ = 2·atan2(‖x|x'| − x'|x|‖, ‖x|x'| + x'|x|‖) (= 2·atan2(‖x̂ − x̂'‖, ‖x̂ + x̂'‖)) and
    δ = 2·atan2(‖x|x'| + x'|x|‖, ‖x|x'| − x'|x|‖), instead of arccos of a rounded cosine (error √ε
    ≈ 1e-8 near 0 and π). The products x_k|x'| are formed exactly (TwoProduct), so the small one of the
    two vectors has a relative error of a few ulps even for nearly (anti)parallel inputs; rounding of
    the norms only moves them along x, which changes the lengths at second order. Rows are first
    scaled by exact powers of two (norm in [0.5, 1)) so nothing over- or underflows. The diagonal is
    exactly θ = 0. Rows with |x| = 0 get θ = 0 against everything (meaningless but finite; every kernel
    term that uses them carries a factor |x| or x·x' = 0). Input float64 (n, d); outputs float64.
    """
    f = _angle_factors(X)
    blocks = [_angles_block(f, rows) for rows in _row_blocks(X.shape[0], _ANGLE_TEMPORARIES * X.shape[1])]
    return torch.linalg.vector_norm(X, dim=1), torch.cat([t for t, _ in blocks]), torch.cat([d for _, d in blocks])


def _sin_minus_x_cos(x: torch.Tensor) -> torch.Tensor:
    """J(x) = sin x − x cos x, with the Taylor series Σ_k (−1)^{k+1} 2k x^{2k+1}/(2k+1)! for x < 0.1
    (the direct form loses ~log10(1/x²) digits to cancellation there; series truncation < 1e-18 rel)."""
    direct = torch.sin(x) - x * torch.cos(x)
    x2 = x * x
    series = torch.zeros_like(x)
    for k in range(5, 0, -1):  # Horner in x², terms k = 1..5
        series = series * x2 + (-1) ** (k + 1) * 2 * k / math.factorial(2 * k + 1)
    series = series * x2 * x
    return torch.where(x < 0.1, series, direct)


# ----------------------------------------------------------------------------------------------------
# dual kernels E[σσ], E[σ'σ']


def _relu_dual_kernels(norm_rows, norms, theta, delta, s: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form ReLU-base dual kernels; θ ≤ π/2 uses θ, θ > π/2 the π − θ = δ form below, which
    has no cancellation near antiparallel inputs:
        E[σ'σ'] = (1 − s) + (s²/(2π))·δ,
        E[σσ]/(|x||x'|) = −(1 − s) cos δ + (s²/(2π))·(sin δ − δ cos δ).
    """
    c_lin = (1.0 - 0.5 * s) ** 2
    c_abs = (0.5 * s) ** 2
    near = theta <= 0.5 * math.pi
    cos_t = torch.cos(theta)
    dd_near = c_lin + c_abs * (1.0 - 2.0 * theta / math.pi)
    ss_near = c_lin * cos_t + c_abs * (2.0 / math.pi) * (torch.sin(theta) + (0.5 * math.pi - theta) * cos_t)
    dd_far = (1.0 - s) + (s * s / (2.0 * math.pi)) * delta
    ss_far = -(1.0 - s) * torch.cos(delta) + (s * s / (2.0 * math.pi)) * _sin_minus_x_cos(delta)
    e_dd = torch.where(near, dd_near, dd_far)
    e_ss = torch.where(near, ss_near, ss_far) * (norm_rows[:, None] * norms[None, :])
    return e_ss, e_dd


def _gauss_hermite(nodes: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes and weights of the ``nodes``-point rule for E[g(z)], z ~ N(0, 1)."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float64, device=device)  # noqa: E731
    return as_t(z), as_t(w / math.sqrt(2.0 * math.pi))


def _quadrature_dual_kernels(norm_rows, norms, theta, s: float, base: str, z, w):
    """2-D Gauss–Hermite quadrature of E[σ_s(u)σ_s(v)], E[σ_s'(u)σ_s'(v)] for a block of rows, with
    u = |x| z₁, v = |x'|(cos θ z₁ + sin θ z₂), z ~ N(0, I₂) (the Cholesky factor of the 2×2
    covariance written with the stable angle), vectorized over the pairs of the block."""
    U = norm_rows[:, None] * z[None, :]  # (b, q), node index k
    c = torch.cos(theta)[:, :, None, None]
    sn = torch.sin(theta)[:, :, None, None]
    V = norms[None, :, None, None] * (c * z[:, None] + sn * z[None, :])  # (b, n, q_k, q_l)
    inner_s = homotopy(V, s, base) @ w  # Σ_l w_l σ(v_kl) -> (b, n, q_k)
    inner_d = homotopy_derivative(V, s, base) @ w
    e_ss = torch.einsum("bk,bnk->bn", homotopy(U, s, base) * w, inner_s)
    e_dd = torch.einsum("bk,bnk->bn", homotopy_derivative(U, s, base) * w, inner_d)
    return e_ss, e_dd


class SmoothDualComponents(NamedTuple):
    """The s-independent parts of the dual kernels of σ_s(z) = (1 − s)·z + s·g(z), u, v as in
    _quadrature_dual_kernels:

        E[σ_s(u)σ_s(v)]   = (1 − s)²·uv + s(1 − s)·ug + s²·gg,
        E[σ_s'(u)σ_s'(v)] = (1 − s)² + s(1 − s)·dg + s²·dd,

    with uv = E[uv], ug = E[u g(v)] + E[g(u) v], gg = E[g(u)g(v)], dg = E[g'(u)] + E[g'(v)], dd = E[g'(u)g'(v)]."""

    uv: torch.Tensor
    ug: torch.Tensor
    gg: torch.Tensor
    dg: torch.Tensor
    dd: torch.Tensor

    def at(self, s: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(E[σ_s σ_s], E[σ_s' σ_s']) at ``s``."""
        a, b, c = (1.0 - s) ** 2, s * (1.0 - s), s * s
        return a * self.uv + b * self.ug + c * self.gg, a + b * self.dg + c * self.dd


def _quadrature_dual_components(norm_rows, norms, theta, base: str, z, w) -> SmoothDualComponents:
    """SmoothDualComponents of a block of rows by the 2-D Gauss–Hermite rule of _quadrature_dual_kernels: g and g'
    are evaluated once on the nodes, so the kernels at any number of s cost about one quadrature."""
    g = get_base(base)
    U = norm_rows[:, None] * z[None, :]  # (b, q)
    c = torch.cos(theta)[:, :, None, None]
    sn = torch.sin(theta)[:, :, None, None]
    V = norms[None, :, None, None] * (c * z[:, None] + sn * z[None, :])  # (b, n, q_k, q_l)
    inner = {name: f(V) @ w for name, f in (("v", lambda x: x), ("g", g.value), ("dg", g.derivative))}  # (b, n, q_k)
    Uw, gUw, dgUw = U * w, g.value(U) * w, g.derivative(U) * w

    def outer(a, inner_sum):
        return torch.einsum("bk,bnk->bn", a, inner_sum)

    return SmoothDualComponents(
        uv=outer(Uw, inner["v"]),
        ug=outer(Uw, inner["g"]) + outer(gUw, inner["v"]),
        gg=outer(gUw, inner["g"]),
        dg=dgUw.sum(1)[:, None] + inner["dg"] @ w,  # E[g'(u)] by the 1-D rule, E[g'(v)] by the 2-D one
        dd=outer(dgUw, inner["dg"]),
    )


def _model_inputs(model: nn.Module, X) -> torch.Tensor:
    X64, _ = _as_float64_matrix(X)
    d = getattr(model, "d", X64.shape[1])
    if X64.shape[1] != d:
        raise ValueError(f"X must have shape (n, {d}) for this model, got {tuple(X64.shape)}")
    return X64.to(next(model.parameters()).device)


def _relu_cross_dual_kernels(norm_rows, norms, theta, delta, s: float, t: float):
    """_relu_dual_kernels for σ_s against σ_t: c_lin = α_sα_t, c_abs = β_sβ_t, c_lin − c_abs = 1 − (s + t)/2."""
    c_lin = (1.0 - 0.5 * s) * (1.0 - 0.5 * t)
    c_abs = 0.25 * s * t
    near = theta <= 0.5 * math.pi
    cos_t = torch.cos(theta)
    dd_near = c_lin + c_abs * (1.0 - 2.0 * theta / math.pi)
    ss_near = c_lin * cos_t + c_abs * (2.0 / math.pi) * (torch.sin(theta) + (0.5 * math.pi - theta) * cos_t)
    dd_far = (c_lin - c_abs) + (2.0 * c_abs / math.pi) * delta
    ss_far = -(c_lin - c_abs) * torch.cos(delta) + (2.0 * c_abs / math.pi) * _sin_minus_x_cos(delta)
    e_dd = torch.where(near, dd_near, dd_far)
    e_ss = torch.where(near, ss_near, ss_far) * (norm_rows[:, None] * norms[None, :])
    return e_ss, e_dd
