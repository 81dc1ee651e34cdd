"""Config errors of the `deep` section stop the workflow before any job, naming the key; a config
without the section has no deep jobs."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import CONFIGS, dry_run_batch, run_snakemake


def _config(tmp_path, edit):
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    edit(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


# id: (mutation of config/smoke.yaml, regex the refusal must match)
BAD_DEEP_CASES = {
    "unknown-key": (lambda c: c["deep"].update(depthz=[1]), r"unknown key 'deep\.depthz'"),
    "depth-0": (lambda c: c["deep"].update(depths=[0, 2]), r"key 'deep\.depths\[0\]'"),
    "unknown-dataset": (
        lambda c: c["deep"]["train"].update(dataset="nope"),
        r"key 'deep\.train\.dataset': unknown dataset 'nope'",
    ),
    "malformed-schedule": (
        lambda c: c["deep"]["train"]["methods"]["relu"].update(schedule="1x10,0.5~1x10"),
        r"key 'deep\.train\.methods\.relu\.schedule'",
    ),
    "s-out-of-range": (
        lambda c: c["deep"]["convergence"].update(s_values=[2.5]),
        r"key 'deep\.convergence\.s_values\[0\]'",
    ),
}


@pytest.fixture(scope="module")
def bad_deep_dry_runs(tmp_path_factory):
    """Every BAD_DEEP_CASES config planned as `snakemake -n` would, in one process (conftest.dry_run_batch)."""
    root, cases = tmp_path_factory.mktemp("bad_deep"), {}
    for name, (edit, _) in BAD_DEEP_CASES.items():
        (root / name).mkdir()
        cases[name] = (root / name, _config(root / name, edit))
    return dry_run_batch(cases)


@pytest.mark.slow
@pytest.mark.xdist_group("bad_deep")  # one worker runs the module fixture's batch
@pytest.mark.parametrize("case", list(BAD_DEEP_CASES))
def test_bad_deep_config_is_refused_naming_the_key(bad_deep_dry_runs, case):
    workdir, result = bad_deep_dry_runs[case]
    assert not result["ok"] and result["error"] == "WorkflowError", result
    assert re.search(BAD_DEEP_CASES[case][1], result["message"]), result["message"]
    assert not (workdir / "data").exists()


@pytest.mark.slow
def test_without_the_deep_section_there_are_no_deep_jobs(tmp_path):
    result = run_snakemake(tmp_path, "-n", configfile=_config(tmp_path, lambda c: c.pop("deep")))
    assert result.returncode == 0, result.stdout[-3000:]
    assert not re.search(r"^(deep_\w+|figures_deep|tables_deep)\s+\d+$", result.stdout, re.M)
    assert re.search(r"^claims_report\s+1$", result.stdout, re.M)
