"""Memory estimates for training and NTK computations, and a cap check that refuses a job up front.

Every estimate is a pure function of the sizes (nothing is allocated), returns megabytes with
**1 MB = 2²⁰ bytes**, and counts the tensors the code in hrta.models / hrta.train / hrta.ntk
allocates at its peak (buffers that are allocated count even if some pages are never touched).
Measured peak RSS growth (tests/test_resources.py) is within a few % of these counts for ReLU and
tanh jobs; glibc malloc may keep freed blocks of a long chain of temporaries resident (seen: the
gelu empirical NTK at 1.3–1.65× its count), so leave headroom under a hard limit.
Not counted: the Python/torch runtime itself (≈ 0.3–0.5 GB resident after ``import torch``), the
caller's own copies of the data (e.g. numpy float64 arrays), and checkpoint serialization.

Use::

    need = two_layer_train_mb(n=100, m=1_000_000, d=2, base="tanh", dtype="float64")
    check_memory(need, cap_mb=1024, what="training width m=1000000, n=100, float64")
    # ResourceError: training width m=1000000, n=100, float64 needs ≈ 2.3 GB > cap 1.0 GB; ...
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .checks import integer_at_least

# Copies of the sizes the code uses (tests/test_resources.py checks each against its source): this
# module does not import torch, so that Snakemake can estimate every job when it builds the DAG
# (workflow/rules/common.smk) without paying for the torch import.
FAST_BLOCK_BYTES = 4 << 20  # hrta.models.TwoLayerNet.fast_block_bytes
DEFAULT_QUADRATURE_NODES = 96  # hrta.ntk.DEFAULT_QUADRATURE_NODES
WIDTH_CHUNK = 2048  # hrta.ntk.WIDTH_CHUNK
_PAIR_BLOCK_ELEMENTS = 1 << 22  # hrta.ntk._PAIR_BLOCK_ELEMENTS
_ANGLE_TEMPORARIES = 4  # hrta.ntk._ANGLE_TEMPORARIES

MB = 1 << 20
ITEMSIZE = {"float32": 4, "float64": 8}
BASES = ("relu", "tanh", "gelu")
OPTIMIZERS = ("gd", "sgd", "adam")
DEFAULT_CAP_KEY = "resources.max_mem_mb"


class ResourceError(ValueError):
    """A job whose estimated memory exceeds the configured cap; the message gives both and the fix."""


def _itemsize(dtype: str) -> int:
    if dtype not in ITEMSIZE:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(ITEMSIZE)}")
    return ITEMSIZE[dtype]


def _base(base: str) -> str:
    if base not in BASES:
        raise ValueError(f"unknown base {base!r}; expected one of {', '.join(BASES)}")
    return base


# ------------------------------------------------------------------------------------------------
# training


def two_layer_buffer_elements(
    b: int, m: int, d: int, base: str = "relu", itemsize: int = 4, device: str = "cpu"
) -> int:
    """Elements of the work buffers TwoLayerNet.loss_and_grad allocates for a batch of b rows
    (TwoLayerNet._fast_buffers; one set per distinct batch size, kept for the model's lifetime)::

        b·c  (Z)  +  2·d·m  (dm, grad_W)  +  2·d·c  (dc, dc2)  +  2·d·b  (dn, dn2)  +  2d + b + m
        [+ 2·b·m  (D = σ_s'(XWᵀ), E scratch) for tanh/gelu]

    with c = m for tanh/gelu or off the CPU, and for ReLU on the CPU the cache-sized column block
    c = min(m, max(1, fast_block_bytes // (b·itemsize))) (fast_block_bytes = 4 MiB): the ReLU path
    never holds an n×m matrix there.
    """
    b, m, d = integer_at_least("b", b, 1), integer_at_least("m", m, 1), integer_at_least("d", d, 1)
    relu_cpu = _base(base) == "relu" and device == "cpu"
    c = min(m, max(1, FAST_BLOCK_BYTES // (b * itemsize))) if relu_cpu else m
    elements = b * c + 2 * d * m + 2 * d * c + 2 * d * b + 2 * d + b + m
    if base != "relu":
        elements += 2 * b * m
    return elements


def two_layer_train_mb(
    n: int,
    m: int,
    d: int,
    *,
    base: str = "relu",
    optimizer: str = "gd",
    batch_size: int | None = None,
    n_test: int = 0,
    train_output: bool = True,
    dtype: str = "float32",
    device: str = "cpu",
) -> float:
    """Peak memory (MB) of ``hrta.train.train`` on a TwoLayerNet of width m, n training rows of
    dimension d (constant feature included) and n_test test rows, in ``dtype``::

        itemsize · [ (d·m + m)                     parameters W, a
                   + 3·P           (adam only)     moments m, v and the denominator scratch,
                                                   P = d·m (+ m if train_output) trained parameters
                   + (n + n_test)·(d + 1)          data X, y (X_test, y_test) in the model's dtype
                   + Σ_{b ∈ B} buffers(b) ]        two_layer_buffer_elements, one set per batch size

    B = {n} for gd/adam, {batch_size, n mod batch_size (if ≠ 0), n} for sgd (n: the full training
    loss logged every log_every updates), plus n_test when there is a test set. The n×m buffers
    make tanh/gelu cost ≈ 3·n·m·itemsize; ReLU on the CPU is dominated by the ≈ 4·d·m of W, a,
    grad_W and the aW scratch (plus 3·d·m for Adam).
    """
    n, m, d = integer_at_least("n", n, 1), integer_at_least("m", m, 1), integer_at_least("d", d, 1)
    n_test = integer_at_least("n_test", n_test, 0)
    item = _itemsize(dtype)
    _base(base)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    sizes = {n}
    if optimizer == "sgd":
        batch_size = integer_at_least("batch_size", batch_size, 1)
        sizes |= {min(batch_size, n)} | ({n % batch_size} if n % batch_size and batch_size < n else set())
    if n_test:
        sizes.add(n_test)
    trained = d * m + (m if train_output else 0)
    elements = d * m + m + (n + n_test) * (d + 1)
    if optimizer == "adam":
        elements += 3 * trained
    elements += sum(two_layer_buffer_elements(b, m, d, base, item, device) for b in sizes)
    return elements * item / MB


# ------------------------------------------------------------------------------------------------
# NTKs

#: float64 n×c temporaries alive at once in one width chunk of hrta.ntk.two_layer_ntk (both layers
#: trained): Z, the previous chunk's S and D, and the temporaries of homotopy()
#: ((1 − s)z, base(z), s·base(z)) or of homotopy_derivative() (2 for relu/tanh, 4 for gelu).
_EMPIRICAL_CHUNK_TEMPORARIES = {"relu": 6, "tanh": 6, "gelu": 7}


def empirical_ntk_mb(
    n: int, m: int, d: int, *, base: str = "relu", train_output: bool = True, dtype: str = "float32"
) -> float:
    """Peak memory (MB) of ``hrta.ntk.empirical_ntk`` for a TwoLayerNet (two_layer_ntk, chunked)::

        8 · [ max(k·n·c + 2n²,  3·n·c + 4n²)     chunk temporaries with K_out, K_in; at the end
                                                 K_in, K_out, K + Kᵀ, ½(K + Kᵀ) with the last chunk's Z, S, D
            + n·d  (X in float64)  + (d·m + m if dtype is float32: the float64 copies of W, a) ]
        + itemsize · n² if dtype is float32 (the cast of the result)

    with c = min(m, WIDTH_CHUNK = 2048) columns per chunk and k = 6 (relu, tanh) or 7 (gelu) float64
    n×c temporaries alive at once (k − 2 and 2·n·c at the end when the output layer is frozen).
    """
    n, m, d = integer_at_least("n", n, 1), integer_at_least("m", m, 1), integer_at_least("d", d, 1)
    item = _itemsize(dtype)
    k = _EMPIRICAL_CHUNK_TEMPORARIES[_base(base)] - (0 if train_output else 2)
    c = min(m, WIDTH_CHUNK)
    last = 3 if train_output else 2
    elements64 = max(k * n * c + 2 * n * n, last * n * c + 4 * n * n) + n * d
    if dtype == "float32":
        elements64 += d * m + m
    cast = n * n * item if dtype == "float32" else 0
    return (8 * elements64 + cast) / MB


def analytic_ntk_mb(
    n: int, d: int, *, base: str = "relu", nodes: int = DEFAULT_QUADRATURE_NODES, dtype: str = "float64"
) -> float:
    """Peak memory (MB) of ``hrta.ntk.analytic_ntk`` on n inputs of dimension d (computed in float64)::

        8 · max( 5n²,                       e_ss, e_dd, X Xᵀ ⊙ e_dd, K + e_ss, K + Kᵀ and its half
                 2n² + block )              e_ss, e_dd with one row block's temporaries
        + itemsize · n² if dtype is float32 (the cast of the result)  + 8 · 4n·d (X64 and its splits)

    Row blocks of b = max(1, 2²² // (n·per_row)) rows. ReLU (closed form, per_row = 4d):
    block = b·n·max(7d, 14) (7 (b, n, d) TwoProduct temporaries for the angles, ≈ 14 (b, n) ones
    in the closed-form kernels). tanh/gelu (Gauss–Hermite with q = ``nodes``, per_row = max(4d, 4q²)):
    block = k·b·n·q², k = 4 (tanh) or 5 (gelu): V plus the temporaries of homotopy()/its derivative.
    For q = 96 the block stays at one row once n > 113, so it grows like n·q² (74 MB per 1000 inputs).
    """
    n, d = integer_at_least("n", n, 1), integer_at_least("d", d, 1)
    nodes = integer_at_least("nodes", nodes, 2)
    item = _itemsize(dtype)
    if _base(base) == "relu":
        b = max(1, _PAIR_BLOCK_ELEMENTS // (n * _ANGLE_TEMPORARIES * d))
        block = b * n * max(7 * d, 14)
    else:
        b = max(1, _PAIR_BLOCK_ELEMENTS // (n * max(_ANGLE_TEMPORARIES * d, 4 * nodes * nodes)))
        block = (5 if base == "gelu" else 4) * b * n * nodes * nodes
    elements64 = max(5 * n * n, 2 * n * n + block) + 4 * n * d
    cast = n * n * item if dtype == "float32" else 0
    return (8 * elements64 + cast) / MB


def jacobian_ntk_mb(n: int, P: int, *, activations: int = 0, dtype: str = "float32") -> float:
    """Peak memory (MB) of ``hrta.ntk.jacobian_ntk`` (generic, any model with P parameters)::

        8 · [ P                                 the float64 copy of the model
            + max(n·P + 2·n²·A,  2·n·P)         during the vmapped backward: the per-parameter
                                                Jacobian blocks (n·P) and ≈ 2 (n, n, width) gradients
                                                per hidden layer; after it: the blocks and J = cat(blocks)
            + 4·n² ]                            I_n, J Jᵀ, K + Kᵀ, ½(K + Kᵀ)
        + itemsize · n² for a float32 model (the cast of the result)

    A = ``activations``: hidden units per input (Σ of a DeepNet's hidden widths). The factor 2 is
    measured, not counted (1.5–1.7 fitted on DeepNet(3, (w, w)), n = 200–400).
    """
    n, P = integer_at_least("n", n, 1), integer_at_least("P", P, 1)
    activations = integer_at_least("activations", activations, 0)
    item = _itemsize(dtype)
    elements64 = P + max(n * P + 2 * n * n * activations, 2 * n * P) + 4 * n * n
    cast = n * n * item if dtype == "float32" else 0
    return (8 * elements64 + cast) / MB


def relu_grams_mb(n: int, m: int, d: int, *, dtype: str = "float64", chunk: int = WIDTH_CHUNK) -> float:
    """Peak memory (MB) of ``hrta.ntk.relu_kernel_grams`` (every-s empirical NTK of a ReLU-base net,
    chunked over the width) together with the network's weights, and one ``ReluGrams.kernel`` call::

        itemsize · m(d + 1)                  W and a of the TwoLayerNet (+ 8·m(d + 1): float64 copies if float32)
        + 8 · [3·n·c + 8n² + n·d + d²] + n·c   Z, ReLU(Z), H⊙a of one chunk (c = min(m, chunk) columns) and the
                                             bool mask; zr, rr, hh, xx, zz and ~3 temporaries of kernel()

    The only term growing with m is the weights (24 MB per 10⁶ units at d = 2 in float64): one job
    stays ≲ 1 GB up to m ≈ 4·10⁷ for the data sets here (n ≤ a few hundred).
    """
    n, m, d = integer_at_least("n", n, 1), integer_at_least("m", m, 1), integer_at_least("d", d, 1)
    item = _itemsize(dtype)
    c = min(m, integer_at_least("chunk", chunk, 1))
    weights = item * m * (d + 1) + (8 * m * (d + 1) if dtype == "float32" else 0)
    return (weights + 8 * (3 * n * c + 8 * n * n + n * d + d * d) + n * c) / MB


def e2_empirical_job_mb(
    *, n: int, d: int, width: int, base: str, layers: Sequence[str], dtype: str, cached_kernels: int = 0
) -> float:
    """Peak memory (MB) of one e2_empirical job: ReLU base → relu_grams_mb next to the analytic
    references (``cached_kernels`` n×n float64 kernels held); other bases → kernel_job_mb."""
    if _base(base) != "relu":
        return kernel_job_mb(
            n=n, d=d, width=width, base=base, layers=layers, dtype=dtype, cached_kernels=cached_kernels
        )
    held = 8 * n * n * (cached_kernels + 2) / MB  # + the kernel at hand and K − K_∞
    return max(analytic_ntk_mb(n, d, base=base, dtype="float64"), relu_grams_mb(n, width, d, dtype=dtype)) + held


# ------------------------------------------------------------------------------------------------
# the cap


def format_mb(mb: float) -> str:
    """'512 MB' below 1 GB, else '1.6 GB' (1 GB = 1024 MB = 2³⁰ bytes)."""
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.0f} MB" if mb >= 10 else f"{mb:.2f} MB"


def check_memory(estimate_mb: float, cap_mb: float | str | None, what: str, *, key: str = DEFAULT_CAP_KEY) -> None:
    """Raise ResourceError if ``estimate_mb`` > ``cap_mb``; ``cap_mb=None`` means no cap, "auto" the
    memory this process may still use (available_memory_mb: the Slurm allocation, the cgroup limit,
    MemAvailable), so inside a job the check is against the memory of the machine it runs on.

    The message names the job (``what``, e.g. "training width m=1000000, n=100, float64"), the
    estimate, the cap, and what to change: the sizes in ``what`` or the cap's config ``key``.
    """
    estimate = float(estimate_mb)
    if not math.isfinite(estimate) or estimate < 0:
        raise ValueError(f"estimate_mb must be a finite number >= 0, got {estimate_mb!r}")
    if cap_mb == "auto":
        cap_mb = available_memory_mb()
    if cap_mb is None:
        return
    if isinstance(cap_mb, bool) or not isinstance(cap_mb, numbers.Real) or not math.isfinite(cap_mb) or cap_mb <= 0:
        raise ValueError(f"memory cap ({key}) must be a positive number of MB, got {cap_mb!r}")
    if estimate > cap_mb:
        raise ResourceError(
            f"{what} needs ≈ {format_mb(estimate)} > cap {format_mb(float(cap_mb))}; reduce these sizes, "
            f"or raise the cap (config key {key}) if the machine has the memory"
        )


# ------------------------------------------------------------------------------------------------
# pipeline jobs (one implementation for the up-front check in workflow/rules/common.smk and the
# belt-and-braces check inside the job scripts)


def train_job_mb(
    *, n: int, n_test: int, d: int, width: int, model: dict, optimizers: dict, dtype: str, device: str = "cpu"
) -> float:
    """Peak memory (MB) of one pipeline training job (scripts/train.py): its runs are sequential, so
    the peak is the largest two_layer_train_mb over its optimizer settings. ``model`` and
    ``optimizers`` are the config's e3/e4 ``model`` and ``optimizers`` sections."""
    device = "cpu" if device == "cpu" else "cuda"
    return max(
        two_layer_train_mb(
            n,
            width,
            d,
            base=model.get("base", "relu"),
            optimizer=opt["optimizer"],
            batch_size=opt.get("batch_size"),
            n_test=n_test,
            train_output=model.get("train_output", True),
            dtype=dtype,
            device=device,
        )
        for opt in optimizers.values()
    )


def kernel_job_mb(
    *, n: int, d: int, width: int | None, base: str, layers: Sequence[str], dtype: str, cached_kernels: int = 0
) -> float:
    """Peak memory (MB) of one kernel job: the analytic NTK (width None) or the empirical NTK at
    ``width`` next to its analytic reference; ``cached_kernels`` n×n float64 kernels held meanwhile."""
    analytic = analytic_ntk_mb(n, d, base=base, dtype="float64")
    held = 8 * n * n * cached_kernels / MB
    if width is None:
        return analytic + held
    empirical = max(
        empirical_ntk_mb(n, width, d, base=base, train_output=(layer == "both"), dtype=dtype) for layer in layers
    )
    return max(analytic, empirical + 8 * n * n / MB) + held


def _dataset_sizes(dataset: dict) -> tuple[int, int, int]:
    from .data import get_target  # noqa: PLC0415

    d = get_target(dataset["target"]).d + (1 if dataset.get("constant_feature", True) else 0)
    return int(dataset["n_train"]), int(dataset["n_test"]), d


def pipeline_job_estimates(config: dict, train_experiments: Sequence[str] = ("e3", "e4")) -> list[tuple[str, float]]:
    """(job description, estimated peak MB) of every training and kernel job of a pipeline config
    (workflow/schemas/config.schema.yaml, defaults filled in)."""
    jobs = []
    dtype, device = config["dtype"], config["device"]
    for exp in train_experiments:
        sec = config[exp]
        n, n_test, d = _dataset_sizes(config["datasets"][sec["dataset"]])
        model = sec.get("model", {})
        for width in sec["widths"]:
            job_dtype = wide_settings(config, exp, width).get("dtype", dtype)
            mb = train_job_mb(
                n=n,
                n_test=n_test,
                d=d,
                width=width,
                model=model,
                optimizers=sec["optimizers"],
                dtype=job_dtype,
                device=device,
            )
            jobs.append((f"train job {exp} width m={width} (n={n}, n_test={n_test}, d={d}, {job_dtype})", mb))
        if exp == "e4":
            layers = ["both" if model.get("train_output", True) else "first"]
            s_count = len({s for m in sec["methods"].values() for s in _schedule_s(m["schedule"])})
            for width in sec["widths"]:
                job_dtype = wide_settings(config, exp, width).get("dtype", dtype)
                mb = kernel_job_mb(
                    n=n,
                    d=d,
                    width=width,
                    base=model.get("base", "relu"),
                    layers=layers,
                    dtype=job_dtype,
                    cached_kernels=s_count,
                )
                jobs.append((f"kernel job e4_theory width m={width} (n={n}, d={d}, {job_dtype})", mb))
    e2 = config.get("e2")
    if e2:
        n, _, d = _dataset_sizes(config["datasets"][e2["dataset"]])
        cached = len(e2["layers"]) * len(e2["s_empirical"])
        jobs.append(
            (
                f"kernel job e2_analytic (n={n}, d={d})",
                kernel_job_mb(n=n, d=d, width=None, base=e2["base"], layers=e2["layers"], dtype=dtype),
            )
        )
        for width in e2["widths"]:
            mb = e2_empirical_job_mb(
                n=n, d=d, width=width, base=e2["base"], layers=e2["layers"], dtype=dtype, cached_kernels=cached
            )
            jobs.append((f"kernel job e2_empirical width m={width} (n={n}, d={d}, {dtype})", mb))
    return jobs


def _schedule_s(spec) -> set[float]:
    from .schedules import parse_schedule  # noqa: PLC0415

    return {s for st in parse_schedule(spec).stages for s in (st.s_start, st.s_end)}


def check_pipeline_memory(config: dict, cap_mb: float | None, **kwargs) -> list[tuple[str, float]]:
    """ResourceError naming every job of ``config`` whose estimate exceeds ``cap_mb`` (None: no cap)."""
    jobs = pipeline_job_estimates(config, **kwargs)
    if cap_mb is None:
        return jobs
    over = [(what, mb) for what, mb in jobs if mb > cap_mb]
    if over:
        listing = "; ".join(f"{what} needs ≈ {format_mb(mb)}" for what, mb in over)
        raise ResourceError(
            f"{len(over)} job(s) exceed the memory cap {format_mb(float(cap_mb))} ({DEFAULT_CAP_KEY}): {listing}; "
            f"reduce these sizes, or raise the cap if the machine has the memory"
        )
    return jobs


# ------------------------------------------------------------------------------------------------
# runtime: a per-operation cost model, calibrated on one machine kind
#
# Seconds of one thread (the pipeline's default `threads`). Each formula counts the work of the code
# it models; the constants come from benchmarks/calibrate_runtime.py (primitives, fastest of 9
# repetitions) and, for the fixed per-job costs, from the `benchmark:` files of a smoke run
# (benchmarks/runtime_check.py --fit-fixed). Threads > 1 are not assumed to speed anything up
# (an upper bound), and on a GPU the compute terms are far smaller than these CPU estimates.

#: The machine the constants were measured on (benchmarks/calibrate_runtime.py prints this line).
CALIBRATION_MACHINE = (
    "Intel(R) Xeon(R) Processor (KVM guest), 2 cores, torch 2.13.0+cpu, Python 3.11.7, 1 thread; "
    "per-operation costs measured 2026-11-29 while other processes shared the 2 cores, per-job fixed costs on the quiet machine"
)

#: Fitted constants (seconds): see the formula of the function that uses each one.
RUNTIME_CONSTANTS: dict[str, dict[str, float]] = {
    "step_relu_float64": {"c0": 1.891e-04, "nm": 1.656e-09, "m": 1.318e-08, "recompute": 1.504e-09},
    "step_relu_float32": {"c0": 9.673e-05, "nm": 7.594e-10, "m": 3.041e-08, "recompute": 8.086e-10},
    "step_tanh_float64": {"c0": 0.0, "nm": 6.78e-09, "m": 0.0, "recompute": 0.0},
    "step_gelu_float64": {"c0": 0.0, "nm": 1.176e-08, "m": 0.0, "recompute": 0.0},
    "adam_float64": {"param": 2.41e-08},
    "adam_float32": {"param": 6.163e-09},
    "forward_relu": {"c0": 9.797e-05, "rm": 1.899e-09},
    "forward_tanh": {"c0": 0.0, "rm": 8.426e-09},
    "forward_gelu": {"c0": 0.0, "rm": 1.241e-08},
    "deep_step_float64": {"c0": 1.473e-04, "mac": 1.137e-10, "act": 1.861e-09},
    "deep_step_float32": {"c0": 1.676e-04, "mac": 5.377e-11, "act": 1.553e-09},
    "empirical_ntk": {"c0": 1.844e-04, "nnm": 8.288e-11, "nm": 1.523e-08},
    "jacobian_ntk": {"c0": 2.43e-03, "nnp": 3.489e-10, "np": 0.0},
    "analytic_relu": {"c0": 0.0, "nnd": 9.392e-08},
    "analytic_quadrature": {"c0": 0.0, "nnq2": 1.769e-08},
    "spectrum": {"c0": 3.172e-04, "n3": 1.179e-10},
    "predict": {"eig": 2.224, "pow": 4.71e-09},
}

#: Fixed cost of one job (seconds): interpreter start, Snakemake's script preamble and the imports,
#: per rule: the CPU seconds of each light rule in a smoke run on a quiet machine (2026-11-29, 17:29;
#: their compute is negligible there). The first calibration was taken at load 8–14 on 2 cores, where
#: the same jobs used 20–40 % more CPU, and over-estimated a quiet smoke run by 1.27–1.55× in total.
JOB_FIXED_S: dict[str, float] = {
    "dataset": 0.31,
    "e1_activations": 2.06,
    "e4_rates": 0.53,
    "e4_horizons": 0.56,
    "figure_e1_activations": 2.05,
    "figure_e3_loss": 3.25,
    "figures_e2": 8.4,
    "figures_e4": 8.45,
    "figures_deep": 6.6,
    "figure_claims": 7.78,
    "figure_claims_matrix": 1.68,
    "table_e2_spectrum": 0.45,
    "table_e2_lambda_min": 0.69,
    "table_e3": 0.61,
    "table_e4": 0.43,
    "table_e4_horizons": 0.61,
    "tables_deep": 0.56,
    "table_claims_speedups": 0.44,
    "claims_speedups": 4.99,
    "claims_report": 0.71,
}
#: Fixed cost of a job that imports torch and hrta (training and kernel jobs): the same quiet smoke
#: run's smallest torch jobs (train, e2_*, e4_theory, deep_kernel_error) used 1.70–1.93 s of CPU.
TORCH_JOB_FIXED_S = 1.85
#: Peak resident memory (MB) of a job's interpreter with torch and hrta imported (the smoke run's
#: torch jobs: 262–280 MB), and of a pandas/matplotlib job (134–155 MB).
TORCH_JOB_BASE_MB = 300.0
PLOT_JOB_BASE_MB = 160.0


def _const(name: str) -> dict[str, float]:
    return RUNTIME_CONSTANTS[name]


def two_layer_step_s(
    n: int, m: int, d: int = 2, *, base: str = "relu", dtype: str = "float64", optimizer: str = "gd"
) -> float:
    """Seconds of one update of hrta.train on a TwoLayerNet (loss_and_grad on n rows + the update)::

        c0 + nm·n·m + m·m [+ recompute·n·m  (ReLU on the CPU when the n×m pattern spans more than one
                                             cache block of TwoLayerNet.fast_block_bytes: it is formed twice)]
           [+ adam·3·m·(d + 1)               (Adam's moment updates)]

    constants per (base, dtype) in RUNTIME_CONSTANTS["step_<base>_<dtype>"] (tanh/gelu float32 use
    the float64 constants: an upper bound). d (≤ 4 in every config) only sets the inner dimension
    of skinny GEMMs and is left out of the step cost.
    """
    key = f"step_{_base(base)}_{dtype}"
    c = RUNTIME_CONSTANTS.get(key) or _const(f"step_{base}_float64")
    recompute = base == "relu" and n * m * _itemsize(dtype) > FAST_BLOCK_BYTES
    t = c["c0"] + c["nm"] * n * m + c["m"] * m + (c["recompute"] * n * m if recompute else 0.0)
    if optimizer == "adam":
        t += _const(f"adam_{dtype}")["param"] * 3 * m * (d + 1)
    return t


def two_layer_forward_s(rows: int, m: int, *, base: str = "relu") -> float:
    """Seconds of one logged loss (loss_and_grad(grad=False)) on ``rows`` rows: c0 + rm·rows·m."""
    if rows <= 0:
        return 0.0
    c = _const(f"forward_{_base(base)}")
    return c["c0"] + c["rm"] * rows * m


def deep_params(d: int, widths: Sequence[int]) -> tuple[int, int]:
    """(P, Σ fan_in·fan_out) of a DeepNet: parameters and multiply-adds per input row."""
    dims = (d, *widths, 1)
    macs = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    return macs, macs


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
    if _base(base) == "relu":
        c = _const("analytic_relu")
        return c["c0"] + c["nnd"] * n * n * d
    c = _const("analytic_quadrature")
    return c["c0"] + c["nnq2"] * n * n * nodes * nodes


def spectrum_s(n: int) -> float:
    """Seconds of hrta.ntk.spectrum (float64 eigvalsh) of an n×n kernel: c0 + n3·n³."""
    c = _const("spectrum")
    return c["c0"] + c["n3"] * float(n) ** 3


def predict_curve_s(n: int, steps: int) -> float:
    """Seconds of hrta.ntk.predict_loss_curve: eig·spectrum_s(n) (its eigh) + pow·(steps + 1)·n."""
    c = _const("predict")
    return c["eig"] * spectrum_s(n) + c["pow"] * (steps + 1) * n


def train_run_s(
    *, n: int, n_test: int, d: int, model: Mapping, optimizer: Mapping, steps: int, log_every: int, dtype: str
) -> float:
    """Seconds of one hrta.train.train run of ``steps`` updates (no early stop), logging the training
    (and test) loss every ``log_every`` steps::

        steps · step(batch rows) + (steps // log_every + 1) · (forward(n) + forward(n_test))

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
    return steps * step + logs * (two_layer_forward_s(n, m, base=base) + two_layer_forward_s(n_test, m, base=base))


def model_mb(model: Mapping, *, n: int, n_test: int, d: int, optimizer: Mapping, dtype: str, device: str) -> float:
    """Peak MB of one training run of a model spec: two_layer_train_mb, or for a DeepNet the
    parameters (×4 with Adam's moments and the gradient) plus ≈ 4 activations per hidden unit and row."""
    item = _itemsize(dtype)
    if model.get("kind") == "deep":
        P, _ = deep_params(d, model["widths"])
        factor = 5 if optimizer.get("optimizer") == "adam" else 2
        return item * (factor * P + 4 * (n + n_test) * sum(model["widths"])) / MB
    return two_layer_train_mb(
        n,
        int(model["width"]),
        d,
        base=model.get("base", "relu"),
        optimizer=optimizer.get("optimizer", "gd"),
        batch_size=optimizer.get("batch_size"),
        n_test=n_test,
        train_output=model.get("train_output", True),
        dtype=dtype,
        device="cpu" if device == "cpu" else "cuda",
    )


# ------------------------------------------------------------------------------------------------
# one estimate per pipeline job: estimators registered per rule in ONE place (this registry)


@dataclass(frozen=True)
class JobEstimate:
    """Estimated wall time (s, one thread, on CALIBRATION_MACHINE) and peak resident memory (MB,
    the interpreter's own included) of one job; ``known`` is False for a rule without an estimator."""

    rule: str
    wildcards: Mapping[str, str]
    seconds: float
    mem_mb: float
    known: bool = True

    def describe(self) -> str:
        wc = ", ".join(f"{k}={v}" for k, v in self.wildcards.items())
        return f"rule {self.rule}" + (f" ({wc})" if wc else "")


#: Used for a rule nobody registered an estimator for (with a warning): deliberately generous.
UNKNOWN_RULE_S = 3600.0
UNKNOWN_RULE_MB = 4000.0

#: rule name -> estimator(config, wildcards) -> (seconds, MB). Register with @job_estimator("rule").
ESTIMATORS: dict[str, Callable[[Mapping, Mapping[str, str]], tuple[float, float]]] = {}


def job_estimator(*rules: str):
    """Decorator: register ``fn(config, wildcards) -> (seconds, mem_mb)`` for these rule names."""

    def register(fn):
        for rule in rules:
            ESTIMATORS[rule] = fn
        return fn

    return register


def estimate_job(rule: str, wildcards: Mapping[str, str] | None, config: Mapping, *, warn: bool = True) -> JobEstimate:
    """The JobEstimate of one job of the pipeline (``config``: validated, defaults filled in).
    A rule without a registered estimator gets UNKNOWN_RULE_S / UNKNOWN_RULE_MB and a warning."""
    wildcards = {k: str(v) for k, v in dict(wildcards or {}).items()}
    fn = ESTIMATORS.get(rule)
    if fn is None:
        if warn:
            warnings.warn(
                f"hrta.resources has no runtime/memory estimator for rule {rule!r}; assuming "
                f"{UNKNOWN_RULE_S / 60:.0f} min and {format_mb(UNKNOWN_RULE_MB)} (register one with "
                "@job_estimator in hrta/resources.py)",
                stacklevel=2,
            )
        return JobEstimate(rule, wildcards, UNKNOWN_RULE_S, UNKNOWN_RULE_MB, known=False)
    seconds, mb = fn(config, wildcards)
    return JobEstimate(rule, wildcards, float(seconds), float(mb))


def _fixed(rule: str) -> float:
    return JOB_FIXED_S.get(rule, TORCH_JOB_FIXED_S)


def _dataset(config: Mapping, name: str) -> tuple[int, int, int]:
    return _dataset_sizes(config["datasets"][name])


def _steps(spec) -> int:
    from .schedules import parse_schedule  # noqa: PLC0415

    return parse_schedule(spec).total_steps


def _light_rule(rule: str, base_mb: float = PLOT_JOB_BASE_MB):
    """Figures, tables, reports, small data: a fixed cost per rule (measured), plus for the rules in
    PER_FILE_S a cost per training history they read (the E4 rules read one per E4 width and seed)."""

    def estimate(config, wildcards):
        seconds = _fixed(rule)
        if rule in PER_FILE_S:
            exp, per_file = PER_FILE_S[rule]
            files = _train_files(config, exp)
            seconds += per_file * (files - SMOKE_FILES[exp])  # JOB_FIXED_S is the smoke run's time
        return max(seconds, 0.1), base_mb

    return estimate


def _train_files(config: Mapping, exp: str) -> int:
    """Training histories of experiment ``exp``: Σ over widths of its seeds (fewer for wide widths)."""
    sec = config[exp]
    return sum(len(wide_settings(config, exp, w).get("seeds", sec["seeds"])) for w in sec["widths"])


#: rule -> (experiment, seconds per training history): slopes between the smoke run (3 E4 histories)
#: and the default run (10) on the calibration machine.
PER_FILE_S = {"e4_rates": ("e4", 0.16), "e4_horizons": ("e4", 0.074), "figures_e4": ("e4", 1.0)}
#: Training histories per experiment in the smoke run where JOB_FIXED_S was measured (2026-11-29).
SMOKE_FILES = {"e3": 2, "e4": 3}


@job_estimator("train")
def _train_job(config, wc):
    exp, width = wc["exp"], int(wc["width"])
    sec = config[exp]
    n, n_test, d = _dataset(config, sec["dataset"])
    model = dict(sec.get("model", {}), width=width)
    wide = wide_settings(config, exp, width)
    dtype, seconds = wide.get("dtype", config["dtype"]), _fixed("train")
    methods = [m for key, m in sec["methods"].items() if key in wide.get("methods", sec["methods"])]
    for opt in sec["optimizers"].values():
        for method in methods:
            steps = _steps(method["schedule"])
            seconds += train_run_s(
                n=n,
                n_test=n_test,
                d=d,
                model=model,
                optimizer=opt,
                steps=steps,
                log_every=sec["log_every"],
                dtype=dtype,
            )
            if opt["optimizer"] == "gd":  # lr·λ_max of the analytic kernel for each s of the schedule
                seconds += len(_schedule_s(method["schedule"])) * (analytic_ntk_s(n, d) + spectrum_s(n))
    mb = train_job_mb(
        n=n,
        n_test=n_test,
        d=d,
        width=width,
        model=model,
        optimizers=sec["optimizers"],
        dtype=dtype,
        device=config["device"],
    )
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("e2_analytic")
def _e2_analytic_job(config, wc):
    e2 = config["e2"]
    n, _, d = _dataset(config, e2["dataset"])
    grid = e2["s_grid"]
    count = len(set(_linspace(grid["start"], grid["stop"], grid["num"])) | set(map(float, e2["s_empirical"])))
    seconds = _fixed("e2_analytic") + len(e2["layers"]) * count * (
        analytic_ntk_s(n, d, base=e2["base"]) + spectrum_s(n)
    )
    mb = kernel_job_mb(n=n, d=d, width=None, base=e2["base"], layers=e2["layers"], dtype=config["dtype"])
    return seconds, TORCH_JOB_BASE_MB + mb


def _linspace(start: float, stop: float, num: int) -> list[float]:
    if num == 1:
        return [float(start)]
    return [start + (stop - start) * i / (num - 1) for i in range(num)]


@job_estimator("e2_empirical")
def _e2_empirical_job(config, wc):
    """Analytic references per (layers, s); per seed: ReLU base one chunked pass over the width
    (relu_kernel_grams: the same n×m×n GEMMs as one empirical NTK) then the kernel at every
    (layers, s) from the n×n grams; other bases one empirical NTK per (layers, s); a spectrum each."""
    e2, width = config["e2"], int(wc["width"])
    n, _, d = _dataset(config, e2["dataset"])
    kernels = len(e2["layers"]) * len(e2["s_empirical"])
    seconds = _fixed("e2_empirical") + kernels * (analytic_ntk_s(n, d, base=e2["base"]) + spectrum_s(n))
    if e2["base"] == "relu":
        per_seed = empirical_ntk_s(n, width) + kernels * spectrum_s(n)
    else:
        per_seed = kernels * (empirical_ntk_s(n, width) + spectrum_s(n))
    seconds += len(e2["seeds"]) * per_seed
    mb = e2_empirical_job_mb(
        n=n, d=d, width=width, base=e2["base"], layers=e2["layers"], dtype=config["dtype"], cached_kernels=kernels
    )
    return seconds, TORCH_JOB_BASE_MB + mb


def wide_settings(config: Mapping, exp: str, width: int) -> dict:
    """config[exp]['wide'] when ``width`` is at or above its min_width (fewer seeds and methods, another
    dtype), else {}. The one definition: the workflow's ``wide()`` (workflow/rules/common.smk) calls it."""
    w = config[exp].get("wide") or {}
    return w if w and width >= w["min_width"] else {}


@job_estimator("e4_theory")
def _e4_theory_job(config, wc):
    """Analytic cross-s kernels K_{s,t} for every pair of stage values; per seed one chunked pass over
    the width (relu_kernel_grams ≈ one empirical NTK), then per optimizer × method × kernel (analytic,
    empirical) the lazy prediction through the stages (an eigendecomposition and the curve per stage)
    and a spectrum per stage."""
    from .schedules import parse_schedule  # noqa: PLC0415

    e4, width = config["e4"], int(wc["width"])
    n, _, d = _dataset(config, e4["dataset"])
    wide = wide_settings(config, "e4", width)
    seeds = wide.get("seeds", e4["seeds"])
    methods = [m for key, m in e4["methods"].items() if key in wide.get("methods", e4["methods"])]
    s_all = {st.s_start for m in methods for st in parse_schedule(m["schedule"]).stages}
    seconds = _fixed("e4_theory") + len(s_all) ** 2 * analytic_ntk_s(n, d)
    per_seed = empirical_ntk_s(n, width)
    for _opt in e4["optimizers"].values():
        for method in methods:
            for st in parse_schedule(method["schedule"]).stages:
                per_seed += 2 * (spectrum_s(n) + predict_curve_s(n, st.steps))
    seconds += len(seeds) * per_seed
    layers = ["both" if e4.get("model", {}).get("train_output", True) else "first"]
    dtype = wide.get("dtype", config["dtype"])
    mb = e2_empirical_job_mb(
        n=n, d=d, width=width, base="relu", layers=layers, dtype=dtype, cached_kernels=len(s_all) ** 2
    )
    return seconds, TORCH_JOB_BASE_MB + mb


def e7_cells(config: Mapping) -> dict[str, tuple[str, int]]:
    """{cell: (target, n_train)} of E7: the reference data set with n_train varied, then with the target (d) varied."""
    ref = config["datasets"][config["e7"]["dataset"]]
    cells = [(ref["target"], n) for n in config["e7"]["n_train"]]
    cells += [(t, ref["n_train"]) for t in config["e7"]["targets"]]
    return {f"{t}_n{n}": (t, n) for t, n in dict.fromkeys(cells)}


def claims_jobs(config: Mapping, exp: str) -> list[str]:
    """Names of the claims sweep jobs of E5–E7 (the `cell` wildcard of rule claims_sweep): E5 one per model
    × seed ("{model}_seed{k}": the models differ in cost by 10³×, and a seed's runs need no other seed's),
    E6 one per optimizer (the learning-rate choice needs every seed), E7 one per data set cell. Sorted
    where the config is a mapping, so a reordered YAML does not change the jobs."""
    sec = config[exp]
    if exp == "e5":
        return [f"{model}_seed{seed}" for model in sorted(sec["models"]) for seed in sec["seeds"]]
    if exp == "e6":
        return sorted(sec["optimizers"])
    return list(e7_cells(config))


def claims_job(config: Mapping, exp: str, job: str) -> dict:
    """What one claims sweep job trains: {cell (the label its rows carry), seeds, model (spec), optimizers
    (names), dtype, dataset (config["datasets"] entry, updated for an E7 cell)}."""
    sec = config[exp]
    cell, seeds = job, list(sec["seeds"])
    if exp == "e5":
        cell, _, seed = job.rpartition("_seed")
        seeds = [int(seed)]
    spec = sec["models"][cell] if exp == "e5" else sec["model"]
    dataset = dict(config["datasets"][sec["dataset"]])
    if exp == "e7":
        target, n_train = e7_cells(config)[cell]
        dataset.update(target=target, n_train=n_train)
    return {
        "cell": cell,
        "seeds": seeds,
        "model": {k: v for k, v in spec.items() if k not in ("label", "dtype", "optimizers")},
        "optimizers": list(spec.get("optimizers", [cell] if exp == "e6" else list(sec["optimizers"]))),
        "dtype": spec.get("dtype", config["dtype"]),
        "dataset": dataset,
    }


@job_estimator("claims_sweep")
def _claims_sweep_job(config, wc):
    exp = wc["exp"]
    sec = config[exp]
    job = claims_job(config, exp, wc["cell"])
    model, dtype = job["model"], job["dtype"]
    optimizers = {k: v for k, v in sec["optimizers"].items() if k in job["optimizers"]}
    n, _, d = _dataset_sizes(job["dataset"])
    factors = list(sec.get("lr_factors", [1.0]))
    kernel = sec.get("kernel_lr")
    plans = [opt for opt in optimizers.values() for _ in factors]
    if kernel and kernel["optimizer"] in optimizers:
        plans.append(optimizers[kernel["optimizer"]])
    seconds, mb = 0.0, 0.0
    for opt in plans:
        for method in sec["methods"].values():
            steps = _steps(method["schedule"])
            seconds += train_run_s(
                n=n, n_test=0, d=d, model=model, optimizer=opt, steps=steps, log_every=sec["log_every"], dtype=dtype
            )
        mb = max(mb, model_mb(model, n=n, n_test=0, d=d, optimizer=opt, dtype=dtype, device=config["device"]))
    seconds = _fixed("claims_sweep") + len(job["seeds"]) * seconds
    if kernel:  # one analytic kernel and spectrum per distinct s, per run with the kernel-scaled rate
        s_all = {s for m in sec["methods"].values() for s in _schedule_s(m["schedule"])}
        seconds += len(job["seeds"]) * len(sec["methods"]) * len(s_all) * (analytic_ntk_s(n, d) + spectrum_s(n))
    return seconds, TORCH_JOB_BASE_MB + mb


def _run_datasets(config: Mapping) -> dict[str, tuple[int, int, int]]:
    """{name: (n, n_test, d)} of every data set a run draws (an approximation of the workflow's
    claim1_datasets / deep_datasets): those of e2–e7, E7's cells, e2.lambda_min.datasets and, with
    `vary_data_seed`, one draw per further seed of the same size."""
    found: dict[str, tuple[int, int, int]] = {}
    for exp in ("e2", "e3", "e4", "e5", "e6", "e7"):
        sec = config.get(exp) or {}
        if "dataset" in sec:
            name = sec["dataset"]
            found.setdefault(name, _dataset(config, name))
            if sec.get("vary_data_seed"):
                for i in sec.get("seeds", [])[1:]:
                    found.setdefault(f"{name}_data{i}", found[name])
    if config.get("e7"):
        ref = config["datasets"][config["e7"]["dataset"]]
        for cell, (target, n_train) in e7_cells(config).items():
            found.setdefault(cell, _dataset_sizes(dict(ref, target=target, n_train=n_train)))
    for name in (config.get("e2") or {}).get("lambda_min", {}).get("datasets", []):
        found.setdefault(name, _dataset(config, name))
    return found


def _claim1_s_count(config: Mapping) -> int:
    """Size of the e2 s grid refined on e2.lambda_min.fine_ranges (workflow s_grid_claim1)."""
    g, lm = config["e2"]["s_grid"], config["e2"].get("lambda_min") or {}
    values = {round(v, 10) for v in _linspace(g["start"], g["stop"], g["num"])}
    for lo, hi in lm.get("fine_ranges", []):
        k = int(round((hi - lo) / lm["fine_step"]))
        values |= {round(lo + i * (hi - lo) / k, 10) for i in range(k + 1)}
    return len(values)


@job_estimator("e2_lambda_min")
def _e2_lambda_min_job(config, wc):
    """Analytic kernel and spectrum at every s of the refined grid, both layer choices, per data set
    (the data set of the wildcard `name`, or every data set of the run)."""
    sets = _run_datasets(config)
    if "name" in wc:
        sets = {wc["name"]: sets.get(wc["name"]) or _dataset(config, config["e2"]["dataset"])}
    e2, count = config["e2"], _claim1_s_count(config)
    seconds = _fixed("e2_lambda_min")
    mb = 0.0
    for n, _, d in sets.values():
        seconds += len(e2["layers"]) * count * (analytic_ntk_s(n, d, base=e2["base"]) + spectrum_s(n))
        mb = max(mb, analytic_ntk_mb(n, d, base=e2["base"]) + 8 * 2 * n * n / MB)
    return seconds, TORCH_JOB_BASE_MB + mb


for _rule in (
    "dataset",
    "e4_rates",
    "e4_horizons",
    "figure_claims_matrix",
    "table_e2_lambda_min",
    "table_e4_horizons",
    "figure_e1_activations",
    "figures_e2",
    "figure_e3_loss",
    "figures_e4",
    "table_e2_spectrum",
    "table_e3",
    "table_e4",
    "claims_speedups",
    "table_claims_speedups",
    "figure_claims",
    "claims_report",
):
    ESTIMATORS[_rule] = _light_rule(_rule)
ESTIMATORS["e1_activations"] = _light_rule("e1_activations", TORCH_JOB_BASE_MB)
ESTIMATORS["all"] = lambda config, wc: (0.0, 0.0)  # the target rule runs nothing


# ------------------------------------------------------------------------------------------------
# requests and caps for the pipeline's jobs (workflow/rules/common.smk: job_resources)

RUNTIME_CAP_KEY = "resources.max_runtime"
#: Defaults of the config's `resources` section (workflow/schemas/config.schema.yaml repeats them).
REQUEST_DEFAULTS = {
    "runtime_factor": 3.0,
    "mem_factor": 1.5,
    "min_runtime": 5,
    "min_mem_mb": 1000,
    "max_mem_mb": "auto",
    "max_runtime": None,
}


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory_mb() -> float | None:
    """Memory (MB) this process may still use: the smallest of the Slurm job's allocation
    (SLURM_MEM_PER_NODE, or SLURM_MEM_PER_CPU × SLURM_CPUS_ON_NODE, both in MB), the cgroup v2 limit
    minus the cgroup's current use (/sys/fs/cgroup/memory.max − memory.current) and the kernel's
    MemAvailable (/proc/meminfo); None when none of them is known."""
    import os  # noqa: PLC0415

    known: list[float] = []
    if os.environ.get("SLURM_MEM_PER_NODE", "").isdigit():
        known.append(float(os.environ["SLURM_MEM_PER_NODE"]))
    elif os.environ.get("SLURM_MEM_PER_CPU", "").isdigit():
        cpus = os.environ.get("SLURM_CPUS_ON_NODE", "1")
        known.append(float(os.environ["SLURM_MEM_PER_CPU"]) * (int(cpus) if cpus.isdigit() else 1))
    limit, used = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if limit is not None:
        known.append((limit - (used or 0)) / MB)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    known.append(int(line.split()[1]) / 1024)
                    break
    except OSError:
        pass
    return min(known) if known else None


def resolve_memory_cap(cap) -> float | None:
    """``resources.max_mem_mb`` as MB: a number stays, None is no cap, "auto" is available_memory_mb()."""
    if cap == "auto":
        return available_memory_mb()
    return cap


def format_duration(seconds: float) -> str:
    """'42 s', '7.5 min', '3.2 h', '2.1 d'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def request_settings(resources: Mapping | None) -> dict:
    """The config's `resources` section with REQUEST_DEFAULTS filled in."""
    return {**REQUEST_DEFAULTS, **{k: v for k, v in dict(resources or {}).items() if k in REQUEST_DEFAULTS}}


def job_requests(estimate: JobEstimate, resources: Mapping | None, attempt: int = 1) -> tuple[int, int]:
    """(runtime in minutes, mem_mb) a scheduler is asked for: the estimate times the safety factor
    (and times ``attempt``, so a retried job asks for more), at least the minimum, at most a numeric cap::

        runtime = min(max_runtime, max(min_runtime, ⌈runtime_factor · attempt · seconds / 60⌉))
        mem_mb  = min(max_mem_mb,  max(min_mem_mb,  ⌈mem_factor · attempt · estimated MB⌉))
    """
    r = request_settings(resources)
    attempt = max(1, int(attempt))
    runtime = max(int(r["min_runtime"]), math.ceil(r["runtime_factor"] * attempt * estimate.seconds / 60))
    mem = max(int(r["min_mem_mb"]), math.ceil(r["mem_factor"] * attempt * estimate.mem_mb))
    if r["max_runtime"] is not None:
        runtime = min(runtime, int(r["max_runtime"]))
    if isinstance(r["max_mem_mb"], numbers.Real) and not isinstance(r["max_mem_mb"], bool):
        mem = min(mem, int(r["max_mem_mb"]))
    return runtime, mem


def check_job_limits(estimate: JobEstimate, resources: Mapping | None, *, memory_cap_mb: float | None = None) -> None:
    """ResourceError when the job's estimate exceeds ``resources.max_mem_mb`` (resolved by the caller
    into ``memory_cap_mb``: "auto" depends on where the job runs) or ``resources.max_runtime``
    (minutes). The message names the rule, the wildcards, the estimate, the cap and the config key."""
    r = request_settings(resources)
    if memory_cap_mb is not None and estimate.mem_mb > memory_cap_mb:
        source = " (auto: the memory available where the job runs)" if r["max_mem_mb"] == "auto" else ""
        raise ResourceError(
            f"{estimate.describe()} needs ≈ {format_mb(estimate.mem_mb)} (hrta.resources estimate) > cap "
            f"{format_mb(float(memory_cap_mb))}{source}; reduce this job's sizes in the config, or raise "
            f"the cap (config key {DEFAULT_CAP_KEY}: MB, 'auto' or null) if the machine has the memory"
        )
    cap = r["max_runtime"]
    if cap is not None and estimate.seconds > 60 * cap:
        raise ResourceError(
            f"{estimate.describe()} needs ≈ {format_duration(estimate.seconds)} (hrta.resources estimate, "
            f"one thread on the calibration machine) > cap {cap} min; reduce this job's sizes in the config, "
            f"or raise the cap (config key {RUNTIME_CAP_KEY}: minutes, or null)"
        )


# ---- deep networks (hrta.ntk_deep; rules deep_spectrum, deep_kernel_error, deep_train) ------------

_DEEP_BLOCK_MB = 3 * 8 * (1 << 22) / (1 << 20)  # row-block temporaries: ≤ 3 × _PAIR_BLOCK_ELEMENTS float64
_DEEP_ACTIVATION_COPIES = 4  # per hidden layer and input, alive in a forward + backward pass: h, σ(h), its grad, a temp


def deep_analytic_ntk_mb(n: int, d: int) -> float:
    """Peak memory (MB) of hrta.ntk_deep.deep_analytic_ntk on n points in R^d, its spectrum and K/n: the
    n×n float64 output with its symmetrized copy and eigvalsh's copy and eigenvalue workspace (≈ 5 n×n),
    plus the row-block temporaries (row blocks are sized so every (block × n × per-row work) temporary set
    stays ≤ _PAIR_BLOCK_ELEMENTS elements; ≤ 3 such sets alive) and the input."""
    return (5 * 8 * n * n + 8 * n * d) / MB + _DEEP_BLOCK_MB


def deep_weight_count(d: int, widths) -> int:
    """Number of weights of DeepNet(d, widths): Σ_l n_{l-1} n_l (n_0 = d) plus the output layer."""
    fan_in = [d, *widths[:-1]]
    return sum(a * b for a, b in zip(fan_in, widths)) + widths[-1]


def deep_empirical_ntk_mb(n: int, d: int, widths, *, dtype: str = "float64") -> float:
    """Peak memory (MB) of hrta.ntk_deep.deep_empirical_ntk: the model in its dtype, a float64 copy of its
    weights with their autograd graph, _DEEP_ACTIVATION_COPIES float64 n × n_l activations per layer, and
    three n×n float64 Gram matrices."""
    P = deep_weight_count(d, widths)
    acts = _DEEP_ACTIVATION_COPIES * 8 * n * (d + sum(widths))
    return (P * (ITEMSIZE[dtype] + 8) + acts + 3 * 8 * n * n) / MB


def deep_kernel_job_mb(*, n: int, d: int, widths=None, dtype: str = "float64", outputs: int = 1) -> float:
    """Peak memory (MB) of a deep kernel job (deep_spectrum: widths None, ``outputs`` kernels of
    deep_analytic_ntks held at once; deep_kernel_error: the widest network): the analytic kernel(s) and
    spectrum, plus the empirical kernel held next to it."""
    analytic = deep_analytic_ntk_mb(n, d) + 8 * n * n * (outputs - 1) / MB
    if widths is None:
        return analytic
    return analytic + deep_empirical_ntk_mb(n, d, list(widths), dtype=dtype)


def deep_train_job_mb(*, n: int, d: int, widths, dtype: str = "float64") -> float:
    """Peak memory (MB) of a deep_train job: GD on DeepNet with autograd (weights, gradients and the
    update's temporary: 3 copies in the model's dtype), the training activations, and per stage the
    analytic and empirical deep kernels with predict_loss_curve's eigendecomposition (≈ 4 n×n float64)."""
    P = deep_weight_count(d, list(widths))
    train = 3 * ITEMSIZE[dtype] * P + _DEEP_ACTIVATION_COPIES * ITEMSIZE[dtype] * n * (d + sum(widths))
    return train / MB + deep_kernel_job_mb(n=n, d=d, widths=widths, dtype=dtype) + 4 * 8 * n * n / MB


def deep_analytic_ntk_s(n: int, d: int, depth: int, *, base: str = "relu") -> float:
    """Seconds of hrta.ntk_deep.deep_analytic_ntk, scaled from analytic_ntk_s: ReLU ≈ (0.35 + 0.35·L)×
    the two-layer closed form (measured at n = 1000, L = 1, 3, 5); quadrature ≈ L× the two-layer rule."""
    if _base(base) == "relu":
        return (0.35 + 0.35 * depth) * analytic_ntk_s(n, d)
    return depth * analytic_ntk_s(n, d, base=base)


def deep_empirical_ntk_s(n: int, d: int, widths) -> float:
    """Seconds of hrta.ntk_deep.deep_empirical_ntk: one float64 autograd forward and backward pass (≈ 1.7×
    the hand-written step: the ratio of the autograd and hand-written step constants measured on 2026-11-29)
    plus the per-layer n×n Gram products (≈ the two-layer empirical kernel's GEMMs per layer)."""
    return 1.7 * deep_step_s(n, d, list(widths)) + sum(empirical_ntk_s(n, w) for w in widths)


@job_estimator("deep_spectrum")
def _deep_spectrum_job(config, wc):
    deep = config["deep"]
    count = deep["s_grid"]["num"] + _claim1_s_count(config)  # deep.s_grid ∪ claim 1's grid, at most
    seconds, mb = _fixed("deep_spectrum"), 0.0
    for n, _, d in _run_datasets(config).values():  # claim 1's data sets, as deep_datasets()
        seconds += len(deep["depths"]) * count * spectrum_s(n)
        seconds += count * deep_analytic_ntk_s(n, d, max(deep["depths"]), base=deep["base"])  # one pass
        mb = max(mb, deep_kernel_job_mb(n=n, d=d, outputs=len(deep["depths"])))
    return seconds, TORCH_JOB_BASE_MB + mb


def _deep_networks(config: Mapping) -> list[list[int]]:
    """Networks of the deep_kernel_error job (as workflow/rules/deep.smk: deep_networks)."""
    deep = config["deep"]
    conv = deep["convergence"]
    nets = {tuple([w] * depth) for depth in conv["depths"] for w in conv["widths"]}
    nets.add(tuple(deep["train"]["widths"]))
    nets |= {tuple(m["widths"]) for m in config["e5"]["models"].values() if m["kind"] == "deep"}
    return [list(net) for net in nets]


@job_estimator("deep_kernel_error")
def _deep_kernel_error_job(config, wc):
    deep = config["deep"]
    n, _, d = _dataset(config, deep["train"]["dataset"])
    conv, nets = deep["convergence"], _deep_networks(config)
    s_count, seeds = len(conv["s_values"]), len(conv["seeds"])
    seconds = _fixed("deep_kernel_error")
    seconds += s_count * sum(deep_analytic_ntk_s(n, d, depth, base=deep["base"]) for depth in {len(w) for w in nets})
    seconds += s_count * seeds * sum(deep_empirical_ntk_s(n, d, w) + spectrum_s(n) for w in nets)
    mb = max(deep_kernel_job_mb(n=n, d=d, widths=w, dtype=config["dtype"]) for w in nets)
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("deep_train")
def _deep_train_job(config, wc):
    train = config["deep"]["train"]
    n, _, d = _dataset(config, train["dataset"])
    widths, depth = list(train["widths"]), len(train["widths"])
    seconds = _fixed("deep_train")
    for method in train["methods"].values():
        from .schedules import parse_schedule  # noqa: PLC0415

        stages = parse_schedule(method["schedule"]).stages
        steps = _steps(method["schedule"])
        seconds += steps * deep_step_s(n, d, widths, config["dtype"]) * (1 + 1 / (3 * train.get("log_every", 10)))
        seconds += len(stages) * (
            deep_analytic_ntk_s(n, d, depth, base=config["deep"]["base"])
            + deep_empirical_ntk_s(n, d, widths)
            + 2 * predict_curve_s(n, steps)
        )
    return seconds, TORCH_JOB_BASE_MB + deep_train_job_mb(n=n, d=d, widths=widths, dtype=config["dtype"])


ESTIMATORS["figures_deep"] = _light_rule("figures_deep")
ESTIMATORS["tables_deep"] = _light_rule("tables_deep")
