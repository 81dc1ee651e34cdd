"""House style, checked by the test command: ruff (lint and format) and snakefmt, configured in pyproject.toml.

Fix with `ruff check --fix . && ruff format . && snakefmt Snakefile workflow tests/cluster/Snakefile`
(or `pre-commit run -a`).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE_FILES = ["Snakefile", "workflow", "tests/cluster/Snakefile"]


def tool(name: str) -> str:
    """The tool next to this interpreter (the venv's), else on PATH."""
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["snakefmt", "--check", *SNAKEMAKE_FILES],
    ],
    ids=["ruff-check", "ruff-format", "snakefmt"],
)
def test_style(command):
    result = subprocess.run([tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
