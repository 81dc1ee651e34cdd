"""Which jobs a config makes: the one definition the Snakefiles (workflow/rules/*.smk), the estimates
(hrta.pipeline.estimates, hrta.pipeline.memory) and the plan (hrta.pipeline.plan) all call.

Torch-free (Snakemake calls it while it builds the DAG). ``config`` is a validated pipeline config
(workflow/schemas/config.schema.yaml, defaults filled in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

__all__ = [
    "SCHEMA_FILE",
    "canonical",
    "claim1_datasets",
    "claim1_s_count",
    "claim1_s_grid",
    "claims_job",
    "claims_jobs",
    "claims_settings",
    "data_draws",
    "dataset_config",
    "dataset_sizes",
    "deep_networks",
    "e7_cells",
    "e7_dataset",
    "endpoint_training_sources",
    "fairness_parts",
    "fairness_scoring_seeds",
    "fairness_sweeps",
    "is_fairness_sweep",
    "linspace",
    "regime_experiments",
    "run_datasets",
    "schedule_s",
    "schema_document",
    "sweep_experiments",
    "total_steps",
    "training_experiments",
    "training_jobs",
    "training_seeds",
    "wide_settings",
    "wildcard_jobs",
]


def dataset_sizes(dataset: dict) -> tuple[int, int, int]:
    """(n, n_test, d) of one data set config; a user's file (``{file: PATH}``) is read (numpy, no torch)."""
    from hrta.data import get_target  # noqa: PLC0415
    from hrta.datafiles import dataset_file_sizes  # noqa: PLC0415

    if "file" in dataset:
        return dataset_file_sizes(dataset["file"], constant_feature=bool(dataset.get("constant_feature", False)))
    dim = dataset.get("dim") or get_target(dataset["target"]).d  # `dim`: targets of configurable dimension
    d = int(dim) + (1 if dataset.get("constant_feature", True) else 0)
    return int(dataset["n_train"]), int(dataset["n_test"]), d


def schedule_s(spec) -> set[float]:
    from hrta.schedules import parse_schedule  # noqa: PLC0415

    return {s for st in parse_schedule(spec).stages for s in (st.s_start, st.s_end)}


def total_steps(spec) -> int:
    from hrta.schedules import parse_schedule  # noqa: PLC0415

    return parse_schedule(spec).total_steps


def linspace(start: float, stop: float, num: int) -> list[float]:
    if num == 1:
        return [float(start)]
    return [start + (stop - start) * i / (num - 1) for i in range(num)]


def wide_settings(config: Mapping, exp: str, width: int) -> dict:
    """config[exp]['wide'] when ``width`` is at or above its min_width (fewer seeds and methods, another
    dtype), else {}. The one definition: the workflow's ``wide()`` (workflow/rules/common.smk) calls it."""
    w = config[exp].get("wide") or {}
    return w if w and width >= w["min_width"] else {}


def e7_cells(config: Mapping) -> dict[str, tuple[str, int]]:
    """{cell: (target, n_train)} of E7: the reference data set with n_train varied, then with the target (d) varied."""
    ref = config["datasets"][config["e7"]["dataset"]]
    cells = [(ref["target"], n) for n in config["e7"]["n_train"]]
    cells += [(t, ref["n_train"]) for t in config["e7"]["targets"]]
    return {f"{t}_n{n}": (t, n) for t, n in dict.fromkeys(cells)}


def regime_experiments(config: Mapping) -> dict[str, dict]:
    """Every data set the run trains on with GD at a fixed rate, as the regime tables see it: {key: {dataset (the
    config entry with its name; the seed-0 draw), layers ("both" or "first"), gd_lr {optimizer: lr}, schedules
    {method: schedule}}}. Keys: each training experiment (e3, e4, e8, …; those without a GD optimizer have an
    empty gd_lr) and, with an ``e7`` section, one per E7 data set cell ("e7 sin1d_n50": E7's reference data set
    with its target and n_train, dataset name the cell's). E5 and E6 train on E3's data set, e6_regime
    on E8's. Values key-sorted (canonical); experiments in config order, then E7's cells."""

    def gd_runs(sec: Mapping, dataset: Mapping) -> dict:
        return canonical(
            {
                "dataset": dict(dataset),
                "layers": "both" if sec.get("model", {}).get("train_output", True) else "first",
                "gd_lr": {k: float(v["lr"]) for k, v in sec["optimizers"].items() if v["optimizer"] == "gd"},
                "schedules": {k: v["schedule"] for k, v in sec["methods"].items()},
            }
        )

    out = {
        exp: gd_runs(config[exp], dataset_config(config, config[exp]["dataset"]))
        for exp in training_experiments(config)
    }
    if config.get("e7"):
        for cell in e7_cells(config):
            out[f"e7 {cell}"] = gd_runs(config["e7"], e7_dataset(config, cell))
    return out


def e7_dataset(config: Mapping, cell: str) -> dict:
    """The data set of E7 cell ``cell``: E7's reference data set entry with the cell's target and n_train, named
    after the cell (key-sorted)."""
    target, n_train = e7_cells(config)[cell]
    reference = config["datasets"][config["e7"]["dataset"]]
    return canonical(dict(reference, target=target, n_train=n_train, name=cell))


def claims_jobs(config: Mapping, exp: str) -> list[str]:
    """Names of the claims sweep cells of E5–E7 (the `cell` wildcard of rule claims_sweep, and of claims_gather for
    a fairness sweep): E5 one per model × seed ("{model}_seed{k}": the models differ in cost by 10³×, and a seed's
    runs need no other seed's), every fairness sweep (E6, e6_regime) one per optimizer (trained in parts,
    fairness_parts), E7 one per data set cell. Sorted where the config is a mapping, so a reordered YAML does not
    change the jobs."""
    sec = config[exp]
    if exp == "e5":
        return [f"{model}_seed{seed}" for model in sorted(sec["models"]) for seed in model_seeds(config, model)]
    if is_fairness_sweep(sec):
        return sorted(sec["optimizers"])
    return list(e7_cells(config))


def fairness_scoring_seeds(section: Mapping) -> list[int]:
    """The seeds a fairness sweep scores: its seeds less ``lr_choice.tuning_seeds`` (all of them without lr_choice),
    in config order."""
    tuning = set((section.get("lr_choice") or {}).get("tuning_seeds", []))
    return [seed for seed in section["seeds"] if seed not in tuning]


def fairness_parts(config: Mapping, exp: str) -> list[str]:
    """The parts one cell (optimizer) of fairness sweep ``exp`` trains in, one job each, so that no job holds the
    sweep's whole cost: "tune" (rule claims_tune: the learning-rate grid on the held-out ``lr_choice.tuning_seeds``,
    widened until its optimum is interior; only with lr_choice), then "seed<k>" per scoring seed k (rule
    claims_score: the chosen rates and the kernel-scaled rate on seed k, after the tune part; without lr_choice every
    factor on seed k). Rule claims_gather joins them into the cell's history and runs in the order one job over all
    seeds would write (hrta.sweeps.gather_fairness_parts)."""
    sec = config[exp]
    return (["tune"] if sec.get("lr_choice") else []) + [f"seed{k}" for k in fairness_scoring_seeds(sec)]


def model_seeds(config: Mapping, model: str) -> list[int]:
    """Seeds of E5 model ``model``: its own `seeds` (a subset of e5.seeds) or e5.seeds."""
    return list(config["e5"]["models"][model].get("seeds", config["e5"]["seeds"]))


def claims_job(config: Mapping, exp: str, job: str) -> dict:
    """What one claims sweep job trains: {cell (the label its rows carry), seeds, model (spec), optimizers
    (names), dtype, dataset (config["datasets"] entry, updated for an E7 cell)}."""
    sec = config[exp]
    cell, seeds = job, list(sec["seeds"])
    if exp == "e5":
        cell, _, seed = job.rpartition("_seed")
        seeds = [int(seed)]
    spec = sec["models"][cell] if exp == "e5" else sec["model"]
    dataset = dict(config["datasets"][sec["dataset"]])
    if exp == "e7":
        target, n_train = e7_cells(config)[cell]
        dataset.update(target=target, n_train=n_train)
    return {
        "cell": cell,
        "seeds": seeds,
        "model": {k: v for k, v in spec.items() if k not in ("label", "dtype", "optimizers", "seeds")},
        "optimizers": list(spec.get("optimizers", [cell] if is_fairness_sweep(sec) else list(sec["optimizers"]))),
        "dtype": spec.get("dtype", config["dtype"]),
        "dataset": dataset,
    }


def canonical(value):
    """Recursively key-sorted copy of a config slice (Snakemake compares params including dict order,
    so a reordered YAML file must not re-run anything)."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def claims_settings(config: Mapping) -> dict:
    """config["claims"] as the claims jobs read it, key-sorted (canonical), without the readings'
    ``not_trained_in`` (declared absences, read only by the dry run's checks and warnings, hrta.pipeline.lint),
    so declaring an absence re-runs no job."""
    claims = dict(config["claims"])
    claims["readings"] = {
        name: {key: value for key, value in spec.items() if key != "not_trained_in"}
        for name, spec in claims["readings"].items()
    }
    return canonical(claims)


def dataset_config(config: Mapping, name: str) -> dict:
    """config["datasets"][name] with its name, key-sorted."""
    return canonical(dict(config["datasets"][name], name=name))


#: The config schema: which top-level sections are experiments of which kind (training_experiments).
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


@cache
def schema_document(path: str) -> dict:
    """The schema file at ``path`` (absolute) as parsed, once per process: shared, never to be modified
    (hrta.pipeline.config_schema copies it). libyaml's parser where PyYAML has it (8× faster than the
    pure-Python one on this schema; every Snakemake start reads it), the same document either way."""
    import yaml  # noqa: PLC0415

    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (a safe loader)


@cache
def _schema_sections(schema: str) -> dict[str, str]:
    """{top-level key: name of the $defs entry it is built on} of the schema file ``schema``: a key whose
    schema is ``{$ref: "#/$defs/X"}`` or an ``allOf`` whose first entry is that ref (e3: training_experiment)."""
    properties = schema_document(schema)["properties"]
    sections = {}
    for key, spec in properties.items():
        ref = (spec.get("allOf") or [spec])[0].get("$ref", "") if isinstance(spec, dict) else ""
        if ref.startswith("#/$defs/"):
            sections[key] = ref.removeprefix("#/$defs/")
    return sections


def _sections_of(config: Mapping, kind: str, schema) -> list[str]:
    sections = _schema_sections(str(Path(schema or SCHEMA_FILE).resolve()))
    found = [key for key, ref in sections.items() if ref == kind and config.get(key)]
    # natural order (e3, e4, e9, e10), whatever the schema's order
    return sorted(found, key=lambda key: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)])


def training_experiments(config: Mapping, schema: str | Path | None = None) -> list[str]:
    """The training experiments of ``config`` (rule `train`, one job per width × seed): every top-level
    key whose schema (``schema``, default SCHEMA_FILE) is ``$ref: "#/$defs/training_experiment"`` (directly
    or first in an ``allOf``) and whose section the config has, in natural order (e3, e4, e9, e10). The one list: the workflow
    (TRAIN_EXPERIMENTS in workflow/rules/common.smk), the job list (wildcard_jobs), claim 1 (claim1_datasets)
    and the estimates all call this, so a new experiment needs only its schema line and config section."""
    return _sections_of(config, "training_experiment", schema)


def endpoint_training_sources(config: Mapping, schema: str | Path | None = None) -> list[str]:
    """The training experiments the pre-registered comparisons (claims.endpoints.comparisons) take cells from, in
    natural order: rule claims_endpoints reads their histories and runs (inputs <exp>_histories, <exp>_runs); a
    training experiment no comparison names (e.g. a new e9) is not read."""
    named = {c["source"] for c in config.get("claims", {}).get("endpoints", {}).get("comparisons", [])}
    return [exp for exp in training_experiments(config, schema) if exp in named]


def sweep_experiments(config: Mapping, schema: str | Path | None = None) -> list[str]:
    """The claims sweeps of ``config`` (rule claims_sweep: e5–e7), found like training_experiments
    (top-level keys built on ``#/$defs/claims_sweep`` that the config has)."""
    return _sections_of(config, "claims_sweep", schema)


def is_fairness_sweep(section: Mapping) -> bool:
    """A fairness sweep (E6, e6_regime: schema ``#/$defs/fairness_settings``) trains every method on a learning-rate
    grid (`lr_factors`), one job per optimizer; claim 7's rate choice and the kernel-scaled rate live there."""
    return "lr_factors" in section


def fairness_sweeps(config: Mapping, schema: str | Path | None = None) -> list[str]:
    """The fairness sweeps among the config's claims sweeps (e6 and, when present, e6_regime)."""
    return [exp for exp in sweep_experiments(config, schema) if is_fairness_sweep(config[exp])]


def data_draws(config: Mapping, exp: str) -> dict[str, dict]:
    """{name: dataset config} of the draws experiment ``exp`` trains on: its data set, and with
    `vary_data_seed` one draw per seed value i ≠ 0 (seed = dataset.seed + i: hrta.datafiles.dataset_draw_config,
    the convention dataset_from_config draws with; named "<name>_data<i>"; seed value 0 is the data set itself)."""
    from hrta.datafiles import dataset_draw, dataset_draw_config  # noqa: PLC0415

    section = config[exp]
    name = section["dataset"]
    ds = dataset_config(config, name)
    draws = {name: ds}
    for i in section["seeds"]:
        draw = dataset_draw(section, i)
        if draw:  # None (one draw for every seed) or 0 (the data set itself)
            draws[f"{name}_data{i}"] = canonical(dict(dataset_draw_config(ds, draw), name=f"{name}_data{i}"))
    return draws


def claim1_datasets(config: Mapping) -> dict[str, dict]:
    """{name: dataset config} of every data set the run trains on and of e2.lambda_min.datasets, each
    distinct draw once (first name kept), in a fixed order: the draws (data_draws) of every training
    experiment (training_experiments: e3, e4 and any added one) and claims sweep (sweep_experiments:
    e5–e7) the config has, E7's cells (target and n_train varied, with E7's seeds), then the extra ones.
    The workflow's claim-1 and deep spectra (workflow/rules/ntk_common.smk, deep_common.smk) and the
    estimates both call this."""
    from hrta.datafiles import dataset_draw, dataset_draw_config  # noqa: PLC0415

    found: dict[str, dict] = {}
    for exp in training_experiments(config) + sweep_experiments(config):
        for name, ds in data_draws(config, exp).items():
            found.setdefault(name, ds)
    if config.get("e7"):
        for cell in e7_cells(config):
            ds = e7_dataset(config, cell)
            found.setdefault(cell, ds)
            for i in config["e7"]["seeds"]:
                if draw := dataset_draw(config["e7"], i):
                    found.setdefault(
                        f"{cell}_data{i}", canonical(dict(dataset_draw_config(ds, draw), name=f"{cell}_data{i}"))
                    )
    for name in (config.get("e2") or {}).get("lambda_min", {}).get("datasets", []):
        found.setdefault(name, dataset_config(config, name))
    unique, seen = {}, set()
    for name, ds in found.items():
        key = tuple(sorted((k, v) for k, v in ds.items() if k not in ("name", "n_test")))
        if key not in seen:
            seen.add(key)
            unique[name] = ds
    return unique


def run_datasets(config: Mapping) -> dict[str, tuple[int, int, int]]:
    """{name: (n, n_test, d)} of claim1_datasets (the sizes the estimates need)."""
    return {name: dataset_sizes(ds) for name, ds in claim1_datasets(config).items()}


def claim1_s_grid(config: Mapping) -> list[float]:
    """The e2 s grid refined to e2.lambda_min.fine_step on e2.lambda_min.fine_ranges (sorted, rounded)."""
    g, lm = config["e2"]["s_grid"], config["e2"].get("lambda_min") or {}
    values = {round(v, 10) for v in linspace(g["start"], g["stop"], g["num"])}
    for lo, hi in lm.get("fine_ranges", []):
        k = int(round((hi - lo) / lm["fine_step"]))
        values |= {round(lo + i * (hi - lo) / k, 10) for i in range(k + 1)}
    return sorted(values)


def claim1_s_count(config: Mapping) -> int:
    """Size of claim1_s_grid."""
    return len(claim1_s_grid(config))


def deep_networks(config: Mapping) -> list[list[int]]:
    """Hidden-layer widths whose deep kernel error is measured (rule deep_kernel_error): uniform
    convergence widths per depth, plus the widths of deep.train and of every deep model of e5 with
    the base deep.base (the kernel error is of deep.base networks), sorted by depth then widths, unique."""
    deep = config["deep"]
    conv = deep["convergence"]
    nets = {tuple([w] * depth) for depth in conv["depths"] for w in conv["widths"]}
    nets.add(tuple(deep["train"]["widths"]))
    for spec in (config.get("e5") or {}).get("models", {}).values():
        if spec["kind"] == "deep" and spec.get("base", "relu") == deep["base"]:
            nets.add(tuple(spec["widths"]))
    return [list(net) for net in sorted(nets, key=lambda net: (len(net), net))]


def training_seeds(config: Mapping, exp: str, width: int) -> list[int]:
    """Seeds trained at ``width`` by experiment ``exp`` (fewer at wide widths: wide_settings)."""
    return list(wide_settings(config, exp, width).get("seeds", config[exp]["seeds"]))


def training_jobs(config: Mapping, exp: str) -> list[tuple[int, int]]:
    """(width, seed) of every job of rule `train` for experiment ``exp``."""
    return [(w, s) for w in config[exp]["widths"] for s in training_seeds(config, exp, w)]


def wildcard_jobs(config: Mapping) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """{(rule, sorted wildcards)} of every job of the rules that run once per width, seed or cell
    (train, e2_empirical, e4_theory, claims_sweep, claims_tune, claims_score, claims_gather, deep_train), as the
    workflow's targets ask for them
    and the estimates cost them. A test checks this set against the DAG Snakemake builds."""

    def job(rule: str, **wildcards) -> tuple[str, tuple[tuple[str, str], ...]]:
        return rule, tuple(sorted((k, str(v)) for k, v in wildcards.items()))

    jobs = set()
    for exp in training_experiments(config):
        jobs |= {job("train", exp=exp, width=w, seed=s) for w, s in training_jobs(config, exp)}
    if config.get("e2"):
        jobs |= {job("e2_empirical", width=w) for w in config["e2"]["widths"]}
    if config.get("e4"):
        jobs |= {job("e4_theory", width=w) for w in config["e4"]["widths"]}
    for exp in sweep_experiments(config):
        if not is_fairness_sweep(config[exp]):
            jobs |= {job("claims_sweep", exp=exp, cell=cell) for cell in claims_jobs(config, exp)}
            continue
        for cell in claims_jobs(config, exp):
            jobs.add(job("claims_gather", exp=exp, cell=cell))
            for part in fairness_parts(config, exp):
                if part == "tune":
                    jobs.add(job("claims_tune", exp=exp, cell=cell))
                else:
                    jobs.add(job("claims_score", exp=exp, cell=cell, seed=part.removeprefix("seed")))
    if config.get("deep"):
        jobs |= {job("deep_train", seed=s) for s in config["deep"]["train"]["seeds"]}
    return jobs
