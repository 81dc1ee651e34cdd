"""The test harness itself: the xdist_group marks that keep a module fixture's batch on one worker take effect."""

import os

import pytest


@pytest.mark.xdist_group("harness_probe")
def test_xdist_groups_reach_the_scheduler(request):
    """Under `--dist loadgroup` (pyproject's addopts) xdist sends a group's tests to one worker by the '@group'
    suffix it adds to their node ids; with pytest 9.2 and xdist 3.8 the suffix is silently lost
    (pytest-dev/pytest-xdist#1386) and every grouped module fixture (dry-run batches, the peak-RSS measurements)
    runs on both workers. Skipped without xdist (`-n 0`), where there is nothing to group."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by pytest-xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@harness_probe"), request.node.nodeid
