"""Rule `table_e4`: E4 per-stage GD rates, measured vs NTK-predicted (mean ± std over seeds), and the
match summarized by width.

Rates are per-step loss factors ρ; the tables show the per-step decrement 1 − ρ. κ = −log ρ;
κ ratio = κ_measured/κ_predicted (1 = exact). The width summary averages, over seeds, methods and
stages, |κ_measured/κ_curve − 1| (fitted rate of predict_loss_curve over the same window) and the
largest gap between the measured and predicted loss curves in decades.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import output_paths, write_table
from hrta.plots import format_number, mean_std

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

methods = smk.params.methods
rates = pd.read_csv(smk.input[0])
ok = rates[rates.status == "ok"].copy()
for col in (
    "measured_rate",
    "predicted_rate_analytic",
    "predicted_rate_empirical",
    "curve_rate_analytic",
    "curve_rate_empirical",
):
    ok["dec_" + col] = 1.0 - ok[col]
for kernel in ("analytic", "empirical"):
    ok[f"abs_kappa_err_{kernel}"] = (ok[f"kappa_ratio_{kernel}"] - 1.0).abs()


def stats(v):
    v = np.asarray(v, float)
    v = v[np.isfinite(v)]
    return (v.mean() if len(v) else np.nan), (v.std(ddof=1) if len(v) > 1 else np.nan)


COLS = {
    "dec_measured_rate": "1 − ρ measured",
    "dec_curve_rate_analytic": "1 − ρ predicted curve (K_∞)",
    "dec_curve_rate_empirical": "1 − ρ predicted curve (K_emp)",
    "dec_predicted_rate_analytic": "1 − (1 − lr·λ_min(K_∞/n))²",
    "dec_predicted_rate_empirical": "1 − (1 − lr·λ_min(K_emp/n))²",
    "kappa_ratio_analytic": "κ ratio (K_∞ curve)",
    "kappa_ratio_empirical": "κ ratio (K_emp curve)",
}
order = list(smk.params.method_order)
rows, pretty_rows = [], []
any_diverged = bool((rates.status != "ok").any())
for (width, method, stage), g_all in sorted(
    rates.groupby(["width", "method", "stage"]), key=lambda kv: (kv[0][0], order.index(kv[0][1]), kv[0][2])
):
    g = ok.loc[ok.index.intersection(g_all.index)]
    row = dict(
        width=int(width),
        method=method,
        stage=int(stage),
        s=float(g_all.s.iloc[0]),
        steps=int(g_all.steps.iloc[0]),
        n_seeds=len(g),
        n_diverged=int((g_all.status != "ok").sum()),
    )
    pretty = {
        "m": int(width),
        "method": methods[method].get("label", method),
        "stage": int(stage) + 1,
        "s": format_number(row["s"]),
    }
    if any_diverged:  # diverged runs have no rate: left out of the means, counted here
        pretty["diverged"] = f"{row['n_diverged']}/{len(g_all)}"
    for col, title in COLS.items():
        mean, std = stats(g[col])
        row[col + "_mean"], row[col + "_std"] = mean, std
        pretty[title] = mean_std(mean, std)
    rows.append(row)
    pretty_rows.append(pretty)
numbers, pretty = pd.DataFrame(rows), pd.DataFrame(pretty_rows)

match_rows, match_pretty = [], []
for width, g_all in rates.groupby("width"):
    g = ok.loc[ok.index.intersection(g_all.index)]
    row = {"width": int(width), "n_stages": len(g), "n_diverged_stages": int((g_all.status != "ok").sum())}
    pretty_row = {"m": int(width), "stages": len(g)}
    if any_diverged:
        pretty_row["diverged stages"] = row["n_diverged_stages"]
    for kernel, name in (("analytic", "K_∞"), ("empirical", "K_emp")):
        for col, title in (
            (f"abs_kappa_err_{kernel}", f"|κ ratio − 1| ({name})"),
            (f"curve_gap_{kernel}", f"max |Δlog10 L| ({name})"),
        ):
            mean, std = stats(g[col])
            row[col + "_mean"], row[col + "_std"] = mean, std
            pretty_row[title] = mean_std(mean, std)
    match_rows.append(row)
    match_pretty.append(pretty_row)

slice_ = {"methods": methods}
inputs = list(smk.input)
write_table(
    numbers,
    pretty,
    output_paths(smk.output, "rates"),
    slice_,
    rule=smk.rule,
    inputs=inputs,
    caption="E4: per-stage GD loss decrement per step 1 − ρ, measured (fit over the stage's last window) vs "
    "NTK predictions; κ = −log ρ, κ ratio = κ_measured/κ_predicted; mean ± std over seeds",
)
write_table(
    pd.DataFrame(match_rows),
    pd.DataFrame(match_pretty),
    output_paths(smk.output, "match"),
    slice_,
    rule=smk.rule,
    inputs=inputs,
    caption="E4: match between measured GD and the NTK prediction by width m, over seeds, methods and "
    "stages: relative error of the fitted rate and the largest loss-curve gap in decades",
)
log.info("tables written in %.1f s", time.perf_counter() - start)
