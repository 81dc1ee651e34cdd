"""Rule `e4_horizons`: per E4 GD run, measured/predicted loss at fixed horizons and the lazy horizon.

For each (width, seed, optimizer, method) and each prediction kernel (``analytic`` = K_∞,
``empirical`` = K_emp(θ₀); both GD linearized at θ₀, scripts/e4_theory.py):
  * horizons.csv: L_measured(t)/L_predicted(t) and the mismatch |ratio − 1| at each configured step t
    (NaN after a divergence), with the run's status;
  * lazy_horizon.csv: t_ε (hrta.claims.lazy_horizon, ε = e4.lazy_epsilon), whether it is censored (ε
    never exceeded), the run's last logged step and status.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd

from hrta.claims import lazy_horizon, ratio_at_horizons
from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
horizons = [int(t) for t in smk.params.horizons]
epsilon = float(smk.params.lazy_epsilon)

hist = pd.concat([pd.read_csv(p) for p in smk.input.histories], ignore_index=True)
runs = pd.concat([pd.read_csv(p) for p in smk.input.runs], ignore_index=True)
curves = pd.concat([pd.read_csv(p) for p in smk.input.curves], ignore_index=True)
status = runs.set_index(["width", "seed", "method", "optimizer"])["status"]
keys = ["width", "seed", "optimizer", "method"]
measured_groups = dict(list(hist.groupby(keys)))
ratio_rows, lazy_rows = [], []
for key, pred in curves.groupby(keys + ["kernel"]):
    width, seed, opt, method, kernel = key
    run_status = status.loc[(width, seed, method, opt)]
    measured = measured_groups[(width, seed, opt, method)][["step", "train_loss"]]
    joined = pred[["step", "predicted_loss"]].merge(measured, on="step", how="left").sort_values("step")
    ran = joined.dropna(subset=["train_loss"])
    ratios = ratio_at_horizons(ran.step, ran.train_loss, ran.predicted_loss, horizons)
    base = dict(zip(keys + ["kernel"], key), status=run_status)
    for t, r in ratios.items():
        ratio_rows.append({**base, "horizon": t, "ratio": r, "mismatch": abs(r - 1.0) if np.isfinite(r) else np.nan})
    t_eps, censored = lazy_horizon(ran.step, ran.train_loss, ran.predicted_loss, epsilon)
    censored = censored and run_status == "ok"
    lazy_rows.append(
        {**base, "epsilon": epsilon, "t_eps": t_eps, "censored": censored, "last_step": int(ran.step.max())}
    )

ratios = pd.DataFrame(ratio_rows).sort_values(keys + ["kernel", "horizon"], kind="stable").reset_index(drop=True)
lazy = pd.DataFrame(lazy_rows).sort_values(keys + ["kernel"], kind="stable").reset_index(drop=True)
for out in (smk.output.horizons, smk.output.lazy):
    write_metadata(
        out,
        {"horizons": horizons, "lazy_epsilon": epsilon},
        rule=smk.rule,
        inputs=list(smk.input),
        timings={"job": time.perf_counter() - start},
    )
write_csv(ratios, smk.output.horizons)
write_csv(lazy, smk.output.lazy)
log.info(
    "%d horizon ratios, %d lazy horizons (%d diverged runs)", len(ratios), len(lazy), int((lazy.status != "ok").sum())
)
