# Helpers of the deep-network rules (workflow/rules/deep.smk): the data sets and networks of the deep
# jobs and the config cross-checks. No rules here (lint: one kind per file).

DEEP = config.get("deep")


def deep_datasets():
    """{name: make_dataset kwargs} of claim 1's data sets (claim1_datasets, workflow/rules/ntk.smk):
    every data set the run trains on and e2.lambda_min.datasets."""
    return {name: {k: v for k, v in spec.items() if k != "name"} for name, spec in sorted(claim1_datasets().items())}


def deep_networks():
    """Hidden-layer widths whose kernel error is measured (hrta.pipeline.jobs.deep_networks)."""
    from hrta.pipeline.jobs import deep_networks as networks

    return networks(config)


def _check_deep_config():
    if DEEP["train"]["dataset"] not in config["datasets"]:
        raise WorkflowError(
            f"invalid config: key 'deep.train.dataset': unknown dataset {DEEP['train']['dataset']!r}; "
            f"defined under 'datasets': {', '.join(config['datasets'])}"
        )
    if DEEP["s_grid"]["start"] >= DEEP["s_grid"]["stop"]:
        raise WorkflowError("invalid config: key 'deep.s_grid.start': must be smaller than deep.s_grid.stop")
    for name, method in DEEP["train"]["methods"].items():
        check_schedule(method["schedule"], f"deep.train.methods.{name}.schedule", constant_stages=True)


def deep_s_values():
    """The s values of the deep spectra: deep.s_grid plus claim 1's refined grid (s_grid_claim1 in
    ntk.smk), so the parts "depth L" of claim 1 are decided on the same points as its two-layer parts."""
    g = DEEP["s_grid"]
    step = (g["stop"] - g["start"]) / (g["num"] - 1)
    return sorted({round(g["start"] + i * step, 10) for i in range(g["num"])} | set(s_grid_claim1()))
