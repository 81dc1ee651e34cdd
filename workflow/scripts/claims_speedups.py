"""Rule `claims_speedups`: paired speed-ups of every method over its experiment's baseline.

Per group (E3: optimizer × width; E5: model × optimizer; E6: optimizer × learning-rate choice; E7:
data cell × optimizer) the tolerance is the loosest training loss the baseline's seeds reach at
`claims.tolerance_fraction` of the budget (hrta.claims.baseline_tolerance); steps to that
tolerance give per-seed ratios baseline/method, their geometric mean, 95% t-interval and verdict
(hrta.claims.speedup_table). E6 first keeps, for each optimizer × method × seed, the learning rate
of the grid chosen on the held-out tuning seeds in the sweep job (column ``chosen``, hrta.claims.choose_lr_by_final_loss; "best"),
and separately the kernel-scaled rate.

data/claims/metrics.csv: every metric (a) stays speed-up, (b) loss ratio, (c) first-below of every method
against its baseline, per group and tolerance/budget fraction (hrta.claims.metric_rows) — the one table
the verdict matrix of CLAIMS.md is decided from.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd

from hrta import claims as C
from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
fraction = float(smk.params.claims["tolerance_fraction"])
level = float(smk.params.claims["level"])
baselines = dict(smk.params.baselines)
tol_fractions = [float(q) for q in smk.params.claims["tolerance_fractions"]]
budget_fractions = [float(q) for q in smk.params.claims["budget_fractions"]]


def read(paths):
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def speedups(exp, runs, hist, group_cols):
    m = C.metric_rows(runs, hist, group_cols, baselines[exp], tol_fractions, budget_fractions, level)
    m.insert(0, "experiment", exp)
    metrics.append(m)
    runs = C.add_steps_to_tolerance(runs, hist, group_cols, baselines[exp], fraction)
    table = C.speedup_table(runs, baselines[exp], group_cols, level)
    tol = runs.groupby(group_cols, sort=False)["tolerance"].first().reset_index()
    table = table.merge(tol, on=group_cols, how="left")
    runs.insert(0, "experiment", exp)
    table.insert(0, "experiment", exp)
    return table, runs


tables, steps, metrics = [], [], []

# E3: the pipeline's main comparison (claims 4 and 5).
runs = read(smk.input.e3_runs)
runs["budget"] = [parse_schedule(s).total_steps for s in runs["schedule"]]
for t, r in [speedups("e3", runs, read(smk.input.e3_histories), ["optimizer", "width"])]:
    tables.append(t)
    steps.append(r)

# E5 (claim 6) and E7 (sensitivity): one learning rate per optimizer.
for exp in ("e5", "e7"):
    t, r = speedups(exp, read(smk.input[f"{exp}_runs"]), read(smk.input[f"{exp}_history"]), ["cell", "optimizer"])
    tables.append(t)
    steps.append(r)

# E6 (claim 7): best learning rate of the grid per optimizer × method × seed, and the kernel-scaled rate.
runs6, hist6 = read(smk.input.e6_runs), read(smk.input.e6_history)
grid = runs6[runs6["lr_factor"] != "kernel"]
if "chosen" in grid.columns:  # chosen per optimizer × method by metric (a) in the sweep job
    best = grid[grid["chosen"].astype(bool)].assign(lr_choice="best")
else:
    best = C.best_by_final_loss(grid, ["optimizer", "method", "seed"], "lr_factor").assign(lr_choice="best")
kernel = runs6[runs6["lr_factor"] == "kernel"].assign(lr_choice="kernel")
chosen = pd.concat([best, kernel], ignore_index=True)
hist6 = hist6.merge(
    chosen[["optimizer", "method", "seed", "lr_factor", "lr_choice"]],
    on=["optimizer", "method", "seed", "lr_factor"],
    how="inner",
)
t, r = speedups("e6", chosen, hist6, ["optimizer", "lr_choice"])
tables.append(t)
steps.append(r)

table = pd.concat(tables, ignore_index=True)
metrics = pd.concat(metrics, ignore_index=True)
steps = pd.concat(steps, ignore_index=True)
for out in smk.output:
    write_metadata(
        out,
        dict(smk.params.claims),
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
write_csv(table, smk.output.speedups)
write_csv(steps, smk.output.steps)
write_csv(metrics, smk.output.metrics)
for row in table.itertuples():
    log.info("%s %s: %s", row.experiment, row.method, row.numbers)
log.info("%d speed-ups, %d runs -> %s", len(table), len(steps), smk.output.speedups)
