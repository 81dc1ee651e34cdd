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

Torch-free: Snakemake estimates every job while it builds the DAG without paying for the torch import.
The sizes the code uses come from hrta.sizes, the one definition the library imports too.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence

from hrta.bases import check_base
from hrta.checks import integer_at_least
from hrta.sizes import (
    ANGLE_TEMPORARIES,
    DEFAULT_QUADRATURE_NODES,
    FAST_BLOCK_BYTES,
    ITEMSIZE,
    MB,
    PAIR_BLOCK_ELEMENTS,
    WIDTH_CHUNK,
)

from .jobs import dataset_sizes, schedule_s, training_experiments, wide_settings

__all__ = [
    "DEFAULT_CAP_KEY",
    "OPTIMIZERS",
    "ResourceError",
    "analytic_ntk_mb",
    "available_memory_mb",
    "check_memory",
    "check_pipeline_memory",
    "config_train_job_mb",
    "deep_analytic_ntk_mb",
    "deep_empirical_ntk_mb",
    "deep_kernel_job_mb",
    "deep_params",
    "deep_train_job_mb",
    "deep_weight_count",
    "e2_empirical_job_mb",
    "empirical_ntk_mb",
    "format_mb",
    "jacobian_ntk_mb",
    "kernel_job_mb",
    "model_mb",
    "pipeline_job_estimates",
    "relu_grams_mb",
    "train_job_mb",
    "two_layer_buffer_elements",
    "two_layer_train_mb",
]

OPTIMIZERS = ("gd", "sgd", "adam")
DEFAULT_CAP_KEY = "resources.max_mem_mb"


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


def deep_params(d: int, widths: Sequence[int]) -> tuple[int, int]:
    """(P, Σ fan_in·fan_out) of a DeepNet: parameters and multiply-adds per input row."""
    dims = (d, *widths, 1)
    macs = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    return macs, macs


class ResourceError(ValueError):
    """A job whose estimated memory exceeds the configured cap; the message gives both and the fix."""


def _itemsize(dtype: str) -> int:
    if dtype not in ITEMSIZE:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(ITEMSIZE)}")
    return ITEMSIZE[dtype]


#: The calibrated base whose costs (runtime constants, temporaries) stand in for a base without its
#: own: GELU, the costliest of the smooth bases measured (hrta.pipeline.runtime warns when it is used).
FALLBACK_BASE = "gelu"


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
    relu_cpu = check_base(base) == "relu" and device == "cpu"
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
    check_base(base)
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
#: A base not listed here counts as FALLBACK_BASE.
_EMPIRICAL_CHUNK_TEMPORARIES = {"relu": 6, "tanh": 6, "gelu": 7}
#: k of the Gauss–Hermite row block (analytic_ntk_mb) per smooth base; others count as FALLBACK_BASE.
_QUADRATURE_BLOCK_TEMPORARIES = {"tanh": 4, "gelu": 5}


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
    temporaries = _EMPIRICAL_CHUNK_TEMPORARIES
    k = temporaries.get(check_base(base), temporaries[FALLBACK_BASE]) - (0 if train_output else 2)
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
    if check_base(base) == "relu":
        b = max(1, PAIR_BLOCK_ELEMENTS // (n * ANGLE_TEMPORARIES * d))
        block = b * n * max(7 * d, 14)
    else:
        b = max(1, PAIR_BLOCK_ELEMENTS // (n * max(ANGLE_TEMPORARIES * d, 4 * nodes * nodes)))
        k = _QUADRATURE_BLOCK_TEMPORARIES.get(base, _QUADRATURE_BLOCK_TEMPORARIES[FALLBACK_BASE])
        block = k * b * n * nodes * nodes
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
    if check_base(base) != "relu":
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
    """Peak memory (MB) of one pipeline training job (workflow/scripts/train.py): its runs are sequential, so
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


def config_train_job_mb(config: Mapping, exp: str, width: int) -> tuple[float, str]:
    """(peak MB, dtype) of the `train` job of experiment ``exp`` at ``width``: train_job_mb with the config's
    data sizes, model, optimizers, device and the dtype of that width (wide_settings). The one definition the
    up-front cap check (pipeline_job_estimates) and the per-job estimate (hrta.pipeline.estimates) share."""
    sec = config[exp]
    n, n_test, d = dataset_sizes(config["datasets"][sec["dataset"]])
    dtype = wide_settings(config, exp, width).get("dtype", config["dtype"])
    mb = train_job_mb(
        n=n,
        n_test=n_test,
        d=d,
        width=width,
        model=sec.get("model", {}),
        optimizers=sec["optimizers"],
        dtype=dtype,
        device=config["device"],
    )
    return mb, dtype


def pipeline_job_estimates(config: dict, train_experiments: Sequence[str] | None = None) -> list[tuple[str, float]]:
    """(job description, estimated peak MB) of every training and kernel job of a pipeline config
    (workflow/schemas/config.schema.yaml, defaults filled in); ``train_experiments`` default: the
    config's (hrta.pipeline.jobs.training_experiments)."""
    if train_experiments is None:
        train_experiments = training_experiments(config)
    jobs = []
    dtype = config["dtype"]
    for exp in train_experiments:
        sec = config[exp]
        n, n_test, d = dataset_sizes(config["datasets"][sec["dataset"]])
        model = sec.get("model", {})
        for width in sec["widths"]:
            mb, job_dtype = config_train_job_mb(config, exp, width)
            jobs.append((f"train job {exp} width m={width} (n={n}, n_test={n_test}, d={d}, {job_dtype})", mb))
        if exp == "e4":
            layers = ["both" if model.get("train_output", True) else "first"]
            s_count = len({s for m in sec["methods"].values() for s in schedule_s(m["schedule"])})
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
        n, _, d = dataset_sizes(config["datasets"][e2["dataset"]])
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


# ---- deep networks (hrta.ntk.deep; rules deep_spectrum, deep_kernel_error, deep_train) ------------

_DEEP_BLOCK_MB = 3 * 8 * (1 << 22) / (1 << 20)  # row-block temporaries: ≤ 3 × PAIR_BLOCK_ELEMENTS float64
_DEEP_ACTIVATION_COPIES = 4  # per hidden layer and input, alive in a forward + backward pass: h, σ(h), its grad, a temp


def deep_analytic_ntk_mb(n: int, d: int) -> float:
    """Peak memory (MB) of hrta.ntk.deep_analytic_ntk on n points in R^d, its spectrum and K/n: the
    n×n float64 output with its symmetrized copy and eigvalsh's copy and eigenvalue workspace (≈ 5 n×n),
    plus the row-block temporaries (row blocks are sized so every (block × n × per-row work) temporary set
    stays ≤ PAIR_BLOCK_ELEMENTS elements; ≤ 3 such sets alive) and the input."""
    return (5 * 8 * n * n + 8 * n * d) / MB + _DEEP_BLOCK_MB


def deep_weight_count(d: int, widths) -> int:
    """Number of weights of DeepNet(d, widths): Σ_l n_{l-1} n_l (n_0 = d) plus the output layer."""
    fan_in = [d, *widths[:-1]]
    return sum(a * b for a, b in zip(fan_in, widths)) + widths[-1]


def deep_empirical_ntk_mb(n: int, d: int, widths, *, dtype: str = "float64") -> float:
    """Peak memory (MB) of hrta.ntk.deep_empirical_ntk: the model in its dtype, a float64 copy of its
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
