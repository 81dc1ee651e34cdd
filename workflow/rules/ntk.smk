# Stage 3 — NTK: analytic (infinite-width) spectra on a fine s grid, empirical kernels at finite
# widths (one job per width: all seeds, s values and layer choices), λ_min(s) on every data set the
# run trains on (claim 1), and the NTK predictions of the E4 GD runs.


include: "ntk_common.smk"


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
        **job_resources("e2_lambda_min"),
    params:
        datasets=lambda wc: claim1_datasets(),
        s_values=s_grid_claim1(),
        layers=list(config["e2"]["layers"]),
        base=config["e2"]["base"],
    script:
        "../scripts/e2_lambda_min.py"


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
        **job_resources("e2_analytic"),
    params:
        settings=e2_settings(),
        s_grid=canonical(config["e2"]["s_grid"]),
        s_empirical=config["e2"]["s_empirical"],
    script:
        "../scripts/e2_analytic.py"


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
        **job_resources("e2_empirical"),
        gpu=GPU,
    params:
        settings=e2_settings(),
        s_values=config["e2"]["s_empirical"],
        seeds=config["e2"]["seeds"],
        width=lambda wc: int(wc.width),
    script:
        "../scripts/e2_empirical.py"


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
        **job_resources("e4_theory"),
        gpu=GPU,
    params:
        settings=lambda wc: train_settings("e4", int(wc.width)),
        seeds=lambda wc: e4_seeds(int(wc.width)),
        width=lambda wc: int(wc.width),
    script:
        "../scripts/e4_theory.py"


rule claim1_search:
    """Claim 1 as a search: λ_min(K_s/n) on many random draws on the sphere, fractions that violate it and where."""
    output:
        csv=report("figures/tables/claim1_search.csv", caption="../report/claim1_search_table.rst", category="Claims"),
        png=report("figures/claim1_search.png", caption="../report/claim1_search.rst", category="Claims"),
        pdf="figures/claim1_search.pdf",
    log:
        "logs/ntk/claim1_search.log",
    benchmark:
        "logs/benchmarks/ntk/claim1_search.tsv"
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["ntk"]
    resources:
        **job_resources("claim1_search"),
    params:
        search=canonical(config["e2"]["lambda_min"]["search"]),
    script:
        "../scripts/claim1_search.py"
