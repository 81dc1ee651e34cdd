"""Readings of HRTA and the verdict matrix: claims 4–7 × readings, each cell decided per metric and labelled
robust or metric-dependent.

A *reading* is a named family of methods (config ``claims.readings``): which schedules count as "HRTA"
(to-ReLU s₁ → 1, relaxed-final ending at s > 1, continuous ramps, switch time). A claim's parts under a
reading are the reading's methods present in the claim's experiment × that experiment's groups ×
each metric's fractions (:mod:`hrta.claims.metrics`). Per metric the parts combine by RULE_ALL; the cell
then compares the metrics of the delivered network, (a) and (b):

* **robust** — (a) and (b) give the same verdict; the cell takes it;
* **metric-dependent** — they differ; the cell names the metric(s) that support the claim. Its label is
  "metric-dependent" when one of them supports the claim, and "inconclusive" when neither does (one says
  not supported, the other inconclusive): only the robustness mark then says that the metrics disagree.

(c) "first below" is shown next to them but does not enter the cell: it counts an intermediate σ_s
network that the schedule does not deliver (the reason for the "stays" rule of (a)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from hrta.claims.metrics import METRIC_NAMES, METRICS
from hrta.claims.rules import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Verdict, combine_verdicts

__all__ = [
    "CELL_LABELS",
    "Cell",
    "MARK",
    "METRIC_DEPENDENT",
    "NOT_MEASURED",
    "PRIMARY_METRICS",
    "READING_ORDER",
    "RULE_CELL",
    "decide_cell",
    "matrix_table",
    "max_s",
    "order_readings",
    "part_name",
    "reading_methods",
    "render_matrix_markdown",
    "summary_lines",
]

PRIMARY_METRICS = ("a", "b")
# Column order of the matrix (the paper's reading first); readings not named here follow in config order.
READING_ORDER = ("to_relu", "relaxed_final", "continuous", "switch_time")


def order_readings(names: Sequence[str]) -> list[str]:
    """``names`` with the READING_ORDER ones first, in that order (the config is key-sorted on its way to a job)."""
    known = [r for r in READING_ORDER if r in names]
    return known + [r for r in names if r not in known]


METRIC_DEPENDENT = "metric-dependent"
NOT_MEASURED = "not measured"
CELL_LABELS = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, METRIC_DEPENDENT, NOT_MEASURED)

RULE_CELL = (
    "per metric, every part (method × group × tolerance or budget) by that metric's rule, combined: supported if "
    "every part is supported, not supported if any part is not supported, else inconclusive; the cell is robust "
    "when (a) and (b) agree (it takes their verdict) and metric-dependent otherwise, labelled 'metric-dependent' "
    "when one of them supports the claim (naming it) and 'inconclusive' when neither does; (c) is a diagnostic "
    "and does not enter the cell"
)


@dataclass(frozen=True)
class Cell:
    """One claim × reading cell: the verdict per metric, the cell label and the numbers behind it."""

    claim: str
    reading: str
    methods: tuple[str, ...]
    per_metric: Mapping[str, Verdict]
    ranges: Mapping[str, tuple[float, float]]
    counts: Mapping[str, tuple[int, int]]  # metric -> (parts supported, parts)

    @property
    def measured(self) -> bool:
        return bool(self.methods) and all(m in self.per_metric for m in PRIMARY_METRICS)

    @property
    def robust(self) -> bool:
        return self.measured and len({self.per_metric[m].label for m in PRIMARY_METRICS}) == 1

    @property
    def supporting(self) -> tuple[str, ...]:
        """Metrics (of all three) under which the claim is supported in this cell."""
        return tuple(m for m in METRICS if m in self.per_metric and self.per_metric[m].label == SUPPORTED)

    @property
    def label(self) -> str:
        if not self.measured:
            return NOT_MEASURED
        if self.robust:
            return self.per_metric[PRIMARY_METRICS[0]].label
        if any(self.per_metric[m].label == SUPPORTED for m in PRIMARY_METRICS):
            return METRIC_DEPENDENT
        return INCONCLUSIVE

    @property
    def verdict(self) -> str:
        """The cell as a claim verdict (supported / not supported / inconclusive): a metric-dependent or
        unmeasured cell is inconclusive."""
        return self.label if self.label in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE) else INCONCLUSIVE

    def describe(self) -> str:
        """Short text: the label, then each metric's verdict, parts supported and range of geometric means."""
        if not self.measured:
            return f"{NOT_MEASURED} (no method of this reading in the experiment)"
        head = (
            "robust"
            if self.robust
            else f"metric-dependent, supported under {', '.join(self.supporting) or 'no metric'}"
        )
        parts = []
        for m in METRICS:
            if m not in self.per_metric:
                continue
            lo, hi = self.ranges[m]
            k, n = self.counts[m]
            parts.append(f"{m}: {self.per_metric[m].label} ({k}/{n} parts supported, {_range(lo, hi)}×)")
        return f"{self.label} — {head}; " + "; ".join(parts)


def _range(lo: float, hi: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    return f"{lo:.3g}" if f"{lo:.3g}" == f"{hi:.3g}" else f"{lo:.3g}–{hi:.3g}"


def part_name(row: Mapping, name_cols: Sequence[str]) -> str:
    """'optimizer=gd, width=1000, method=hrta_0.5, q=0.5' (integral floats written as integers)."""

    def value(x):
        return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)

    return ", ".join([*(f"{c}={value(row[c])}" for c in name_cols), f"q={row['fraction']:g}"])


def decide_cell(claim: str, reading: str, rows: pd.DataFrame, methods: Sequence[str], name_cols: Sequence[str]) -> Cell:
    """The cell of ``claim`` under ``reading`` from the metric rows (:func:`hrta.claims.metrics.metric_rows`,
    columns name_cols + method, metric, fraction, value, verdict, rule, numbers) of the reading's ``methods``."""
    rows = rows[rows["method"].isin(list(methods))]
    present = tuple(m for m in methods if m in set(rows["method"]))
    per_metric, ranges, counts = {}, {}, {}
    for metric in METRICS:
        mr = rows[rows["metric"] == metric]
        if mr.empty:
            continue
        parts = {
            part_name(r, [*name_cols, "method"]): Verdict(r["verdict"], r["rule"], r["numbers"])
            for _, r in mr.iterrows()
        }
        per_metric[metric] = combine_verdicts(parts)
        values = mr["value"].astype(float)
        values = values[values.map(math.isfinite)]
        ranges[metric] = (float(values.min()), float(values.max())) if len(values) else (math.nan, math.nan)
        counts[metric] = (int((mr["verdict"] == SUPPORTED).sum()), len(mr))
    return Cell(claim, reading, present, per_metric, ranges, counts)


def matrix_table(cells: Sequence[Cell], reading_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per cell: claim, reading, reading_label, label, robust, verdict_a/b/c, supported_a/b/c
    ('k/n' parts), range_a/b/c, methods, summary."""
    reading_labels = reading_labels or {}
    rows = []
    for c in cells:
        row = {
            "claim": c.claim,
            "reading": c.reading,
            "reading_label": reading_labels.get(c.reading, c.reading),
            "label": c.label,
            "robust": c.robust,
            "supporting": " ".join(c.supporting),
            "methods": " ".join(c.methods),
        }
        for m in METRICS:
            v = c.per_metric.get(m)
            row[f"verdict_{m}"] = v.label if v else NOT_MEASURED
            row[f"supported_{m}"] = f"{c.counts[m][0]}/{c.counts[m][1]}" if m in c.counts else ""
            row[f"range_{m}"] = _range(*c.ranges[m]) if m in c.ranges else ""
        row["summary"] = c.describe()
        rows.append(row)
    return pd.DataFrame(rows)


MARK = {SUPPORTED: "✓", NOT_SUPPORTED: "✗", INCONCLUSIVE: "?", NOT_MEASURED: "–"}


def render_matrix_markdown(table: pd.DataFrame, claim_titles: Mapping[str, str]) -> str:
    """The verdict matrix as a Markdown table: rows = claims, columns = readings; each cell the label,
    robust / metric-dependent, and the per-metric marks a ✓/✗/? b … c …."""
    readings = list(dict.fromkeys(table["reading"]))
    labels = dict(zip(table["reading"], table["reading_label"]))
    lines = [
        "| claim | " + " | ".join(labels[r] for r in readings) + " |",
        "|---|" + "---|" * len(readings),
    ]
    for claim in dict.fromkeys(table["claim"]):
        cells = []
        for r in readings:
            row = table[(table["claim"] == claim) & (table["reading"] == r)]
            if row.empty:
                cells.append("–")
                continue
            row = row.iloc[0]
            marks = " ".join(f"{m}{MARK.get(row[f'verdict_{m}'], '?')}" for m in METRICS)
            if row["label"] == NOT_MEASURED:
                cells.append(NOT_MEASURED)
            elif row["robust"]:
                cells.append(f"**{row['label']}** (robust) {marks}")
            else:
                cells.append(f"**{row['label']}** ({METRIC_DEPENDENT}) {marks}")
        lines.append(f"| {claim}: {claim_titles.get(claim, '')} | " + " | ".join(cells) + " |")
    legend = (
        "Metrics: "
        + "; ".join(f"{m} = {METRIC_NAMES[m]}" for m in METRICS)
        + ". ✓ supported, ✗ not supported, ? inconclusive. Robust: (a) and (b) agree; (c) is a diagnostic."
    )
    return "\n".join([*lines, "", legend])


def max_s(schedule) -> float:
    """Largest s a schedule uses (its stages' end points)."""
    from hrta.schedules import parse_schedule  # noqa: PLC0415 (schedules is light, but keep claims import-free)

    return max(max(st.s_start, st.s_end) for st in parse_schedule(schedule).stages)


def reading_methods(methods: Sequence[str], experiment_methods: Mapping[str, Mapping], relaxation: bool) -> list[str]:
    """The reading's methods present in an experiment (``experiment_methods``: name → {schedule: ...});
    with ``relaxation`` only those with a stage at s > 1 (claim 5)."""
    out = [m for m in methods if m in experiment_methods]
    if relaxation:
        out = [m for m in out if max_s(experiment_methods[m]["schedule"]) > 1.0]
    return out


def summary_lines(cells: Sequence[Cell], decided_on: Mapping[str, str], reading_labels: Mapping[str, str]) -> list[str]:
    """One plain line per claim: the deciding reading's cell, then the readings (and metrics) that support it."""
    lines = []
    for claim in dict.fromkeys(c.claim for c in cells):
        row = [c for c in cells if c.claim == claim]
        decide = next((c for c in row if c.reading == decided_on.get(claim)), None)
        parts = []
        if decide is not None:
            robust = "robust" if decide.robust else "metric-dependent"
            head = f"**{decide.label}** on the {reading_labels.get(decide.reading, decide.reading)} reading ({robust})"
            if decide.measured:
                head += f": (a) {_range(*decide.ranges['a'])}×, (b) {_range(*decide.ranges['b'])}×"
            parts.append(head)
        support = [
            f"{reading_labels.get(c.reading, c.reading)} under {', '.join(c.supporting)} "
            f"({'; '.join(f'{m} {_range(*c.ranges[m])}×' for m in c.supporting)})"
            for c in row
            if c.supporting
        ]
        parts.append("supported under: " + "; ".join(support) if support else "no reading supports it under any metric")
        # Single parts that support it (a cell needs all its parts): where the claim holds locally.
        local = [
            f"{reading_labels.get(c.reading, c.reading)} ({m}) {c.counts[m][0]}/{c.counts[m][1]}"
            for c in row
            for m in PRIMARY_METRICS
            if c.measured and c.counts[m][0] > 0
        ]
        if local:
            parts.append("single parts that support it: " + ", ".join(local))
        lines.append(f"- Claim {claim}: " + " — ".join(parts) + ".")
    return lines
