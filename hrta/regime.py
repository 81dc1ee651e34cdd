"""Where the theory acts: the λ_min regime of a GD run (E8, the regime tables).

Linearized full-batch GD with a constant learning rate η contracts the residual along the eigenvector
of K_s/n with eigenvalue λ by (1 − η·λ) per step, so the slowest mode — the one the paper's argument
is about (λ_min(K_s) grows with s) — needs η·λ_min·T ≳ 1 to start decaying within T steps. This module
holds the torch-free pieces:

* :func:`relu_ntk` — the analytic two-layer NTK of the ReLU-base σ_s net in numpy (the same closed form
  as hrta.ntk.analytic_ntk; used where torch is not imported, e.g. the config check);
* :func:`regime_numbers` — η, T, λ_min, λ_max → η·λ_min·T, η·λ_max and the fraction (1 − η·λ_min)^T of
  the λ_min mode's residual left after T steps;
* :func:`predicted_log_rate` — the asymptotic per-step log-rate of the loss, 2·log|1 − η·λ_min|
  (L_t ∝ (1 − η·λ_min)^{2t});
* :func:`speedup_decomposition` — a fixed-rate speed-up of s over s_ref split into a step-size part
  (λ_max ratio) and a conditioning part (κ ratio);
* :func:`fit_log_rate` — the measured asymptotic per-step log-rate: the least-squares slope of log L_t
  against t over the last ``window`` fraction of the run's usable stretch, where the usable stretch
  ends at the last logged step before the loss first falls below ``floor``·L_0 (the rounding floor of
  the dtype: past it log L is flat noise, not the slowest mode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "RateFit",
    "fit_log_rate",
    "predicted_log_rate",
    "regime_numbers",
    "relu_ntk",
    "spectrum_ends",
    "speedup_decomposition",
]


def relu_ntk(X, s: float, layers: str = "both") -> np.ndarray:
    """Analytic NTK Θ_s of f(x) = (1/√m) Σ a_k σ_s(w_k·x), σ_s(z) = (1 − s/2)z + (s/2)|z| (ReLU base), in
    float64 numpy: Θ_s = (x·x')·E[σ_s'σ_s'] (+ E[σ_sσ_s] with ``layers="both"``), see hrta.ntk."""
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1)
    gram = X @ X.T
    outer = np.outer(norms, norms)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(outer > 0, gram / np.where(outer > 0, outer, 1.0), 1.0)
    theta = np.arccos(np.clip(cos, -1.0, 1.0))
    a, b = (1.0 - s / 2.0) ** 2, (s / 2.0) ** 2
    e_dd = a + b * (1.0 - 2.0 * theta / np.pi)
    K = gram * e_dd
    if layers == "both":
        K = K + outer * (a * cos + b * (2.0 / np.pi) * (np.sin(theta) + (np.pi / 2.0 - theta) * cos))
    elif layers != "first":
        raise ValueError(f"layers must be 'both' or 'first', got {layers!r}")
    return 0.5 * (K + K.T)


def spectrum_ends(K) -> tuple[float, float]:
    """(λ_min, λ_max) of K/n, K an n×n symmetric kernel matrix."""
    K = np.asarray(K, dtype=np.float64)
    eig = np.linalg.eigvalsh(0.5 * (K + K.T)) / K.shape[0]
    return float(eig[0]), float(eig[-1])


def predicted_log_rate(lr: float, lambda_min: float) -> float:
    """2·log|1 − lr·λ_min|: per-step log-rate of the loss of linearized GD once the λ_min mode dominates."""
    factor = abs(1.0 - lr * lambda_min)
    return 2.0 * math.log(factor) if factor > 0 else -math.inf


def regime_numbers(lr: float, steps: int, lambda_min: float, lambda_max: float) -> dict:
    """The regime of a GD run at one s: lr·λ_min·T (≳ 1: the slowest mode decays within the run), lr·λ_max
    (< 2: stable), κ = λ_max/λ_min and the fraction (1 − lr·λ_min)^T of the λ_min mode's residual left at T."""
    return {
        "lr": float(lr),
        "T": int(steps),
        "lambda_min": float(lambda_min),
        "lambda_max": float(lambda_max),
        "kappa": float(lambda_max / lambda_min) if lambda_min > 0 else math.inf,
        "lr_lambda_max": float(lr * lambda_max),
        "lr_lambda_min_T": float(lr * lambda_min * steps),
        "residual_left": float(abs(1.0 - lr * lambda_min) ** steps),
    }


def speedup_decomposition(
    lr: float, fraction: float, lambdas: tuple[float, float], lambdas_ref: tuple[float, float]
) -> dict:
    """The predicted asymptotic speed-up of s over s_ref (``lambdas`` = (λ_min, λ_max) of K_s/n, ``lambdas_ref``
    of K_{s_ref}/n), split into what the step size and what the conditioning explain.

    With rate(η, λ_min) = −predicted_log_rate(η, λ_min) = −2·log|1 − η·λ_min|:

    * ``fixed``  = rate(lr, λ_min(s)) / rate(lr, λ_min(s_ref)) ≈ λ_min(s)/λ_min(s_ref): both at one rate lr;
    * ``conditioning`` = rate(c/λ_max(s), λ_min(s)) / rate(c/λ_max(s_ref), λ_min(s_ref)) ≈ κ(s_ref)/κ(s): each at
      its kernel-scaled rate c/λ_max (c = ``fraction``), which removes the kernel's scale;
    * ``step`` = fixed / conditioning ≈ λ_max(s)/λ_max(s_ref): at a fixed rate a larger kernel is a larger step.

    fixed = step × conditioning exactly; the ≈ are the first order in η·λ_min (``*_first_order``)."""
    (lo, hi), (lo_ref, hi_ref) = lambdas, lambdas_ref

    def rate(eta: float, lam: float) -> float:
        return -predicted_log_rate(eta, lam)

    fixed = rate(lr, lo) / rate(lr, lo_ref)
    conditioning = rate(fraction / hi, lo) / rate(fraction / hi_ref, lo_ref)
    return {
        "fixed": fixed,
        "conditioning": conditioning,
        "step": fixed / conditioning,
        "fixed_first_order": lo / lo_ref,
        "conditioning_first_order": (hi_ref / lo_ref) / (hi / lo),
        "step_first_order": hi / hi_ref,
    }


def spectral_split(regime, reference_s: float = 1.0, fraction: float = 1.0):
    """The step/conditioning split of the predicted asymptotic speed-up of each s over ``reference_s``, from the
    spectra alone, on every data set of a regime table (rows of figures/tables/regime.csv: experiment, dataset,
    optimizer, s, lr, lambda_min, lambda_max of K_s/n).

    Per (experiment, dataset, optimizer) and s ≠ reference_s: :func:`speedup_decomposition` at the row's rate lr and
    the kernel-scaled rate ``fraction``/λ_max, so fixed = step × conditioning, fixed ≈ λ_min(s)/λ_min(ref),
    step ≈ λ_max(s)/λ_max(ref), conditioning ≈ κ(ref)/κ(s) (first order in lr·λ_min, columns ``*_first_order``).
    These are predictions for the slowest mode, which decays within a run only where lr·λ_min·T ≳ 1 (column
    ``lr_lambda_min_T`` of the reference s, copied). Groups without ``reference_s`` give no rows. Takes and returns
    pandas DataFrames (pandas imported here: the config check imports this module without it)."""
    import pandas as pd  # noqa: PLC0415

    rows = []
    for (exp, dataset, optimizer), g in regime.groupby(["experiment", "dataset", "optimizer"], sort=False):
        ref = g[np.isclose(g["s"].astype(float), reference_s)]
        if ref.empty:
            continue
        ref = ref.iloc[0]
        for r in g[~np.isclose(g["s"].astype(float), reference_s)].itertuples():
            split = speedup_decomposition(
                float(r.lr), fraction, (r.lambda_min, r.lambda_max), (ref.lambda_min, ref.lambda_max)
            )
            rows.append(
                {
                    "experiment": exp,
                    "dataset": dataset,
                    "optimizer": optimizer,
                    "s": float(r.s),
                    "reference_s": float(reference_s),
                    "lr": float(r.lr),
                    "kernel_fraction": float(fraction),
                    "kappa": float(r.kappa),
                    "kappa_reference": float(ref.kappa),
                    "reference_lr_lambda_min_T": float(ref.lr_lambda_min_T),
                    **split,
                }
            )
    return pd.DataFrame(rows)


def spectral_split_by_dataset(split):
    """One row per (data set, lr, s) of a :func:`spectral_split` table (experiments on the same data set at the same
    rate share their spectra: their names joined in ``experiments``, an E7 cell "e7 <cell>" named "e7"), in the table's order of first appearance:
    dataset, experiments, s, lr, reference_lr_lambda_min_T, fixed, step, conditioning."""
    keep = ["reference_lr_lambda_min_T", "fixed", "step", "conditioning"]
    grouped = split.groupby(["dataset", "lr", "s"], sort=False)
    out = grouped[keep].first()
    out.insert(
        0, "experiments", grouped["experiment"].agg(lambda e: ", ".join(dict.fromkeys(x.split(" ")[0] for x in e)))
    )
    return out.reset_index()[["dataset", "experiments", "s", "lr", *keep]]


@dataclass(frozen=True)
class RateFit:
    """A fitted per-step log-rate (slope of log L_t) over the logged steps start..stop (``points`` of them);
    ``floored``: the loss reached the floor before the end of the run (the window was moved before it)."""

    log_rate: float
    start: int
    stop: int
    points: int
    floored: bool


def fit_log_rate(steps, losses, window: float = 0.5, floor: float = 0.0) -> RateFit:
    """Least-squares slope of log L_t against t over the last ``window`` fraction of the usable stretch
    [t_0, t_end]: t_end is the end of the run, or, if the loss falls below ``floor``·L_{t_0} earlier, the
    last logged step before it does (non-finite or non-positive losses end the stretch too). NaN with
    fewer than 3 points in the window."""
    if not 0 < window <= 1:
        raise ValueError(f"window must be in (0, 1], got {window!r}")
    t = np.asarray(steps, dtype=np.float64)
    L = np.asarray(losses, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t, L = t[order], L[order]
    if len(t) == 0:
        return RateFit(math.nan, 0, 0, 0, False)
    bad = ~np.isfinite(L) | (L <= 0) | (floor * L[0] > L)
    end = int(np.argmax(bad)) if bad.any() else len(t)
    floored = bool(bad.any())
    if end < 3:
        return RateFit(math.nan, int(t[0]), int(t[max(end - 1, 0)]), end, floored)
    t, L = t[:end], L[:end]
    lo = t[-1] - window * (t[-1] - t[0])
    keep = t >= lo
    if keep.sum() < 3:
        return RateFit(math.nan, int(t[keep][0]), int(t[-1]), int(keep.sum()), floored)
    slope = np.polyfit(t[keep], np.log(L[keep]), 1)[0]
    return RateFit(float(slope), int(t[keep][0]), int(t[-1]), int(keep.sum()), floored)
