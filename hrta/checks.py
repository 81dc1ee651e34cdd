"""Argument checks shared by the modules: each returns the clean value or raises ValueError naming it."""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["finite_real", "integer_at_least"]


def finite_real(name: str, value: Any) -> float:
    """``value`` as a finite float; bools, non-numbers, NaN and ±inf raise ValueError naming ``name``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def integer_at_least(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int ≥ ``minimum``; bools, floats and strings raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
