"""Rule `e1_activations`: σ_s(z) and σ_s'(z) on a grid of z for each configured s."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd
import torch

from hrta.activations import homotopy, homotopy_derivative
from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

e1 = smk.params.e1
z = torch.linspace(e1["z_min"], e1["z_max"], e1["num_points"], dtype=torch.float64)
frames = []
for s in e1["s_values"]:
    frames.append(
        pd.DataFrame(
            {
                "s": float(s),
                "z": z.numpy(),
                "sigma": homotopy(z, s, e1["base"]).numpy(),
                "dsigma": homotopy_derivative(z, s, e1["base"]).numpy(),
            }
        )
    )
table = pd.concat(frames, ignore_index=True)
assert np.isfinite(table[["sigma", "dsigma"]].to_numpy()).all()
out = smk.output[0]
write_metadata(out, e1, rule=smk.rule, timings={"job": time.perf_counter() - start})
write_csv(table, out)
log.info("wrote %d rows for s = %s to %s", len(table), list(e1["s_values"]), out)
