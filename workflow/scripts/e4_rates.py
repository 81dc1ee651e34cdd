"""Rule `e4_rates`: per GD stage, the measured linear rate vs the NTK predictions.

For each (width, seed, method, stage), over the last `fit_window` fraction of the stage's logged
steps, a least-squares fit of log L_t = c + t·log ρ gives the per-step loss factor ρ of
  * the measured training loss (measured_rate),
  * the predicted curves predict_loss_curve with the analytic and the empirical-at-init kernels
    (curve_rate_analytic / _empirical),
next to the asymptotic prediction (1 − lr·λ_min(K_s/n))² (predicted_rate_analytic / _empirical).
Decay exponents κ = −log ρ are compared as ratios κ_measured / κ_predicted (1 = perfect match);
curve_gap_* = max over the stage of |log10 L_measured − log10 L_predicted| (decades).
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
fit_window = float(smk.params.fit_window)


def log_rate(steps, losses):
    """exp(slope) of the least-squares line through (t, log L_t); NaN with < 2 usable points."""
    steps, losses = np.asarray(steps, float), np.asarray(losses, float)
    ok = np.isfinite(losses) & (losses > 0)
    if ok.sum() < 2:
        return np.nan
    slope = np.polyfit(steps[ok], np.log(losses[ok]), 1)[0]
    return float(np.exp(slope))


def kappa(rate):
    return -np.log(rate) if np.isfinite(rate) and rate > 0 else np.nan


hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
runs = pd.concat([pd.read_csv(p) for p in smk.input.runs], ignore_index=True)
curves = pd.concat([pd.read_csv(p) for p in smk.input.curves], ignore_index=True)
stages = pd.concat([pd.read_csv(p) for p in smk.input.stages], ignore_index=True)

status = runs.set_index(["width", "seed", "method", "optimizer"])["status"]
keys = ["width", "seed", "optimizer", "method", "stage"]
hist_groups = dict(list(hist.groupby(["width", "seed", "optimizer", "method", "stage"])))
curve_groups = dict(list(curves.groupby(["width", "seed", "optimizer", "method", "stage", "kernel"])))
rows = []
for key, group in stages.groupby(keys):
    width, seed, opt, method, stage = key
    by_kernel = group.set_index("kernel")
    first = group.iloc[0]
    row = dict(
        zip(keys, key),
        s=first.s,
        start_step=int(first.start_step),
        steps=int(first.steps),
        lr=first.lr,
        status=status.loc[(width, seed, method, opt)],
    )
    measured = hist_groups.get(key)
    if measured is None or row["status"] != "ok":  # diverged: every rate column present, NaN
        row["measured_rate"] = np.nan
        for kernel in ("analytic", "empirical"):
            row[f"predicted_rate_{kernel}"] = by_kernel.loc[kernel, "predicted_rate"]
            row[f"lambda_min_resolved_{kernel}"] = bool(by_kernel.loc[kernel, "lambda_min_resolved"])
            for col in ("curve_rate", "kappa_ratio", "kappa_ratio_lmin", "curve_gap"):
                row[f"{col}_{kernel}"] = np.nan
        rows.append(row)
        continue
    lo = first.start_step + (1.0 - fit_window) * first.steps
    window = measured[measured.step >= lo]
    row["measured_rate"] = log_rate(window.step, window.train_loss)
    for kernel in ("analytic", "empirical"):
        pred = curve_groups[key + (kernel,)]
        pred_window = pred[pred.step >= lo]
        row[f"predicted_rate_{kernel}"] = by_kernel.loc[kernel, "predicted_rate"]
        row[f"lambda_min_resolved_{kernel}"] = bool(by_kernel.loc[kernel, "lambda_min_resolved"])
        row[f"curve_rate_{kernel}"] = log_rate(pred_window.step, pred_window.predicted_loss)
        row[f"kappa_ratio_{kernel}"] = kappa(row["measured_rate"]) / kappa(row[f"curve_rate_{kernel}"])
        row[f"kappa_ratio_lmin_{kernel}"] = kappa(row["measured_rate"]) / kappa(row[f"predicted_rate_{kernel}"])
        joined = measured.merge(pred, on="step")
        gap = np.abs(np.log10(joined.train_loss) - np.log10(joined.predicted_loss))
        row[f"curve_gap_{kernel}"] = float(gap.max()) if len(gap) else np.nan
    rows.append(row)

rates = pd.DataFrame(rows).sort_values(keys, kind="stable").reset_index(drop=True)
out = smk.output[0]
write_metadata(
    out, {"fit_window": fit_window}, rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start}
)
write_csv(rates, out)
log.info("%d stage rates -> %s", len(rates), out)
