"""Summarize the per-seed tables (Slurm smoke-test workflow)."""

import csv
import json
import math
import os
import socket

rows = []
for path in snakemake.input:  # noqa: F821 (injected by Snakemake)
    with open(path, newline="") as fh:
        for rec in csv.DictReader(fh):
            rows.append(rec)

by_seed = {}
for rec in rows:
    by_seed.setdefault(int(rec["seed"]), []).append(rec)

with open(snakemake.output.table, "w") as fh:  # noqa: F821
    fh.write("seed,n,mean_x,mean_relu,mean_homotopy,frac_active\n")
    for seed in sorted(by_seed):
        recs = by_seed[seed]
        n = len(recs)
        mean = {k: math.fsum(float(r[k]) for r in recs) / n for k in ("x", "relu", "homotopy")}
        active = sum(1 for r in recs if float(r["x"]) > 0) / n
        fh.write(f"{seed},{n},{mean['x']:.12e},{mean['relu']:.12e},{mean['homotopy']:.12e},{active:.6f}\n")

with open(snakemake.output.meta, "w") as fh:  # noqa: F821
    json.dump(
        {
            "host": socket.gethostname(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
            "slurm_cpus_per_task": os.environ.get("SLURM_CPUS_PER_TASK"),
            "threads": snakemake.threads,  # noqa: F821
        },
        fh,
        indent=2,
    )
