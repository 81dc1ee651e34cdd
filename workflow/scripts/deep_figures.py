"""Rule `figures_deep`: the three deep-network figures in one job (matplotlib imports cost more than drawing).

figures/deep_spectrum: λ_min, λ_max and condition number of the depth-L NTK K_s/n vs s, one column per
depth L, one line per data set (further draws of one data set, `<name>_data<k>`, in its colour). λ_min
below the eigensolver's resolution floor is not plotted.

figures/deep_kernel_error: ‖K_emp − K_∞‖_F/‖K_∞‖_F of DeepNet at initialization vs width (every hidden
layer that wide), one panel per depth, one line per s (geometric mean over seeds with the band
exp(mean ± std of log error)); the tolerance deep.kernel_tolerance is drawn, and networks of other
shapes (e.g. e5's) appear as labelled points at their narrowest layer.

figures/deep_gd: training loss of full-batch GD on DeepNet (deep.train) with the linearized predictions
from the analytic deep kernel (dashed) and the network's own kernel at each stage start (dotted), one
panel per method, switches of s marked.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import re
import time

import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import FULL_WIDTH, error_vs_width, mark_switches, palette, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
deep = smk.params.deep


def spectrum_figure():
    start = time.perf_counter()
    data = pd.read_csv(smk.input.spectrum)
    depths = sorted(data.depth.unique())
    names = list(dict.fromkeys(data.dataset))
    # further draws of one data set (claim 1's `<name>_data<k>`, vary_data_seed) share its colour and label
    family = {name: re.sub(r"_data\d+$", "", name) for name in names}
    colours = palette(list(dict.fromkeys(family.values())))
    quantities = [
        ("lambda_min", r"$\lambda_{\min}(K_s/n)$", True),
        ("lambda_max", r"$\lambda_{\max}(K_s/n)$", False),
        ("condition_number", r"$\kappa(K_s)$", True),
    ]
    fig, axes = subplots(3, len(depths), width=FULL_WIDTH, panel_height=1.6, sharex=True)
    for j, depth in enumerate(depths):
        for i, (col, label, needs_resolved) in enumerate(quantities):
            ax = axes[i, j]
            for name in names:
                g = data[(data.depth == depth) & (data.dataset == name)].sort_values("s")
                y = g[col].where(g.lambda_min_resolved.astype(bool)) if needs_resolved else g[col]
                first = family[name] == name or name == next(k for k in names if family[k] == family[name])
                ax.plot(g.s, y, color=colours[family[name]], lw=1.0, label=family[name] if first else None)
            ax.set_yscale("log")
            if j == 0:
                ax.set_ylabel(label)
            if i == 0:
                ax.set_title(f"depth L = {depth}" + (" (two-layer)" if depth == 1 else ""), fontsize=7)
            if i == len(quantities) - 1:
                ax.set_xlabel("$s$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))
    save_figure(
        fig,
        [smk.output.spectrum_png, smk.output.spectrum_pdf],
        deep,
        rule=smk.rule,
        inputs=[smk.input.spectrum],
        timings={"job": time.perf_counter() - start},
    )
    log.info("deep spectrum figure written")


def kernel_error_figure():
    start = time.perf_counter()
    data = pd.read_csv(smk.input.kernel_error)
    data["uniform"] = data.widths.astype(str).map(lambda w: len(set(w.split(","))) == 1)
    depths = sorted(data.depth.unique())
    s_values = sorted(data.s.unique())
    colours = palette(s_values)
    tol = float(deep["kernel_tolerance"])
    fig, axes = subplots(1, len(depths), width=FULL_WIDTH if len(depths) > 2 else 3.4, panel_height=2.0, sharey=True)
    for j, depth in enumerate(depths):
        ax = axes[0, j]
        g = data[data.depth == depth]
        error_vs_width(ax, g[g.uniform], "relative_error", {s: colours[s] for s in s_values})
        for shape, o in g[~g.uniform].groupby("widths"):
            ax.plot(o.width, o.relative_error, "kx", ms=4)
            ax.annotate(f"({shape})", (o.width.min(), o.relative_error.max()), fontsize=5)
        ax.axhline(tol, color="0.5", lw=0.8, ls=":", label=f"tolerance {tol:g}")
        ax.set(xscale="log", yscale="log", xlabel="width per hidden layer", title=f"depth L = {depth}")
    axes[0, 0].set_ylabel(r"$\|K_{\mathrm{emp}}-K_\infty\|_F/\|K_\infty\|_F$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5))
    save_figure(
        fig,
        [smk.output.error_png, smk.output.error_pdf],
        deep,
        rule=smk.rule,
        inputs=[smk.input.kernel_error],
        timings={"job": time.perf_counter() - start},
    )
    log.info("deep kernel-error figure written")


def gd_figure():
    start = time.perf_counter()
    hist = pd.concat([pd.read_csv(p) for p in smk.input.history], ignore_index=True)
    theory = pd.concat([pd.read_csv(p) for p in smk.input.theory], ignore_index=True)
    methods = list(smk.params.method_order)
    seeds = sorted(hist.seed.unique())
    colours = palette([str(s) for s in seeds])
    fig, axes = subplots(1, len(methods), width=FULL_WIDTH, panel_height=2.0, sharey=True)
    styles = {
        "analytic": ("--", r"linearized, $K_\infty$"),
        "empirical": (":", r"linearized, $K_{\mathrm{emp}}$ at stage start"),
    }
    for j, method in enumerate(methods):
        ax = axes[0, j]
        for seed in seeds:
            h = hist[(hist.method == method) & (hist.seed == seed)]
            for k, st in h.groupby("stage"):
                ax.plot(
                    st.step,
                    st.train_loss,
                    color=colours[str(seed)],
                    lw=1.2,
                    label=f"GD, seed {seed}" if k == 0 else None,
                )
                for kind, (ls, label) in styles.items():
                    t = theory[
                        (theory.method == method)
                        & (theory.seed == seed)
                        & (theory.kernel == kind)
                        & (theory.stage == k)
                    ]
                    ax.plot(
                        t.step,
                        t.predicted_loss,
                        ls,
                        color="k",
                        lw=0.8,
                        label=label if (k == 0 and seed == seeds[0]) else None,
                    )
            starts = sorted(h.groupby("stage").step.min())[1:]
            mark_switches(ax, starts)
        widths = deep["train"]["widths"]
        ax.set(
            yscale="log", xlabel="step", title=f"{deep['train']['methods'][method]['label']}, widths {tuple(widths)}"
        )
        ax.title.set_fontsize(7)
    axes[0, 0].set_ylabel("training loss")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4))
    save_figure(
        fig,
        [smk.output.gd_png, smk.output.gd_pdf],
        deep,
        rule=smk.rule,
        inputs=list(smk.input.history) + list(smk.input.theory),
        timings={"job": time.perf_counter() - start},
    )
    log.info("deep GD figure written")


spectrum_figure()
kernel_error_figure()
gd_figure()
