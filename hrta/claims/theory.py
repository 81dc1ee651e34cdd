"""The K_∞ theory's value of an endpoint: the same quantity the measured cell reports, computed on predicted loss
curves (issue 24, point 8: every cell where the theory applies says what it predicts, E8's cells included).

A predicted curve is the loss at steps 0..T of GD on the infinite-width network linearized at initialization
(hrta.ntk.predict_schedule_loss). It is logged like a training run (every ``log_every`` steps and the last step) and
handed to the measured endpoint's own functions (hrta.claims.endpoints): the final-loss ratio L_c(T)/L_t(T), or the
time-to-target ratio with the targets τ_q taken from the control's curve at q·T (target_family) and the restricted
times of both curves (time_to_target; geometric mean over the targets). One curve per arm, so a ratio, no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hrta.claims import endpoints as E

__all__ = ["QUANTITIES", "predicted_history", "predicted_ratio"]

#: the endpoint quantities the theory predicts (claims.endpoints primary/secondary)
QUANTITIES = ("final_loss", "time_to_target")


def predicted_history(curve: Sequence[float], log_every: int) -> pd.DataFrame:
    """A predicted loss curve (loss at steps 0..T) as a logged history: columns step and train_loss at every
    ``log_every``-th step and at T."""
    curve = np.asarray(curve, dtype=np.float64)
    if curve.ndim != 1 or curve.size < 2:
        raise ValueError(f"a loss curve needs steps 0..T with T ≥ 1, got shape {curve.shape}")
    if not (isinstance(log_every, (int, np.integer)) and log_every >= 1):
        raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
    total = curve.size - 1
    steps = np.unique(np.append(np.arange(0, total + 1, int(log_every)), total))
    return pd.DataFrame({"step": steps, "train_loss": curve[steps]})


def predicted_ratio(
    quantity: str,
    control_curve: Sequence[float],
    treatment_curve: Sequence[float],
    control_schedule,
    treatment_schedule,
    log_every: int,
    target_fractions: Sequence[float],
) -> float:
    """The ratio control/treatment of ``quantity`` ("final_loss" or "time_to_target") that the predicted curves
    give, computed as the measured endpoint is (see the module docstring); > 1: the theory predicts the treatment
    better. NaN if a curve is not finite or the control's curve gives no positive target."""
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    hc, ht = predicted_history(control_curve, log_every), predicted_history(treatment_curve, log_every)
    if hc["step"].iloc[-1] != ht["step"].iloc[-1]:
        raise ValueError("the predicted curves have different lengths: the endpoint compares equal budgets")
    if not (np.isfinite(hc["train_loss"]).all() and np.isfinite(ht["train_loss"]).all()):
        return math.nan
    sc, st = E.switch_steps(control_schedule), E.switch_steps(treatment_schedule)
    if quantity == "final_loss":
        return E.final_loss(hc, sc) / E.final_loss(ht, st)
    budget = int(hc["step"].iloc[-1])
    targets = E.target_family([hc], [float(q) for q in target_fractions], sc, budget)
    if not all(t > 0 for t in targets):
        return math.nan
    times_c = [max(E.time_to_target(hc, t, sc, budget)[0], 1) for t in targets]
    times_t = [max(E.time_to_target(ht, t, st, budget)[0], 1) for t in targets]
    return float(np.exp(np.mean(np.log(times_c)) - np.mean(np.log(times_t))))
