"""Rule `regime_table`: where the theory can act, for every GD training experiment (e3, e4, e8).

Per experiment × s × GD optimizer: lr, T, λ_min and λ_max of the analytic K_s/n (hrta.ntk.analytic_ntk on the
experiment's data set, its own draw = seed 0's: hrta.datafiles.dataset_from_config; with vary_data_seed the other
seeds' draws differ slightly), κ = λ_max/λ_min, lr·λ_max (< 2: stable), lr·λ_min·T and the fraction
(1 − lr·λ_min)^T of the λ_min mode's residual left at T (hrta.regime.regime_numbers). T is the longest stretch any of
the experiment's methods trains at that s (constant-s stages; ramp stages are left out): the λ_min mode of K_s
decays only while the network trains at s. lr·λ_min·T ≪ 1 (residual_left ≈ 1): the slowest mode never starts to
decay, so the run tests the middle of the spectrum, not the mechanism λ_min(s) of the paper.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import pandas as pd
import torch

from hrta.datafiles import dataset_from_config
from hrta.io import write_csv
from hrta.ntk import analytic_ntk, spectrum
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.provenance import write_metadata
from hrta.regime import regime_numbers, spectral_split
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()

rows = []
for exp, cfg in smk.params.experiments.items():
    if not cfg["gd_lr"]:
        continue
    X = torch.as_tensor(dataset_from_config(cfg["dataset"]).X_train, dtype=torch.float64)
    n = X.shape[0]
    steps_at = {}  # s -> (steps, total steps of the method)
    for schedule in cfg["schedules"].values():
        sched = parse_schedule(schedule)
        for st in sched.stages:
            if not st.is_ramp and st.steps > steps_at.get(st.s_start, (0, 0))[0]:
                steps_at[st.s_start] = (st.steps, sched.total_steps)
    for s in sorted(steps_at):
        sp = spectrum(analytic_ntk(X, s, layers=cfg["layers"]) / n)
        for opt, lr in cfg["gd_lr"].items():
            steps, budget = steps_at[s]
            rows.append(
                {
                    "experiment": exp,
                    "dataset": cfg["dataset"]["name"],
                    "n": n,
                    "d": X.shape[1],
                    "s": s,
                    "optimizer": opt,
                    "budget": budget,
                    **regime_numbers(lr, steps, sp.lambda_min, sp.lambda_max),
                    "lambda_min_resolved": bool(sp.lambda_min_resolved),
                }
            )
        log.info("%s: %d values of s", exp, len(steps_at))

table = pd.DataFrame(rows)
write_metadata(
    smk.output.csv,
    dict(smk.params.experiments),
    rule=smk.rule,
    timings={"job": time.perf_counter() - start},
    extra={"T": "the longest constant-s stretch at s of any method", "normalization": "eigenvalues of K_s/n"},
)
write_csv(table, smk.output.csv)
split = spectral_split(table)
write_metadata(
    smk.output.split,
    dict(smk.params.experiments),
    rule=smk.rule,
    inputs=[smk.output.csv],
    extra={"split": "hrta.regime.spectral_split of the regime table: s against s = 1, lr·λ_min and κ of K_s/n"},
)
write_csv(split, smk.output.split)
for r in table.itertuples():
    log.info(
        "%s s=%g lr=%g T=%d: λ_min=%.3g λ_max=%.3g lr·λ_min·T=%.3g residual left %.3g",
        r.experiment,
        r.s,
        r.lr,
        r.T,
        r.lambda_min,
        r.lambda_max,
        r.lr_lambda_min_T,
        r.residual_left,
    )
