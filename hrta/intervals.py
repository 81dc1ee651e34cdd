"""Where a sampled function fails to increase: the intervals behind claim 1's monotone rule
(hrta.claims.verdict_monotone reports only the first non-increasing step). No torch import, so table
and report jobs stay light."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def non_increasing_intervals(
    xs: Sequence[float], ys: Sequence[float], resolved: Sequence[bool] | None = None
) -> list[tuple[float, float]]:
    """Every maximal interval [x_a, x_b] of consecutive resolved grid points over which y fails to
    increase (y_{k+1} ≤ y_k at each step inside it), sorted by x; [] when y is strictly increasing.

    The same points as hrta.claims.verdict_monotone (NaN and unresolved points dropped), which reports
    only the first such step: this lists them all.
    """
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if resolved is not None:
        keep &= np.asarray(resolved, dtype=bool)
    order = np.argsort(x[keep], kind="stable")
    x, y = x[keep][order], y[keep][order]
    out: list[tuple[float, float]] = []
    for i in np.flatnonzero(np.diff(y) <= 0):
        if out and out[-1][1] == x[i]:
            out[-1] = (out[-1][0], float(x[i + 1]))
        else:
            out.append((float(x[i]), float(x[i + 1])))
    return out
