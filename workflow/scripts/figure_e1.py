"""Rule `figure_e1_activations`: σ_s(z) and σ_s'(z) for the configured s values."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import palette, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

e1 = smk.params.e1
data = pd.read_csv(smk.input[0])
colours = palette([float(s) for s in e1["s_values"]])
fig, axes = subplots(1, 2, panel_height=1.9)
for s, g in data.groupby("s", sort=False):
    axes[0, 0].plot(g.z, g.sigma, color=colours[s], label=f"s = {s:g}")
    axes[0, 1].plot(g.z, g.dsigma, color=colours[s])
axes[0, 0].set(xlabel="$z$", ylabel=r"$\sigma_s(z)$", title=rf"$\sigma_s(z) = (1-s)z + s\,\mathrm{{{e1['base']}}}(z)$")
axes[0, 1].set(xlabel="$z$", ylabel=r"$\sigma_s'(z)$", title="derivative")
fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=len(colours))
save_figure(fig, smk.output, e1, rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start})
log.info("figure written")
