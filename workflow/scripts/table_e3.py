"""Rule `table_e3`: E3 training loss at fixed step budgets and steps to reach loss tolerances,
mean ± std over seeds (sample std, ddof = 1), per optimizer, width and method.

The definitions are the claims' (hrta.claims.metrics), so the tables and the verdicts count alike:
"steps until L stays ≤ tol" is hrta.claims.steps_to_tolerance (metric (a)'s "stays" rule: the first
logged step from which the loss stays at or below tol to the end of the run) and "first step L ≤ tol"
is hrta.claims.steps_first_below (metric (c), a diagnostic: the first logged step at or below tol under
whatever s is in force). A run that diverged never reaches a tolerance and has no loss at a budget: it
is excluded from the means and counted in `n_diverged` (the Markdown/LaTeX cells say "(k/n diverged)");
a tolerance a run never reached is excluded from the step statistics and shows in `n_reached` < `n_seeds`.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.claims import loss_at_budget_or_inf, steps_first_below, steps_to_tolerance
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import output_paths, write_table
from hrta.plots import format_number, mean_std

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

methods, optimizers = smk.params.methods, smk.params.optimizers
budgets, tolerances = list(smk.params.budgets), list(smk.params.tolerances)
hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
runs = pd.concat([pd.read_csv(p) for p in smk.input.runs], ignore_index=True)
run_keys = ["optimizer", "width", "method", "seed"]
hist = hist.merge(runs[run_keys + ["status"]], on=run_keys, how="left")
order = {"optimizer": list(smk.params.optimizer_order), "method": list(smk.params.method_order)}


def sort(df):
    return (
        df.assign(_o=df.optimizer.map(order["optimizer"].index), _m=df.method.map(order["method"].index))
        .sort_values(["_o", "width", "_m"] + [c for c in ("budget", "tolerance") if c in df], kind="stable")
        .drop(columns=["_o", "_m"])
    )


def loss_at(run, budget):
    """Training loss of the last logged step ≤ budget (NaN if the run diverged: hrta.claims.loss_at_budget_or_inf)."""
    value = loss_at_budget_or_inf(run, budget, run.status.iloc[0])
    return value if np.isfinite(value) else np.nan


def steps(fn, run, tol):
    """Steps by one of the claims' definitions (NaN for never reached, diverged included)."""
    value = fn(run, tol, run.status.iloc[0])
    return value if np.isfinite(value) else np.nan


budget_rows, tol_rows = [], []
for (opt, width, method), group in hist.groupby(["optimizer", "width", "method"]):
    per_seed = [run.sort_values("step") for _, run in group.groupby("seed")]
    n_seeds = len(per_seed)
    n_div = sum(run.status.iloc[0] != "ok" for run in per_seed)
    for b in budgets:
        values = np.array([loss_at(run, b) for run in per_seed])
        ok = values[np.isfinite(values)]
        budget_rows.append(
            dict(
                optimizer=opt,
                width=width,
                method=method,
                budget=b,
                loss_mean=ok.mean() if len(ok) else np.nan,
                loss_std=ok.std(ddof=1) if len(ok) > 1 else np.nan,
                n_seeds=n_seeds,
                n_diverged=n_div,
            )
        )
    for tol in tolerances:
        stays = np.array([steps(steps_to_tolerance, run, tol) for run in per_seed])
        first = np.array([steps(steps_first_below, run, tol) for run in per_seed])
        ok, ok_first = stays[np.isfinite(stays)], first[np.isfinite(first)]
        tol_rows.append(
            dict(
                optimizer=opt,
                width=width,
                method=method,
                tolerance=tol,
                steps_stays_mean=ok.mean() if len(ok) else np.nan,
                steps_stays_std=ok.std(ddof=1) if len(ok) > 1 else np.nan,
                n_reached=len(ok),
                steps_first_below_mean=ok_first.mean() if len(ok_first) else np.nan,
                steps_first_below_std=ok_first.std(ddof=1) if len(ok_first) > 1 else np.nan,
                n_first_below=len(ok_first),
                n_seeds=n_seeds,
                n_diverged=n_div,
            )
        )

budget = sort(pd.DataFrame(budget_rows)).reset_index(drop=True)
tol = sort(pd.DataFrame(tol_rows)).reset_index(drop=True)


def pretty(df, column_of, cell):
    out = []
    for (opt, width, method), g in df.groupby(["optimizer", "width", "method"], sort=False):
        row = {
            "optimizer": optimizers[opt].get("label", opt),
            "m": width,
            "method": methods[method].get("label", method),
        }
        for r in g.itertuples(index=False):
            row[column_of(r)] = cell(r)
        out.append(row)
    return pd.DataFrame(out)


def diverged_note(r):
    return f" ({r.n_diverged}/{r.n_seeds} diverged)" if r.n_diverged else ""


def budget_cell(r):
    return mean_std(r.loss_mean, r.loss_std) + diverged_note(r)


def tol_cell(r):
    text = mean_std(r.steps_stays_mean, r.steps_stays_std, 3)
    text = text if r.n_reached == r.n_seeds else f"{text} ({r.n_reached}/{r.n_seeds})"
    first = mean_std(r.steps_first_below_mean, r.steps_first_below_std, 3)
    first = first if r.n_first_below == r.n_seeds else f"{first} ({r.n_first_below}/{r.n_seeds})"
    return f"{text}; first ≤: {first}" + diverged_note(r)


budget_pretty = pretty(budget, lambda r: f"L at step {r.budget}", budget_cell)
tol_pretty = pretty(tol, lambda r: f"steps until L stays ≤ {format_number(r.tolerance, 2)}", tol_cell)
slice_ = {"budgets": budgets, "tolerances": tolerances, "methods": methods, "optimizers": optimizers}
inputs = list(smk.input)
write_table(
    budget,
    budget_pretty,
    output_paths(smk.output, "budget"),
    slice_,
    rule=smk.rule,
    inputs=inputs,
    caption="E3: training loss L = (1/2n)Σ(f(x_i) − y_i)² at fixed step budgets, mean ± std over seeds "
    "(diverged runs left out and counted)",
)
write_table(
    tol,
    tol_pretty,
    output_paths(smk.output, "tol"),
    slice_,
    rule=smk.rule,
    inputs=inputs,
    caption="E3: steps until the training loss stays at or below the tolerance (metric (a)'s rule), and after "
    "'first ≤' the first logged step at or below it under any s (diagnostic (c)); mean ± std over seeds "
    "(seeds that reached it / all, when not all did; diverged runs never reach it)",
)
log.info("tables written in %.1f s", time.perf_counter() - start)
