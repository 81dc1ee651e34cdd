"""Rule `dataset`: draw one named dataset (hrta.data.make_dataset) and save it as .npz."""

import time

from hrta.data import make_dataset, save_dataset
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

cfg = dict(smk.params.dataset)
args = {k: v for k, v in cfg.items() if k != "name"}
ds = make_dataset(**args)
out = smk.output[0]
write_metadata(out, cfg, rule=smk.rule, seeds=[cfg["seed"]], timings={"job": time.perf_counter() - start})
save_dataset(ds, out)
log.info("dataset %s: %s, X_train %s, X_test %s -> %s", cfg["name"], ds.target, ds.X_train.shape, ds.X_test.shape, out)
