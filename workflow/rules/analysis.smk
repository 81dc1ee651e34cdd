# Stage 4 — analysis (no torch): per-stage convergence rates of the E4 GD runs, measured vs predicted.


rule e4_rates:
    """E4: fit of log(loss) vs step over the last `fit_window` of each GD stage, measured and predicted."""
    input:
        histories=train_files("e4"),
        runs=train_files("e4", "runs"),
        curves=expand("data/e4/theory_w{width}.csv", width=config["e4"]["widths"]),
        stages=expand("data/e4/stages_w{width}.csv", width=config["e4"]["widths"]),
    output:
        "data/e4/rates.csv",
    log:
        "logs/analysis/e4_rates.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("e4_rates"),
    params:
        fit_window=config["e4"]["fit_window"],
    script:
        "../scripts/e4_rates.py"


rule e4_horizons:
    """E4: measured/predicted loss at fixed steps (K_∞ and K_emp(θ₀) linearizations) and the lazy horizon t_ε per run."""
    input:
        histories=train_files("e4"),
        runs=train_files("e4", "runs"),
        curves=expand("data/e4/theory_w{width}.csv", width=config["e4"]["widths"]),
    output:
        horizons="data/e4/horizons.csv",
        lazy="data/e4/lazy_horizon.csv",
    log:
        "logs/analysis/e4_horizons.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("e4_horizons"),
    params:
        horizons=config["e4"]["horizons"],
        lazy_epsilon=config["e4"]["lazy_epsilon"],
    script:
        "../scripts/e4_horizons.py"
