"""Rule `claims_gather`: one fairness-sweep cell (E6, e6_regime; one optimizer) joined from its parts (rules
claims_tune, claims_score) into the history and runs one job over all seeds writes (hrta.sweep_parts)."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata
from hrta.sweep_parts import gather_fairness_parts, read_lr_choice, read_part

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])  # never an empty log: start, end and resource use (hrta.io)
cfg = smk.params.settings
parts = [(read_part(h), read_part(r)) for h, r in zip(smk.input.histories, smk.input.runs)]
choice = list(smk.input.choice)
tune = parts.pop(0) if choice else None
history, runs = gather_fairness_parts(parts, tune, read_lr_choice(choice[0]) if choice else None)
for key in ("history", "runs"):
    write_metadata(smk.output[key], cfg, rule=smk.rule, inputs=[*smk.input], seeds=cfg["seeds"])
write_csv(history, smk.output.history)
write_csv(runs, smk.output.runs)
log.info("%s: %d runs from %d parts", cfg["cell"], len(runs), len(parts) + (tune is not None))
