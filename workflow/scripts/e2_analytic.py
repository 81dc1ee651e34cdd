"""Rule `e2_analytic`: spectrum of the infinite-width NTK K_s/n on a fine grid of s (plus the s
values where empirical kernels are measured, so the two can be compared exactly), per layer choice."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import write_csv
from hrta.ntk import analytic_ntk, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, kernel_job_mb
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

cfg, grid = smk.params.settings, smk.params.s_grid
ds = load_dataset(smk.input.dataset)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
n = X.shape[0]
check_memory(
    kernel_job_mb(n=n, d=ds.d, width=None, base=cfg["base"], layers=cfg["layers"], dtype=cfg["dtype"]),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"kernel job e2_analytic (n={n}, d={ds.d})",
)
s_values = sorted(
    set(np.linspace(grid["start"], grid["stop"], grid["num"]).tolist()) | set(map(float, smk.params.s_empirical))
)
rows = []
for layers in cfg["layers"]:
    for s in s_values:
        sp = spectrum(analytic_ntk(X, float(s), layers=layers, base=cfg["base"]) / n)
        rows.append(
            {
                "layers": layers,
                "s": float(s),
                **sp.scalars(),
            }
        )
table = pd.DataFrame(rows)
out = smk.output[0]
write_metadata(
    out,
    dict(cfg, s_grid=grid, s_empirical=list(smk.params.s_empirical)),
    rule=smk.rule,
    inputs=[smk.input.dataset],
    timings={"job": time.perf_counter() - start},
    extra={"normalization": "eigenvalues of K_s/n"},
)
write_csv(table, out)
log.info("%d spectra (%d unresolved λ_min) -> %s", len(table), int((~table.lambda_min_resolved).sum()), out)
