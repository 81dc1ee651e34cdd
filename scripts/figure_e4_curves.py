"""Rule `figure_e4_curves`: measured GD training loss (solid) with the NTK prediction
predict_loss_curve overlaid, analytic K_∞ (dashed) and empirical K at initialization (dotted),
each stage predicted from the state at its start; one row per method, one column per width;
geometric mean over seeds. Dotted verticals mark the switches of s."""
import time

import pandas as pd

from hrta.io import job_logger
from hrta.plots import FULL_WIDTH, geometric_band, mark_switches, palette, save_figure, subplots
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

methods = smk.params.methods
hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
curves = pd.concat([pd.read_csv(p) for p in smk.input.curves], ignore_index=True)
widths = sorted(hist.width.unique())
optimizer = hist.optimizer.iloc[0]
colours = palette(["measured", "analytic", "empirical"])
styles = {"measured": "-", "analytic": "--", "empirical": ":"}
labels = {"measured": "measured GD", "analytic": r"NTK prediction, $K_\infty$", "empirical": r"NTK prediction, $K_{\mathrm{emp}}(\theta_0)$"}
fig, axes = subplots(len(methods), len(widths), width=FULL_WIDTH, panel_height=1.7, sharey="row", sharex=True)
for i, (method, spec) in enumerate(methods.items()):
    for j, width in enumerate(widths):
        ax = axes[i, j]
        h = hist[(hist.method == method) & (hist.width == width) & (hist.optimizer == optimizer)]
        series = {"measured": h.pivot(index="step", columns="seed", values="train_loss")}
        for kernel in ("analytic", "empirical"):
            c = curves[(curves.method == method) & (curves.width == width) & (curves.kernel == kernel)
                       & (curves.optimizer == optimizer)]
            series[kernel] = c.pivot(index="step", columns="seed", values="predicted_loss")
        for name, table in series.items():
            table = table.sort_index().dropna(axis=1)
            if table.empty:
                continue
            mean, _, _ = geometric_band(table.to_numpy().T)
            ax.plot(table.index, mean, styles[name], color=colours[name], label=labels[name])
        mark_switches(ax, parse_schedule(spec["schedule"]).boundaries)
        ax.set_yscale("log")
        ax.set_title(f"{spec.get('label', method)}, $m = {width}$")
        if i == len(methods) - 1:
            ax.set_xlabel("step $t$")
        if j == 0:
            ax.set_ylabel(r"$L(\theta_t)$")
fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
save_figure(fig, smk.output, {"methods": methods}, rule=smk.rule, inputs=list(smk.input),
            timings={"job": time.perf_counter() - start})
log.info("figure written")
