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
    """The e2 s_grid refined to e2.lambda_min.fine_step on e2.lambda_min.fine_ranges (sorted, rounded)."""
    g, lm = config["e2"]["s_grid"], config["e2"]["lambda_min"]
    step = (g["stop"] - g["start"]) / (g["num"] - 1)
    values = {round(g["start"] + i * step, 10) for i in range(g["num"])}
    for lo, hi in lm["fine_ranges"]:
        k = int(round((hi - lo) / lm["fine_step"]))
        values |= {round(lo + i * (hi - lo) / k, 10) for i in range(k + 1)}
    return sorted(values)


def claim1_datasets():
    """{name: dataset config} of every data set the run trains on and of e2.lambda_min.datasets, each
    distinct draw once (first name kept), in a fixed order: e3–e7's data set (with `vary_data_seed`, one
    draw per seed, seed dataset.seed + i), E7's cells (target and n_train varied), then the extra ones."""
    found = {}

    def add(name, ds, exp):
        section = config[exp]
        found.setdefault(name, ds)
        if section.get("vary_data_seed"):
            for i in section["seeds"]:
                if i:
                    found.setdefault(
                        f"{name}_data{i}", canonical(dict(ds, seed=ds["seed"] + i, name=f"{name}_data{i}"))
                    )

    for exp in ["e3", "e4", "e5", "e6", "e7"]:
        add(config[exp]["dataset"], dataset_config(config[exp]["dataset"]), exp)
    ref = dataset_config(config["e7"]["dataset"])
    for cell, (target, n_train) in e7_cells().items():
        add(cell, canonical(dict(ref, target=target, n_train=n_train, name=cell)), "e7")
    for name in config["e2"]["lambda_min"]["datasets"]:
        found.setdefault(name, dataset_config(name))
    unique, seen = {}, set()
    for name, ds in found.items():
        key = tuple(sorted((k, v) for k, v in ds.items() if k not in ("name", "n_test")))
        if key not in seen:
            seen.add(key)
            unique[name] = ds
    return unique


def claim1_files(wildcards=None):
    return ["data/e2/lambda_min.csv"]


def e4_seeds(width):
    return wide("e4", width).get("seeds", config["e4"]["seeds"])
