"""Spectra of kernels and the loss curves of linearized full-batch gradient descent, r ← (I − lr·K/n) r
(conventions: hrta.ntk)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from hrta.schedules import parse_schedule

from ._dual import (
    _EPS64,
    _as_float64_matrix,
)
from .analytic import analytic_cross_ntk

__all__ = [
    "Spectrum",
    "gd_loss_factor",
    "predict_lazy_loss_curve",
    "predict_loss_curve",
    "predict_schedule_loss",
    "spectrum",
]


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


def predict_schedule_loss(X, y, schedule, lr: float, layers: str = "both") -> np.ndarray:
    """Loss at steps 0..T of GD on the infinite-width ReLU-base network linearized at initialization, through a
    schedule of constant-s stages (``schedule``: a spec such as "0.5x500,1x1500" or a Schedule), with the
    network's output at initialization replaced by its mean, 0 (residual0 = −y for every s)::

        predict_lazy_loss_curve(Θ_{s,t} = analytic_cross_ntk(X, s, t), residual0 = −y, stages, lr)

    The theory's prediction of a schedule's loss, free of the initialization's random output (the speed-up it
    predicts is a ratio of two such curves). A ramp stage has no single kernel: ValueError."""
    sched = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    if any(st.is_ramp for st in sched.stages):
        raise ValueError(f"schedule {schedule!r} has a ramp stage; the prediction needs constant-s stages")
    X64 = torch.as_tensor(np.asarray(X, dtype=np.float64))
    r0 = -np.asarray(y, dtype=np.float64).ravel()
    cache: dict[tuple[float, float], torch.Tensor] = {}

    def kernel(s, t):
        if (s, t) not in cache:
            cache[(s, t)] = analytic_cross_ntk(X64, s, t, layers)
        return cache[(s, t)]

    stages = [(st.s_start, st.steps) for st in sched.stages]
    return predict_lazy_loss_curve(kernel, lambda s: r0, stages, lr)[0]
