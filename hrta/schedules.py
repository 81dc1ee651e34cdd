"""Homotopy schedules: which s each training update uses.

A schedule is a sequence of stages. A constant stage "SxSTEPS" runs STEPS updates at s = S; a ramp
"S0:S1xSTEPS" runs STEPS updates with s moving linearly from S0 (first update of the stage) to S1
(last update of the stage), i.e. update j of the stage (0-based) uses

    s = (1 − j/(STEPS − 1))·S0 + (j/(STEPS − 1))·S1      (a one-step ramp uses S0).

Update number t (0-based, counted over the whole run) uses ``Schedule.s_at(t)``; for t ≥ total_steps
it is the last stage's final s, so the parameters after the last update are evaluated at that s.

String form: comma-separated stages, e.g. "0.5x2000,1x8000" or "0.5:1x1000,1x9000".
List (YAML) form: [{s: 0.5, steps: 2000}, {s: [0.5, 1.0], steps: 1000}].
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .checks import finite_real

__all__ = ["Schedule", "ScheduleError", "Stage", "parse_schedule"]


class ScheduleError(ValueError):
    """An invalid schedule; the message quotes the offending stage."""


def _check_stage_s(value: Any, what: str) -> float:
    try:
        return finite_real(what, value)
    except ValueError as err:
        raise ScheduleError(str(err)) from None


def _check_steps(value: Any) -> int:
    """Steps as a positive int; integral floats and strings such as "8000" or "1e3" are accepted."""
    if isinstance(value, bool):
        raise ScheduleError(f"steps must be a positive integer, got {value!r}")
    if isinstance(value, int):
        steps = value
    else:
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            raise ScheduleError(f"steps must be a positive integer, got {value!r}") from None
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise ScheduleError(f"steps must be a positive integer, got {value!r}")
        # Plain digit strings go through int() so huge values stay exact.
        text = str(value).strip()
        steps = int(text) if text.lstrip("+-").isdigit() else int(as_float)
    if steps < 1:
        raise ScheduleError(f"steps must be a positive integer, got {value!r}")
    return steps


def _format_s(s: float) -> str:
    # Shortest repr that round-trips; "1.0" is written "1" to keep stage strings short.
    text = repr(float(s))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Stage:
    """``steps`` updates with s going linearly from ``s_start`` to ``s_end`` (equal: constant)."""

    s_start: float
    s_end: float
    steps: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "s_start", _check_stage_s(self.s_start, "s"))
        object.__setattr__(self, "s_end", _check_stage_s(self.s_end, "s"))
        object.__setattr__(self, "steps", _check_steps(self.steps))

    @property
    def is_ramp(self) -> bool:
        return self.s_start != self.s_end

    def s_at(self, j: int) -> float:
        """s for update j of this stage (0 ≤ j < steps): linear from s_start (j = 0) to s_end (j = steps − 1)."""
        if not self.is_ramp or self.steps == 1:
            return self.s_start
        frac = j / (self.steps - 1)
        # This form returns s_start and s_end exactly at the ends.
        return (1.0 - frac) * self.s_start + frac * self.s_end

    def __str__(self) -> str:
        s = _format_s(self.s_start)
        if self.is_ramp:
            s = f"{s}:{_format_s(self.s_end)}"
        return f"{s}x{self.steps}"


@dataclass(frozen=True)
class Schedule:
    """A sequence of stages; see the module docstring for the conventions."""

    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages:
            raise ScheduleError("schedule has no stages")
        for i, stage in enumerate(stages, 1):
            if not isinstance(stage, Stage):
                raise ScheduleError(f"stage {i} {stage!r}: not a Stage")
        object.__setattr__(self, "stages", stages)
        starts = [0]
        for stage in stages:
            starts.append(starts[-1] + stage.steps)
        object.__setattr__(self, "_starts", tuple(starts))

    @property
    def total_steps(self) -> int:
        return self._starts[-1]

    @property
    def boundaries(self) -> list[int]:
        """Start step of every stage after the first."""
        return list(self._starts[1:-1])

    def stage_at(self, step: int) -> int:
        """0-based index of the stage containing update ``step`` (the last stage for step ≥ total_steps)."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        return min(bisect.bisect_right(self._starts, step) - 1, len(self.stages) - 1)

    def s_at(self, step: int) -> float:
        """s used for update ``step`` (0-based); the last stage's final s for step ≥ total_steps."""
        if step >= self.total_steps:
            if step < 0:
                raise ValueError(f"step must be >= 0, got {step}")
            return self.stages[-1].s_end
        k = self.stage_at(step)
        return self.stages[k].s_at(step - self._starts[k])

    def __str__(self) -> str:
        return ",".join(str(stage) for stage in self.stages)


def _parse_stage_text(text: str) -> Stage:
    body = text.strip()
    if body.count("x") != 1:
        raise ScheduleError("expected 'SxSTEPS' or 'S0:S1xSTEPS'")
    s_text, steps_text = body.split("x")
    if s_text.count(":") > 1:
        raise ScheduleError("expected 'SxSTEPS' or 'S0:S1xSTEPS'")
    if ":" in s_text:
        s0_text, s1_text = s_text.split(":")
    else:
        s0_text = s1_text = s_text
    s0 = _check_stage_s(s0_text.strip(), "s")
    s1 = _check_stage_s(s1_text.strip(), "s")
    return Stage(s0, s1, _check_steps(steps_text.strip()))


def _parse_stage_item(item: Any) -> Stage:
    if isinstance(item, Stage):
        return item
    if isinstance(item, str):
        return _parse_stage_text(item)
    if not isinstance(item, dict):
        raise ScheduleError("a stage must be a mapping {s: ..., steps: ...} or a 'SxSTEPS' string")
    unknown = set(item) - {"s", "steps"}
    if unknown:
        raise ScheduleError(f"unknown key(s) {', '.join(map(repr, sorted(map(str, unknown))))}; expected 's', 'steps'")
    missing = {"s", "steps"} - set(item)
    if missing:
        raise ScheduleError(f"missing key(s) {', '.join(repr(k) for k in sorted(missing))}")
    s = item["s"]
    if isinstance(s, (list, tuple)):
        if len(s) != 2:
            raise ScheduleError(f"a ramp's s must have two elements [s_start, s_end], got {s!r}")
        s0, s1 = s
    else:
        s0 = s1 = s
    return Stage(_check_stage_s(s0, "s"), _check_stage_s(s1, "s"), _check_steps(item["steps"]))


def parse_schedule(spec: str | Iterable[Any] | Schedule) -> Schedule:
    """Parse a schedule string ("0.5x2000,1x8000"), a list of stage mappings, or return a Schedule as is.

    Raises ScheduleError naming the bad stage, e.g. "stage 2 '1.0x-5': steps must be a positive integer".
    """
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, str):
        if not spec.strip():
            raise ScheduleError("schedule is empty")
        items: list[Any] = spec.split(",")
    elif isinstance(spec, (list, tuple)):
        items = list(spec)
    else:
        raise ScheduleError(f"schedule must be a string, a list of stages or a Schedule, got {type(spec).__name__}")
    if not items:
        raise ScheduleError("schedule is empty")
    stages = []
    for i, item in enumerate(items, 1):
        try:
            stages.append(_parse_stage_item(item))
        except ScheduleError as err:
            shown = f"'{item.strip()}'" if isinstance(item, str) else repr(item)
            raise ScheduleError(f"stage {i} {shown}: {err}") from None
    return Schedule(tuple(stages))
