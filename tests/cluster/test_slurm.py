"""Opt-in: run the workflow on a throwaway one-node Slurm cluster (tests/cluster/run_slurm_smoke.sh).

Skipped unless HRTA_SLURM_TESTS=1, because it needs root, installs Debian packages when missing
(slurm-wlm, slurmdbd, munge, mariadb-server) and starts daemons; see docs/slurm.md.

    HRTA_SLURM_TESTS=1 pytest -m cluster tests/cluster            # pipeline smoke config if present
    HRTA_SLURM_TESTS=1 HRTA_SLURM_TARGET=test pytest -m cluster   # the tiny workflow only
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("run_slurm_smoke.sh")

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.environ.get("HRTA_SLURM_TESTS") != "1",
        reason="Slurm cluster test is opt-in: set HRTA_SLURM_TESTS=1 (needs root; see docs/slurm.md)",
    ),
]


def test_workflow_through_slurm_matches_local_run():
    if os.geteuid() != 0:
        pytest.skip("run_slurm_smoke.sh needs root (installs packages, starts munged/slurmd/...)")
    env = dict(os.environ)
    # use the interpreter running the tests (its venv has snakemake) unless told otherwise
    if "HRTA_VENV" not in env and (Path(sys.prefix) / "bin" / "snakemake").exists():
        env["HRTA_VENV"] = sys.prefix
    report = Path(env.setdefault("HRTA_SLURM_REPORT", "/tmp/hrta-slurm-report"))
    target = env.get("HRTA_SLURM_TARGET", "auto")

    proc = subprocess.run(
        ["bash", str(SCRIPT), target],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=int(env.get("HRTA_SLURM_TIMEOUT", "3600")),
    )
    out = proc.stdout
    assert proc.returncode == 0, f"run_slurm_smoke.sh failed (rc={proc.returncode}):\n{out[-8000:]}"
    assert "PASSED" in out
    assert "NOT OK" not in out

    # evidence left behind by the script: every Slurm job of the run is COMPLETED in slurmdbd
    lines = (report / "sacct.txt").read_text().splitlines()
    header, rows = lines[0].split("|"), [line.split("|") for line in lines[1:] if line]
    assert rows, "sacct reported no jobs"
    state = header.index("State")
    assert all(r[state] == "COMPLETED" for r in rows), lines
    assert (report / "tables.sha256").read_text().strip(), "no data tables were compared"
