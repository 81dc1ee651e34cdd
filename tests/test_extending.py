"""Extending the pipeline is one place per idea (docs/extending.md): the README's worked example
"Adding an experiment" (E9) run as written, discovered training experiments, a new base activation
through the library and the estimates, a new schedule reaching the claims through a reading, and the
warnings a dry run prints for what would otherwise be silent."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from hrta import activations, bases
from hrta.pipeline import jobs, lint
from hrta.pipeline.config_schema import ConfigError, config_schema, validate_config
from hrta.pipeline.estimates import estimate_job
from hrta.pipeline.memory import analytic_ntk_mb, empirical_ntk_mb, two_layer_train_mb
from hrta.pipeline.runtime import UncalibratedBaseWarning, two_layer_step_s

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
BIN = Path(sys.executable).parent


def _config(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text(encoding="utf-8"))


def _validated(config: dict, schema: Path = SCHEMA) -> dict:
    """A copy of ``config`` validated as the workflow validates it (defaults filled in)."""
    return validate_config(copy.deepcopy(config), schema)


# ------------------------------------------------------------------------------------------------
# the README's snippets


def readme_snippets() -> dict[str, list[str]]:
    """{language: [code]} of the fenced blocks of the README section "Adding an experiment", dedented."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Adding an experiment") :]
    section = section[: section.index("\n## ", 1)]
    blocks: dict[str, list[str]] = {}
    for lang, body in re.findall(r"^ *```(\w+)\n(.*?)^ *```", section, re.MULTILINE | re.DOTALL):
        blocks.setdefault(lang, []).append(textwrap.dedent(body))
    return blocks


def e9_parts() -> dict:
    """The README's E9 pieces by role: datasets (entries), section ({"e9": ...}), schema_line, rule,
    include, estimator."""
    snippets = readme_snippets()
    datasets, section, schema_line = snippets["yaml"]
    rule, include = snippets["snakemake"]  # Snakefile syntax (snakefmt, not ruff, formats it)
    (estimator,) = snippets["python"]
    return {
        "datasets": yaml.safe_load(datasets)["datasets"],
        "section": yaml.safe_load(section),
        "schema_line": schema_line.strip(),
        "rule": rule,
        "include": include,
        "estimator": estimator.strip(),
    }


def add_e9(config: dict, parts: dict) -> dict:
    """``config`` with the README's data set merged into its `datasets` and its e9 section added."""
    config = copy.deepcopy(config)
    config["datasets"].update(parts["datasets"])
    config.update(copy.deepcopy(parts["section"]))
    return config


def schema_with_e9(text: str, parts: dict) -> str:
    head = "\nproperties:\n"
    assert head in text
    return text.replace(head, f"{head}  {parts['schema_line']}\n", 1)


def test_readme_snippets_parse_and_merge_into_one_datasets_key():
    parts = e9_parts()
    assert set(parts["datasets"]) == {"franke"}
    assert set(parts["section"]) == {"e9"}
    assert parts["schema_line"] == 'e9: {$ref: "#/$defs/training_experiment"}'
    assert '"../scripts/figure_e3.py"' in parts["rule"] and "conda:" in parts["rule"]
    assert parts["estimator"] == 'ESTIMATORS["figure_e9_loss"] = ESTIMATORS["figure_e3_loss"]'
    config = add_e9(_config("smoke"), parts)
    assert set(config["datasets"]) == set(_config("smoke")["datasets"]) | {"franke"}  # merged, not replaced


def test_readme_snippets_pass_snakefmt(tmp_path):
    parts = e9_parts()
    (tmp_path / "e9.smk").write_text(parts["rule"], encoding="utf-8")
    (tmp_path / "Snakefile").write_text(parts["include"], encoding="utf-8")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    out = subprocess.run(
        [str(BIN / "snakefmt"), "--check", "e9.smk", "Snakefile"], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


# ------------------------------------------------------------------------------------------------
# discovered experiments


def test_training_experiments_come_from_the_schema_and_the_config(tmp_path):
    parts = e9_parts()
    smoke = _validated(_config("smoke"))
    assert jobs.training_experiments(smoke) == ["e3", "e3_equal_init", "e3_long", "e4", "e8"]
    assert jobs.sweep_experiments(smoke) == ["e5", "e6", "e6_regime", "e7"]
    assert jobs.fairness_sweeps(smoke) == ["e6", "e6_regime"]
    assert jobs.claims_jobs(smoke, "e6_regime") == ["gd"]  # a fairness sweep: one job per optimizer
    schema = tmp_path / "schema.yaml"
    schema.write_text(schema_with_e9(SCHEMA.read_text(encoding="utf-8"), parts), encoding="utf-8")
    config = _validated(add_e9(_config("smoke"), parts), schema)
    assert jobs.training_experiments(config, schema) == ["e3", "e3_equal_init", "e3_long", "e4", "e8", "e9"]
    # without its schema line a section is not a training experiment (and the schema rejects it)
    assert jobs.training_experiments(config) == ["e3", "e3_equal_init", "e3_long", "e4", "e8"]
    # an experiment the config leaves out is skipped
    del config["e4"]
    assert jobs.training_experiments(config, schema) == ["e3", "e3_equal_init", "e3_long", "e8", "e9"]


def test_discovered_experiments_reach_jobs_and_claim1(tmp_path, monkeypatch):
    parts = e9_parts()
    schema = tmp_path / "schema.yaml"
    schema.write_text(schema_with_e9(SCHEMA.read_text(encoding="utf-8"), parts), encoding="utf-8")
    monkeypatch.setattr(jobs, "SCHEMA_FILE", schema)
    config = _validated(add_e9(_config("smoke"), parts), schema)
    train = {dict(wc)["exp"] for rule, wc in jobs.wildcard_jobs(config) if rule == "train"}
    assert train == {"e3", "e3_equal_init", "e3_long", "e4", "e8", "e9"}
    assert "franke" in jobs.claim1_datasets(config)
    assert "franke" not in jobs.claim1_datasets(_validated(_config("smoke")))


# ------------------------------------------------------------------------------------------------
# the worked example in a copy of the workflow


def _copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("Snakefile", "pyproject.toml"):
        shutil.copy(REPO / name, dest / name)
    for name in ("workflow", "config", "hrta"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    return dest


CAPTION = "**E9** — loss on the Franke function.\n"


def _apply_readme(root: Path, *, estimator: bool = True, caption: bool = True) -> dict:
    """Steps 2–5 of the README in the copy at ``root`` (the config is step 1, per test)."""
    parts = e9_parts()
    schema = root / "workflow" / "schemas" / "config.schema.yaml"
    schema.write_text(schema_with_e9(schema.read_text(encoding="utf-8"), parts), encoding="utf-8")
    (root / "workflow" / "rules" / "e9.smk").write_text(parts["rule"], encoding="utf-8")
    snakefile = root / "Snakefile"
    text = snakefile.read_text(encoding="utf-8")
    last = 'include: "workflow/rules/deep.smk"\n'
    assert last in text
    snakefile.write_text(text.replace(last, f"{last}\n\n{parts['include']}\n", 1), encoding="utf-8")
    if caption:
        (root / "workflow" / "report" / "e9_loss.rst").write_text(CAPTION, encoding="utf-8")
    if estimator:
        with open(root / "hrta" / "pipeline" / "estimates.py", "a", encoding="utf-8") as fh:
            fh.write(f"\n{parts['estimator']}\n")
    return parts


def _snakemake(root: Path, configfile: str, *args: str, workdir: Path | None = None) -> str:
    env = dict(os.environ, PYTHONPATH=str(root))
    cmd = [str(BIN / "snakemake"), "--configfile", configfile, "--cores", "2", *args]
    if workdir is not None:
        cmd += ["--directory", str(workdir)]
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return out.stdout + out.stderr


def _job_counts(output: str) -> dict[str, int]:
    table = output[output.index("Job stats:") :]
    table = table[: table.index("\ntotal")]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


@pytest.mark.slow
def test_readme_e9_on_the_smoke_config_dry_runs_and_runs(tmp_path):
    root = _copy_workflow(tmp_path / "wf")
    parts = _apply_readme(root, estimator=False, caption=False)
    config = add_e9(_config("smoke"), parts)
    (root / "config" / "smoke_e9.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    # without the estimator and the caption: the dry run names the rule, the file and the fix
    out = _snakemake(root, "config/smoke_e9.yaml", "-n", workdir=tmp_path / "run")
    assert "no runtime/memory estimator for rule 'figure_e9_loss'" in out and "@job_estimator" in out
    assert "figure 'e9_loss' has no caption: add workflow/report/e9_loss.rst" in out

    (root / "workflow" / "report" / "e9_loss.rst").write_text(CAPTION, encoding="utf-8")

    with open(root / "hrta" / "pipeline" / "estimates.py", "a", encoding="utf-8") as fh:
        fh.write(f"\n{parts['estimator']}\n")
    out = _snakemake(root, "config/smoke_e9.yaml", "-n", workdir=tmp_path / "run")
    assert "no runtime/memory estimator" not in out
    assert "hrta warning" not in out  # E9's methods need no reading: nothing to warn about
    assert _job_counts(out)["figure_e9_loss"] == 1
    assert re.search(r"wildcards: exp=e9, width=1000, seed=2", out)

    # the E9 jobs themselves (data set, 3 training jobs, the figure)
    _snakemake(root, "config/smoke_e9.yaml", "figures/e9_loss.png", workdir=tmp_path / "run")
    assert (tmp_path / "run" / "figures" / "e9_loss.png").stat().st_size > 0
    assert (tmp_path / "run" / "data" / "train" / "e9" / "w1000_seed2_runs.csv").exists()


@pytest.mark.slow
def test_e9_in_config_yaml_only_leaves_smoke_and_paper_unchanged(tmp_path):
    root = _copy_workflow(tmp_path / "wf")
    parts = _apply_readme(root)
    default = root / "config" / "config.yaml"
    default.write_text(
        yaml.safe_dump(add_e9(yaml.safe_load(default.read_text(encoding="utf-8")), parts), sort_keys=False),
        encoding="utf-8",
    )
    out = _snakemake(root, "config/config.yaml", "-n", workdir=tmp_path / "default")
    assert _job_counts(out)["figure_e9_loss"] == 1
    for name in ("smoke", "paper"):
        with_e9 = _snakemake(root, f"config/{name}.yaml", "-n", workdir=tmp_path / name)
        before = _snakemake(REPO, f"config/{name}.yaml", "-n", workdir=tmp_path / f"{name}_before")
        assert "figure_e9_loss" not in with_e9
        assert _job_counts(with_e9) == _job_counts(before), name


# ------------------------------------------------------------------------------------------------
# a base activation is one registry entry (hrta.bases)


def test_schema_enum_is_the_registry():
    """The schema file does not list the bases; validation allows exactly the registry's."""
    assert "enum" not in yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))["$defs"]["base"]
    assert config_schema(SCHEMA)["$defs"]["base"]["enum"] == list(bases.base_names()) == ["relu", "tanh", "gelu"]
    config = _config("smoke")
    config["e5"]["models"]["tanh"]["base"] = "softplus"
    with pytest.raises(ConfigError, match=r"key 'e5\.models\.tanh\.base': 'softplus' is not one of \['relu', 'tanh'"):
        _validated(config)


@pytest.fixture
def softplus_base():
    """A new base activation through the library API (hrta.bases.register_base; no runtime constants),
    removed from the registry after the test."""
    bases.register_base("softplus", torch.nn.functional.softplus, torch.sigmoid)
    yield "softplus"
    del bases.REGISTRY["softplus"]


def test_a_registered_base_is_a_valid_config_value(softplus_base):
    config = _config("smoke")
    config["e5"]["models"]["tanh"]["base"] = softplus_base
    assert config_schema(SCHEMA)["$defs"]["base"]["enum"][-1] == softplus_base
    assert _validated(config)["e5"]["models"]["tanh"]["base"] == softplus_base
    assert bases.base_label(softplus_base) == "softplus"


def test_new_base_through_the_library(softplus_base):
    from hrta.models import TwoLayerNet
    from hrta.ntk import analytic_ntk, empirical_ntk
    from hrta.schedules import parse_schedule
    from hrta.train import TrainConfig, train

    torch.manual_seed(0)
    X = torch.cat([torch.rand(20, 1, dtype=torch.float64) * 2 - 1, torch.ones(20, 1, dtype=torch.float64)], 1)
    y = torch.sin(torch.pi * X[:, 0])
    z = torch.linspace(-3, 3, 7, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(activations.homotopy(z, 1.5, softplus_base).sum(), z)
    assert torch.allclose(grad, activations.homotopy_derivative(z.detach(), 1.5, softplus_base))
    net = TwoLayerNet(2, m=200, s=1.5, base=softplus_base, seed=0, dtype="float64")
    result = train(net, X, y, TrainConfig(parse_schedule("1.5x50,1x50"), optimizer="gd", lr=0.5, dtype="float64"))
    hist = result.history
    assert result.status == "ok" and hist["train_loss"].iloc[-1] < hist["train_loss"].iloc[0]
    K = analytic_ntk(X, s=1.5, base=softplus_base)
    eig = torch.linalg.eigvalsh(K)
    assert torch.allclose(K, K.T) and eig[0] > -1e-12 * eig[-1]  # PSD up to rounding
    K_emp = empirical_ntk(TwoLayerNet(2, m=20_000, s=1.5, base=softplus_base, seed=1, dtype="float64"), X)
    assert torch.linalg.matrix_norm(K_emp - K) / torch.linalg.matrix_norm(K) < 0.1


def test_new_base_estimates_warn_instead_of_failing(softplus_base):
    with pytest.warns(UncalibratedBaseWarning, match="'softplus'.*gelu constants"):
        t = two_layer_step_s(100, 1000, base=softplus_base)
    assert t == two_layer_step_s(100, 1000, base="gelu")
    assert two_layer_train_mb(100, 1000, 2, base=softplus_base) == two_layer_train_mb(100, 1000, 2, base="gelu")
    assert empirical_ntk_mb(100, 1000, 2, base=softplus_base) == empirical_ntk_mb(100, 1000, 2, base="gelu")
    assert analytic_ntk_mb(100, 2, base=softplus_base) == analytic_ntk_mb(100, 2, base="gelu")
    config = _validated(_config("smoke"))
    config["e3"]["model"]["base"] = softplus_base
    with pytest.warns(UncalibratedBaseWarning):
        est = estimate_job("train", {"exp": "e3", "width": "100", "seed": "0"}, config)
    assert est.known and est.seconds > 0
    assert any("'softplus'" in m for m in lint.config_warnings(config))


def docs_base_entry() -> str:
    """The registry entry docs/extending.md's section "A new base activation" tells a reader to add."""
    text = (REPO / "docs" / "extending.md").read_text(encoding="utf-8")
    section = text[text.index("## A new base activation") :]
    section = section[: section.index("\n## ", 1)]
    (entry,) = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    return textwrap.dedent(entry).strip()


def add_registry_entry(bases_py: Path, entry: str) -> None:
    """``entry`` as the last item of the REGISTRY literal of the file ``bases_py`` (hrta/bases.py)."""
    text = bases_py.read_text(encoding="utf-8")
    start = text.index("REGISTRY: dict[str, Base] = {\n")
    end = text.index("\n}\n", start)
    bases_py.write_text(f"{text[:end]}\n    {entry}{text[end:]}", encoding="utf-8")


@pytest.mark.slow
def test_new_base_is_one_registry_entry(tmp_path):
    """docs/extending.md's one line in a copy of hrta/bases.py makes `base: softplus` a valid config value
    whose jobs run; without it the same config is refused naming the key."""
    root = _copy_workflow(tmp_path / "wf")
    config = _config("smoke")
    config["e5"]["models"]["tanh"].update(base="softplus", label="softplus, m = 32")
    (root / "config" / "smoke_softplus.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run = tmp_path / "run"
    cmd = [str(BIN / "snakemake"), "--configfile", "config/smoke_softplus.yaml", "--cores", "2", "-n"]
    refused = subprocess.run(
        [*cmd, "--directory", str(run)],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(root)),
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "invalid config: key 'e5.models.tanh.base': 'softplus' is not one of ['relu', 'tanh', 'gelu']" in (
        refused.stdout + refused.stderr
    )

    entry = docs_base_entry()
    assert entry.startswith('"softplus": Base(')
    add_registry_entry(root / "hrta" / "bases.py", entry)
    lint_out = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "hrta/bases.py"], cwd=root, capture_output=True, text=True
    )
    assert lint_out.returncode == 0, lint_out.stdout + lint_out.stderr  # the line as the guide writes it
    out = _snakemake(root, "config/smoke_softplus.yaml", "-n", workdir=run)
    warnings = [line for line in out.splitlines() if "hrta warning:" in line]
    assert warnings and all("'softplus'" in line for line in warnings), warnings  # uncalibrated, nothing else
    assert len(warnings) == 1 and "UncalibratedBaseWarning" not in out  # said once, not again per estimate
    assert "invalid config" not in out

    # the model's jobs (its data set, then one sweep cell) run with the new base
    cell = "data/claims/e5/tanh_seed0"
    _snakemake(root, "config/smoke_softplus.yaml", f"{cell}_runs.csv", workdir=run)
    runs = pd.read_csv(run / f"{cell}_runs.csv")  # built with base "softplus": only the copy's hrta knows it
    assert len(runs) == 12 and (runs["status"] == "ok").all(), runs  # 6 methods × 2 optimizers


# ------------------------------------------------------------------------------------------------
# a new schedule reaches the claims through a reading


def _with_new_schedule(config: dict, *, reading: bool = True) -> dict:
    config = copy.deepcopy(config)
    for exp in lint.READING_EXPERIMENTS:
        config[exp]["methods"]["hrta_1.2"] = {"label": "HRTA 1.2→1", "schedule": "1.2x20,1x40"}
    if reading:
        config["claims"]["readings"]["mild"] = {"label": "mild relaxation 1.2→1", "methods": ["hrta_1.2"]}
    return config


def test_reading_warnings_name_the_method_and_the_fix():
    smoke = _validated(_config("smoke"))
    assert lint.config_warnings(smoke) == []
    assert lint.config_warnings(_with_new_schedule(smoke)) == []
    unjudged = lint.config_warnings(_with_new_schedule(smoke, reading=False))
    assert len(unjudged) == 3 and all("'hrta_1.2'" in m and "add it to a reading" in m for m in unjudged)
    renamed = _with_new_schedule(smoke)
    renamed["e5"]["methods"]["hrta_12"] = renamed["e5"]["methods"].pop("hrta_1.2")
    messages = lint.config_warnings(renamed)
    assert any("'hrta_12' of e5.methods is in no reading" in m for m in messages)
    assert any("reading 'mild' names method 'hrta_1.2'" in m and "e5 do(es) not" in m for m in messages)


@pytest.mark.parametrize("name", ["config", "paper", "smoke"])
def test_shipped_configs_print_no_reading_warnings(name):
    """config.yaml trains some reading methods in e3 only (budget) and declares it (not_trained_in): no warning."""
    config = _validated(_config(name))
    lint.check_declared_absences(config)
    assert lint.config_warnings(config) == []


def _mild_not_in_e5_e6(declared: dict | None) -> dict:
    """The smoke config with a reading 'mild' whose method hrta_1.2 only e3 trains, declaring ``declared``."""
    config = _with_new_schedule(_validated(_config("smoke")))
    for exp in ("e5", "e6"):
        del config[exp]["methods"]["hrta_1.2"]
    if declared is not None:
        config["claims"]["readings"]["mild"]["not_trained_in"] = declared
    return config


def test_a_declared_absence_is_silent_and_an_undeclared_one_still_warns():
    undeclared = lint.reading_warnings(_mild_not_in_e5_e6(None))
    assert len(undeclared) == 1 and "e5, e6 do(es) not" in undeclared[0]
    assert "claims.readings.mild.not_trained_in: {hrta_1.2: [e5, e6]}" in undeclared[0]  # the fix, spelled out
    declared = _mild_not_in_e5_e6({"hrta_1.2": ["e5", "e6"]})
    assert _validated(declared) and lint.reading_warnings(declared) == []
    lint.check_declared_absences(declared)
    partly = _mild_not_in_e5_e6({"hrta_1.2": ["e5"]})  # e6's absence is not declared: still a warning
    (message,) = lint.reading_warnings(partly)
    assert "which e3 define(s) but e6 do(es) not" in message
    renamed = _mild_not_in_e5_e6({"hrta_1.2": ["e5", "e6"]})
    renamed["e3"]["methods"]["hrta_12"] = renamed["e3"]["methods"].pop("hrta_1.2")  # declarations hide no rename
    assert any("'hrta_12' of e3.methods is in no reading" in m for m in lint.reading_warnings(renamed))


@pytest.mark.parametrize(
    ("declared", "error"),
    [
        (
            {"hrta_1.2": ["e3"]},
            r"key 'claims\.readings\.mild\.not_trained_in\.hrta_1\.2\[0\]': e3 trains method 'hrta_1\.2'",
        ),
        ({"hrta_1.2": ["e5", "e7"]}, r"not_trained_in\.hrta_1\.2\[1\]': 'e7' is not an experiment .*\(e3, e5, e6\)"),
        ({"hrta_0.5": ["e5"]}, r"not_trained_in\.hrta_0\.5': 'hrta_0\.5' is not one of this reading's methods"),
    ],
)
def test_a_declared_absence_that_is_not_true_is_an_error(declared, error):
    with pytest.raises(ConfigError, match=error):
        lint.check_declared_absences(_mild_not_in_e5_e6(declared))


def test_a_declared_absence_is_schema_checked_and_read_by_no_job():
    config = _config("smoke")
    config["claims"]["readings"]["continuous"]["not_trained_in"] = {"ramp_1.5": "e6"}
    with pytest.raises(
        ConfigError, match=r"key 'claims\.readings\.continuous\.not_trained_in\.ramp_1\.5': 'e6' is not"
    ):
        _validated(config)
    declared = _mild_not_in_e5_e6({"hrta_1.2": ["e5", "e6"]})
    assert jobs.claims_settings(declared) == jobs.claims_settings(_mild_not_in_e5_e6(None))
    assert jobs.claims_settings(declared) == jobs.canonical(_mild_not_in_e5_e6(None)["claims"])


@pytest.mark.slow
def test_new_schedule_reaches_claims_md_through_a_reading_and_an_endpoint(smoke_run, tmp_path):
    """On a copy of the session's smoke run, docs/extending.md's steps for a new schedule trained in e3 only: the
    method in e3, a pre-registered comparison, a reading, and its absence from e5 and e6 declared (step 4, so the
    dry run stays silent). Only the jobs the new schedule touches run again: e3's training and the claims reports.
    The reading puts it in the metric-by-metric detail (claims_parts.md, the matrix); the comparison puts it on
    CLAIMS.md. (e5 and e6 run every method of their `methods:` through the same sweep jobs; the smoke run trains
    six methods there.)"""
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-3000:]
    shutil.copytree(workdir, tmp_path / "run", symlinks=True)
    root = _copy_workflow(tmp_path / "wf")
    config = _with_new_schedule(_config("smoke"))
    for exp in ("e5", "e6"):
        del config[exp]["methods"]["hrta_1.2"]
    config["claims"]["readings"]["mild"]["not_trained_in"] = {"hrta_1.2": ["e5", "e6"]}
    config["claims"]["endpoints"]["comparisons"].append(
        {"claim": "4", "source": "e3", "treatment": "hrta_1.2", "control": "relu", "factor": "first stage at s = 1.2"}
    )
    (root / "config" / "smoke_new.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    targets = ["figures/CLAIMS.md", "figures/tables/claims_parts.md", "figures/tables/claims_matrix.csv"]
    out = _snakemake(root, "config/smoke_new.yaml", "-n", *targets, workdir=tmp_path / "run")
    assert "hrta warning" not in out
    assert _job_counts(out) == {
        "train": 2,  # e3's two seeds
        "regime_table": 1,  # e3's schedules: its T per s and the step/conditioning split CLAIMS.md shows
        "claims_speedups": 1,
        "claims_endpoints": 1,
        "claims_report": 1,
        "claims_summary": 1,
    }
    _snakemake(root, "config/smoke_new.yaml", *targets, workdir=tmp_path / "run")
    run = tmp_path / "run"
    parts = (run / "figures" / "tables" / "claims_parts.md").read_text(encoding="utf-8")
    assert "mild relaxation 1.2→1" in parts
    matrix = (run / "figures" / "tables" / "claims_matrix.csv").read_text(encoding="utf-8")
    assert "mild" in matrix
    page = (run / "figures" / "CLAIMS.md").read_text(encoding="utf-8")
    assert "- hrta_1.2 vs relu (optimizer gd" in page  # its claim-4 cells, one per optimizer × width
