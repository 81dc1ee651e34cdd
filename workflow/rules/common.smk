# Shared helpers: config validation, config slices handed to jobs as params, output lists.
# Every rule names workflow/envs/hrta.yaml as its conda environment (used only with
# `--sw-deployment-method conda`; by default jobs run in the current Python environment).
import math
import os
import re

from snakemake.exceptions import WorkflowError

from hrta.pipeline.config_schema import ConfigError, config_key, validate_config
from hrta.pipeline.jobs import training_experiments
from hrta.schedules import ScheduleError, parse_schedule

# Experiments trained by the generic `train` rule (workflow/rules/train.smk), namely every config section
# whose schema is `$ref: "#/$defs/training_experiment"` (hrta.pipeline.jobs.training_experiments).
# A new one needs its schema line and its config section, not a name here; absent ones are skipped.
TRAIN_EXPERIMENTS = training_experiments(config, os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml"))

S_RANGE = (0.0, 2.0)  # σ_s is the homotopy / relaxation family for s in [0, 2]

# Targets of `rule all`; every rules file appends its figures and tables.
FIGURES = []
TABLES = []

FIGURE_FORMATS = ["png", "pdf"]
TABLE_FORMATS = ["csv", "md", "tex"]


def check_schedule(spec, key, *, constant_stages=False):
    """Parse one schedule with hrta.schedules.parse_schedule; errors name the config key."""
    try:
        schedule = parse_schedule(spec)
    except ScheduleError as err:
        raise WorkflowError(f"invalid config: key '{key}': malformed schedule {spec!r}: {err}") from None
    for i, stage in enumerate(schedule.stages):
        for s in (stage.s_start, stage.s_end):
            if not S_RANGE[0] <= s <= S_RANGE[1]:
                raise WorkflowError(
                    f"invalid config: key '{key}': stage {i + 1} ({stage}) has s = {s}, "
                    f"outside the homotopy range [{S_RANGE[0]:g}, {S_RANGE[1]:g}]"
                )
        if constant_stages and stage.is_ramp:
            raise WorkflowError(
                f"invalid config: key '{key}': stage {i + 1} ({stage}) is a ramp; the NTK rate "
                "prediction needs constant-s stages"
            )
    return schedule


def check_finite(value, path=()):
    """Reject NaN/inf anywhere in the config (YAML .nan/.inf pass JSON-schema range checks)."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_finite(v, path + (i,))
    elif isinstance(value, float) and not math.isfinite(value):
        raise WorkflowError(
            f"invalid config: key '{config_key(path)}': non-finite number {value}; must be a finite number"
        )


# Counts that become file names or loop bounds: the schema's `integer` accepts 1.0, these must not.
INTEGER_LISTS = ["widths", "seeds", "budgets"]


def check_integers(config):
    for exp in ["e2"] + TRAIN_EXPERIMENTS:
        for key in INTEGER_LISTS:
            for i, v in enumerate(config[exp].get(key, [])):
                if not isinstance(v, int) or isinstance(v, bool):
                    raise WorkflowError(
                        f"invalid config: key '{exp}.{key}[{i}]': {v!r} is not an integer (write it without a decimal point)"
                    )


def check_memory_cap(config):
    """resources.max_mem_mb: refuse a config whose training or kernel job would need more (hrta.pipeline)."""
    cap = config["resources"].get("max_mem_mb")
    if cap is None or cap == "auto":  # auto: checked per job (job_resources), where the cap is known
        return
    from hrta.pipeline.memory import ResourceError, check_pipeline_memory  # torch import: only with a cap

    try:
        check_pipeline_memory(config, cap, train_experiments=TRAIN_EXPERIMENTS)
    except ResourceError as err:
        raise WorkflowError(f"invalid config: key 'resources.max_mem_mb': {err}") from None


def check_dataset_files(config):
    """A user's data set ({file: PATH}): the file is read and validated (hrta.datafiles.check_dataset_file),
    and refused where an experiment would redraw it: `vary_data_seed` of any training experiment or claims
    sweep (a new draw per seed) and E7 (its cells vary the target and n_train)."""
    from hrta.data import DataError
    from hrta.datafiles import check_dataset_file

    files = {name: ds["file"] for name, ds in config["datasets"].items() if "file" in ds}
    for name, path in files.items():
        try:
            check_dataset_file(path, f"datasets.{name}.file")
        except DataError as err:
            raise WorkflowError(f"invalid config: {err}") from None
    from hrta.pipeline.jobs import sweep_experiments

    schema = os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml")
    for exp in TRAIN_EXPERIMENTS + sweep_experiments(config, schema):  # e3, e4, e8, e5–e7, e6_regime, ...
        section = config.get(exp) or {}
        name = section.get("dataset")
        if name not in files:
            continue
        if section.get("vary_data_seed"):
            raise WorkflowError(
                f"invalid config: key '{exp}.vary_data_seed': data set {name!r} is a file "
                f"(datasets.{name}.file = {files[name]!r}), which has one draw; set {exp}.vary_data_seed: false"
            )
        if exp == "e7":
            raise WorkflowError(
                f"invalid config: key 'e7.dataset': data set {name!r} is a file (datasets.{name}.file); "
                "E7 varies the target and n_train of a built-in data set"
            )


def check_paired_output_init(config):
    """output_init antisymmetric pairs unit k with unit k + m/2: every width of such a network must be even."""
    from hrta.pipeline.config_schema import check_paired_widths
    from hrta.pipeline.jobs import sweep_experiments

    schema = os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml")
    try:
        check_paired_widths(config, TRAIN_EXPERIMENTS, sweep_experiments(config, schema))
    except ConfigError as err:
        raise WorkflowError(str(err)) from None


def check_config(config, schema):
    """Validate the config (schema, then cross-references and schedules) before any job runs."""
    check_finite(config)
    try:  # the schema with the registered base activations (hrta.bases); fills in defaults
        validate_config(config, os.path.join(workflow.basedir, schema))
    except ConfigError as err:
        raise WorkflowError(str(err)) from None
    check_integers(config)
    check_paired_output_init(config)
    check_dataset_files(config)
    for exp in ["e2"] + TRAIN_EXPERIMENTS:
        name = config[exp]["dataset"]
        if name not in config["datasets"]:
            raise WorkflowError(
                f"invalid config: key '{exp}.dataset': unknown dataset {name!r}; "
                f"defined under 'datasets': {', '.join(config['datasets'])}"
            )
    if config["e1"]["z_min"] >= config["e1"]["z_max"]:
        raise WorkflowError("invalid config: key 'e1.z_min': must be smaller than e1.z_max")
    if config["e2"]["s_grid"]["start"] >= config["e2"]["s_grid"]["stop"]:
        raise WorkflowError("invalid config: key 'e2.s_grid.start': must be smaller than e2.s_grid.stop")
    for exp in TRAIN_EXPERIMENTS:
        totals = {}
        for name, method in config[exp]["methods"].items():
            key = f"{exp}.methods.{name}.schedule"
            schedule = check_schedule(method["schedule"], key, constant_stages=(exp in ("e4", "e8")))
            totals[name] = schedule.total_steps
        # Methods are compared at equal step budgets.
        if len(set(totals.values())) > 1:
            listing = ", ".join(f"{k}: {v}" for k, v in totals.items())
            raise WorkflowError(
                f"invalid config: key '{exp}.methods': all schedules must have the same total number "
                f"of steps so methods are compared at equal budgets; got {listing}"
            )
        for name, opt in config[exp]["optimizers"].items():
            if opt.get("lr_schedule") == "step" and "lr_step_every" not in opt:
                raise WorkflowError(
                    f"invalid config: key '{exp}.optimizers.{name}.lr_step_every': required when lr_schedule is 'step'"
                )
            if opt["optimizer"] == "sgd" and "batch_size" not in opt:
                raise WorkflowError(
                    f"invalid config: key '{exp}.optimizers.{name}.batch_size': required for optimizer 'sgd'"
                )
    total = config["e3"]["methods"]
    steps = parse_schedule(next(iter(total.values()))["schedule"]).total_steps
    for i, budget in enumerate(config["e3"]["budgets"]):
        if budget > steps:
            raise WorkflowError(
                f"invalid config: key 'e3.budgets[{i}]': budget {budget} exceeds the {steps} steps of the e3 schedules"
            )
    check_dataset_dims(config)
    for i, c in enumerate(config["claims"].get("endpoints", {}).get("comparisons", [])):
        if c["source"] == "e8" and not config.get("e8"):
            raise WorkflowError(
                f"invalid config: key 'claims.endpoints.comparisons[{i}].source': e8, but the config has no 'e8' section"
            )
    if "e8" in TRAIN_EXPERIMENTS:
        check_regime(config)
    check_memory_cap(config)
    report_config_warnings(config)


def report_config_warnings(config):
    """Valid but silently incomplete configs (hrta.pipeline.lint: methods in no reading, ...): one
    warning each in the planning run's output (so in every `snakemake -n`), not in every job's."""
    if workflow.remote_exec or workflow.subprocess_exec:
        return
    from hrta.pipeline.lint import config_warnings

    for message in config_warnings(config):
        _warn_once(message)


def check_dataset_dims(config):
    """datasets.*.dim: only for the targets of configurable dimension (hrta.data.DIM_TARGETS)."""
    from hrta.data import DIM_TARGETS

    for name, ds in config["datasets"].items():
        if "dim" in ds and ds["target"] not in DIM_TARGETS:
            raise WorkflowError(
                f"invalid config: key 'datasets.{name}.dim': only for the targets {', '.join(DIM_TARGETS)}, "
                f"not {ds['target']!r} (its dimension is fixed)"
            )
        if ds.get("dim") == 1:
            raise WorkflowError(f"invalid config: key 'datasets.{name}.dim': must be at least 2 (a sphere in R^dim)")


def check_regime(config):
    """E8: GD must be stable at every s it trains (lr·λ_max(K_s/n) < 2, analytic kernel of e8's data set;
    numpy only, milliseconds). Whether lr·λ_min(K_s/n)·T ≥ 10 is not required; it is reported
    (figures/tables/regime.csv, the log of rule regime_rates)."""
    from hrta.datafiles import dataset_from_config
    from hrta.pipeline.jobs import schedule_s
    from hrta.regime import relu_ntk, spectrum_ends

    e8 = config["e8"]
    if e8.get("model", {}).get("base", "relu") != "relu":
        raise WorkflowError("invalid config: key 'e8.model.base': must be 'relu' (closed-form kernel)")
    X = dataset_from_config(config["datasets"][e8["dataset"]]).X_train  # a user's file too
    layers = "both" if e8.get("model", {}).get("train_output", True) else "first"
    s_all = sorted({s for m in e8["methods"].values() for s in schedule_s(m["schedule"])})
    lam = {s: spectrum_ends(relu_ntk(X, s, layers)) for s in s_all}
    for name, opt in e8["optimizers"].items():
        for s in s_all:
            if opt["lr"] * lam[s][1] >= 2:
                raise WorkflowError(
                    f"invalid config: key 'e8.optimizers.{name}.lr': lr·λ_max(K_s/n) = {opt['lr'] * lam[s][1]:.3g} ≥ 2 "
                    f"at s = {s:g} (λ_max = {lam[s][1]:.3g}): GD diverges; use lr < {2 / lam[s][1]:.3g}"
                )


# ---------------------------------------------------------------------------------------------
# Config slices handed to jobs as params: only what the job depends on, so changing one width or
# one schedule re-runs only the affected jobs (Snakemake re-runs a job when its params change).
# Slices are key-sorted (canonical) because Snakemake compares params including dict order: a
# reordered YAML file must not re-run anything. Where order is presentation (legend and table
# order of methods and optimizers), it is passed explicitly as a list.


def canonical(value):
    """Recursively key-sorted copy of a config slice (hrta.pipeline.jobs.canonical)."""
    from hrta.pipeline.jobs import canonical as key_sorted

    return key_sorted(value)


def order(exp, key):
    """Presentation order of e.g. config[exp]['methods'] (the order written in the config)."""
    return list(config[exp][key])


def dataset_config(name):
    from hrta.pipeline.jobs import dataset_config as named

    return named(config, name)


def dataset_file(name):
    return f"data/datasets/{name}.npz"


def wide(exp, width):
    """config[exp]['wide'] when `width` is at or above its min_width, else {} (hrta.pipeline.jobs.wide_settings)."""
    from hrta.pipeline.jobs import wide_settings

    return wide_settings(config, exp, width)


def train_settings(exp, width=None):
    """Everything a training job of experiment `exp` depends on, except its width and seed (the
    dtype may depend on the width: config[exp]['wide'])."""
    section = config[exp]
    dtype = wide(exp, width).get("dtype", config["dtype"]) if width is not None else config["dtype"]
    return canonical(
        {
            "experiment": exp,
            "dataset": dataset_config(section["dataset"]),
            "model": dict(section["model"]),
            "methods": {
                k: dict(v) for k, v in section["methods"].items() if k in wide(exp, width or 0).get("methods", [k])
            },
            "optimizers": {k: dict(v) for k, v in section["optimizers"].items()},
            "log_every": section["log_every"],
            "divergence_threshold": section["divergence_threshold"],
            **({"vary_data_seed": True} if section.get("vary_data_seed") else {}),
            "dtype": dtype,
            "device": config["device"],
        }
    )


def train_file(exp, width, seed, kind="history"):
    """data/train/{exp}/w{width}_seed{seed}.csv (history) or ..._runs.csv (one row per run)."""
    suffix = "" if kind == "history" else f"_{kind}"
    return f"data/train/{exp}/w{width}_seed{seed}{suffix}.csv"


def train_files(exp, kind="history"):
    from hrta.pipeline.jobs import training_jobs

    return [train_file(exp, w, s, kind) for w, s in training_jobs(config, exp)]


def figure_files(name):
    return [f"figures/{name}.{ext}" for ext in FIGURE_FORMATS]


def table_files(name):
    return [f"figures/tables/{name}.{ext}" for ext in TABLE_FORMATS]


def e2_settings():
    e2 = config["e2"]
    return canonical(
        {
            "dataset": dataset_config(e2["dataset"]),
            "base": e2["base"],
            "layers": list(e2["layers"]),
            "dtype": config["dtype"],
            "device": config["device"],
        }
    )


def table_outputs(name):
    """Named outputs csv, md, tex of figures/tables/{name}."""
    return {ext: f"figures/tables/{name}.{ext}" for ext in TABLE_FORMATS}


def figure_outputs(name, category, key=None):
    """Named outputs {key}_png (in the report, with its caption) and {key}_pdf of figures/{name}."""
    prefix = f"{key}_" if key else ""
    caption = f"../report/{name}.rst"
    if not os.path.exists(os.path.join(workflow.basedir, "workflow", "report", f"{name}.rst")):
        _warn_once(
            f"figure {name!r} has no caption: add workflow/report/{name}.rst (one paragraph of reStructuredText, "
            "named after the figure); `snakemake --report` fails without it"
        )
    return {
        f"{prefix}png": report(f"figures/{name}.png", caption=caption, category=category),
        f"{prefix}pdf": f"figures/{name}.pdf",
    }


# ---------------------------------------------------------------------------------------------
# Requests from estimates (hrta.pipeline). Every rule declares `resources` as `**job_resources("name")`;
# its runtime (minutes) and mem_mb are hrta.pipeline's estimate of that very job (rule + wildcards)
# times a safety factor (config resources.runtime_factor, mem_factor; hrta.pipeline.job_requests),
# and a job whose estimate exceeds resources.max_mem_mb or resources.max_runtime is refused while
# Snakemake builds the DAG, so before any job runs (a dry run too). Estimators are registered per
# rule in hrta/pipeline/estimates.py (@job_estimator); a rule without one gets a generous default and a warning.
_JOB_ESTIMATES = {}
_WARNED = set()


def _warn_once(message):
    if message not in _WARNED:
        from snakemake.logging import logger

        _WARNED.add(message)
        logger.warning(f"hrta warning: {message}")


def job_estimate(rule, wildcards):
    """hrta.pipeline.estimates.estimate_job for this rule and wildcards (cached per job)."""
    key = (rule, tuple(sorted(wildcards.items())))
    if key not in _JOB_ESTIMATES:
        import warnings

        from hrta.pipeline.estimates import estimate_job
        from hrta.pipeline.runtime import UncalibratedBaseWarning

        # A rule without an estimator is named (once) in Snakemake's output, so in every dry run;
        # Python warnings are not shown there. An uncalibrated base is named once already, by the config's
        # lint (hrta.pipeline.lint.base_warnings): its per-estimate Python warnings would only repeat it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UncalibratedBaseWarning)
            _JOB_ESTIMATES[key] = estimate_job(rule, dict(wildcards.items()), config, warn=_warn_once)
    return _JOB_ESTIMATES[key]


def memory_cap_mb():
    """resources.max_mem_mb in MB for the up-front check, or None. 'auto': the memory available on
    this machine for a local run or a dry run; with a cluster executor each job's cap is its own
    mem_mb request (estimate × mem_factor ≥ estimate), which the job re-checks where it runs."""
    cap = config["resources"]["max_mem_mb"]
    if cap == "auto" and workflow.non_local_exec:
        return None
    from hrta.pipeline.cluster import resolve_memory_cap

    return resolve_memory_cap(cap)


def job_resources(rule):
    """{mem_mb, runtime} callables of `rule` for its `resources:` (see the block comment above)."""

    def checked(wildcards):
        from hrta.pipeline.memory import ResourceError
        from hrta.pipeline.cluster import check_job_limits

        estimate = job_estimate(rule, wildcards)
        # Checked once, where Snakemake plans the run; not again in the process that runs one job (there
        # the scripts re-check their own memory on the data they load), nor for hrta.plan (lists them all).
        if os.environ.get("HRTA_PLAN") != "1" and not (workflow.remote_exec or workflow.subprocess_exec):
            try:
                check_job_limits(estimate, config["resources"], memory_cap_mb=memory_cap_mb())
            except ResourceError as err:
                raise WorkflowError(f"job refused before it runs: {err}") from None
        return estimate

    def mem_mb(wildcards, attempt):
        from hrta.pipeline.cluster import job_requests

        return job_requests(checked(wildcards), config["resources"], attempt)[1]

    def runtime(wildcards, attempt):
        from hrta.pipeline.cluster import job_requests

        return job_requests(checked(wildcards), config["resources"], attempt)[0]

    return {"mem_mb": mem_mb, "runtime": runtime}
