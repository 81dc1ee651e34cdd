"""Config errors of the `deep` section stop the workflow before any job, naming the key; a config
without the section has no deep jobs."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import CONFIGS, run_snakemake


def _config(tmp_path, edit):
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    edit(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["deep"].update(depthz=[1]), r"unknown key 'deep\.depthz'"),
        (lambda c: c["deep"].update(depths=[0, 2]), r"key 'deep\.depths\[0\]'"),
        (lambda c: c["deep"]["train"].update(dataset="nope"), r"key 'deep\.train\.dataset': unknown dataset 'nope'"),
        (
            lambda c: c["deep"]["train"]["methods"]["relu"].update(schedule="1x10,0.5~1x10"),
            r"key 'deep\.train\.methods\.relu\.schedule'",
        ),
        (lambda c: c["deep"]["convergence"].update(s_values=[2.5]), r"key 'deep\.convergence\.s_values\[0\]'"),
    ],
)
def test_bad_deep_config_is_refused_naming_the_key(tmp_path, edit, expected):
    result = run_snakemake(tmp_path, "-n", configfile=_config(tmp_path, edit))
    assert result.returncode != 0
    assert re.search(expected, result.stdout), result.stdout[-3000:]
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_without_the_deep_section_there_are_no_deep_jobs(tmp_path):
    result = run_snakemake(tmp_path, "-n", configfile=_config(tmp_path, lambda c: c.pop("deep")))
    assert result.returncode == 0, result.stdout[-3000:]
    assert not re.search(r"^(deep_\w+|figures_deep|tables_deep)\s+\d+$", result.stdout, re.M)
    assert re.search(r"^claims_report\s+1$", result.stdout, re.M)
