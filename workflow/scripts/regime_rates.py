"""Rule `regime_rates`: E8's measured asymptotic loss rates against the rate λ_min predicts.

Linearized GD with the infinite-width kernel gives L_t ∝ (1 − lr·λ_min(K_s/n))^{2t} once the slowest mode
dominates, a per-step log-rate 2·log(1 − lr·λ_min) (hrta.regime.predicted_log_rate; K_s analytic, on e8's
data set). Measured: per constant-s run (one stage), the least-squares slope of log L_t over the last
`rate_fit.window` of the run, the run cut at the last logged step before the loss first falls below
rate_fit.floor[dtype]·L_0 (the dtype's rounding floor; hrta.regime.fit_log_rate). ratio = measured/predicted
(1: the slowest mode decays as the infinite-width theory says; > 1: faster).

Outputs: data/e8/regime_rates_runs.csv (one row per run), figures/tables/regime_rates.csv (per s and width:
mean over seeds of the ratio with its Student-t interval at claims.level) and figures/regime_rates: measured and
predicted decay rate −log-rate against width per s, the ratio against width, and λ_min(K_s/n), κ(s) on a grid.
"""

import time

import numpy as np
import pandas as pd
import torch
from scipy import stats

from hrta.data import make_dataset
from hrta.io import write_csv
from hrta.ntk import analytic_ntk, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.outputs import save_figure
from hrta.pipeline.provenance import write_metadata
from hrta.plots import FULL_WIDTH, palette, subplots
from hrta.regime import fit_log_rate, predicted_log_rate
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
spec = {k: v for k, v in cfg["dataset"].items() if k != "name"}

_spectra = {}


def lambdas(s, seed):
    """(λ_min, λ_max) of the analytic K_s/n on the run's data (its own draw with vary_data_seed)."""
    data_seed = spec["seed"] + (seed if cfg.get("vary_data_seed") else 0)
    key = (s, data_seed)
    if key not in _spectra:
        X = torch.as_tensor(make_dataset(**{**spec, "seed": data_seed}).X_train, dtype=torch.float64)
        sp = spectrum(analytic_ntk(X, s, layers=layers) / X.shape[0])
        _spectra[key] = (sp.lambda_min, sp.lambda_max)
    return _spectra[key]


hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
runs = pd.concat([pd.read_csv(p) for p in smk.input.runs], ignore_index=True)
groups = dict(list(hist.groupby(["width", "seed", "optimizer", "method"])))
rows = []
for r in runs.itertuples():
    stages = parse_schedule(r.schedule).stages
    if len(stages) != 1 or stages[0].is_ramp:
        continue  # the prediction is for one constant s throughout
    s = stages[0].s_start
    lam_min, lam_max = lambdas(s, int(r.seed))
    h = groups[(r.width, r.seed, r.optimizer, r.method)]
    dtype = dtypes[int(r.width)]
    f = fit_log_rate(h.step, h.train_loss, window=float(fit["window"]), floor=float(fit["floor"][dtype]))
    measured = f.log_rate if r.status == "ok" else np.nan
    predicted = predicted_log_rate(float(r.lr), lam_min)
    rows.append(
        {
            "s": s,
            "width": int(r.width),
            "seed": int(r.seed),
            "method": r.method,
            "optimizer": r.optimizer,
            "dtype": dtype,
            "status": r.status,
            "lr": float(r.lr),
            "T": stages[0].steps,
            "lambda_min": lam_min,
            "lambda_max": lam_max,
            "lr_lambda_min_T": float(r.lr) * lam_min * stages[0].steps,
            "measured_log_rate": measured,
            "predicted_log_rate": predicted,
            "ratio": measured / predicted,
            "fit_start": f.start,
            "fit_stop": f.stop,
            "fit_points": f.points,
            "floored": f.floored,
        }
    )
per_run = pd.DataFrame(rows).sort_values(["s", "width", "seed"], kind="stable").reset_index(drop=True)


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
for (s, width, opt), g in per_run.groupby(["s", "width", "optimizer"], sort=True):
    mean, lo, hi = interval(g.ratio)
    m_mean, m_lo, m_hi = interval(g.measured_log_rate)
    summary.append(
        {
            "s": s,
            "width": width,
            "optimizer": opt,
            "seeds": int(np.isfinite(g.ratio).sum()),
            "runs": len(g),
            "lr": g.lr.iloc[0],
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

# λ_min(K_s/n) and κ(s) on a grid (the data set's seed-0 draw), beside the rates.
grid = np.round(np.linspace(0.1, 2.0, 20), 10)
curve = pd.DataFrame([(s, *lambdas(float(s), 0)) for s in grid], columns=["s", "lambda_min", "lambda_max"])

meta = {"settings": cfg, "rate_fit": fit, "dtypes": dtypes, "level": level}
timings = {"job": time.perf_counter() - start}
for path in (smk.output.runs, smk.output.csv):
    write_metadata(path, meta, rule=smk.rule, inputs=list(smk.input), timings=timings)
write_csv(per_run, smk.output.runs)
write_csv(summary, smk.output.csv)
for r in summary.itertuples():
    log.info(
        "s=%g m=%d: measured/predicted log-rate %.3f [%.3f, %.3f] (%d seeds; predicted %.3e per step, lr·λ_min·T %.3g)",
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
    g = summary[summary.s == s].sort_values("width")
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
axes[0, 0].set_title("measured (points) vs $-2\\log(1-\\eta\\lambda_{\\min})$ (dashed)", fontsize="small")
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
