"""Runtime: a per-operation cost model, calibrated on one machine kind.

Seconds of one thread (the pipeline's default `threads`). Each formula counts the work of the code
it models; the constants live in ``runtime_constants.json`` beside this module, which
benchmarks/calibrate_runtime.py (primitives, fastest of 9 repetitions) and benchmarks/runtime_check.py
--fit-fixed (the fixed per-job costs, from the `benchmark:` files of a smoke run) write. Threads > 1
are not assumed to speed anything up (an upper bound), and on a GPU the compute terms are far smaller
than these CPU estimates. Torch-free.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from hrta.bases import check_base
from hrta.sizes import DEFAULT_QUADRATURE_NODES, FAST_BLOCK_BYTES

from .memory import FALLBACK_BASE, _itemsize, deep_params

__all__ = [
    "CALIBRATION_MACHINE",
    "CONSTANTS_FILE",
    "JOB_FIXED_S",
    "PLOT_JOB_BASE_MB",
    "RUNTIME_CONSTANTS",
    "TORCH_JOB_BASE_MB",
    "TORCH_JOB_FIXED_S",
    "UncalibratedBaseWarning",
    "analytic_ntk_s",
    "analytic_ntks_s",
    "deep_analytic_ntk_s",
    "deep_empirical_ntk_s",
    "deep_step_s",
    "empirical_ntk_s",
    "jacobian_ntk_s",
    "load_runtime_constants",
    "predict_curve_s",
    "relu_analytic_ntks_s",
    "search_curve_point_s",
    "search_kernel_parts_s",
    "spectrum_s",
    "train_run_s",
    "two_layer_forward_s",
    "uncalibrated_message",
    "two_layer_step_s",
]

CONSTANTS_FILE = Path(__file__).with_name("runtime_constants.json")


def load_runtime_constants(path: str | Path = CONSTANTS_FILE) -> dict:
    """The calibration file: calibration_machine, operations {name: {term: seconds}}, job_fixed_s
    {rule: seconds}, torch_job_fixed_s, torch_job_base_mb, plot_job_base_mb."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


_CALIBRATION = load_runtime_constants()
#: The machine the constants were measured on (benchmarks/calibrate_runtime.py prints this line).
CALIBRATION_MACHINE: str = _CALIBRATION["calibration_machine"]
#: Fitted constants (seconds): see the formula of the function that uses each one.
RUNTIME_CONSTANTS: dict[str, dict[str, float]] = _CALIBRATION["operations"]
#: Fixed cost of one job (seconds) per light rule: interpreter start, Snakemake's script preamble, imports.
JOB_FIXED_S: dict[str, float] = _CALIBRATION["job_fixed_s"]
#: Fixed cost of a job that imports torch and hrta (training and kernel jobs).
TORCH_JOB_FIXED_S: float = _CALIBRATION["torch_job_fixed_s"]
#: Peak resident memory (MB) of a job's interpreter with torch and hrta imported, and of a plot job.
TORCH_JOB_BASE_MB: float = _CALIBRATION["torch_job_base_mb"]
PLOT_JOB_BASE_MB: float = _CALIBRATION["plot_job_base_mb"]


def _const(name: str) -> dict[str, float]:
    return RUNTIME_CONSTANTS[name]


class UncalibratedBaseWarning(UserWarning):
    """A base activation (hrta.bases registry) without its own constants in runtime_constants.json: its
    estimates use FALLBACK_BASE's (GELU, the costliest smooth base measured) until it is calibrated."""


def uncalibrated_message(base: str) -> str | None:
    """Why ``base``'s estimates are borrowed (no ``step_<base>_float64`` or ``forward_<base>`` constants
    in runtime_constants.json), naming the fallback and the fix; None when it is calibrated."""
    missing = [name for name in (f"step_{base}_float64", f"forward_{base}") if name not in RUNTIME_CONSTANTS]
    if not missing:
        return None
    return (
        f"hrta.pipeline.runtime has no calibrated constants {', '.join(repr(m) for m in missing)} for base "
        f"activation {base!r}; its runtime estimates use the {FALLBACK_BASE} constants instead (calibrate it: "
        f"`benchmarks/calibrate_runtime.py --only step_{base} forward_{base} --write` measures them on this machine in "
        "seconds and adds them to hrta/pipeline/runtime_constants.json)"
    )


def _base_const(op: str, base: str, dtype: str | None = None) -> dict[str, float]:
    """Constants ``{op}_{base}[_{dtype}]``: float64's for a dtype not calibrated (an upper bound), and for
    a base with none FALLBACK_BASE's, with an UncalibratedBaseWarning naming the base and the fix."""
    names = [f"{op}_{check_base(base)}_{dtype}", f"{op}_{base}_float64"] if dtype else [f"{op}_{check_base(base)}"]
    for name in names:
        if name in RUNTIME_CONSTANTS:
            return RUNTIME_CONSTANTS[name]
    warnings.warn(uncalibrated_message(base), UncalibratedBaseWarning, stacklevel=3)
    fallback = [name.replace(f"_{base}", f"_{FALLBACK_BASE}", 1) for name in names]
    return next(RUNTIME_CONSTANTS[name] for name in fallback if name in RUNTIME_CONSTANTS)


def two_layer_step_s(
    n: int, m: int, d: int = 2, *, base: str = "relu", dtype: str = "float64", optimizer: str = "gd"
) -> float:
    """Seconds of one update of hrta.train on a TwoLayerNet (loss_and_grad on n rows + the update)::

        c0 + nm·n·m + m·m + nmd·n·m·d
           [+ recompute·n·m  (ReLU on the CPU when the n×m pattern spans more than one cache block of
                              TwoLayerNet.fast_block_bytes: it is formed twice)]
           [+ adam·3·m·(d + 1)  (Adam's moment updates)]

    constants per (base, dtype) in RUNTIME_CONSTANTS["step_<base>_<dtype>"] (a dtype without its own use
    the float64 constants: an upper bound; a base without constants uses GELU's, with an
    UncalibratedBaseWarning). The n·m·d term is the GEMMs with the input dimension (E8's d = 20).
    """
    c = _base_const("step", base, dtype)
    recompute = base == "relu" and n * m * _itemsize(dtype) > FAST_BLOCK_BYTES
    t = c["c0"] + c["nm"] * n * m + c["m"] * m + c["nmd"] * n * m * d + (c["recompute"] * n * m if recompute else 0.0)
    if optimizer == "adam":
        t += _const(f"adam_{dtype}")["param"] * 3 * m * (d + 1)
    return t


def two_layer_forward_s(rows: int, m: int, d: int = 2, *, base: str = "relu") -> float:
    """Seconds of one logged loss (loss_and_grad(grad=False)) on ``rows`` rows: c0 + rm·rows·m + rmd·rows·m·d."""
    if rows <= 0:
        return 0.0
    c = _base_const("forward", base)
    return c["c0"] + c["rm"] * rows * m + c["rmd"] * rows * m * d


def deep_step_s(n: int, d: int, widths: Sequence[int], dtype: str = "float64") -> float:
    """Seconds of one update of a DeepNet (hand-written gradient, DeepNet.loss_and_grad):
    c0 + mac·n·Σ fan_in·fan_out + act·n·Σ widths, constants per dtype."""
    c = _const(f"deep_step_{dtype}")
    _, macs = deep_params(d, widths)
    return c["c0"] + c["mac"] * n * macs + c["act"] * n * sum(widths)


def empirical_ntk_s(n: int, m: int) -> float:
    """Seconds of hrta.ntk.empirical_ntk on a TwoLayerNet (width-chunked closed form, float64)::

    c0 + nnm·n²·m (the two n×m×n GEMMs) + nm·n·m (the n×m activations and derivatives)
    """
    c = _const("empirical_ntk")
    return c["c0"] + c["nnm"] * n * n * m + c["nm"] * n * m


def jacobian_ntk_s(n: int, P: int) -> float:
    """Seconds of hrta.ntk.jacobian_ntk (torch.func, any model): c0 + nnp·n²·P + np·n·P."""
    c = _const("jacobian_ntk")
    return c["c0"] + c["nnp"] * n * n * P + c["np"] * n * P


def analytic_ntk_s(n: int, d: int, *, base: str = "relu", nodes: int = DEFAULT_QUADRATURE_NODES) -> float:
    """Seconds of hrta.ntk.analytic_ntk: ReLU closed form c0 + nnd·n²·d; tanh/gelu Gauss–Hermite
    quadrature c0 + nnq2·n²·q² (q = ``nodes``)."""
    if check_base(base) == "relu":
        c = _const("analytic_relu")
        return c["c0"] + c["nnd"] * n * n * d
    c = _const("analytic_quadrature")
    return c["c0"] + c["nnq2"] * n * n * nodes * nodes


def analytic_ntks_s(n: int, d: int, k: int, *, base: str = "relu", nodes: int = DEFAULT_QUADRATURE_NODES) -> float:
    """Seconds of hrta.ntk.analytic_ntks over k values of s: ReLU as relu_analytic_ntks_s; another base one
    quadrature of the s-free parts, priced as one analytic_ntk (measured 0.90× for tanh and 1.11× for GELU at
    n = 100 on 2026-12-07), its per-s sums of n² terms left out."""
    if check_base(base) == "relu":
        return relu_analytic_ntks_s(n, d, k)
    return analytic_ntk_s(n, d, base=base, nodes=nodes)


def relu_analytic_ntks_s(n: int, d: int, k: int) -> float:
    """Seconds of hrta.ntk.relu_analytic_ntks over k values of s (ReLU closed form; the pairwise angles once,
    then elementwise n² work per s): c0 + nnd·n²·d + knn·k·n²."""
    c = _const("relu_ntks")
    return c["c0"] + c["nnd"] * n * n * d + c["knn"] * k * n * n


def spectrum_s(n: int) -> float:
    """Seconds of hrta.ntk.spectrum (float64 eigvalsh) of an n×n kernel: c0 + n3·n³."""
    c = _const("spectrum")
    return c["c0"] + c["n3"] * float(n) ** 3


def search_kernel_parts_s(n: int, d: int) -> float:
    """Seconds of hrta.claims.claim1_search.kernel_parts_all (K_0 and K_2 of n points in R^d, both layer
    choices): c0 + nn·n² + nnd·n²·d."""
    c = _const("search_kernel_parts")
    return c["c0"] + c["nn"] * n * n + c["nnd"] * n * n * d


def search_curve_point_s(n: int) -> float:
    """Seconds of one point of hrta.claims.claim1_search.lambda_min_curve (K_s/n from the parts, its tridiagonal
    reduction and its two extreme eigenvalues): c0 + n2·n² + n3·n³."""
    c = _const("search_curve_point")
    return c["c0"] + c["n2"] * float(n) ** 2 + c["n3"] * float(n) ** 3


def predict_curve_s(n: int, steps: int) -> float:
    """Seconds of hrta.ntk.predict_loss_curve: eig·spectrum_s(n) (its eigh) + pow·(steps + 1)·n."""
    c = _const("predict")
    return c["eig"] * spectrum_s(n) + c["pow"] * (steps + 1) * n


def train_run_s(
    *, n: int, n_test: int, d: int, model: Mapping, optimizer: Mapping, steps: int, log_every: int, dtype: str
) -> float:
    """Seconds of one hrta.train.train run of ``steps`` updates (no early stop), logging the training
    (and test) loss every ``log_every`` steps::

        steps · step(batch rows) + logs · (forward(n) + forward(n_test)),  logs = steps // log_every + 1

    (hrta.train's own bookkeeping per step is inside the step's c0: timed whole runs of a width-8 network
    are no slower than the step model predicts.)

    ``model`` is a TwoLayerNet spec (width m, base; config e3/e4 ``model`` plus ``width``) or a
    hrta.sweeps spec of kind "deep" (hidden ``widths``: hand-written step, forward ≈ a third of it).
    """
    logs = steps // max(1, int(log_every)) + 1
    opt = optimizer.get("optimizer", "gd")
    rows = min(int(optimizer.get("batch_size") or n), n) if opt == "sgd" else n
    if model.get("kind") == "deep":
        widths = model["widths"]
        step = deep_step_s(rows, d, widths, dtype)
        return steps * step + logs * (deep_step_s(n, d, widths, dtype) + deep_step_s(n_test, d, widths, dtype)) / 3
    m, base = int(model["width"]), model.get("base", "relu")
    step = two_layer_step_s(rows, m, d, base=base, dtype=dtype, optimizer=opt)
    forward = two_layer_forward_s(n, m, d, base=base) + two_layer_forward_s(n_test, m, d, base=base)
    return steps * step + logs * forward


def deep_analytic_ntk_s(n: int, d: int, depth: int, *, base: str = "relu") -> float:
    """Seconds of hrta.ntk.deep_analytic_ntk, scaled from analytic_ntk_s: ReLU ≈ (0.35 + 0.35·L)×
    the two-layer closed form (measured at n = 1000, L = 1, 3, 5); quadrature ≈ L× the two-layer rule."""
    if check_base(base) == "relu":
        return (0.35 + 0.35 * depth) * analytic_ntk_s(n, d)
    return depth * analytic_ntk_s(n, d, base=base)


def deep_empirical_ntk_s(n: int, d: int, widths) -> float:
    """Seconds of hrta.ntk.deep_empirical_ntk: one float64 autograd forward and backward pass (≈ 1.7×
    the hand-written step: the ratio of the autograd and hand-written step constants measured on 2026-11-29)
    plus the per-layer n×n Gram products (≈ the two-layer empirical kernel's GEMMs per layer)."""
    return 1.7 * deep_step_s(n, d, list(widths)) + sum(empirical_ntk_s(n, w) for w in widths)
