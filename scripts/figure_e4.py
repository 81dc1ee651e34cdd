"""Rule `figures_e4`: the two E4 figures in one job (each figure job pays ~3 s of matplotlib and
seaborn imports, more than drawing takes).

figures/e4_rates: per GD stage, measured per-step loss decrement 1 − ρ vs the NTK prediction:
left, the fitted rate of predict_loss_curve over the same window (analytic kernel); right, the
asymptotic (1 − lr·λ_min(K_s/n))² for the analytic kernel. Colour = width, marker = s of the stage,
mean over seeds; the diagonal is a perfect match. Stages whose λ_min is unresolved are left out.

figures/e4_curves: measured GD training loss (solid) with the NTK prediction
predict_loss_curve overlaid, analytic K_∞ (dashed) and empirical K at initialization (dotted),
each stage predicted from the state at its start; one row per method, one column per width;
geometric mean over seeds. Dotted verticals mark the switches of s."""

import time

import numpy as np
import pandas as pd

from hrta.io import job_logger
from hrta.plots import FULL_WIDTH, geometric_band, mark_switches, palette, save_figure, subplots
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


rates_figure()
curves_figure()
