"""Report rendering: claims with their parts → the claims table (CSV) and CLAIMS.md."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from hrta.claims.rules import Verdict

__all__ = ["CLAIM_COLUMNS", "Claim", "claims_table", "render_claims_markdown"]


@dataclass(frozen=True)
class Claim:
    """One row of the claims report: what is claimed, where the evidence is, and the computed verdict."""

    id: str
    sentence: str
    evidence: str
    verdict: Verdict
    parts: dict[str, Verdict] = field(default_factory=dict)
    robustness: str = ""  # claims 4–7: "robust" or "metric-dependent" (the deciding reading's cell)
    details: dict[str, list[str]] = field(default_factory=dict)  # titled lists (e.g. claim 6 per model)
    summary: str = ""  # shown as the measured line above the parts (claims 4–7: the deciding reading's cell)

    @property
    def measured(self) -> str:
        return self.verdict.numbers


CLAIM_COLUMNS = ["id", "claim", "evidence", "verdict", "robustness", "measured", "rule", "details"]


def claims_table(claims: Iterable[Claim]) -> pd.DataFrame:
    """One row per claim with columns CLAIM_COLUMNS."""
    rows = [
        {
            "id": c.id,
            "claim": c.sentence,
            "evidence": c.evidence,
            "verdict": c.verdict.label,
            "robustness": c.robustness,
            "measured": c.measured,
            "rule": c.verdict.rule,
            "details": " | ".join(f"{title}: {'; '.join(items)}" for title, items in c.details.items()),
        }
        for c in claims
    ]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_claims_markdown(
    claims: Sequence[Claim], title: str = "Claims and computed verdicts", preamble: str = "", opening: str = ""
) -> str:
    """CLAIMS.md: ``opening`` (the verdict matrix and its summary lines), the preamble, a summary table
    (claim, evidence, verdict) then, per claim, the rule, the numbers, its titled details and each part's verdict."""
    lines = [f"# {title}", ""]
    if opening:
        lines += [opening.strip(), ""]
    if preamble:
        lines += [preamble.strip(), ""]
    lines += ["| # | Claim | Evidence | Verdict |", "|---|---|---|---|"]
    for c in claims:
        robust = f" ({c.robustness})" if c.robustness else ""
        lines.append(f"| {c.id} | {_md_cell(c.sentence)} | {_md_cell(c.evidence)} | **{c.verdict.label}**{robust} |")
    lines.append("")
    for c in claims:
        lines += [
            f"## Claim {c.id}: {c.sentence}",
            "",
            f"- **Verdict:** {c.verdict.label}",
            f"- **Evidence:** {c.evidence}",
            f"- **Rule:** {c.verdict.rule}",
        ]
        if c.summary or not c.parts:  # with parts and no summary, the parts below are the numbers
            lines.append(f"- **Measured:** {c.summary or c.measured}")
        for title, items in c.details.items():
            lines.append(f"- **{title}:**")
            lines += [f"  - {item}" for item in items]
        if c.parts:
            lines.append("- **Parts:**")
            for name, v in c.parts.items():
                lines.append(f"  - {name}: **{v.label}** — {v.numbers}")
        lines.append("")
    return "\n".join(lines)
