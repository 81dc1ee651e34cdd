"""Rule `dataset`: one named dataset as .npz: a seeded draw (hrta.data.make_dataset), or a user's file
(`{file: PATH}`, hrta.datafiles.load_dataset_file), validated and stored in the same format."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

from hrta.data import save_dataset
from hrta.datafiles import dataset_from_config
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()

cfg = dict(smk.params.dataset)
ds = dataset_from_config(cfg)
out = smk.output[0]
seeds = [cfg["seed"]] if "seed" in cfg else None
extra = {"sha256": ds.meta["sha256"]} if "file" in cfg else None
write_metadata(
    out,
    cfg,
    rule=smk.rule,
    inputs=list(smk.input),
    seeds=seeds,
    timings={"job": time.perf_counter() - start},
    extra=extra,
)
save_dataset(ds, out)
log.info("dataset %s: %s, X_train %s, X_test %s -> %s", cfg["name"], ds.target, ds.X_train.shape, ds.X_test.shape, out)
