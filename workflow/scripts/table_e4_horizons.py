"""Rule `table_e4_horizons`: per method and width, the measured/predicted loss ratio at each horizon
(geometric mean over seeds and the seeds' range) for the K_∞ and the K_emp(θ₀) linearizations, and
the lazy horizon t_ε (mean over seeds; censored runs counted). Diverged runs are counted, their
ratios after the divergence are missing."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import write_table
from hrta.plots import format_number

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
ratios = pd.read_csv(smk.input.horizons)
lazy = pd.read_csv(smk.input.lazy)
method_order = list(smk.params.method_order)
horizons = sorted(ratios.horizon.unique())


def geo(v):
    v = np.asarray(v, float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.log(v).mean())) if len(v) else np.nan


rows = []
for method in method_order:
    for (width, kernel), g in ratios[ratios.method == method].groupby(["width", "kernel"]):
        lz = lazy[(lazy.method == method) & (lazy.width == width) & (lazy.kernel == kernel)]
        row = {
            "method": method,
            "width": int(width),
            "kernel": kernel,
            "n_seeds": int(lz.seed.nunique()),
            "n_diverged": int((lz.status != "ok").sum()),
            "t_eps_mean": float(lz.t_eps.mean()),
            "t_eps_min": int(lz.t_eps.min()),
            "n_censored": int(lz.censored.sum()),
            "epsilon": float(lz.epsilon.iloc[0]),
        }
        for t in horizons:
            h = g[g.horizon == t]
            row[f"ratio_t{t}"] = geo(h.ratio)
            row[f"mismatch_t{t}"] = float(h.mismatch.mean())
        rows.append(row)
numbers = pd.DataFrame(rows)
pretty = pd.DataFrame(
    {
        "method": numbers.method,
        "m": numbers.width.astype(str),
        "kernel": numbers.kernel.map({"analytic": "K_∞", "empirical": "K_emp(θ₀)"}),
        **{f"L/L_pred, t = {t}": numbers[f"ratio_t{t}"].map(format_number) for t in horizons},
        "t_ε (mean)": [
            format_number(r.t_eps_mean) + (f" ({r.n_censored}/{r.n_seeds} censored)" if r.n_censored else "")
            for r in numbers.itertuples()
        ],
        "diverged": numbers.n_diverged.astype(str),
    }
)
write_table(
    numbers,
    pretty,
    {ext: str(smk.output[ext]) for ext in ("csv", "md", "tex")},
    {"horizons": [int(t) for t in horizons]},
    rule=smk.rule,
    inputs=list(smk.input),
    caption="E4: measured/predicted training loss of GD linearized at θ₀ (K_∞ or K_emp(θ₀)) at fixed steps, "
    "geometric mean over seeds, and the lazy horizon t_ε (censored: ε never exceeded within the run)",
)
log.info("table written in %.1f s", time.perf_counter() - start)
