"""hrta.pipeline' estimates for the deep rules (workflow/rules/deep.smk), against direct counts and
a measured peak."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from conftest import CONFIGS

from hrta.models import DeepNet
from hrta.pipeline import memory as R
from hrta.pipeline.estimates import estimate_job

DEEP_RULES = ["deep_spectrum", "deep_kernel_error", "deep_train", "figures_deep", "tables_deep"]


@pytest.mark.parametrize("widths", [[7], [5, 9], [64, 64, 3]])
def test_deep_weight_count_matches_the_model(widths):
    """Reference: the number of elements of DeepNet's parameters."""
    net = DeepNet(4, widths)
    assert R.deep_weight_count(4, widths) == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("name", ["config", "smoke", "paper"])
def test_every_deep_rule_has_an_estimator(name):
    config = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    for rule in DEEP_RULES:
        est = estimate_job(rule, {"seed": "0"} if rule == "deep_train" else {}, config, warn=False)
        assert est.known and est.seconds > 0 and est.mem_mb > 0, (name, rule, est)


@pytest.mark.slow  # a fresh process at n = 1500
def test_deep_analytic_ntk_memory_estimate_bounds_the_measured_peak():
    """Reference: the peak RSS growth of one deep_analytic_ntk call at n = 1500 in a fresh process."""
    code = (
        "import re, torch\n"
        "from hrta.ntk.deep import deep_analytic_ntk\n"
        "def kb(key):\n"
        "    return int(re.search(key + r':\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))\n"
        "X = torch.randn(1500, 3, dtype=torch.float64)\n"
        "deep_analytic_ntk(X[:10], 1.5, 3)\n"
        # Reset the peak (VmHWM) to the current RSS: an earlier transient peak (the imports) would
        # otherwise hide the call's own peak, as ru_maxrss did on CI.
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "before = kb('VmRSS')\n"
        "K = deep_analytic_ntk(X, 1.5, 3)\n"
        "print((kb('VmHWM') - before) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    measured = float(out.stdout.strip().splitlines()[-1])
    estimate = R.deep_analytic_ntk_mb(1500, 3)
    assert 8 * 1500 * 1500 / 2**20 <= measured <= estimate, (measured, estimate)
