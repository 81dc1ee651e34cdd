"""Claim 3 on what it says (issue 18): a horizon where every width is already within ε counts as consistent; a
trend is still required where some width is outside ε; switch steps are never read (hrta.claims.endpoints)."""

import numpy as np

from hrta.claims import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, verdict_mismatch_falls
from hrta.claims.endpoints import switch_steps

WIDTHS = np.repeat([100, 1000, 10000], 3)


def test_within_tolerance_at_every_width_is_consistent():
    flat = np.full(WIDTHS.size, 0.02) * np.tile([1.0, 1.1, 0.9], 3)  # no trend, every width within 0.1
    v = verdict_mismatch_falls(WIDTHS, flat, tolerance=0.1)
    assert v.label == SUPPORTED and v.numbers.startswith("consistent")
    assert verdict_mismatch_falls(WIDTHS, flat).label in (INCONCLUSIVE, NOT_SUPPORTED)  # without ε: no trend


def test_outside_tolerance_still_needs_a_falling_trend():
    flat = np.full(WIDTHS.size, 0.5) * np.tile([1.0, 1.1, 0.9], 3)
    assert verdict_mismatch_falls(WIDTHS, flat, tolerance=0.1).label in (INCONCLUSIVE, NOT_SUPPORTED)
    falling = 5.0 * WIDTHS**-0.5 * np.tile([1.0, 1.1, 0.9], 3)
    assert verdict_mismatch_falls(WIDTHS, falling, tolerance=0.1).label == SUPPORTED


def test_a_diverged_run_is_never_consistent():
    flat = np.full(WIDTHS.size, 0.02)
    assert verdict_mismatch_falls(WIDTHS, flat, diverged=["m=100 seed=0"], tolerance=0.1).label != SUPPORTED


def test_the_two_stage_schedules_switch_at_a_horizon():
    assert switch_steps("0.5x1000,1x1000") == (1000,) and switch_steps("1x2000") == ()


def test_claim3_as_two_findings():
    """Issue 24: 'within ε at every width' (3a) and 'improves with width' (3b) are decided apart. A flat mismatch
    within ε holds 3a and not 3b; a falling one that starts outside ε holds 3b and not 3a. Reference: the means
    by width computed here with numpy."""
    from hrta.claims import verdict_within_epsilon

    jitter = np.tile([1.0, 1.1, 0.9], 3)
    flat = np.full(WIDTHS.size, 0.02) * jitter
    falling = 5.0 * WIDTHS**-0.5 * jitter  # 0.5, 0.158, 0.05 by width
    assert verdict_within_epsilon(WIDTHS, flat, 0.1).label == SUPPORTED
    assert verdict_mismatch_falls(WIDTHS, flat).label != SUPPORTED
    v = verdict_within_epsilon(WIDTHS, falling, 0.1)
    means = [falling[np.equal(WIDTHS, w)].mean() for w in (100, 1000, 10000)]
    outside = [m > 0.1 for m in means]
    assert outside == [True, True, False]
    assert v.label == NOT_SUPPORTED and "outside ε at width 100, 1000" in v.numbers
    assert verdict_mismatch_falls(WIDTHS, falling).label == SUPPORTED
    assert verdict_within_epsilon(WIDTHS, flat, 0.1, diverged=["m=100 seed=0"]).label == INCONCLUSIVE
