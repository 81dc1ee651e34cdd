"""hrta.pipeline: memory estimates against measured peak RSS, and the cap check."""

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hrta.pipeline.memory import (
    ResourceError,
    analytic_ntk_mb,
    check_memory,
    empirical_ntk_mb,
    jacobian_ntk_mb,
    two_layer_buffer_elements,
    two_layer_train_mb,
)
from hrta.sizes import MB

# Peak RSS growth of one job, in a fresh process. ru_maxrss (getrusage) cannot be reset and would
# include the peak of `import torch`, so the peak is reset with /proc/self/clear_refs ("5" sets
# VmHWM to the current RSS) after imports and a tiny warm-up, and VmHWM is read at the end.
MEASURE = textwrap.dedent("""
    import json, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from hrta.models import DeepNet, TwoLayerNet
    from hrta.ntk import analytic_ntk, empirical_ntk, jacobian_ntk
    from hrta.train import TrainConfig, train

    def kb(key):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(key))

    job = json.loads(sys.argv[1])
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(job["n"], job["d"]))
    y = np.sin(X[:, 0])
    Xt = torch.as_tensor(X)
    # warm-up: lazy library initialization is not part of the job's memory
    train(TwoLayerNet(job["d"], 8), X[:4], y[:4], TrainConfig("1x2", optimizer="adam", lr=0.01))
    analytic_ntk(Xt[:3], 1.0); empirical_ntk(TwoLayerNet(job["d"], 8), Xt[:3].float())
    jacobian_ntk(DeepNet(job["d"], (8, 8)), Xt[:3])
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = kb("VmRSS")
    if job["kind"] == "train":
        model = TwoLayerNet(job["d"], job["m"], base=job["base"], dtype=job["dtype"])
        train(model, X, y, TrainConfig("1x3", optimizer=job["optimizer"], lr=1e-3, dtype=job["dtype"]))
    elif job["kind"] == "empirical":
        model = TwoLayerNet(job["d"], job["m"], base=job["base"], dtype=job["dtype"])
        empirical_ntk(model, Xt.to(model.W.dtype))
    elif job["kind"] == "jacobian":
        jacobian_ntk(DeepNet(job["d"], job["widths"]), Xt)
    else:
        analytic_ntk(Xt, 1.5)
    print(json.dumps({"growth_mb": (kb("VmHWM") - before) / 1024}))
""")

JOBS = {
    "train-tanh-float64-gd": (
        dict(kind="train", n=2000, m=4000, d=3, base="tanh", dtype="float64", optimizer="gd"),
        lambda j: two_layer_train_mb(j["n"], j["m"], j["d"], base="tanh", dtype="float64"),
    ),
    "train-relu-float32-adam": (
        dict(kind="train", n=100, m=1_500_000, d=3, base="relu", dtype="float32", optimizer="adam"),
        lambda j: two_layer_train_mb(j["n"], j["m"], j["d"], optimizer="adam"),
    ),
    "empirical-relu-float32": (
        dict(kind="empirical", n=2500, m=5000, d=3, base="relu", dtype="float32"),
        lambda j: empirical_ntk_mb(j["n"], j["m"], j["d"]),
    ),
    "analytic-relu-float64": (dict(kind="analytic", n=1800, d=3), lambda j: analytic_ntk_mb(j["n"], j["d"])),
    "jacobian-deepnet-float32": (
        dict(kind="jacobian", n=250, d=3, widths=[128, 128]),
        lambda j: jacobian_ntk_mb(j["n"], 3 * 128 + 128 * 128 + 128, activations=256),
    ),
}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Peak RSS growth (MB) of each job, the jobs run two at a time in separate processes."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc/self/clear_refs to reset the peak RSS")
    out, names = {}, list(JOBS)
    for i in range(0, len(names), 2):
        procs = {
            name: subprocess.Popen(
                [sys.executable, "-c", MEASURE, json.dumps(JOBS[name][0])],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names[i : i + 2]
        }
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=120)
            assert proc.returncode == 0, stderr
            out[name] = json.loads(stdout.strip().splitlines()[-1])["growth_mb"]
    return out


@pytest.mark.slow  # five jobs of up to ~1 GB, each in a fresh process
@pytest.mark.xdist_group("peak_rss")  # one worker measures them all (module fixture)
@pytest.mark.parametrize("name", list(JOBS))
def test_estimate_within_factor_1_5_of_measured_peak_rss(name, measured):
    job, estimate = JOBS[name]
    est, rss = estimate(job), measured[name]
    assert rss > 40, f"{name}: job too small to measure ({rss:.1f} MB)"
    print(f"{name}: estimate {est:.1f} MB, measured peak RSS growth {rss:.1f} MB, ratio {est / rss:.3f}")
    assert 1 / 1.5 <= est / rss <= 1.5, (name, est, rss)


def test_training_formula_counts_the_buffers():
    n, m, d = 100, 1_000_000, 2
    # tanh/gelu: Z, D, E are n×m; plus W, a, the d×m scratch and grad_W, grad_a, small d-, n-vectors
    per_batch = 3 * n * m + 2 * d * m + 2 * d * m + 2 * d * n + 2 * d + n + m
    expected = (d * m + m + n * (d + 1) + per_batch) * 8 / MB
    assert two_layer_train_mb(n, m, d, base="tanh", dtype="float64") == pytest.approx(expected, rel=1e-12)
    assert two_layer_train_mb(n, m, d, base="gelu", dtype="float64") == two_layer_train_mb(
        n, m, d, base="tanh", dtype="float64"
    )
    # ReLU on the CPU works in 4 MiB column blocks: no n×m term, so a much wider net fits
    relu = two_layer_train_mb(n, m, d, base="relu", dtype="float64")
    assert relu < two_layer_train_mb(n, m, d, base="tanh", dtype="float64") / 5
    assert two_layer_buffer_elements(n, m, d, "relu", 8, device="cuda") > n * m  # no blocking off the CPU
    # Adam adds three copies of the trained parameters; float64 doubles everything
    assert two_layer_train_mb(n, m, d, optimizer="adam") - two_layer_train_mb(n, m, d) == pytest.approx(
        3 * (d * m + m) * 4 / MB
    )
    assert two_layer_train_mb(n, m, d, base="tanh", dtype="float64") == pytest.approx(
        2 * two_layer_train_mb(n, m, d, base="tanh")
    )
    # SGD keeps buffer sets for the batch, the last partial batch and the full-loss evaluation
    sgd = two_layer_train_mb(n, m, d, optimizer="sgd", batch_size=30, base="tanh")
    assert sgd > two_layer_train_mb(n, m, d, base="tanh")


def test_ntk_formulas_scale_as_documented():
    # empirical: independent of m beyond one chunk except for the float64 copies of W, a
    assert empirical_ntk_mb(1000, 10**6, 3, dtype="float64") == empirical_ntk_mb(1000, 4096, 3, dtype="float64")
    # analytic ReLU: 5 n×n float64 for large n
    assert analytic_ntk_mb(20000, 3) == pytest.approx(5 * 20000**2 * 8 / MB, rel=1e-3)
    # quadrature (tanh) grows like n·q² per row block: far more than ReLU at moderate n
    assert analytic_ntk_mb(1000, 3, base="tanh") > 4 * analytic_ntk_mb(1000, 3)
    assert jacobian_ntk_mb(100, 10**6) == pytest.approx(
        (10**6 + 2 * 100 * 10**6 + 4 * 100**2) * 8 / MB + 100**2 * 4 / MB
    )
    assert jacobian_ntk_mb(400, 4352, activations=128) == pytest.approx(
        (4352 + 400 * 4352 + 2 * 400**2 * 128 + 4 * 400**2) * 8 / MB + 400**2 * 4 / MB
    )


def test_check_memory_message_names_estimate_cap_and_key():
    need = two_layer_train_mb(100, 1_000_000, 2, base="tanh", dtype="float64")
    with pytest.raises(ResourceError) as err:
        check_memory(need, 1024, "training width m=1000000, n=100, float64")
    msg = str(err.value)
    assert msg.startswith("training width m=1000000, n=100, float64 needs ≈ 2.3 GB > cap 1.0 GB")
    assert "resources.max_mem_mb" in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(ResourceError, match=r"needs ≈ 600 MB > cap 500 MB.*config key ntk.max_mb"):
        check_memory(600, 500, "empirical NTK n=3000", key="ntk.max_mb")
    check_memory(need, need + 1, "fits")  # no error at or under the cap
    check_memory(need, None, "no cap")


@pytest.mark.parametrize("cap", [0, -5, float("nan"), float("inf"), "1024", True])
def test_check_memory_rejects_bad_caps(cap):
    with pytest.raises(ValueError, match=r"memory cap \(resources.max_mem_mb\)"):
        check_memory(10, cap, "job")


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: two_layer_train_mb(0, 10, 2), "n"),
        (lambda: two_layer_train_mb(10, 2.0, 2), "m"),
        (lambda: two_layer_train_mb(10, 10, 2, optimizer="sgd"), "batch_size"),
        (lambda: two_layer_train_mb(10, 10, 2, optimizer="lbfgs"), "optimizer"),
        (lambda: two_layer_train_mb(10, 10, 2, dtype="float16"), "dtype"),
        (lambda: empirical_ntk_mb(10, 10, 2, base="sigmoid"), "base"),
        (lambda: analytic_ntk_mb(10, 2, nodes=1), "nodes"),
        (lambda: jacobian_ntk_mb(10, -1), "P"),
    ],
)
def test_estimators_validate_their_arguments(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_refused_before_any_allocation():
    """Sizes far beyond any machine: the estimate and the refusal cost no memory (nothing is built)."""
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    need = two_layer_train_mb(10**6, 10**9, 3, base="gelu", optimizer="adam")
    assert need > 1e9  # petabytes
    with pytest.raises(ResourceError, match="PB|GB"):
        check_memory(need, 64 * 1024, "training width m=1000000000, n=1000000, float32")
    with pytest.raises(ResourceError):
        check_memory(analytic_ntk_mb(10**7, 3), 64 * 1024, "analytic NTK n=10000000")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 1024  # KB: < 1 MB


# ------------------------------------------------------------------------------------------------
# runtime formulas, requests and caps


def test_runtime_formulas_scale_as_documented():
    """Each formula against its docstring's terms, evaluated by hand from RUNTIME_CONSTANTS."""
    from hrta.pipeline.runtime import (
        RUNTIME_CONSTANTS,
        empirical_ntk_s,
        spectrum_s,
        train_run_s,
        two_layer_forward_s,
        two_layer_step_s,
    )
    from hrta.sizes import FAST_BLOCK_BYTES

    c = RUNTIME_CONSTANTS["step_relu_float64"]
    n, m = 100, 1000  # one cache block: no recomputed pattern
    assert n * m * 8 <= FAST_BLOCK_BYTES
    assert two_layer_step_s(n, m) == pytest.approx(c["c0"] + c["nm"] * n * m + c["m"] * m + c["nmd"] * n * m * 2)
    n, m = 100, 100_000  # many blocks: the pattern is formed twice
    nm = c["nm"] + c["recompute"] + 2 * c["nmd"]
    assert two_layer_step_s(n, m) == pytest.approx(c["c0"] + nm * n * m + c["m"] * m)
    assert two_layer_step_s(n, m, 20) - two_layer_step_s(n, m, 2) == pytest.approx(c["nmd"] * n * m * 18)
    adam = RUNTIME_CONSTANTS["adam_float64"]["param"] * 3 * m * 3
    assert two_layer_step_s(n, m, 2, optimizer="adam") == pytest.approx(two_layer_step_s(n, m) + adam)
    # a run: steps updates + (steps // log_every + 1) logged losses on the training and test rows
    run = train_run_s(
        n=100,
        n_test=200,
        d=2,
        model={"width": 1000},
        optimizer={"optimizer": "gd"},
        steps=2000,
        log_every=10,
        dtype="float64",
    )
    expected = 2000 * two_layer_step_s(100, 1000) + 201 * (
        two_layer_forward_s(100, 1000) + two_layer_forward_s(200, 1000)
    )
    assert run == pytest.approx(expected)
    e = RUNTIME_CONSTANTS["empirical_ntk"]
    assert empirical_ntk_s(100, 10**5) == pytest.approx(e["c0"] + e["nnm"] * 100**2 * 10**5 + e["nm"] * 100 * 10**5)
    assert spectrum_s(2000) / spectrum_s(1000) == pytest.approx(8, rel=0.01)  # n³ dominates


def _estimate(seconds=100.0, mb=500.0):
    from hrta.pipeline.estimates import JobEstimate

    return JobEstimate("train", {"exp": "e3", "width": "1000", "seed": "0"}, seconds, mb)


def test_requests_are_the_estimate_times_the_safety_factor():
    from hrta.pipeline.cluster import job_requests

    res = {"runtime_factor": 3.0, "mem_factor": 1.5, "min_runtime": 5, "min_mem_mb": 1000}
    assert job_requests(_estimate(600, 2000), res) == (30, 3000)  # ⌈3·600/60⌉, ⌈1.5·2000⌉
    assert job_requests(_estimate(10, 100), res) == (5, 1000)  # the minimums
    assert job_requests(_estimate(600, 2000), res, attempt=2) == (60, 6000)  # a retry asks for more
    assert job_requests(_estimate(600, 2000), dict(res, max_runtime=20, max_mem_mb=2500)) == (20, 2500)  # capped
    assert job_requests(_estimate(600, 2000), dict(res, max_mem_mb="auto")) == (30, 3000)


def test_job_limits_name_rule_wildcards_estimate_cap_and_key():
    from hrta.pipeline.cluster import check_job_limits

    check_job_limits(_estimate(100, 500), {"max_runtime": 2}, memory_cap_mb=1000)  # fits both
    with pytest.raises(ResourceError) as err:
        check_job_limits(_estimate(100, 5000), {"max_mem_mb": 4096}, memory_cap_mb=4096)
    msg = str(err.value)
    for part in ("rule train (exp=e3, width=1000, seed=0)", "≈ 4.9 GB", "cap 4.0 GB", "resources.max_mem_mb"):
        assert part in msg, msg
    with pytest.raises(ResourceError) as err:
        check_job_limits(_estimate(7200, 500), {"max_runtime": 60}, memory_cap_mb=None)
    msg = str(err.value)
    for part in ("rule train (exp=e3, width=1000, seed=0)", "≈ 2.0 h", "cap 60 min", "resources.max_runtime"):
        assert part in msg, msg


def test_unknown_rule_gets_a_generous_default_and_a_warning():
    from hrta.pipeline.estimates import UNKNOWN_RULE_MB, UNKNOWN_RULE_S, estimate_job

    with pytest.warns(UserWarning, match="no runtime/memory estimator for rule 'brand_new'"):
        est = estimate_job("brand_new", {"x": 1}, {})
    assert (est.seconds, est.mem_mb, est.known) == (UNKNOWN_RULE_S, UNKNOWN_RULE_MB, False)


def test_auto_memory_cap_is_what_this_process_may_use(monkeypatch):
    """'auto' = the smallest of the Slurm allocation, the cgroup limit and MemAvailable (reference:
    /proc/meminfo read here directly)."""
    from hrta.pipeline.cluster import resolve_memory_cap
    from hrta.pipeline.memory import available_memory_mb

    meminfo = Path("/proc/meminfo").read_text()
    available = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemAvailable:"))) / 1024
    monkeypatch.delenv("SLURM_MEM_PER_NODE", raising=False)
    monkeypatch.delenv("SLURM_MEM_PER_CPU", raising=False)
    assert available_memory_mb() <= available * 1.05
    monkeypatch.setenv("SLURM_MEM_PER_NODE", "1234")
    assert available_memory_mb() == 1234.0
    assert (
        resolve_memory_cap("auto") == 1234.0 and resolve_memory_cap(5000) == 5000 and resolve_memory_cap(None) is None
    )
    with pytest.raises(ResourceError, match=r"cap 1\.2 GB"):
        check_memory(2000.0, "auto", "a job")


@pytest.mark.parametrize(("optimizer", "widening"), [("gd", 1), ("adam", 10)])
def test_tune_estimate_counts_the_expected_widening(optimizer, widening):
    """Issue 24, 5b: a tune part's estimate is the grid plus the expected widening per method (GD 1 step, bounded by
    its stability limit; Adam the whole limit, max_steps), each step one run of train_run_s per method: the
    difference between max_steps 10 and 4 is 6 runs per method for Adam and nothing for GD (reference: train_run_s
    of each E6 method, summed by hand)."""
    import copy

    import yaml

    from hrta.pipeline.config_schema import validate_config
    from hrta.pipeline.estimates import estimate_job, tune_widening_steps
    from hrta.pipeline.runtime import train_run_s

    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text(encoding="utf-8"))
    config = validate_config(config, repo / "workflow" / "schemas" / "config.schema.yaml")
    assert config["e6"]["lr_choice"]["max_steps"] == 10
    opt = config["e6"]["optimizers"][optimizer]
    assert tune_widening_steps(opt, 10) == widening and tune_widening_steps(opt, 0) == 0
    fewer = copy.deepcopy(config)
    fewer["e6"]["lr_choice"]["max_steps"] = 4
    wc = {"exp": "e6", "cell": optimizer}
    diff = estimate_job("claims_tune", wc, config).seconds - estimate_job("claims_tune", wc, fewer).seconds
    per_step = sum(
        train_run_s(n=100, n_test=0, d=2, model=config["e6"]["model"], optimizer=opt, steps=2000, log_every=10,
                    dtype=config["dtype"])
        for _ in config["e6"]["methods"]
    )  # fmt: skip
    assert diff == pytest.approx((widening - min(widening, 4)) * per_step, rel=1e-9)
