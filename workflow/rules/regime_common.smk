# Helpers of the regime rules (workflow/rules/regime.smk): the config slice of every training experiment's
# GD runs. No rules here (lint: one kind per file).

REGIME_EXPERIMENTS = list(TRAIN_EXPERIMENTS)  # every training experiment the config has (discovered)


def regime_settings():
    """Per experiment: its data set (the seed-0 draw), trained layers, GD rates and methods (schedules)."""
    out = {}
    for exp in REGIME_EXPERIMENTS:
        sec = config[exp]
        gd = {k: float(v["lr"]) for k, v in sec["optimizers"].items() if v["optimizer"] == "gd"}
        out[exp] = {
            "dataset": dataset_config(sec["dataset"]),
            "layers": "both" if sec.get("model", {}).get("train_output", True) else "first",
            "gd_lr": gd,
            "schedules": {k: v["schedule"] for k, v in sec["methods"].items()},
        }
    return canonical(out)


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
