"""Rule `train`: every method × optimizer of one experiment at one width and seed.

All runs of the job start from the same initialization (TwoLayerNet(seed=seed)) on the same data,
so methods are compared pairwise per seed. Writes the concatenated histories (no wall-clock column,
so the file is byte-identical between runs) and one row per run (status, final losses, and for GD
the stability margin lr·λ_max(K_s/n) of the analytic kernel over the schedule's s values).

Every run checkpoints every `checkpoint_every` steps (config key, default 500; read from the config,
not a param, since it changes no result) to data/checkpoints/train/{exp}/w{width}_seed{seed}/
{method}__{optimizer}.pt; a job interrupted mid-run (Ctrl-C, kill, node failure) resumes that run
from its checkpoint when it is re-run, bit-identically (hrta.train.train). Each checkpoint is removed
when its run ends, and the job's checkpoint directory when the job ends. A checkpoint from another
configuration is discarded with a warning. Before training, the job's estimated memory
(hrta.pipeline.train_job_mb) is checked against `resources.max_mem_mb`.

With `vary_data_seed` (experiment key) the data set is drawn with seed dataset.seed + seed
(hrta.datafiles.dataset_from_config), the same for every method of the job (paired), so the seeds' spread includes data variance. A run whose final s ≠ 1
is exported with hrta.models.to_relu and its training loss checked against the σ_s network's
(column export_rel_diff; > 1e-10 relative in float64 stops the job).
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import shutil
import time
from pathlib import Path

import pandas as pd
import torch

from hrta.data import load_dataset
from hrta.datafiles import dataset_draw, dataset_from_config
from hrta.io import write_csv
from hrta.models import TwoLayerNet, export_loss_check
from hrta.ntk import analytic_ntk, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.memory import check_memory, train_job_mb
from hrta.pipeline.provenance import write_metadata
from hrta.schedules import parse_schedule
from hrta.train import CheckpointError, TrainConfig, train

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
job_start = time.perf_counter()

cfg = smk.params.settings
width, seed = smk.params.width, smk.params.seed
model_cfg = cfg["model"]
draw = dataset_draw(cfg, seed)  # None: the data set's one draw, stored by rule `dataset`
ds = load_dataset(smk.input.dataset) if draw is None else dataset_from_config(cfg["dataset"], draw)
n = ds.X_train.shape[0]
layers = "both" if model_cfg["train_output"] else "first"
X64 = torch.as_tensor(ds.X_train, dtype=torch.float64)
need_mb = train_job_mb(
    n=n,
    n_test=ds.X_test.shape[0],
    d=ds.d,
    width=width,
    model=model_cfg,
    optimizers=cfg["optimizers"],
    dtype=cfg["dtype"],
    device=cfg["device"],
)
check_memory(
    need_mb,
    smk.config.get("resources", {}).get("max_mem_mb"),
    f"train job {cfg['experiment']} width m={width} (n={n}, n_test={ds.X_test.shape[0]}, d={ds.d}, {cfg['dtype']})",
)
checkpoint_every = int(smk.config.get("checkpoint_every", 500))
history_path = Path(smk.output.history)
checkpoint_dir = Path("data", "checkpoints", *history_path.with_suffix("").parts[1:])


def train_resumable(model, tc, name):
    """hrta.train.train with a checkpoint per run; a checkpoint of another run is discarded."""
    path = checkpoint_dir / f"{name}.pt"
    if path.exists():
        log.info("%s: resuming from checkpoint %s", name, path)
    try:
        return train(
            model,
            ds.X_train,
            ds.y_train,
            tc,
            X_test=ds.X_test,
            y_test=ds.y_test,
            checkpoint_path=path,
            checkpoint_every=checkpoint_every,
        )
    except CheckpointError as err:
        log.warning("%s; discarding it and restarting the run", err)
        path.unlink()
        return train(
            model,
            ds.X_train,
            ds.y_train,
            tc,
            X_test=ds.X_test,
            y_test=ds.y_test,
            checkpoint_path=path,
            checkpoint_every=checkpoint_every,
        )


def lr_lambda_max(schedule, lr):
    """max over the schedule's s of lr·λ_max(K_s/n), K_s the analytic NTK (GD is stable iff < 2)."""
    s_values = sorted({s for st in schedule.stages for s in (st.s_start, st.s_end)})
    return max(
        lr * spectrum(analytic_ntk(X64, s, layers=layers, base=model_cfg["base"]) / n).lambda_max for s in s_values
    )


TRAIN_KEYS = ("optimizer", "lr", "lr_schedule", "lr_gamma", "lr_step_every", "lr_min", "batch_size", "adam_eps")

histories, runs, timings = [], [], {}
for opt_name, opt in cfg["optimizers"].items():
    for method, spec in cfg["methods"].items():
        schedule = parse_schedule(spec["schedule"])
        model = TwoLayerNet(
            ds.d,
            width,
            s=schedule.s_at(0),
            base=model_cfg["base"],
            seed=seed,
            output_init=model_cfg["output_init"],
            train_output=model_cfg["train_output"],
            dtype=cfg["dtype"],
            device=cfg["device"],
        )
        kwargs = {k: opt[k] for k in TRAIN_KEYS if k in opt}
        if "adam_betas" in opt:
            kwargs["adam_betas"] = tuple(opt["adam_betas"])
        tc = TrainConfig(
            schedule=schedule,
            log_every=cfg["log_every"],
            dtype=cfg["dtype"],
            device=str(model.W.device),
            seed=seed,
            divergence_threshold=cfg["divergence_threshold"],
            **kwargs,
        )
        margin = lr_lambda_max(schedule, opt["lr"]) if opt["optimizer"] == "gd" else float("nan")
        if margin >= 2:
            log.warning("%s/%s: lr·λ_max(K_s/n) = %.3g >= 2: GD is unstable for this lr", method, opt_name, margin)
        t0 = time.perf_counter()
        result = train_resumable(model, tc, f"{method}__{opt_name}")
        timings[f"{method}/{opt_name}"] = time.perf_counter() - t0
        export = float("nan")
        if model_cfg["base"] == "relu" and model.s != 1.0 and result.status == "ok":
            export = export_loss_check(model, ds.X_train, ds.y_train)
        hist = result.history.drop(columns=["elapsed_s"])
        for col, value in (("optimizer", opt_name), ("method", method), ("seed", seed), ("width", width)):
            hist.insert(0, col, value)
        histories.append(hist)
        runs.append(
            {
                "method": method,
                "optimizer": opt_name,
                "width": width,
                "seed": seed,
                "schedule": str(schedule),
                "status": result.status,
                "steps_done": result.steps_done,
                "final_train_loss": result.final_train_loss,
                "final_test_loss": result.final_test_loss,
                "lr": opt["lr"],
                "lr_lambda_max": margin,
                "export_rel_diff": export,
            }
        )
        log.info(
            "m=%d seed=%d %-10s %-6s %s: %d steps, train loss %.3e, test loss %.3e, lr·λ_max(K_s/n) %.3g (%.1f s)",
            width,
            seed,
            method,
            opt_name,
            result.status,
            result.steps_done,
            result.final_train_loss,
            result.final_test_loss,
            margin,
            timings[f"{method}/{opt_name}"],
        )

history = pd.concat(histories, ignore_index=True)
runs = pd.DataFrame(runs)
timings["job"] = time.perf_counter() - job_start
meta = dict(cfg, width=width, seed=seed)
for key in ("history", "runs"):
    write_metadata(smk.output[key], meta, rule=smk.rule, inputs=[smk.input.dataset], seeds=[seed], timings=timings)
write_csv(history, smk.output.history)
write_csv(runs, smk.output.runs)
shutil.rmtree(checkpoint_dir, ignore_errors=True)  # every run's checkpoint is already gone
log.info("done in %.1f s (%d runs)", timings["job"], len(runs))
