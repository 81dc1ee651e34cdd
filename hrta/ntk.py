"""Neural tangent kernels of homotopy networks: infinite-width (analytic), finite-width (empirical),
their spectra, and the loss curve of linearized full-batch gradient descent.

Conventions (see the project contract):

* Two-layer NTK-parameterized net f(x) = (1/√m) Σ_k a_k σ_s(w_k·x), w_k ~ N(0, I_d), a_k ~ N(0, 1).
* NTK over the *trained* parameters, Θ(x, x') = Σ_p ∂f(x)/∂θ_p · ∂f(x')/∂θ_p. As m → ∞::

      Θ_s(x, x') = E[σ_s(u) σ_s(v)]  +  (x·x') · E[σ_s'(u) σ_s'(v)],
                   (output layer a)       (first layer W)

  with (u, v) ~ N(0, [[|x|², x·x'], [x·x', |x'|²]]). ``layers="first"`` keeps only the second term
  (output layer frozen, the Du et al. setting).
* Loss L = (1/(2n)) ‖r‖², r = f(X) − y; linearized GD is r ← (I − lr·K/n) r, so the eigenvalues that
  matter are those of K/n.

The two Gaussian expectations are the *dual kernels* of σ_s and σ_s'. For the ReLU base,
σ_s(z) = (1 − s/2)·z + (s/2)·|z| and σ_s'(z) = (1 − s/2) + (s/2)·sign z, the cross terms
E[u|v|], E[sign u] vanish by the symmetry (u, v) → (−u, −v), and with θ the angle between x, x'::

    E[σ_s'σ_s'] = (1 − s/2)² + (s/2)² (1 − 2θ/π)                       (E[sign u sign v] = 1 − 2θ/π)
    E[σ_s σ_s]  = |x||x'| [(1 − s/2)² cos θ + (s/2)² (2/π)(sin θ + (π/2 − θ) cos θ)]
                                                            (E[|u||v|]: arc-cosine kernel of degree 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .activations import check_base, check_s, homotopy, homotopy_derivative
from .models import DeepNet, TwoLayerNet

LAYERS = ("both", "first")
DUAL_KERNEL_METHODS = ("auto", "closed", "quadrature")

# Gauss–Hermite nodes per dimension for tanh/gelu: ~1e-6 relative for tanh at |x| <= 1.5 (dual_kernels).
DEFAULT_QUADRATURE_NODES = 96
# Columns of the width processed at once by the closed-form empirical NTK: memory is O(n·chunk + n²)
# whatever m is, and a chunk this size keeps the GEMMs large enough to run at full BLAS speed.
WIDTH_CHUNK = 2048
# Upper bound on elements of one pairwise temporary (rows-block × n × per-row work) to bound memory.
_PAIR_BLOCK_ELEMENTS = 1 << 22
# (b, n, d) temporaries alive at once in _angles_block, roughly
_ANGLE_TEMPORARIES = 4
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
    term only). ReLU base: closed form (see module docstring) with the stable angle; tanh/gelu: 2-D
    Gauss–Hermite quadrature with ``nodes`` per dimension (accuracy table in dual_kernels).
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


# ----------------------------------------------------------------------------------------------------
# empirical (finite-width) NTK


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


def _model_inputs(model: nn.Module, X) -> torch.Tensor:
    X64, _ = _as_float64_matrix(X)
    d = getattr(model, "d", X64.shape[1])
    if X64.shape[1] != d:
        raise ValueError(f"X must have shape (n, {d}) for this model, got {tuple(X64.shape)}")
    return X64.to(next(model.parameters()).device)


def empirical_ntk(model: nn.Module, X) -> torch.Tensor:
    """Exact finite-width NTK Σ_p ∂f(x)/∂θ_p ∂f(x')/∂θ_p over the trained parameters (requires_grad).

    TwoLayerNet: closed form (two_layer_ntk, memory independent of m); DeepNet: one forward and backward
    pass (hrta.ntk_deep.deep_empirical_ntk); any other model: batched-autograd Jacobians (jacobian_ntk).
    Returns (n, n) in the model's dtype, computed in float64.
    """
    if isinstance(model, TwoLayerNet):
        return two_layer_ntk(model, X)
    if isinstance(model, DeepNet):
        return deep_empirical_ntk(model, X)
    return jacobian_ntk(model, X)


# ----------------------------------------------------------------------------------------------------
# spectrum and linearized GD


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of a symmetric kernel matrix, with the float64 resolution floor.

    resolution_floor = n·ε₆₄·λ_max (ε₆₄ = 2.2e-16, λ_max the largest |eigenvalue|): eigenvalues below
    it are not distinguishable from the rounding error of a float64 eigensolver (backward error ≈ n·ε·‖K‖). lambda_min_resolved = lambda_min > floor;
    condition_number = λ_max/λ_min when resolved, else **inf** (not nan: the true condition number
    is at least λ_max/floor, unbounded as far as the computation can tell), so callers must check
    lambda_min_resolved before plotting it as a measurement.
    """

    eigenvalues: np.ndarray
    lambda_min: float
    lambda_max: float
    condition_number: float
    resolution_floor: float
    lambda_min_resolved: bool

    def scalars(self) -> dict:
        """The scalar summary (everything but the eigenvalues), e.g. for one row of a table."""
        return {
            "lambda_min": self.lambda_min,
            "lambda_max": self.lambda_max,
            "condition_number": self.condition_number,
            "resolution_floor": self.resolution_floor,
            "lambda_min_resolved": self.lambda_min_resolved,
        }


def _symmetric_float64(K, name: str = "K") -> torch.Tensor:
    K64, _ = _as_float64_matrix(K, name)
    if K64.shape[0] != K64.shape[1]:
        raise ValueError(f"{name} must be square, got shape {tuple(K64.shape)}")
    return 0.5 * (K64 + K64.T)


def spectrum(K) -> Spectrum:
    """Eigenvalues (ascending, float64 numpy) of sym(K) = (K + Kᵀ)/2 via torch.linalg.eigvalsh."""
    K64 = _symmetric_float64(K)
    n = K64.shape[0]
    if n == 0:
        raise ValueError("K must be non-empty")
    eig = torch.linalg.eigvalsh(K64).cpu().numpy().astype(np.float64)
    lam_min, lam_max = float(eig[0]), float(eig[-1])
    floor = n * _EPS64 * max(abs(lam_max), abs(lam_min))
    resolved = lam_min > floor
    cond = lam_max / lam_min if resolved else math.inf
    return Spectrum(eig, lam_min, lam_max, cond, floor, bool(resolved))


def gd_loss_factor(mu: float, lr: float) -> float:
    """Per-step factor (1 − lr·μ)² of the loss component along an eigenvector of K/n with eigenvalue μ."""
    return (1.0 - lr * mu) ** 2


def predict_loss_curve(K, residual0, lr: float, steps: int) -> np.ndarray:
    """Loss of linearized full-batch GD: L_t = Σ_i (1 − lr·μ_i)^{2t} ⟨v_i, r_0⟩² / (2n), t = 0..steps,

    (μ_i, v_i) the eigenpairs of K/n; this is L = ‖r_t‖²/(2n) for r_{t+1} = (I − lr·K/n) r_t.
    Returns a float64 numpy array of length steps + 1.
    """
    K64 = _symmetric_float64(K)
    n = K64.shape[0]
    if isinstance(residual0, torch.Tensor):
        r0 = residual0.detach().to(device="cpu", dtype=torch.float64)
    else:
        r0 = torch.as_tensor(np.asarray(residual0, dtype=np.float64))
    if r0.shape != (n,):
        raise ValueError(f"residual0 must have shape ({n},) to match K, got {tuple(r0.shape)}")
    if not torch.isfinite(r0).all():
        raise ValueError("residual0 contains NaN or inf")
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    mu, V = torch.linalg.eigh(K64.cpu() / n)
    coef = ((V.T @ r0) ** 2).numpy() / (2.0 * n)
    factor = (1.0 - lr * mu.numpy()) ** 2
    out = np.empty(int(steps) + 1, dtype=np.float64)
    block = 512
    for t0 in range(0, steps + 1, block):
        t = np.arange(t0, min(t0 + block, steps + 1), dtype=np.float64)
        out[t0 : t0 + len(t)] = np.power(factor[None, :], t[:, None]) @ coef
    return out


# ----------------------------------------------------------------------------------------------------
# chunked empirical kernels of a ReLU-base two-layer net for every s at once, and cross-s kernels


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


def relu_kernel_grams(X, W, a, chunk: int = WIDTH_CHUNK) -> ReluGrams:
    """ReluGrams of the two-layer net with first-layer weights W (m, d) and output weights a (m,).

    The width is processed ``chunk`` columns at a time (two n×chunk×n GEMMs per chunk, R Rᵀ and
    (H⊙a)(H⊙a)ᵀ; Z Rᵀ = X (R W)ᵀ and Z Zᵀ = X (WᵀW) Xᵀ need only n×d and d×d products), so the memory beyond W and a is
    O(n·chunk + n²) for any m (estimate: hrta.resources.relu_grams_mb). ``chunk=None``: one block
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


def predict_lazy_loss_curve(kernel, residual0, stages, lr: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Loss of GD on the network linearized at its initialization θ₀, through a schedule of constant-s stages.

    f_s(θ) ≈ f_s(θ₀) + J_s(θ₀)(θ − θ₀): the parameter change is Δθ = Σ_j J_{s_j}ᵀ c_j, one
    coefficient vector c_j per finished stage, so at the start of stage k (s = s_k, T_k steps) the
    residual is r_k = residual0(s_k) + Σ_{j<k} Θ_{s_k,s_j} c_j, the stage runs linearized GD
    r ← (I − lr·Θ_{s_k,s_k}/n) r (loss curve as predict_loss_curve), and adds
    c_k = −(lr/n) Σ_{τ<T_k} (I − lr·Θ_{kk}/n)^τ r_k = −(1/n)·V diag(g) Vᵀ r_k,
    g_i = (1 − (1 − lr μ_i)^{T_k})/μ_i  (= lr·T_k when lr·μ_i is ~0), (μ_i, V) the eigenpairs of Θ_{kk}/n.

    ``kernel(s, t)`` returns Θ_{s,t} (n, n) (analytic_cross_ntk or ReluGrams.kernel), ``residual0(s)``
    the residual f_s(θ₀) − y of the network at initialization under s, ``stages`` a list of (s, steps).
    With one stage this is predict_loss_curve(kernel(s, s), residual0(s), lr, steps).
    Returns (the loss at steps 0..Σ T_k, float64; the start residual of each stage).
    """
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if not stages:
        raise ValueError("stages must not be empty")
    coefs: list[tuple[float, torch.Tensor]] = []
    pieces, starts = [], []
    for k, (s, steps) in enumerate(stages):
        r = torch.as_tensor(np.asarray(residual0(s), dtype=np.float64))
        for s_j, c_j in coefs:
            r = r + _symmetric_or_cross(kernel, s, s_j) @ c_j
        starts.append(r.numpy().copy())
        K = _symmetric_float64(kernel(s, s))
        n = K.shape[0]
        curve = predict_loss_curve(K, r, lr, int(steps))
        pieces.append(curve if k == len(stages) - 1 else curve[:-1])
        mu, V = torch.linalg.eigh(K / n)
        x = lr * mu
        small = x.abs() < 1e-12
        g = torch.where(
            small, torch.full_like(mu, lr * steps), (1.0 - (1.0 - x) ** int(steps)) / torch.where(small, 1.0, mu)
        )
        coefs.append((s, -(V @ (g * (V.T @ r))) / n))
    return np.concatenate(pieces), starts


def _symmetric_or_cross(kernel, s: float, t: float) -> torch.Tensor:
    K = kernel(s, t)
    K = torch.as_tensor(K).to(torch.float64)
    return 0.5 * (K + K.T) if s == t else K


from hrta.ntk_deep import deep_analytic_ntk, deep_empirical_ntk  # noqa: E402, F401  (re-export; empirical_ntk of a DeepNet)
