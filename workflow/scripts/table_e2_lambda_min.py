"""Rule `table_e2_lambda_min` (claim 1): per data set × layer choice, λ_min(K_s/n) of the analytic
kernel at the ends of the resolved part of the s grid in (0, 2), the grid, and every interval of s
where λ_min fails to increase with its fall (hrta.claims.decreasing_intervals)."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.claims import decreasing_intervals
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import write_table
from hrta.plots import format_number

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
data = pd.concat([pd.read_csv(p) for p in smk.input], ignore_index=True)
rows = []
for (name, layers), g in data.groupby(["dataset", "layers"], sort=False):
    inside = g[(g.s > 0) & (g.s < 2)].sort_values("s")
    ok = inside[inside.lambda_min_resolved.astype(bool)]
    drops = decreasing_intervals(ok.s, ok.lambda_min)
    rows.append(
        {
            "dataset": name,
            "target": g.target.iloc[0],
            "n_train": int(g.n_train.iloc[0]),
            "d": int(g.d.iloc[0]),
            "constant_feature": bool(g.constant_feature.iloc[0]),
            "layers": layers,
            "n_s": len(inside),
            "n_resolved": len(ok),
            "finest_s_step": float(np.diff(np.sort(inside.s)).min()) if len(inside) > 1 else np.nan,
            "s_first": float(ok.s.iloc[0]) if len(ok) else np.nan,
            "lambda_min_first": float(ok.lambda_min.iloc[0]) if len(ok) else np.nan,
            "s_last": float(ok.s.iloc[-1]) if len(ok) else np.nan,
            "lambda_min_last": float(ok.lambda_min.iloc[-1]) if len(ok) else np.nan,
            "n_drops": len(drops),
            "drops": "; ".join(d.describe() for d in drops) or "none",
        }
    )
numbers = pd.DataFrame(rows)
pretty = pd.DataFrame(
    {
        "data set": [f"{r.dataset} ({r.target}, n = {r.n_train}, d = {r.d})" for r in numbers.itertuples()],
        "layers": numbers.layers,
        "resolved / points": [f"{r.n_resolved}/{r.n_s}" for r in numbers.itertuples()],
        "λ_min(K_s/n) from → to": [
            f"{format_number(r.lambda_min_first)} (s = {r.s_first:.3g}) → {format_number(r.lambda_min_last)} (s = {r.s_last:.3g})"
            for r in numbers.itertuples()
        ],
        "intervals where λ_min falls": numbers.drops,
    }
)
write_table(
    numbers,
    pretty,
    {ext: str(smk.output[ext]) for ext in ("csv", "md", "tex")},
    {},
    rule=smk.rule,
    inputs=list(smk.input),
    caption="Claim 1: λ_min of the infinite-width NTK K_s/n over s ∈ (0, 2) on every data set the run trains on, "
    "and every interval of s where it fails to increase",
)
log.info("table written in %.1f s", time.perf_counter() - start)
