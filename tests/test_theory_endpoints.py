"""hrta.claims.theory: the K_∞ theory's value of an endpoint, computed on predicted loss curves (issue 24, point 8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrta.claims.theory import predicted_history, predicted_ratio


def _exponential(rate: float, total: int) -> np.ndarray:
    return np.exp(-rate * np.arange(total + 1))


def test_predicted_history_logs_like_a_run():
    h = predicted_history(np.linspace(1.0, 0.0, 26), log_every=10)
    assert list(h["step"]) == [0, 10, 20, 25]
    assert h["train_loss"].iloc[-1] == 0.0


@pytest.mark.parametrize(("a", "b"), [(0.01, 0.02), (0.02, 0.005), (0.003, 0.0045)])
def test_ratios_of_two_exponential_curves_against_closed_forms(a, b):
    """Reference: closed forms. L_c = e^{-a t}, L_t = e^{-b t} over T steps: final-loss ratio e^{(b-a)T}; the
    control's targets τ_q = e^{-a q T} are reached by the treatment at t = a q T / b, so the time ratio is b/a (up to
    the rounding of each time to a whole logged step)."""
    total, fractions = 1000, [0.25, 0.5, 0.75, 1.0]
    c, t = _exponential(a, total), _exponential(b, total)
    final = predicted_ratio("final_loss", c, t, f"1x{total}", f"1x{total}", 1, fractions)
    assert final == pytest.approx(math.exp((b - a) * total), rel=1e-9)
    time = predicted_ratio("time_to_target", c, t, f"1x{total}", f"1x{total}", 1, fractions)
    if b >= a:
        assert time == pytest.approx(b / a, rel=0.02)
    else:  # the treatment never reaches the control's last targets within T: restricted at T (a lower bound)
        assert time < 1 and time == pytest.approx(
            np.exp(
                np.mean(
                    np.log([q * total for q in fractions]) - np.log([min(a * q * total / b, total) for q in fractions])
                )
            ),
            rel=0.02,
        )


def test_equal_curves_give_one_and_bad_input_is_refused():
    c = _exponential(0.01, 200)
    for quantity in ("final_loss", "time_to_target"):
        assert predicted_ratio(quantity, c, c, "1x200", "1x200", 10, [0.5, 1.0]) == pytest.approx(1.0)
    assert math.isnan(predicted_ratio("final_loss", c, np.full(201, np.nan), "1x200", "1x200", 10, [1.0]))
    with pytest.raises(ValueError, match="quantity"):
        predicted_ratio("loss", c, c, "1x200", "1x200", 10, [1.0])
    with pytest.raises(ValueError, match="equal budgets"):
        predicted_ratio("final_loss", c, c[:101], "1x200", "1x100", 10, [1.0])
