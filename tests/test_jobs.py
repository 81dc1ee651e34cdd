"""One definition of the jobs (hrta.pipeline.jobs): the workflow's helpers and the estimates describe the
same run. Twins that disagreed before the fix: the claim-1 data sets (the workflow skipped seed *value* 0,
the estimates the *first* seed) and the deep networks (the workflow kept e5 deep models of deep.base only)."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from snakemake.exceptions import WorkflowError

from hrta.pipeline import jobs
from hrta.pipeline.config_schema import validate_config
from hrta.schedules import parse_schedule

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
RULES = REPO / "workflow" / "rules"


def _config(name: str) -> dict:
    config = yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text(encoding="utf-8"))
    return validate_config(config, SCHEMA)


def _seeds_from_one(config: dict) -> dict:
    """The smoke config with every seed list shifted by 1 (so the first seed is 1, not 0)."""
    config = copy.deepcopy(config)
    for exp in ("e3", "e4", "e5", "e6", "e7"):
        config[exp]["seeds"] = [s + 1 for s in config[exp]["seeds"]]
        if config[exp].get("wide", {}).get("seeds"):
            config[exp]["wide"]["seeds"] = [s + 1 for s in config[exp]["wide"]["seeds"]]
    config["e6"]["lr_choice"]["tuning_seeds"] = [s + 1 for s in config["e6"]["lr_choice"]["tuning_seeds"]]
    return config


def _other_base_deep_model(config: dict) -> dict:
    """The smoke config with an extra e5 deep model of a base other than deep.base."""
    config = copy.deepcopy(config)
    config["e5"]["models"]["deep_tanh"] = {
        "label": "tanh, 2 layers",
        "kind": "deep",
        "widths": [48, 48],
        "base": "tanh",
    }
    return config


CONFIGS = {
    "smoke": lambda: _config("smoke"),
    "default": lambda: _config("config"),
    "paper": lambda: _config("paper"),
    "smoke, seeds from 1": lambda: _seeds_from_one(_config("smoke")),
    "smoke, a deep model of another base": lambda: _other_base_deep_model(_config("smoke")),
}


def _workflow_helpers(config: dict) -> dict:
    """The workflow's own helper functions (workflow/rules/*_common.smk hold plain Python), evaluated on
    ``config`` in one namespace as Snakemake includes them."""
    ns = {
        "config": config,
        "WorkflowError": WorkflowError,
        "parse_schedule": parse_schedule,
        "workflow": SimpleNamespace(basedir=str(REPO)),
    }
    for name in ("common", "claims_common", "ntk_common", "deep_common"):
        exec(compile((RULES / f"{name}.smk").read_text(encoding="utf-8"), f"{name}.smk", "exec"), ns)
    return ns


@pytest.mark.parametrize("name", list(CONFIGS))
def test_claim1_datasets_of_workflow_and_estimates_agree(name):
    config = CONFIGS[name]()
    helpers = _workflow_helpers(config)
    workflow_sets = {k: jobs.dataset_sizes(v) for k, v in helpers["claim1_datasets"]().items()}
    assert workflow_sets == jobs.run_datasets(config)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_deep_networks_of_workflow_and_estimates_agree(name):
    config = CONFIGS[name]()
    helpers = _workflow_helpers(config)
    assert sorted(map(tuple, helpers["deep_networks"]())) == sorted(map(tuple, jobs.deep_networks(config)))


def test_seed_value_zero_is_the_data_set_itself():
    config = _seeds_from_one(_config("smoke"))
    names = set(jobs.claim1_datasets(config))
    exp = config["e3"]
    assert {f"{exp['dataset']}_data{s}" for s in exp["seeds"]} <= names  # every trained draw, seed 1 included


def test_deep_networks_keep_only_the_deep_base():
    config = _other_base_deep_model(_config("smoke"))
    assert [48, 48] not in jobs.deep_networks(config)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smoke, seeds from 1"])
def test_dag_jobs_are_the_jobs_the_estimates_cost(name, tmp_path):
    """Snakemake's DAG (hrta.pipeline.plan.parse_dag of `snakemake --dag`) against jobs.wildcard_jobs. The shipped
    configs (smoke, default, paper): tests/test_plan.py::test_plan_lists_every_job_of_the_dag, on the DAG it
    builds for their plans (the same two Snakemake calls)."""
    from hrta.pipeline.plan import SNAKEFILE, _snakemake, parse_dag, parse_threads

    config = CONFIGS[name]()
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert SNAKEFILE.exists()
    known = set(parse_threads(_snakemake(configfile, tmp_path, "--dry-run")))
    dag = parse_dag(_snakemake(configfile, tmp_path, "--dag"), known=known)
    rules = {rule for rule, _ in jobs.wildcard_jobs(config)}
    dag_jobs = {(j.rule, tuple(sorted(j.wildcards.items()))) for j in dag.values() if j.rule in rules}
    assert dag_jobs == jobs.wildcard_jobs(config)


def test_schema_document_is_the_schema_as_the_pure_python_parser_reads_it():
    """The schema as every Snakemake start reads it (libyaml's parser) equals PyYAML's pure-Python safe_load of
    the same file (the reference), and is read once per process."""
    assert jobs.schema_document(str(SCHEMA)) == yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    assert jobs.schema_document(str(SCHEMA)) is jobs.schema_document(str(SCHEMA))
