"""Rule `figures_e2`: the two E2 figures in one job (each figure job pays ≈ 0.8 CPU-s of imports and
setup before it draws).

figures/e2_spectrum: λ_min, λ_max and condition number of K_s/n vs s. Lines: analytic
(infinite-width) kernel; points with error bars: empirical kernels at each width (mean ± std over
seeds). λ_min below the eigensolver's resolution floor is not a measurement and is not plotted.

figures/e2_kernel_error: ‖K_emp − K_∞‖_F/‖K_∞‖_F vs width m on log-log axes (geometric mean over
seeds, band exp(mean ± std of log error): the error is spread over decades), one line per s, one panel per layer choice;
dashed: the Monte-Carlo rate m^{-1/2}.

figures/e2_eigen_error: relative errors of λ_max and λ_min of K_emp/n against K_∞/n vs width."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import FULL_WIDTH, error_vs_width, errorbar_over_seeds, palette, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
e2 = smk.params.e2


def spectrum_figure():
    start = time.perf_counter()
    analytic = pd.read_csv(smk.input.analytic)
    empirical = pd.concat([pd.read_csv(p) for p in smk.input.empirical], ignore_index=True)
    widths = sorted(empirical.width.unique())
    colours = palette(["analytic"] + [int(w) for w in widths])
    markers = dict(zip(widths, "osD^v<>"))
    quantities = [
        ("lambda_min", r"$\lambda_{\min}(K_s/n)$", True),
        ("lambda_max", r"$\lambda_{\max}(K_s/n)$", False),
        ("condition_number", r"condition number $\kappa(K_s)$", True),
    ]
    layers_list = list(e2["layers"])
    fig, axes = subplots(len(layers_list), 3, width=FULL_WIDTH, panel_height=1.9)
    span = float(e2["s_grid"]["stop"] - e2["s_grid"]["start"]) or 1.0
    for i, layers in enumerate(layers_list):
        a = analytic[analytic.layers == layers].sort_values("s")
        e = empirical[empirical.layers == layers]
        for j, (col, label, needs_resolved) in enumerate(quantities):
            ax = axes[i, j]
            ya = a[col].where(a.lambda_min_resolved.astype(bool)) if needs_resolved else a[col]
            ax.plot(a.s, ya, color=colours["analytic"], label=r"$m=\infty$ (analytic)")
            for k, w in enumerate(widths):
                g = e[e.width == w]
                if needs_resolved:
                    g = g[g.lambda_min_resolved.astype(bool)]
                if g.empty:
                    continue
                st = g.groupby("s")[col].agg(["mean", "std"]).reset_index()
                offset = (k - (len(widths) - 1) / 2) * 0.012 * span  # keep error bars of different widths apart
                ax.errorbar(
                    st.s + offset,
                    st["mean"],
                    yerr=st["std"].fillna(0.0),
                    fmt=markers[w],
                    ms=3,
                    capsize=1.5,
                    lw=0.8,
                    color=colours[int(w)],
                    label=f"$m={int(w)}$",
                )
            unresolved = a[~a.lambda_min_resolved.astype(bool)]
            if needs_resolved and len(unresolved):
                ax.axvspan(unresolved.s.min() - 1e-9, unresolved.s.max() + 1e-9, color="0.85", lw=0, zorder=0)
            ax.set_yscale("log")
            ax.set(xlabel="$s$", ylabel=label)
            ax.set_title(f"{'both layers' if layers == 'both' else 'first layer'} trained", fontsize=7)
    handles, labels = axes[0, 1].get_legend_handles_labels()  # λ_max panel: every width has points
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    save_figure(
        fig,
        [smk.output.spectrum_png, smk.output.spectrum_pdf],
        e2,
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("spectrum figure written")


def kernel_error_figure():
    start = time.perf_counter()
    data = pd.concat([pd.read_csv(p) for p in smk.input.empirical], ignore_index=True)
    layers_list = list(e2["layers"])
    s_values = sorted(data.s.unique())
    colours = palette(s_values)
    fig, axes = subplots(1, len(layers_list), panel_height=2.0, sharey=True)
    for j, layers in enumerate(layers_list):
        ax = axes[0, j]
        error_vs_width(ax, data[data.layers == layers], "rel_error", {s: colours[s] for s in s_values})
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="width $m$",
            title=f"{'both layers' if layers == 'both' else 'first layer'} trained",
        )
    axes[0, 0].set_ylabel(r"$\|K_{\mathrm{emp}}-K_\infty\|_F/\|K_\infty\|_F$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    save_figure(
        fig,
        [smk.output.error_png, smk.output.error_pdf],
        e2,
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("kernel-error figure written")


def eigen_error_figure():
    """Relative errors of λ_max and λ_min of K_emp/n against K_∞/n vs width (geometric mean over
    seeds with a band), one line per s; λ_min wherever λ_min(K_∞/n) is above the resolution floor (an empirical
    λ_min below it, ≪ λ_min(K_∞/n), has error ≈ 1)."""
    start = time.perf_counter()
    data = pd.concat([pd.read_csv(p) for p in smk.input.empirical], ignore_index=True)
    layers_list = list(e2["layers"])
    s_values = sorted(data.s.unique())
    colours = palette(s_values)
    quantities = [
        ("rel_error_lambda_max", r"$|\Delta\lambda_{\max}|/\lambda_{\max}$"),
        ("rel_error_lambda_min", r"$|\Delta\lambda_{\min}|/\lambda_{\min}$"),
    ]
    fig, axes = subplots(len(layers_list), 2, width=FULL_WIDTH, panel_height=1.9)
    for i, layers in enumerate(layers_list):
        g = data[data.layers == layers]
        for j, (col, label) in enumerate(quantities):
            ax = axes[i, j]
            for s in s_values:
                sel = g[g.s == s]
                if (
                    col == "rel_error_lambda_min"
                ):  # where λ_min(K_∞/n) is resolved (error ≈ 1 if the empirical one is not)
                    sel = sel[sel.analytic_lambda_min_resolved.astype(bool)]
                sel = sel[sel[col] > 0]
                if sel.empty:
                    continue
                table = sel.pivot(index="width", columns="seed", values=col).sort_index().dropna(axis=1)
                if table.empty:
                    continue
                errorbar_over_seeds(ax, table, colours[s], f"s = {s:g}")
            ax.set(xscale="log", yscale="log", xlabel="width $m$", ylabel=label)
            ax.set_title(f"{'both layers' if layers == 'both' else 'first layer'} trained", fontsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    save_figure(
        fig,
        [smk.output.eigen_png, smk.output.eigen_pdf],
        e2,
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("eigenvalue-error figure written")


spectrum_figure()
kernel_error_figure()
eigen_error_figure()
