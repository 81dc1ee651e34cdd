# Claims report (issue 4): E5 extensions, E6 fairness, E7 sensitivity, and one computed verdict per
# claim of the paper (figures/CLAIMS.md, figures/tables/claims.csv). Verdict rules: hrta/claims.py.

CLAIMS_SWEEPS = ["e5", "e6", "e7"]


def _check_claims_config():
    """Cross-checks the schema cannot express; errors name the config key (run before any job)."""
    for exp in CLAIMS_SWEEPS:
        section = config[exp]
        if section["dataset"] not in config["datasets"]:
            raise WorkflowError(f"invalid config: key '{exp}.dataset': unknown dataset {section['dataset']!r}; "
                                f"defined under 'datasets': {', '.join(config['datasets'])}")
        if section["baseline"] not in section["methods"]:
            raise WorkflowError(f"invalid config: key '{exp}.baseline': {section['baseline']!r} is not one of "
                                f"{exp}.methods ({', '.join(section['methods'])})")
        totals = {name: check_schedule(m["schedule"], f"{exp}.methods.{name}.schedule").total_steps
                  for name, m in section["methods"].items()}
        if len(set(totals.values())) > 1:
            raise WorkflowError(f"invalid config: key '{exp}.methods': all schedules must have the same total "
                                f"number of steps; got {totals}")
        for name, opt in section["optimizers"].items():
            if opt.get("lr_schedule") == "step" and "lr_step_every" not in opt:
                raise WorkflowError(f"invalid config: key '{exp}.optimizers.{name}.lr_step_every': required "
                                    "when lr_schedule is 'step'")
    kernel = config["e6"].get("kernel_lr")
    if kernel and config["e6"]["model"]["kind"] != "two_layer":
        raise WorkflowError("invalid config: key 'e6.kernel_lr': the kernel-scaled rate uses the two-layer "
                            "analytic kernel; e6.model.kind must be 'two_layer'")
    if kernel:
        opt = config["e6"]["optimizers"].get(kernel["optimizer"])
        if opt is None or opt["optimizer"] != "gd" or opt.get("lr_schedule", "constant") != "constant":
            raise WorkflowError("invalid config: key 'e6.kernel_lr.optimizer': must name a GD optimizer of "
                                "e6.optimizers with a constant learning rate")
    if config["claims"]["e3_baseline"] not in config["e3"]["methods"]:
        raise WorkflowError(f"invalid config: key 'claims.e3_baseline': not one of e3.methods")
    for key in ("hrta_methods", "relaxation_methods"):
        for i, name in enumerate(config["claims"][key]):
            if name not in config["e3"]["methods"]:
                raise WorkflowError(f"invalid config: key 'claims.{key}[{i}]': {name!r} is not one of e3.methods")


_check_claims_config()


def e7_cells():
    """{cell: (target, n_train)}: the reference data set with n_train varied, then with the target (d) varied."""
    ref = config["datasets"][config["e7"]["dataset"]]
    cells = [(ref["target"], n) for n in config["e7"]["n_train"]]
    cells += [(t, ref["n_train"]) for t in config["e7"]["targets"]]
    return {f"{t}_n{n}": (t, n) for t, n in dict.fromkeys(cells)}


def claims_cells(exp):
    if exp == "e5":
        return list(config["e5"]["models"])
    if exp == "e6":
        return ["grid"]
    return list(e7_cells())


def claims_sweep_settings(exp, cell):
    """Everything one sweep job depends on (scripts/claims_sweep.py)."""
    section = config[exp]
    dataset = dataset_config(section["dataset"])
    if exp == "e5":
        model = {k: v for k, v in section["models"][cell].items() if k != "label"}
    else:
        model = dict(section["model"])
    if exp == "e7":
        target, n_train = e7_cells()[cell]
        dataset.update(target=target, n_train=n_train, name=cell)
    return {
        "experiment": exp,
        "cell": cell,
        "dataset": dataset,
        "model": model,
        "methods": {k: dict(v) for k, v in section["methods"].items()},
        "optimizers": {k: dict(v) for k, v in section["optimizers"].items()},
        "lr_factors": list(section.get("lr_factors", [1.0])),
        "kernel_lr": dict(section["kernel_lr"]) if section.get("kernel_lr") else None,
        "seeds": list(section["seeds"]),
        "log_every": section["log_every"],
        "divergence_threshold": section["divergence_threshold"],
        "dtype": config["dtype"],
        "device": config["device"],
    }


def claims_sweep_files(exp, kind):
    return [f"data/claims/{exp}/{cell}_{kind}.csv" for cell in claims_cells(exp)]


CLAIMS_FIGURES = ["claims_speedups", "claims_e5_extensions", "claims_e6_lr_grid", "claims_e7_sensitivity"]
FIGURES += [f for name in CLAIMS_FIGURES for f in figure_files(name)]
TABLES += table_files("claims_speedups") + ["figures/tables/claims.csv", "figures/CLAIMS.md"]


rule claims_sweep:
    """E5–E7: every method × optimizer × learning rate × seed of one cell (same data and init per seed)."""
    output:
        history="data/claims/{exp}/{cell}_history.csv",
        runs="data/claims/{exp}/{cell}_runs.csv",
    params:
        settings=lambda wc: claims_sweep_settings(wc.exp, wc.cell),
    log:
        "logs/claims/{exp}/{cell}.log",
    benchmark:
        "logs/benchmarks/claims/{exp}/{cell}.tsv"
    threads: config["threads"]["train"]
    resources:
        mem_mb=RES["train_mem_mb"],
        runtime=RES["train_runtime"],
        gpu=GPU,
    wildcard_constraints:
        exp="|".join(CLAIMS_SWEEPS),
        cell=r"[A-Za-z0-9_.-]+",
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/claims_sweep.py"


rule claims_speedups:
    """Paired speed-ups (baseline steps / method steps to a baseline-derived tolerance) for E3 and E5–E7."""
    input:
        e3_histories=train_files("e3"),
        e3_runs=train_files("e3", "runs"),
        **{f"{exp}_{kind}": claims_sweep_files(exp, kind) for exp in CLAIMS_SWEEPS for kind in ("history", "runs")},
    output:
        speedups="data/claims/speedups.csv",
        steps="data/claims/steps_to_tolerance.csv",
    params:
        claims=config["claims"],
        baselines={"e3": config["claims"]["e3_baseline"], **{exp: config[exp]["baseline"] for exp in CLAIMS_SWEEPS}},
    log:
        "logs/claims/speedups.log",
    threads: 1
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/claims_speedups.py"


rule table_claims_speedups:
    """Table of every paired speed-up with its 95% interval, tolerance and verdict."""
    input:
        "data/claims/speedups.csv",
    output:
        **{ext: f"figures/tables/claims_speedups.{ext}" for ext in TABLE_FORMATS},
    params:
        claims=config["claims"],
    log:
        "logs/tables/claims_speedups.log",
    threads: 1
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/claims_table.py"


rule figure_claims:
    """Figures of the claims experiments: speed-up forest plot, E5 curves, E6 learning-rate grid, E7 sensitivity."""
    input:
        speedups="data/claims/speedups.csv",
        e5_histories=claims_sweep_files("e5", "history"),
        e5_runs=claims_sweep_files("e5", "runs"),
        e6_runs=claims_sweep_files("e6", "runs"),
    output:
        **{f"{name}_png": report(f"figures/{name}.png", caption=f"../report/{name}.rst", category="Claims")
           for name in CLAIMS_FIGURES},
        **{f"{name}_pdf": f"figures/{name}.pdf" for name in CLAIMS_FIGURES},
    params:
        e5=config["e5"],
        e6=config["e6"],
        e7=config["e7"],
        e7_reference=config["datasets"][config["e7"]["dataset"]],
        claims=config["claims"],
    log:
        "logs/figures/claims.log",
    threads: config["threads"]["plot"]
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/claims_figures.py"


rule claims_report:
    """figures/CLAIMS.md and figures/tables/claims.csv: one computed verdict per claim (hrta/claims.py)."""
    input:
        speedups="data/claims/speedups.csv",
        e2_analytic="data/e2/analytic.csv",
        e2_empirical=expand("data/e2/empirical_w{width}.csv", width=config["e2"]["widths"]),
        e4_rates="data/e4/rates.csv",
    output:
        md=report("figures/CLAIMS.md", caption="../report/claims_md.rst", category="Claims"),
        csv=report("figures/tables/claims.csv", caption="../report/claims_csv.rst", category="Claims"),
    params:
        claims=config["claims"],
        e3_baseline=config["claims"]["e3_baseline"],
        e5=config["e5"],
        e6=config["e6"],
    log:
        "logs/claims/report.log",
    threads: 1
    resources:
        mem_mb=RES["plot_mem_mb"],
        runtime=RES["plot_runtime"],
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/claims_report.py"
