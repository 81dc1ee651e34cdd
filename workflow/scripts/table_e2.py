"""Rule `table_e2_spectrum`: λ_min, λ_max and condition number of K_s/n at the measured s values —
the analytic (infinite-width) kernel and the empirical kernel at each width (mean ± std over seeds) —
and the relative errors of the kernel (‖K_emp − K_∞‖_F/‖K_∞‖_F) and of λ_max, λ_min against K_∞. Unresolved λ_min (below the float64
resolution floor of the eigensolver) are excluded from the statistics and counted."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import write_table
from hrta.plots import format_number, mean_std

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

s_values = [float(s) for s in smk.params.s_values]
analytic = pd.read_csv(smk.input.analytic)
empirical = pd.concat([pd.read_csv(p) for p in smk.input.empirical], ignore_index=True)


def stats(values):
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return (v.mean() if len(v) else np.nan), (v.std(ddof=1) if len(v) > 1 else np.nan)


rows = []
for layers in analytic.layers.unique():
    for s in s_values:
        a = analytic[(analytic.layers == layers) & np.isclose(analytic.s, s)].iloc[0]
        resolved = bool(a.lambda_min_resolved)
        rows.append(
            dict(
                layers=layers,
                s=s,
                kernel="analytic",
                width=0,
                lambda_min_mean=a.lambda_min if resolved else np.nan,
                lambda_min_std=np.nan,
                lambda_max_mean=a.lambda_max,
                lambda_max_std=np.nan,
                condition_number_mean=a.condition_number if resolved else np.nan,
                condition_number_std=np.nan,
                rel_error_mean=0.0,
                rel_error_std=np.nan,
                rel_error_lambda_max_mean=0.0,
                rel_error_lambda_max_std=np.nan,
                rel_error_lambda_min_mean=0.0 if resolved else np.nan,
                rel_error_lambda_min_std=np.nan,
                n_seeds=1,
                n_resolved=int(resolved),
            )
        )
        for width, g in empirical[(empirical.layers == layers) & np.isclose(empirical.s, s)].groupby("width"):
            ok = g[g.lambda_min_resolved.astype(bool)]
            lmin, lmin_sd = stats(ok.lambda_min)
            lmax, lmax_sd = stats(g.lambda_max)
            cond, cond_sd = stats(ok.condition_number)
            err, err_sd = stats(g.rel_error)
            lmax_err, lmax_err_sd = stats(g.rel_error_lambda_max)
            # λ_min error wherever λ_min(K_∞/n) is resolved; an unresolved empirical λ_min (below the float64
            # floor n·ε·λ_max ≈ 1e-14 ≪ λ_min(K_∞/n)) has error ≈ 1: the bottom of the spectrum has not converged
            lmin_err, lmin_err_sd = stats(g.rel_error_lambda_min) if resolved else (np.nan, np.nan)
            rows.append(
                dict(
                    layers=layers,
                    s=s,
                    kernel="empirical",
                    width=int(width),
                    lambda_min_mean=lmin,
                    lambda_min_std=lmin_sd,
                    lambda_max_mean=lmax,
                    lambda_max_std=lmax_sd,
                    condition_number_mean=cond,
                    condition_number_std=cond_sd,
                    rel_error_mean=err,
                    rel_error_std=err_sd,
                    rel_error_lambda_max_mean=lmax_err,
                    rel_error_lambda_max_std=lmax_err_sd,
                    rel_error_lambda_min_mean=lmin_err,
                    rel_error_lambda_min_std=lmin_err_sd,
                    n_seeds=len(g),
                    n_resolved=len(ok),
                )
            )
numbers = pd.DataFrame(rows)


def cell(mean, std, n_resolved, n_seeds):
    text = mean_std(mean, std)
    if n_resolved == 0:
        return "unresolved"
    return text if n_resolved == n_seeds else f"{text} ({n_resolved}/{n_seeds} resolved)"


pretty = pd.DataFrame(
    {
        "layers": numbers.layers,
        "s": numbers.s.map(lambda s: format_number(s, 3)),
        "kernel": [("m = ∞" if r.kernel == "analytic" else f"m = {r.width}") for r in numbers.itertuples()],
        "λ_min(K/n)": [
            cell(r.lambda_min_mean, r.lambda_min_std, r.n_resolved, r.n_seeds) for r in numbers.itertuples()
        ],
        "λ_max(K/n)": [mean_std(r.lambda_max_mean, r.lambda_max_std) for r in numbers.itertuples()],
        "condition number": [
            cell(r.condition_number_mean, r.condition_number_std, r.n_resolved, r.n_seeds) for r in numbers.itertuples()
        ],
        "‖K − K_∞‖/‖K_∞‖": [
            ("0" if r.kernel == "analytic" else mean_std(r.rel_error_mean, r.rel_error_std))
            for r in numbers.itertuples()
        ],
        "|Δλ_max|/λ_max": [
            ("0" if r.kernel == "analytic" else mean_std(r.rel_error_lambda_max_mean, r.rel_error_lambda_max_std))
            for r in numbers.itertuples()
        ],
        "|Δλ_min|/λ_min": [
            ("0" if r.kernel == "analytic" else mean_std(r.rel_error_lambda_min_mean, r.rel_error_lambda_min_std))
            for r in numbers.itertuples()
        ],
    }
)
paths = {ext: str(smk.output[ext]) for ext in ("csv", "md", "tex")}
write_table(
    numbers,
    pretty,
    paths,
    {"s_values": s_values},
    rule=smk.rule,
    inputs=list(smk.input),
    caption="E2: spectrum of the NTK K_s/n, infinite width (m = ∞) and empirical at width m "
    "(mean ± std over seeds); relative errors of the kernel and of λ_max, λ_min against m = ∞; "
    "width 0 in the CSV is the analytic kernel",
)
log.info("table written in %.1f s", time.perf_counter() - start)
