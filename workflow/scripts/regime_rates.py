"""Rule `regime_rates`: E8's measured asymptotic loss rates against the rate λ_min predicts.

Linearized GD with the infinite-width kernel gives L_t ∝ (1 − lr·λ_min(K_s/n))^{2t} once the slowest mode
dominates, a per-step log-rate 2·log(1 − lr·λ_min) (hrta.regime.predicted_log_rate; K_s analytic, on e8's
data set). Measured: per constant-s run (one stage), the least-squares slope of log L_t over the last
`rate_fit.window` of the run, the run cut at the last logged step before the loss first falls below
rate_fit.floor[dtype]·L_0 (the dtype's rounding floor; hrta.regime.fit_log_rate). ratio = measured/predicted
(1: the slowest mode decays as the infinite-width theory says; > 1: faster).

With e6_regime on E8's data (input kernel_runs), its constant-s runs at the kernel-scaled rate lr_s =
fraction/λ_max(K_s/n) are fitted the same way (column ``rate``: fixed = E8's one rate, kernel = lr_s), and E8's
fixed-rate speed-up of each s over s = 1 is split into a step-size part and a conditioning part
(hrta.regime.speedup_decomposition): figures/tables/regime_decomposition.csv.

Outputs: data/e8/regime_rates_runs.csv (one row per run), figures/tables/regime_rates.csv (per rate, s and
width: mean over seeds of the ratio with its Student-t interval at claims.level) and figures/regime_rates:
measured and predicted decay rate −log-rate against width per s (kernel-rate runs hollow), the ratio against
width, and λ_min(K_s/n), κ(s) on a grid.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd
import torch
from scipy import stats

from hrta.claims.stats import geometric_mean_interval
from hrta.datafiles import dataset_draw, dataset_from_config
from hrta.io import write_csv
from hrta.ntk import analytic_ntk, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.outputs import save_figure
from hrta.pipeline.provenance import write_metadata
from hrta.plots import FULL_WIDTH, palette, subplots
from hrta.regime import fit_log_rate, predicted_log_rate, speedup_decomposition
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

cfg = smk.params.settings
fit = smk.params.rate_fit
dtypes = {int(w): d for w, d in smk.params.dtypes.items()}
level = float(smk.params.level)
layers = "both" if cfg["model"]["train_output"] else "first"

_spectra = {}


def lambdas(s, seed):
    """(λ_min, λ_max) of the analytic K_s/n on the run's data (its own draw with vary_data_seed)."""
    draw = dataset_draw(cfg, seed)
    key = (s, draw)
    if key not in _spectra:
        X = torch.as_tensor(dataset_from_config(cfg["dataset"], draw).X_train, dtype=torch.float64)
        sp = spectrum(analytic_ntk(X, s, layers=layers) / X.shape[0])
        _spectra[key] = (sp.lambda_min, sp.lambda_max)
    return _spectra[key]


def read(paths):
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def rate_row(r, h, rate, width, dtype, lr):
    """One constant-s run's fitted and predicted log-rate (None for a run with stages or a ramp)."""
    stages = parse_schedule(r.schedule).stages
    if len(stages) != 1 or stages[0].is_ramp:
        return None  # the prediction is for one constant s throughout
    s = stages[0].s_start
    lam_min, lam_max = lambdas(s, int(r.seed))
    lr = float(lr) if lr is not None else fraction / lam_max
    f = fit_log_rate(h.step, h.train_loss, window=float(fit["window"]), floor=float(fit["floor"][dtype]))
    measured = f.log_rate if r.status == "ok" else np.nan
    predicted = predicted_log_rate(lr, lam_min)
    return {
        "rate": rate,
        "s": s,
        "width": width,
        "seed": int(r.seed),
        "method": r.method,
        "optimizer": r.optimizer,
        "dtype": dtype,
        "status": r.status,
        "lr": lr,
        "T": stages[0].steps,
        "lambda_min": lam_min,
        "lambda_max": lam_max,
        "lr_lambda_min_T": lr * lam_min * stages[0].steps,
        "measured_log_rate": measured,
        "predicted_log_rate": predicted,
        "ratio": measured / predicted,
        "fit_start": f.start,
        "fit_stop": f.stop,
        "fit_points": f.points,
        "floored": f.floored,
    }


kernel = dict(smk.params.kernel)
fraction = float(kernel.get("fraction", 1.0))
hist, runs = read(smk.input.histories), read(smk.input.runs)
groups = dict(list(hist.groupby(["width", "seed", "optimizer", "method"])))
rows = [
    rate_row(r, groups[(r.width, r.seed, r.optimizer, r.method)], "fixed", int(r.width), dtypes[int(r.width)], r.lr)
    for r in runs.itertuples()
]
if smk.input.kernel_runs:  # e6_regime's scored runs at lr_s = fraction/λ_max(K_s/n)
    k_runs, k_hist = read(smk.input.kernel_runs), read(smk.input.kernel_histories)
    k_runs = k_runs[(k_runs["lr_factor"].astype(str) == "kernel") & (k_runs["role"] == "scoring")]
    k_groups = dict(list(k_hist[k_hist["lr_factor"].astype(str) == "kernel"].groupby(["seed", "optimizer", "method"])))
    for r in k_runs.itertuples():
        h = k_groups[(r.seed, r.optimizer, r.method)]
        rows.append(rate_row(r, h, "kernel", int(kernel["width"]), kernel["dtype"], None))
per_run = pd.DataFrame([r for r in rows if r]).sort_values(["rate", "s", "width", "seed"], kind="stable")
per_run = per_run.reset_index(drop=True)


def interval(values):
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    if len(v) == 1:
        return float(v[0]), np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


summary = []
for (rate, s, width, opt), g in per_run.groupby(["rate", "s", "width", "optimizer"], sort=True):
    mean, lo, hi = interval(g.ratio)
    m_mean, m_lo, m_hi = interval(g.measured_log_rate)
    summary.append(
        {
            "rate": rate,
            "s": s,
            "width": width,
            "optimizer": opt,
            "seeds": int(np.isfinite(g.ratio).sum()),
            "runs": len(g),
            "lr": g.lr.mean(),
            "T": int(g["T"].iloc[0]),
            "lambda_min": g.lambda_min.mean(),
            "lambda_max": g.lambda_max.mean(),
            "kappa": (g.lambda_max / g.lambda_min).mean(),
            "lr_lambda_min_T": g.lr_lambda_min_T.mean(),
            "predicted_log_rate": g.predicted_log_rate.mean(),
            "measured_log_rate": m_mean,
            "measured_log_rate_lo": m_lo,
            "measured_log_rate_hi": m_hi,
            "ratio": mean,
            "ratio_lo": lo,
            "ratio_hi": hi,
            "abs_log_ratio": float(np.nanmean(np.abs(np.log(g.ratio)))) if np.isfinite(g.ratio).any() else np.nan,
            "floored_runs": int(g.floored.sum()),
        }
    )
summary = pd.DataFrame(summary)


def log_interval(log_ratios):
    """(geometric mean, lo, hi, n) of ratios given as logs (non-finite dropped): geometric_mean_interval at
    claims.level."""
    v = np.asarray(log_ratios, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan, 0
    return (*geometric_mean_interval(np.exp(v), level), len(v))


def paired_log_speedups(rate, s, width, ref=1.0):
    """log(measured rate at s / at ref) per seed (same seed, same rate kind and width; rates are −log-rates)."""
    g = per_run[(per_run.rate == rate) & (per_run.width == width)]
    a = g[g.s == s].set_index("seed").measured_log_rate
    b = g[g.s == ref].set_index("seed").measured_log_rate
    return np.log(a / b).dropna()


decomposition = []
if smk.input.kernel_runs:
    width = int(kernel["width"])
    for s in sorted(set(per_run[per_run.rate == "kernel"].s) - {1.0}):
        fixed, cond = paired_log_speedups("fixed", s, width), paired_log_speedups("kernel", s, width)
        if fixed.empty or cond.empty:
            continue
        f_mean, f_lo, f_hi, f_n = log_interval(fixed)
        c_mean, c_lo, c_hi, c_n = log_interval(cond)
        # step = fixed/conditioning on different seeds (two experiments): Welch interval of the difference of logs
        welch = stats.ttest_ind(fixed, cond, equal_var=False).confidence_interval(level)
        lr_fixed = float(per_run[(per_run.rate == "fixed") & (per_run.s == s)].lr.iloc[0])
        pred = speedup_decomposition(lr_fixed, fraction, lambdas(s, 0), lambdas(1.0, 0))
        decomposition.append(
            {
                "s": s,
                "reference_s": 1.0,
                "width": width,
                "lr_fixed": lr_fixed,
                "kernel_fraction": fraction,
                "fixed": f_mean,
                "fixed_lo": f_lo,
                "fixed_hi": f_hi,
                "fixed_n": f_n,
                "conditioning": c_mean,
                "conditioning_lo": c_lo,
                "conditioning_hi": c_hi,
                "conditioning_n": c_n,
                "step": f_mean / c_mean,
                "step_lo": float(np.exp(welch.low)),
                "step_hi": float(np.exp(welch.high)),
                **{f"predicted_{k}": v for k, v in pred.items()},
            }
        )
decomposition = pd.DataFrame(decomposition)

# λ_min(K_s/n) and κ(s) on a grid (the data set's seed-0 draw), beside the rates.
grid = np.round(np.linspace(0.1, 2.0, 20), 10)
curve = pd.DataFrame([(s, *lambdas(float(s), 0)) for s in grid], columns=["s", "lambda_min", "lambda_max"])

meta = {"settings": cfg, "rate_fit": fit, "dtypes": dtypes, "level": level, "kernel": kernel}
timings = {"job": time.perf_counter() - start}
outputs = [(per_run, smk.output.runs), (summary, smk.output.csv)]
if hasattr(smk.output, "decomposition"):
    outputs.append((decomposition, smk.output.decomposition))
for frame, path in outputs:
    write_metadata(path, meta, rule=smk.rule, inputs=list(smk.input), timings=timings)
    write_csv(frame, path)
for r in decomposition.itertuples():
    log.info(
        "s=%g vs 1 at m=%d: fixed-rate speed-up %.3g (predicted %.3g) = step %.3g (predicted %.3g) × conditioning %.3g "
        "(predicted %.3g)",
        r.s,
        r.width,
        r.fixed,
        r.predicted_fixed,
        r.step,
        r.predicted_step,
        r.conditioning,
        r.predicted_conditioning,
    )
for r in summary.itertuples():
    log.info(
        "%s rate, s=%g m=%d: measured/predicted log-rate %.3f [%.3f, %.3f] (%d seeds; predicted %.3e per step, "
        "lr·λ_min·T %.3g)",
        r.rate,
        r.s,
        r.width,
        r.ratio,
        r.ratio_lo,
        r.ratio_hi,
        r.seeds,
        r.predicted_log_rate,
        r.lr_lambda_min_T,
    )

fig, axes = subplots(1, 3, width=FULL_WIDTH, panel_height=2.2)
s_values = sorted(summary.s.unique())
colours = palette([f"{s:g}" for s in s_values])
for s in s_values:
    k = summary[(summary.s == s) & (summary.rate == "kernel")]
    if not k.empty:  # e6_regime at lr_s = c/λ_max(K_s/n): hollow, its prediction dotted
        c = colours[f"{s:g}"]
        axes[0, 0].plot(k.width, -k.measured_log_rate, ls="none", marker="s", mfc="none", color=c, ms=4)
        axes[0, 0].axhline(-k.predicted_log_rate.iloc[0], color=c, ls=":", lw=0.8)
        axes[0, 1].plot(k.width, k.ratio, ls="none", marker="s", mfc="none", color=c, ms=4)
    g = summary[(summary.s == s) & (summary.rate == "fixed")].sort_values("width")
    c = colours[f"{s:g}"]
    yerr = np.abs(
        np.vstack([g.measured_log_rate - g.measured_log_rate_hi, g.measured_log_rate_lo - g.measured_log_rate])
    )
    axes[0, 0].errorbar(
        g.width,
        -g.measured_log_rate,
        yerr=np.nan_to_num(yerr),
        color=c,
        marker="o",
        ms=3,
        capsize=2,
        label=f"$s={s:g}$",
    )
    axes[0, 0].axhline(-g.predicted_log_rate.iloc[0], color=c, ls="--", lw=0.8)
    yerr = np.abs(np.vstack([g.ratio - g.ratio_lo, g.ratio_hi - g.ratio]))
    axes[0, 1].errorbar(g.width, g.ratio, yerr=np.nan_to_num(yerr), color=c, marker="o", ms=3, capsize=2)
axes[0, 0].set(xscale="log", yscale="log", xlabel="width $m$", ylabel=r"decay rate $-\frac{d}{dt}\log L$ (per step)")
axes[0, 0].set_title(
    "measured (points; hollow: $\\eta_s = c/\\lambda_{\\max}$) vs $-2\\log(1-\\eta\\lambda_{\\min})$ (lines)",
    fontsize="small",
)
axes[0, 0].legend(fontsize="x-small")
axes[0, 1].axhline(1.0, color="0.5", lw=0.8)
axes[0, 1].set(xscale="log", xlabel="width $m$", ylabel="measured / predicted")
axes[0, 2].plot(curve.s, curve.lambda_min, color="k", marker=".", label=r"$\lambda_{\min}(K_s/n)$")
axes[0, 2].set(yscale="log", xlabel="$s$", ylabel=r"$\lambda_{\min}(K_s/n)$")
twin = axes[0, 2].twinx()
twin.plot(curve.s, curve.lambda_max / curve.lambda_min, color="C3", ls="--", label=r"$\kappa(s)$")
twin.set(yscale="log", ylabel=r"$\kappa = \lambda_{\max}/\lambda_{\min}$")
twin.yaxis.label.set_color("C3")
save_figure(fig, [smk.output.png, smk.output.pdf], meta, rule=smk.rule, inputs=list(smk.input), timings=timings)
log.info("%d runs, %d cells -> %s", len(per_run), len(summary), smk.output.csv)
