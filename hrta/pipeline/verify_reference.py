"""The shipped reference of hrta.verify: made from a finished run, with the host and config it came from.

``python -m hrta.verify --make-reference RUN_DIR [--reference DIR]`` (:func:`make_reference`) writes into
DIR (default docs/default_run/reference/):

- ``tables/*.csv``: a copy of every ``RUN_DIR/figures/tables/*.csv`` (the tables the claims and figures read);
- ``CLAIMS.md``: a copy of ``RUN_DIR/figures/CLAIMS.md`` (its verdict labels);
- ``provenance.json``: ``host`` (:func:`host_info`: CPU model, torch version and ``torch.__config__.show()``
  build, its BLAS and ATen CPU capability, numpy's BLAS, thread counts, the environment variables that
  choose code paths), ``commit`` (git HEAD of this repository, ``+dirty`` when it has uncommitted changes),
  ``config_hashes`` ({output: config hash} from every provenance record of the run,
  hrta.pipeline.provenance) and ``config_hash`` (the hash of that map: one number per config).

Run it on the host that made the run: the host recorded is the one the command runs on.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .provenance import META_SUFFIX, PROVENANCE_DIR, config_hash
from .snapshot import REPO

__all__ = [
    "CLAIMS_MD",
    "CODE_PATH_VARIABLES",
    "PROVENANCE_FILE",
    "TABLES_DIR",
    "TABLES_SUBDIR",
    "cpu_model",
    "git_commit",
    "host_info",
    "make_reference",
    "output_config_hashes",
]

#: where a run keeps its tables and claims (relative to the run directory)
TABLES_DIR = Path("figures", "tables")
CLAIMS_MD = Path("figures", "CLAIMS.md")
PROVENANCE_FILE = "provenance.json"
TABLES_SUBDIR = "tables"
#: environment variables that choose a numerical code path or a thread count (recorded with the host)
CODE_PATH_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: the certificate's own outputs are not part of the run's config fingerprint
_OWN_OUTPUTS = ("figures/VERIFY.md", "data/verify/VERIFY.json")


def output_config_hashes(run_dir: str | Path) -> dict[str, str]:
    """{output path: config hash} of every provenance record of the run (``data/provenance/**.json``)."""
    import json

    root = Path(run_dir) / PROVENANCE_DIR
    hashes = {}
    for record in sorted(root.rglob(f"*{META_SUFFIX}")):
        output = str(record.relative_to(root))[: -len(META_SUFFIX)]
        if output not in _OWN_OUTPUTS:
            hashes[output] = json.loads(record.read_text(encoding="utf-8"))["config_hash"]
    return hashes


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux, else platform.processor())."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit(repo: str | Path = REPO) -> str | None:
    """git HEAD of ``repo`` (``+dirty`` with uncommitted changes to tracked files), None outside a checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def host_info(run_dir: str | Path | None = None) -> dict:
    """This host as the certificate shows it: CPU, torch build and BLAS, thread counts, code-path variables."""
    import numpy as np
    import torch

    numpy_blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    build = torch.__config__.show()
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "blas": "MKL" if torch.backends.mkl.is_available() else "other (see torch_config)",
        "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "numpy": np.__version__,
        "numpy_blas": f"{numpy_blas.get('name', '?')} {numpy_blas.get('version', '')}".strip(),
        "environment": {k: os.environ[k] for k in CODE_PATH_VARIABLES if k in os.environ},
        # the run's own checkout where it is one (a fresh clone run from scratch), else the code doing the check
        "commit": (git_commit(run_dir) if run_dir is not None else None) or git_commit(),
        "torch_config": build,
    }


def make_reference(run_dir: str | Path, reference_dir: str | Path, host: Mapping | None = None) -> Path:
    """Copy the run's tables and CLAIMS.md into ``reference_dir`` and write its provenance.json; return that path.

    Refuses (ValueError naming the file) a run without CLAIMS.md or without tables; replaces the
    reference's earlier tables, so a table the workflow no longer makes does not linger.
    """
    import json

    from hrta.io import write_text

    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    claims = run_dir / CLAIMS_MD
    tables = sorted((run_dir / TABLES_DIR).glob("*.csv"))
    if not claims.is_file():
        raise ValueError(f"{claims} does not exist: not a finished run")
    if not tables:
        raise ValueError(f"{run_dir / TABLES_DIR} holds no *.csv table: not a finished run")
    target = reference_dir / TABLES_SUBDIR
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for table in tables:
        shutil.copyfile(table, target / table.name)
    shutil.copyfile(claims, reference_dir / CLAIMS_MD.name)
    hashes = output_config_hashes(run_dir)
    meta = {
        "host": dict(host if host is not None else host_info(run_dir)),
        "config_hash": config_hash(hashes),
        "config_hashes": hashes,
        "tables": [t.name for t in tables],
    }
    path = reference_dir / PROVENANCE_FILE
    write_text(path, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return path
