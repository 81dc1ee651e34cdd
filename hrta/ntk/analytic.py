"""Infinite-width (analytic) NTK of two-layer σ_s networks: Θ_s = E[σ_sσ_s] + (x·x')·E[σ_s'σ_s'],
and the cross-s kernels Θ_{s,t} of the ReLU base (conventions: hrta.ntk)."""

from __future__ import annotations

import torch

from hrta.activations import check_s
from hrta.bases import check_base
from hrta.sizes import DEFAULT_QUADRATURE_NODES

from ._dual import (
    _ANGLE_TEMPORARIES,
    DUAL_KERNEL_METHODS,
    SmoothDualComponents,
    _angle_factors,
    _angles_block,
    _as_float64_matrix,
    _check_layers,
    _gauss_hermite,
    _quadrature_dual_components,
    _quadrature_dual_kernels,
    _relu_cross_dual_kernels,
    _relu_dual_kernels,
    _row_blocks,
    pairwise_angles,
)

__all__ = ["analytic_cross_ntk", "analytic_ntk", "analytic_ntks", "dual_kernels", "relu_analytic_ntks"]


def dual_kernels(
    X, s: float, base: str = "relu", method: str = "auto", nodes: int = DEFAULT_QUADRATURE_NODES
) -> tuple[torch.Tensor, torch.Tensor]:
    """(E[σ_s(u)σ_s(v)], E[σ_s'(u)σ_s'(v)]) for all pairs of rows of X, (u, v) ~ N(0, Gram of x, x').

    method "closed" (ReLU base only): the formulas in the module docstring; error ≲ 1e-15·|x||x'|
    absolute given the angle (angle error a few ulps, see pairwise_angles). "quadrature": a
    ``nodes``×``nodes`` Gauss–Hermite rule (any base). "auto": closed for ReLU, quadrature otherwise.

    Measured quadrature accuracy: max abs error / max |value| over 45 pairs of 10 random points in
    R³, s ∈ {0.5, 1.5}, reference 200 nodes (tanh, gelu) or the closed form (ReLU); E[σσ] / E[σ'σ']:

        |x| ∈ [0.3, 1.5]  nodes=16       32           48           64           96           128
            tanh          4e-02/6e-02  2e-03/6e-03  2e-04/8e-04  2e-05/1e-04  7e-07/6e-06  3e-08/4e-07
            gelu          1e-03/9e-03  2e-06/4e-05  5e-09/1e-07  1e-11/5e-10  1e-15/6e-15  7e-16/7e-16
            relu          3e-02/2e-01  1e-02/1e-01  8e-03/1e-01  6e-03/1e-01  4e-03/8e-02  3e-03/7e-02
        |x| ∈ [0.3, 3.0]
            tanh          2e-01/2e-01  6e-02/1e-01  2e-02/6e-02  8e-03/3e-02  2e-03/9e-03  4e-04/3e-03
            gelu          1e-02/2e-01  2e-03/5e-02  3e-04/1e-02  5e-05/2e-03  1e-06/1e-04  4e-08/5e-06

    Gauss–Hermite converges only like exp(−c√q) for tanh (poles at z = ±iπ/(2|x|)), faster for the
    entire GELU, and algebraically for ReLU (kink / jump), so larger norms need more nodes and ReLU
    always uses the closed form under "auto". Cost: n²·nodes² activation evaluations; σ_0 (linear) is
    integrated exactly for any nodes >= 2.
    Returns float64 tensors (n, n).
    """
    X64, _ = _as_float64_matrix(X)
    s = check_s(s)
    check_base(base)
    if method not in DUAL_KERNEL_METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(DUAL_KERNEL_METHODS)}")
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 2:
        raise ValueError(f"nodes must be an integer >= 2, got {nodes!r}")
    if method == "closed" and base != "relu":
        raise ValueError(f"method 'closed' exists only for base 'relu', got base {base!r}")
    n, d = X64.shape
    quadrature = method == "quadrature" or (method == "auto" and base != "relu")
    f = _angle_factors(X64)
    norms = torch.linalg.vector_norm(X64, dim=1)
    if quadrature:
        z, w = _gauss_hermite(nodes, X64.device)
    e_ss = torch.empty(n, n, dtype=torch.float64, device=X64.device)
    e_dd = torch.empty_like(e_ss)
    # row blocks keep every temporary at O(block·n·max(d, nodes²)) elements
    per_row = max(_ANGLE_TEMPORARIES * d, 4 * nodes * nodes if quadrature else 0)
    for rows in _row_blocks(n, per_row):
        theta, delta = _angles_block(f, rows)
        if quadrature:
            e_ss[rows], e_dd[rows] = _quadrature_dual_kernels(norms[rows], norms, theta, s, base, z, w)
        else:
            e_ss[rows], e_dd[rows] = _relu_dual_kernels(norms[rows], norms, theta, delta, s)
    return e_ss, e_dd


def analytic_ntk(
    X, s: float, layers: str = "both", base: str = "relu", *, nodes: int = DEFAULT_QUADRATURE_NODES
) -> torch.Tensor:
    """Infinite-width NTK of the two-layer homotopy net, Θ_s(x, x') = E[σ_s σ_s] + (x·x') E[σ_s'σ_s'].

    ``layers="both"``: both layers trained (both terms); ``"first"``: output layer frozen (second
    term only). ReLU base: closed form (see module docstring) with the stable angle; every other base of
    hrta.bases: 2-D Gauss–Hermite quadrature with ``nodes`` per dimension (accuracy table in dual_kernels).
    X: (n, d) finite tensor or array, any norms (zero rows give zero kernel rows). Computed in float64;
    returned as float32 if X is float32, else float64.
    """
    X64, out_dtype = _as_float64_matrix(X)
    s = check_s(s)
    _check_layers(layers)
    check_base(base)
    e_ss, e_dd = dual_kernels(X64, s, base, "auto", nodes)
    K = (X64 @ X64.T) * e_dd
    if layers == "both":
        K = K + e_ss
    return (0.5 * (K + K.T)).to(out_dtype)  # X Xᵀ from GEMM is symmetric only up to rounding


def relu_analytic_ntks(X, s_values, layers: str = "both"):
    """Yield (s, analytic_ntk(X, s, layers)) for every s of ``s_values`` (ReLU base), computing the
    pairwise angles once: the same closed form and stable angles as analytic_ntk (equal to it
    bit for bit), at the cost of elementwise n² work per s instead of the angles' TwoProduct passes."""
    X64, out_dtype = _as_float64_matrix(X)
    _check_layers(layers)
    norms, theta, delta = pairwise_angles(X64)
    gram = X64 @ X64.T
    for s in s_values:
        s = check_s(s)
        e_ss, e_dd = _relu_dual_kernels(norms, norms, theta, delta, s)
        K = gram * e_dd
        if layers == "both":
            K = K + e_ss
        yield s, (0.5 * (K + K.T)).to(out_dtype)


def analytic_ntks(X, s_values, layers: str = "both", base: str = "relu", *, nodes: int = DEFAULT_QUADRATURE_NODES):
    """Yield (s, analytic_ntk(X, s, layers, base)) for every s of ``s_values``, sharing the work between them.

    ReLU: relu_analytic_ntks (the angles once). Other bases: σ_s(z) = (1 − s)·z + s·g(z) is linear in s, so each
    dual kernel is a quadratic polynomial in s (SmoothDualComponents); its five s-free parts are integrated once
    by the same Gauss–Hermite rule as analytic_ntk, so k values of s cost about one quadrature instead of k.
    Equal to analytic_ntk to rounding (the polynomial's terms are summed in another order)."""
    if check_base(base) == "relu":
        yield from relu_analytic_ntks(X, s_values, layers)
        return
    X64, out_dtype = _as_float64_matrix(X)
    _check_layers(layers)
    s_values = [check_s(s) for s in s_values]
    n, d = X64.shape
    f = _angle_factors(X64)
    norms = torch.linalg.vector_norm(X64, dim=1)
    z, w = _gauss_hermite(nodes, X64.device)
    # written block by block into one buffer allocated up front, as dual_kernels does: small results kept
    # between the blocks' large temporaries fragment the heap (a GELU job's peak RSS grew from 0.3 to 1.5 GB)
    parts = torch.empty(len(SmoothDualComponents._fields), n, n, dtype=torch.float64, device=X64.device)
    for rows in _row_blocks(n, max(_ANGLE_TEMPORARIES * d, 6 * nodes * nodes)):
        theta, _ = _angles_block(f, rows)
        for i, part in enumerate(_quadrature_dual_components(norms[rows], norms, theta, base, z, w)):
            parts[i, rows] = part
    components = SmoothDualComponents(*parts)
    gram = X64 @ X64.T
    for s in s_values:
        e_ss, e_dd = components.at(s)
        K = gram * e_dd
        if layers == "both":
            K = K + e_ss
        yield s, (0.5 * (K + K.T)).to(out_dtype)


def analytic_cross_ntk(X, s: float, t: float, layers: str = "both") -> torch.Tensor:
    """Infinite-width cross-s NTK of the ReLU-base net, Θ_{s,t}(x, x') = E[σ_s(u)σ_t(v)] + (x·x') E[σ_s'(u)σ_t'(v)].

    With σ_s(z) = α_s z + β_s|z|, α_s = 1 − s/2, β_s = s/2, the cross terms vanish by symmetry and
    Θ_{s,t} is the formula of analytic_ntk with (1 − s/2)² → α_s α_t and (s/2)² → β_s β_t (so
    Θ_{s,s} = analytic_ntk(X, s)). It is what the linearization at θ₀ needs when s switches: the
    parameter change of a stage at s moves the outputs at t through Θ_{t,s}. Float64 (n, n).
    """
    X64, _ = _as_float64_matrix(X)
    s, t = check_s(s), check_s(t)
    _check_layers(layers)
    f = _angle_factors(X64)
    norms = torch.linalg.vector_norm(X64, dim=1)
    n, d = X64.shape
    e_ss = torch.empty(n, n, dtype=torch.float64, device=X64.device)
    e_dd = torch.empty_like(e_ss)
    for rows in _row_blocks(n, _ANGLE_TEMPORARIES * d):
        theta, delta = _angles_block(f, rows)
        e_ss[rows], e_dd[rows] = _relu_cross_dual_kernels(norms[rows], norms, theta, delta, s, t)
    K = (X64 @ X64.T) * e_dd
    if layers == "both":
        K = K + e_ss
    return 0.5 * (K + K.T)
