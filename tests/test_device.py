"""Devices: the CPU fallback of device="auto" (run everywhere, with CUDA hidden) and, on a machine
with a GPU, CUDA results against the CPU in float64 (training, loss/gradient, NTKs, spectrum).

benchmarks/gpu_check.sh runs this file on a GPU machine; without CUDA the GPU tests are skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hrta.models import DeepNet, TwoLayerNet, resolve_device
from hrta.ntk import analytic_ntk, empirical_ntk, predict_loss_curve, spectrum
from hrta.train import TrainConfig, train

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (run benchmarks/gpu_check.sh on one)")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def data(n=24, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    return X, np.sin(2.0 * X[:, 0]) + 0.5 * X[:, 1]


def run(device, optimizer="gd", m=64, base="relu", dtype="float64", train_output=True):
    """A short two-stage HRTA run; returns (model, TrainResult)."""
    X, y = data()
    model = TwoLayerNet(2, m, s=0.5, base=base, seed=3, dtype=dtype, device=device, train_output=train_output)
    extra = {"batch_size": 8} if optimizer == "sgd" else {}
    lr = 1e-2 if optimizer == "adam" else 0.5
    cfg = TrainConfig(
        "0.5x15,1x15", optimizer=optimizer, lr=lr, log_every=5, dtype=dtype, device=device, seed=1, **extra
    )
    return model, train(model, X, y, cfg, X_test=X[:8], y_test=y[:8])


# ---------------------------------------------------------------------------------------------------
# CPU fallback: runs on every machine (CUDA hidden where there is one)


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_auto_resolves_to_cuda_exactly_when_available():
    assert resolve_device("auto").type == ("cuda" if CUDA else "cpu")


def test_auto_falls_back_to_cpu_for_training_and_ntk(no_cuda):
    model, result = run("auto")
    assert model.W.device.type == "cpu" and model.a.device.type == "cpu"
    assert result.status == "ok" and result.steps_done == 30
    assert result.history.train_loss.iloc[-1] < 0.5 * result.history.train_loss.iloc[0]
    # device="auto" on a CPU-only machine is the CPU run, bit for bit
    cpu_model, cpu_result = run("cpu")
    assert result.history.drop(columns="elapsed_s").equals(cpu_result.history.drop(columns="elapsed_s"))
    X, _ = data()
    K = empirical_ntk(model, X)
    assert K.device.type == "cpu" and K.dtype == torch.float64 and K.shape == (24, 24)
    assert torch.equal(K, empirical_ntk(cpu_model, X))
    sp = spectrum(K)
    assert sp.eigenvalues.dtype == np.float64 and sp.lambda_max > 0


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_a_clear_error(no_cuda, device):
    with pytest.raises(ValueError, match=f"device '{device}' requested but CUDA is not available"):
        resolve_device(device)
    with pytest.raises(ValueError, match="CUDA is not available"):
        TwoLayerNet(2, 8, device=device)
    with pytest.raises(ValueError, match="CUDA is not available"):
        DeepNet(2, (8, 8), device=device)
    # the training config is checked when it is built, before any training work
    with pytest.raises(ValueError, match="CUDA is not available"):
        TrainConfig("1x10", device=device)


def test_unknown_device_is_named():
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")


def test_benchmark_code_runs_on_the_resolved_device():
    """The benchmarks' step and NTK workers run on whatever device="auto" gives (CUDA on a GPU)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_ntk
        import bench_train_step
    finally:
        sys.path.remove(str(BENCHMARKS))
    t = bench_train_step.measure(256, torch.float64, n=16, reps=1, device="auto", train_steps=2)
    assert set(t) == set(bench_train_step.KINDS) and all(0 < lo <= med for med, lo in t.values())
    threads = torch.get_num_threads()
    try:
        closed = bench_ntk.worker("closed", 12, 300, threads, "auto")
        func = bench_ntk.worker("torchfunc", 12, 300, threads, "auto")
    finally:
        torch.set_num_threads(threads)  # the worker sets it; leave the session as it was
    assert closed["device"] == str(resolve_device("auto")) and closed["extra_peak_mb"] >= 0
    assert closed["checksum"] == pytest.approx(func["checksum"], rel=1e-12)


# ---------------------------------------------------------------------------------------------------
# CUDA against the CPU (GPU machines only)


@needs_cuda
def test_same_seed_same_initial_weights_on_cuda():
    cpu, gpu = TwoLayerNet(3, 100, seed=7, dtype="float64"), TwoLayerNet(3, 100, seed=7, dtype="float64", device="cuda")
    assert gpu.W.device.type == "cuda"
    assert torch.equal(cpu.W, gpu.W.cpu()) and torch.equal(cpu.a, gpu.a.cpu())


@needs_cuda
@pytest.mark.parametrize("base", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("train_output", [True, False])
@pytest.mark.parametrize("s", [0.5, 1.0, 1.5])
def test_loss_and_grad_on_cuda_matches_cpu_float64(base, train_output, s):
    X, y = (torch.as_tensor(v) for v in data(n=40, d=3))
    ref = TwoLayerNet(3, 3000, s=s, base=base, seed=2, dtype="float64", train_output=train_output)
    loss64, gW64, ga64 = ref.loss_and_grad(X, y)
    for dtype, rtol in (("float64", 1e-10), ("float32", 1e-4)):
        net = TwoLayerNet(3, 3000, s=s, base=base, seed=2, dtype=dtype, device="cuda", train_output=train_output)
        with torch.no_grad():  # a float32 seed draws other numbers: give it the float64 weights, rounded
            net.W.copy_(ref.W)
            net.a.copy_(ref.a)
        Xc, yc = X.to("cuda", net.W.dtype), y.to("cuda", net.W.dtype)
        loss, gW, ga = net.loss_and_grad(Xc, yc)
        assert gW.device.type == "cuda"
        assert float(loss) == pytest.approx(float(loss64), rel=rtol)
        # norm-wise: float32 ReLU patterns may flip for the few w·x within rounding of 0
        assert torch.linalg.norm(gW.double().cpu() - gW64) <= rtol * torch.linalg.norm(gW64)
        if train_output:
            assert torch.linalg.norm(ga.double().cpu() - ga64) <= rtol * torch.linalg.norm(ga64)
        else:
            assert ga is None


@needs_cuda
@pytest.mark.parametrize("optimizer", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("base", ["relu", "tanh"])
def test_train_on_cuda_gives_the_cpu_history(optimizer, base):
    gpu_model, gpu = run("cuda", optimizer, base=base)
    cpu_model, cpu = run("cpu", optimizer, base=base)
    assert gpu_model.W.device.type == "cuda" and gpu.status == cpu.status == "ok"
    exact = ["step", "stage", "s", "lr"]
    assert gpu.history[exact].equals(cpu.history[exact])
    for col in ("train_loss", "test_loss"):
        np.testing.assert_allclose(gpu.history[col], cpu.history[col], rtol=1e-9)
    torch.testing.assert_close(gpu_model.W.cpu(), cpu_model.W, rtol=1e-9, atol=1e-12)


@needs_cuda
def test_auto_trains_on_cuda():
    model, result = run("auto")
    assert model.W.device.type == "cuda" and result.status == "ok"


@needs_cuda
@pytest.mark.parametrize("train_output", [True, False])
@pytest.mark.parametrize("base", ["relu", "gelu"])
def test_empirical_ntk_on_cuda_matches_cpu(train_output, base):
    X, _ = data(n=30, d=3)
    kw = dict(s=1.5, base=base, seed=4, dtype="float64", train_output=train_output)
    K_cpu = empirical_ntk(TwoLayerNet(3, 5000, **kw), X)
    K_gpu = empirical_ntk(TwoLayerNet(3, 5000, device="cuda", **kw), X)
    assert K_gpu.device.type == "cuda"
    torch.testing.assert_close(K_gpu.cpu(), K_cpu, rtol=1e-10, atol=1e-12)
    # the generic autograd path (DeepNet) too
    deep = dict(s=0.5, seed=4, dtype="float64", train_output=train_output)
    torch.testing.assert_close(
        empirical_ntk(DeepNet(3, (40, 30), device="cuda", **deep), X).cpu(),
        empirical_ntk(DeepNet(3, (40, 30), **deep), X),
        rtol=1e-10,
        atol=1e-12,
    )


@needs_cuda
@pytest.mark.parametrize("layers", ["both", "first"])
@pytest.mark.parametrize("base", ["relu", "tanh"])
def test_analytic_ntk_on_cuda_matches_cpu(layers, base):
    X = torch.as_tensor(data(n=30, d=3)[0])
    K_cpu = analytic_ntk(X, 1.5, layers=layers, base=base, nodes=32)
    K_gpu = analytic_ntk(X.cuda(), 1.5, layers=layers, base=base, nodes=32)
    assert K_gpu.device.type == "cuda" and K_gpu.dtype == torch.float64
    torch.testing.assert_close(K_gpu.cpu(), K_cpu, rtol=1e-12, atol=1e-13)


@needs_cuda
def test_spectrum_of_a_cuda_kernel_is_float64():
    X = torch.as_tensor(data(n=50, d=3)[0])
    K64 = analytic_ntk(X, 1.0)
    for K in (K64.cuda(), K64.float().cuda()):
        sp = spectrum(K)
        assert isinstance(sp.eigenvalues, np.ndarray) and sp.eigenvalues.dtype == np.float64
        ref = spectrum(K.cpu())  # the same matrix, float64 eigvalsh on the CPU
        np.testing.assert_allclose(sp.eigenvalues, ref.eigenvalues, rtol=0, atol=50 * ref.resolution_floor)
    # float32 input is eigensolved in float64: its float32 rounding, not float32 arithmetic, limits it
    sp32 = spectrum(K64.float().cuda())
    assert abs(sp32.lambda_min - spectrum(K64).lambda_min) < 1e-5 * sp32.lambda_max
    r0 = torch.ones(50, dtype=torch.float64, device="cuda")
    curve = predict_loss_curve(K64.cuda(), r0, 0.5, 10)
    np.testing.assert_allclose(curve, predict_loss_curve(K64, r0.cpu(), 0.5, 10), rtol=1e-12)
