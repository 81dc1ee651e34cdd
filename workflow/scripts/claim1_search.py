"""Rule `claim1_search` (claim 1 as a search for counterexamples): λ_min(K_s/n) of the both-layer and first-layer
analytic kernels on many random draws of points on the unit sphere (hrta.claims.claim1_search), the summary per
(n, d, constant feature, layers) and a figure of λ_min(s)/s² and κ(s) for the worst and typical draws."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import time

import numpy as np

from hrta.claims import claim1_search as S
from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger, set_torch_threads
from hrta.pipeline.outputs import save_figure
from hrta.pipeline.provenance import write_metadata
from hrta.plots import palette, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
set_torch_threads(smk.threads)
start = time.perf_counter()
cfg = dict(smk.params.search)
grid = S.s_grid_search(cfg["fine_step"], cfg["coarse_step"], cfg["fine_width"])
curves = S.search_curves(
    cfg["ns"], cfg["ds"], cfg["draws"], cfg["constant_features"], cfg["layers"], grid, cfg["seed"], cfg["fine_width"]
)
summary = S.summarize_curves(curves)
verdict = S.verdict_universal(summary, int(curves.resolved.sum(axis=1).min()))
for out in (smk.output.csv, smk.output.png, smk.output.pdf):
    write_metadata(out, cfg, rule=smk.rule, timings={"job": time.perf_counter() - start})
write_csv(summary, smk.output.csv)

# Figure: per layer choice, λ_min(s)/s² of the worst draw (largest drop) of each violating family and the median
# draw of the largest family, and κ(s) = λ_max/λ_min of the same curves.
keys = curves.keys.reset_index(drop=True)
fig, axes = subplots(2, 2, width=7.0, panel_height=2.2, sharex=True)
for col, layers in enumerate(cfg["layers"][:2]):
    sel = keys[keys["layers"] == layers]
    worst = (
        sel.sort_values("max_relative_drop", ascending=False).drop_duplicates(["n", "d", "constant_feature"]).head(4)
    )
    typical = sel[(sel["n"] == max(cfg["ns"])) & (sel["d"] == min(cfg["ds"]))].head(2)
    shown = [("worst", r) for r in worst.itertuples()] + [("typical", r) for r in typical.itertuples()]
    colours = palette([f"{kind} {i}" for i, (kind, _) in enumerate(shown)])
    for i, (kind, r) in enumerate(shown):
        lam, lam_max, ok = curves.lam[r.Index], curves.lam_max[r.Index], curves.resolved[r.Index]
        label = f"{kind}: n={r.n}, d={r.d}{', +1' if r.constant_feature else ''}"
        c = colours[f"{kind} {i}"]
        ls = "-" if kind == "worst" else "--"
        axes[0, col].plot(grid[ok], lam[ok] / grid[ok] ** 2, ls, color=c, lw=1, label=label)
        axes[1, col].plot(grid[ok], lam_max[ok] / lam[ok], ls, color=c, lw=1)
    axes[0, col].set_yscale("log")
    axes[1, col].set_yscale("log")
    axes[0, col].set_title(f"{layers} layers", fontsize=8)
    axes[1, col].set_xlabel("s")
    axes[0, col].legend(fontsize=5)
axes[0, 0].set_ylabel("λ_min(K_s/n) / s²")
axes[1, 0].set_ylabel("κ(K_s/n)")
save_figure(fig, {"png": smk.output.png, "pdf": smk.output.pdf}, cfg, rule=smk.rule)
total = int(summary["draws"].sum())
log.info(
    "%d curves, %d with a resolved fall (%.1f %%); verdict: %s; %.1f s",
    total,
    int(summary["violations"].sum()),
    100 * summary["violations"].sum() / max(total, 1),
    verdict.verdict,
    time.perf_counter() - start,
)
assert np.isfinite(curves.lam).all()
