"""The three metrics (a) stays speed-up, (b) loss ratio at equal budgets, (c) first-below, the lr choice by
metric (a), the verdict-matrix cells, and the per-stage restart of Adam's step decay — on synthetic
histories whose answers are known in closed form (the reference named in each test)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from hrta import claims as C
from hrta.train import TrainConfig, learning_rate

T = 400


def curve(fn, step_every=1):
    steps = np.arange(0, T + 1, step_every)
    return pd.DataFrame({"step": steps, "train_loss": [float(fn(t)) for t in steps]})


def tables(curves: dict[str, list], group="g"):
    """runs + histories tables for metric_rows from {method: [history per seed]}."""
    runs, hists = [], []
    for method, per_seed in curves.items():
        for seed, h in enumerate(per_seed):
            runs.append({"grp": group, "method": method, "seed": seed, "status": "ok", "budget": T})
            hists.append(h.assign(grp=group, method=method, seed=seed))
    return pd.DataFrame(runs), pd.concat(hists, ignore_index=True)


RATES = (100.0, 110.0, 125.0)  # per-seed decay times of the baseline


def test_metric_a_b_c_on_exponentials_with_known_answers():
    # Reference: L_b(t) = e^{-t/τ}, L_m(t) = e^{-2t/τ}: the method reaches any tolerance in exactly half the
    # steps (a, c: speed-up 2 up to the logging grid, here every step), and at budget qT the loss ratio is
    # e^{qT/τ} (b). Tolerances are max over seeds of L_b(qT) = e^{-qT/125}.
    base = [curve(lambda t, r=r: math.exp(-t / r)) for r in RATES]
    fast = [curve(lambda t, r=r: math.exp(-2 * t / r)) for r in RATES]
    runs, hist = tables({"relu": base, "fast": fast})
    out = C.metric_rows(runs, hist, ["grp"], "relu", (0.5, 1.0), (0.25, 1.0))
    a = out[out.metric == "a"].set_index("fraction")
    c = out[out.metric == "c"].set_index("fraction")
    b = out[out.metric == "b"].set_index("fraction")
    for q in (0.5, 1.0):
        tol = math.exp(-q * T / 125.0)
        assert a.loc[q, "threshold"] == pytest.approx(tol)
        # per seed: baseline first step with e^{-t/r} ≤ tol is ⌈r·ln(1/tol)⌉, method ⌈r·ln(1/tol)/2⌉
        expect = [math.ceil(r * math.log(1 / tol) - 1e-9) / math.ceil(r * math.log(1 / tol) / 2 - 1e-9) for r in RATES]
        got = [float(x) for x in a.loc[q, "ratios"].split()]
        assert got == pytest.approx(expect, rel=1e-3)
        assert a.loc[q, "verdict"] == C.SUPPORTED
        assert c.loc[q, "value"] == pytest.approx(a.loc[q, "value"])  # monotone curves: first below = stays
    for q in (0.25, 1.0):
        step = int(q * T)
        expect = [math.exp(step / r) for r in RATES]
        got = [float(x) for x in b.loc[q, "ratios"].split()]
        assert got == pytest.approx(expect, rel=1e-3)
        assert b.loc[q, "verdict"] == C.SUPPORTED
        assert b.loc[q, "threshold"] == step


def head_start_that_fades(r):
    """Twice as fast until T/2, then stuck at 1.5× the baseline's final loss."""
    floor = 1.5 * math.exp(-T / r)
    return lambda t: max(math.exp(-2 * min(t, T / 2) / r), floor) if t < T / 2 else floor


def late_spike(r):
    """The baseline's curve halved, except a spike to 1 over steps [0.8T, 0.82T)."""
    return lambda t: 1.0 if 0.8 * T <= t < 0.82 * T else 0.5 * math.exp(-t / r)


def test_supported_under_a_but_not_b():
    # Reference: with a head start that fades, the method stays below τ_{0.5} = max_i e^{-T/(2 r_i)} at
    # about T/4 (speed-up ≈ 2) but ends at 1.5× the baseline's final loss (loss ratio 1/1.5 at T).
    base = [curve(lambda t, r=r: math.exp(-t / r)) for r in RATES]
    meth = [curve(head_start_that_fades(r)) for r in RATES]
    runs, hist = tables({"relu": base, "m": meth})
    out = C.metric_rows(runs, hist, ["grp"], "relu", (0.5,), (1.0,))
    a = out[out.metric == "a"].iloc[0]
    b = out[out.metric == "b"].iloc[0]
    assert a.verdict == C.SUPPORTED and a.value == pytest.approx(2.0, rel=0.02)
    assert b.verdict == C.NOT_SUPPORTED and b.value == pytest.approx(1 / 1.5)
    cell = C.decide_cell("4", "r", out.assign(grp="g"), ["m"], ["grp"])
    assert cell.label == C.METRIC_DEPENDENT and not cell.robust
    assert "a" in cell.supporting and "b" not in cell.supporting


def test_supported_under_b_but_not_a():
    # Reference: a spike to L = 1 at 0.8T means the method stays below τ_{0.5} only from 0.82T, while every
    # baseline seed does by T/2 (speed-up ≤ 0.5/0.82); at T the loss is half the baseline's (ratio 2).
    base = [curve(lambda t, r=r: math.exp(-t / r)) for r in RATES]
    meth = [curve(late_spike(r)) for r in RATES]
    runs, hist = tables({"relu": base, "m": meth})
    out = C.metric_rows(runs, hist, ["grp"], "relu", (0.5,), (1.0,))
    a = out[out.metric == "a"].iloc[0]
    b = out[out.metric == "b"].iloc[0]
    c = out[out.metric == "c"].iloc[0]
    assert a.verdict == C.NOT_SUPPORTED and a.value <= 0.5 / 0.82 + 1e-9
    assert b.verdict == C.SUPPORTED and b.value == pytest.approx(2.0)
    # first below ignores the spike: the halved curve is below τ sooner than the baseline
    assert c.verdict == C.SUPPORTED
    cell = C.decide_cell("4", "r", out, ["m"], ["grp"])
    assert cell.label == C.METRIC_DEPENDENT and cell.supporting == ("b", "c")


def test_robust_cell_and_not_measured():
    base = [curve(lambda t, r=r: math.exp(-t / r)) for r in RATES]
    slow = [curve(lambda t, r=r: math.exp(-t / (2 * r))) for r in RATES]
    runs, hist = tables({"relu": base, "slow": slow})
    out = C.metric_rows(runs, hist, ["grp"], "relu")
    cell = C.decide_cell("4", "r", out, ["slow"], ["grp"])
    assert cell.robust and cell.label == C.NOT_SUPPORTED
    assert cell.counts["a"] == (0, len(C.TOLERANCE_FRACTIONS)) and cell.counts["b"] == (0, len(C.BUDGET_FRACTIONS))
    empty = C.decide_cell("4", "s", out, ["absent"], ["grp"])
    assert empty.label == C.NOT_MEASURED and empty.verdict == C.INCONCLUSIVE
    table = C.matrix_table([cell, empty], {"r": "reading r", "s": "reading s"})
    md = C.render_matrix_markdown(table, {"4": "claim four"})
    assert "not supported** (robust)" in md and "not measured" in md


def test_loss_ratio_divergence_and_ties():
    # A diverged method loses; equal losses (ratio exactly 1) are not a speed-up (interval at 1).
    s = C.paired_loss_ratio([1.0, 1.0, 1.0], [math.inf, 0.5, 0.5])
    assert s.n_diverged_method == 1 and s.ratios[0] == 0.0
    assert C.verdict_loss_ratio(s).label == C.NOT_SUPPORTED
    tie = C.paired_loss_ratio([0.2, 0.3, 0.4], [0.2, 0.3, 0.4])
    assert tie.geo_mean == pytest.approx(1.0) and C.verdict_loss_ratio(tie).label == C.NOT_SUPPORTED
    # geometric mean cross-checked against numpy on the log scale
    b, m = [0.3, 0.2, 0.5], [0.1, 0.15, 0.2]
    got = C.paired_loss_ratio(b, m)
    assert got.geo_mean == pytest.approx(float(np.exp(np.mean(np.log(np.divide(b, m))))))
    with pytest.raises(ValueError, match="losses must be"):
        C.paired_loss_ratio([1.0], [float("nan")])


def test_step_stage_restarts_the_decay_at_each_stage():
    # Reference: hand-computed lr·γ^⌊(t − t_k)/p⌋ with stage starts t_k = 0, 50.
    tc = TrainConfig("1.5x50,1x100", lr=1.0, lr_schedule="step_stage", lr_gamma=0.5, lr_step_every=30)
    got = [learning_rate(tc, t) for t in (0, 29, 30, 49, 50, 79, 80, 110, 150)]
    assert got == [1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.25, 0.125]
    plain = TrainConfig("1.5x50,1x100", lr=1.0, lr_schedule="step", lr_gamma=0.5, lr_step_every=30)
    assert [learning_rate(plain, t) for t in (50, 80)] == [0.5, 0.25]
    one_stage = TrainConfig("1x100", lr=1.0, lr_schedule="step_stage", lr_step_every=30)
    same = TrainConfig("1x100", lr=1.0, lr_schedule="step", lr_step_every=30)
    assert [learning_rate(one_stage, t) for t in range(101)] == [learning_rate(same, t) for t in range(101)]
    with pytest.raises(ValueError, match="step_stage' needs lr_step_every"):
        TrainConfig("1x10", lr_schedule="step_stage")


@pytest.mark.parametrize("schedule", ["0.5x20,1x20,1.5x20", "1.5x60", "1x30,1.5x30", "1.5:1x20,1x40"])
def test_relaxed_final_networks_export_to_relu_with_equal_loss(schedule):
    # Reference: the σ_s network's own forward pass (a different computation from the width-2m ReLU net);
    # hrta.models.to_relu is exact, so the losses agree to rounding (≤ 1e-10 relative in float64).
    from hrta.data import make_dataset
    from hrta.models import TwoLayerNet, export_loss_check, to_relu
    from hrta.train import train

    ds = make_dataset("sin1d", n_train=30, n_test=0, seed=3)
    net = TwoLayerNet(ds.d, 64, seed=1, dtype="float64")
    result = train(net, ds.X_train, ds.y_train, TrainConfig(schedule, lr=0.5, dtype="float64"))
    assert result.status == "ok"
    X = torch.as_tensor(ds.X_train)
    direct = float(0.5 * ((net(X) - torch.as_tensor(ds.y_train)) ** 2).mean())
    assert direct == pytest.approx(result.final_train_loss, rel=1e-12)
    rel = export_loss_check(net, ds.X_train, ds.y_train)
    assert rel <= 1e-10
    relu = to_relu(net)
    assert relu.m == 2 * net.m and relu.s == 1.0
    X64 = torch.as_tensor(ds.X_train, dtype=torch.float64)
    relu_loss = float(0.5 * ((relu(X64) - torch.as_tensor(ds.y_train)) ** 2).mean())
    assert relu_loss == pytest.approx(result.final_train_loss, rel=1e-10)


def test_disagreement_without_support_is_inconclusive_and_marked():
    # (a) not supported, (b) inconclusive: the metrics disagree, but neither supports the claim.
    v = {"a": C.Verdict(C.NOT_SUPPORTED, "r", "n"), "b": C.Verdict(C.INCONCLUSIVE, "r", "n")}
    cell = C.Cell("4", "r", ("m",), v, {"a": (0.5, 0.9), "b": (0.9, 1.1)}, {"a": (0, 4), "b": (0, 3)})
    assert not cell.robust and cell.label == C.INCONCLUSIVE and cell.supporting == ()
    assert "metric-dependent, supported under no metric" in cell.describe()
    assert C.order_readings(["switch_time", "x", "to_relu"]) == ["to_relu", "switch_time", "x"]
