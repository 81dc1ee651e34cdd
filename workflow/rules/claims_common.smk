# Helpers of the claims rules (workflow/rules/claims.smk): config cross-checks, the cells of the
# E5–E7 sweeps and the config slice each sweep job depends on. No rules here (lint: one kind per file).

from hrta.pipeline.jobs import endpoint_training_sources, fairness_parts, fairness_sweeps, sweep_experiments

CLAIMS_SWEEPS = sweep_experiments(config)  # e5–e7 and, when the config has it, e6_regime (discovered from the schema)
FAIRNESS_SWEEPS = fairness_sweeps(config)  # the sweeps with a learning-rate grid: e6, e6_regime
# One job per cell (the claims_sweep rule): E5 (per model × seed) and E7; a fairness sweep's cell is trained in parts
# (claims_tune, claims_score) and joined by claims_gather.
WHOLE_SWEEPS = [exp for exp in CLAIMS_SWEEPS if exp not in FAIRNESS_SWEEPS]
# The training experiments claims_endpoints reads (e3, e4, e8, e3_long, ...): those its comparisons name (discovered).
ENDPOINT_TRAIN_SOURCES = endpoint_training_sources(config)
# The metric-by-metric speed-ups (claims_speedups, claims_parts.md) read E5–E7; e6_regime feeds the endpoints only.
METRIC_SWEEPS = ["e5", "e6", "e7"]


def _check_claims_config():
    """Cross-checks the schema cannot express; errors name the config key (run before any job)."""
    for exp in CLAIMS_SWEEPS:
        section = config[exp]
        if section["dataset"] not in config["datasets"]:
            raise WorkflowError(
                f"invalid config: key '{exp}.dataset': unknown dataset {section['dataset']!r}; "
                f"defined under 'datasets': {', '.join(config['datasets'])}"
            )
        if section["baseline"] not in section["methods"]:
            raise WorkflowError(
                f"invalid config: key '{exp}.baseline': {section['baseline']!r} is not one of "
                f"{exp}.methods ({', '.join(section['methods'])})"
            )
        totals = {
            name: check_schedule(m["schedule"], f"{exp}.methods.{name}.schedule").total_steps
            for name, m in section["methods"].items()
        }
        if len(set(totals.values())) > 1:
            raise WorkflowError(
                f"invalid config: key '{exp}.methods': all schedules must have the same total "
                f"number of steps; got {totals}"
            )
        for name, opt in section["optimizers"].items():
            if opt.get("lr_schedule") == "step" and "lr_step_every" not in opt:
                raise WorkflowError(
                    f"invalid config: key '{exp}.optimizers.{name}.lr_step_every': required "
                    "when lr_schedule is 'step'"
                )
    for name, spec in config["e5"]["models"].items():
        if re.search(r"_seed\d+$", name):
            raise WorkflowError(
                f"invalid config: key 'e5.models.{name}': a model name must not end in _seed<k> (E5's jobs are "
                "named <model>_seed<k>)"
            )
        for i, seed in enumerate(spec.get("seeds", [])):
            if seed not in config["e5"]["seeds"]:
                raise WorkflowError(
                    f"invalid config: key 'e5.models.{name}.seeds[{i}]': {seed} is not one of e5.seeds {config['e5']['seeds']}"
                )
        for i, opt in enumerate(spec.get("optimizers", [])):
            if opt not in config["e5"]["optimizers"]:
                raise WorkflowError(
                    f"invalid config: key 'e5.models.{name}.optimizers[{i}]': {opt!r} is not one of "
                    f"e5.optimizers ({', '.join(config['e5']['optimizers'])})"
                )
    for exp in [*FAIRNESS_SWEEPS, "e7"]:
        if "optimizers" in config[exp]["model"]:
            raise WorkflowError(
                f"invalid config: key '{exp}.model.optimizers': only e5's models choose optimizers; "
                f"{exp} trains its model with every one of {exp}.optimizers"
            )
    for exp in FAIRNESS_SWEEPS:
        _check_fairness_sweep(exp)
    if config["claims"]["e3_baseline"] not in config["e3"]["methods"]:
        raise WorkflowError(f"invalid config: key 'claims.e3_baseline': not one of e3.methods")
    known = set(config["e3"]["methods"]) | set(config["e5"]["methods"]) | set(config["e6"]["methods"])
    readings = config["claims"]["readings"]
    for reading, spec in readings.items():
        for i, name in enumerate(spec["methods"]):
            if name not in known:
                raise WorkflowError(
                    f"invalid config: key 'claims.readings.{reading}.methods[{i}]': {name!r} is not a method of "
                    "e3, e5 or e6"
                )
    from hrta.pipeline.config_schema import ConfigError
    from hrta.pipeline.lint import check_declared_absences

    try:  # claims.readings.<name>.not_trained_in: each declared absence is true
        check_declared_absences(config)
    except ConfigError as err:
        raise WorkflowError(str(err)) from None
    for cid, reading in config["claims"]["decided_on"].items():
        if reading not in readings:
            raise WorkflowError(
                f"invalid config: key 'claims.decided_on.{cid}': {reading!r} is not one of claims.readings "
                f"({', '.join(readings)})"
            )
    readable = [*TRAIN_EXPERIMENTS, "e5", *FAIRNESS_SWEEPS]  # the sections claims_endpoints takes cells from
    for i, c in enumerate(config["claims"]["endpoints"]["comparisons"]):
        key = f"claims.endpoints.comparisons[{i}]"
        if not config.get(c["source"]):
            raise WorkflowError(f"invalid config: key '{key}.source': the config has no section {c['source']!r}")
        if c["source"] not in readable:
            raise WorkflowError(
                f"invalid config: key '{key}.source': {c['source']!r} is not a training experiment, e5 or a fairness "
                f"sweep ({', '.join(readable)})"
            )
        methods = config[c["source"]]["methods"]
        for role in ("treatment", "control"):
            if c[role] not in methods:
                raise WorkflowError(
                    f"invalid config: key '{key}.{role}': {c[role]!r} is not a method of {c['source']} "
                    f"({', '.join(methods)})"
                )
        fairness = c["source"] in FAIRNESS_SWEEPS
        if fairness != ("lr_choice" in c):
            raise WorkflowError(
                f"invalid config: key '{key}.lr_choice': required for a fairness sweep ({', '.join(FAIRNESS_SWEEPS)}) "
                "and only there"
            )
        if c.get("lr_choice") == "kernel" and not config[c["source"]].get("kernel_lr"):
            raise WorkflowError(f"invalid config: key '{key}.lr_choice': 'kernel' needs {c['source']}.kernel_lr")
        if c.get("lr_choice") == "best" and not config[c["source"]].get("lr_choice"):
            raise WorkflowError(f"invalid config: key '{key}.lr_choice': 'best' needs {c['source']}.lr_choice")
    sources = {c["source"] for c in config["claims"]["endpoints"]["comparisons"]}
    for name in config["claims"]["endpoints"].get("variants") or {}:
        if name not in sources:
            raise WorkflowError(
                f"invalid config: key 'claims.endpoints.variants.{name}': {name!r} is the source of no comparison in "
                f"claims.endpoints.comparisons ({', '.join(sorted(sources))})"
            )
    # issue 24: each finding's headline cell is a registered comparison of the finding's claim
    comparisons = config["claims"]["endpoints"]["comparisons"]
    for fid, spec in (config["claims"]["endpoints"].get("findings") or {}).items():
        head = spec.get("headline")
        if not head:
            continue
        key = f"claims.endpoints.findings.{fid}.headline"
        match = [
            c
            for c in comparisons
            if c.get("counted_with", c["claim"]) == spec["claim"]
            and all(c[k] == head[k] for k in ("source", "treatment", "control"))
            and c.get("lr_choice") == head.get("lr_choice", c.get("lr_choice"))
        ]
        if not match:
            raise WorkflowError(
                f"invalid config: key '{key}': {head['treatment']!r} vs {head['control']!r} on {head['source']} is no "
                f"comparison of claim {spec['claim']} in claims.endpoints.comparisons"
            )
        opts = config[head["source"]].get("optimizers", {})
        if "optimizer" in head and head["optimizer"] not in opts:
            raise WorkflowError(
                f"invalid config: key '{key}.optimizer': {head['optimizer']!r} is not an optimizer of {head['source']} "
                f"({', '.join(opts)})"
            )


def _check_fairness_sweep(exp):
    """A fairness sweep's rate settings (e6, e6_regime): the kernel-scaled rate, the held-out seeds, the grid's step."""
    section = config[exp]
    kernel = section.get("kernel_lr")
    if kernel and section["model"]["kind"] != "two_layer":
        raise WorkflowError(
            f"invalid config: key '{exp}.kernel_lr': the kernel-scaled rate uses the two-layer "
            f"analytic kernel; {exp}.model.kind must be 'two_layer'"
        )
    if kernel:
        opt = section["optimizers"].get(kernel["optimizer"])
        if opt is None or opt["optimizer"] != "gd" or opt.get("lr_schedule", "constant") != "constant":
            raise WorkflowError(
                f"invalid config: key '{exp}.kernel_lr.optimizer': must name a GD optimizer of "
                f"{exp}.optimizers with a constant learning rate"
            )
    choice = section.get("lr_choice")
    if not choice:
        return
    for i, seed in enumerate(choice["tuning_seeds"]):
        if seed not in section["seeds"]:
            raise WorkflowError(
                f"invalid config: key '{exp}.lr_choice.tuning_seeds[{i}]': {seed} is not one of {exp}.seeds {section['seeds']}"
            )
    if len(section["seeds"]) - len(choice["tuning_seeds"]) < 2:
        raise WorkflowError(
            f"invalid config: key '{exp}.lr_choice.tuning_seeds': leaves fewer than 2 of {exp}.seeds to score the chosen rates"
        )
    factors = sorted(float(f) for f in section["lr_factors"])
    if choice.get("criterion") == "time_to_target" and 1.0 not in factors:
        raise WorkflowError(
            f"invalid config: key '{exp}.lr_factors': lr_choice.criterion time_to_target takes its targets from the "
            f"baseline at its configured rate, so the factors must hold 1.0 (got {factors})"
        )
    for lo, hi in zip(factors, factors[1:]):
        if abs(hi / lo - float(choice["step"])) > 1e-3 * float(choice["step"]):
            raise WorkflowError(
                f"invalid config: key '{exp}.lr_factors': neighbouring factors {lo:g}, {hi:g} are not one step "
                f"({exp}.lr_choice.step = {choice['step']:g}) apart"
            )


_check_claims_config()


def claims_settings():
    """config["claims"] as the claims jobs read it (hrta.pipeline.jobs.claims_settings: without the readings'
    `not_trained_in`, which no job reads)."""
    from hrta.pipeline.jobs import claims_settings as settings

    return settings(config)


def e7_cells():
    """{cell: (target, n_train)} of E7 (hrta.pipeline.jobs.e7_cells)."""
    from hrta.pipeline.jobs import e7_cells as cells

    return cells(config)


def claims_cells(exp):
    """The claims sweep jobs of `exp` (hrta.pipeline.jobs.claims_jobs: E5 per model × seed, E6 per optimizer,
    E7 per data set cell)."""
    from hrta.pipeline.jobs import claims_jobs

    return claims_jobs(config, exp)


def claims_sweep_settings(exp, cell):
    """Everything one sweep job depends on (workflow/scripts/claims_sweep.py), key-sorted (see canonical)."""
    from hrta.pipeline.jobs import claims_job

    section = config[exp]
    job = claims_job(config, exp, cell)
    dataset = dataset_config(section["dataset"])
    if exp == "e7":
        dataset.update(target=job["dataset"]["target"], n_train=job["dataset"]["n_train"], name=job["cell"])
    return canonical(
        {
            "experiment": exp,
            "cell": job["cell"],
            "dataset": dataset,
            "model": job["model"],
            "methods": {k: dict(v) for k, v in section["methods"].items()},
            "optimizers": {k: dict(v) for k, v in section["optimizers"].items() if k in job["optimizers"]},
            "lr_factors": list(section.get("lr_factors", [1.0])),
            "kernel_lr": (
                dict(section["kernel_lr"])
                if section.get("kernel_lr") and section["kernel_lr"]["optimizer"] in job["optimizers"]
                else None
            ),
            "seeds": job["seeds"],
            "log_every": section["log_every"],
            "divergence_threshold": section["divergence_threshold"],
            "vary_data_seed": bool(section.get("vary_data_seed", False)),
            "baseline": section["baseline"],
            "lr_choice": fairness_lr_choice(exp),
            "dtype": job["dtype"],
            "device": config["device"],
        }
    )


def fairness_lr_choice(exp):
    """A fairness sweep's lr_choice as its jobs read it: with criterion time_to_target, the endpoints'
    target_fractions added (the targets the tuning measures time to); None without lr_choice."""
    section = config[exp]
    if exp not in FAIRNESS_SWEEPS or not section.get("lr_choice"):
        return None
    choice = dict(section["lr_choice"])
    if choice.get("criterion") == "time_to_target":
        choice["target_fractions"] = list(config["claims"]["endpoints"]["target_fractions"])
    return choice


def claims_part_settings(exp, cell, part):
    """The settings of one part of a fairness-sweep cell (hrta.pipeline.jobs.fairness_parts): the cell's settings,
    `part`, and the seeds the part trains (the tuning seeds, or the one scoring seed)."""
    settings = claims_sweep_settings(exp, cell)
    seeds = settings["lr_choice"]["tuning_seeds"] if part == "tune" else [int(part.removeprefix("seed"))]
    return canonical(dict(settings, part=part, seeds=list(seeds)))


def claims_choice_file(exp, cell):
    """The tune part's learning-rate choice a scoring part reads ([] without lr_choice)."""
    return [f"data/claims/{exp}/parts/{cell}_choice.csv"] if config[exp].get("lr_choice") else []


def claims_choice_files():
    """Every fairness sweep cell's learning-rate choice (CLAIMS.md's section "Tuned learning rates")."""
    return [path for exp in FAIRNESS_SWEEPS for cell in claims_cells(exp) for path in claims_choice_file(exp, cell)]


def claims_tuning_settings():
    """{sweep: its lr_choice, lr_factors and each optimizer's configured lr} of the fairness sweeps with lr_choice."""
    return canonical(
        {
            exp: {
                "lr_choice": fairness_lr_choice(exp),
                "lr_factors": list(config[exp]["lr_factors"]),
                "lr": {name: opt["lr"] for name, opt in config[exp]["optimizers"].items()},
            }
            for exp in FAIRNESS_SWEEPS
            if config[exp].get("lr_choice")
        }
    )


def claims_part_files(exp, cell):
    """The inputs of claims_gather (the gather rule), the parts' histories and runs (tune first, then the scoring
    seeds in the config's order) and the choice."""
    parts = fairness_parts(config, exp)
    return {
        "histories": [f"data/claims/{exp}/parts/{cell}_{part}_history.csv" for part in parts],
        "runs": [f"data/claims/{exp}/parts/{cell}_{part}_runs.csv" for part in parts],
        "choice": claims_choice_file(exp, cell),
    }


def claims_sweep_files(exp, kind):
    return [f"data/claims/{exp}/{cell}_{kind}.csv" for cell in claims_cells(exp)]
