"""Training with a homotopy schedule: full-batch GD (the theory's setting), mini-batch SGD or Adam.

Loss L = (1/(2n)) Σ_i (f(x_i) − y_i)². Update number t (0-based) uses s = schedule.s_at(t), so s
switches exactly at stage boundaries. A history row at step t (t = 0, log_every, 2·log_every, ...,
and always t = total_steps, the parameters after the last update) records the full training loss
(and test loss) of the current parameters under the s in force at that step; for t = total_steps
that is the last stage's final s.

TwoLayerNet and DeepNet are trained with their hand-written ``loss_and_grad`` (no autograd); any
other model (or a DeepNet with a frozen hidden layer) uses autograd. Data are converted to the
model's dtype and device; ``config.dtype`` and ``config.device`` must agree with the model's (a
mismatch is a ValueError naming both), so a float64 run is asked for by building a float64 model.

Checkpoint and resume (long runs): ``train(..., checkpoint_path=P, checkpoint_every=k)`` writes the
state needed to continue bit-for-bit to P before every k-th update (t = k, 2k, ... < total_steps),
atomically (temporary file in P's directory, then os.replace). A later call with the same
arguments and a freshly built model (same seed) finds P, checks its fingerprint (config + data +
initial model, SHA-256) and resumes from it; the history, parameters and status are then identical
to an uninterrupted run (elapsed_s continues from the stored value). A checkpoint from a different
run, or an unreadable one, raises CheckpointError naming the file. P is deleted when the run ends
(ok or diverged): the caller writes the final output. The checkpoint options are arguments of
``train``, not TrainConfig fields, because they change where a run is stored, never its result.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .checks import finite_real
from .io import atomic_path
from .models import DeepNet, TwoLayerNet, resolve_device, resolve_dtype
from .schedules import Schedule, parse_schedule

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "CheckpointError",
    "HISTORY_COLUMNS",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "TrainConfig",
    "TrainResult",
    "learning_rate",
    "train",
]

OPTIMIZERS = ("gd", "sgd", "adam")
LR_SCHEDULES = ("constant", "step", "step_stage", "cosine")
HISTORY_COLUMNS = ("step", "stage", "s", "lr", "train_loss", "test_loss", "elapsed_s")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass
class TrainConfig:
    """Training settings; validated on construction and again by ``train``.

    lr_schedule: "constant"; "step" multiplies lr by lr_gamma every lr_step_every updates;
    "step_stage" does the same but restarts the decay at the start of every schedule stage (each
    stage begins at lr again: no stage inherits a decay that fell during an earlier one);
    "cosine" goes from lr (t = 0) to lr_min (t = total_steps) along a half cosine.
    batch_size is for optimizer "sgd" only (required there; 1 ≤ batch_size ≤ n); each epoch visits a
    fresh permutation drawn from ``seed``, the last batch of an epoch may be smaller.
    """

    schedule: Any
    optimizer: str = "gd"
    lr: float = 0.1
    lr_schedule: str = "constant"
    lr_gamma: float = 0.5
    lr_step_every: int | None = None
    lr_min: float = 0.0
    batch_size: int | None = None
    log_every: int = 10
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    divergence_threshold: float = 1e12
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad setting; parses ``schedule`` into a Schedule."""
        self.schedule = parse_schedule(self.schedule)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}")
        if finite_real("lr", self.lr) <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        gamma = finite_real("lr_gamma", self.lr_gamma)
        if not 0 < gamma <= 1:
            raise ValueError(f"lr_gamma must be in (0, 1], got {self.lr_gamma!r}")
        if self.lr_schedule == "step" and self.lr_step_every is None:
            raise ValueError("lr_schedule 'step' needs lr_step_every (the decay period in updates)")
        if self.lr_schedule == "step_stage" and self.lr_step_every is None:
            raise ValueError("lr_schedule 'step_stage' needs lr_step_every (the decay period in updates)")
        if self.lr_step_every is not None:
            _positive_int("lr_step_every", self.lr_step_every)
        lr_min = finite_real("lr_min", self.lr_min)
        if not 0 <= lr_min <= self.lr:
            raise ValueError(f"lr_min must be in [0, lr={self.lr}], got {self.lr_min!r}")
        if self.optimizer == "sgd":
            if self.batch_size is None:
                raise ValueError("optimizer 'sgd' needs batch_size")
            _positive_int("batch_size", self.batch_size)
        elif self.batch_size is not None:
            raise ValueError(
                f"batch_size is only used by optimizer 'sgd', got batch_size={self.batch_size!r} "
                f"with optimizer {self.optimizer!r}"
            )
        _positive_int("log_every", self.log_every)
        resolve_dtype(self.dtype)
        resolve_device(self.device)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if finite_real("divergence_threshold", self.divergence_threshold) <= 0:
            raise ValueError(f"divergence_threshold must be > 0, got {self.divergence_threshold!r}")
        betas = tuple(self.adam_betas)
        if len(betas) != 2 or not all(0 <= finite_real("adam_betas", b) < 1 for b in betas):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        if finite_real("adam_eps", self.adam_eps) <= 0:
            raise ValueError(f"adam_eps must be > 0, got {self.adam_eps!r}")


@dataclass
class TrainResult:
    history: pd.DataFrame
    status: str
    final_train_loss: float
    final_test_loss: float
    steps_done: int
    config: TrainConfig | None = field(default=None, repr=False)


def learning_rate(config: TrainConfig, step: int) -> float:
    """lr for update ``step``: constant; lr·γ^⌊t/period⌋ (step); lr·γ^⌊(t − t_k)/period⌋ with t_k the first
    update of t's schedule stage (step_stage); lr_min + (lr − lr_min)(1 + cos(πt/T))/2 (cosine)."""
    if config.lr_schedule == "constant":
        return float(config.lr)
    if config.lr_schedule == "step":
        return float(config.lr) * float(config.lr_gamma) ** (step // config.lr_step_every)
    if config.lr_schedule == "step_stage":
        schedule = config.schedule
        k = schedule.stage_at(min(step, schedule.total_steps))
        stage_start = sum(st.steps for st in schedule.stages[:k])
        return float(config.lr) * float(config.lr_gamma) ** ((step - stage_start) // config.lr_step_every)
    total = config.schedule.total_steps
    progress = min(step, total) / total
    return float(config.lr_min) + (float(config.lr) - float(config.lr_min)) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    p = next(model.parameters())
    return p.dtype, p.device


def _as_data(name: str, value: Any, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} is not a numeric array: {err}") from None
    if not (
        tensor.is_floating_point() or tensor.dtype in (torch.int32, torch.int64, torch.int16, torch.int8, torch.uint8)
    ):
        raise ValueError(f"{name} must be a real numeric array, got dtype {tensor.dtype}")
    tensor = tensor.to(dtype=dtype, device=device)
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains NaN or inf")
    return tensor


def _check_pair(x_name: str, X: torch.Tensor, y_name: str, y: torch.Tensor, d: int) -> torch.Tensor:
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"{x_name} must have shape (n, {d}) to match the model's d={d}, got {tuple(X.shape)}")
    if X.shape[0] < 1:
        raise ValueError(f"{x_name} has no rows")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{y_name} must have shape ({X.shape[0]},) to match {x_name} {tuple(X.shape)}, got {tuple(y.shape)}"
        )
    return y.contiguous()


def _trained_parameters(model: nn.Module) -> list[nn.Parameter]:
    if isinstance(model, TwoLayerNet):
        return [model.W, model.a] if model.train_output else [model.W]
    return [p for p in model.parameters() if p.requires_grad]


def _loss_and_grads_fn(model: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, list]]:
    """(X, y) -> (loss, gradients in the order of _trained_parameters)."""
    if isinstance(model, TwoLayerNet):

        def fast(X, y):
            loss, grad_W, grad_a = model.loss_and_grad(X, y)
            return loss, [grad_W] if grad_a is None else [grad_W, grad_a]

        return fast

    if isinstance(model, DeepNet) and all(W.requires_grad for W in model.weights):

        def deep(X, y):
            return model.loss_and_grad(X, y)

        return deep

    params = _trained_parameters(model)

    def generic(X, y):
        with torch.enable_grad():
            loss = 0.5 * torch.mean((model(X) - y) ** 2)
            grads = torch.autograd.grad(loss, params)
        return loss.detach(), list(grads)

    return generic


def _full_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """L on (X, y) without autograd; TwoLayerNet's hand-written loss avoids n×m temporaries."""
    if isinstance(model, TwoLayerNet):
        return float(model.loss_and_grad(X, y, grad=False)[0])
    with torch.no_grad():
        return float(0.5 * torch.mean((model(X) - y) ** 2))


class _Adam:
    """Adam (Kingma & Ba; torch.optim.Adam's formula) updating the parameters in place.

    m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  θ ← θ − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε).
    Written out here because it is faster than torch.optim.Adam for two tensors (benchmarked).
    """

    def __init__(self, params, betas, eps):
        self.params = params
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.denom = [torch.empty_like(p) for p in params]
        self.t = 0

    def step(self, grads, lr: float) -> None:
        self.t += 1
        bc1 = 1.0 - self.beta1**self.t
        bc2 = 1.0 - self.beta2**self.t
        with torch.no_grad():
            for p, g, m, v, den in zip(self.params, grads, self.m, self.v, self.denom):
                m.mul_(self.beta1).add_(g, alpha=1.0 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
                torch.sqrt(v, out=den).mul_(1.0 / math.sqrt(bc2)).add_(self.eps)
                p.addcdiv_(m, den, value=-lr / bc1)

    def state(self) -> dict:
        """Step count and moments (CPU copies) for a checkpoint."""
        return {"t": self.t, "m": [m.cpu().clone() for m in self.m], "v": [v.cpu().clone() for v in self.v]}

    def load_state(self, state: dict) -> None:
        self.t = int(state["t"])
        with torch.no_grad():
            for mine, saved in zip(self.m + self.v, list(state["m"]) + list(state["v"])):
                mine.copy_(saved)


def _sgd_step(params, grads, lr: float) -> None:
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(g, alpha=-lr)


class _BatchStream:
    """Endless stream of index batches: each epoch a fresh permutation from a private generator.

    An iterator whose position (generator state, current permutation, offset in it) can be saved
    with ``state()`` and restored with ``load_state()``, so a resumed SGD run sees the same batches.
    """

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device):
        self.n, self.batch_size, self.device = n, batch_size, device
        self.gen = torch.Generator(device="cpu").manual_seed(int(seed))
        self.perm: torch.Tensor | None = None
        self.pos = 0

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        if self.perm is None or self.pos >= self.n:
            self.perm = torch.randperm(self.n, generator=self.gen).to(self.device)
            self.pos = 0
        batch = self.perm[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        return batch

    def state(self) -> dict:
        return {
            "generator": self.gen.get_state(),
            "perm": None if self.perm is None else self.perm.cpu(),
            "pos": self.pos,
        }

    def load_state(self, state: dict) -> None:
        self.gen.set_state(state["generator"])
        self.perm = None if state["perm"] is None else state["perm"].to(self.device)
        self.pos = int(state["pos"])


def _batches(n: int, batch_size: int, seed: int, device: torch.device) -> _BatchStream:
    """Endless stream of index batches: each epoch a fresh permutation from a private generator."""
    return _BatchStream(n, batch_size, seed, device)


# ------------------------------------------------------------------------------------------------
# checkpoints

CHECKPOINT_FORMAT = "hrta.train checkpoint"
CHECKPOINT_VERSION = 1
_CHECKPOINT_KEYS = (
    "format",
    "version",
    "fingerprint",
    "config",
    "step",
    "elapsed_s",
    "s",
    "model",
    "optimizer",
    "batches",
    "history",
)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be resumed from; the message names the file and the reason."""


def _canonical_config(config: TrainConfig) -> dict:
    """The config as JSON-ready values (schedule as its canonical string) for hashing and messages."""
    out = {}
    for f in fields(TrainConfig):
        value = getattr(config, f.name)
        if isinstance(value, Schedule):
            value = str(value)
        elif isinstance(value, tuple):
            value = [float(v) for v in value]
        elif isinstance(value, (bool, str)) or value is None:
            pass
        elif isinstance(value, (int, np.integer)):
            value = int(value)
        else:
            value = float(value)
        out[f.name] = value
    return out


def _hash_tensors(h, tensors: dict[str, torch.Tensor | None]) -> None:
    for name, tensor in tensors.items():
        if tensor is None:
            h.update(f"{name}:none;".encode())
            continue
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}:{t.requires_grad or tensor.requires_grad};".encode())
        h.update(t.numpy().tobytes())


def _fingerprint(config: TrainConfig, model: nn.Module, data: dict[str, torch.Tensor | None]) -> dict:
    """SHA-256 of the config (canonical JSON), the data tensors and the initial model (class,
    activation base, parameter names/shapes/dtypes/requires_grad and values)."""
    cfg = hashlib.sha256(json.dumps(_canonical_config(config), sort_keys=True).encode())
    dat = hashlib.sha256()
    _hash_tensors(dat, data)
    mod = hashlib.sha256(f"{type(model).__name__}:{getattr(model, 'base', '')};".encode())
    _hash_tensors(mod, dict(model.named_parameters()))
    return {"config": cfg.hexdigest(), "data": dat.hexdigest(), "model": mod.hexdigest()}


def _atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save through hrta.io.atomic_path: a temporary file in path's directory, then os.replace."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save(obj, fh)


def _remove_checkpoint(path: Path) -> None:
    """Delete the checkpoint and temporaries left by writers killed mid-write (``.NAME.*.tmp``)."""
    path.unlink(missing_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def _load_checkpoint(path: Path, fingerprint: dict, config: TrainConfig, total: int) -> dict:
    """Read and check a checkpoint; CheckpointError (naming the file) if unreadable or from another run."""
    where = f"checkpoint file {str(path)!r}"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated/garbled files
        raise CheckpointError(
            f"{where} is unreadable ({type(err).__name__}: {err}); delete it to restart the run from step 0"
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{where} is not an hrta.train checkpoint; delete it to restart the run from step 0")
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{where} has format version {state.get('version')!r}, this code reads "
            f"version {CHECKPOINT_VERSION}; delete it to restart the run from step 0"
        )
    missing = [key for key in _CHECKPOINT_KEYS if key not in state]
    if missing:
        raise CheckpointError(f"{where} lacks {', '.join(missing)}; delete it to restart the run from step 0")
    stored = state["fingerprint"]
    differs = []
    if stored.get("config") != fingerprint["config"]:
        ours, theirs = _canonical_config(config), state["config"]
        keys = [k for k in ours if ours[k] != theirs.get(k)] or ["(config)"]
        differs += [f"config {k}: checkpoint {theirs.get(k)!r}, this run {ours.get(k)!r}" for k in keys]
    if stored.get("data") != fingerprint["data"]:
        differs.append("training/test data differ")
    if stored.get("model") != fingerprint["model"]:
        differs.append("initial model differs (architecture, seed or weights)")
    if differs:
        raise CheckpointError(
            f"{where} was written by a different run ({'; '.join(differs)}); "
            f"refusing to resume; delete it or use another checkpoint_path"
        )
    if not (isinstance(state["step"], int) and 0 < state["step"] < total):
        raise CheckpointError(f"{where} has step {state['step']!r} outside (0, {total}); delete it")
    return state


def train(
    model: nn.Module,
    X_train,
    y_train,
    config: TrainConfig,
    X_test=None,
    y_test=None,
    *,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
) -> TrainResult:
    """Train ``model`` in place under ``config``; see the module docstring for the conventions.

    ``checkpoint_path`` and ``checkpoint_every`` (given together) turn on checkpoint/resume: the state
    before every ``checkpoint_every``-th update is written to ``checkpoint_path``; an existing
    checkpoint of the same run (same config, data and initial model) is resumed from, one of another
    run raises CheckpointError; the file is removed when the run ends.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    config.validate()
    if not hasattr(model, "s") or not hasattr(model, "d"):
        raise ValueError(f"model must have settable .s and .d (TwoLayerNet, DeepNet), got {type(model).__name__}")
    dtype, device = _model_dtype_device(model)
    if resolve_dtype(config.dtype) != dtype:
        raise ValueError(f"config dtype {config.dtype!r} does not match the model's dtype {dtype}")
    want = resolve_device(config.device)
    if want.type != device.type or (want.index is not None and want.index != (device.index or 0)):
        raise ValueError(f"config device {config.device!r} does not match the model's device {device}")
    X = _as_data("X_train", X_train, dtype, device)
    y = _check_pair("X_train", X, "y_train", _as_data("y_train", y_train, dtype, device), model.d)
    X = X.contiguous()
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    has_test = X_test is not None
    if has_test:
        Xt = _as_data("X_test", X_test, dtype, device)
        yt = _check_pair("X_test", Xt, "y_test", _as_data("y_test", y_test, dtype, device), model.d).contiguous()
        Xt = Xt.contiguous()
    n = X.shape[0]
    if config.optimizer == "sgd" and config.batch_size > n:
        raise ValueError(f"batch_size must be in [1, n={n}], got {config.batch_size}")
    if (checkpoint_path is None) != (checkpoint_every is None):
        raise ValueError("give both checkpoint_path and checkpoint_every, or neither")
    ckpt_path = None
    if checkpoint_path is not None:
        checkpoint_every = _positive_int("checkpoint_every", checkpoint_every)
        ckpt_path = Path(checkpoint_path)
        if ckpt_path.is_dir():
            raise ValueError(f"checkpoint_path {str(ckpt_path)!r} is a directory; give a file path")
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        data = {"X_train": X, "y_train": y, "X_test": Xt if has_test else None, "y_test": yt if has_test else None}
        fingerprint = _fingerprint(config, model, data)

    schedule: Schedule = config.schedule
    total = schedule.total_steps
    log_every = config.log_every
    threshold = float(config.divergence_threshold)
    params = _trained_parameters(model)
    loss_and_grads = _loss_and_grads_fn(model)
    full_batch = config.optimizer != "sgd"
    adam = _Adam(params, config.adam_betas, config.adam_eps) if config.optimizer == "adam" else None
    batches = None if full_batch else _batches(n, config.batch_size, config.seed, device)

    rows: list[tuple] = []
    status = "ok"
    train_loss = test_loss = float("nan")
    first, elapsed0 = 0, 0.0
    if ckpt_path is not None and ckpt_path.exists():
        state = _load_checkpoint(ckpt_path, fingerprint, config, total)
        first, elapsed0 = state["step"], float(state["elapsed_s"])
        rows = [tuple(row) for row in state["history"]]
        with torch.no_grad():
            model.load_state_dict(state["model"])
        model.s = state["s"]
        if adam is not None:
            adam.load_state(state["optimizer"])
        if batches is not None:
            batches.load_state(state["batches"])
    start = time.perf_counter() - elapsed0
    t = first
    for t in range(first, total + 1):
        if ckpt_path is not None and t > first and t % checkpoint_every == 0 and t < total:
            _atomic_torch_save(
                {
                    "format": CHECKPOINT_FORMAT,
                    "version": CHECKPOINT_VERSION,
                    "fingerprint": fingerprint,
                    "config": _canonical_config(config),
                    "step": t,
                    "elapsed_s": time.perf_counter() - start,
                    "s": float(model.s),
                    "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                    "optimizer": {"kind": config.optimizer, **(adam.state() if adam is not None else {})},
                    "batches": batches.state() if batches is not None else None,
                    "history": list(rows),
                },
                ckpt_path,
            )
        s = schedule.s_at(t)
        if s != model.s:
            model.s = s
        lr = learning_rate(config, t)
        log = t % log_every == 0 or t == total
        if t < total:
            if full_batch:
                loss_t, grads = loss_and_grads(X, y)
                batch_loss = float(loss_t)
                train_loss = batch_loss
            else:
                idx = next(batches)
                loss_t, grads = loss_and_grads(X[idx], y[idx])
                batch_loss = float(loss_t)
                if log:
                    train_loss = _full_loss(model, X, y)
        else:
            train_loss = batch_loss = _full_loss(model, X, y)
        diverged = not (math.isfinite(batch_loss) and batch_loss <= threshold) or (
            log and not (math.isfinite(train_loss) and train_loss <= threshold)
        )
        if log or diverged:
            if not full_batch and not log:
                train_loss = _full_loss(model, X, y)
            test_loss = _full_loss(model, Xt, yt) if has_test else float("nan")
            rows.append((t, schedule.stage_at(t), s, lr, train_loss, test_loss, time.perf_counter() - start))
        if diverged:
            status = "diverged"
            break
        if t == total:
            break
        if adam is not None:
            adam.step(grads, lr)
        else:
            _sgd_step(params, grads, lr)

    if ckpt_path is not None:
        _remove_checkpoint(ckpt_path)
    history = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    history = history.astype({"step": "int64", "stage": "int64"})
    return TrainResult(
        history=history,
        status=status,
        final_train_loss=float(train_loss),
        final_test_loss=float(test_loss),
        steps_done=t,
        config=config,
    )
