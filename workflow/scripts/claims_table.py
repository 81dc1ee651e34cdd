"""Rule `table_claims_speedups`: every paired speed-up (E3, E5–E7) with its 95% interval and verdict."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import pandas as pd

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import write_table
from hrta.plots import format_number

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])  # never an empty log: start, end and resource use (hrta.io)
table = pd.read_csv(smk.input[0])
GROUP = ["optimizer", "width", "cell", "lr_choice"]


def where(row):
    return ", ".join(
        f"{c}={row[c]:g}" if isinstance(row[c], float) else f"{c}={row[c]}"
        for c in GROUP
        if c in row and pd.notna(row[c])
    )


pretty = pd.DataFrame(
    {
        "experiment": table["experiment"],
        "group": [where(r) for _, r in table.iterrows()],
        "method": table["method"],
        "tolerance": [format_number(x) for x in table["tolerance"]],
        "speed-up [95% CI]": [
            f"{format_number(r.speedup)} [{format_number(r.ci_low)}, {format_number(r.ci_high)}]"
            for r in table.itertuples()
        ],
        "per seed": table["ratios"],
        "first ≤ tol, any s (diagnostic)": [format_number(x) for x in table["speedup_first_below"]],
        "diverged (method/baseline)": [f"{r.n_diverged_method}/{r.n_diverged_baseline}" for r in table.itertuples()],
        "verdict": table["verdict"],
    }
)
write_table(
    table,
    pretty,
    {ext: str(smk.output[ext]) for ext in ("csv", "md", "tex")},
    dict(smk.params.claims),
    caption="Paired speed-ups (baseline steps / method steps to the tolerance) with 95% t-intervals",
    rule=smk.rule,
    inputs=list(smk.input),
)
