"""Which CPU code paths change the bits of an E8-like GD run, and what pinning one costs.

    .venv/bin/python benchmarks/bench_host_bits.py [--steps 4000] [--width 1000] [--seeds 0 1]

E8-like: hrta's full-batch GD (hrta.train.train), sphere20 data (100 points uniform on S¹⁹ ⊂ R²⁰, no
constant feature, config/config.yaml's `datasets.sphere20`), m = 10³, s = 1.5 then s = 1 (lr = 4, E8's
rate), float64, one torch thread. Each setting runs in a fresh subprocess (the variables are read when
torch/MKL load): the default, ATEN_CPU_CAPABILITY=avx2 / default (ATen's vectorized elementwise kernels),
MKL_CBWR=AVX2 / AVX512 / COMPATIBLE (MKL's BLAS code path). Prints, per setting, the final training loss
of each seed as float.hex (bit-exact), whether every seed's bits equal the default's, and the median
wall time of the runs relative to the default's ("ratio"). Not run by the tests; the findings are in
docs/reproducibility.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

#: (name, extra environment) of every setting measured; the first is the reference.
SETTINGS = (
    ("default", {}),
    ("ATEN_CPU_CAPABILITY=avx2", {"ATEN_CPU_CAPABILITY": "avx2"}),
    ("ATEN_CPU_CAPABILITY=default", {"ATEN_CPU_CAPABILITY": "default"}),
    ("MKL_CBWR=AVX2", {"MKL_CBWR": "AVX2"}),
    ("MKL_CBWR=AVX512", {"MKL_CBWR": "AVX512"}),
    ("MKL_CBWR=COMPATIBLE", {"MKL_CBWR": "COMPATIBLE"}),
    ("MKL_CBWR=AVX2 + ATEN avx2", {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}),
)

CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from hrta.data import make_dataset
from hrta.models import TwoLayerNet
from hrta.train import TrainConfig, train
steps, width, seeds = int(sys.argv[1]), int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
ds = make_dataset("sphere_d", n_train=100, n_test=100, seed=0, constant_feature=False, dim=20)
out = {"capability": torch.backends.cpu.get_cpu_capability(), "losses": {}, "seconds": []}
half = steps // 2
for seed in seeds:
    model = TwoLayerNet(20, width, s=1.5, seed=seed, dtype="float64")
    cfg = TrainConfig(schedule=f"1.5x{half},1x{steps - half}", optimizer="gd", lr=4.0, log_every=steps,
                      dtype="float64", seed=seed)
    t0 = time.perf_counter()
    res = train(model, ds.X_train, ds.y_train, cfg)
    out["seconds"].append(time.perf_counter() - t0)
    out["losses"][seed] = float(res.final_train_loss).hex()
print(json.dumps(out))
"""


def run_setting(env_extra: dict[str, str], steps: int, width: int, seeds: list[int]) -> dict:
    """One fresh interpreter with ``env_extra`` set (and OMP/MKL threads 1): the child's JSON result."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **env_extra)
    for key in ("ATEN_CPU_CAPABILITY", "MKL_CBWR"):
        if key not in env_extra:
            env.pop(key, None)
    args = [sys.executable, "-c", CHILD, str(steps), str(width), *map(str, seeds)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args(argv)
    results = {name: run_setting(env, args.steps, args.width, args.seeds) for name, env in SETTINGS}
    ref = results["default"]
    ref_time = statistics.median(ref["seconds"])
    print(f"E8-like GD: sphere20, m = {args.width}, {args.steps} steps (s = 1.5 then 1, lr = 4), float64, 1 thread")
    for name, res in results.items():
        same = res["losses"] == ref["losses"]
        ratio = statistics.median(res["seconds"]) / ref_time
        losses = ", ".join(f"seed {k}: {v}" for k, v in res["losses"].items())
        print(f"{name:30s} ATen {res['capability']:8s} bits equal default: {same!s:5s} ratio {ratio:.2f}  {losses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
