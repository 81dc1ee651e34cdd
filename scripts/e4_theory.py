"""Rule `e4_theory`: the NTK prediction of every E4 GD run at one width, stage by stage.

For each seed, method and constant-s stage k (s_k, start step t_k, T_k steps):
  * λ_min, λ_max of K_{s_k}/n for the analytic kernel and for the empirical kernel at initialization,
    and the predicted per-step loss factor (1 − lr·λ_min)² (only where λ_min is resolved);
  * the predicted loss curve hrta.ntk.predict_loss_curve(K, r_k, lr, T_k), where r_k is the residual
    f(X) − y of the network at the start of stage k under s_k. Stage 1 starts from the initialization;
    later stages start from the GD iterate at t_k, obtained by replaying the earlier stages with
    hrta.train.train (GD is deterministic, so this is the state of the measured run), because the
    switch of s changes the function, which the linearized dynamics of one kernel cannot predict.
Curves are written at the steps the training history logs, so they line up with the measured ones.
"""

import time

import numpy as np
import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import job_logger, set_torch_threads, write_csv, write_metadata
from hrta.models import TwoLayerNet
from hrta.ntk import analytic_ntk, empirical_ntk, predict_loss_curve, spectrum
from hrta.resources import check_memory, kernel_job_mb
from hrta.schedules import parse_schedule
from hrta.train import TrainConfig, train

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

cfg = smk.params.settings
width = smk.params.width
model_cfg = cfg["model"]
layers = "both" if model_cfg["train_output"] else "first"
ds = load_dataset(smk.input.dataset)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
y = torch.as_tensor(ds.y_train, dtype=torch.float64)
n = X.shape[0]
log_every = cfg["log_every"]
s_count = len(
    {s for m in cfg["methods"].values() for st in parse_schedule(m["schedule"]).stages for s in (st.s_start, st.s_end)}
)
check_memory(
    kernel_job_mb(
        n=n, d=ds.d, width=width, base=model_cfg["base"], layers=[layers], dtype=cfg["dtype"], cached_kernels=s_count
    ),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"kernel job e4_theory width m={width} (n={n}, d={ds.d}, {cfg['dtype']})",
)
analytic = {}


def analytic_kernel(s):
    if s not in analytic:
        analytic[s] = analytic_ntk(X, s, layers=layers, base=model_cfg["base"])
    return analytic[s]


def new_model(s, seed):
    return TwoLayerNet(
        ds.d,
        width,
        s=s,
        base=model_cfg["base"],
        seed=seed,
        output_init=model_cfg["output_init"],
        train_output=model_cfg["train_output"],
        dtype=cfg["dtype"],
        device=cfg["device"],
    )


def residual(model):
    with torch.no_grad():
        return model(X.to(model.W)).to(torch.float64).cpu() - y


def logged_steps(start_step, steps, last):
    """Local steps j (0 ≤ j ≤ steps) of a stage starting at start_step that the history logs."""
    js = [j for j in range(steps) if (start_step + j) % log_every == 0]
    return js + [steps] if last else js


curves, stages = [], []
for seed in smk.params.seeds:
    init = new_model(1.0, seed)
    for opt_name, opt in cfg["optimizers"].items():
        lr = float(opt["lr"])
        for method, spec in cfg["methods"].items():
            schedule = parse_schedule(spec["schedule"])
            model = new_model(schedule.s_at(0), seed)
            t_k = 0
            for k, stage in enumerate(schedule.stages):
                s, T = stage.s_start, stage.steps
                last = k == len(schedule.stages) - 1
                if k > 0:  # replay the previous stage to reach the measured run's state at t_k
                    prev = schedule.stages[k - 1]
                    tc = TrainConfig(
                        schedule=str(prev),
                        optimizer="gd",
                        lr=lr,
                        log_every=prev.steps,
                        dtype=cfg["dtype"],
                        device=str(model.W.device),
                        seed=seed,
                    )
                    train(model, ds.X_train, ds.y_train, tc)
                model.s = s
                r_k = residual(model)
                init.s = s
                kernels = {"analytic": analytic_kernel(s), "empirical": empirical_ntk(init, X).to(torch.float64).cpu()}
                js = logged_steps(t_k, T, last)
                for kind, K in kernels.items():
                    sp = spectrum(K / n)
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
                            "loss_at_start": float(r_k.square().sum() / (2 * n)),
                        }
                    )
                    pred = predict_loss_curve(K, r_k, lr, T)
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
                                "step": [t_k + j for j in js],
                                "predicted_loss": pred[js],
                            }
                        )
                    )
                t_k += T
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
            "kernels": "analytic = infinite width; empirical = finite width at initialization",
            "normalization": "eigenvalues of K/n, loss (1/2n)||r||^2",
        },
    )
write_csv(curves, smk.output.curves)
write_csv(stages, smk.output.stages)
log.info("%d stage predictions -> %s", len(stages), smk.output.stages)
