"""Rule `figure_e4_rates`: per GD stage, measured per-step loss decrement 1 − ρ vs the NTK prediction:
left, the fitted rate of predict_loss_curve over the same window (analytic kernel); right, the
asymptotic (1 − lr·λ_min(K_s/n))² for the analytic kernel. Colour = width, marker = s of the stage,
mean over seeds; the diagonal is a perfect match. Stages whose λ_min is unresolved are left out."""
import time

import numpy as np
import pandas as pd

from hrta.io import job_logger
from hrta.plots import palette, save_figure, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

rates = pd.read_csv(smk.input[0])
rates = rates[rates.status == "ok"]
widths = sorted(rates.width.unique())
colours = palette([int(w) for w in widths])
s_values = sorted(rates.s.unique())
markers = dict(zip(s_values, "o^sDv<>"))
panels = [("curve_rate_analytic", r"predicted (curve, $K_\infty$): $1-\rho$"),
          ("predicted_rate_analytic", r"$1-(1-\eta\,\lambda_{\min}(K_\infty/n))^2$")]
fig, axes = subplots(1, 2, panel_height=2.0, sharey=True)
for j, (col, xlabel) in enumerate(panels):
    ax = axes[0, j]
    g = rates[rates.lambda_min_resolved_analytic.astype(bool)] if col.startswith("predicted") else rates
    mean = g.groupby(["width", "method", "stage", "s"])[["measured_rate", col]].mean().reset_index()
    for r in mean.itertuples():
        ax.scatter(1 - getattr(r, col), 1 - r.measured_rate, color=colours[int(r.width)], marker=markers[r.s], s=14)
    vals = np.concatenate([1 - mean[col].to_numpy(), 1 - mean.measured_rate.to_numpy()])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    if len(vals):
        lim = [vals.min() / 1.5, vals.max() * 1.5]
        ax.plot(lim, lim, "k--", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel=xlabel)
axes[0, 0].set_ylabel(r"measured $1-\rho$ (per step)")
for w in widths:
    axes[0, 1].scatter([], [], color=colours[int(w)], marker="o", s=14, label=f"$m={int(w)}$")
for s in s_values:
    axes[0, 1].scatter([], [], color="0.4", marker=markers[s], s=14, label=f"$s={s:g}$")
fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="outside lower center", ncols=4)
save_figure(fig, smk.output, {"methods": smk.params.methods}, rule=smk.rule, inputs=list(smk.input),
            timings={"job": time.perf_counter() - start})
log.info("figure written")
