"""Paired training sweeps for the claims experiments (E5 extensions, E6 fairness, E7 sensitivity).

One *cell* = one data set and one model specification; within a cell every method × optimizer ×
learning rate is trained from the same initialization for each seed, so speed-ups are paired.

Model specification (dict): ``kind`` "two_layer" (:class:`hrta.models.TwoLayerNet`, key ``width``,
optional ``output_init``, ``train_output``) or "deep" (:class:`hrta.models.DeepNet`, key ``widths``
= hidden widths, so a three-layer network has two), and ``base`` (relu | tanh | gelu).

Kernel-scaled learning rate (E6): σ_s changes the scale of the NTK, so a fixed rate favours some s.
For full-batch GD the linearized dynamics r ← (I − lr·K_s/n) r are stable iff lr·λ_max(K_s/n) < 2;
the kernel-scaled rate of a stage is lr = c / λ_max(K_s/n) with K_s the infinite-width kernel
(:func:`hrta.ntk.analytic_ntk`) on the training inputs and c = ``fraction`` (c = 1 is half the
stability limit). A ramp stage uses the largest λ_max over its two end points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .models import DeepNet, TwoLayerNet
from .ntk import analytic_ntk, analytic_ntks, spectrum
from .schedules import Schedule, parse_schedule
from .train import HISTORY_COLUMNS, TrainConfig, TrainResult, train

__all__ = [
    "MODEL_KINDS",
    "OPTIMIZER_KEYS",
    "build_model",
    "kernel_lambda_max",
    "kernel_lambda_maxes",
    "stage_learning_rates",
    "train_config",
    "train_stagewise",
]

MODEL_KINDS = ("two_layer", "deep")
OPTIMIZER_KEYS = (
    "optimizer",
    "lr",
    "lr_schedule",
    "lr_gamma",
    "lr_step_every",
    "lr_min",
    "batch_size",
    "adam_betas",
    "adam_eps",
)


def build_model(spec: Mapping[str, Any], d: int, seed: int, dtype: str = "float64", device: str = "cpu") -> nn.Module:
    """The network of a model specification (see the module docstring), initialized from ``seed``."""
    kind = spec.get("kind")
    base = spec.get("base", "relu")
    if kind == "two_layer":
        if "width" not in spec:
            raise ValueError("model spec of kind 'two_layer' needs 'width'")
        return TwoLayerNet(
            d,
            spec["width"],
            base=base,
            seed=seed,
            output_init=spec.get("output_init", "gaussian"),
            train_output=spec.get("train_output", True),
            dtype=dtype,
            device=device,
        )
    if kind == "deep":
        if "widths" not in spec:
            raise ValueError("model spec of kind 'deep' needs 'widths' (hidden-layer widths)")
        return DeepNet(
            d,
            list(spec["widths"]),
            base=base,
            seed=seed,
            train_output=spec.get("train_output", True),
            dtype=dtype,
            device=device,
        )
    raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")


def train_config(
    optimizer: Mapping[str, Any],
    schedule,
    *,
    lr: float | None = None,
    log_every: int = 10,
    dtype: str = "float64",
    device: str = "cpu",
    divergence_threshold: float = 1e12,
    seed: int = 0,
) -> TrainConfig:
    """TrainConfig from an optimizer setting (config keys OPTIMIZER_KEYS; ``label`` ignored), ``lr``
    overriding the setting's rate when given."""
    unknown = set(optimizer) - set(OPTIMIZER_KEYS) - {"label"}
    if unknown:
        raise ValueError(f"unknown optimizer setting(s) {sorted(unknown)}")
    kwargs = {k: v for k, v in optimizer.items() if k in OPTIMIZER_KEYS}
    if "adam_betas" in kwargs:
        kwargs["adam_betas"] = tuple(kwargs["adam_betas"])
    if lr is not None:
        kwargs["lr"] = float(lr)
    return TrainConfig(
        schedule=schedule,
        log_every=log_every,
        dtype=dtype,
        device=device,
        divergence_threshold=divergence_threshold,
        seed=seed,
        **kwargs,
    )


def kernel_lambda_max(X, s: float, base: str = "relu", layers: str = "both") -> float:
    """λ_max(K_s/n) of the infinite-width two-layer NTK on the rows of X."""
    X = torch.as_tensor(np.asarray(X, dtype=np.float64))
    return spectrum(analytic_ntk(X, s, layers, base)).lambda_max / X.shape[0]


def kernel_lambda_maxes(X, s_values, base: str = "relu", layers: str = "both") -> dict[float, float]:
    """{s: λ_max(K_s/n)} for every s of ``s_values``, the kernels from hrta.ntk.analytic_ntks (one quadrature for
    all s of a smooth base; equal to kernel_lambda_max to rounding)."""
    X = torch.as_tensor(np.asarray(X, dtype=np.float64))
    return {s: spectrum(K).lambda_max / X.shape[0] for s, K in analytic_ntks(X, sorted(set(s_values)), layers, base)}


def stage_learning_rates(X, schedule, fraction: float, base: str = "relu", layers: str = "both") -> list[float]:
    """Kernel-scaled rate of each stage, lr_i = fraction / λ_max(K_{s_i}/n) (ramps: max over end points)."""
    if not (math.isfinite(fraction) and fraction > 0):
        raise ValueError(f"kernel lr fraction must be a positive number, got {fraction!r}")
    stages = parse_schedule(schedule).stages
    lam = kernel_lambda_maxes(X, [s for st in stages for s in (st.s_start, st.s_end)], base, layers)
    return [fraction / max(lam[st.s_start], lam[st.s_end]) for st in stages]


def train_stagewise(model: nn.Module, X, y, schedule, lrs: Sequence[float], base_config: TrainConfig) -> TrainResult:
    """Train stage by stage with its own constant rate ``lrs[i]`` (otherwise ``base_config``), as one run.

    Parameters carry over between stages; the history is renumbered to global steps and, as in a
    single :func:`hrta.train.train` run, the row at a stage boundary records the loss under the *new*
    stage's s (the previous stage's closing row is dropped). Stops at the first diverged stage.
    Only for stateless optimizers (GD, SGD): Adam's moments would restart at each stage.
    """
    schedule = parse_schedule(schedule)
    if base_config.optimizer == "adam":
        raise ValueError("train_stagewise would restart Adam's moments at each stage; use gd or sgd")
    if len(lrs) != len(schedule.stages):
        raise ValueError(f"need one learning rate per stage: {len(schedule.stages)} stages, {len(lrs)} rates")
    parts, offset, result = [], 0, None
    for i, (stage, lr) in enumerate(zip(schedule.stages, lrs)):
        cfg = TrainConfig(
            **{**base_config.__dict__, "schedule": Schedule((stage,)), "lr": float(lr), "lr_schedule": "constant"}
        )
        result = train(model, X, y, cfg)
        h = result.history.copy()
        h["step"] += offset
        h["stage"] = i
        last = i == len(schedule.stages) - 1
        if not last and result.status == "ok":
            h = h.iloc[:-1]
        parts.append(h)
        offset += stage.steps
        if result.status != "ok":
            break
    history = pd.concat(parts, ignore_index=True)[list(HISTORY_COLUMNS)]
    return TrainResult(
        history=history,
        status=result.status,
        final_train_loss=result.final_train_loss,
        final_test_loss=result.final_test_loss,
        steps_done=int(history["step"].iloc[-1]),
        config=base_config,
    )
