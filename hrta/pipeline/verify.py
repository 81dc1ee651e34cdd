"""Did a finished run reproduce the reference run? One certificate, every label and cell under a declared tolerance.

    python -m hrta.verify RUN_DIR [--reference DIR] [--tolerances FILE]
    python -m hrta.verify --make-reference RUN_DIR [--reference DIR]

The reference (docs/default_run/reference/, made by ``--make-reference`` from a finished default run;
hrta.pipeline.verify_reference) holds the run's result tables (every ``figures/tables/*.csv``: the tables
the claims and the figures read; training histories stay in data/), its ``figures/CLAIMS.md``, and
``provenance.json``: the host (CPU, torch and its BLAS build, threads), the commit, and the config hash
of every output (hrta.pipeline.provenance). The tolerances (docs/default_run/tolerances.yaml) are declared
once, by quantity, each with its reason: a column of a table gets the first tolerance whose pattern
matches it, else the table's default.

The comparison, in order:

1. **Config.** The run's outputs are compared with the reference's config hashes (one per output, from
   ``data/provenance/``). A run whose outputs were made from other config slices (or lacks outputs of
   the reference) is another experiment: it is reported as such, and no cell is compared.
2. **Verdict labels.** The verdict of each claim in CLAIMS.md's summary table, exactly.
3. **Cells.** Every cell of every reference table: *equal* (the same text), *within tolerance*, or
   *different* (listed with both values). A missing table or one of another shape is a difference.

Exit status (:func:`exit_status`): 0 when every label is equal and every cell equal or within its
tolerance; 1 when a label or a cell differs or a table is missing; 2 when the run is of another config
(or the reference is missing). The certificate goes to ``figures/VERIFY.md`` and ``data/verify/VERIFY.json`` of the run. The Snakemake
rule ``verify`` (workflow/rules/verify.smk) writes it at the end of a run and does not fail on differences:
the certificate is the finding, and the HTML report shows it.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd
import yaml

from .snapshot import REPO, summary_table
from .verify_reference import (
    CLAIMS_MD,
    PROVENANCE_FILE,
    TABLES_DIR,
    TABLES_SUBDIR,
    host_info,
    make_reference,
    output_config_hashes,
)

__all__ = [
    "CERTIFICATE_JSON",
    "CERTIFICATE_MD",
    "CLAIMS_MD",
    "DEFAULT_REFERENCE",
    "DEFAULT_TOLERANCES",
    "KINDS",
    "NUMBER",
    "Cell",
    "TableResult",
    "Tolerance",
    "ToleranceError",
    "TableTolerances",
    "cell_status",
    "certificate",
    "certificate_markdown",
    "claim_verdicts",
    "compare_labels",
    "compare_table",
    "config_differences",
    "exit_status",
    "load_tolerances",
    "main",
    "read_table",
    "verify_run",
    "write_certificate",
]

DEFAULT_REFERENCE = REPO / "docs" / "default_run" / "reference"
DEFAULT_TOLERANCES = REPO / "docs" / "default_run" / "tolerances.yaml"
#: where the certificate goes (relative to the run directory)
CERTIFICATE_MD = Path("figures", "VERIFY.md")
CERTIFICATE_JSON = Path("data", "verify", "VERIFY.json")  # figures/ holds no JSON (tests/test_pipeline.py)
KINDS = ("exact", "relative", "interval", "text")
#: a number inside a text cell (masked by the "text" tolerance)
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: at most this many differences are listed per table in the Markdown certificate (the JSON has them all)
LIST_LIMIT = 12


class ToleranceError(ValueError):
    """A malformed tolerance file or a table column no tolerance covers; the message names file, key, value."""


@dataclass(frozen=True)
class Tolerance:
    """How far a run's cell may be from the reference's.

    exact: the same text. text: the same text once every number in it is masked (a sentence that renders
    numbers compared in their own columns: its words and labels exactly, its numbers not twice). relative: |x − r| ≤ abs + rel·|r| (r the reference). interval: |v(x) − v(r)| ≤
    fraction·(g(hi) − g(lo)) with lo, hi the reference row's interval columns, g = log (scale "log", for
    ratios) or the identity, and v = g unless value_scale says otherwise (a column that is already a
    log); an interval that is missing, not finite or not positive on a log scale allows no difference.
    The column names lo, hi may hold ``{base}``: the compared column without a trailing _lo/_hi.
    """

    name: str
    kind: str
    reason: str
    rel: float = 0.0
    abs: float = 0.0
    lo: str | None = None
    hi: str | None = None
    scale: str = "linear"
    fraction: float = 0.5
    value_scale: str | None = None


@dataclass(frozen=True)
class TableTolerances:
    """The tolerance of each column of one table: the first pattern (fnmatch) that matches, else ``default``.

    ``rows``: (column, regex, patterns) overrides: in a row whose ``column`` fully matches ``regex`` (e.g. the
    λ_min-regime cells, source e8|e6_regime) those patterns are tried first.
    """

    default: str
    columns: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()

    def for_column(self, column: str, row: Mapping[str, str] | None = None) -> str:
        for key, regex, patterns in self.rows:
            if row is not None and re.fullmatch(regex, str(row.get(key, ""))):
                for pattern, name in patterns:
                    if fnmatch.fnmatchcase(column, pattern):
                        return name
        return next((name for pattern, name in self.columns if fnmatch.fnmatchcase(column, pattern)), self.default)


@dataclass(frozen=True)
class Cell:
    """One compared cell; ``row`` is 0-based, ``key`` the row's identifying labels."""

    table: str
    row: int
    key: str
    column: str
    reference: str
    run: str
    status: str
    tolerance: str


@dataclass
class TableResult:
    """Counts of one table's cells, its differences, and a table-level problem (missing, other shape)."""

    table: str
    equal: int = 0
    within: int = 0
    different: int = 0
    differences: list[Cell] = field(default_factory=list)
    problem: str | None = None


# ---- tolerances ---------------------------------------------------------------------------------


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ToleranceError(f"{where}: {value!r} must be a finite number ≥ 0")
    return float(value)


def _tolerance(name: str, spec, source: str) -> Tolerance:
    where = f"{source}: key tolerances.{name}"
    if not isinstance(spec, Mapping):
        raise ToleranceError(f"{where}: must be a mapping with kind and reason")
    known = {"kind", "reason", "rel", "abs", "lo", "hi", "scale", "fraction", "value_scale"}
    if unknown := sorted(set(spec) - known):
        raise ToleranceError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ToleranceError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    reason = spec.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ToleranceError(f"{where}.reason: every tolerance states its reason (a non-empty string)")
    tol = Tolerance(name=name, kind=kind, reason=" ".join(reason.split()))
    if kind == "relative":
        if "rel" not in spec and "abs" not in spec:
            raise ToleranceError(f"{where}: a relative tolerance needs rel and/or abs")
        tol = replace(
            tol, rel=_number(spec.get("rel", 0.0), f"{where}.rel"), abs=_number(spec.get("abs", 0.0), f"{where}.abs")
        )
    elif kind == "interval":
        for key in ("lo", "hi"):
            if not isinstance(spec.get(key), str):
                raise ToleranceError(f"{where}.{key}: an interval tolerance names the reference's {key} column")
        scale = spec.get("scale", "linear")
        value_scale = spec.get("value_scale", scale)
        for key, value in (("scale", scale), ("value_scale", value_scale)):
            if value not in ("linear", "log"):
                raise ToleranceError(f"{where}.{key}: {value!r} is not 'linear' or 'log'")
        fraction = _number(spec.get("fraction", 0.5), f"{where}.fraction")
        tol = replace(tol, lo=spec["lo"], hi=spec["hi"], scale=scale, fraction=fraction, value_scale=value_scale)
    elif set(spec) - {"kind", "reason"}:
        raise ToleranceError(f"{where}: an {kind} tolerance takes only kind and reason")
    return tol


def _patterns(spec, where: str, tolerances: Mapping[str, Tolerance]) -> tuple[tuple[str, str], ...]:
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise ToleranceError(f"{where}: must map column patterns to tolerance names")
    for pattern, name in spec.items():
        if name not in tolerances:
            raise ToleranceError(f"{where}.{pattern}: {name!r} is not declared under 'tolerances'")
    return tuple((str(p), n) for p, n in spec.items())


def load_tolerances(path: str | Path) -> tuple[dict[str, Tolerance], dict[str, TableTolerances]]:
    """Read and check a tolerance file: ({name: Tolerance}, {table file name: TableTolerances}).

    Format (YAML): ``tolerances: {NAME: {kind, reason, ...}}`` and ``tables: {FILE: {default: NAME,
    columns: {PATTERN: NAME}}}``; every name a table uses must be declared. Errors name the file and key.
    """
    path = Path(path)
    if not path.is_file():
        raise ToleranceError(f"tolerance file {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping) or set(data) != {"tolerances", "tables"}:
        raise ToleranceError(f"{path}: must hold exactly the keys 'tolerances' and 'tables'")
    if not isinstance(data["tolerances"], Mapping) or not isinstance(data["tables"], Mapping):
        raise ToleranceError(f"{path}: 'tolerances' and 'tables' must be mappings")
    tolerances = {name: _tolerance(name, spec, str(path)) for name, spec in data["tolerances"].items()}
    tables = {}
    for table, spec in data["tables"].items():
        where = f"{path}: key tables.{table}"
        if not isinstance(spec, Mapping) or "default" not in spec or set(spec) - {"default", "columns", "rows"}:
            raise ToleranceError(f"{where}: must be a mapping with 'default' and optionally 'columns', 'rows'")
        columns = _patterns(spec.get("columns"), f"{where}.columns", tolerances)
        rows = []
        for i, override in enumerate(spec.get("rows") or []):
            at = f"{where}.rows[{i}]"
            if not isinstance(override, Mapping) or set(override) != {"where", "columns"}:
                raise ToleranceError(f"{at}: must be a mapping with 'where' ({{column: regex}}) and 'columns'")
            if not isinstance(override["where"], Mapping) or len(override["where"]) != 1:
                raise ToleranceError(f"{at}.where: one column and the regex its value must match")
            ((key, regex),) = override["where"].items()
            rows.append((str(key), str(regex), _patterns(override["columns"], f"{at}.columns", tolerances)))
        if spec["default"] not in tolerances:
            raise ToleranceError(f"{where}.default: {spec['default']!r} is not declared under 'tolerances'")
        tables[table] = TableTolerances(spec["default"], columns, tuple(rows))
    return tolerances, tables


# ---- cells and tables ---------------------------------------------------------------------------


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _interval_base(column: str) -> str:
    """The quantity an interval column belongs to: ``ratio_lo`` → ``ratio`` (other names unchanged)."""
    for suffix in ("_lo", "_hi"):
        if column.endswith(suffix):
            return column[: -len(suffix)]
    return column


def _same(ref: float, got: float) -> str:
    return "equal" if ref == got else "different"


def cell_status(
    reference: str, run: str, tol: Tolerance, row: Mapping[str, str] | None = None, column: str = ""
) -> str:
    """'equal' (same text, or the same number, or both NaN), 'within' (inside ``tol``) or 'different'.

    ``row``: the reference row and ``column`` the compared column (for an interval tolerance).
    """
    if reference == run:
        return "equal"
    ref, got = _float(reference), _float(run)
    if tol.kind == "text" and (ref is None or got is None):
        return "within" if NUMBER.sub("#", reference) == NUMBER.sub("#", run) else "different"
    if ref is None or got is None:
        return "different"
    if math.isnan(ref) and math.isnan(got):
        return "equal"
    if tol.kind in ("exact", "text") or not (math.isfinite(ref) and math.isfinite(got)):
        return _same(ref, got)
    if tol.kind == "relative":
        return "within" if abs(got - ref) <= tol.abs + tol.rel * abs(ref) else "different"
    base = _interval_base(column)
    lo, hi = (_float((row or {}).get(c.format(base=base), "")) for c in (tol.lo, tol.hi))
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        return _same(ref, got)
    if tol.scale == "log":
        if lo <= 0:
            return _same(ref, got)
        lo, hi = math.log(lo), math.log(hi)
    if (tol.value_scale or tol.scale) == "log":
        if min(ref, got) <= 0:
            return _same(ref, got)
        ref, got = math.log(ref), math.log(got)
    return "within" if abs(got - ref) <= tol.fraction * (hi - lo) else "different"


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV table as text, cell by cell (no parsing: equal text is the first test)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _row_key(row: Mapping[str, str], columns: Sequence[str]) -> str:
    """The row's identifying labels: its first four non-numeric cells."""
    labels = [f"{c}={row[c]}" for c in columns if row[c] != "" and _float(row[c]) is None]
    return ", ".join(labels[:4])


def compare_table(
    name: str,
    reference: pd.DataFrame | None,
    run: pd.DataFrame | None,
    rules: TableTolerances,
    tolerances: Mapping[str, Tolerance],
) -> TableResult:
    """Every cell of ``reference`` against ``run`` (rows by position, columns by name) under ``rules``."""
    result = TableResult(name)
    if run is None:
        result.problem = "missing in the run"
        result.different = 0 if reference is None else reference.size
        return result
    if list(reference.columns) != list(run.columns) or len(reference) != len(run):
        result.problem = (
            f"other shape: reference {len(reference)} rows × {list(reference.columns)}, "
            f"run {len(run)} rows × {list(run.columns)}"
        )
        result.different = reference.size
        return result
    columns = list(reference.columns)
    for i, (ref_row, run_row) in enumerate(zip(reference.to_dict("records"), run.to_dict("records"))):
        key = _row_key(ref_row, columns)
        for c in columns:
            tol = tolerances[rules.for_column(c, ref_row)]
            status = cell_status(ref_row[c], run_row[c], tol, ref_row, c)
            setattr(result, status, getattr(result, status) + 1)
            if status == "different":
                result.differences.append(Cell(name, i, key, c, ref_row[c], run_row[c], status, tol.name))
    return result


# ---- labels and config --------------------------------------------------------------------------


def claim_verdicts(claims_md: str) -> dict[str, str]:
    """{claim number: verdict} from CLAIMS.md's summary table (its 'Verdict' column, bold markers removed)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in summary_table(claims_md).splitlines()]
    header, body = rows[0], [r for r in rows[2:] if len(r) == len(rows[0])]
    col = header.index("Verdict")
    return {r[0]: r[col].strip("*").strip() for r in body}


def compare_labels(reference: Mapping[str, str], run: Mapping[str, str]) -> list[dict[str, str | bool]]:
    """One entry per reference claim: {claim, reference, run, equal} (a claim the run lacks: run '(missing)')."""
    return [
        {"claim": k, "reference": v, "run": run.get(k, "(missing)"), "equal": run.get(k) == v}
        for k, v in reference.items()
    ]


def config_differences(reference: Mapping[str, str], run: Mapping[str, str]) -> list[str]:
    """Outputs whose config hash differs, or that the run lacks ({output: config hash} of each side)."""
    return [
        f"{out}: {'missing in the run' if out not in run else f'config hash {run[out]}, reference {h}'}"
        for out, h in sorted(reference.items())
        if run.get(out) != h
    ]


# ---- the certificate ----------------------------------------------------------------------------


def certificate(
    *,
    labels: Sequence[Mapping],
    tables: Sequence[TableResult],
    config_diff: Sequence[str],
    reference_host: Mapping | None = None,
    run_host: Mapping | None = None,
    extra_tables: Sequence[str] = (),
    no_reference: str | None = None,
) -> dict:
    """The certificate as one JSON-able dict; ``status``: reproduced, different, other config or no reference
    (``no_reference``: why there is none)."""
    problem = no_reference
    if config_diff:
        problem = f"the run is of another config: {len(config_diff)} outputs differ in their config hash or are missing"
    cells = {k: sum(getattr(t, k) for t in tables) for k in ("equal", "within", "different")}
    n_equal = sum(1 for lab in labels if lab["equal"])
    if no_reference is not None:
        status = "no reference"
    elif config_diff:
        status = "other config"
    elif n_equal < len(labels) or cells["different"] or any(t.problem for t in tables):
        status = "different"
    else:
        status = "reproduced"
    return {
        "status": status,
        "problem": problem,
        "verdicts": {"equal": n_equal, "total": len(labels), "labels": list(labels)},
        "cells": cells,
        "tables": [
            {
                **{k: v for k, v in asdict(t).items() if k != "differences"},
                "differences": [asdict(c) for c in t.differences],
            }
            for t in tables
        ],
        "config_differences": list(config_diff),
        "extra_tables": list(extra_tables),
        "reference_host": dict(reference_host or {}),
        "run_host": dict(run_host or {}),
    }


def exit_status(cert: Mapping) -> int:
    """0 reproduced; 1 a label or cell differs, or a table is missing; 2 another config or no reference."""
    return {"reproduced": 0, "different": 1}.get(cert["status"], 2)


def _host_line(host: Mapping) -> str:
    if not host:
        return "unknown"
    keys = ("cpu", "torch", "blas", "threads", "commit")
    return "; ".join(f"{k} {host[k]}" for k in keys if host.get(k) not in (None, ""))


def certificate_markdown(cert: Mapping, limit: int = LIST_LIMIT) -> str:
    """The one-screen certificate: status, verdicts k of 7, cell counts, every difference (``limit`` per table)."""
    v, c = cert["verdicts"], cert["cells"]
    lines = [
        "# Reproduction certificate (python -m hrta.verify)",
        "",
        f"**{cert['status']}**" + (f": {cert['problem']}" if cert["problem"] else ""),
        "",
        f"- Reference host: {_host_line(cert['reference_host'])}",
        f"- This run's host: {_host_line(cert['run_host'])}",
    ]
    if cert["status"] in ("other config", "no reference"):
        why = "the run and the reference are different experiments" if cert["config_differences"] else "no reference"
        lines += ["", f"No cell was compared: {why}."]
        lines += [f"- {d}" for d in cert["config_differences"][:limit]]
        if len(cert["config_differences"]) > limit:
            lines.append(f"- … and {len(cert['config_differences']) - limit} more (data/verify/VERIFY.json)")
        return "\n".join(lines) + "\n"
    lines += [
        f"- Verdicts equal: **{v['equal']} of {v['total']}**",
        f"- Cells: {c['equal']} equal, {c['within']} within tolerance, **{c['different']} different** "
        f"({len(cert['tables'])} tables)",
    ]
    for lab in v["labels"]:
        if not lab["equal"]:
            lines.append(f"- Claim {lab['claim']}: verdict **{lab['run']}**, reference **{lab['reference']}**")
    if cert["extra_tables"]:
        lines.append(f"- Tables of the run not in the reference (not compared): {', '.join(cert['extra_tables'])}")
    for t in cert["tables"]:
        if t["problem"]:
            lines.append(f"- {t['table']}: {t['problem']}")
    diffs = [d for t in cert["tables"] for d in t["differences"][:limit]]
    if diffs:
        lines += ["", "| table | row | key | column | reference | run | tolerance |", "|---|---:|---|---|---|---|---|"]
        lines += [
            f"| {d['table']} | {d['row']} | {d['key']} | {d['column']} | {d['reference']} | {d['run']} | {d['tolerance']} |"
            for d in diffs
        ]
    more = sum(max(0, len(t["differences"]) - limit) for t in cert["tables"])
    if more:
        lines.append(f"\n… and {more} more differences (data/verify/VERIFY.json).")
    return "\n".join(lines) + "\n"


def write_certificate(cert: Mapping, md_path: str | Path, json_path: str | Path) -> None:
    """The certificate as Markdown and as JSON (atomic writes)."""
    from hrta.io import write_text

    write_text(md_path, certificate_markdown(cert))
    write_text(json_path, json.dumps(cert, indent=1, sort_keys=True) + "\n")


# ---- one run against the reference --------------------------------------------------------------


def verify_run(
    run_dir: str | Path,
    reference_dir: str | Path = DEFAULT_REFERENCE,
    tolerances_path: str | Path = DEFAULT_TOLERANCES,
    *,
    run_host: Mapping | None = None,
) -> dict:
    """The certificate of ``run_dir`` against ``reference_dir`` under the tolerance file (checked before any
    comparison; a workflow copied without its reference, e.g. without docs/, gets a 'no reference' certificate)."""
    run_dir, reference_dir = Path(run_dir), Path(reference_dir)
    provenance = reference_dir / PROVENANCE_FILE
    if not provenance.is_file():
        return certificate(
            labels=[],
            tables=[],
            config_diff=[],
            run_host=run_host,
            no_reference=f"{provenance} does not exist (python -m hrta.verify --make-reference)",
        )
    tolerances, rules = load_tolerances(tolerances_path)
    ref_meta = json.loads(provenance.read_text(encoding="utf-8"))
    ref_tables = sorted(p.name for p in (reference_dir / TABLES_SUBDIR).glob("*.csv"))
    uncovered = [t for t in ref_tables if t not in rules]
    if uncovered:
        raise ToleranceError(
            f"{tolerances_path}: key tables has no entry for the reference table(s) {', '.join(uncovered)}"
        )
    diff = config_differences(ref_meta["config_hashes"], output_config_hashes(run_dir))
    if diff:
        return certificate(
            labels=[], tables=[], config_diff=diff, reference_host=ref_meta.get("host"), run_host=run_host
        )
    ref_labels = claim_verdicts((reference_dir / CLAIMS_MD.name).read_text(encoding="utf-8"))
    claims = run_dir / CLAIMS_MD
    labels = compare_labels(ref_labels, claim_verdicts(claims.read_text(encoding="utf-8")) if claims.is_file() else {})
    results = []
    for name in ref_tables:
        ran = run_dir / TABLES_DIR / name
        run_table = read_table(ran) if ran.is_file() else None
        results.append(
            compare_table(name, read_table(reference_dir / TABLES_SUBDIR / name), run_table, rules[name], tolerances)
        )
    extra = sorted(p.name for p in (run_dir / TABLES_DIR).glob("*.csv") if p.name not in ref_tables)
    return certificate(
        labels=labels,
        tables=results,
        config_diff=[],
        reference_host=ref_meta.get("host"),
        run_host=run_host,
        extra_tables=extra,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hrta.verify``: print the certificate, write it to RUN_DIR/figures/VERIFY.{md,json}, exit
    with :func:`exit_status`; or, with --make-reference, make the reference from RUN_DIR."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hrta.verify", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run (the directory snakemake ran in)")
    parser.add_argument("--reference", default=str(DEFAULT_REFERENCE), help="reference directory (%(default)s)")
    parser.add_argument("--tolerances", default=str(DEFAULT_TOLERANCES), help="tolerance file (%(default)s)")
    parser.add_argument("--make-reference", action="store_true", help="write the reference from RUN_DIR instead")
    parser.add_argument(
        "--out",
        default=None,
        help=f"directory of VERIFY.md and VERIFY.json (default: RUN_DIR/{CERTIFICATE_MD}, RUN_DIR/{CERTIFICATE_JSON})",
    )
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        parser.error(f"RUN_DIR {str(run_dir)!r} is not a directory")
    if args.make_reference:
        path = make_reference(run_dir, args.reference)
        print(f"reference written: {path.parent} ({path.name}, {CLAIMS_MD.name}, tables/)")
        return 0
    try:
        cert = verify_run(run_dir, args.reference, args.tolerances, run_host=host_info(run_dir))
    except ToleranceError as err:
        parser.error(str(err))
    if args.out:
        write_certificate(cert, Path(args.out) / CERTIFICATE_MD.name, Path(args.out) / CERTIFICATE_JSON.name)
    else:
        write_certificate(cert, run_dir / CERTIFICATE_MD, run_dir / CERTIFICATE_JSON)
    print(certificate_markdown(cert), end="")
    return exit_status(cert)
