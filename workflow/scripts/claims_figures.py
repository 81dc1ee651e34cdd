"""Rule `figure_claims`: the claims figures.

* claims_speedups — every paired speed-up of E3, E5 and E6 with its 95% interval (claims 4–7).
* claims_e5_extensions — E5 training loss vs step per model and optimizer (claim 6).
* claims_e6_lr_grid — E6 final training loss vs learning rate per method (claim 7); a star marks the rate
  chosen by metric (a).
* claims_e7_sensitivity — E7 speed-up vs the number of samples n and the input dimension d.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.data import TARGETS
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import FULL_WIDTH, geometric_band, mark_switches, palette, subplots
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])  # never an empty log: start, end and resource use (hrta.io)
start = time.perf_counter()
speedups = pd.read_csv(smk.input.speedups)
VERDICT_COLOURS = {"supported": "tab:green", "not supported": "tab:red", "inconclusive": "0.45"}


def outputs(name):
    return [str(smk.output[f"{name}_png"]), str(smk.output[f"{name}_pdf"])]


def save(fig, name, cfg):
    save_figure(
        fig, outputs(name), cfg, rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start}
    )


def label(row):
    parts = [
        str(row[c]) if c != "width" else f"m={int(row[c])}"
        for c in ("cell", "optimizer", "width", "lr_choice")
        if c in row and pd.notna(row[c])
    ]
    return f"{row['method']} ({', '.join(parts)})"


def finite_or(x, fallback):
    return x if np.isfinite(x) else fallback


# ---- speed-up forest plot ---------------------------------------------------------------------
panels = [
    (
        "e3",
        "E3 — every schedule vs ReLU, metric (a) at the headline tolerance (claims 4, 5; all readings: claims_matrix)",
    ),
    ("e5", "E5 — extensions (claim 6)"),
    ("e6", "E6 — fairness: lr chosen by metric (a) / kernel-scaled lr (claim 7)"),
]
heights = [max(1, (speedups.experiment == e).sum()) for e, _ in panels]
fig, axes = subplots(
    len(panels), 1, width=FULL_WIDTH, panel_height=1.0, gridspec_kw={"height_ratios": heights}, sharex=True
)
fig.set_size_inches(FULL_WIDTH, 0.8 + 0.22 * sum(heights))
for ax, (exp, title) in zip(axes[:, 0], panels):
    rows = speedups[speedups.experiment == exp].reset_index(drop=True)
    for i, row in rows.iterrows():
        g = row["speedup"]
        lo, hi = finite_or(row["ci_low"], g), finite_or(row["ci_high"], g)
        colour = VERDICT_COLOURS[row["verdict"]]
        if np.isfinite(g):
            ax.errorbar([g], [i], xerr=[[max(g - lo, 0)], [max(hi - g, 0)]], fmt="o", color=colour, ms=3, capsize=2)
        if np.isfinite(row["speedup_first_below"]):
            ax.plot([row["speedup_first_below"]], [i], "D", mfc="none", color=colour, ms=3.5, mew=0.8)
    ax.set_yticks(range(len(rows)), [label(r) for _, r in rows.iterrows()], fontsize=6)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.axvline(1.0, color="k", lw=0.8, ls="--")
    ax.set_title(title, loc="left")
    ax.set_xscale("log")
# Intervals from 2–3 seeds can span decades; clip the axis so the points stay readable.
finite = speedups[["ci_low", "speedup", "ci_high"]].to_numpy(float)
finite = finite[np.isfinite(finite) & (finite > 0)]
if finite.size:
    axes[-1, 0].set_xlim(max(finite.min(), 1 / 30) / 1.3, min(finite.max(), 30) * 1.3)
axes[-1, 0].set_xlabel(
    "speed-up = baseline steps / method steps to tolerance (geometric mean, 95% CI; axis clipped at 1/30 and 30)"
)
handles = [
    axes[0, 0].plot([], [], "o", color=colour, ms=3, label=verdict)[0] for verdict, colour in VERDICT_COLOURS.items()
]
handles += axes[0, 0].plot(
    [], [], "D", mfc="none", color="0.3", ms=3.5, label="first step ≤ tol under any s (diagnostic)"
)
fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=6)
save(fig, "claims_speedups", dict(smk.params.claims))

# ---- E5 curves ---------------------------------------------------------------------------------
e5 = smk.params.e5
hist = pd.concat([pd.read_csv(p) for p in smk.input.e5_histories], ignore_index=True)
runs = pd.concat([pd.read_csv(p) for p in smk.input.e5_runs], ignore_index=True)
models, opts, methods = list(e5["models"]), list(e5["optimizers"]), list(e5["methods"])
colours = palette(methods)
fig, axes = subplots(len(opts), len(models), width=FULL_WIDTH, panel_height=1.8, sharey="row")
legend_drawn = False
for r, opt in enumerate(opts):
    for c, model in enumerate(models):
        ax = axes[r, c]
        if opt not in e5["models"][model].get("optimizers", opts):
            ax.text(0.5, 0.5, f"not trained with {opt}\n(e5.models.{model}.optimizers)", transform=ax.transAxes,
                    ha="center", va="center", fontsize=6, color="0.4")  # fmt: skip
        for method in methods:
            sel = hist[(hist.cell == model) & (hist.optimizer == opt) & (hist.method == method)]
            ok = runs[(runs.cell == model) & (runs.optimizer == opt) & (runs.method == method) & (runs.status == "ok")]
            sel = sel[sel.seed.isin(ok.seed)]
            if sel.empty:
                continue
            wide = sel.pivot(index="step", columns="seed", values="train_loss").dropna()
            mean, lo, hi = geometric_band(wide.to_numpy(), axis=1)
            n_div = (
                runs[(runs.cell == model) & (runs.optimizer == opt) & (runs.method == method)].status != "ok"
            ).sum()
            name = e5["methods"][method].get("label", method) + (f" ({n_div} diverged)" if n_div else "")
            ax.plot(wide.index, mean, color=colours[method], label=name)
            ax.fill_between(wide.index, lo, hi, color=colours[method], alpha=0.2, lw=0)
        mark_switches(ax, sorted({b for m in methods for b in parse_schedule(e5["methods"][m]["schedule"]).boundaries}))
        ax.set_yscale("log")
        if r == 0:
            ax.set_title(e5["models"][model].get("label", model))
        if r == len(opts) - 1:
            ax.set_xlabel("step t")
        if c == 0:
            ax.set_ylabel(f"{e5['optimizers'][opt].get('label', opt)}\ntraining loss L(t)")
        ax.set_xlim(0, parse_schedule(e5["methods"][methods[0]]["schedule"]).total_steps)
        # One legend for the figure (from the first panel with curves), and one in every panel that
        # reports diverged runs.
        handles, labels = ax.get_legend_handles_labels()
        if labels and not legend_drawn:
            fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=6)
            legend_drawn = True
        if any("diverged" in text for text in labels):
            ax.legend(fontsize=5)
save(fig, "claims_e5_extensions", dict(e5))

# ---- E6 learning-rate grid --------------------------------------------------------------------------
e6 = smk.params.e6
runs6 = pd.concat([pd.read_csv(p) for p in smk.input.e6_runs], ignore_index=True)
grid = runs6[runs6.lr_factor.astype(str) != "kernel"].copy()
chosen6 = grid[grid["chosen"].astype(bool)] if "chosen" in grid.columns else grid.iloc[:0]
if "role" in grid.columns:  # the grid's curve: the held-out tuning seeds the rate was chosen on
    grid = grid[grid["role"] == "tuning"].copy()
grid["lr_value"] = grid.lr.astype(float)
grid["loss"] = grid.final_train_loss.where(grid.status == "ok", np.nan)
methods6, opts6 = list(e6["methods"]), list(e6["optimizers"])
colours = palette(methods6)
fig, axes = subplots(1, len(opts6), width=FULL_WIDTH, panel_height=2.2)
for c, opt in enumerate(opts6):
    ax = axes[0, c]
    for k, method in enumerate(methods6):
        sel = grid[(grid.optimizer == opt) & (grid.method == method)]
        by_lr = sel.groupby("lr_value")["loss"].apply(
            lambda v: float(np.exp(np.log(v).mean())) if v.notna().all() else np.nan
        )
        ax.plot(
            by_lr.index,
            by_lr.values,
            "o-",
            color=colours[method],
            ms=3,
            label=e6["methods"][method].get("label", method),
        )
        picked = chosen6[(chosen6.optimizer == opt) & (chosen6.method == method)]
        if len(picked):  # the rate chosen on the tuning seeds: a star
            lr_c = float(picked["lr"].astype(float).iloc[0])
            if lr_c in by_lr.index and np.isfinite(by_lr[lr_c]):
                ax.plot([lr_c], [by_lr[lr_c]], "*", color=colours[method], ms=9, mec="k", mew=0.5)
        div = sel.groupby("lr_value")["loss"].apply(lambda v: v.isna().sum())
        for lr, n_div in div.items():
            if n_div:
                ax.annotate(
                    f"{n_div}×div",
                    (lr, 0.99 - 0.06 * k),
                    xycoords=("data", "axes fraction"),
                    fontsize=5,
                    ha="center",
                    va="top",
                    color=colours[method],
                )
        kern = runs6[(runs6.lr_factor.astype(str) == "kernel") & (runs6.optimizer == opt) & (runs6.method == method)]
        if len(kern) and (kern.status == "ok").all():
            ax.axhline(float(np.exp(np.log(kern.final_train_loss).mean())), color=colours[method], ls=":", lw=1)
    if e6.get("kernel_lr") and e6["kernel_lr"]["optimizer"] == opt:
        ax.plot(
            [], [], ls=":", color="0.3", label=f"dotted: η = {e6['kernel_lr']['fraction']:g}/λ_max(K_s/n) per stage"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    lrs = sorted(grid.loc[grid.optimizer == opt, "lr_value"].unique())
    ax.minorticks_off()
    ax.set_xticks(lrs, [f"{lr:.3g}" for lr in lrs])
    ax.set_xlabel(f"learning rate η ({e6['optimizers'][opt].get('label', opt)})")
    ax.set_ylabel("final training loss\n(geometric mean, tuning seeds)")
    ax.legend(fontsize=6)
save(fig, "claims_e6_lr_grid", dict(e6))

# ---- E7 sensitivity --------------------------------------------------------------------------------
e7 = smk.params.e7
rows7 = speedups[speedups.experiment == "e7"].copy()
rows7["target"] = rows7.cell.str.rsplit("_n", n=1).str[0]
rows7["n"] = rows7.cell.str.rsplit("_n", n=1).str[1].astype(int)
# d counts the constant feature when the data set has one, as the tables do (one convention for d).
const = 1 if smk.params.e7_reference.get("constant_feature", True) else 0
rows7["d"] = rows7.target.map(lambda t: TARGETS[t].d + const)
ref = smk.params.e7_reference
fig, axes = subplots(1, 2, width=FULL_WIDTH, panel_height=2.2, sharey=True)
colours = palette([m for m in e7["methods"] if m != e7["baseline"]])
for ax, (xcol, keep, xlabel) in zip(
    axes[0],
    [
        ("n", rows7.target == ref["target"], "number of training samples n"),
        (
            "d",
            rows7.n == ref["n_train"],
            "input dimension d, constant feature counted ("
            + ", ".join(f"{t}: {TARGETS[t].d + const}" for t in e7["targets"])
            + ")",
        ),
    ],
):
    for (opt, method), g in rows7[keep].groupby(["optimizer", "method"], sort=False):
        g = g.sort_values(xcol)
        y = g.speedup.to_numpy(float)
        err = [
            np.maximum(y - g.ci_low.fillna(g.speedup).to_numpy(float), 0),
            np.maximum(g.ci_high.fillna(g.speedup).to_numpy(float) - y, 0),
        ]
        ax.errorbar(
            g[xcol],
            y,
            yerr=err,
            fmt="o-",
            ms=3,
            capsize=2,
            color=colours.get(method),
            label=f"{e7['methods'][method].get('label', method)} ({opt})",
        )
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_yscale("log")
    ticks = sorted(rows7.loc[keep, xcol].unique())
    if xcol == "n":
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(ticks, [str(t) for t in ticks])
axes[0, 0].set_ylabel("speed-up over the baseline (95% CI)")
axes[0, 0].legend(fontsize=6)
save(fig, "claims_e7_sensitivity", dict(e7))
