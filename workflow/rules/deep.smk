# Deep networks (issue 12): the infinite-width NTK of a depth-L σ_s network (hrta.ntk.deep) vs s
# (claim 1 at depth), the convergence of DeepNet's empirical kernel to it with width, and full-batch
# GD of a wide DeepNet against the linearization with the deep kernel. Config section `deep`.


include: "deep_common.smk"


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
            **job_resources("deep_spectrum"),
        params:
            datasets=deep_datasets(),
            base=DEEP["base"],
            depths=sorted(DEEP["depths"]),
            s_values=deep_s_values(),
        script:
            "../scripts/deep_spectrum.py"

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
            **job_resources("deep_kernel_error"),
            gpu=GPU,
        params:
            base=DEEP["base"],
            networks=deep_networks(),
            seeds=DEEP["convergence"]["seeds"],
            s_values=sorted(DEEP["convergence"]["s_values"]),
            dtype=config["dtype"],
            device=config["device"],
        script:
            "../scripts/deep_kernel_error.py"

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
            **job_resources("deep_train"),
            gpu=GPU,
        params:
            settings=canonical(dict(DEEP["train"], base=DEEP["base"], dtype=config["dtype"], device=config["device"])),
            seed=lambda wc: int(wc.seed),
        script:
            "../scripts/deep_train.py"

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
            **job_resources("figures_deep"),
        params:
            deep=canonical(DEEP),
            method_order=list(DEEP["train"]["methods"]),
        script:
            "../scripts/deep_figures.py"

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
            **job_resources("tables_deep"),
        params:
            kernel_tolerance=DEEP["kernel_tolerance"],
            train_widths=list(DEEP["train"]["widths"]),
            e5_deep=canonical(
                {name: list(spec["widths"]) for name, spec in config["e5"]["models"].items() if spec["kind"] == "deep"}
            ),
        script:
            "../scripts/deep_tables.py"
