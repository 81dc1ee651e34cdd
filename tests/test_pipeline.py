"""The Snakemake workflow: dry run of the default config, lint, a full smoke run in a temporary
directory (every figure and table present and holding data, a second run has nothing to do), and
config validation that stops before any job with a message naming the key."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import CONFIGS, REPO, run_snakemake, snakemake_command

FIGURES = ["e1_activations", "e2_spectrum", "e2_kernel_error", "e3_loss", "e4_rates", "e4_curves"]
FIGURES += ["deep_spectrum", "deep_kernel_error", "deep_gd"]
FIGURES += ["e2_eigen_error", "e4_horizons", "e4_lazy_horizon"]
TABLES = ["e2_spectrum", "e3_loss_at_budget", "e3_steps_to_tolerance", "e4_rates", "e4_match_vs_width"]
TABLES += ["deep_spectrum", "deep_kernel_error", "deep_gd"]
TABLES += ["e2_lambda_min", "e4_horizons"]
RULES = [
    "dataset",
    "e1_activations",
    "train",
    "e2_analytic",
    "e2_empirical",
    "e4_theory",
    "e4_rates",
    "table_e2_spectrum",
    "table_e3",
    "table_e4",
    "figure_e1_activations",
    "figures_e2",
    "figure_e3_loss",
    "figures_e4",
    "deep_spectrum",
    "deep_kernel_error",
    "deep_train",
    "figures_deep",
    "tables_deep",
    "e2_lambda_min",
    "e4_horizons",
    "table_e2_lambda_min",
    "table_e4_horizons",
]


@pytest.mark.slow
def test_dry_run_default_config(shipped_dry_run):
    workdir, result = shipped_dry_run("config")
    assert result.returncode == 0, result.stdout
    for rule in RULES:
        assert re.search(rf"^{rule}\s+\d+$", result.stdout, re.M), f"rule {rule} missing from the dry run"
    # Training jobs: E3 8 seeds at 10³ + 5 at 10⁴; E4 3 widths × 3 seeds + 1 seed at 10⁵; E8 5 seeds at 10³ + 2 at 3·10³;
    # issue 24: e3_long and e3_equal_init 8 seeds at 10³ each.
    assert re.search(r"^train\s+46$", result.stdout, re.M)
    assert not (workdir / "data").exists()


@pytest.mark.slow
def test_lint_clean():
    import subprocess

    result = subprocess.run(
        snakemake_command() + ["--lint", "--snakefile", str(REPO / "Snakefile")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout
    assert "Lints for" not in result.stdout, result.stdout


def _numeric_columns(df: pd.DataFrame) -> pd.DataFrame:
    return df.select_dtypes(include="number")


@pytest.mark.slow
def test_smoke_run_produces_every_output(smoke_run):
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    for name in FIGURES:
        for ext in ("png", "pdf"):
            path = workdir / "figures" / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
            meta = json.loads((workdir / "data" / "provenance" / "figures" / f"{name}.{ext}.json").read_text())
            assert meta["config_hash"] and meta["versions"]["torch"] and meta["output"] == f"figures/{name}.{ext}"
    png = (workdir / "figures" / "e3_loss.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # figures/ holds only figures, tables and CLAIMS.md (provenance: data/provenance/)
    stray = [
        p
        for p in (workdir / "figures").rglob("*")
        if p.is_file() and p.suffix not in {".png", ".pdf", ".csv", ".md", ".tex", ".html"}
    ]
    assert not stray, stray
    for name in TABLES:
        table = pd.read_csv(workdir / "figures" / "tables" / f"{name}.csv")
        assert len(table) > 0, name
        numbers = _numeric_columns(table)
        assert numbers.shape[1] > 0, name
        values = numbers.to_numpy(dtype=float)
        assert not (values == math.inf).any() and not (values == -math.inf).any(), name
        # every numeric column holds finite numbers (NaN only where a statistic is undefined, e.g. a
        # tolerance no seed reached)
        for col in numbers:
            assert numbers[col].notna().any(), f"{name}.{col} is empty"
        for ext in ("md", "tex"):
            text = (workdir / "figures" / "tables" / f"{name}.{ext}").read_text()
            assert len(text.splitlines()) >= 3, f"{name}.{ext}"
    # run data: histories are finite and every run finished
    runs = pd.concat(pd.read_csv(p) for p in sorted((workdir / "data" / "train").glob("*/*_runs.csv")))
    assert (runs.status == "ok").all()
    history = pd.read_csv(next((workdir / "data" / "train" / "e3").glob("w*_seed*[0-9].csv")))
    assert history.train_loss.notna().all() and (history.train_loss > 0).all()
    assert "elapsed_s" not in history.columns  # wall-clock time lives in the provenance record, not the data
    # every training job logged its runs
    for log in (workdir / "logs" / "train").glob("*/*.log"):
        assert "train loss" in log.read_text()


@pytest.mark.slow
def test_smoke_rerun_has_nothing_to_do(smoke_run):
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    again = run_snakemake(workdir, "-n", configfile=CONFIGS / "smoke.yaml")
    assert again.returncode == 0, again.stdout
    assert "Nothing to be done" in again.stdout, again.stdout


def _bad_config(tmp_path: Path, edit) -> Path:
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def _set(path_keys, value):
    def edit(config):
        node = config
        for key in path_keys[:-1]:
            node = node[key]
        node[path_keys[-1]] = value

    return edit


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_set(["e3", "widthz"], [10]), r"unknown key 'e3\.widthz'"),
        (_set(["e3", "widths"], [-5, 100]), r"key 'e3\.widths\[0\]': -5 is less than the minimum of 1"),
        (
            _set(["e3", "methods", "hrta_0.5", "schedule"], "0.5y20,1x40"),
            r"key 'e3\.methods\.hrta_0\.5\.schedule': malformed schedule '0\.5y20,1x40'",
        ),
        (
            _set(["e4", "methods", "relu", "schedule"], "3x60"),
            r"key 'e4\.methods\.relu\.schedule': stage 1 \(3x60\) has s = 3\.0, outside",
        ),
        (
            _set(["e3", "optimizers", "gd", "optimizer"], "lbfgs"),
            r"key 'e3\.optimizers\.gd\.optimizer': 'lbfgs' is not one of",
        ),
    ],
    ids=["unknown-key", "negative-width", "malformed-schedule", "s-out-of-range", "unknown-optimizer"],
)
def test_bad_config_stops_before_any_job(tmp_path, edit, expected):
    bad = _bad_config(tmp_path, edit)
    result = run_snakemake(tmp_path, configfile=bad)
    assert result.returncode != 0
    assert re.search(expected, result.stdout), result.stdout[-3000:]
    assert not (tmp_path / "data").exists() and not (tmp_path / "logs").exists()


def _job_counts(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run: {rule: count}."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stdout, re.M) if m.group(1) != "total"}


@pytest.mark.slow
def test_changing_one_value_reruns_only_what_depends_on_it(smoke_run, tmp_path):
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    config["e4"]["fit_window"] = 0.25  # used only by the E4 rate fit
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    dry = run_snakemake(workdir, "-n", configfile=changed)
    assert dry.returncode == 0, dry.stdout
    # CLAIMS.md reads the E4 rates (claim 3), so it is redone too.
    expected = {"e4_rates": 1, "table_e4": 1, "figures_e4": 1, "claims_report": 1, "claims_summary": 1}
    expected |= {"figure_claims_matrix": 1, "verify": 1, "all": 1}  # the certificate reads every table
    assert _job_counts(dry.stdout) == expected, dry.stdout


@pytest.mark.slow
def test_reordered_config_reruns_no_computation(smoke_run, tmp_path):
    """Key order in the YAML file is not a setting: with every key sorted, only the figures and
    tables whose legend/row order follows the order of methods and optimizers are redrawn."""
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=True))
    dry = run_snakemake(workdir, "-n", configfile=reordered)
    assert dry.returncode == 0, dry.stdout
    presentation = {"table_e3", "figure_e3_loss", "table_e4", "figures_e4", "figures_deep", "all"}
    presentation |= {"table_e4_horizons"}  # rows follow the order of e4.methods
    presentation |= {"verify"}  # the certificate reads those tables
    assert set(_job_counts(dry.stdout)) <= presentation, dry.stdout


@pytest.mark.slow
def test_data_outputs_record_what_made_them(smoke_run):
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    history = sorted((workdir / "data" / "train" / "e4").glob("w*_seed*[0-9].csv"))[0]
    meta = json.loads(
        (workdir / "data" / "provenance" / history.relative_to(workdir)).with_suffix(".csv.json").read_text()
    )
    width, seed = map(int, re.match(r"w(\d+)_seed(\d+)", history.name).groups())
    assert meta["seeds"] == [seed] and meta["config"]["width"] == width
    assert meta["config"]["methods"] and meta["config"]["dataset"]["n_train"] > 0
    assert re.fullmatch(r"[0-9a-f]{16}", meta["config_hash"])
    assert meta["versions"]["torch"] and meta["versions"]["snakemake"]
    assert meta["timings_s"]["job"] > 0


@pytest.mark.slow
def test_smoke_run_writes_claims_1_to_3_outputs(smoke_run):
    """Claim 1 on every data set, E2 eigenvalue errors, E4 horizons and lazy horizons (issue 10)."""
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    lam = pd.read_csv(workdir / "data" / "e2" / "lambda_min.csv")
    smoke = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    assert lam.dataset.nunique() >= 1 + len(smoke["e7"]["targets"]) - 1  # main + E7's other targets
    assert set(lam.layers) == set(smoke["e2"]["layers"])
    emp = pd.concat([pd.read_csv(p) for p in (workdir / "data" / "e2").glob("empirical_w*.csv")])
    assert {"rel_error_lambda_max", "rel_error_lambda_min"} <= set(emp.columns)
    ratios = pd.read_csv(workdir / "data" / "e4" / "horizons.csv")
    assert set(ratios.kernel) == {"analytic", "empirical"}
    assert set(ratios.horizon) == set(smoke["e4"]["horizons"])
    lazy = pd.read_csv(workdir / "data" / "e4" / "lazy_horizon.csv")
    wide = smoke["e4"]["wide"]
    assert set(lazy[lazy.width >= wide["min_width"]].seed) == set(wide["seeds"])
    assert (lazy.t_eps >= 0).all() and (lazy.t_eps <= lazy.last_step).all()
    assert set(lazy[lazy.width >= wide["min_width"]].method) == set(wide["methods"])
    # the linearization starts from the very network the wide (float32) job trained: equal losses at t = 0
    w, seed = wide["min_width"], wide["seeds"][0]
    hist = pd.read_csv(workdir / "data" / "train" / "e4" / f"w{w}_seed{seed}.csv")
    theory = pd.read_csv(workdir / "data" / "e4" / f"theory_w{w}.csv")
    t0 = theory[theory.step == 0].merge(hist[hist.step == 0], on=["method", "optimizer", "seed"])
    assert len(t0) == 2 * len(wide["methods"])
    assert np.allclose(t0.predicted_loss, t0.train_loss, rtol=1e-5)
    claims = pd.read_csv(workdir / "figures" / "tables" / "claims.csv")
    text = (workdir / "figures" / "tables" / "claims_parts.md").read_text()  # claims 1–3's parts and numbers
    assert "lazy horizon" in text and ("interval contains -0.5" in text or "interval excludes -0.5" in text)
    assert {"1", "2", "3"} <= set(claims["id"].astype(str))


@pytest.mark.slow
def test_configfile_replaces_the_default_config(tmp_path):
    """`--configfile smoke.yaml` next to the default config/config.yaml must not merge the two
    (the default's extra methods would leak into the smoke run and fail validation)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text((CONFIGS / "config.yaml").read_text())
    result = run_snakemake(tmp_path, "-n", configfile=CONFIGS / "smoke.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    default = run_snakemake(tmp_path, "-n")
    assert default.returncode == 0, default.stdout[-3000:]
    assert re.search(r"^train\s+46$", default.stdout, re.M)
