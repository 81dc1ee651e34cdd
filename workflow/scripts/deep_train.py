"""Rule `deep_train`: full-batch GD of DeepNet (config deep.train) for one seed, every method, with the
linearized prediction from the deep kernel, stage by stage (as E4 does for two layers).

For each method and constant-s stage k (s_k, start step t_k, T_k steps), from the network's state at
t_k (trained here stage by stage, so no replay is needed) with residual r_k = f(X) − y under s_k:
  * the analytic kernel K_∞ = deep_analytic_ntk(X, s_k, L) and the network's exact kernel at t_k
    K_emp = deep_empirical_ntk (equal to K_emp at initialization for stage 0);
  * predict_loss_curve(K, r_k, lr, T_k) for both, at the steps the history logs plus the stage end;
  * λ_min, λ_max of K_∞/n and lr·λ_max (GD on the linearization is stable iff it is < 2);
  * max over the stage's logged steps of |log(measured/predicted)| for both kernels (the overlay's
    distance, one number per stage).
The history keeps the closing row of every stage (loss at t_{k+1} under s_k), marked by `stage`.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import math
import time

import numpy as np
import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.io import write_csv
from hrta.models import DeepNet
from hrta.ntk import deep_analytic_ntk, deep_empirical_ntk, predict_loss_curve, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, deep_train_job_mb
from hrta.pipeline.provenance import write_metadata
from hrta.schedules import Schedule, parse_schedule
from hrta.train import TrainConfig, train

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

cfg, seed = smk.params.settings, smk.params.seed
widths, lr, log_every, base = list(cfg["widths"]), float(cfg["lr"]), cfg["log_every"], cfg["base"]
depth = len(widths)
ds = load_dataset(smk.input.dataset)
X = torch.as_tensor(ds.X_train, dtype=torch.float64)
y = torch.as_tensor(ds.y_train, dtype=torch.float64)
n = X.shape[0]
check_memory(
    deep_train_job_mb(n=n, d=ds.d, widths=widths, dtype=cfg["dtype"]),
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"train job deep_train widths {widths} (n={n}, d={ds.d}, {cfg['dtype']})",
)
analytic = {}


def residual(model):
    with torch.no_grad():
        return model(X.to(model.a)).to(torch.float64).cpu() - y


def log_distance(measured, predicted):
    """max |log(measured/predicted)| over points where both are positive and finite."""
    m, p = np.asarray(measured, float), np.asarray(predicted, float)
    ok = np.isfinite(m) & np.isfinite(p) & (m > 0) & (p > 0)
    return float(np.max(np.abs(np.log(m[ok] / p[ok])))) if ok.any() else math.nan


histories, curves, stages = [], [], []
for method, spec in cfg["methods"].items():
    schedule = parse_schedule(spec["schedule"])
    model = DeepNet(ds.d, widths, s=schedule.s_at(0), base=base, seed=seed, dtype=cfg["dtype"], device=cfg["device"])
    t_k, status = 0, "ok"
    for k, stage in enumerate(schedule.stages):
        s, T = stage.s_start, stage.steps
        model.s = s
        r_k = residual(model)
        if (depth, s) not in analytic:
            analytic[depth, s] = deep_analytic_ntk(X, s, depth, base=base)
        kernels = {"analytic": analytic[depth, s], "empirical": deep_empirical_ntk(model, X).to(torch.float64).cpu()}
        tc = TrainConfig(
            schedule=Schedule((stage,)),
            optimizer="gd",
            lr=lr,
            log_every=log_every,
            dtype=cfg["dtype"],
            device=cfg["device"],
            seed=seed,
        )
        result = train(model, ds.X_train, ds.y_train, tc)
        h = result.history.drop(columns=["elapsed_s", "test_loss"])
        h["step"] += t_k
        h["stage"] = k
        h.insert(0, "method", method)
        h.insert(0, "seed", seed)
        histories.append(h)
        js = (h["step"] - t_k).to_numpy()
        row = {
            "seed": seed,
            "widths": ",".join(map(str, widths)),
            "depth": depth,
            "method": method,
            "stage": k,
            "s": s,
            "start_step": t_k,
            "steps": T,
            "lr": lr,
            "status": result.status,
            "loss_start": float(r_k.square().sum() / (2 * n)),
            "loss_end": float(h["train_loss"].iloc[-1]),
        }
        for kind, K in kernels.items():
            sp = spectrum(K / n)
            pred = predict_loss_curve(K, r_k, lr, T)
            curves.append(
                pd.DataFrame(
                    {
                        "seed": seed,
                        "method": method,
                        "kernel": kind,
                        "stage": k,
                        "s": s,
                        "step": t_k + js,
                        "predicted_loss": pred[js],
                    }
                )
            )
            row.update(
                {
                    f"{kind}_lambda_min": sp.lambda_min,
                    f"{kind}_lambda_max": sp.lambda_max,
                    f"{kind}_lr_lambda_max": lr * sp.lambda_max,
                    f"{kind}_predicted_end": float(pred[js[-1]]),
                    f"{kind}_max_abs_log_ratio": log_distance(h["train_loss"], pred[js]),
                }
            )
            if lr * sp.lambda_max >= 2:
                log.warning(
                    "%s stage %d (s=%g): lr·λ_max(K_%s/n) = %.3g ≥ 2: GD on the linearization diverges",
                    method,
                    k,
                    s,
                    kind,
                    lr * sp.lambda_max,
                )
        stages.append(row)
        log.info(
            "seed %d %s stage %d (s=%g, %d steps): loss %.3e -> %.3e, predicted %.3e (K_∞) %.3e (K_emp) (%.1f s)",
            seed,
            method,
            k,
            s,
            T,
            row["loss_start"],
            row["loss_end"],
            row["analytic_predicted_end"],
            row["empirical_predicted_end"],
            time.perf_counter() - start,
        )
        t_k += T
        if result.status != "ok":
            status = result.status
            break
    log.info("seed %d %s: %s", seed, method, status)

meta = dict(cfg, seed=seed)
for key in ("history", "theory", "stages"):
    write_metadata(
        smk.output[key],
        meta,
        rule=smk.rule,
        inputs=[smk.input.dataset],
        seeds=[seed],
        timings={"job": time.perf_counter() - start},
        extra={
            "kernels": "analytic = deep_analytic_ntk (infinite width); empirical = deep_empirical_ntk at the stage start",
            "normalization": "eigenvalues of K/n, loss (1/2n)||r||^2",
        },
    )
write_csv(pd.concat(histories, ignore_index=True), smk.output.history)
write_csv(pd.concat(curves, ignore_index=True), smk.output.theory)
write_csv(pd.DataFrame(stages), smk.output.stages)
log.info("done in %.1f s", time.perf_counter() - start)
