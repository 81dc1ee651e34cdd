"""Figure and table helpers for the pipeline: one style (seaborn's paper theme), atomic saving, table rendering.

Figures are sized for a paper column (``COLUMN_WIDTH`` inches wide, fonts ≥ 7 pt) and saved as
PNG and PDF with a provenance record (:func:`hrta.io.write_metadata`). Tables are written as CSV
(numbers, for machines), Markdown and LaTeX (``mean ± std`` strings, for people).

Imports are lazy where they are expensive: table jobs import this module without matplotlib, and figure jobs
draw without seaborn: the style is seaborn's theme written out (:data:`PAPER_THEME`; seaborn's import pulls in
scipy.stats and statsmodels, ≈ 2.5 CPU-s per figure job), and nothing here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "COLORBLIND",
    "COLOUR_CODES",
    "COLUMN_WIDTH",
    "FULL_WIDTH",
    "error_vs_width",
    "errorbar_over_seeds",
    "format_number",
    "freeze_layout",
    "geometric_band",
    "latex_table",
    "mark_switches",
    "markdown_table",
    "mean_std",
    "PAPER_THEME",
    "PROJECT_STYLE",
    "palette",
    "set_style",
    "subplots",
]

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
FULL_WIDTH = 7.0  # inches: both columns

# Fixed metadata keep PNG/PDF bytes independent of the matplotlib build date and the clock.
_PNG_METADATA = {"Software": None}
_PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}


def _pyplot():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")  # headless: figures are only written to files
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


#: seaborn 0.13's "colorblind" palette (``seaborn.color_palette("colorblind")``, as hex).
COLORBLIND = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)

#: The rcParams that ``seaborn.set_theme(context="paper", style="ticks", palette="colorblind", font_scale=0.9)``
#: sets (its axes_style, plotting_context and colour cycle), but seaborn's default colormap ('rocket', which
#: only seaborn registers; no figure here draws with the default colormap). tests/test_plots.py checks this
#: against seaborn itself.
PAPER_THEME: dict[str, Any] = {
    # axes_style("ticks") and set_theme's font
    "figure.facecolor": "white",
    "axes.labelcolor": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "axes.axisbelow": True,
    "grid.linestyle": "-",
    "text.color": ".15",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "xtick.top": False,
    "ytick.right": False,
    "axes.grid": False,
    "axes.facecolor": "white",
    "axes.edgecolor": ".15",
    "grid.color": ".8",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "xtick.bottom": True,
    "ytick.left": True,
    # plotting_context("paper", font_scale=0.9): the paper context's sizes, fonts × 0.9
    "axes.linewidth": 1.0,
    "grid.linewidth": 0.8,
    "lines.linewidth": 1.2000000000000002,
    "lines.markersize": 4.800000000000001,
    "patch.linewidth": 0.8,
    "xtick.major.width": 1.0,
    "ytick.major.width": 1.0,
    "xtick.minor.width": 0.8,
    "ytick.minor.width": 0.8,
    "xtick.major.size": 4.800000000000001,
    "ytick.major.size": 4.800000000000001,
    "xtick.minor.size": 3.2,
    "ytick.minor.size": 3.2,
    "font.size": 8.640000000000002,
    "axes.labelsize": 8.640000000000002,
    "axes.titlesize": 8.640000000000002,
    "xtick.labelsize": 7.920000000000001,
    "ytick.labelsize": 7.920000000000001,
    "legend.fontsize": 7.920000000000001,
    "legend.title_fontsize": 8.640000000000002,
}

#: matplotlib's one-letter colours as seaborn's set_theme redefines them ("k" is 10 % grey): b, g, r, m, y, c from
#: seaborn's "colorblind6" palette (COLORBLIND's colours 0, 2, 3, 4, 8, 9), then k.
COLOUR_CODES: dict[str, Any] = {
    **dict(zip("bgrmyc", (COLORBLIND[i] for i in (0, 2, 3, 4, 8, 9)))),
    "k": (0.1, 0.1, 0.1),
}


#: The project's own settings on top of :data:`PAPER_THEME`: fonts ≥ 7 pt at a paper column's width, grids,
#: resolution, tight bounding boxes, editable PDF text.
PROJECT_STYLE: dict[str, Any] = {
    "figure.dpi": 150,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "legend.fontsize": 7,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.2,
    "pdf.fonttype": 42,  # embed TrueType so the PDF text stays editable/searchable
}


def set_style() -> None:
    """The one style of every figure: seaborn's 'ticks' style, colorblind palette and paper-sized fonts
    (:data:`PAPER_THEME`, :data:`COLOUR_CODES`), then the project's own sizes and savefig settings."""
    import matplotlib.colors  # noqa: PLC0415

    plt = _pyplot()
    plt.rcParams.update(PAPER_THEME)
    plt.rcParams["axes.prop_cycle"] = plt.cycler(color=[matplotlib.colors.to_rgb(c) for c in COLORBLIND])
    for code, colour in COLOUR_CODES.items():
        matplotlib.colors.colorConverter.colors[code] = matplotlib.colors.to_rgb(colour)
    plt.rcParams.update(PROJECT_STYLE)


def palette(names: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per name (same order → same colours in every figure): the colorblind palette's colours as
    RGB tuples in order, repeated after the tenth (as ``seaborn.color_palette("colorblind", n)``)."""
    import matplotlib.colors  # noqa: PLC0415

    return {name: matplotlib.colors.to_rgb(COLORBLIND[i % len(COLORBLIND)]) for i, name in enumerate(names)}


def freeze_layout(fig):
    """Lay ``fig`` out once at the saving resolution (rcParams savefig.dpi) and keep that layout: returns the
    figure's tight bounding box in inches, padded by savefig.pad_inches, for ``savefig(bbox_inches=...)``.

    Why: with a layout engine (:func:`subplots` uses constrained layout) and savefig.bbox = "tight", each
    ``savefig`` draws the figure twice (to lay it out and measure it, then to render it) and lays it out at every
    draw: four draws and layouts for a PNG and a PDF. With the layout fixed and the box given, each format is one
    draw (E2's figure job: 5.5-6.7 -> 4.1-4.6 CPU-s, AMD EPYC). The PNG is byte-identical to what ``savefig`` lays
    out and measures itself at savefig.dpi; the PDF is now laid out at that resolution too (``savefig`` laid it out
    at the PDF's 72 dpi: text metrics, hence positions, differed from the PNG's by fractions of a point)."""
    import matplotlib  # noqa: PLC0415

    fig.set_dpi(matplotlib.rcParams["savefig.dpi"])
    fig.draw_without_rendering()
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    fig.set_layout_engine(None)
    return box


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = COLUMN_WIDTH, panel_height: float = 2.0, **kw):
    """plt.subplots sized for the paper: ``width`` inches wide, ``panel_height`` inches per row."""
    set_style()
    kw.setdefault("squeeze", False)
    kw.setdefault("constrained_layout", True)
    return _pyplot().subplots(nrows, ncols, figsize=(width, panel_height * nrows), **kw)


def mark_switches(ax, steps: Sequence[int], *, color=None, label: str | None = None) -> None:
    """Dotted vertical lines at the steps where the schedule switches s."""
    for i, step in enumerate(steps):
        ax.axvline(step, color=color or "0.4", linestyle=":", linewidth=0.9, label=label if i == 0 else None)


def geometric_band(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometric mean and the band exp(mean(log v) ± std(log v)) over ``axis`` (losses are positive
    and spread over decades, so the band is taken in log space; it never crosses zero)."""
    logs = np.log(np.asarray(values, dtype=float))
    mean = logs.mean(axis=axis)
    std = logs.std(axis=axis, ddof=1) if logs.shape[axis] > 1 else np.zeros_like(mean)
    return np.exp(mean), np.exp(mean - std), np.exp(mean + std)


def errorbar_over_seeds(ax, table: pd.DataFrame, colour, label: str) -> None:
    """One line of a width plot: ``table`` (index x, one column per seed) as its geometric mean over seeds
    with the geometric_band as error bars."""
    mean, lo, hi = geometric_band(table.to_numpy().T)
    ax.errorbar(
        table.index, mean, yerr=[mean - lo, hi - mean], marker="o", ms=3, capsize=1.5, color=colour, label=label
    )


def error_vs_width(ax, data: pd.DataFrame, value: str, colours: dict) -> None:
    """Kernel-error panel (E2 and the deep networks): for each s in ``colours``, the geometric mean over
    seeds of ``data[value]`` vs ``data.width`` with the band of geometric_band, and a dashed m^(-1/2) line
    through the mean at the narrowest width (the central-limit rate). ``data``: columns width, seed, s, value."""
    for s, colour in colours.items():
        table = data[data.s == s].pivot(index="width", columns="seed", values=value).sort_index()
        if table.empty:
            continue
        errorbar_over_seeds(ax, table, colour, f"s = {s:g}")
    if len(data):
        widths = np.array(sorted(data.width.unique()), float)
        ref = np.exp(np.log(data[data.width == widths[0]][value]).mean()) * np.sqrt(widths[0] / widths)
        ax.plot(widths, ref, "k--", lw=0.8, label=r"$\propto m^{-1/2}$")


# ---------------------------------------------------------------------------------------------
# Tables.


def format_number(x: float, digits: int = 3) -> str:
    """``digits`` significant digits; '—' for NaN (e.g. a tolerance never reached)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def mean_std(mean: float, std: float, digits: int = 3) -> str:
    """'mean ± std' (just 'mean' when std is NaN, e.g. a single seed)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return format_number(mean, digits)
    return f"{format_number(mean, digits)} ± {format_number(std, digits)}"


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of the (already formatted) DataFrame."""

    def cell(value) -> str:
        return str(value).replace("|", "\\|")  # a bare '|' would end the cell

    cols = [cell(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


# Plain-ASCII LaTeX for the characters the tables use, so the .tex compiles with pdflatex too.
_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "±": r"$\pm$",
    "→": r"$\to$",
    "≤": r"$\le$",
    "−": r"$-$",
    "·": r"$\cdot$",
    "²": r"$^2$",
    "λ": r"$\lambda$",
    "κ": r"$\kappa$",
    "ρ": r"$\rho$",
    "Σ": r"$\Sigma$",
    "Δ": r"$\Delta$",
    "∞": r"$\infty$",
    "‖": r"$\|$",
    "|": r"$|$",
    "—": "--",
}


def _tex(text: Any) -> str:
    # One pass, character by character, so escapes are never escaped again.
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(text))


def latex_table(df: pd.DataFrame, caption: str, label: str) -> str:
    """A booktabs LaTeX table of the (already formatted) DataFrame."""
    cols = "l" * len(df.columns)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{_tex(caption)}}}",
        rf"\label{{{label}}}",
        rf"\begin{{tabular}}{{{cols}}}",
        r"\toprule",
        " & ".join(_tex(c) for c in df.columns) + r" \\",
        r"\midrule",
    ]
    for row in df.itertuples(index=False):
        lines.append(" & ".join(_tex(v) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
