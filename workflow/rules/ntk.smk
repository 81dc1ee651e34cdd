# Stage 3 — NTK: analytic (infinite-width) spectra on a fine s grid, empirical kernels at finite
# widths (one job per width: all seeds, s values and layer choices), and the NTK predictions of the
# E4 GD runs.


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
    """E4: per GD stage, λ_min/λ_max of K_s/n (analytic and empirical at init) and predict_loss_curve."""
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
        settings=train_settings("e4"),
        seeds=config["e4"]["seeds"],
        width=lambda wc: int(wc.width),
    script:
        "../../scripts/e4_theory.py"
