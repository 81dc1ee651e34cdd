"""hrta.sweeps: model specs, kernel-scaled learning rates, stage-wise training."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from hrta import sweeps
from hrta.data import make_dataset
from hrta.models import DeepNet, TwoLayerNet
from hrta.ntk import analytic_ntk, spectrum


@pytest.fixture(scope="module")
def ds():
    return make_dataset("sin1d", n_train=30, n_test=10, seed=0)


def test_build_model_kinds(ds):
    two = sweeps.build_model({"kind": "two_layer", "width": 16, "base": "tanh"}, ds.d, seed=1)
    deep = sweeps.build_model({"kind": "deep", "widths": [8, 8]}, ds.d, seed=1)
    assert isinstance(two, TwoLayerNet) and two.m == 16 and two.base == "tanh"
    assert isinstance(deep, DeepNet) and deep.widths == (8, 8)
    same = sweeps.build_model({"kind": "two_layer", "width": 16, "base": "tanh"}, ds.d, seed=1)
    assert torch.equal(two.W, same.W)  # paired runs start from the same initialization
    with pytest.raises(ValueError, match="unknown model kind 'wide'"):
        sweeps.build_model({"kind": "wide"}, ds.d, seed=0)
    with pytest.raises(ValueError, match="needs 'widths'"):
        sweeps.build_model({"kind": "deep"}, ds.d, seed=0)


def test_train_config_lr_override_and_unknown_key():
    cfg = sweeps.train_config(
        {"optimizer": "adam", "lr": 1e-3, "label": "Adam", "adam_betas": [0.9, 0.99]}, "1x10", lr=2e-3
    )
    assert cfg.lr == 2e-3 and cfg.adam_betas == (0.9, 0.99)
    with pytest.raises(ValueError, match="lr_typo"):
        sweeps.train_config({"optimizer": "gd", "lr_typo": 1.0}, "1x10")


def test_stage_learning_rates_scale_with_the_kernel(ds):
    lrs = sweeps.stage_learning_rates(ds.X_train, "0.5x5,1x5,1.5x5", fraction=1.0)
    X = torch.as_tensor(ds.X_train)
    for s, lr in zip((0.5, 1.0, 1.5), lrs):
        lam = spectrum(analytic_ntk(X, s, "both")).lambda_max / X.shape[0]
        assert lr == pytest.approx(1.0 / lam)
    ramp = sweeps.stage_learning_rates(ds.X_train, "0.5:1.5x5", fraction=0.5)
    assert ramp == [pytest.approx(min(0.5 * lrs[0], 0.5 * lrs[2]))]


def test_stagewise_equals_single_run_at_equal_rates(ds):
    schedule = "0.5x20,1x40"
    cfg = sweeps.train_config({"optimizer": "gd", "lr": 0.3}, schedule, log_every=10)
    a = TwoLayerNet(ds.d, 32, seed=3, dtype="float64")
    b = TwoLayerNet(ds.d, 32, seed=3, dtype="float64")
    from hrta.train import train

    single = train(a, ds.X_train, ds.y_train, cfg)
    staged = sweeps.train_stagewise(b, ds.X_train, ds.y_train, schedule, [0.3, 0.3], cfg)
    cols = ["step", "stage", "s", "train_loss"]
    assert staged.history["step"].tolist() == single.history["step"].tolist() == list(range(0, 61, 10))
    pd.testing.assert_frame_equal(single.history[cols], staged.history[cols], rtol=1e-12, atol=0)
    assert torch.allclose(a.W, b.W, rtol=0, atol=1e-12)
    assert staged.steps_done == 60 and staged.status == "ok"


def test_stagewise_stops_at_divergence(ds):
    cfg = sweeps.train_config({"optimizer": "gd", "lr": 0.1}, "1x20,1x20", log_every=5)
    net = TwoLayerNet(ds.d, 16, seed=0, dtype="float64")
    res = sweeps.train_stagewise(net, ds.X_train, ds.y_train, "1x20,1x20", [0.1, 1e6], cfg)
    assert res.status == "diverged"
    assert res.history["step"].iloc[-1] < 40
    with pytest.raises(ValueError, match="Adam"):
        sweeps.train_stagewise(
            net, ds.X_train, ds.y_train, "1x20", [0.1], sweeps.train_config({"optimizer": "adam", "lr": 0.1}, "1x20")
        )


# ------------------------------------------------------------------ a fairness sweep in parts (hrta.sweep_parts)
def _fake_sweep(seeds, calls, tuning=(), tuning_calls=()):
    """The rows the training script writes, as text (hrta.sweep_parts.read_part): ``calls`` is the sequence of
    run_plan calls [(factor, methods)], each over ``seeds`` with seeds outer and methods inner. The history of a run
    is two rows whose loss names the run. With ``call`` set the rows carry it, as a part's runs do."""
    runs, history = [], []
    for role, call_seq, call_seeds in (("tuning", tuning_calls, tuning), ("scoring", calls, seeds)):
        for index, (factor, methods) in enumerate(call_seq):
            for seed in call_seeds:
                for method in methods:
                    labels = {"cell": "gd", "optimizer": "gd", "lr_factor": factor, "method": method, "seed": str(seed)}
                    runs.append(
                        {
                            **labels,
                            "schedule": "1x10,0.5x5",
                            "final_train_loss": f"{seed}.{method}{factor}",
                            "role": role,
                            "export_rel_diff": "",
                            "call": str(index),
                        }
                    )
                    history += [{**labels, "step": str(t), "train_loss": f"{seed}{method}{factor}{t}"} for t in (0, 5)]
    return pd.DataFrame(history), pd.DataFrame(runs)


def _roundtrip(frame, tmp_path, name):
    from hrta.io import write_csv
    from hrta.sweep_parts import read_part

    write_csv(frame, tmp_path / name)
    return read_part(tmp_path / name)


def test_gather_fairness_parts_restores_the_single_job_order(tmp_path):
    """Reference: the nested loops of one job over every seed (workflow/scripts/claims_sweep.py before the split:
    tuning calls on the tuning seeds, then per call every scoring seed, per seed every method), written once;
    against the parts (the same calls, one seed each) joined by gather_fairness_parts, compared as CSV text."""
    from hrta.sweep_parts import gather_fairness_parts

    methods = ["relu", "s1.5", "hrta_0.5"]
    tuning_calls = [(f, methods) for f in ("0.7071067811865476", "1.0", "1.4142135623730951")] + [("2.0", ["s1.5"])]
    calls = [
        ("1.0", ["relu"]),
        ("1.4142135623730951", ["s1.5"]),
        ("0.7071067811865476", ["hrta_0.5"]),
        ("kernel", methods),
    ]
    seeds = [3, 1, 2]  # config order, not sorted
    whole_history, whole_runs = _fake_sweep(seeds, calls, [0], tuning_calls)
    tune = _fake_sweep([], [], [0], tuning_calls)
    parts = [_fake_sweep([seed], calls) for seed in seeds]
    parts = [tuple(_roundtrip(f, tmp_path, f"p{i}_{k}.csv") for k, f in enumerate(p)) for i, p in enumerate(parts)]
    tune = tuple(_roundtrip(f, tmp_path, f"t{k}.csv") for k, f in enumerate(tune))
    history, runs = gather_fairness_parts(parts, tune)
    assert runs.to_csv(index=False) == whole_runs.drop(columns="call").to_csv(index=False)
    assert history.to_csv(index=False) == whole_history.to_csv(index=False)
    # without lr_choice: no tune part, every factor on every seed
    calls = [(f, methods) for f in ("0.5", "1.0", "kernel")]
    whole_history, whole_runs = _fake_sweep(seeds, calls)
    history, runs = gather_fairness_parts([_fake_sweep([seed], calls) for seed in seeds])
    assert runs.to_csv(index=False) == whole_runs.drop(columns="call").to_csv(index=False)
    assert history.to_csv(index=False) == whole_history.to_csv(index=False)


def test_gather_fairness_parts_refuses_parts_that_do_not_fit():
    from hrta.sweep_parts import gather_fairness_parts

    calls = [("1.0", ["relu", "s1.5"])]
    one, two = _fake_sweep([1], calls), _fake_sweep([2], calls[:1] + [("kernel", ["relu"])])
    with pytest.raises(ValueError, match="different sequences of training calls"):
        gather_fairness_parts([one, two])
    with pytest.raises(ValueError, match="more than one part"):
        gather_fairness_parts([one, one])
    history, runs = _fake_sweep([2], calls)
    with pytest.raises(ValueError, match="do not match"):
        gather_fairness_parts([one, (history.iloc[:2], runs)])
    with pytest.raises(ValueError, match="at least one scoring part"):
        gather_fairness_parts([])


def test_lr_choice_file_keeps_the_exact_factor_and_marks_the_chosen_runs(tmp_path):
    """The chosen factor survives the file bit for bit (write_csv alone rounds to 10 digits: the reference is the
    float itself), and mark_chosen flags exactly the scoring runs at it, as the single job did with floats."""
    from hrta.claims.tuning import choose_lr_by_final_loss
    from hrta.sweep_parts import mark_chosen, read_lr_choice, write_lr_choice

    step = 2**0.5
    factors = [step**k for k in range(-4, 5)]
    tuned = pd.DataFrame(
        [
            {
                "optimizer": "gd",
                "method": m,
                "lr_factor": f,
                "seed": 0,
                "status": "ok",
                "final_train_loss": abs(f - target) + 1e-3,
            }
            for m, target in (("relu", factors[0]), ("s1.5", factors[5]))
            for f in factors
        ]
    )
    chosen = choose_lr_by_final_loss(tuned)
    write_lr_choice(chosen, tmp_path / "choice.csv")
    back = read_lr_choice(tmp_path / "choice.csv")
    assert [f.hex() for f in back["lr_factor"]] == [float(f).hex() for f in chosen["lr_factor"]]
    assert back["lr_factor"].tolist() == [factors[0], factors[5]]
    assert back["at_low"].tolist() == [True, False] and back["at_high"].tolist() == [False, False]
    runs = pd.DataFrame(
        {
            "optimizer": "gd",
            "method": ["relu", "relu", "s1.5", "s1.5", "s1.5"],
            "lr_factor": [str(factors[0]), str(factors[0]), str(factors[5]), "kernel", str(factors[4])],
            "role": ["tuning", "scoring", "scoring", "scoring", "scoring"],
        }
    )
    marked = mark_chosen(runs, back)
    assert marked["chosen"].tolist() == [False, True, True, False, False]
    assert marked["at_edge"].tolist() == [False, True, False, False, False]


@pytest.mark.slow
@pytest.mark.parametrize("exp", ["e6", "e6_regime"])
def test_smoke_fairness_cells_score_at_the_rate_their_tuning_chose(smoke_run, exp):
    """The smoke run's gathered fairness cells: the choice the tune part wrote is the one the sweep's criterion makes
    again from the gathered tuning rows (an independent recomputation: choose_lr_by_final_loss for e6,
    choose_lr_by_time_to_target for e6_regime, smoke.yaml's lr_choice.criterion), every scoring seed trained each
    method at exactly that factor (marked chosen) and at the kernel-scaled rate where the sweep has one, and nothing
    else."""
    import yaml
    from conftest import CONFIGS

    from hrta.claims.tuning import choose_lr_by_final_loss, choose_lr_by_time_to_target
    from hrta.sweep_parts import read_lr_choice

    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    criterion = config[exp]["lr_choice"].get("criterion", "final_loss")
    assert criterion == {"e6": "final_loss", "e6_regime": "time_to_target"}[exp]  # smoke covers both criteria
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-5000:]
    for runs_file in sorted((workdir / "data" / "claims" / exp).glob("*_runs.csv")):
        cell = runs_file.name.removesuffix("_runs.csv")
        runs = pd.read_csv(runs_file, dtype={"lr_factor": str})
        choice = read_lr_choice(workdir / "data" / "claims" / exp / "parts" / f"{cell}_choice.csv")
        assert (choice["criterion"] == criterion).all()
        tuning = runs[runs["role"] == "tuning"].assign(lr_factor=lambda t: t["lr_factor"].astype(float))
        if criterion == "final_loss":
            again = choose_lr_by_final_loss(tuning, ["optimizer", "method"])
        else:
            history = pd.read_csv(runs_file.with_name(f"{cell}_history.csv"), dtype={"lr_factor": str})
            history = history[history["seed"].isin(config[exp]["lr_choice"]["tuning_seeds"])]
            fractions = config["claims"]["endpoints"]["target_fractions"]
            again = choose_lr_by_time_to_target(tuning, history, config[exp]["baseline"], fractions)
        assert again[["optimizer", "method", "lr_factor"]].equals(choice[["optimizer", "method", "lr_factor"]])
        scoring = runs[runs["role"] == "scoring"]
        picked = scoring[scoring["lr_factor"] != "kernel"]
        expected = {(r.method, repr(r.lr_factor)) for r in choice.itertuples()}
        assert set(zip(picked["method"], picked["lr_factor"])) == expected
        assert picked["chosen"].all() and not runs.loc[runs["role"] == "tuning", "chosen"].any()
        seeds = sorted(set(scoring["seed"]))
        assert len(picked) == len(choice) * len(seeds)
        kernel = scoring[scoring["lr_factor"] == "kernel"]
        assert len(kernel) in (0, len(choice) * len(seeds)) and not kernel["chosen"].any()


@pytest.mark.parametrize("base", ["relu", "tanh"])
def test_kernel_lambda_maxes_equal_one_kernel_at_a_time(base, ds):
    """Reference: kernel_lambda_max, one analytic kernel and spectrum per s (ReLU bit for bit, tanh to rounding)."""
    together = sweeps.kernel_lambda_maxes(ds.X_train, [1.5, 0.5, 1.0, 0.5], base)
    assert sorted(together) == [0.5, 1.0, 1.5]
    for s, lam in together.items():
        assert lam == pytest.approx(sweeps.kernel_lambda_max(ds.X_train, s, base), rel=1e-14, abs=0)
        if base == "relu":
            assert lam == sweeps.kernel_lambda_max(ds.X_train, s, base)
