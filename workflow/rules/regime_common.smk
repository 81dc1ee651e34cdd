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
