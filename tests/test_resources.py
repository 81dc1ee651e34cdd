"""hrta.resources: memory estimates against measured peak RSS, and the cap check."""

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hrta.resources import (
    MB,
    ResourceError,
    analytic_ntk_mb,
    check_memory,
    empirical_ntk_mb,
    jacobian_ntk_mb,
    two_layer_buffer_elements,
    two_layer_train_mb,
)

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
    "analytic-relu-float64": (dict(kind="analytic", n=2500, d=3), lambda j: analytic_ntk_mb(j["n"], j["d"])),
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
