"""Rule `figures_e4`: the two E4 figures in one job (each figure job pays ≈ 0.8 CPU-s of imports and
setup before it draws).

figures/e4_rates: per GD stage, measured per-step loss decrement 1 − ρ vs the NTK prediction:
left, the fitted rate of predict_loss_curve over the same window (analytic kernel); right, the
asymptotic (1 − lr·λ_min(K_s/n))² for the analytic kernel. Colour = width, marker = s of the stage,
mean over seeds; the diagonal is a perfect match. Stages whose λ_min is unresolved are left out.

figures/e4_curves: measured GD training loss (solid) with the NTK prediction
predict_loss_curve overlaid, analytic K_∞ (dashed) and empirical K at initialization (dotted),
the whole schedule predicted by GD linearized at θ₀; one row per method, one column per width;
geometric mean over seeds. Dotted verticals mark the switches of s.

figures/e4_horizons: measured/predicted loss (K_∞ linearization) vs width at each horizon t, log-log,
one line per horizon, one panel per method (geometric mean over seeds; diverged runs left out and
counted in the title). figures/e4_lazy_horizon: the lazy horizon t_ε vs m, one line per method and
kernel (open markers: censored, ε never exceeded within the run)."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import FULL_WIDTH, geometric_band, mark_switches, palette, subplots
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
methods = smk.params.methods
method_order = list(smk.params.method_order)


def rates_figure():
    start = time.perf_counter()
    rates = pd.read_csv(smk.input.rates)
    rates = rates[rates.status == "ok"]
    widths = sorted(rates.width.unique())
    colours = palette([int(w) for w in widths])
    s_values = sorted(rates.s.unique())
    markers = dict(zip(s_values, "o^sDv<>"))
    panels = [
        ("curve_rate_analytic", r"predicted (curve, $K_\infty$): $1-\rho$"),
        ("predicted_rate_analytic", r"$1-(1-\eta\,\lambda_{\min}(K_\infty/n))^2$"),
    ]
    fig, axes = subplots(1, 2, panel_height=2.1)
    for j, (col, xlabel) in enumerate(panels):
        ax = axes[0, j]
        g = rates[rates.lambda_min_resolved_analytic.astype(bool)] if col.startswith("predicted") else rates
        mean = g.groupby(["width", "method", "stage", "s"])[["measured_rate", col]].mean().reset_index()
        for r in mean.itertuples():
            ax.scatter(1 - getattr(r, col), 1 - r.measured_rate, color=colours[int(r.width)], marker=markers[r.s], s=14)
        vals = np.concatenate([1 - mean[col].to_numpy(), 1 - mean.measured_rate.to_numpy()])
        vals = vals[np.isfinite(vals) & (vals > 0)]
        if len(vals):
            lim = [vals.min() / 2, vals.max() * 2]
            ax.plot(lim, lim, "k--", lw=0.8, label="measured = predicted")
            ax.set(xlim=lim, ylim=lim)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=r"measured $1-\rho$ (per step)")
    for w in widths:
        axes[0, 1].scatter([], [], color=colours[int(w)], marker="o", s=14, label=f"$m={int(w)}$")
    for s in s_values:
        axes[0, 1].scatter([], [], color="0.4", marker=markers[s], s=14, label=f"$s={s:g}$")
    fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    save_figure(
        fig,
        [smk.output.rates_png, smk.output.rates_pdf],
        {"methods": methods},
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("rates figure written")


def curves_figure():
    start = time.perf_counter()
    hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
    curves = pd.concat([pd.read_csv(p) for p in smk.input.curves], ignore_index=True)
    widths = sorted(hist.width.unique())
    optimizer = hist.optimizer.iloc[0]
    colours = palette(["measured", "analytic", "empirical"])
    styles = {"measured": "-", "analytic": "--", "empirical": ":"}
    labels = {
        "measured": "measured GD",
        "analytic": r"NTK prediction, $K_\infty$",
        "empirical": r"NTK prediction, $K_{\mathrm{emp}}(\theta_0)$",
    }
    fig, axes = subplots(len(method_order), len(widths), width=FULL_WIDTH, panel_height=1.7, sharey="row", sharex=True)
    for i, method in enumerate(method_order):
        spec = methods[method]
        for j, width in enumerate(widths):
            ax = axes[i, j]
            h = hist[(hist.method == method) & (hist.width == width) & (hist.optimizer == optimizer)]
            # a diverged run's history stops before the schedule's last step: left out, counted in the title
            last = h.groupby("seed").step.max()
            diverged = last[last < parse_schedule(spec["schedule"]).total_steps].index
            h = h[~h.seed.isin(diverged)]
            series = {"measured": h.pivot(index="step", columns="seed", values="train_loss")}
            for kernel in ("analytic", "empirical"):
                c = curves[
                    (curves.method == method)
                    & (curves.width == width)
                    & (curves.kernel == kernel)
                    & (curves.optimizer == optimizer)
                ]
                series[kernel] = c.pivot(index="step", columns="seed", values="predicted_loss")
            for name, table in series.items():
                table = table.sort_index().dropna(axis=1)
                if table.empty:
                    continue
                mean, _, _ = geometric_band(table.to_numpy().T)
                ax.plot(table.index, mean, styles[name], color=colours[name], label=labels[name])
            mark_switches(ax, parse_schedule(spec["schedule"]).boundaries)
            ax.set_yscale("log")
            note = f" ({len(diverged)}/{len(last)} diverged)" if len(diverged) else ""
            ax.set_title(f"{spec.get('label', method)}, $m = {width}$" + note)
            if i == len(method_order) - 1:
                ax.set_xlabel("step $t$")
            if j == 0:
                ax.set_ylabel(r"$L(\theta_t)$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    save_figure(
        fig,
        [smk.output.curves_png, smk.output.curves_pdf],
        {"methods": methods},
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("curves figure written")


def horizons_figure():
    start = time.perf_counter()
    ratios = pd.read_csv(smk.input.horizons)
    ratios = ratios[ratios.kernel == "analytic"]
    horizons = sorted(ratios.horizon.unique())
    colours = palette([int(t) for t in horizons])
    fig, axes = subplots(1, len(method_order), width=FULL_WIDTH, panel_height=2.0, sharey=True)
    for j, method in enumerate(method_order):
        ax = axes[0, j]
        g = ratios[(ratios.method == method)]
        n_div = g[g.status != "ok"].groupby(["width", "seed"]).ngroups
        for t in horizons:
            sel = g[(g.horizon == t) & np.isfinite(g.ratio) & (g.ratio > 0)]
            if sel.empty:
                continue
            mean = np.exp(np.log(sel.ratio).groupby(sel.width).mean())
            ax.plot(mean.index, mean.to_numpy(), "o-", ms=3, color=colours[int(t)], label=f"$t={int(t)}$")
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set(xscale="log", yscale="log", xlabel="width $m$")
        note = f" ({n_div} diverged)" if n_div else ""
        ax.set_title(methods[method].get("label", method) + note, fontsize=7)
    axes[0, 0].set_ylabel(r"$L_{\mathrm{measured}}/L_{K_\infty\ \mathrm{lin.}}$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=len(horizons))
    save_figure(
        fig,
        [smk.output.horizons_png, smk.output.horizons_pdf],
        {"methods": methods},
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("horizons figure written")


def lazy_figure():
    start = time.perf_counter()
    lazy = pd.read_csv(smk.input.lazy)
    colours = palette(method_order)
    fig, axes = subplots(1, 2, panel_height=2.1, sharey=True)
    for j, kernel in enumerate(("analytic", "empirical")):
        ax = axes[0, j]
        for method in method_order:
            g = lazy[(lazy.kernel == kernel) & (lazy.method == method)]
            mean = g.groupby("width").t_eps.mean()
            cens = g.groupby("width").censored.all()
            ax.plot(mean.index, mean.to_numpy(), "-", color=colours[method], label=methods[method].get("label", method))
            ax.scatter(mean.index[~cens.to_numpy()], mean[~cens.to_numpy()], color=colours[method], s=12)
            ax.scatter(
                mean.index[cens.to_numpy()], mean[cens.to_numpy()], facecolors="none", edgecolors=colours[method], s=12
            )
        name = r"$K_\infty$" if kernel == "analytic" else r"$K_{\mathrm{emp}}(\theta_0)$"
        ax.set(xscale="log", yscale="symlog", xlabel="width $m$", title=f"linearization with {name}")
    axes[0, 0].set_ylabel(rf"lazy horizon $t_\varepsilon$ ($\varepsilon = {smk.params.lazy_epsilon:g}$)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    save_figure(
        fig,
        [smk.output.lazy_png, smk.output.lazy_pdf],
        {"methods": methods, "lazy_epsilon": smk.params.lazy_epsilon},
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
    log.info("lazy-horizon figure written")


rates_figure()
curves_figure()
horizons_figure()
lazy_figure()
