"""Rule `e2_empirical`: empirical NTK of TwoLayerNet at one width, over seeds, s values and layer
choices; its spectrum (of K/n), the relative error ‖K_emp − K_∞‖_F / ‖K_∞‖_F to the analytic kernel, and
the relative errors of λ_max and λ_min of K_emp/n against those of K_∞/n.

ReLU base: one chunked pass over the width per seed gives the kernel at every s and both layer
choices (hrta.ntk.relu_kernel_grams; memory O(n·chunk + n²) beyond the weights, estimated by
hrta.pipeline.relu_grams_mb). Other bases: hrta.ntk.empirical_ntk per s (also chunked).
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import write_csv
from hrta.models import TwoLayerNet
from hrta.ntk import analytic_ntk, empirical_ntk, relu_kernel_grams, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, e2_empirical_job_mb
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

cfg = smk.params.settings
width = smk.params.width
ds = load_dataset(smk.input.dataset)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
n = X.shape[0]
check_memory(
    e2_empirical_job_mb(
        n=n,
        d=ds.d,
        width=width,
        base=cfg["base"],
        layers=cfg["layers"],
        dtype=cfg["dtype"],
        cached_kernels=len(cfg["layers"]) * len(smk.params.s_values),
    ),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"kernel job e2_empirical width m={width} (n={n}, d={ds.d}, {cfg['dtype']})",
)
analytic = {}
for layers in cfg["layers"]:
    for s in smk.params.s_values:
        K_inf = analytic_ntk(X, float(s), layers=layers, base=cfg["base"])
        analytic[(layers, float(s))] = (K_inf, spectrum(K_inf / n))


def rel(a, b):
    return abs(a - b) / abs(b)


rows = []
for seed in smk.params.seeds:
    model = TwoLayerNet(ds.d, width, base=cfg["base"], seed=seed, dtype=cfg["dtype"], device=cfg["device"])
    grams = relu_kernel_grams(X, model.W, model.a) if cfg["base"] == "relu" else None
    for layers in cfg["layers"]:
        model.a.requires_grad_(layers == "both")  # "first": output layer frozen (same draws of W and a)
        for s in smk.params.s_values:
            model.s = float(s)
            if grams is not None:
                K = grams.kernel(float(s), layers).cpu()
            else:
                K = empirical_ntk(model, X).to(torch.float64).cpu()
            K_inf, sp_inf = analytic[(layers, float(s))]
            sp = spectrum(K / n)
            rows.append(
                {
                    "width": width,
                    "seed": seed,
                    "layers": layers,
                    "s": float(s),
                    **sp.scalars(),
                    "rel_error": float(torch.linalg.norm(K - K_inf) / torch.linalg.norm(K_inf)),
                    "rel_error_lambda_max": rel(sp.lambda_max, sp_inf.lambda_max),
                    "rel_error_lambda_min": rel(sp.lambda_min, sp_inf.lambda_min),
                    "analytic_lambda_min_resolved": sp_inf.lambda_min_resolved,
                }
            )
    del model, grams
    log.info("width %d seed %d done (%.1f s)", width, seed, time.perf_counter() - start)
table = pd.DataFrame(rows)
out = smk.output[0]
write_metadata(
    out,
    dict(cfg, width=width, s_values=list(smk.params.s_values)),
    rule=smk.rule,
    inputs=[smk.input.dataset],
    seeds=smk.params.seeds,
    timings={"job": time.perf_counter() - start},
    extra={
        "normalization": "eigenvalues of K/n; rel_error in Frobenius norm; "
        "rel_error_lambda_* = |λ(K_emp/n) − λ(K_∞/n)| / λ(K_∞/n)"
    },
)
write_csv(table, out)
log.info("%d kernels -> %s", len(table), out)
