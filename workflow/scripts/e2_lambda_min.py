"""Rule `e2_lambda_min` (claim 1): λ_min and λ_max of the analytic NTK K_s/n on the refined s grid for
every data set the run trains on (each made here from its config: hrta.datafiles.dataset_from_config), for
each layer choice. One job: the kernels are cheap next to a process start."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd
import torch

from hrta.datafiles import dataset_from_config
from hrta.io import write_csv
from hrta.ntk import analytic_ntk, relu_analytic_ntks, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, kernel_job_mb
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()
layers_list = list(smk.params.layers)
rows = []
for name, spec in smk.params.datasets.items():
    ds = dataset_from_config(spec)
    X = torch.as_tensor(ds.X_train, dtype=torch.float64)
    n = X.shape[0]
    check_memory(
        kernel_job_mb(n=n, d=ds.d, width=None, base=smk.params.base, layers=layers_list, dtype="float64"),
        smk.config.get("resources", {}).get("max_mem_mb"),
        f"kernel job e2_lambda_min {name} (n={n}, d={ds.d})",
    )
    for layers in layers_list:
        if smk.params.base == "relu":  # the angles once per data set (relu_analytic_ntks = analytic_ntk per s)
            kernels = relu_analytic_ntks(X, [float(s) for s in smk.params.s_values], layers)
        else:
            kernels = (
                (float(s), analytic_ntk(X, float(s), layers=layers, base=smk.params.base)) for s in smk.params.s_values
            )
        for s, K in kernels:
            sp = spectrum(K / n)
            rows.append(
                {
                    "dataset": name,
                    "target": spec.get("target", ds.target),
                    "n_train": n,
                    "d": ds.d,
                    "data_seed": int(spec.get("seed", -1)),  # -1: a user's file
                    "constant_feature": bool(ds.meta["constant_feature"]),
                    "layers": layers,
                    "s": float(s),
                    **sp.scalars(),
                }
            )
    log.info("%s (n=%d, d=%d) done (%.1f s)", name, n, ds.d, time.perf_counter() - start)
table = pd.DataFrame(rows)
out = smk.output[0]
write_metadata(
    out,
    {"datasets": dict(smk.params.datasets), "s_values": list(smk.params.s_values), "layers": layers_list},
    rule=smk.rule,
    timings={"job": time.perf_counter() - start},
    extra={"normalization": "eigenvalues of K_s/n"},
)
write_csv(table, out)
log.info(
    "%d spectra of %d data sets (%d unresolved λ_min) -> %s",
    len(table),
    table.dataset.nunique(),
    int((~table.lambda_min_resolved).sum()),
    out,
)
