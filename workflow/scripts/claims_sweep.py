"""Rules `claims_sweep`, `claims_tune`, `claims_score`: every method × optimizer × learning rate × seed of one
claims cell (E5–E7), or one part of a fairness-sweep cell.

A cell is one data set and one model (hrta.sweeps model spec). For each seed all runs start from the
same initialization on the same data, so speed-ups are paired per seed. Learning rates: each
optimizer's configured lr times every factor of ``lr_factors`` (E6's grid; [1] elsewhere) and, when
``kernel_lr`` is set, GD with the kernel-scaled rate c/λ_max(K_s/n) per stage (hrta.sweeps).
Writes the concatenated histories (no wall-clock column, so the file is byte-identical between runs)
and one row per run.

Data seed: with ``vary_data_seed`` the data set of seed i is drawn with seed ``dataset.seed + i`` (the same
for every method of that seed, so runs stay paired and the intervals include data variance).

E6 learning-rate choice (claim 7): with ``lr_choice`` set, the grid factors are trained on the held-out
``tuning_seeds`` only; per optimizer × method the factor with the best score by ``lr_choice.criterion`` is chosen
(hrta.claims.tuning.choose_lr: final_loss, the lowest geometric-mean final loss, RULE_LR_TUNING; time_to_target,
the soonest geometric-mean restricted time to the targets the baseline sets at factor 1 on the same seed,
RULE_LR_TUNING_TIME, targets at ``lr_choice.target_fractions``), and while it sits at an end of the factors tried
the grid widens one ``step`` beyond that end (that method only), up to ``max_steps`` per side
(hrta.sweep_parts.widen_lr_grid). The other seeds
then train each method at its chosen factor (column ``chosen``; ``at_edge``: still at an end at the limit) and
with the kernel-scaled rate; only they are scored. Every GD run records lr·λ_max(K_s/n), the largest over its
stages (``lr_lambda_max``), and ``outside_ntk`` when it is ≥ 2 (GD outside the regime the theory describes).

Parts (fairness sweeps, hrta.pipeline.jobs.fairness_parts): ``part`` "tune" (rule claims_tune) trains the grid on
the tuning seeds with its widening and writes the choice (``choice``: optimizer, method, lr_factor as the exact
``repr`` of the float, at_low, at_high); ``part`` "seed<k>" (rule claims_score) trains seed k: with lr_choice each
method at the choice's factor, then the kernel-scaled rate; without it every factor. Each runs row carries
``call``, the index of the run_plan call that made it (the same sequence of calls on every seed), which rule
claims_gather uses to put the rows in the order one job over all seeds writes. ``part`` "all" (E5, E7) is the
whole cell in one job.

to_relu export: every two-layer ReLU-base run whose final s ≠ 1 is exported with hrta.models.to_relu
(a width-2m ReLU network); its training loss is recorded next to the σ_s network's (``export_rel_diff``)
and must agree to 1e-10 relative in float64.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import math
import time

import pandas as pd

from hrta.claims.tuning import choose_lr
from hrta.datafiles import dataset_draw, dataset_from_config
from hrta.io import write_csv
from hrta.models import TwoLayerNet, export_loss_check
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.provenance import write_metadata
from hrta.schedules import parse_schedule
from hrta.sweep_parts import read_lr_choice, widen_lr_grid, write_lr_choice
from hrta.sweeps import build_model, kernel_lambda_maxes, stage_learning_rates, train_config, train_stagewise
from hrta.train import train

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
job_start = time.perf_counter()

cfg = smk.params.settings


def dataset_of(seed):
    """The seed's data set: dataset.seed + seed with vary_data_seed, else the one fixed draw (or a user's file)."""
    return dataset_from_config(cfg["dataset"], dataset_draw(cfg, seed))


model_spec = cfg["model"]
layers = "both" if model_spec.get("train_output", True) else "first"
common = dict(
    log_every=cfg["log_every"],
    dtype=cfg["dtype"],
    device=cfg["device"],
    divergence_threshold=cfg["divergence_threshold"],
)

# (optimizer name, lr factor or "kernel", optimizer setting)
plans = [(name, factor, opt) for name, opt in cfg["optimizers"].items() for factor in cfg["lr_factors"]]
kernel = cfg.get("kernel_lr")
if kernel:
    plans.append((kernel["optimizer"], "kernel", cfg["optimizers"][kernel["optimizer"]]))
datasets = {seed: dataset_of(seed) for seed in cfg["seeds"]}
histories, runs = [], []
choice = cfg.get("lr_choice")
tuning_seeds = list(choice["tuning_seeds"]) if choice else []
scoring_seeds = [s for s in cfg["seeds"] if s not in tuning_seeds]
_lambda_max: dict = {}  # {seed: {s: λ_max(K_s/n)}}
method_s_values = {
    s for m in cfg["methods"].values() for st in parse_schedule(m["schedule"]).stages for s in (st.s_start, st.s_end)
}


def lr_lambda_max(seed, schedule, lrs):
    """max over stages of lr_i·λ_max(K_{s_i}/n) (ramps: both ends), analytic kernel of the seed's data."""
    if seed not in _lambda_max:  # every s of the cell's methods at once (one quadrature for a smooth base)
        _lambda_max[seed] = kernel_lambda_maxes(datasets[seed].X_train, method_s_values, model_spec["base"], layers)
    ends = [(lr, s) for stage, lr in zip(schedule.stages, lrs) for s in (stage.s_start, stage.s_end)]
    return max(lr * _lambda_max[seed][s] for lr, s in ends)


def run_plan(opt_name, factor, opt, methods, seeds=None, role="scoring"):
    """Train ``methods`` with one optimizer and lr factor on ``seeds`` (default all; same init per seed)."""
    for seed in cfg["seeds"] if seeds is None else seeds:
        ds = datasets[seed]
        for method in methods:
            schedule = parse_schedule(cfg["methods"][method]["schedule"])
            model = build_model(model_spec, ds.d, seed, cfg["dtype"], cfg["device"])
            t0 = time.perf_counter()
            if factor == "kernel":
                lrs = stage_learning_rates(ds.X_train, schedule, kernel["fraction"], model_spec["base"], layers)
                tc = train_config(opt, schedule, lr=lrs[0], seed=seed, **common)
                result = train_stagewise(model, ds.X_train, ds.y_train, schedule, lrs, tc)
                lr_text = " ".join(f"{lr:.4g}" for lr in lrs)
                stage_lrs = lrs
            else:
                tc = train_config(opt, schedule, lr=opt["lr"] * factor, seed=seed, **common)
                result = train(model, ds.X_train, ds.y_train, tc)
                lr_text = f"{opt['lr'] * factor:.4g}"
                stage_lrs = [opt["lr"] * factor] * len(schedule.stages)
            gd = opt["optimizer"] == "gd" and model_spec.get("kind", "two_layer") == "two_layer"
            lam = lr_lambda_max(seed, schedule, stage_lrs) if gd else math.nan
            wall = time.perf_counter() - t0
            export = math.nan
            if isinstance(model, TwoLayerNet) and model.base == "relu" and model.s != 1.0 and result.status == "ok":
                export = export_loss_check(model, ds.X_train, ds.y_train)
            hist = result.history.drop(columns=["elapsed_s", "test_loss"])
            labels = {
                "cell": cfg["cell"],
                "optimizer": opt_name,
                "lr_factor": str(factor),
                "method": method,
                "seed": seed,
            }
            for col, value in reversed(labels.items()):
                hist.insert(0, col, value)
            histories.append(hist)
            runs.append(
                {
                    **labels,
                    "lr": lr_text,
                    "schedule": str(schedule),
                    "budget": schedule.total_steps,
                    "status": result.status,
                    "steps_done": result.steps_done,
                    "final_train_loss": result.final_train_loss,
                    "export_rel_diff": export,
                    "role": role,
                    "lr_lambda_max": lam,
                    "outside_ntk": bool(gd and lam >= 2.0),
                    "wall_s": round(wall, 3),
                }
            )
            log.info(
                "%s seed=%d %-8s lr×%-6s %-10s %s: %d steps, train loss %.3e (%.2f s)",
                cfg["cell"],
                seed,
                opt_name,
                factor,
                method,
                result.status,
                result.steps_done,
                result.final_train_loss,
                wall,
            )


part = cfg.get("part", "all")
calls = [0]  # index of the current run_plan call (column `call` of a part's runs: claims_gather orders by it)


def run_call(*args, **kwargs):
    """run_plan, its rows labelled with the call's index (parts only)."""
    start = len(runs)
    run_plan(*args, **kwargs)
    for row in runs[start:]:
        row["call"] = calls[0]
    calls[0] += 1


if not choice:  # every factor on every seed: the whole cell (E5, E7), or one seed of a fairness sweep
    for opt_name, factor, opt in plans:
        run_call(opt_name, factor, opt, list(cfg["methods"]))
elif part == "tune":
    # Claim 7 (RULE_LR_TUNING, or RULE_LR_TUNING_TIME with criterion time_to_target): the grid on the held-out tuning
    # seeds, widened until the optimum is interior or the stated limit is hit. The scoring seeds (rule claims_score)
    # then train every method at its chosen factor.
    criterion = choice.get("criterion", "final_loss")
    for opt_name, factor, opt in plans:
        if factor != "kernel":
            run_call(opt_name, factor, opt, list(cfg["methods"]), tuning_seeds, "tuning")

    def choose():
        """The choice by the sweep's criterion from every tuning run so far (the tune part trains nothing else)."""
        tuned = pd.DataFrame(runs).assign(lr_factor=lambda t: t["lr_factor"].astype(float))
        hist = pd.concat(histories, ignore_index=True) if criterion == "time_to_target" else None
        fractions = choice.get("target_fractions")
        return choose_lr(criterion, tuned, hist, cfg["baseline"], fractions, ["optimizer", "method"])

    def widen(opt_name, factor, method):
        log.info("lr choice: %s/%s optimum at an end of the factors tried; widening to ×%.4g", opt_name, method, factor)
        run_call(opt_name, factor, cfg["optimizers"][opt_name], [method], tuning_seeds, "tuning")

    chosen = widen_lr_grid(choose, widen, cfg["lr_factors"], float(choice["step"]), int(choice["max_steps"]))
    write_lr_choice(chosen, smk.output.choice)
else:  # one scoring seed: every method at its chosen factor (the tune part's choice), then the kernel-scaled rate
    for r in read_lr_choice(smk.input.choice[0]).itertuples():
        run_call(r.optimizer, r.lr_factor, cfg["optimizers"][r.optimizer], [r.method], scoring_seeds, "scoring")
    for opt_name, factor, opt in plans:
        if factor == "kernel":
            run_call(opt_name, factor, opt, list(cfg["methods"]), scoring_seeds, "scoring")

# wall_s is the only non-deterministic column: keep it in the sidecar, not in the runs table.
runs = pd.DataFrame(runs)
if part == "all":
    runs = runs.drop(columns="call")
timings = {"job": time.perf_counter() - job_start, "training": float(runs.pop("wall_s").sum())}
for key in ("history", "runs", "choice") if part == "tune" else ("history", "runs"):
    write_metadata(smk.output[key], cfg, rule=smk.rule, seeds=cfg["seeds"], timings=timings)
write_csv(pd.concat(histories, ignore_index=True), smk.output.history)
write_csv(runs, smk.output.runs)
log.info("done in %.1f s (%d runs)", timings["job"], len(runs))
