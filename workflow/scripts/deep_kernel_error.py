"""Rule `deep_kernel_error`: relative Frobenius error ‖K_emp − K_∞‖_F/‖K_∞‖_F of DeepNet's exact
empirical NTK at initialization (hrta.ntk.deep_empirical_ntk) against the infinite-width kernel
(deep_analytic_ntk), for every network (hidden-layer widths), seed and s. Also λ_min/λ_max of the
empirical K/n, so the spectra can be compared with the analytic ones."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import write_csv
from hrta.models import DeepNet
from hrta.ntk import deep_analytic_ntk, deep_empirical_ntk, relative_kernel_error, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, deep_kernel_job_mb
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

p = smk.params
ds = load_dataset(smk.input.dataset)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
n = X.shape[0]
check_memory(
    max(deep_kernel_job_mb(n=n, d=ds.d, widths=w, dtype=p.dtype) for w in p.networks),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"kernel job deep_kernel_error (n={n}, d={ds.d}, widest {max(p.networks, key=sum)})",
)
analytic = {}
rows = []
for widths in p.networks:
    depth = len(widths)
    for s in p.s_values:
        if (depth, s) not in analytic:
            analytic[depth, s] = deep_analytic_ntk(X, s, depth, base=p.base)
        K_inf = analytic[depth, s]
        for seed in p.seeds:
            net = DeepNet(ds.d, widths, s=s, base=p.base, seed=seed, dtype=p.dtype, device=p.device)
            K = deep_empirical_ntk(net, X).to(torch.float64).cpu()
            sp = spectrum(K / n)
            rows.append(
                {
                    "depth": depth,
                    "widths": ",".join(map(str, widths)),
                    "width": min(widths),
                    "s": s,
                    "seed": seed,
                    "relative_error": relative_kernel_error(K, K_inf),
                    "lambda_min": sp.lambda_min,
                    "lambda_max": sp.lambda_max,
                    "lambda_min_resolved": sp.lambda_min_resolved,
                }
            )
    log.info("widths %s done (%.1f s)", widths, time.perf_counter() - start)
table = pd.DataFrame(rows)
out = smk.output[0]
write_metadata(
    out,
    {"networks": p.networks, "seeds": list(p.seeds), "s_values": list(p.s_values), "base": p.base, "dtype": p.dtype},
    rule=smk.rule,
    inputs=[smk.input.dataset],
    seeds=list(p.seeds),
    timings={"job": time.perf_counter() - start},
    extra={"error": "||K_emp - K_inf||_F / ||K_inf||_F at initialization", "normalization": "eigenvalues of K/n"},
)
write_csv(table, out)
log.info("%d kernels -> %s", len(table), out)
