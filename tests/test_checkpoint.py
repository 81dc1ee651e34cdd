"""hrta.train checkpoint/resume: interrupted + resumed runs are bit-identical to uninterrupted ones;
checkpoints of other runs, corrupt files and stale temporaries are handled; a real SIGKILL/SIGINT."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import sigint_as_in_a_terminal

import hrta.train as train_module
from hrta.models import DeepNet, TwoLayerNet
from hrta.train import CheckpointError, TrainConfig, train

SPEC = "0.5x7,0.5:1x6,1.5x7"  # 20 updates, a ramp and two stage boundaries
TOTAL = 20


def data(n=24, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    y = np.sin(2.0 * X[:, 0]) + 0.5 * X[:, 1]
    return X, y


CASES = {
    # name: (model factory, config kwargs)
    "gd-tanh-float64": (
        lambda: TwoLayerNet(2, 48, base="tanh", seed=3, dtype="float64"),
        dict(optimizer="gd", lr=0.5, dtype="float64"),
    ),
    "sgd-relu-float32": (
        lambda: TwoLayerNet(2, 48, seed=3),
        dict(optimizer="sgd", lr=0.2, batch_size=5, seed=7, lr_schedule="cosine", lr_min=0.01),
    ),
    "adam-gelu-float32": (
        lambda: TwoLayerNet(2, 48, base="gelu", seed=3, output_init="sign"),
        dict(optimizer="adam", lr=0.01, lr_schedule="step", lr_step_every=6),
    ),
    "adam-deepnet-float32": (lambda: DeepNet(2, (16, 12), seed=3), dict(optimizer="adam", lr=0.01)),
}


@pytest.fixture(autouse=True)
def one_thread():
    # tiny GEMMs on a shared 2-core machine: one thread avoids waiting on busy cores
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def interrupt_after_save(monkeypatch, at_step, exc=KeyboardInterrupt):
    """Make the checkpoint writer raise ``exc`` right after writing the checkpoint for step ``at_step``:
    the process state is then dropped, only the file on disk survives (as after a kill)."""
    real = train_module._atomic_torch_save

    def save_then_stop(obj, path):
        real(obj, path)
        if obj["step"] == at_step:
            raise exc("simulated kill")

    monkeypatch.setattr(train_module, "_atomic_torch_save", save_then_stop)


def assert_same_run(result, model, ref_result, ref_model):
    cols = [c for c in ref_result.history.columns if c != "elapsed_s"]
    pd.testing.assert_frame_equal(result.history[cols], ref_result.history[cols], check_exact=True)
    assert result.status == ref_result.status and result.steps_done == ref_result.steps_done
    assert result.final_train_loss == ref_result.final_train_loss
    assert np.array_equal(result.final_test_loss, ref_result.final_test_loss, equal_nan=True)
    for (name, p), (_, q) in zip(model.named_parameters(), ref_model.named_parameters()):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("case", list(CASES))
def test_interrupted_run_resumes_bit_identically(case, tmp_path, monkeypatch):
    make_model, kwargs = CASES[case]
    X, y = data()
    Xt, yt = data(n=10, seed=1)
    config = TrainConfig(SPEC, log_every=3, **kwargs)
    ref_model = make_model()
    ref = train(ref_model, X, y, config, Xt, yt)
    assert ref.status == "ok" and ref.steps_done == TOTAL

    ckpt = tmp_path / "run" / "ckpt.pt"  # the directory is created by train
    with monkeypatch.context() as patch:
        interrupt_after_save(patch, at_step=12)
        with pytest.raises(KeyboardInterrupt):
            train(make_model(), X, y, config, Xt, yt, checkpoint_path=ckpt, checkpoint_every=4)
    assert ckpt.is_file()
    saved = torch.load(ckpt, weights_only=True)
    assert saved["step"] == 12
    # 12 updates done (mid-epoch for SGD: 24 rows in batches of 5), rows for steps 0, 3, 6, 9 logged
    assert [row[0] for row in saved["history"]] == [0, 3, 6, 9]

    model = make_model()
    result = train(model, X, y, config, Xt, yt, checkpoint_path=ckpt, checkpoint_every=4)
    assert_same_run(result, model, ref, ref_model)
    # the rows before step 12 come from the checkpoint (their timings were not re-measured) ...
    assert list(result.history["elapsed_s"][:4]) == [row[-1] for row in saved["history"]]
    # ... and the clock continues from the stored elapsed time
    assert result.history["elapsed_s"].is_monotonic_increasing
    assert result.history["elapsed_s"].iloc[4] >= saved["elapsed_s"]
    assert not ckpt.exists() and list(ckpt.parent.iterdir()) == []


def test_uninterrupted_checkpointed_run_equals_plain_run_and_cleans_up(tmp_path):
    X, y = data()
    config = TrainConfig(SPEC, optimizer="sgd", batch_size=7, lr=0.2, log_every=4)
    ref_model, model = TwoLayerNet(2, 32, seed=1), TwoLayerNet(2, 32, seed=1)
    ref = train(ref_model, X, y, config)
    stale = tmp_path / ".ckpt.pt.k2j3h4.tmp"  # left by a writer killed mid-write
    stale.write_bytes(b"\x00half a checkpoint")
    result = train(model, X, y, config, checkpoint_path=tmp_path / "ckpt.pt", checkpoint_every=1)
    assert_same_run(result, model, ref, ref_model)
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_file_next_to_a_real_checkpoint_is_harmless(tmp_path, monkeypatch):
    X, y = data()
    config = TrainConfig(SPEC, optimizer="adam", lr=0.01, log_every=5)
    ref_model = TwoLayerNet(2, 32, seed=1)
    ref = train(ref_model, X, y, config)
    ckpt = tmp_path / "ckpt.pt"
    with monkeypatch.context() as patch:
        interrupt_after_save(patch, at_step=10)
        with pytest.raises(KeyboardInterrupt):
            train(TwoLayerNet(2, 32, seed=1), X, y, config, checkpoint_path=ckpt, checkpoint_every=5)
    (tmp_path / ".ckpt.pt.zz9.tmp").write_bytes(ckpt.read_bytes()[:100])
    model = TwoLayerNet(2, 32, seed=1)
    result = train(model, X, y, config, checkpoint_path=ckpt, checkpoint_every=5)
    assert_same_run(result, model, ref, ref_model)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_previous_checkpoint_and_no_temporary(tmp_path, monkeypatch):
    """An error inside torch.save (e.g. disk full) keeps the last good checkpoint under the final name."""
    X, y = data()
    config = TrainConfig(SPEC, lr=0.3)
    ckpt = tmp_path / "ckpt.pt"
    real_save = torch.save

    def failing_save(obj, fh):
        if obj["step"] == 10:
            fh.write(b"partial")
            raise OSError("No space left on device")
        real_save(obj, fh)

    monkeypatch.setattr(train_module.torch, "save", failing_save)
    with pytest.raises(OSError, match="No space"):
        train(TwoLayerNet(2, 16, seed=0), X, y, config, checkpoint_path=ckpt, checkpoint_every=5)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
    assert torch.load(ckpt, weights_only=True)["step"] == 5


def make_checkpoint(tmp_path, monkeypatch, config, X, y, seed=0):
    ckpt = tmp_path / "ckpt.pt"
    with monkeypatch.context() as patch:
        interrupt_after_save(patch, at_step=8)
        with pytest.raises(KeyboardInterrupt):
            train(TwoLayerNet(2, 16, seed=seed), X, y, config, checkpoint_path=ckpt, checkpoint_every=4)
    return ckpt


def test_checkpoint_of_another_config_is_refused(tmp_path, monkeypatch):
    X, y = data()
    ckpt = make_checkpoint(tmp_path, monkeypatch, TrainConfig(SPEC, lr=0.1), X, y)
    with pytest.raises(CheckpointError) as err:
        train(TwoLayerNet(2, 16, seed=0), X, y, TrainConfig(SPEC, lr=0.2), checkpoint_path=ckpt, checkpoint_every=4)
    msg = str(err.value)
    assert str(ckpt) in msg and "different run" in msg and "lr: checkpoint 0.1, this run 0.2" in msg
    assert ckpt.is_file()  # never deleted behind the user's back
    with pytest.raises(CheckpointError, match="schedule"):
        train(
            TwoLayerNet(2, 16, seed=0),
            X,
            y,
            TrainConfig("0.5x7,1x13", lr=0.1),
            checkpoint_path=ckpt,
            checkpoint_every=4,
        )


def test_checkpoint_of_other_data_or_model_is_refused(tmp_path, monkeypatch):
    X, y = data()
    config = TrainConfig(SPEC, lr=0.1)
    ckpt = make_checkpoint(tmp_path, monkeypatch, config, X, y)
    y2 = y.copy()
    y2[3] += 1e-6
    with pytest.raises(CheckpointError, match="data differ"):
        train(TwoLayerNet(2, 16, seed=0), X, y2, config, checkpoint_path=ckpt, checkpoint_every=4)
    Xt, yt = data(n=5, seed=2)
    with pytest.raises(CheckpointError, match="data differ"):
        train(TwoLayerNet(2, 16, seed=0), X, y, config, Xt, yt, checkpoint_path=ckpt, checkpoint_every=4)
    with pytest.raises(CheckpointError, match="initial model differs"):
        train(TwoLayerNet(2, 16, seed=1), X, y, config, checkpoint_path=ckpt, checkpoint_every=4)
    with pytest.raises(CheckpointError, match="initial model differs"):
        train(TwoLayerNet(2, 16, seed=0, base="tanh"), X, y, config, checkpoint_path=ckpt, checkpoint_every=4)
    # the same run still resumes
    result = train(TwoLayerNet(2, 16, seed=0), X, y, config, checkpoint_path=ckpt, checkpoint_every=4)
    assert result.status == "ok" and not ckpt.exists()


@pytest.mark.parametrize("content", ["garbage", "truncated", "empty", "foreign"])
def test_corrupt_checkpoint_gives_clear_error_naming_the_file(content, tmp_path, monkeypatch):
    X, y = data()
    config = TrainConfig(SPEC, lr=0.1)
    ckpt = make_checkpoint(tmp_path, monkeypatch, config, X, y)
    raw = ckpt.read_bytes()
    if content == "garbage":
        ckpt.write_bytes(b"this is not a checkpoint\n" * 10)
    elif content == "truncated":
        ckpt.write_bytes(raw[: len(raw) // 2])
    elif content == "empty":
        ckpt.write_bytes(b"")
    else:
        torch.save({"weights": torch.zeros(3)}, ckpt)
    with pytest.raises(CheckpointError) as err:
        train(TwoLayerNet(2, 16, seed=0), X, y, config, checkpoint_path=ckpt, checkpoint_every=4)
    msg = str(err.value)
    assert str(ckpt) in msg and "delete it" in msg
    assert ("unreadable" in msg) if content != "foreign" else ("not an hrta.train checkpoint" in msg)


def test_checkpoint_arguments_are_validated(tmp_path):
    X, y = data()
    config = TrainConfig(SPEC)
    with pytest.raises(ValueError, match="both checkpoint_path and checkpoint_every"):
        train(TwoLayerNet(2, 8), X, y, config, checkpoint_path=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="both checkpoint_path and checkpoint_every"):
        train(TwoLayerNet(2, 8), X, y, config, checkpoint_every=5)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="checkpoint_every"):
            train(TwoLayerNet(2, 8), X, y, config, checkpoint_path=tmp_path / "c.pt", checkpoint_every=bad)
    with pytest.raises(ValueError, match="is a directory"):
        train(TwoLayerNet(2, 8), X, y, config, checkpoint_path=tmp_path, checkpoint_every=5)


def test_diverged_run_resumes_to_the_same_divergence_and_cleans_up(tmp_path, monkeypatch):
    X, y = data()
    config = TrainConfig("1x200", lr=12.0, log_every=2)
    ref_model = TwoLayerNet(2, 16, seed=0)
    ref = train(ref_model, X, y, config)
    assert ref.status == "diverged" and ref.steps_done > 4
    ckpt = tmp_path / "ckpt.pt"
    with monkeypatch.context() as patch:
        interrupt_after_save(patch, at_step=4)
        with pytest.raises(KeyboardInterrupt):
            train(TwoLayerNet(2, 16, seed=0), X, y, config, checkpoint_path=ckpt, checkpoint_every=2)
    model = TwoLayerNet(2, 16, seed=0)
    result = train(model, X, y, config, checkpoint_path=ckpt, checkpoint_every=2)
    assert_same_run(result, model, ref, ref_model)
    assert not ckpt.exists()


# ------------------------------------------------------------------------------------------------
# a real kill of a separate process

WORKLOAD = textwrap.dedent("""
    import numpy as np
    import torch
    from hrta.models import TwoLayerNet
    from hrta.train import TrainConfig, train

    def run(ckpt=None):
        torch.set_num_threads(1)
        rng = np.random.default_rng(0)
        X = rng.uniform(-1, 1, size=(200, 2))
        y = np.sin(3 * X[:, 0]) * X[:, 1]
        model = TwoLayerNet(2, 256, base="tanh", seed=5)
        config = TrainConfig("0.5x600,1.5x600", optimizer="adam", lr=0.003, log_every=50)
        kwargs = dict(checkpoint_path=ckpt, checkpoint_every=25) if ckpt else {}
        return train(model, X, y, config, **kwargs), model
""")


def workload():
    namespace = {}
    exec(WORKLOAD, namespace)
    return namespace["run"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_process_resumes_to_identical_result(sig, tmp_path):
    """A separate process is killed after its first checkpoint; rerunning (here in-process, same
    thread count) completes with the history and parameters of an uninterrupted run."""
    ckpt = tmp_path / "ckpt.pt"
    victim = subprocess.Popen(
        [sys.executable, "-c", WORKLOAD + "\nrun(__import__('sys').argv[1])\n", str(ckpt)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=sigint_as_in_a_terminal,
    )
    ref, ref_model = workload()()
    deadline = time.monotonic() + 60
    while not ckpt.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert victim.poll() is None, "the run finished before it could be killed; make it longer"
    time.sleep(0.03)  # let it get on with (and perhaps be in the middle of) the next checkpoint
    os.kill(victim.pid, sig)
    log, _ = victim.communicate(timeout=30)
    assert victim.returncode != 0, log.decode()
    if sig == signal.SIGINT:
        assert b"KeyboardInterrupt" in log
    step = torch.load(ckpt, weights_only=True)["step"]
    assert 0 < step < 1200

    result, model = workload()(ckpt)
    assert_same_run(result, model, ref, ref_model)
    assert result.history["elapsed_s"].iloc[-1] > 0 and list(tmp_path.iterdir()) == []
