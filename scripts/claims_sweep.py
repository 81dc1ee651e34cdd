"""Rule `claims_sweep`: every method × optimizer × learning rate × seed of one claims cell (E5–E7).

A cell is one data set and one model (hrta.sweeps model spec). For each seed all runs start from the
same initialization on the same data, so speed-ups are paired per seed. Learning rates: each
optimizer's configured lr times every factor of ``lr_factors`` (E6's grid; [1] elsewhere) and, when
``kernel_lr`` is set, GD with the kernel-scaled rate c/λ_max(K_s/n) per stage (hrta.sweeps).
Writes the concatenated histories (no wall-clock column, so the file is byte-identical between runs)
and one row per run.
"""

import time

import pandas as pd

from hrta.data import make_dataset
from hrta.io import job_logger, set_torch_threads, write_csv, write_metadata
from hrta.schedules import parse_schedule
from hrta.sweeps import build_model, stage_learning_rates, train_config, train_stagewise
from hrta.train import train

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
job_start = time.perf_counter()

cfg = smk.params.settings
data_spec = {k: v for k, v in cfg["dataset"].items() if k != "name"}
ds = make_dataset(**data_spec)
model_spec = cfg["model"]
layers = "both" if model_spec.get("train_output", True) else "first"
common = dict(
    log_every=cfg["log_every"],
    dtype=cfg["dtype"],
    device=cfg["device"],
    divergence_threshold=cfg["divergence_threshold"],
)

# (optimizer name, lr factor or "kernel", optimizer setting)
plans = [(name, factor, opt) for name, opt in cfg["optimizers"].items() for factor in cfg["lr_factors"]]
kernel = cfg.get("kernel_lr")
if kernel:
    plans.append((kernel["optimizer"], "kernel", cfg["optimizers"][kernel["optimizer"]]))

histories, runs = [], []
for seed in cfg["seeds"]:
    for opt_name, factor, opt in plans:
        for method, spec in cfg["methods"].items():
            schedule = parse_schedule(spec["schedule"])
            model = build_model(model_spec, ds.d, seed, cfg["dtype"], cfg["device"])
            t0 = time.perf_counter()
            if factor == "kernel":
                lrs = stage_learning_rates(ds.X_train, schedule, kernel["fraction"], model_spec["base"], layers)
                tc = train_config(opt, schedule, lr=lrs[0], seed=seed, **common)
                result = train_stagewise(model, ds.X_train, ds.y_train, schedule, lrs, tc)
                lr_text = " ".join(f"{lr:.4g}" for lr in lrs)
            else:
                tc = train_config(opt, schedule, lr=opt["lr"] * factor, seed=seed, **common)
                result = train(model, ds.X_train, ds.y_train, tc)
                lr_text = f"{opt['lr'] * factor:.4g}"
            wall = time.perf_counter() - t0
            hist = result.history.drop(columns=["elapsed_s", "test_loss"])
            labels = {
                "cell": cfg["cell"],
                "optimizer": opt_name,
                "lr_factor": str(factor),
                "method": method,
                "seed": seed,
            }
            for col, value in reversed(labels.items()):
                hist.insert(0, col, value)
            histories.append(hist)
            runs.append(
                {
                    **labels,
                    "lr": lr_text,
                    "schedule": str(schedule),
                    "budget": schedule.total_steps,
                    "status": result.status,
                    "steps_done": result.steps_done,
                    "final_train_loss": result.final_train_loss,
                    "wall_s": round(wall, 3),
                }
            )
            log.info(
                "%s seed=%d %-8s lr×%-6s %-10s %s: %d steps, train loss %.3e (%.2f s)",
                cfg["cell"],
                seed,
                opt_name,
                factor,
                method,
                result.status,
                result.steps_done,
                result.final_train_loss,
                wall,
            )

# wall_s is the only non-deterministic column: keep it in the sidecar, not in the runs table.
runs = pd.DataFrame(runs)
timings = {"job": time.perf_counter() - job_start, "training": float(runs.pop("wall_s").sum())}
for key in ("history", "runs"):
    write_metadata(smk.output[key], cfg, rule=smk.rule, seeds=cfg["seeds"], timings=timings)
write_csv(pd.concat(histories, ignore_index=True), smk.output.history)
write_csv(runs, smk.output.runs)
log.info("done in %.1f s (%d runs)", timings["job"], len(runs))
