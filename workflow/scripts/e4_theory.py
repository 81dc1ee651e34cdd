"""Rule `e4_theory`: the NTK prediction of every E4 GD run at one width — GD on the network
linearized at its initialization θ₀ (the lazy regime), with two kernels:

  * ``analytic``: the infinite-width kernel K_∞ (hrta.ntk.analytic_cross_ntk),
  * ``empirical``: the network's own kernel at θ₀, K_emp(θ₀) (hrta.ntk.relu_kernel_grams),

both started from the network's actual residual f_s(θ₀) − y. Through a switch of s the linearization
at θ₀ carries the parameter change of the earlier stages over with the cross-s kernel Θ_{s_k, s_j}
(hrta.ntk.predict_lazy_loss_curve), so the whole schedule is predicted from θ₀ and nothing is
re-fitted at a stage boundary. Measured vs K_emp(θ₀) isolates "not lazy"; K_emp(θ₀) vs K_∞ isolates
"not yet infinite width".

Per (seed, method, stage): λ_min, λ_max of K_{s_k}/n for both kernels, the asymptotic per-step loss
factor (1 − lr·λ_min)² (only where λ_min is resolved) and the predicted loss at the stage start.
Curves are written at the steps the training history logs, so they line up with the measured ones.
The network is initialized in the dtype of its training job (config e4.wide), then cast to float64.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import write_csv
from hrta.models import TwoLayerNet
from hrta.ntk import analytic_cross_ntk, predict_lazy_loss_curve, relu_kernel_grams, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, e2_empirical_job_mb
from hrta.pipeline.provenance import write_metadata
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

cfg = smk.params.settings
width = smk.params.width
model_cfg = cfg["model"]
if model_cfg["base"] != "relu":
    raise ValueError(f"e4.model.base must be 'relu' (closed-form cross-s kernels), got {model_cfg['base']!r}")
layers = "both" if model_cfg["train_output"] else "first"
ds = load_dataset(smk.input.dataset)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
y = torch.as_tensor(ds.y_train, dtype=torch.float64)
n = X.shape[0]
log_every = cfg["log_every"]
s_values = sorted({st.s_start for m in cfg["methods"].values() for st in parse_schedule(m["schedule"]).stages})
check_memory(
    e2_empirical_job_mb(
        n=n, d=ds.d, width=width, base="relu", layers=[layers], dtype=cfg["dtype"], cached_kernels=len(s_values) ** 2
    ),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"kernel job e4_theory width m={width} (n={n}, d={ds.d}, {cfg['dtype']})",
)
analytic = {}


def analytic_kernel(s, t):
    if (s, t) not in analytic:
        analytic[(s, t)] = analytic_cross_ntk(X, s, t, layers=layers)
    return analytic[(s, t)]


def logged(total):
    """Steps the training history logs: every log_every and the last."""
    return sorted(set(range(0, total, log_every)) | {total})


curves, stages = [], []
for seed in smk.params.seeds:
    net = TwoLayerNet(
        ds.d,
        width,
        base="relu",
        seed=seed,
        output_init=model_cfg["output_init"],
        train_output=model_cfg["train_output"],
        dtype=cfg["dtype"],
        device=cfg["device"],
    )
    grams = relu_kernel_grams(X, net.W, net.a)
    outputs = {}
    for s in s_values:
        net.s = s
        with torch.no_grad():
            outputs[s] = net(X.to(net.W)).to(torch.float64).cpu() - y

    kernels = {"analytic": analytic_kernel, "empirical": lambda s, t, g=grams: g.kernel(s, layers, t=t)}
    for opt_name, opt in cfg["optimizers"].items():
        lr = float(opt["lr"])
        for method, spec in cfg["methods"].items():
            schedule = parse_schedule(spec["schedule"])
            plan = [(st.s_start, st.steps) for st in schedule.stages]
            steps = logged(schedule.total_steps)
            for kind, kernel in kernels.items():
                curve, starts = predict_lazy_loss_curve(kernel, lambda s, o=outputs: o[s].numpy(), plan, lr)
                t_k = 0
                for k, (s, T) in enumerate(plan):
                    sp = spectrum(kernel(s, s) / n)
                    stages.append(
                        {
                            "width": width,
                            "seed": seed,
                            "optimizer": opt_name,
                            "method": method,
                            "stage": k,
                            "s": s,
                            "start_step": t_k,
                            "steps": T,
                            "lr": lr,
                            "kernel": kind,
                            "lambda_min": sp.lambda_min,
                            "lambda_max": sp.lambda_max,
                            "lambda_min_resolved": sp.lambda_min_resolved,
                            "lr_lambda_max": lr * sp.lambda_max,
                            "predicted_rate": (1.0 - lr * sp.lambda_min) ** 2 if sp.lambda_min_resolved else np.nan,
                            "loss_at_start": float(np.square(starts[k]).sum() / (2 * n)),
                        }
                    )
                    # the history logs step t_k + T (the first step of the next stage) under the next s
                    last = k == len(plan) - 1
                    js = [t for t in steps if t_k <= t < t_k + T or (last and t == t_k + T)]
                    curves.append(
                        pd.DataFrame(
                            {
                                "width": width,
                                "seed": seed,
                                "optimizer": opt_name,
                                "method": method,
                                "kernel": kind,
                                "stage": k,
                                "s": s,
                                "step": js,
                                "predicted_loss": curve[js],
                            }
                        )
                    )
                    t_k += T
    del net, grams
    log.info("width %d seed %d done (%.1f s)", width, seed, time.perf_counter() - start)

curves = pd.concat(curves, ignore_index=True)
stages = pd.DataFrame(stages)
meta = dict(cfg, width=width, seeds=list(smk.params.seeds))
for key in ("curves", "stages"):
    write_metadata(
        smk.output[key],
        meta,
        rule=smk.rule,
        inputs=[smk.input.dataset],
        seeds=smk.params.seeds,
        timings={"job": time.perf_counter() - start},
        extra={
            "kernels": "GD linearized at θ₀ through the whole schedule; analytic = K_∞, empirical = K_emp(θ₀)",
            "normalization": "eigenvalues of K/n, loss (1/2n)||r||^2",
        },
    )
write_csv(curves, smk.output.curves)
write_csv(stages, smk.output.stages)
log.info("%d stage predictions -> %s", len(stages), smk.output.stages)
