"""Rule `figure_claims_matrix`: the verdict matrix of claims 4–7 × readings (figures/tables/claims_matrix.csv,
written by claims_report) as a seaborn heatmap. Colour = the cell's label (supported, not supported,
inconclusive, metric-dependent, not measured); each cell is annotated "robust" or "metric-dependent" and
the per-metric marks a/b/c (✓ supported, ✗ not supported, ? inconclusive)."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch, Rectangle

from hrta.claims import CELL_LABELS, MARK, METRICS, order_readings
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import FULL_WIDTH, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
import seaborn as sns  # noqa: E402 (after the logger: the import is slow)

COLOURS = {
    "supported": "#4daf4a",
    "not supported": "#e41a1c",
    "inconclusive": "#bdbdbd",
    "metric-dependent": "#ff9f1c",
    "not measured": "#ffffff",
}
table = pd.read_csv(smk.input[0], dtype={"claim": str})
readings = order_readings(list(dict.fromkeys(table["reading"])))
labels = {r: smk.params.readings[r]["label"] for r in readings}
claims = list(dict.fromkeys(table["claim"]))
code = {label: i for i, label in enumerate(CELL_LABELS)}
values = np.full((len(claims), len(readings)), code["not measured"], dtype=float)
notes = np.full(values.shape, "", dtype=object)
for _, row in table.iterrows():
    i, j = claims.index(row["claim"]), readings.index(row["reading"])
    values[i, j] = code[row["label"]]
    marks = " ".join(f"{m}{MARK.get(row[f'verdict_{m}'], '?')}" for m in METRICS)
    head = "robust" if bool(row["robust"]) else "metric-dependent"
    notes[i, j] = f"{row['label']}\n{head}\n{marks}" if row["label"] != "not measured" else "not measured"

fig, axes = subplots(1, 1, width=FULL_WIDTH, panel_height=0.55 * len(claims) + 0.6)
ax = axes[0, 0]
cmap = ListedColormap([COLOURS[label] for label in CELL_LABELS])
sns.heatmap(
    pd.DataFrame(values, index=[f"claim {c}" for c in claims], columns=[labels[r] for r in readings]),
    ax=ax,
    cmap=cmap,
    vmin=-0.5,
    vmax=len(CELL_LABELS) - 0.5,
    cbar=False,
    annot=notes,
    fmt="",
    annot_kws={"fontsize": 6},
    linewidths=1.0,
    linecolor="white",
)
for (i, j), v in np.ndenumerate(values):
    if CELL_LABELS[int(v)] == "metric-dependent":  # hatched: the verdict depends on the metric
        ax.add_patch(Rectangle((j, i), 1, 1, fill=False, hatch="///", lw=0, edgecolor="0.35"))
ax.set_xlabel("reading of HRTA")
ax.set_ylabel("")
ax.tick_params(axis="x", labelrotation=0)
ax.set_title("Claims 4–7 under every reading: a = stays speed-up, b = loss ratio at equal budget, c = first below")
fig.legend(
    handles=[Patch(facecolor=COLOURS[k], edgecolor="0.5", label=k) for k in CELL_LABELS],
    loc="outside lower center",
    ncols=len(CELL_LABELS),
)
save_figure(
    fig,
    {k: str(v) for k, v in smk.output.items()},
    {"readings": dict(smk.params.readings)},
    rule=smk.rule,
    inputs=list(smk.input),
    timings={"job": time.perf_counter() - start},
)
log.info("matrix figure: %d claims × %d readings", len(claims), len(readings))
