"""Figure and table files of the pipeline, each written atomically with its provenance record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hrta.io import atomic_path, write_csv, write_text
from hrta.plots import _PDF_METADATA, _PNG_METADATA, _pyplot, freeze_layout, latex_table, markdown_table

from .provenance import write_metadata

__all__ = ["output_paths", "save_figure", "write_table"]


def save_figure(
    fig,
    paths: Mapping[str, str] | Sequence[str],
    config_slice: Mapping[str, Any],
    *,
    rule: str | None = None,
    inputs: Sequence[str] = (),
    timings: Mapping[str, float] | None = None,
) -> None:
    """Save ``fig`` to each path (format from the suffix) atomically, each with a provenance record; close it.
    Every format gets the same layout and bounding box (hrta.plots.freeze_layout: laid out once, drawn once each)."""
    targets = list(paths.values()) if isinstance(paths, Mapping) else list(paths)
    box = freeze_layout(fig)
    for path in targets:
        suffix = Path(path).suffix.lstrip(".")
        metadata = _PDF_METADATA if suffix == "pdf" else _PNG_METADATA if suffix == "png" else None
        write_metadata(path, config_slice, rule=rule, inputs=inputs, timings=timings)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix, metadata=metadata, bbox_inches=box)
    _pyplot().close(fig)


def write_table(
    numbers: pd.DataFrame,
    pretty: pd.DataFrame,
    paths: Mapping[str, str],
    config_slice: Mapping[str, Any],
    *,
    caption: str,
    rule: str | None = None,
    inputs: Sequence[str] = (),
) -> None:
    """Write one table: ``numbers`` to paths['csv']; ``pretty`` (formatted strings) to paths['md']
    (with the caption as a heading line) and paths['tex']; each with a provenance record."""
    label = "tab:" + Path(paths["csv"]).stem
    for path in paths.values():
        write_metadata(path, config_slice, rule=rule, inputs=inputs, extra={"caption": caption})
    write_csv(numbers, paths["csv"])
    write_text(paths["md"], f"**{caption}**\n\n" + markdown_table(pretty))
    write_text(paths["tex"], latex_table(pretty, caption, label))


def output_paths(output, prefix: str) -> dict[str, str]:
    """{'csv': ..., 'md': ..., 'tex': ...} from Snakemake outputs named ``{prefix}_csv`` etc."""
    return {ext: str(output[f"{prefix}_{ext}"]) for ext in ("csv", "md", "tex")}
