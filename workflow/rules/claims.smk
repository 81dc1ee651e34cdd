# Claims report (issue 4): E5 extensions, E6 fairness, E7 sensitivity, and one computed verdict per
# claim of the paper (figures/CLAIMS.md, figures/tables/claims.csv). Verdict rules: the package hrta/claims/.


include: "claims_common.smk"


CLAIMS_FIGURES = ["claims_speedups", "claims_e5_extensions", "claims_e6_lr_grid", "claims_e7_sensitivity"]
FIGURES += [f for name in CLAIMS_FIGURES for f in figure_files(name)]
TABLES += table_files("claims_speedups") + ["figures/tables/claims.csv", "figures/CLAIMS.md"]
TABLES += ["figures/tables/claims_endpoints.csv", "figures/tables/claims_parts.csv", "figures/tables/claims_parts.md"]
FIGURES += figure_files("claims_forest") + figure_files("claim1_search")
TABLES += ["figures/tables/claim1_search.csv"]
TABLES += ["figures/tables/claims_matrix.csv"]
FIGURES += figure_files("claims_matrix")


rule claims_sweep:
    """E5, E7: every method × optimizer × learning rate × seed of one cell (same data and init per seed)."""
    output:
        history="data/claims/{exp}/{cell}_history.csv",
        runs="data/claims/{exp}/{cell}_runs.csv",
    log:
        "logs/claims/{exp}/{cell}.log",
    benchmark:
        "logs/benchmarks/claims/{exp}/{cell}.tsv"
    wildcard_constraints:
        exp="|".join(WHOLE_SWEEPS) or "(?!)",
        cell=r"[A-Za-z0-9_.-]+",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["train"]
    resources:
        **job_resources("claims_sweep"),
        gpu=GPU,
    params:
        settings=lambda wc: claims_sweep_settings(wc.exp, wc.cell),
    script:
        "../scripts/claims_sweep.py"


rule claims_tune:
    """A fairness sweep (E6, e6_regime), one optimizer: every method on the learning-rate grid on the held-out tuning
    seeds, widened until the optimum is interior; writes the chosen factor per method (claim 7's rate choice)."""
    output:
        history="data/claims/{exp}/parts/{cell}_tune_history.csv",
        runs="data/claims/{exp}/parts/{cell}_tune_runs.csv",
        choice="data/claims/{exp}/parts/{cell}_choice.csv",
    log:
        "logs/claims/{exp}/{cell}_tune.log",
    benchmark:
        "logs/benchmarks/claims/{exp}/{cell}_tune.tsv"
    wildcard_constraints:
        exp="|".join(FAIRNESS_SWEEPS) or "(?!)",
        cell=r"[A-Za-z0-9_.-]+",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["train"]
    resources:
        **job_resources("claims_tune"),
        gpu=GPU,
    params:
        settings=lambda wc: claims_part_settings(wc.exp, wc.cell, "tune"),
    script:
        "../scripts/claims_sweep.py"


rule claims_score:
    """A fairness sweep, one optimizer, one scoring seed: every method at its chosen factor (claims_tune) and at the
    kernel-scaled rate; without lr_choice every factor of the grid."""
    input:
        choice=lambda wc: claims_choice_file(wc.exp, wc.cell),
    output:
        history="data/claims/{exp}/parts/{cell}_seed{seed}_history.csv",
        runs="data/claims/{exp}/parts/{cell}_seed{seed}_runs.csv",
    log:
        "logs/claims/{exp}/{cell}_seed{seed}.log",
    benchmark:
        "logs/benchmarks/claims/{exp}/{cell}_seed{seed}.tsv"
    wildcard_constraints:
        exp="|".join(FAIRNESS_SWEEPS) or "(?!)",
        cell=r"[A-Za-z0-9_.-]+",
        seed=r"\d+",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["train"]
    resources:
        **job_resources("claims_score"),
        gpu=GPU,
    params:
        settings=lambda wc: claims_part_settings(wc.exp, wc.cell, f"seed{wc.seed}"),
    script:
        "../scripts/claims_sweep.py"


rule claims_gather:
    """A fairness sweep's cell from its parts: the history and runs one job over all seeds writes, byte for byte
    (hrta.sweep_parts.gather_fairness_parts), with the columns chosen and at_edge."""
    input:
        unpack(lambda wc: claims_part_files(wc.exp, wc.cell)),
    output:
        history="data/claims/{exp}/{cell}_history.csv",
        runs="data/claims/{exp}/{cell}_runs.csv",
    log:
        "logs/claims/{exp}/{cell}.log",
    wildcard_constraints:
        exp="|".join(FAIRNESS_SWEEPS) or "(?!)",
        cell=r"[A-Za-z0-9_.-]+",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("claims_gather"),
    params:
        settings=lambda wc: claims_sweep_settings(wc.exp, wc.cell),
    script:
        "../scripts/claims_gather.py"


rule claims_speedups:
    """Paired speed-ups (baseline steps / method steps to a baseline-derived tolerance) for E3 and E5–E7."""
    input:
        **{f"{exp}_{kind}": claims_sweep_files(exp, kind) for exp in METRIC_SWEEPS for kind in ("history", "runs")},
        e3_histories=train_files("e3"),
        e3_runs=train_files("e3", "runs"),
    output:
        speedups="data/claims/speedups.csv",
        steps="data/claims/steps_to_tolerance.csv",
        metrics="data/claims/metrics.csv",
    log:
        "logs/claims/speedups.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("claims_speedups"),
    params:
        claims=claims_settings(),
        baselines=canonical(
            {"e3": config["claims"]["e3_baseline"], **{exp: config[exp]["baseline"] for exp in METRIC_SWEEPS}}
        ),
    script:
        "../scripts/claims_speedups.py"


rule table_claims_speedups:
    """Table of every paired speed-up with its 95% interval, tolerance and verdict."""
    input:
        "data/claims/speedups.csv",
    output:
        **table_outputs("claims_speedups"),
    log:
        "logs/tables/claims_speedups.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("table_claims_speedups"),
    params:
        claims=claims_settings(),
    script:
        "../scripts/claims_table.py"


rule figure_claims:
    """Figures of the claims experiments: speed-up forest plot, E5 curves, E6 learning-rate grid, E7 sensitivity."""
    input:
        speedups="data/claims/speedups.csv",
        e5_histories=claims_sweep_files("e5", "history"),
        e5_runs=claims_sweep_files("e5", "runs"),
        e6_runs=claims_sweep_files("e6", "runs"),
    output:
        **{k: v for name in CLAIMS_FIGURES for k, v in figure_outputs(name, "Claims", key=name).items()},
    log:
        "logs/figures/claims.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("figure_claims"),
    params:
        e5=canonical(config["e5"]),
        e6=canonical(config["e6"]),
        e7=canonical(config["e7"]),
        e7_reference=canonical(config["datasets"][config["e7"]["dataset"]]),
        claims=claims_settings(),
    script:
        "../scripts/claims_figures.py"


rule claims_report:
    """figures/tables/claims.csv and claims_parts.{csv,md}: one computed verdict per claim (the rules of hrta/claims/)."""
    input:
        **(
            {"deep_spectrum": "data/deep/spectrum.csv", "deep_kernel_error": "data/deep/kernel_error.csv"}
            if config.get("deep")
            else {}
        ),
        speedups="data/claims/speedups.csv",
        steps="data/claims/steps_to_tolerance.csv",
        metrics="data/claims/metrics.csv",
        e2_analytic="data/e2/analytic.csv",
        e2_empirical=expand("data/e2/empirical_w{width}.csv", width=config["e2"]["widths"]),
        e2_lambda_min=claim1_files(),
        claim1_search="figures/tables/claim1_search.csv",
        e4_rates="data/e4/rates.csv",
        e4_horizons="data/e4/horizons.csv",
        e4_lazy="data/e4/lazy_horizon.csv",
    output:
        md=report("figures/tables/claims_parts.md", caption="../report/claims_parts.rst", category="Claims"),
        csv=report("figures/tables/claims.csv", caption="../report/claims_csv.rst", category="Claims"),
        parts="figures/tables/claims_parts.csv",
        matrix="figures/tables/claims_matrix.csv",
    log:
        "logs/claims/report.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("claims_report"),
    params:
        claims=claims_settings(),
        e3_baseline=canonical(config["claims"]["e3_baseline"]),
        e5=canonical(config["e5"]),
        e6=canonical(config["e6"]),
        methods=canonical({exp: config[exp]["methods"] for exp in ("e3", "e5", "e6")}),
        optimizers=canonical({exp: config[exp]["optimizers"] for exp in ("e3", "e5", "e6")}),
        vary_data_seed=canonical({exp: bool(config[exp].get("vary_data_seed")) for exp in ("e3", "e5", "e6", "e7")}),
        e4_claim3=canonical({k: config["e4"][k] for k in ("horizons", "lazy_epsilon", "log_every", "methods")}),
        kernel_tolerance=config["deep"]["kernel_tolerance"] if config.get("deep") else None,
    script:
        "../scripts/claims_report.py"


rule figure_claims_matrix:
    """The verdict matrix (claims 4–7 × readings) as a seaborn heatmap: colour = verdict, marked robust or
    metric-dependent."""
    input:
        "figures/tables/claims_matrix.csv",
    output:
        **figure_outputs("claims_matrix", "Claims"),
    log:
        "logs/figures/claims_matrix.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("figure_claims_matrix"),
    params:
        readings=claims_settings()["readings"],
    script:
        "../scripts/claims_matrix_figure.py"


rule claims_endpoints:
    """The pre-registered one-factor comparisons of claims 4–7 (claims.endpoints): effect, interval, n, verdict."""
    input:
        **{f"{exp}_histories": train_files(exp) for exp in ENDPOINT_TRAIN_SOURCES},
        **{f"{exp}_runs": train_files(exp, "runs") for exp in ENDPOINT_TRAIN_SOURCES},
        **{f"{exp}_{kind}": claims_sweep_files(exp, kind) for exp in FAIRNESS_SWEEPS for kind in ("history", "runs")},
        e5_history=claims_sweep_files("e5", "history"),
        e5_runs=claims_sweep_files("e5", "runs"),
    output:
        csv=report("figures/tables/claims_endpoints.csv", caption="../report/claims_endpoints.rst", category="Claims"),
    log:
        "logs/claims/endpoints.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("claims_endpoints"),
    params:
        endpoints=canonical(config["claims"]["endpoints"]),
        fairness=FAIRNESS_SWEEPS,
        train_sources=ENDPOINT_TRAIN_SOURCES,
        theory=canonical(
            {
                exp: {
                    "dataset": dataset_config(config[exp]["dataset"]),
                    "vary_data_seed": bool(config[exp].get("vary_data_seed")),
                    "optimizers": config[exp]["optimizers"],
                    "log_every": config[exp]["log_every"],
                }
                for exp in ENDPOINT_TRAIN_SOURCES
                if config[exp]["model"].get("base", "relu") == "relu"
                and config[exp]["model"].get("train_output", True)
            }
        ),
    script:
        "../scripts/claims_endpoints.py"


rule claims_summary:
    """figures/CLAIMS.md on one page (one row per claim) and the forest plot of every primary cell."""
    input:
        **({"decomposition": "figures/tables/regime_decomposition.csv"} if regime_kernel_files("runs") else {}),
        split="figures/tables/regime_split.csv",
        endpoints="figures/tables/claims_endpoints.csv",
        claims="figures/tables/claims.csv",
        claim1_search="figures/tables/claim1_search.csv",
        e2_lambda_min=claim1_files(),
        changelog=os.path.join(workflow.basedir, "workflow", "report", "verdict_changelog.csv"),
        lr_choices=claims_choice_files(),
    output:
        md=report("figures/CLAIMS.md", caption="../report/claims_md.rst", category="Claims"),
        png=report("figures/claims_forest.png", caption="../report/claims_forest.rst", category="Claims"),
        pdf="figures/claims_forest.pdf",
    log:
        "logs/claims/summary.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("claims_summary"),
    params:
        endpoints=canonical(config["claims"]["endpoints"]),
        e5_models=canonical(config["e5"]["models"]),
        lazy_epsilon=config.get("e4", {}).get("lazy_epsilon"),
        tuning=claims_tuning_settings(),
    script:
        "../scripts/claims_summary.py"
