"""python -m hrta.verify (hrta.pipeline.verify): cells under their tolerances on small synthetic tables, each checked
against an independent formula; then the smoke run against a reference made from itself: it passes, and each kind
of difference (a label flipped, a cell moved beyond tolerance, a missing table, another config) fails naming it."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hrta.pipeline.provenance import config_hash
from hrta.pipeline.verify import (
    DEFAULT_TOLERANCES,
    TableTolerances,
    Tolerance,
    ToleranceError,
    cell_status,
    certificate,
    certificate_markdown,
    claim_verdicts,
    compare_labels,
    compare_table,
    config_differences,
    exit_status,
    load_tolerances,
    verify_run,
)
from hrta.pipeline.verify_reference import make_reference

REPO = Path(__file__).resolve().parents[1]
EXACT = Tolerance("exact", "exact", "labels")
REL = Tolerance("rel", "relative", "rounding", rel=1e-6, abs=1e-12)
HALF = Tolerance("half", "interval", "estimate", lo="ci_low", hi="ci_high", scale="log", fraction=0.5)


# ---- cells --------------------------------------------------------------------------------------


def test_relative_tolerance_agrees_with_numpy_isclose():
    """Reference: numpy.isclose(x, r, rtol, atol) is |x − r| ≤ atol + rtol·|r|, the rule the file declares."""
    rng = np.random.default_rng(0)
    ref = rng.lognormal(0, 3, 500) * rng.choice([-1, 1], 500)
    got = ref * (1 + rng.normal(0, 2e-6, 500)) + rng.normal(0, 1e-12, 500)
    for r, x in zip(ref, got):
        expect = "within" if np.isclose(x, r, rtol=REL.rel, atol=REL.abs) else "different"
        assert cell_status(repr(float(r)), repr(float(x)), REL) in (expect, "equal")
    assert {cell_status(repr(float(r)), repr(float(x)), REL) for r, x in zip(ref, got)} == {"within", "different"}


def test_interval_tolerance_is_a_ratio_within_the_square_root_of_the_interval():
    """Reference: on the log scale, |log x − log r| ≤ ½·log(hi/lo) ⇔ max(x/r, r/x) ≤ √(hi/lo)."""
    row = {"ci_low": "0.727", "ci_high": "0.931"}
    bound = math.sqrt(0.931 / 0.727)
    for x in np.linspace(0.6, 1.1, 101):
        if abs(max(x / 0.822, 0.822 / x) - bound) < 1e-12:
            continue  # on the boundary the two formulas may round apart
        expect = "within" if max(x / 0.822, 0.822 / x) <= bound else "different"
        assert cell_status("0.822", repr(float(x)), HALF, row, "estimate") == expect
    # the Intel host's value of claim 5's tuned-rate cell against the AMD reference (issue 25)
    assert cell_status("0.822", "0.795", HALF, row, "estimate") == "within"


def test_interval_without_a_finite_interval_allows_no_difference():
    assert cell_status("4.12", "4.13", HALF, {"ci_low": "", "ci_high": ""}, "estimate") == "different"
    assert cell_status("4.12", "4.12", HALF, {"ci_low": "", "ci_high": ""}, "estimate") == "equal"


def test_interval_columns_named_after_the_compared_column():
    tol = Tolerance("own", "interval", "x", lo="{base}_lo", hi="{base}_hi", scale="linear", fraction=1.0)
    row = {"rate": "-1.0", "rate_lo": "-1.5", "rate_hi": "-0.5"}
    assert cell_status("-1.5", "-0.6", tol, row, "rate_lo") == "within"  # |Δ| = 0.9 ≤ 1.0 · (1.0)
    assert cell_status("-1.5", "-0.4", tol, row, "rate_lo") == "different"


def test_exact_and_text_cells():
    assert cell_status("supported", "supported", EXACT) == "equal"
    assert cell_status("supported", "not supported", EXACT) == "different"
    assert cell_status("1000", "1000.0", EXACT) == "equal"  # the same number
    assert cell_status("nan", "NaN", REL) == "equal"
    text = Tolerance("text", "text", "a sentence")
    assert cell_status("0.822× [0.727, 0.931], n = 5", "0.795× [0.629, 1], n = 5", text) == "within"
    assert cell_status("0.822× [0.727, 0.931] supported", "0.822× [0.727, 0.931] mixed", text) == "different"


# ---- tables, labels, config ---------------------------------------------------------------------


def _endpoints(estimate="0.822", verdict="not supported") -> pd.DataFrame:
    return pd.DataFrame(
        {"cell": ["a", "b"], "estimate": ["1.5", estimate], "ci_low": ["1.2", "0.727"], "ci_high": ["1.8", "0.931"]}
        | {"verdict": ["supported", verdict]}
    )


RULES = TableTolerances("exact", (("estimate", "half"), ("ci_*", "rel")))
TOLS = {"exact": EXACT, "half": HALF, "rel": REL}


def test_compare_table_counts_and_names_each_difference():
    same = compare_table("t.csv", _endpoints(), _endpoints(), RULES, TOLS)
    assert (same.equal, same.within, same.different, same.problem) == (10, 0, 0, None)
    near = compare_table("t.csv", _endpoints(), _endpoints(estimate="0.795"), RULES, TOLS)
    assert (near.equal, near.within, near.different) == (9, 1, 0)
    far = compare_table("t.csv", _endpoints(), _endpoints(estimate="0.7", verdict="mixed"), RULES, TOLS)
    assert [(c.row, c.column, c.reference, c.run, c.key) for c in far.differences] == [
        (1, "estimate", "0.822", "0.7", "cell=b, verdict=not supported"),
        (1, "verdict", "not supported", "mixed", "cell=b, verdict=not supported"),
    ]
    assert compare_table("t.csv", _endpoints(), None, RULES, TOLS).problem == "missing in the run"
    assert "other shape" in compare_table("t.csv", _endpoints(), _endpoints().iloc[:1], RULES, TOLS).problem


def test_row_overrides_apply_only_to_the_rows_they_select():
    rules = TableTolerances("exact", (), (("cell", "b", (("estimate", "half"),)),))
    result = compare_table("t.csv", _endpoints(), _endpoints(estimate="0.795"), rules, TOLS)
    assert result.different == 0 and result.within == 1
    moved = _endpoints().assign(estimate=["1.51", "0.822"])
    assert [c.column for c in compare_table("t.csv", _endpoints(), moved, rules, TOLS).differences] == ["estimate"]


def test_claim_verdicts_of_the_committed_claims_md():
    """Reference: the first cell and the first bold label of each row of the first table, found by a regular
    expression."""
    text = (REPO / "docs" / "default_run" / "CLAIMS.md").read_text(encoding="utf-8")
    verdicts = claim_verdicts(text)
    rows = [line for line in text.split("\n\n| #", 1)[1].split("\n\n")[0].splitlines()[2:]]
    expected = {re.match(r"\| (\w+) \|", row).group(1): re.search(r"\| \*\*(.+?)\*\* \|", row).group(1) for row in rows}
    assert verdicts == expected and len(verdicts) >= 7


def test_labels_config_certificate_and_exit_status():
    labels = compare_labels({"1": "supported", "2": "mixed"}, {"1": "supported", "2": "not supported"})
    assert [lab["equal"] for lab in labels] == [True, False]
    assert config_differences({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == ["b: config hash 3, reference 2"]
    assert config_differences({"a": "1"}, {}) == ["a: missing in the run"]
    table = compare_table("t.csv", _endpoints(), _endpoints(), RULES, TOLS)
    cert = certificate(labels=labels, tables=[table], config_diff=[])
    assert (cert["status"], exit_status(cert)) == ("different", 1)
    assert "Verdicts equal: **1 of 2**" in certificate_markdown(cert)
    assert "Claim 2: verdict **not supported**, reference **mixed**" in certificate_markdown(cert)
    ok = certificate(labels=labels[:1], tables=[table], config_diff=[])
    assert (ok["status"], exit_status(ok)) == ("reproduced", 0)
    other = certificate(labels=[], tables=[], config_diff=["b: config hash 3, reference 2"])
    assert (other["status"], exit_status(other)) == ("other config", 2)
    assert "No cell was compared" in certificate_markdown(other)


def test_the_shipped_tolerance_file_loads_and_states_every_reason():
    tolerances, tables = load_tolerances(DEFAULT_TOLERANCES)
    assert all(len(t.reason) > 40 for t in tolerances.values())
    assert {"claims_endpoints.csv", "regime_rates.csv", "e2_spectrum.csv"} <= set(tables)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tolerances: {a: {kind: fuzzy, reason: r}}\ntables: {}", "tolerances.a.kind"),
        ("tolerances: {a: {kind: exact}}\ntables: {}", "tolerances.a.reason"),
        ("tolerances: {a: {kind: relative, reason: r, rel: -1}}\ntables: {}", "tolerances.a.rel"),
        ("tolerances: {a: {kind: exact, reason: r}}\ntables: {t.csv: {default: b}}", "tables.t.csv.default"),
        ("tolerances: {a: {kind: exact, reason: r}}\ntables: {t.csv: {default: a, columns: {x: c}}}", "columns.x"),
    ],
)
def test_a_bad_tolerance_file_is_refused_naming_the_key(tmp_path, text, message):
    path = tmp_path / "tol.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ToleranceError, match=message.replace(".", r"\.")):
        load_tolerances(path)


# ---- the smoke run against a reference made from itself -----------------------------------------


@pytest.fixture
def smoke_copy(smoke_run, tmp_path):
    """A reference made from the smoke run, and a copy of the run's results (figures/, data/provenance/) to edit."""
    workdir, result = smoke_run
    assert result.returncode == 0, result.stdout[-3000:]
    reference = tmp_path / "reference"
    make_reference(workdir, reference, host={"cpu": "test"})
    run = tmp_path / "run"
    shutil.copytree(workdir / "figures", run / "figures")
    shutil.copytree(workdir / "data" / "provenance", run / "data" / "provenance")
    return run, reference


def _verify(run, reference):
    return verify_run(run, reference, DEFAULT_TOLERANCES)


@pytest.mark.slow  # the shared smoke run
def test_the_smoke_run_reproduces_its_own_reference(smoke_copy):
    run, reference = smoke_copy
    cert = _verify(run, reference)
    assert cert["status"] == "reproduced" and exit_status(cert) == 0
    rows = claim_verdicts((reference / "CLAIMS.md").read_text(encoding="utf-8"))
    assert cert["verdicts"]["equal"] == cert["verdicts"]["total"] == len(rows) >= 7
    assert cert["cells"]["different"] == cert["cells"]["within"] == 0 and cert["cells"]["equal"] > 1000
    meta = json.loads((reference / "provenance.json").read_text(encoding="utf-8"))
    assert sorted(meta["tables"]) == sorted(p.name for p in (run / "figures" / "tables").glob("*.csv"))


@pytest.mark.slow  # the shared smoke run
def test_a_flipped_label_fails_naming_the_claim(smoke_copy):
    run, reference = smoke_copy
    claims = run / "figures" / "CLAIMS.md"
    verdicts = claim_verdicts(claims.read_text(encoding="utf-8"))
    flipped = "supported" if verdicts["4"] != "supported" else "mixed"
    lines = claims.read_text(encoding="utf-8").splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("| 4 |"))
    lines[i] = lines[i].replace(f"**{verdicts['4']}**", f"**{flipped}**")
    claims.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cert = _verify(run, reference)
    assert cert["status"] == "different" and cert["verdicts"]["equal"] == cert["verdicts"]["total"] - 1
    assert f"Claim 4: verdict **{flipped}**, reference **{verdicts['4']}**" in certificate_markdown(cert)


@pytest.mark.slow  # the shared smoke run
def test_a_cell_moved_beyond_its_tolerance_fails_naming_the_cell(smoke_copy):
    run, reference = smoke_copy
    path = run / "figures" / "tables" / "claims_endpoints.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = next(i for i, (lo, hi) in enumerate(zip(table.ci_low, table.ci_high)) if lo and hi and float(lo) < float(hi))
    lo, hi, est = (float(table.at[row, c]) for c in ("ci_low", "ci_high", "estimate"))
    inside, outside = est * (hi / lo) ** 0.25, est * (hi / lo) ** 0.75  # ¼ and ¾ of the interval's log-width
    table.at[row, "estimate"] = repr(inside)
    table.to_csv(path, index=False)
    assert _verify(run, reference)["status"] == "reproduced"
    table.at[row, "estimate"] = repr(outside)
    table.to_csv(path, index=False)
    cert = _verify(run, reference)
    assert cert["status"] == "different" and cert["cells"]["different"] == 1
    (diff,) = [d for t in cert["tables"] for d in t["differences"]]
    assert (diff["table"], diff["row"], diff["column"], diff["run"]) == (
        "claims_endpoints.csv",
        row,
        "estimate",
        repr(outside),
    )
    assert "| claims_endpoints.csv | " in certificate_markdown(cert)


@pytest.mark.slow  # the shared smoke run
def test_a_missing_table_fails_naming_it(smoke_copy):
    run, reference = smoke_copy
    (run / "figures" / "tables" / "regime_rates.csv").unlink()
    cert = _verify(run, reference)
    assert cert["status"] == "different"
    assert "- regime_rates.csv: missing in the run" in certificate_markdown(cert)


@pytest.mark.slow  # the shared smoke run
def test_a_run_of_another_config_is_reported_as_such(smoke_copy):
    run, reference = smoke_copy
    record = run / "data" / "provenance" / "figures" / "tables" / "e3_loss_at_budget.csv.json"
    meta = json.loads(record.read_text(encoding="utf-8"))
    meta["config"]["budgets"] = [b + 1 for b in meta["config"]["budgets"]]  # another config, its honest hash
    meta["config_hash"] = config_hash(meta["config"])
    record.write_text(json.dumps(meta), encoding="utf-8")
    cert = _verify(run, reference)
    assert cert["status"] == "other config" and exit_status(cert) == 2 and cert["tables"] == []
    assert cert["config_differences"] == [
        f"figures/tables/e3_loss_at_budget.csv: config hash {meta['config_hash']}, reference "
        f"{json.loads((reference / 'provenance.json').read_text())['config_hashes']['figures/tables/e3_loss_at_budget.csv']}"
    ]


@pytest.mark.slow  # the shared smoke run
def test_the_command_line_exit_status_and_certificate_files(smoke_copy):
    run, reference = smoke_copy
    cmd = [sys.executable, "-m", "hrta.verify", str(run), "--reference", str(reference)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "**reproduced**" in done.stdout and (run / "figures" / "VERIFY.md").is_file()
    assert json.loads((run / "data" / "verify" / "VERIFY.json").read_text())["run_host"]["torch"]
    (run / "figures" / "tables" / "e2_spectrum.csv").unlink()
    assert subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).returncode == 1


@pytest.mark.slow  # the shared smoke run
def test_the_workflow_wrote_a_certificate(smoke_run):
    """The rule `verify` ran at the end of the smoke run and did not fail (the smoke config is not the reference's)."""
    workdir, result = smoke_run
    assert result.returncode == 0
    text = (workdir / "figures" / "VERIFY.md").read_text(encoding="utf-8")
    status = json.loads((workdir / "data" / "verify" / "VERIFY.json").read_text())["status"]
    assert status in ("other config", "no reference") and f"**{status}**" in text
