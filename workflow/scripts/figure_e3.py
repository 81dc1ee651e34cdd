"""Rule `figure_e3_loss`: E3 training loss vs step (log scale), one row per optimizer, one column per
width; line = geometric mean over seeds, band = exp(mean ± std of log L); dotted verticals mark each
method's switches of s (in the method's colour). Diverged runs are left out and listed in their panel."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import FULL_WIDTH, geometric_band, mark_switches, palette, subplots
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

methods, optimizers = smk.params.methods, smk.params.optimizers
method_order, optimizer_order = list(smk.params.method_order), list(smk.params.optimizer_order)
hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
runs = pd.concat([pd.read_csv(p) for p in smk.input.runs], ignore_index=True)
widths = sorted(hist.width.unique())
colours = palette(method_order)
fig, axes = subplots(len(optimizer_order), len(widths), width=FULL_WIDTH, panel_height=2.0, sharey="row")
for i, opt in enumerate(optimizer_order):
    for j, width in enumerate(widths):
        ax = axes[i, j]
        diverged = []  # per panel: the legend is shared by all panels
        for method in method_order:
            spec = methods[method]
            sel = runs[(runs.optimizer == opt) & (runs.width == width) & (runs.method == method)]
            ok_seeds = sel[sel.status == "ok"].seed.tolist()
            g = hist[
                (hist.optimizer == opt) & (hist.width == width) & (hist.method == method) & hist.seed.isin(ok_seeds)
            ]
            label = spec.get("label", method)
            if len(sel) > len(ok_seeds):
                diverged.append(f"{label} {len(sel) - len(ok_seeds)}/{len(sel)}")
            if g.empty:
                ax.plot([], [], color=colours[method], label=label)
                continue
            table = g.pivot(index="step", columns="seed", values="train_loss").sort_index()
            mean, lo, hi = geometric_band(table.to_numpy().T)
            ax.plot(table.index, mean, color=colours[method], label=label)
            ax.fill_between(table.index, lo, hi, color=colours[method], alpha=0.2, lw=0)
            mark_switches(ax, parse_schedule(spec["schedule"]).boundaries, color=colours[method])
        ax.set_yscale("log")
        ax.set_title(f"{optimizers[opt].get('label', opt)}, $m = {width}$")
        if diverged:
            ax.text(
                0.99,
                0.97,
                "diverged (left out): " + ", ".join(diverged),
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize="x-small",
                color="0.3",
            )
        ax.set_xlabel("step $t$")
        if j == 0:
            ax.set_ylabel(r"training loss $L(\theta_t)$")
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncols=len(method_order))
save_figure(
    fig,
    smk.output,
    {"methods": methods, "optimizers": optimizers},
    rule=smk.rule,
    inputs=list(smk.input),
    timings={"job": time.perf_counter() - start},
)
log.info("figure written")
