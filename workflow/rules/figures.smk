# Stage 6 — figures (figures/*.png and .pdf, one seaborn style from hrta.plots), each with a
# report caption in workflow/report/.

FIGURES += figure_files("e1_activations")
FIGURES += figure_files("e2_spectrum") + figure_files("e2_kernel_error")
FIGURES += figure_files("e3_loss")
FIGURES += figure_files("e4_rates") + figure_files("e4_curves")


def _figure_outputs(name, category, subcategory=None):
    caption = f"../report/{name}.rst"
    return {
        "png": report(f"figures/{name}.png", caption=caption, category=category, subcategory=subcategory),
        "pdf": f"figures/{name}.pdf",
    }


rule figure_e1_activations:
    """E1 figure: σ_s and σ_s' for the configured s values."""
    input:
        "data/e1/activations.csv",
    output:
        **_figure_outputs("e1_activations", "E1 activations"),
    params:
        e1=config["e1"],
    log:
        "logs/figures/e1_activations.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    script:
        "../../scripts/figure_e1.py"


rule figure_e2_spectrum:
    """E2 figure: λ_min, λ_max, condition number of K_s/n vs s; analytic lines, empirical points by width."""
    input:
        analytic="data/e2/analytic.csv",
        empirical=expand("data/e2/empirical_w{width}.csv", width=config["e2"]["widths"]),
    output:
        **_figure_outputs("e2_spectrum", "E2 NTK spectrum"),
    params:
        e2=config["e2"],
    log:
        "logs/figures/e2_spectrum.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    script:
        "../../scripts/figure_e2_spectrum.py"


rule figure_e2_kernel_error:
    """E2 figure: relative error ‖K_emp − K_∞‖_F/‖K_∞‖_F vs width (log-log), per s and layers."""
    input:
        empirical=expand("data/e2/empirical_w{width}.csv", width=config["e2"]["widths"]),
    output:
        **_figure_outputs("e2_kernel_error", "E2 NTK spectrum"),
    params:
        e2=config["e2"],
    log:
        "logs/figures/e2_kernel_error.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    script:
        "../../scripts/figure_e2_error.py"


rule figure_e3_loss:
    """E3 figure: training loss vs step, one row per optimizer and one column per width, s switches marked."""
    input:
        histories=train_files("e3"),
        runs=train_files("e3", "runs"),
    output:
        **_figure_outputs("e3_loss", "E3 HRTA vs ReLU"),
    params:
        methods=config["e3"]["methods"],
        optimizers=config["e3"]["optimizers"],
    log:
        "logs/figures/e3_loss.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    script:
        "../../scripts/figure_e3.py"


rule figure_e4_rates:
    """E4 figure: measured per-stage GD rate vs the NTK prediction (1 − lr·λ_min(K_s/n))², by width."""
    input:
        "data/e4/rates.csv",
    output:
        **_figure_outputs("e4_rates", "E4 theory vs practice"),
    params:
        methods=config["e4"]["methods"],
    log:
        "logs/figures/e4_rates.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    script:
        "../../scripts/figure_e4_rates.py"


rule figure_e4_curves:
    """E4 figure: measured GD loss curves with predict_loss_curve overlaid (analytic and empirical K_s)."""
    input:
        histories=train_files("e4"),
        curves=expand("data/e4/theory_w{width}.csv", width=config["e4"]["widths"]),
    output:
        **_figure_outputs("e4_curves", "E4 theory vs practice"),
    params:
        methods=config["e4"]["methods"],
    log:
        "logs/figures/e4_curves.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    script:
        "../../scripts/figure_e4_curves.py"
