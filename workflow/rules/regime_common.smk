# Helpers of the regime rules (workflow/rules/regime.smk): the config slice of every training experiment's
# GD runs. No rules here (lint: one kind per file).


def regime_settings():
    """Per training experiment and E7 data set cell: its data set (the seed-0 draw), trained layers, GD rates and
    methods (hrta.pipeline.jobs.regime_experiments)."""
    from hrta.pipeline.jobs import regime_experiments

    return regime_experiments(config)


def regime_kernel_files(kind):
    """The claims sweep files of e6_regime (each method at lr = fraction/λ_max(K_s/n)) when it trains on E8's data
    set, fixed across seeds, as E8 does: rule regime_rates splits E8's fixed-rate speed-ups with its kernel-rate runs.
    """
    fair, e8 = config.get("e6_regime"), config.get("e8")
    if not (fair and e8 and fair.get("kernel_lr") and fair["dataset"] == e8["dataset"]):
        return []
    if fair.get("vary_data_seed"):
        return []
    from hrta.pipeline.jobs import claims_jobs

    return [f"data/claims/e6_regime/{cell}_{kind}.csv" for cell in claims_jobs(config, "e6_regime")]
