"""One estimate per pipeline job: estimators registered per rule in ONE place (this registry).

Each estimator maps (config, wildcards) to (seconds on one thread of the calibration machine, peak MB)
from the cost models (hrta.pipeline.runtime, hrta.pipeline.memory) and the job definitions
(hrta.pipeline.jobs). Torch-free.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hrta.sizes import MB

from .jobs import (
    claim1_s_count,
    claims_job,
    claims_jobs,
    dataset_sizes,
    deep_networks,
    endpoint_training_sources,
    fairness_sweeps,
    linspace,
    regime_experiments,
    run_datasets,
    schedule_s,
    sweep_experiments,
    total_steps,
    training_experiments,
    wide_settings,
)
from .memory import (
    analytic_ntk_mb,
    config_train_job_mb,
    deep_kernel_job_mb,
    deep_train_job_mb,
    e2_empirical_job_mb,
    format_mb,
    kernel_job_mb,
    model_mb,
)
from .runtime import (
    JOB_FIXED_S,
    PLOT_JOB_BASE_MB,
    TORCH_JOB_BASE_MB,
    TORCH_JOB_FIXED_S,
    analytic_ntk_s,
    analytic_ntks_s,
    deep_analytic_ntk_s,
    deep_empirical_ntk_s,
    deep_step_s,
    empirical_ntk_s,
    predict_curve_s,
    relu_analytic_ntks_s,
    search_curve_point_s,
    search_kernel_parts_s,
    spectrum_s,
    train_run_s,
)

__all__ = [
    "ESTIMATORS",
    "JobEstimate",
    "PER_FILE_S",
    "UNKNOWN_RULE_MB",
    "UNKNOWN_RULE_S",
    "estimate_job",
    "history_files",
    "job_estimator",
]


@dataclass(frozen=True)
class JobEstimate:
    """Estimated wall time (s, one thread, on CALIBRATION_MACHINE) and peak resident memory (MB,
    the interpreter's own included) of one job; ``known`` is False for a rule without an estimator."""

    rule: str
    wildcards: Mapping[str, str]
    seconds: float
    mem_mb: float
    known: bool = True

    def describe(self) -> str:
        wc = ", ".join(f"{k}={v}" for k, v in self.wildcards.items())
        return f"rule {self.rule}" + (f" ({wc})" if wc else "")


#: Used for a rule nobody registered an estimator for (with a warning): deliberately generous.
UNKNOWN_RULE_S = 3600.0
UNKNOWN_RULE_MB = 4000.0

#: rule name -> estimator(config, wildcards) -> (seconds, MB). Register with @job_estimator("rule").
ESTIMATORS: dict[str, Callable[[Mapping, Mapping[str, str]], tuple[float, float]]] = {}


def job_estimator(*rules: str):
    """Decorator: register ``fn(config, wildcards) -> (seconds, mem_mb)`` for these rule names."""

    def register(fn):
        for rule in rules:
            ESTIMATORS[rule] = fn
        return fn

    return register


def estimate_job(
    rule: str, wildcards: Mapping[str, str] | None, config: Mapping, *, warn: bool | Callable[[str], None] = True
) -> JobEstimate:
    """The JobEstimate of one job of the pipeline (``config``: validated, defaults filled in).
    A rule without a registered estimator gets UNKNOWN_RULE_S / UNKNOWN_RULE_MB and a warning naming
    the rule and the fix: a UserWarning, or ``warn(message)`` when ``warn`` is a callable (the workflow
    passes Snakemake's logger: Python warnings are not shown in its output)."""
    wildcards = {k: str(v) for k, v in dict(wildcards or {}).items()}
    fn = ESTIMATORS.get(rule)
    if fn is None:
        message = (
            f"hrta.pipeline has no runtime/memory estimator for rule {rule!r}; assuming "
            f"{UNKNOWN_RULE_S / 60:.0f} min and {format_mb(UNKNOWN_RULE_MB)} (register one with "
            "@job_estimator in hrta/pipeline/estimates.py)"
        )
        if callable(warn):
            warn(message)
        elif warn:
            warnings.warn(message, stacklevel=2)
        return JobEstimate(rule, wildcards, UNKNOWN_RULE_S, UNKNOWN_RULE_MB, known=False)
    seconds, mb = fn(config, wildcards)
    return JobEstimate(rule, wildcards, float(seconds), float(mb))


def _fixed(rule: str) -> float:
    return JOB_FIXED_S.get(rule, TORCH_JOB_FIXED_S)


def _dataset(config: Mapping, name: str) -> tuple[int, int, int]:
    return dataset_sizes(config["datasets"][name])


def _light_rule(rule: str, base_mb: float = PLOT_JOB_BASE_MB):
    """Figures, tables, reports, small data: a fixed cost per rule (measured), plus for the rules in
    PER_FILE_S a cost per training history they read (history_files: the E4 rules read one per E4 width and seed,
    claims_endpoints one per file of every experiment it compares)."""

    def estimate(config, wildcards):
        seconds = _fixed(rule)
        if rule in PER_FILE_S:
            experiments, per_file, smoke_files = PER_FILE_S[rule]
            experiments = experiments(config) if callable(experiments) else experiments
            seconds += per_file * (history_files(config, experiments) - smoke_files)  # JOB_FIXED_S: the smoke run's
        return max(seconds, 0.1), base_mb

    return estimate


def _train_files(config: Mapping, exp: str) -> int:
    """Training histories of experiment ``exp``: Σ over widths of its seeds (fewer for wide widths)."""
    sec = config[exp]
    return sum(len(wide_settings(config, exp, w).get("seeds", sec["seeds"])) for w in sec["widths"])


def history_files(config: Mapping, experiments) -> int:
    """History files the config has of ``experiments`` (those it lacks count 0): per training experiment one per
    width and seed (rule train), per claims sweep one per cell (claims_sweep or claims_gather)."""
    train, sweeps = set(training_experiments(config)), set(sweep_experiments(config))
    return sum(
        _train_files(config, exp) if exp in train else len(claims_jobs(config, exp)) if exp in sweeps else 0
        for exp in experiments
    )


#: rule -> (experiments, seconds per history file read, history files of those in the smoke run where JOB_FIXED_S
#: was measured): the slope between the smoke run and the default run at the calibration machine's speed (measured
#: CPU-s × the run's host speed). E4 rules: 3 → 10 E4 histories on the calibration machine (2026-12-03). table_e3
#: and claims_endpoints: the committed runtime checks of 2026-12-03 on an AMD EPYC host (benchmarks/
#: runtime_check_{smoke,default}.md): table_e3 0.92 s × 0.59 → 1.68 s × 0.63 over 2 → 13 E3 histories (0.047 s
#: each); claims_endpoints 7.60 s × 0.59 → 15.77 s × 0.63 over 20 → 52 histories of e3, e4, e8, e5, e6, e6_regime
#: (0.17 s each; its 22 → 24 comparisons do not explain the growth). docs/planning.md. claims_endpoints reads the
#: training experiments its comparisons name (endpoint_training_sources: e3, e4, e8 then; e3_long and e3_equal_init
#: since issue 24), e5 and the fairness sweeps: in the smoke config 20 files when its fixed cost was measured, 19 since
#: issue 24 (e4 is no smoke comparison's source, 5 files; e3_long and e3_equal_init 2 each), the anchor below; the
#: one file's 0.17 s is within that fixed cost's noise.
PER_FILE_S = {
    "e4_rates": (("e4",), 0.16, 5),
    "e4_horizons": (("e4",), 0.074, 5),
    "figures_e4": (("e4",), 1.0, 5),
    "table_e3": (("e3",), 0.047, 2),
    "claims_endpoints": (lambda config: [*endpoint_training_sources(config), "e5", *fairness_sweeps(config)], 0.17, 19),
}


@job_estimator("train")
def _train_job(config, wc):
    exp, width = wc["exp"], int(wc["width"])
    sec = config[exp]
    n, n_test, d = _dataset(config, sec["dataset"])
    model = dict(sec.get("model", {}), width=width)
    wide = wide_settings(config, exp, width)
    dtype, seconds = wide.get("dtype", config["dtype"]), _fixed("train")
    methods = [m for key, m in sec["methods"].items() if key in wide.get("methods", sec["methods"])]
    for opt in sec["optimizers"].values():
        for method in methods:
            steps = total_steps(method["schedule"])
            seconds += train_run_s(
                n=n,
                n_test=n_test,
                d=d,
                model=model,
                optimizer=opt,
                steps=steps,
                log_every=sec["log_every"],
                dtype=dtype,
            )
            if opt["optimizer"] == "gd":  # lr·λ_max of the analytic kernel for each s of the schedule
                seconds += len(schedule_s(method["schedule"])) * (analytic_ntk_s(n, d) + spectrum_s(n))
    mb, _ = config_train_job_mb(config, exp, width)
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("e2_analytic")
def _e2_analytic_job(config, wc):
    e2 = config["e2"]
    n, _, d = _dataset(config, e2["dataset"])
    grid = e2["s_grid"]
    count = len(set(linspace(grid["start"], grid["stop"], grid["num"])) | set(map(float, e2["s_empirical"])))
    seconds = _fixed("e2_analytic") + len(e2["layers"]) * count * (
        analytic_ntk_s(n, d, base=e2["base"]) + spectrum_s(n)
    )
    mb = kernel_job_mb(n=n, d=d, width=None, base=e2["base"], layers=e2["layers"], dtype=config["dtype"])
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("e2_empirical")
def _e2_empirical_job(config, wc):
    """Analytic references per (layers, s); per seed: ReLU base one chunked pass over the width
    (relu_kernel_grams: the same n×m×n GEMMs as one empirical NTK) then the kernel at every
    (layers, s) from the n×n grams; other bases one empirical NTK per (layers, s); a spectrum each."""
    e2, width = config["e2"], int(wc["width"])
    n, _, d = _dataset(config, e2["dataset"])
    kernels = len(e2["layers"]) * len(e2["s_empirical"])
    seconds = _fixed("e2_empirical") + kernels * (analytic_ntk_s(n, d, base=e2["base"]) + spectrum_s(n))
    if e2["base"] == "relu":
        per_seed = empirical_ntk_s(n, width) + kernels * spectrum_s(n)
    else:
        per_seed = kernels * (empirical_ntk_s(n, width) + spectrum_s(n))
    seconds += len(e2["seeds"]) * per_seed
    mb = e2_empirical_job_mb(
        n=n, d=d, width=width, base=e2["base"], layers=e2["layers"], dtype=config["dtype"], cached_kernels=kernels
    )
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("e4_theory")
def _e4_theory_job(config, wc):
    """Analytic cross-s kernels K_{s,t} for every pair of stage values; per seed one chunked pass over
    the width (relu_kernel_grams ≈ one empirical NTK), then per optimizer × method × kernel (analytic,
    empirical) the lazy prediction through the stages (an eigendecomposition and the curve per stage)
    and a spectrum per stage."""
    from hrta.schedules import parse_schedule  # noqa: PLC0415

    e4, width = config["e4"], int(wc["width"])
    n, _, d = _dataset(config, e4["dataset"])
    wide = wide_settings(config, "e4", width)
    seeds = wide.get("seeds", e4["seeds"])
    methods = [m for key, m in e4["methods"].items() if key in wide.get("methods", e4["methods"])]
    s_all = {st.s_start for m in methods for st in parse_schedule(m["schedule"]).stages}
    seconds = _fixed("e4_theory") + len(s_all) ** 2 * analytic_ntk_s(n, d)
    per_seed = empirical_ntk_s(n, width)
    for _opt in e4["optimizers"].values():
        for method in methods:
            for st in parse_schedule(method["schedule"]).stages:
                per_seed += 2 * (spectrum_s(n) + predict_curve_s(n, st.steps))
    seconds += len(seeds) * per_seed
    layers = ["both" if e4.get("model", {}).get("train_output", True) else "first"]
    dtype = wide.get("dtype", config["dtype"])
    mb = e2_empirical_job_mb(
        n=n, d=d, width=width, base="relu", layers=layers, dtype=dtype, cached_kernels=len(s_all) ** 2
    )
    return seconds, TORCH_JOB_BASE_MB + mb


def tune_widening_steps(optimizer: Mapping, max_steps: int) -> int:
    """The widening steps per method a tune part is expected to train beyond the grid (hrta.sweep_parts.widen_lr_grid)
    with ``optimizer``: GD 1 (its rate is bounded above by the stability limit lr·λ_max(K_s/n) < 2, which the grids
    around the configured rate reach: a diverged run is never chosen, so the optimum turns interior within a step;
    the default run's E6 GD tune part widened 2 of 5 methods by one step), any other optimizer ``max_steps`` (nothing
    bounds an adaptive optimizer's rate: in the default run of 2026-12-07 Adam widened 4 of 5 E6 methods by 10 steps,
    to 0.045 and the limit 0.064)."""
    return min(1, max_steps) if optimizer["optimizer"] == "gd" else max_steps


def _claims_runs(config: Mapping, exp: str, job: Mapping, part: str, optimizer: Mapping) -> tuple[int, int, int]:
    """(seeds, runs per method on the grid, runs per method with the kernel-scaled rate) of one claims job with
    ``optimizer`` (``job``: hrta.pipeline.jobs.claims_job): ``part`` "all" (rule claims_sweep: every factor on every
    seed of the job), "tune" (claims_tune: every factor on the tuning seeds plus the expected widening,
    :func:`tune_widening_steps`) or "seed<k>" (claims_score: the chosen factor, or without lr_choice every factor, on
    seed k; hrta.pipeline.jobs.fairness_parts)."""
    sec = config[exp]
    factors, choice = len(sec.get("lr_factors", [1.0])), sec.get("lr_choice")
    if part == "all":
        seeds = len(job["seeds"])
        return seeds, seeds * factors, seeds
    if part == "tune":
        seeds = len(choice["tuning_seeds"])
        return seeds, seeds * (factors + tune_widening_steps(optimizer, int(choice["max_steps"]))), 0
    return 1, 1 if choice else factors, 1


def _claims_job(config: Mapping, exp: str, cell: str, part: str) -> tuple[float, float]:
    """A claims sweep job: Σ over its runs of train_run_s, plus lr·λ_max(K_s/n) of its GD runs (one analytic kernel
    and spectrum per seed and s, cached) and, per run with the kernel-scaled rate, one per s of the schedules."""
    sec = config[exp]
    job = claims_job(config, exp, cell)
    model, dtype = job["model"], job["dtype"]
    optimizers = {k: v for k, v in sec["optimizers"].items() if k in job["optimizers"]}
    n, _, d = dataset_sizes(job["dataset"])
    kernel = sec.get("kernel_lr")
    runs = {name: _claims_runs(config, exp, job, part, opt) for name, opt in optimizers.items()}
    seeds, _, kernel_runs = next(iter(runs.values()))
    plans = [(opt, runs[name][1]) for name, opt in optimizers.items()]
    if kernel and kernel["optimizer"] in optimizers and kernel_runs:
        plans.append((optimizers[kernel["optimizer"]], kernel_runs))
    seconds, mb = 0.0, 0.0
    for opt, runs_per_method in plans:
        for method in sec["methods"].values():
            steps = total_steps(method["schedule"])
            seconds += runs_per_method * train_run_s(
                n=n, n_test=0, d=d, model=model, optimizer=opt, steps=steps, log_every=sec["log_every"], dtype=dtype
            )
        mb = max(mb, model_mb(model, n=n, n_test=0, d=d, optimizer=opt, dtype=dtype, device=config["device"]))
    rule = {"all": "claims_sweep", "tune": "claims_tune"}.get(part, "claims_score")
    seconds = _fixed(rule) + seconds
    base = model.get("base", "relu")
    s_all = {s for m in sec["methods"].values() for s in schedule_s(m["schedule"])}
    if any(opt["optimizer"] == "gd" for opt in optimizers.values()):  # lr·λ_max(K_s/n) of the GD runs, cached
        seconds += seeds * (analytic_ntks_s(n, d, len(s_all), base=base) + len(s_all) * spectrum_s(n))  # per seed
    if kernel and kernel_runs:  # the kernels of the schedule's s values, per run with the kernel-scaled rate
        for method in sec["methods"].values():
            k = len(schedule_s(method["schedule"]))
            seconds += kernel_runs * (analytic_ntks_s(n, d, k, base=base) + k * spectrum_s(n))
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("claims_sweep")
def _claims_sweep_job(config, wc):
    """E5 (one model, one seed) and E7 (one data set cell, every seed): the whole cell in one job."""
    return _claims_job(config, wc["exp"], wc["cell"], "all")


@job_estimator("claims_tune")
def _claims_tune_job(config, wc):
    """A fairness sweep's tune part (one optimizer): the grid on the tuning seeds."""
    return _claims_job(config, wc["exp"], wc["cell"], "tune")


@job_estimator("claims_score")
def _claims_score_job(config, wc):
    """A fairness sweep's scoring part (one optimizer, one seed)."""
    return _claims_job(config, wc["exp"], wc["cell"], f"seed{wc['seed']}")


@job_estimator("claim1_search")
def _claim1_search_job(config, wc):
    """A fixed cost (imports and the 2×2 figure) plus, per draw of each (n, d, constant feature), the kernel
    parts K_0, K_2 for every layer choice at once and, per layer choice, one λ_min curve over the s grid."""
    search = config["e2"]["lambda_min"]["search"]
    width, fine, coarse = search["fine_width"], search["fine_step"], search["coarse_step"]
    s_count = 2 * round(width / fine) + round((2 - 2 * width) / coarse)
    per_draw = 0.0
    for n in search["ns"]:
        for d in search["ds"]:
            for feature in search["constant_features"]:
                dim = d + int(feature)
                per_draw += search_kernel_parts_s(n, dim) + len(search["layers"]) * s_count * search_curve_point_s(n)
    seconds = _fixed("claim1_search") + search["draws"] * per_draw
    n_max = max(search["ns"])
    return seconds, TORCH_JOB_BASE_MB + 8 * 8 * n_max * n_max / MB


@job_estimator("e2_lambda_min")
def _e2_lambda_min_job(config, wc):
    """Analytic kernel (ReLU: relu_analytic_ntks, the angles once) and spectrum at every s of the refined grid,
    for each layer choice, per data set (the data set of the wildcard `name`, or every data set of the run)."""
    sets = run_datasets(config)
    if "name" in wc:
        sets = {wc["name"]: sets.get(wc["name"]) or _dataset(config, config["e2"]["dataset"])}
    e2, count = config["e2"], claim1_s_count(config)
    seconds = _fixed("e2_lambda_min")
    mb = 0.0
    for n, _, d in sets.values():
        if e2["base"] == "relu":  # relu_analytic_ntks: the angles once per layer choice, then n² work per s
            kernels = relu_analytic_ntks_s(n, d, count)
        else:
            kernels = count * analytic_ntk_s(n, d, base=e2["base"])
        seconds += len(e2["layers"]) * (kernels + count * spectrum_s(n))
        mb = max(mb, analytic_ntk_mb(n, d, base=e2["base"]) + 8 * 2 * n * n / MB)
    return seconds, TORCH_JOB_BASE_MB + mb


for _rule in (
    "dataset",
    "e4_rates",
    "e4_horizons",
    "figure_claims_matrix",
    "table_e2_lambda_min",
    "table_e4_horizons",
    "figure_e1_activations",
    "figures_e2",
    "figure_e3_loss",
    "figures_e4",
    "table_e2_spectrum",
    "table_e3",
    "table_e4",
    "claims_speedups",
    "table_claims_speedups",
    "figure_claims",
    "claims_report",
    "claims_endpoints",
    "claims_summary",
    "claims_gather",
):
    ESTIMATORS[_rule] = _light_rule(_rule)
ESTIMATORS["e1_activations"] = _light_rule("e1_activations", TORCH_JOB_BASE_MB)
ESTIMATORS["verify"] = _light_rule("verify", TORCH_JOB_BASE_MB)  # reads tables; imports torch for the host
ESTIMATORS["all"] = lambda config, wc: (0.0, 0.0)  # the target rule runs nothing


@job_estimator("deep_spectrum")
def _deep_spectrum_job(config, wc):
    deep = config["deep"]
    count = deep["s_grid"]["num"] + claim1_s_count(config)  # deep.s_grid ∪ claim 1's grid, at most
    seconds, mb = _fixed("deep_spectrum"), 0.0
    for n, _, d in run_datasets(config).values():  # claim 1's data sets, as deep_datasets()
        seconds += len(deep["depths"]) * count * spectrum_s(n)
        seconds += count * deep_analytic_ntk_s(n, d, max(deep["depths"]), base=deep["base"])  # one pass
        mb = max(mb, deep_kernel_job_mb(n=n, d=d, outputs=len(deep["depths"])))
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("deep_kernel_error")
def _deep_kernel_error_job(config, wc):
    deep = config["deep"]
    n, _, d = _dataset(config, deep["train"]["dataset"])
    conv, nets = deep["convergence"], deep_networks(config)
    s_count, seeds = len(conv["s_values"]), len(conv["seeds"])
    seconds = _fixed("deep_kernel_error")
    seconds += s_count * sum(deep_analytic_ntk_s(n, d, depth, base=deep["base"]) for depth in {len(w) for w in nets})
    seconds += s_count * seeds * sum(deep_empirical_ntk_s(n, d, w) + spectrum_s(n) for w in nets)
    mb = max(deep_kernel_job_mb(n=n, d=d, widths=w, dtype=config["dtype"]) for w in nets)
    return seconds, TORCH_JOB_BASE_MB + mb


@job_estimator("deep_train")
def _deep_train_job(config, wc):
    train = config["deep"]["train"]
    n, _, d = _dataset(config, train["dataset"])
    widths, depth = list(train["widths"]), len(train["widths"])
    seconds = _fixed("deep_train")
    for method in train["methods"].values():
        from hrta.schedules import parse_schedule  # noqa: PLC0415

        stages = parse_schedule(method["schedule"]).stages
        steps = total_steps(method["schedule"])
        seconds += steps * deep_step_s(n, d, widths, config["dtype"]) * (1 + 1 / (3 * train.get("log_every", 10)))
        seconds += len(stages) * (
            deep_analytic_ntk_s(n, d, depth, base=config["deep"]["base"])
            + deep_empirical_ntk_s(n, d, widths)
            + 2 * predict_curve_s(n, steps)
        )
    return seconds, TORCH_JOB_BASE_MB + deep_train_job_mb(n=n, d=d, widths=widths, dtype=config["dtype"])


@job_estimator("regime_table")
def _regime_table_job(config, wc):
    """One analytic kernel and spectrum per (data set, s) of every GD experiment (hrta.pipeline.jobs.regime_experiments:
    the training experiments and E7's cells)."""
    seconds = _fixed("regime_table")
    for settings in regime_experiments(config).values():
        if not settings["gd_lr"]:
            continue
        n, _, d = dataset_sizes(settings["dataset"])
        s_all = {s for schedule in settings["schedules"].values() for s in schedule_s(schedule)}
        seconds += len(s_all) * (analytic_ntk_s(n, d) + spectrum_s(n))
    return seconds, TORCH_JOB_BASE_MB


@job_estimator("regime_rates")
def _regime_rates_job(config, wc):
    """E8: a fixed cost (imports and the figure, job_fixed_s), every history read (≈ 0.16 s each, as e4_rates),
    one analytic kernel and spectrum per s of the runs and of the 20-point s grid of the figure."""
    e8 = config["e8"]
    n, _, d = _dataset(config, e8["dataset"])
    s_all = {s for m in e8["methods"].values() for s in schedule_s(m["schedule"])}
    seconds = _fixed("regime_rates") + 0.16 * _train_files(config, "e8")
    seconds += (len(s_all) + 20) * (analytic_ntk_s(n, d) + spectrum_s(n))
    return seconds, TORCH_JOB_BASE_MB


ESTIMATORS["figures_deep"] = _light_rule("figures_deep")
ESTIMATORS["tables_deep"] = _light_rule("tables_deep")
