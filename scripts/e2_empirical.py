"""Rule `e2_empirical`: empirical NTK of TwoLayerNet at one width, over seeds, s values and layer
choices; its spectrum (of K/n) and the relative error ‖K_emp − K_∞‖_F / ‖K_∞‖_F to the analytic kernel."""

import time

import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import job_logger, set_torch_threads, write_csv, write_metadata
from hrta.models import TwoLayerNet
from hrta.ntk import analytic_ntk, empirical_ntk, spectrum
from hrta.resources import check_memory, kernel_job_mb

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
    kernel_job_mb(
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
analytic = {
    (layers, float(s)): analytic_ntk(X, float(s), layers=layers, base=cfg["base"])
    for layers in cfg["layers"]
    for s in smk.params.s_values
}
rows = []
for seed in smk.params.seeds:
    for layers in cfg["layers"]:
        model = TwoLayerNet(
            ds.d,
            width,
            base=cfg["base"],
            seed=seed,
            train_output=(layers == "both"),
            dtype=cfg["dtype"],
            device=cfg["device"],
        )
        for s in smk.params.s_values:
            model.s = float(s)
            K = empirical_ntk(model, X).to(torch.float64).cpu()
            K_inf = analytic[(layers, float(s))]
            sp = spectrum(K / n)
            rows.append(
                {
                    "width": width,
                    "seed": seed,
                    "layers": layers,
                    "s": float(s),
                    **sp.scalars(),
                    "rel_error": float(torch.linalg.norm(K - K_inf) / torch.linalg.norm(K_inf)),
                }
            )
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
    extra={"normalization": "eigenvalues of K/n; rel_error in Frobenius norm"},
)
write_csv(table, out)
log.info("%d kernels -> %s", len(table), out)
