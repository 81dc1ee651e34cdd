"""Imported first by every pipeline script (workflow/scripts/*.py), for two side effects: the cyclic garbage
collector is paused while the script's imports run, and :func:`hrta.pipeline.joblog.job_logger`, which every
script calls right after them, freezes what they built and resumes it; and in a Snakemake script job (its
preamble defines ``snakemake`` in ``__main__``) the first exit hook is registered, so that it runs after every
other one: :func:`hrta.pipeline.joblog.exit_without_teardown`.

Why: a job that imports torch and pandas spends ≈ 1.4 CPU-s on imports, ≈ 0.18 CPU-s of it in full collections
that re-traverse the ever larger heap of module objects and find nothing to free (measured: train.py's imports,
1.44 → 1.26 CPU-s). The pipeline runs ≈ 140 such jobs, and the tests start ≈ 250. Pure-Python state only: the
collector is back on before the job computes anything. The interpreter's teardown after a job's exit hooks
deallocates every module object again (≈ 0.15 CPU-s of a job that imports torch and pandas): a job that ended in
an orderly way leaves without it. ruff's isort keeps this import first (section
"job-start" in pyproject.toml); tests/test_layout.py checks every script.
"""

import atexit
import gc
import sys

__all__ = []  # imported for its side effects only

gc.disable()
if hasattr(sys.modules["__main__"], "snakemake"):  # a Snakemake script job; never a test or a notebook
    from hrta.pipeline.joblog import exit_without_teardown

    atexit.register(exit_without_teardown)
