"""Rule `figure_e2_kernel_error`: ‖K_emp − K_∞‖_F/‖K_∞‖_F vs width m on log-log axes (mean ± std
over seeds), one line per s, one panel per layer choice; dashed: the Monte-Carlo rate m^{-1/2}."""
import time

import numpy as np
import pandas as pd

from hrta.io import job_logger
from hrta.plots import palette, save_figure, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

e2 = smk.params.e2
data = pd.concat([pd.read_csv(p) for p in smk.input.empirical], ignore_index=True)
layers_list = list(e2["layers"])
s_values = sorted(data.s.unique())
colours = palette(s_values)
fig, axes = subplots(1, len(layers_list), panel_height=2.0, sharey=True)
for j, layers in enumerate(layers_list):
    ax = axes[0, j]
    g = data[data.layers == layers]
    for s in s_values:
        st = g[g.s == s].groupby("width").rel_error.agg(["mean", "std"]).reset_index()
        ax.errorbar(st.width, st["mean"], yerr=st["std"].fillna(0.0), marker="o", ms=3, capsize=1.5,
                    color=colours[s], label=f"s = {s:g}")
    widths = np.array(sorted(g.width.unique()), float)
    ref = g[g.width == widths[0]].rel_error.mean() * np.sqrt(widths[0] / widths)
    ax.plot(widths, ref, "k--", lw=0.8, label=r"$\propto m^{-1/2}$")
    ax.set(xscale="log", yscale="log", xlabel="width $m$",
           title=f"{'both layers' if layers == 'both' else 'first layer'} trained")
axes[0, 0].set_ylabel(r"$\|K_{\mathrm{emp}}-K_\infty\|_F/\|K_\infty\|_F$")
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside lower center", ncols=3)
save_figure(fig, smk.output, e2, rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start})
log.info("figure written")
