"""Rule `e2_lambda_min` (claim 1): λ_min and λ_max of the analytic NTK K_s/n on the refined s grid
for one data set (drawn here with hrta.data.make_dataset from its config), for each layer choice."""

import time

import pandas as pd
import torch

from hrta.data import make_dataset
from hrta.io import job_logger, set_torch_threads, write_csv, write_metadata
from hrta.ntk import analytic_ntk, spectrum
from hrta.resources import check_memory, kernel_job_mb

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

spec = dict(smk.params.dataset)
name = spec.pop("name")
ds = make_dataset(**spec)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
n = X.shape[0]
layers_list = list(smk.params.layers)
check_memory(
    kernel_job_mb(n=n, d=ds.d, width=None, base=smk.params.base, layers=layers_list, dtype="float64"),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"kernel job e2_lambda_min {name} (n={n}, d={ds.d})",
)
rows = []
for layers in layers_list:
    for s in smk.params.s_values:
        sp = spectrum(analytic_ntk(X, float(s), layers=layers, base=smk.params.base) / n)
        rows.append(
            {
                "dataset": name,
                "target": spec["target"],
                "n_train": n,
                "d": ds.d,
                "constant_feature": bool(spec.get("constant_feature", True)),
                "layers": layers,
                "s": float(s),
                **sp.scalars(),
            }
        )
table = pd.DataFrame(rows)
out = smk.output[0]
write_metadata(
    out,
    {"dataset": dict(smk.params.dataset), "s_values": list(smk.params.s_values), "layers": layers_list},
    rule=smk.rule,
    timings={"job": time.perf_counter() - start},
    extra={"normalization": "eigenvalues of K_s/n"},
)
write_csv(table, out)
log.info("%s: %d spectra (%d unresolved λ_min) -> %s", name, len(table), int((~table.lambda_min_resolved).sum()), out)
