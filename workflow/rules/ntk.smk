# Stage 3 — NTK: analytic (infinite-width) spectra on a fine s grid, empirical kernels at finite
# widths (one job per width: all seeds, s values and layer choices), λ_min(s) on every data set the
# run trains on (claim 1), and the NTK predictions of the E4 GD runs.


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


rule e2_lambda_min:
    """Claim 1: λ_min, λ_max of the analytic K_s/n on the refined s grid for every data set the run trains on."""
    output:
        "data/e2/lambda_min.csv",
    log:
        "logs/ntk/e2_lambda_min.log",
    benchmark:
        "logs/benchmarks/ntk/e2_lambda_min.tsv"
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["ntk"]
    resources:
        mem_mb=RES["ntk_mem_mb"],
        runtime=RES["ntk_runtime"],
    params:
        datasets=lambda wc: claim1_datasets(),
        s_values=s_grid_claim1(),
        layers=list(config["e2"]["layers"]),
        base=config["e2"]["base"],
    script:
        "../../scripts/e2_lambda_min.py"


rule e2_analytic:
    """E2: spectrum of the analytic NTK K_s on the s grid, both-layer and first-layer kernels."""
    input:
        dataset=dataset_file(config["e2"]["dataset"]),
    output:
        "data/e2/analytic.csv",
    log:
        "logs/ntk/e2_analytic.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["ntk"]
    resources:
        mem_mb=RES["ntk_mem_mb"],
        runtime=RES["ntk_runtime"],
    params:
        settings=e2_settings(),
        s_grid=canonical(config["e2"]["s_grid"]),
        s_empirical=config["e2"]["s_empirical"],
    script:
        "../../scripts/e2_analytic.py"


rule e2_empirical:
    """E2: empirical NTK of TwoLayerNet at one width over seeds and s; spectrum and ‖K_emp − K_∞‖/‖K_∞‖."""
    input:
        dataset=dataset_file(config["e2"]["dataset"]),
    output:
        "data/e2/empirical_w{width}.csv",
    log:
        "logs/ntk/e2_empirical_w{width}.log",
    benchmark:
        "logs/benchmarks/ntk/e2_empirical_w{width}.tsv"
    wildcard_constraints:
        width=r"[1-9]\d*",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["ntk"]
    resources:
        mem_mb=RES["ntk_mem_mb"],
        runtime=RES["ntk_runtime"],
        gpu=GPU,
    params:
        settings=e2_settings(),
        s_values=config["e2"]["s_empirical"],
        seeds=config["e2"]["seeds"],
        width=lambda wc: int(wc.width),
    script:
        "../../scripts/e2_empirical.py"


rule e4_theory:
    """E4: GD linearized at θ₀ through each schedule (K_∞ and K_emp(θ₀)); per stage λ_min/λ_max of K_s/n."""
    input:
        dataset=dataset_file(config["e4"]["dataset"]),
    output:
        curves="data/e4/theory_w{width}.csv",
        stages="data/e4/stages_w{width}.csv",
    log:
        "logs/ntk/e4_theory_w{width}.log",
    benchmark:
        "logs/benchmarks/ntk/e4_theory_w{width}.tsv"
    wildcard_constraints:
        width=r"[1-9]\d*",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["ntk"]
    resources:
        mem_mb=RES["ntk_mem_mb"],
        runtime=RES["ntk_runtime"],
        gpu=GPU,
    params:
        settings=lambda wc: train_settings("e4", int(wc.width)),
        seeds=lambda wc: e4_seeds(int(wc.width)),
        width=lambda wc: int(wc.width),
    script:
        "../../scripts/e4_theory.py"
