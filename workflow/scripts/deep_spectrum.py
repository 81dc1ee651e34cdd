"""Rule `deep_spectrum`: λ_min, λ_max and condition number of the depth-L infinite-width NTK K_s/n
(hrta.ntk.deep_analytic_ntk) for every depth L, data set of the run and s of deep.s_grid plus claim
1's refined grid (claim 1 at depth). Depth 1 is the two-layer kernel of X/√d, so its λ_min(s) has E2's shape."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd
import torch

from hrta.datafiles import dataset_from_config
from hrta.io import write_csv
from hrta.ntk import deep_analytic_ntks, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, deep_kernel_job_mb
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

datasets, s_values, depths, base = smk.params.datasets, smk.params.s_values, smk.params.depths, smk.params.base
rows = []
for name, spec in datasets.items():
    ds = dataset_from_config(spec)
    X = torch.as_tensor(ds.X_train, dtype=torch.float64)
    n = X.shape[0]
    check_memory(
        deep_kernel_job_mb(n=n, d=ds.d, outputs=len(depths)),
        smk.config.get("resources", {}).get("max_mem_mb"),
        f"kernel job deep_spectrum, data set {name} (n={n}, d={ds.d})",
    )
    for s in s_values:  # every depth from one pass of the recursion (deep_analytic_ntks)
        for depth, K in deep_analytic_ntks(X, float(s), depths, base=base).items():
            sp = spectrum(K / n)
            rows.append({"dataset": name, "n": n, "d": ds.d, "depth": depth, "s": float(s), **sp.scalars()})
    log.info(
        "%s (n=%d, d=%d): %d depths × %d s (%.1f s)",
        name,
        n,
        ds.d,
        len(depths),
        len(s_values),
        time.perf_counter() - start,
    )
table = pd.DataFrame(rows)
out = smk.output[0]
write_metadata(
    out,
    {"datasets": datasets, "s_values": list(s_values), "depths": depths, "base": base},
    rule=smk.rule,
    timings={"job": time.perf_counter() - start},
    extra={
        "normalization": "eigenvalues of K_s/n",
        "kernel": "hrta.ntk.deep_analytic_ntk (NTK, every layer trained)",
    },
)
write_csv(table, out)
log.info("%d spectra (%d unresolved λ_min) -> %s", len(table), int((~table.lambda_min_resolved).sum()), out)
