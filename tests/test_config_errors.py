"""Bad configs stop `snakemake -n` before any job, with a message naming the key and the reason.

Every case is a mutation of config/smoke.yaml written as YAML text (so .nan/.inf and float seeds
go through the YAML parser as a user would write them) and planned by the real workflow as
`snakemake -n` would, in its own temporary directory. The dry runs share one process
(conftest.dry_run_batch, one module fixture); each case is then its own parametrized test. The
refusal is a WorkflowError, which Snakemake's command line prints as its message alone, without a
traceback; tests/test_pipeline.py runs the command itself on bad configs and checks what it prints.
"""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import CONFIGS, dry_run_batch, run_snakemake


def _at(config, keys):
    node = config
    for key in keys[:-1]:
        node = node[key]
    return node, keys[-1]


def put(keys, value):
    """Mutation: config[k1][k2]... = value."""

    def edit(config):
        node, last = _at(config, keys)
        node[last] = value

    return edit


def drop(keys):
    def edit(config):
        node, last = _at(config, keys)
        del node[last]

    return edit


NAN, INF = float("nan"), float("inf")

# id: (mutation, regex the message must match: the key and the reason)
CASES = {
    "unknown-top-level-key": (put(["epochs"], 10), r"unknown key 'epochs'; allowed keys here: .*checkpoint_every"),
    "unknown-nested-key": (
        put(["e3", "model", "activation"], "relu"),
        r"unknown key 'e3\.model\.activation'; allowed keys here: base, output_init, train_output",
    ),
    "unknown-optimizer-key": (
        put(["e3", "optimizers", "gd", "momentum"], 0.9),
        r"unknown key 'e3\.optimizers\.gd\.momentum'; allowed keys here: .*lr",
    ),
    "unknown-dataset-key": (put(["datasets", "main", "n_trian"], 10), r"unknown key 'datasets\.main\.n_trian'"),
    "missing-required-key": (drop(["e3", "widths"]), r"key 'e3': 'widths' is a required property"),
    "width-as-string": (put(["e3", "widths"], "100"), r"key 'e3\.widths': '100' is not of type 'array'"),
    "log-every-as-string": (put(["e4", "log_every"], "5"), r"key 'e4\.log_every': '5' is not of type 'integer'"),
    "threads-float": (put(["threads", "train"], 1.5), r"key 'threads\.train': 1\.5 is not of type 'integer'"),
    "lr-as-string": (
        put(["e3", "optimizers", "gd", "lr"], "fast"),
        r"key 'e3\.optimizers\.gd\.lr': 'fast' is not of type 'number'",
    ),
    "empty-widths": (put(["e3", "widths"], []), r"key 'e3\.widths': \[\] (should be non-empty|is too short)"),
    "empty-seeds": (put(["e2", "seeds"], []), r"key 'e2\.seeds': \[\] (should be non-empty|is too short)"),
    "empty-methods": (
        put(["e4", "methods"], {}),
        r"key 'e4\.methods': \{\} (should be non-empty|does not have enough properties)",
    ),
    "zero-width": (put(["e4", "widths"], [0, 200]), r"key 'e4\.widths\[0\]': 0 is less than the minimum of 1"),
    "negative-width": (put(["e2", "widths"], [50, -200]), r"key 'e2\.widths\[1\]': -200 is less than the minimum of 1"),
    "zero-samples": (
        put(["datasets", "main", "n_train"], 0),
        r"key 'datasets\.main\.n_train': 0 is less than the minimum of 1",
    ),
    "zero-steps-in-schedule": (
        put(["e3", "methods", "relu", "schedule"], "1x0"),
        r"key 'e3\.methods\.relu\.schedule': malformed schedule '1x0'",
    ),
    "negative-steps-in-schedule": (
        put(["e3", "methods", "relu", "schedule"], "1x-60"),
        r"key 'e3\.methods\.relu\.schedule': malformed schedule '1x-60'",
    ),
    "zero-budget": (put(["e3", "budgets"], [0, 60]), r"key 'e3\.budgets\[0\]': 0 is less than the minimum of 1"),
    "one-grid-point": (put(["e1", "num_points"], 1), r"key 'e1\.num_points': 1 is less than the minimum of 2"),
    "s-above-2": (
        put(["e1", "s_values"], [0.0, 2.5]),
        r"key 'e1\.s_values\[1\]': 2\.5 is greater than the maximum of 2",
    ),
    "s-negative-in-schedule": (
        put(["e3", "methods", "hrta_0.5", "schedule"], "-0.5x20,1x40"),
        r"key 'e3\.methods\.hrta_0\.5\.schedule': .*(malformed schedule|outside the homotopy range)",
    ),
    "s-above-2-in-ramp": (
        put(["e3", "methods", "relax", "schedule"], "0.5x20,1:2.5x20,1.5x20"),
        r"key 'e3\.methods\.relax\.schedule': stage 2 .*s = 2\.5, outside the homotopy range \[0, 2\]",
    ),
    "lr-nan": (
        put(["e3", "optimizers", "gd", "lr"], NAN),
        r"key 'e3\.optimizers\.gd\.lr': non-finite number nan; must be a finite number",
    ),
    "lr-inf": (
        put(["e4", "optimizers", "gd", "lr"], INF),
        r"key 'e4\.optimizers\.gd\.lr': non-finite number inf; must be a finite number",
    ),
    "z-max-inf": (put(["e1", "z_max"], INF), r"key 'e1\.z_max': non-finite number inf"),
    "noise-nan": (put(["datasets", "main", "noise"], NAN), r"key 'datasets\.main\.noise': non-finite number nan"),
    "tolerance-minus-inf": (put(["e3", "tolerances"], [-INF]), r"key 'e3\.tolerances\[0\]': non-finite number -inf"),
    "malformed-schedule": (
        put(["e3", "methods", "hrta_0.5", "schedule"], "0.5y20,1x40"),
        r"key 'e3\.methods\.hrta_0\.5\.schedule': malformed schedule '0\.5y20,1x40'",
    ),
    "schedule-trailing-comma": (
        put(["e4", "methods", "relu", "schedule"], "1x60,"),
        r"key 'e4\.methods\.relu\.schedule': malformed schedule '1x60,'",
    ),
    "ramp-in-e4": (
        put(["e4", "methods", "hrta_0.5", "schedule"], "0.5:1x30,1x30"),
        r"key 'e4\.methods\.hrta_0\.5\.schedule': stage 1 .* is a ramp",
    ),
    "unequal-budgets": (
        put(["e3", "methods", "relu", "schedule"], "1x50"),
        r"key 'e3\.methods': all schedules must have the same total number of steps",
    ),
    "budget-beyond-steps": (
        put(["e3", "budgets"], [20, 600]),
        r"key 'e3\.budgets\[1\]': budget 600 exceeds the 60 steps",
    ),
    "unknown-optimizer": (
        put(["e3", "optimizers", "gd", "optimizer"], "lbfgs"),
        r"key 'e3\.optimizers\.gd\.optimizer': 'lbfgs' is not one of \['gd', 'sgd', 'adam'\]",
    ),
    "adam-in-e4": (
        put(["e4", "optimizers", "gd", "optimizer"], "adam"),
        r"key 'e4\.optimizers\.gd\.optimizer': 'adam' is not one of \['gd'\]",
    ),
    "sgd-without-batch-size": (
        put(["e3", "optimizers", "gd", "optimizer"], "sgd"),
        r"key 'e3\.optimizers\.gd\.batch_size': required for optimizer 'sgd'",
    ),
    "unknown-base": (
        put(["e3", "model", "base"], "sigmoid"),
        r"key 'e3\.model\.base': 'sigmoid' is not one of \['relu', 'tanh', 'gelu'\]",
    ),
    "e5-model-unknown-base": (  # the allowed names are the hrta.bases registry's
        put(["e5", "models", "tanh", "base"], "softplus"),
        r"key 'e5\.models\.tanh\.base': 'softplus' is not one of \['relu', 'tanh', 'gelu'\]",
    ),
    "declared-absence-trained": (  # claims.readings.<name>.not_trained_in must be true (hrta.pipeline.lint)
        put(["claims", "readings", "to_relu", "not_trained_in"], {"hrta_0.5": ["e5"]}),
        r"key 'claims\.readings\.to_relu\.not_trained_in\.hrta_0\.5\[0\]': e5 trains method 'hrta_0\.5'",
    ),
    "declared-absence-unknown-experiment": (
        put(["claims", "readings", "continuous", "not_trained_in"], {"ramp_1.5": ["e9"]}),
        r"key 'claims\.readings\.continuous\.not_trained_in\.ramp_1\.5\[0\]': 'e9' is not an experiment",
    ),
    "unknown-target": (
        put(["datasets", "main", "target"], "cos1d"),
        r"key 'datasets\.main\.target': 'cos1d' is not one of \['sin1d', .*'sphere', 'sphere_d'\]",
    ),
    "unknown-dtype": (put(["dtype"], "float16"), r"key 'dtype': 'float16' is not one of \['float32', 'float64'\]"),
    "unknown-device": (put(["device"], "tpu"), r"key 'device': 'tpu' is not one of \['cpu', 'cuda', 'auto'\]"),
    "unknown-layers": (
        put(["e2", "layers"], ["both", "last"]),
        r"key 'e2\.layers\[1\]': 'last' is not one of \['both', 'first'\]",
    ),
    "fractional-seed": (put(["e3", "seeds"], [0, 0.5]), r"key 'e3\.seeds\[1\]': 0\.5 is not of type 'integer'"),
    "float-seed": (put(["e4", "seeds"], [0, 1.0]), r"key 'e4\.seeds\[1\]': 1\.0 is not an integer"),
    "string-seed": (put(["e2", "seeds"], ["zero"]), r"key 'e2\.seeds\[0\]': 'zero' is not of type 'integer'"),
    "negative-seed": (
        put(["datasets", "main", "seed"], -1),
        r"key 'datasets\.main\.seed': -1 is less than the minimum of 0",
    ),
    "duplicate-widths": (put(["e4", "widths"], [50, 50]), r"key 'e4\.widths': \[50, 50\] has non-unique elements"),
    "unknown-dataset": (
        put(["e3", "dataset"], "mian"),
        r"key 'e3\.dataset': unknown dataset 'mian'; defined under 'datasets': main",
    ),
    "lr-zero": (
        put(["e3", "optimizers", "adam", "lr"], 0),
        r"key 'e3\.optimizers\.adam\.lr': 0 is less than or equal to the minimum of 0",
    ),
    "lr-negative": (
        put(["e4", "optimizers", "gd", "lr"], -0.5),
        r"key 'e4\.optimizers\.gd\.lr': -0\.5 is less than or equal to the minimum of 0",
    ),
    "adam-beta-one": (
        put(["e3", "optimizers", "adam", "adam_betas"], [0.9, 1.0]),
        r"key 'e3\.optimizers\.adam\.adam_betas\[1\]': 1\.0 is greater than or equal to the maximum of 1",
    ),
    "z-range-reversed": (put(["e1", "z_max"], -3.0), r"key 'e1\.z_min': must be smaller than e1\.z_max"),
    "checkpoint-every-zero": (put(["checkpoint_every"], 0), r"key 'checkpoint_every': 0 is less than the minimum of 1"),
    "mem-cap-zero": (
        put(["resources"], {"max_mem_mb": 0}),
        r"key 'resources\.max_mem_mb': 0 is less than the minimum of 1",
    ),
    "mem-cap-string": (
        put(["resources"], {"max_mem_mb": "4G"}),
        r"key 'resources\.max_mem_mb': '4G' does not match '\^auto\$'",
    ),
    "runtime-cap-zero": (
        put(["resources"], {"max_runtime": 0}),
        r"key 'resources\.max_runtime': 0 is less than the minimum of 1",
    ),
    "runtime-factor-below-one": (
        put(["resources"], {"runtime_factor": 0.5}),
        r"key 'resources\.runtime_factor': 0\.5 is less than the minimum of 1",
    ),
    "e5-model-unknown-optimizer": (
        put(["e5", "models", "deep3", "optimizers"], ["gd", "sgd"]),
        r"key 'e5\.models\.deep3\.optimizers\[1\]': 'sgd' is not one of e5\.optimizers",
    ),
    "e6-model-with-optimizers": (
        put(["e6", "model", "optimizers"], ["gd"]),
        r"key 'e6\.model\.optimizers': only e5's models choose optimizers",
    ),
    "e5-model-dtype-unknown": (
        put(["e5", "models", "deep3", "dtype"], "float16"),
        r"key 'e5\.models\.deep3\.dtype': 'float16' is not one of \['float32', 'float64'\]",
    ),
    # issue 24: output_init antisymmetric pairs unit k with unit k + m/2 (even widths, two-layer networks only)
    "antisymmetric-odd-width": (
        put(["e3_equal_init", "widths"], [101]),
        r"key 'e3_equal_init\.widths\[0\]': width 101 is odd; output_init 'antisymmetric' pairs unit k with unit k \+ m/2",
    ),
    "antisymmetric-odd-sweep-width": (
        put(["e6", "model"], {"kind": "two_layer", "width": 51, "base": "relu", "output_init": "antisymmetric"}),
        r"key 'e6\.model\.width': width 51 is odd; output_init 'antisymmetric'",
    ),
    "deep-with-output-init": (
        put(["e5", "models", "deep3", "output_init"], "antisymmetric"),
        r"key 'e5\.models\.deep3': a deep network \(kind deep\) takes hidden-layer `widths`, not `width`, and no "
        r"`output_init`",
    ),
    "unknown-output-init": (
        put(["e3", "model", "output_init"], "paired"),
        r"key 'e3\.model\.output_init': 'paired' is not one of \['gaussian', 'sign', 'antisymmetric'\]",
    ),
    # issue 24: a comparison's source is any section claims_endpoints reads; a variant names a source
    "endpoint-source-not-read": (
        put(["claims", "endpoints", "comparisons", 0, "source"], "e7"),
        r"key 'claims\.endpoints\.comparisons\[0\]\.source': 'e7' is not a training experiment, e5 or a fairness sweep",
    ),
    "endpoint-source-missing": (
        put(["claims", "endpoints", "comparisons", 0, "source"], "e9"),
        r"key 'claims\.endpoints\.comparisons\[0\]\.source': the config has no section 'e9'",
    ),
    "variant-of-no-comparison": (
        put(["claims", "endpoints", "variants", "e4"], "T = 60"),
        r"key 'claims\.endpoints\.variants\.e4': 'e4' is the source of no comparison",
    ),
}


def _write_yaml(config, path):
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    path.write_text(text)
    return path


def _bad_config(case_dir, edit):
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    edit(config)
    case_dir.mkdir()
    return case_dir, _write_yaml(config, case_dir / "bad.yaml")


@pytest.fixture(scope="module")
def dry_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_configs")
    cases = {name: _bad_config(root / name, edit) for name, (edit, _) in CASES.items()}
    cases["unchanged"] = _bad_config(root / "unchanged", lambda config: None)  # the control: accepted
    return dry_run_batch(cases)


@pytest.mark.slow
@pytest.mark.xdist_group("bad_configs")
def test_the_unchanged_smoke_config_passes_the_same_batch(dry_runs):
    workdir, result = dry_runs["unchanged"]
    assert result == {"ok": True, "error": None, "message": ""}
    assert not (workdir / "data").exists()  # a dry run


def test_enough_distinct_cases():
    assert len(CASES) >= 20


@pytest.mark.slow
@pytest.mark.xdist_group("bad_configs")  # one worker runs the module fixture's batch
@pytest.mark.parametrize("case", list(CASES))
def test_bad_config_is_refused_before_any_job(dry_runs, case):
    workdir, result = dry_runs[case]
    expected = CASES[case][1]
    assert not result["ok"], f"{case} was accepted"
    message = result["message"]
    assert result["error"] == "WorkflowError", result  # printed without a traceback by Snakemake's CLI
    assert message.startswith(("invalid config: key", "invalid config: unknown key")), message
    assert re.search(expected, message), f"{case}: no /{expected}/ in\n{message}"
    assert not (workdir / "data").exists() and not (workdir / "logs").exists()


@pytest.mark.slow
def test_memory_cap_refuses_a_too_wide_network(tmp_path):
    """resources.max_mem_mb: a width whose training needs more than the cap is refused up front,
    naming the job, its width and the estimate (hrta.pipeline.two_layer_train_mb)."""
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    config["resources"] = {"max_mem_mb": 4096}
    config["e3"]["widths"] = [10**8]
    result = run_snakemake(tmp_path, "-n", configfile=_write_yaml(config, tmp_path / "wide.yaml"))
    assert result.returncode != 0
    assert re.search(
        r"key 'resources\.max_mem_mb': 1 job\(s\) exceed the memory cap 4\.0 GB .*"
        r"train job e3 width m=100000000 \(n=20, n_test=20, d=2, float64\) needs ≈ 12\.7 GB",
        result.stdout,
    ), result.stdout[-3000:]
    assert not (tmp_path / "data").exists()
    # the same config under a cap it fits (and with no cap) is accepted
    config["e3"]["widths"] = [100]
    ok = run_snakemake(tmp_path, "-n", configfile=_write_yaml(config, tmp_path / "fits.yaml"))
    assert ok.returncode == 0, ok.stdout[-3000:]


def test_pipeline_job_estimates_cover_every_training_and_kernel_job():
    """hrta.pipeline.pipeline_job_estimates (used by common.smk and, per job, by the scripts)."""
    from hrta.pipeline.memory import ResourceError, check_pipeline_memory, pipeline_job_estimates, train_job_mb

    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    jobs = dict(pipeline_job_estimates(config))
    names = [name.split(" (")[0] for name in jobs]
    assert names == [
        "train job e3 width m=100",
        "train job e3_equal_init width m=100",
        "train job e3_long width m=16",
        "train job e4 width m=50",
        "train job e4 width m=200",
        "train job e4 width m=400",
        "kernel job e4_theory width m=50",
        "kernel job e4_theory width m=200",
        "kernel job e4_theory width m=400",
        "train job e8 width m=50",
        "train job e8 width m=200",
        "kernel job e2_analytic",
        "kernel job e2_empirical width m=50",
        "kernel job e2_empirical width m=200",
    ]
    assert all(0 < mb < 100 for mb in jobs.values())
    e3 = train_job_mb(
        n=20,
        n_test=20,
        d=2,
        width=100,
        model=config["e3"]["model"],
        optimizers=config["e3"]["optimizers"],
        dtype="float64",
    )
    assert jobs["train job e3 width m=100 (n=20, n_test=20, d=2, float64)"] == e3
    assert check_pipeline_memory(config, None) == list(jobs.items())
    config["e4"].pop("wide")  # float64 at every width, so the sizes below keep their float64 estimates
    config["e4"]["widths"] = [10**7, 2 * 10**7]
    with pytest.raises(
        ResourceError,
        match=r"2 job\(s\) exceed the memory cap 500 MB .*e4 width m=10000000 .*"
        r"e4 width m=20000000 .*needs ≈ 1\.2 GB",
    ):
        check_pipeline_memory(config, 500)
