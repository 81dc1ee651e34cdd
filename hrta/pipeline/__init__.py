"""What only the pipeline needs: the config's validation (config_schema), which jobs a config makes (jobs),
their cost models (memory, runtime), per-rule estimates (estimates), scheduler requests and caps (cluster),
provenance records (provenance), job logs (joblog), figure and table files (outputs) and the plan of a run
(plan: ``python -m hrta.plan``).

The library (hrta.*) never imports this package; the Snakefiles, the job scripts in workflow/scripts and
the benchmarks do. Everything but joblog.set_torch_threads and outputs is torch-free.
"""

__all__ = []
