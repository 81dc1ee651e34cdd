"""Write a deterministic table for one seed (Slurm smoke-test workflow)."""

import json
import math
import os
import random
import socket

seed = int(snakemake.wildcards.seed)  # noqa: F821 (injected by Snakemake)
n_rows = int(snakemake.params.n_rows)  # noqa: F821
rng = random.Random(seed)

with open(snakemake.output.table, "w") as fh:  # noqa: F821
    fh.write("seed,i,x,relu,homotopy\n")
    for i in range(n_rows):
        x = rng.gauss(0.0, 1.0)
        relu = max(x, 0.0)
        # a homotopy between identity and ReLU at s = 0.25, as in the paper's activations
        homotopy = 0.25 * x + 0.75 * relu
        fh.write(f"{seed},{i},{x:.12e},{relu:.12e},{homotopy:.12e}\n")

with open(snakemake.output.meta, "w") as fh:  # noqa: F821
    json.dump(
        {
            "seed": seed,
            "host": socket.gethostname(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
            "threads": snakemake.threads,  # noqa: F821
            "check": math.fsum(range(n_rows)),
        },
        fh,
        indent=2,
    )
