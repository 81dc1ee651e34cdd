"""Requests and caps for the pipeline's jobs (workflow/rules/common.smk: job_resources): what a scheduler
is asked for from each job's estimate, and the memory this process may use (Slurm, cgroup v2, /proc)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from .estimates import JobEstimate
from .memory import DEFAULT_CAP_KEY, ResourceError, available_memory_mb, format_mb

__all__ = [
    "REQUEST_DEFAULTS",
    "RUNTIME_CAP_KEY",
    "check_job_limits",
    "format_duration",
    "job_requests",
    "request_settings",
    "resolve_memory_cap",
]

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
            f"{estimate.describe()} needs ≈ {format_mb(estimate.mem_mb)} (hrta.pipeline estimate) > cap "
            f"{format_mb(float(memory_cap_mb))}{source}; reduce this job's sizes in the config, or raise "
            f"the cap (config key {DEFAULT_CAP_KEY}: MB, 'auto' or null) if the machine has the memory"
        )
    cap = r["max_runtime"]
    if cap is not None and estimate.seconds > 60 * cap:
        raise ResourceError(
            f"{estimate.describe()} needs ≈ {format_duration(estimate.seconds)} (hrta.pipeline estimate, "
            f"one thread on the calibration machine) > cap {cap} min; reduce this job's sizes in the config, "
            f"or raise the cap (config key {RUNTIME_CAP_KEY}: minutes, or null)"
        )
