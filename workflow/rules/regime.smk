# Where the theory acts (issue: the λ_min regime). figures/tables/regime.csv states, for every GD training
# experiment and s, whether the slowest mode of K_s/n can decay within the run (lr·λ_min·T); with an `e8`
# section (the λ_min regime, well-conditioned data), rule regime_rates compares E8's measured asymptotic
# loss rates with 2·log(1 − lr·λ_min(K_s/n)) across widths.


include: "regime_common.smk"


TABLES += ["figures/tables/regime.csv", "figures/tables/regime_split.csv"]


rule regime_table:
    """Per training experiment × s × GD optimizer: lr, T, λ_min and λ_max of the analytic K_s/n, lr·λ_min·T, (1 − lr·λ_min)^T."""
    output:
        csv=report("figures/tables/regime.csv", caption="../report/regime_table.rst", category="Regime"),
        split=report("figures/tables/regime_split.csv", caption="../report/regime_split.rst", category="Regime"),
    log:
        "logs/analysis/regime_table.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["ntk"]
    resources:
        **job_resources("regime_table"),
    params:
        experiments=regime_settings(),
    script:
        "../scripts/regime_table.py"


if config.get("e8"):
    TABLES += ["figures/tables/regime_rates.csv"]
    TABLES += ["figures/tables/regime_decomposition.csv"] if regime_kernel_files("runs") else []
    FIGURES += figure_files("regime_rates")

    rule regime_rates:
        """E8 (and e6_regime's kernel-rate runs): measured asymptotic loss rate vs 2·log(1 − lr·λ_min(K_s/n)), per s, width, seed."""
        input:
            histories=train_files("e8"),
            runs=train_files("e8", "runs"),
            kernel_histories=regime_kernel_files("history"),
            kernel_runs=regime_kernel_files("runs"),
        output:
            **figure_outputs("regime_rates", "Regime"),
            **(
                {
                    "decomposition": report(
                        "figures/tables/regime_decomposition.csv",
                        caption="../report/regime_decomposition.rst",
                        category="Regime",
                    )
                }
                if regime_kernel_files("runs")
                else {}
            ),
            runs="data/e8/regime_rates_runs.csv",
            csv=report(
                "figures/tables/regime_rates.csv",
                caption="../report/regime_rates_table.rst",
                category="Regime",
            ),
        log:
            "logs/analysis/regime_rates.log",
        conda:
            "../envs/hrta.yaml"
        threads: config["threads"]["ntk"]
        resources:
            **job_resources("regime_rates"),
        params:
            settings=lambda wc: train_settings("e8"),
            dtypes={w: wide("e8", w).get("dtype", config["dtype"]) for w in config["e8"]["widths"]},
            rate_fit=canonical(config["e8"]["rate_fit"]),
            kernel=canonical(
                {
                    "width": config["e6_regime"]["model"]["width"],
                    "fraction": config["e6_regime"]["kernel_lr"]["fraction"],
                    "dtype": config["e6_regime"]["model"].get("dtype", config["dtype"]),
                }
                if regime_kernel_files("runs")
                else {}
            ),
            level=config["claims"]["level"],
        script:
            "../scripts/regime_rates.py"
