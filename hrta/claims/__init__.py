"""Claim verdicts: turn measured histories, spectra and errors into "supported" / "not supported" /
"inconclusive", each by a stated rule, with the numbers that drove it.

Conventions
-----------
* A *history* is the DataFrame of :class:`hrta.train.TrainResult` (columns ``step`` and
  ``train_loss``, at least). Loss L = (1/(2n)) Σ (f(x_i) − y_i)².
* A run that diverged (status ``"diverged"``, or any non-finite logged loss) counts as *never
  reaching* a tolerance and as having infinite loss at any budget — divergence is a failure, not a
  missing value.
* Steps are resolved only to the logging period: ``steps_to_tolerance`` returns the first *logged*
  step from which the loss stays at or below the tolerance, so it over-states the true step by
  < ``log_every`` for every method alike. Ratios are therefore quantized; with few seeds and coarse
  logging, identical ratios on every seed give a zero-width interval — log often enough that the
  steps to tolerance span many periods.
* Speed-up of a method over the baseline on one seed: r = baseline_steps / method_steps (r > 1: the
  method is faster). Seeds are paired (same data and initialization).
* Intervals are two-sided 95% Student-t intervals: on log ratios for speed-ups (so the centre is the
  geometric mean) and on the least-squares slope for log-log trends. Why t and not a bootstrap: with
  the 3–5 seeds we can afford, a percentile bootstrap interval can never be wider than the range of
  the data and under-covers badly, while the t-interval is exact for log-normal ratios and widens
  honestly as the number of seeds shrinks. The t quantile is scipy.stats.t.ppf.

Modules, one concern each: :mod:`~hrta.claims.stats` (t quantiles, intervals, slopes),
:mod:`~hrta.claims.metrics` (history metrics: (a) stays speed-up, (b) loss ratio, (c) first below), :mod:`~hrta.claims.rules` (the decision rules named in CLAIMS.md),
:mod:`~hrta.claims.matrix` (readings of HRTA and the verdict matrix: robust / metric-dependent) and
:mod:`~hrta.claims.report` (tables and markdown). Everything
is re-exported here, so ``from hrta import claims as C; C.verdict_speedup`` works. Not re-exported (their statistics
use scipy.stats and statsmodels, which the light jobs that import this package do not need): :mod:`~hrta.claims.endpoints`
(registered one-factor endpoints), :mod:`~hrta.claims.tally` and :mod:`~hrta.claims.tuning` (the learning-rate
choice of the fairness sweeps).
"""

from hrta.claims import matrix, metrics, report, rules, stats, width
from hrta.claims.matrix import *  # noqa: F403
from hrta.claims.metrics import *  # noqa: F403
from hrta.claims.report import *  # noqa: F403
from hrta.claims.rules import *  # noqa: F403
from hrta.claims.stats import *  # noqa: F403
from hrta.claims.width import *  # noqa: F403

__all__ = [name for module in (matrix, metrics, report, rules, stats, width) for name in module.__all__]
