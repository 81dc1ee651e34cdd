"""HRTA reproduction: data → training (HRTA and baselines) → NTK spectra → tables and figures.

    snakemake --cores 2                                # default config (config/config.yaml)
    snakemake --cores 2 --configfile config/smoke.yaml # toy sizes, same DAG
    snakemake --profile profiles/default               # the local profile

The config is validated against workflow/schemas/config.schema.yaml and every homotopy schedule is
parsed before any job runs; rules live in workflow/rules/*.smk, one file per stage.
"""

import gc

from snakemake.utils import min_version

min_version("9.0")

# Snakemake's modules live as long as this process: keep them out of the collector's full passes, which would
# re-traverse them again and again while the rules and the DAG are built (a dry run of the smoke config: 1.55 ->
# 1.27 CPU-s, mean of 4; the tests start Snakemake about 60 times).
gc.freeze()


# The default config only when no --configfile is given: Snakemake would otherwise deep-merge the
# given file into the default one, and keys the given file leaves out (e.g. an extra method)
# would leak in. `--config key=value` overrides still apply on top of the default.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


# Schema validation (types, ranges, unknown keys, defaults) and schedule parsing, before any job.
check_config(config, "workflow/schemas/config.schema.yaml")

# Per-job resources a cluster profile maps onto its scheduler: mem_mb and runtime (minutes) from each
# job's estimate (`resources: **job_resources("rule")`, workflow/rules/common.smk), and gpu.
GPU = 0 if config["device"] == "cpu" else 1


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/ntk.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/regime.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/deep.smk"
include: "workflow/rules/verify.smk"


report: "workflow/report/workflow.rst"


rule all:
    """Every figure and table of the configured experiments."""
    default_target: True
    input:
        FIGURES,
        TABLES,
