# Deep networks (issue 12): the infinite-width NTK of a depth-L σ_s network (hrta.ntk_deep) vs s
# (claim 1 at depth), the convergence of DeepNet's empirical kernel to it with width, and full-batch
# GD of a wide DeepNet against the linearization with the deep kernel. Config section `deep`.

DEEP = config.get("deep")


def deep_datasets():
    """{name: make_dataset kwargs} of claim 1's data sets (claim1_datasets, workflow/rules/ntk.smk):
    every data set the run trains on and e2.lambda_min.datasets."""
    return {name: {k: v for k, v in spec.items() if k != "name"} for name, spec in sorted(claim1_datasets().items())}


def deep_networks():
    """Hidden-layer widths whose kernel error is measured: uniform convergence widths per depth, plus
    the widths of deep.train and of every deep model of e5 (sorted, unique)."""
    conv = DEEP["convergence"]
    nets = {tuple([w] * L) for L in conv["depths"] for w in conv["widths"]}
    nets.add(tuple(DEEP["train"]["widths"]))
    for spec in config["e5"]["models"].values():
        if spec["kind"] == "deep" and spec.get("base", "relu") == DEEP["base"]:
            nets.add(tuple(spec["widths"]))
    return [list(n) for n in sorted(nets, key=lambda n: (len(n), n))]


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


if DEEP:
    _check_deep_config()
    FIGURES += figure_files("deep_spectrum") + figure_files("deep_kernel_error") + figure_files("deep_gd")
    TABLES += table_files("deep_spectrum") + table_files("deep_kernel_error") + table_files("deep_gd")

    rule deep_spectrum:
        """Claim 1 at depth: λ_min, λ_max, κ of the depth-L NTK K_s/n on the s grid, every data set of the run."""
        output:
            "data/deep/spectrum.csv",
        log:
            "logs/deep/spectrum.log",
        benchmark:
            "logs/benchmarks/deep/spectrum.tsv"
        conda:
            "../envs/hrta.yaml"
        threads: config["threads"]["ntk"]
        resources:
            mem_mb=RES["ntk_mem_mb"],
            runtime=RES["ntk_runtime"],
        params:
            datasets=deep_datasets(),
            base=DEEP["base"],
            depths=sorted(DEEP["depths"]),
            s_grid=canonical(DEEP["s_grid"]),
        script:
            "../../scripts/deep_spectrum.py"

    rule deep_kernel_error:
        """‖K_emp − K_∞‖_F/‖K_∞‖_F of DeepNet at initialization vs width, per depth, s and seed."""
        input:
            dataset=dataset_file(DEEP["train"]["dataset"]),
        output:
            "data/deep/kernel_error.csv",
        log:
            "logs/deep/kernel_error.log",
        benchmark:
            "logs/benchmarks/deep/kernel_error.tsv"
        conda:
            "../envs/hrta.yaml"
        threads: config["threads"]["ntk"]
        resources:
            mem_mb=RES["ntk_mem_mb"],
            runtime=RES["ntk_runtime"],
            gpu=GPU,
        params:
            base=DEEP["base"],
            networks=deep_networks(),
            seeds=DEEP["convergence"]["seeds"],
            s_values=sorted(DEEP["convergence"]["s_values"]),
            dtype=config["dtype"],
            device=config["device"],
        script:
            "../../scripts/deep_kernel_error.py"

    rule deep_train:
        """Full-batch GD of DeepNet (deep.train) per stage, with the linearized prediction from the deep kernel."""
        input:
            dataset=dataset_file(DEEP["train"]["dataset"]),
        output:
            history="data/deep/train_seed{seed}_history.csv",
            theory="data/deep/train_seed{seed}_theory.csv",
            stages="data/deep/train_seed{seed}_stages.csv",
        log:
            "logs/deep/train_seed{seed}.log",
        benchmark:
            "logs/benchmarks/deep/train_seed{seed}.tsv"
        wildcard_constraints:
            seed=r"\d+",
        conda:
            "../envs/hrta.yaml"
        threads: config["threads"]["train"]
        resources:
            mem_mb=RES["train_mem_mb"],
            runtime=RES["train_runtime"],
            gpu=GPU,
        params:
            settings=canonical(dict(DEEP["train"], base=DEEP["base"], dtype=config["dtype"], device=config["device"])),
            seed=lambda wc: int(wc.seed),
        script:
            "../../scripts/deep_train.py"

    rule figures_deep:
        """Deep figures: spectrum vs s (one panel per depth), kernel error vs width, GD vs the linearization."""
        input:
            spectrum="data/deep/spectrum.csv",
            kernel_error="data/deep/kernel_error.csv",
            history=expand("data/deep/train_seed{seed}_history.csv", seed=DEEP["train"]["seeds"]),
            theory=expand("data/deep/train_seed{seed}_theory.csv", seed=DEEP["train"]["seeds"]),
        output:
            **figure_outputs("deep_spectrum", "Deep networks", key="spectrum"),
            **figure_outputs("deep_kernel_error", "Deep networks", key="error"),
            **figure_outputs("deep_gd", "Deep networks", key="gd"),
        log:
            "logs/figures/deep.log",
        conda:
            "../envs/hrta.yaml"
        threads: config["threads"]["plot"]
        resources:
            mem_mb=RES["plot_mem_mb"],
            runtime=RES["plot_runtime"],
        params:
            deep=canonical(DEEP),
            method_order=list(DEEP["train"]["methods"]),
        script:
            "../../scripts/deep_figures.py"

    rule tables_deep:
        """Deep tables: λ_min vs s per depth and data set (with the claim-1 rule), kernel error vs width, GD vs prediction."""
        input:
            spectrum="data/deep/spectrum.csv",
            kernel_error="data/deep/kernel_error.csv",
            stages=expand("data/deep/train_seed{seed}_stages.csv", seed=DEEP["train"]["seeds"]),
        output:
            **{f"spectrum_{k}": v for k, v in table_outputs("deep_spectrum").items()},
            **{f"error_{k}": v for k, v in table_outputs("deep_kernel_error").items()},
            **{f"gd_{k}": v for k, v in table_outputs("deep_gd").items()},
        log:
            "logs/tables/deep.log",
        conda:
            "../envs/hrta.yaml"
        threads: config["threads"]["plot"]
        resources:
            mem_mb=RES["plot_mem_mb"],
            runtime=RES["plot_runtime"],
        params:
            kernel_tolerance=DEEP["kernel_tolerance"],
            train_widths=list(DEEP["train"]["widths"]),
            e5_deep=canonical(
                {name: list(spec["widths"]) for name, spec in config["e5"]["models"].items() if spec["kind"] == "deep"}
            ),
        script:
            "../../scripts/deep_tables.py"
