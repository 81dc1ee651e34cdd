"""Imported first by every pipeline script (workflow/scripts/*.py), for its side effect: the cyclic garbage
collector is paused while the script's imports run, and :func:`hrta.pipeline.joblog.job_logger`, which every
script calls right after them, freezes what they built and resumes it.

Why: a job that imports torch and pandas spends ≈ 1.4 CPU-s on imports, ≈ 0.18 CPU-s of it in full collections
that re-traverse the ever larger heap of module objects and find nothing to free (measured: train.py's imports,
1.44 → 1.26 CPU-s). The pipeline runs ≈ 140 such jobs, and the tests start ≈ 250. Pure-Python state only: the
collector is back on before the job computes anything. ruff's isort keeps this import first (section
"job-start" in pyproject.toml); tests/test_layout.py checks every script.
"""

import gc

__all__ = []  # imported for its side effect only

gc.disable()
