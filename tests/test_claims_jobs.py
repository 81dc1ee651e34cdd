"""The jobs of the claims sweeps (hrta.pipeline.jobs.claims_jobs / claims_job, used by the workflow and the
estimates alike): E5 one per model × seed, E6 one per optimizer, E7 one per data set cell."""

import yaml
from conftest import CONFIGS

from hrta.pipeline.jobs import claims_job, claims_jobs, e7_cells


def config(name="config.yaml"):
    return yaml.safe_load((CONFIGS / name).read_text())


def test_e5_jobs_are_model_by_seed_and_carry_the_model_name():
    cfg = config()
    jobs = claims_jobs(cfg, "e5")
    seeds = {model: spec.get("seeds", cfg["e5"]["seeds"]) for model, spec in cfg["e5"]["models"].items()}
    assert len(jobs) == sum(len(s) for s in seeds.values())
    assert seeds["deep3"] == [0, 1, 2] and seeds["tanh"] == cfg["e5"]["seeds"]  # a model's own seeds (subset)
    for model in cfg["e5"]["models"]:
        for seed in seeds[model]:
            job = claims_job(cfg, "e5", f"{model}_seed{seed}")
            assert job["cell"] == model and job["seeds"] == [seed]
            assert not {"label", "dtype", "optimizers", "seeds"} & set(job["model"])


def test_e5_model_keys_dtype_and_optimizers():
    cfg = config()
    cfg["e5"]["models"]["deep3"].update(dtype="float32", optimizers=["gd"])
    job = claims_job(cfg, "e5", "deep3_seed1")
    assert job["dtype"] == "float32" and job["optimizers"] == ["gd"]
    tanh = claims_job(cfg, "e5", "tanh_seed0")
    assert tanh["dtype"] == cfg["dtype"] and tanh["optimizers"] == list(cfg["e5"]["optimizers"])


def test_model_name_with_underscores_parses():
    cfg = config()
    cfg["e5"]["models"]["deep_3_wide"] = cfg["e5"]["models"].pop("deep3")
    cfg["e5"]["models"]["deep_3_wide"].pop("seeds", None)
    cfg["e5"]["seeds"] = [0, 12]
    assert "deep_3_wide_seed12" in claims_jobs(cfg, "e5")
    assert claims_job(cfg, "e5", "deep_3_wide_seed12")["cell"] == "deep_3_wide"


def test_e6_one_job_per_optimizer_with_every_seed():
    cfg = config()
    assert claims_jobs(cfg, "e6") == sorted(cfg["e6"]["optimizers"])
    for opt in cfg["e6"]["optimizers"]:
        job = claims_job(cfg, "e6", opt)
        assert job["optimizers"] == [opt] and job["seeds"] == list(cfg["e6"]["seeds"])


def test_e7_cells_vary_n_then_target():
    cfg = config()
    ref = cfg["datasets"][cfg["e7"]["dataset"]]
    cells = e7_cells(cfg)
    assert claims_jobs(cfg, "e7") == list(cells)
    for n in cfg["e7"]["n_train"]:
        assert cells[f"{ref['target']}_n{n}"] == (ref["target"], n)
    for cell, (target, n) in cells.items():
        job = claims_job(cfg, "e7", cell)
        assert job["dataset"]["target"] == target and job["dataset"]["n_train"] == n
