# Helpers of the NTK rules (workflow/rules/ntk.smk): config cross-checks of e2.lambda_min and e4
# (horizons, wide), the refined s grid and the data sets of claim 1. No rules here (lint: one kind per file).


def _check_ntk_config():
    """Cross-checks of e2.lambda_min and e4 (horizons, wide) the schema cannot express."""
    lm = config["e2"]["lambda_min"]
    for i, name in enumerate(lm["datasets"]):
        if name not in config["datasets"]:
            raise WorkflowError(
                f"invalid config: key 'e2.lambda_min.datasets[{i}]': unknown dataset {name!r}; "
                f"defined under 'datasets': {', '.join(config['datasets'])}"
            )
    for i, (lo, hi) in enumerate(lm["fine_ranges"]):
        if lo >= hi:
            raise WorkflowError(f"invalid config: key 'e2.lambda_min.fine_ranges[{i}]': need lo < hi, got [{lo}, {hi}]")
    e4 = config["e4"]
    if e4["model"].get("base", "relu") != "relu":
        raise WorkflowError(
            "invalid config: key 'e4.model.base': must be 'relu' (the linearized prediction across "
            "s switches uses the closed-form cross-s kernels of the ReLU base)"
        )
    total = parse_schedule(next(iter(e4["methods"].values()))["schedule"]).total_steps
    for i, t in enumerate(e4["horizons"]):
        if t > total or (t % e4["log_every"] and t != total):
            raise WorkflowError(
                f"invalid config: key 'e4.horizons[{i}]': {t} must be a logged step (a multiple of "
                f"e4.log_every = {e4['log_every']}, or the last step {total}) within the {total} steps"
            )
    for i, seed in enumerate((e4.get("wide") or {}).get("seeds", [])):
        if seed not in e4["seeds"]:
            raise WorkflowError(f"invalid config: key 'e4.wide.seeds[{i}]': {seed} is not one of e4.seeds")
    for i, name in enumerate((e4.get("wide") or {}).get("methods", [])):
        if name not in e4["methods"]:
            raise WorkflowError(f"invalid config: key 'e4.wide.methods[{i}]': {name!r} is not one of e4.methods")


_check_ntk_config()


def s_grid_claim1():
    """The e2 s grid refined on e2.lambda_min.fine_ranges (hrta.pipeline.jobs.claim1_s_grid)."""
    from hrta.pipeline.jobs import claim1_s_grid

    return claim1_s_grid(config)


def claim1_datasets():
    """{name: dataset config} of every data set the run trains on and of e2.lambda_min.datasets
    (hrta.pipeline.jobs.claim1_datasets: the one definition the estimates use too)."""
    from hrta.pipeline.jobs import claim1_datasets as datasets

    return datasets(config)


def claim1_files(wildcards=None):
    return ["data/e2/lambda_min.csv"]


def e4_seeds(width):
    from hrta.pipeline.jobs import training_seeds

    return training_seeds(config, "e4", width)
