# Stage 5 — tables (figures/tables/*.csv, .md, .tex): mean ± std over seeds.

TABLES += table_files("e2_spectrum")
TABLES += table_files("e3_loss_at_budget") + table_files("e3_steps_to_tolerance")
TABLES += table_files("e4_rates") + table_files("e4_match_vs_width")
TABLES += table_files("e2_lambda_min") + table_files("e4_horizons")


rule table_e2_lambda_min:
    """Claim 1 table: per data set × layers, λ_min(K_s/n) at the ends of the s grid and every interval where it falls."""
    input:
        claim1_files,
    output:
        **table_outputs("e2_lambda_min"),
    log:
        "logs/tables/e2_lambda_min.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("table_e2_lambda_min"),
    script:
        "../scripts/table_e2_lambda_min.py"


rule table_e4_horizons:
    """E4 table: measured/predicted loss at each horizon by width (K_∞ and K_emp(θ₀)), and the lazy horizon t_ε."""
    input:
        horizons="data/e4/horizons.csv",
        lazy="data/e4/lazy_horizon.csv",
    output:
        **table_outputs("e4_horizons"),
    log:
        "logs/tables/e4_horizons.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("table_e4_horizons"),
    params:
        method_order=order("e4", "methods"),
    script:
        "../scripts/table_e4_horizons.py"


rule table_e2_spectrum:
    """E2 table: λ_min, λ_max, condition number of K_s/n at the measured s, analytic vs empirical by width."""
    input:
        analytic="data/e2/analytic.csv",
        empirical=expand("data/e2/empirical_w{width}.csv", width=config["e2"]["widths"]),
    output:
        **table_outputs("e2_spectrum"),
    log:
        "logs/tables/e2_spectrum.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("table_e2_spectrum"),
    params:
        s_values=config["e2"]["s_empirical"],
    script:
        "../scripts/table_e2.py"


rule table_e3:
    """E3 tables: training loss at fixed step budgets; steps to reach loss tolerances."""
    input:
        histories=train_files("e3"),
        runs=train_files("e3", "runs"),
    output:
        budget_csv="figures/tables/e3_loss_at_budget.csv",
        budget_md="figures/tables/e3_loss_at_budget.md",
        budget_tex="figures/tables/e3_loss_at_budget.tex",
        tol_csv="figures/tables/e3_steps_to_tolerance.csv",
        tol_md="figures/tables/e3_steps_to_tolerance.md",
        tol_tex="figures/tables/e3_steps_to_tolerance.tex",
    log:
        "logs/tables/e3.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("table_e3"),
    params:
        budgets=config["e3"]["budgets"],
        tolerances=config["e3"]["tolerances"],
        methods=canonical(config["e3"]["methods"]),
        optimizers=canonical(config["e3"]["optimizers"]),
        method_order=order("e3", "methods"),
        optimizer_order=order("e3", "optimizers"),
    script:
        "../scripts/table_e3.py"


rule table_e4:
    """E4 tables: per-stage rates (measured vs NTK-predicted) and the match summarized by width."""
    input:
        "data/e4/rates.csv",
    output:
        rates_csv="figures/tables/e4_rates.csv",
        rates_md="figures/tables/e4_rates.md",
        rates_tex="figures/tables/e4_rates.tex",
        match_csv="figures/tables/e4_match_vs_width.csv",
        match_md="figures/tables/e4_match_vs_width.md",
        match_tex="figures/tables/e4_match_vs_width.tex",
    log:
        "logs/tables/e4.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("table_e4"),
    params:
        methods=canonical(config["e4"]["methods"]),
        method_order=order("e4", "methods"),
    script:
        "../scripts/table_e4.py"
