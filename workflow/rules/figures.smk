# Stage 6 — figures (figures/*.png and .pdf, one seaborn style from hrta.plots), each with a
# report caption in workflow/report/. One job per experiment: importing matplotlib and seaborn
# costs ~3 s per process, more than drawing a figure.

FIGURES += figure_files("e1_activations")
FIGURES += figure_files("e2_spectrum") + figure_files("e2_kernel_error") + figure_files("e2_eigen_error")
FIGURES += figure_files("e3_loss")
FIGURES += figure_files("e4_rates") + figure_files("e4_curves")
FIGURES += figure_files("e4_horizons") + figure_files("e4_lazy_horizon")


rule figure_e1_activations:
    """E1 figure: σ_s and σ_s' for the configured s values."""
    input:
        "data/e1/activations.csv",
    output:
        **figure_outputs("e1_activations", "E1 activations"),
    log:
        "logs/figures/e1_activations.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("figure_e1_activations"),
    params:
        e1=canonical(config["e1"]),
    script:
        "../scripts/figure_e1.py"


rule figures_e2:
    """E2 figures: spectrum of K_s/n vs s (analytic lines, empirical points by width); kernel error vs width."""
    input:
        analytic="data/e2/analytic.csv",
        empirical=expand("data/e2/empirical_w{width}.csv", width=config["e2"]["widths"]),
    output:
        **figure_outputs("e2_spectrum", "E2 NTK spectrum", key="spectrum"),
        **figure_outputs("e2_kernel_error", "E2 NTK spectrum", key="error"),
        **figure_outputs("e2_eigen_error", "E2 NTK spectrum", key="eigen"),
    log:
        "logs/figures/e2.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("figures_e2"),
    params:
        e2=canonical(config["e2"]),
    script:
        "../scripts/figure_e2.py"


rule figure_e3_loss:
    """E3 figure: training loss vs step, one row per optimizer and one column per width, s switches marked."""
    input:
        histories=train_files("e3"),
        runs=train_files("e3", "runs"),
    output:
        **figure_outputs("e3_loss", "E3 HRTA vs ReLU"),
    log:
        "logs/figures/e3_loss.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("figure_e3_loss"),
    params:
        methods=canonical(config["e3"]["methods"]),
        optimizers=canonical(config["e3"]["optimizers"]),
        method_order=order("e3", "methods"),
        optimizer_order=order("e3", "optimizers"),
    script:
        "../scripts/figure_e3.py"


rule figures_e4:
    """E4 figures: per-stage rates; linearized curves on measured ones; measured/predicted vs width; t_ε vs m."""
    input:
        rates="data/e4/rates.csv",
        histories=train_files("e4"),
        curves=expand("data/e4/theory_w{width}.csv", width=config["e4"]["widths"]),
        horizons="data/e4/horizons.csv",
        lazy="data/e4/lazy_horizon.csv",
    output:
        **figure_outputs("e4_rates", "E4 theory vs practice", key="rates"),
        **figure_outputs("e4_curves", "E4 theory vs practice", key="curves"),
        **figure_outputs("e4_horizons", "E4 theory vs practice", key="horizons"),
        **figure_outputs("e4_lazy_horizon", "E4 theory vs practice", key="lazy"),
    log:
        "logs/figures/e4.log",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["plot"]
    resources:
        **job_resources("figures_e4"),
    params:
        methods=canonical(config["e4"]["methods"]),
        method_order=order("e4", "methods"),
        lazy_epsilon=config["e4"]["lazy_epsilon"],
    script:
        "../scripts/figure_e4.py"
