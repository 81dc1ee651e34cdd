"""Rule `claims_summary`: figures/CLAIMS.md on one page and the forest plot figures/claims_forest.

CLAIMS.md opens with one table, one row per claim: what the paper asserts, the primary endpoint, the reproduced
effect [95 % interval] of its cells, n, the setting, the verdict and where it holds. Claims 1–3 take their verdict
from figures/tables/claims.csv (rules stated in figures/tables/claims_parts.md); claims 4–7 from the pre-registered
endpoints (data/claims/endpoints.csv, hrta.claims.endpoints). Then every primary cell in one compact line, and the
secondary endpoints after Holm's correction."""

import textwrap
import time

import matplotlib.ticker
import numpy as np
import pandas as pd

from hrta.bases import base_label, base_names
from hrta.claims import endpoints as E
from hrta.io import write_text
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import save_figure
from hrta.plots import palette, subplots

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
cfg = dict(smk.params.endpoints)
cells = pd.read_csv(smk.input.endpoints, keep_default_na=False, na_values=[""], dtype={"claim": str})
claims = pd.read_csv(smk.input.claims, dtype={"id": str})
primary = cells[cells["endpoint"] == "primary"].copy()
secondary = cells[cells["endpoint"] == "secondary"].copy()


def claim6_subject(models) -> str:
    """ "tanh, GELU and a deeper network": E5's other bases (their labels, in the order of the hrta.bases
    registry) and deep models."""
    bases = {m.get("base", "relu") for m in models.values() if m.get("kind") == "two_layer"} - {"relu"}
    parts = [base_label(b) for b in base_names() if b in bases]
    parts += ["a deeper network"] if any(m.get("kind") == "deep" for m in models.values()) else []
    if not parts:
        return "other networks"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


#: the claims decided by the pre-registered endpoints (claims.endpoints); every other claim of claims.csv (1–3 and any
#: claim a new rule adds in claims_report.py) gets its row from its parts
ENDPOINT_CLAIMS = ("4", "5", "6", "7")
ASSERTS = {
    "4": "HRTA trains faster than ReLU",
    "5": "a relaxation stage (s > 1) helps",
    "6": f"the idea carries over to {claim6_subject(smk.params.e5_models)}",
    "7": "the speed-up survives each method at its own learning rate",
}


def fmt(x):
    return "–" if not np.isfinite(x) else f"{x:.3g}"


def short(text, limit):
    """``text`` cut at a word boundary to at most ``limit`` characters (with an ellipsis), pipes escaped."""
    text = str(text).replace("|", "/")
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + " …"


def wrap(line):
    """Markdown lines of at most ~200 characters (a paragraph or list item re-flows when rendered)."""
    if line.startswith("|") or len(line) <= 200:
        return line
    indent = "  " if line.startswith("- ") else ""
    return textwrap.fill(line, width=200, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def cell_name(r):
    return f"{r.treatment} vs {r.control} ({r.setting})"


def claim_verdict(rows):
    """Supported if every primary cell is; not supported if none is and none is inconclusive; else mixed."""
    counts = rows["verdict"].value_counts()
    if counts.get(E.SUPPORTED, 0) == len(rows):
        return E.SUPPORTED
    if counts.get(E.SUPPORTED, 0) == 0 and counts.get(E.INCONCLUSIVE, 0) == 0:
        return E.NOT_SUPPORTED
    return "mixed"


def where(rows, verdict):
    sel = rows[rows["verdict"] == verdict]
    return "; ".join(cell_name(r) for r in sel.itertuples()) or "nowhere"


lines = [
    "# Claims and computed verdicts",
    "",
    "Every verdict below is computed by the `claims_summary` rule from this run's data; none is typed by hand.",
    f"Claims 4–7: pre-registered one-factor endpoints (`claims.endpoints` in the config, {len(cfg['comparisons'])} "
    f"comparisons). Primary: {cfg['primary'].replace('_', ' ')} ratio control/treatment (> 1: the treatment is better); "
    f"Rule (δ = {cfg['delta']}, {float(cfg['level']):.0%} intervals, minimum detectable effect at power "
    f"{float(cfg['power']):.0%}): " + E.RULE_EFFECT,
    "A claim is **supported** when every primary cell is, **not supported** when none is and none is inconclusive, "
    "else **mixed** (the table says where it holds).",
    "",
    "| # | The paper asserts | Primary endpoint | Reproduced effect [95 % CI] | n | Setting | Verdict | Holds in |",
    "|---|---|---|---|---|---|---|---|",
]
table_rows = {}  # claim id -> its row; claims 4–7 from the endpoints, every other claim of claims.csv from its parts
for r in claims[~claims["id"].isin(ENDPOINT_CLAIMS)].itertuples():
    table_rows[r.id] = (
        f"| {r.id} | {short(r.claim, 140)} | {short(r.rule, 110)} | {short(str(r.measured), 170)} | – | "
        f"{short(str(r.evidence), 60)} | **{r.verdict}** | figures/tables/claims_parts.md |"
    )
for cid in ENDPOINT_CLAIMS:
    rows = primary[primary["claim"] == cid]
    if rows.empty:
        continue
    best = rows.loc[rows["estimate"].idxmax()]
    worst = rows.loc[rows["estimate"].idxmin()]
    span = f"{fmt(worst.estimate)}× [{fmt(worst.ci_low)}, {fmt(worst.ci_high)}] to {fmt(best.estimate)}× [{fmt(best.ci_low)}, {fmt(best.ci_high)}]"
    counts = rows["verdict"].value_counts()
    tally = ", ".join(
        f"{counts[v]} {v}" for v in E.LABELS if v in counts
    )
    ns = f"{rows['n'].min()}–{rows['n'].max()}" if rows["n"].min() != rows["n"].max() else f"{rows['n'].min()}"
    setting = ", ".join(sorted(set(rows["source"]))) + f"; {len(rows)} cells ({tally})"
    table_rows[cid] = (
        f"| {cid} | {ASSERTS[cid]} | {' or '.join(q.replace('_', ' ') for q in sorted(set(rows['quantity'])))} ratio, "
        f"δ = {cfg['delta']} | {span} | {ns} | "
        f"{setting} | **{claim_verdict(rows)}** | {len(rows[rows['verdict'] == E.SUPPORTED])} of {len(rows)} cells |"
    )
lines += [table_rows[cid] for cid in sorted(table_rows, key=lambda c: (len(c), c))]
lines += ["", "![forest plot of the primary cells](claims_forest.png)", ""]

# Claim 1: what the exact decomposition implies, and the search for counterexamples.
search = pd.read_csv(smk.input.claim1_search)
search["family"] = [f"n={r.n}, d={r.d}{' +1' if r.constant_feature else ''}" for r in search.itertuples()]
both = search.groupby("family", sort=False).agg(
    violations=("violations", "sum"),
    draws=("draws", "sum"),
    n=("n", "first"),
    d=("d", "first"),
    c=("constant_feature", "first"),
)
fails = both[both["violations"] > 0]
holds = both[both["violations"] == 0]
lines += [
    "## Claim 1: λ_min(K_s) grows with s — what the kernel's structure implies, and a search for counterexamples",
    "",
    "σ_s(z) = (1 − s/2)·z + (s/2)·|z|, and the cross terms vanish under w → −w, so K_s = (1 − s/2)²·K_0 + (s/2)²·K_2 "
    "exactly (K_0 the linear kernel, K_2 the |z| kernel; both-layer and first-layer; tested to rounding in "
    "tests/test_ntk_decomposition.py). Hence λ_min(K_s)/s² never increases and λ_min(K_s)/(2 − s)² never decreases: "
    "neither forces λ_min to grow. Where K_0 has full rank (n ≤ d, the constant feature counted), "
    "λ_min(K_s) ≈ (1 − s/2)²·λ_min(K_0) falls near s = 0; where rank K_0 < n, λ_min(K_0) = 0 and λ_min grows like s² "
    "near 0. Near s = 2, nearly opposite inputs (which |z| cannot tell apart) make K_2 nearly singular and λ_min can fall.",
    "",
    f"Search: {int(search['draws'].sum())} curves (λ_min of K_s/n for {len(search)} families × draws, s step "
    f"≤ 0.01 near both ends); {int(search['violations'].sum())} have a resolved fall. Families with a fall "
    f"(draws with a fall / draws, both layer choices): "
    + "; ".join(f"{name} {int(r.violations)}/{int(r.draws)}" for name, r in fails.iterrows())
    + ". No fall in: "
    + ("; ".join(holds.index) or "none")
    + ". Per family and layer choice: figures/tables/claim1_search.csv; curves: figures/claim1_search.png.",
    "",
]
for cid in ENDPOINT_CLAIMS:
    rows = primary[primary["claim"] == cid]
    if rows.empty:
        continue
    lines += [f"## Claim {cid}: {ASSERTS[cid]}", ""]
    for r in rows.itertuples():
        extra = f"; decided at n ≈ {fmt(r.n_decide)}" if r.verdict == E.INCONCLUSIVE else ""
        extra += f"; K_∞ theory {fmt(r.predicted)}×" if np.isfinite(r.predicted) else ""
        extra += f"; {r.n_outside_ntk} runs with lr·λ_max ≥ 2 (outside the NTK regime)" if r.n_outside_ntk else ""
        div = (
            f"; diverged: treatment {r.n_diverged_treatment}, control {r.n_diverged_control}"
            if (r.n_diverged_treatment or r.n_diverged_control)
            else ""
        )
        lines.append(
            f"- {cell_name(r)}: **{r.verdict}**, {fmt(r.estimate)}× [{fmt(r.ci_low)}, {fmt(r.ci_high)}], n = {r.n}{extra}{div}"
        )
    lines.append("")
if hasattr(smk.input, "decomposition"):
    decomposition = pd.read_csv(smk.input.decomposition, comment="#")
    parts = []
    for r in decomposition.itertuples():
        parts.append(
            f"In the λ_min regime, at one rate (lr = {r.lr_fixed:g}, E8, m = {r.width}) s = {r.s:g} decays {fmt(r.fixed)}× "
            f"[{fmt(r.fixed_lo)}, {fmt(r.fixed_hi)}] (n = {r.fixed_n}) as fast as s = {r.reference_s:g} asymptotically "
            f"(linearized prediction {fmt(r.predicted_fixed)}×, ≈ the λ_min ratio). With each s at its own kernel-scaled "
            f"rate {r.kernel_fraction:g}/λ_max(K_s/n) (e6_regime) the ratio is {fmt(r.conditioning)}× "
            f"[{fmt(r.conditioning_lo)}, {fmt(r.conditioning_hi)}] (n = {r.conditioning_n}; predicted κ(1)/κ(s) "
            f"≈ {fmt(r.predicted_conditioning)}×): the conditioning part. The rest, {fmt(r.step)}× "
            f"[{fmt(r.step_lo)}, {fmt(r.step_hi)}] (predicted ≈ λ_max ratio {fmt(r.predicted_step)}×), is the larger "
            "step a larger kernel takes at a fixed rate"
        )
    lines += [
        "## Where λ_min governs training: step size and conditioning",
        "",
        "; ".join(parts) + ". Rates per s and width: figures/tables/regime_rates.csv, "
        "figures/tables/regime_decomposition.csv, figures/regime_rates.png.",
        "",
    ]
sec_sup = secondary[secondary["holm_reject"].astype(str) == "True"]
lines += [
    "## Secondary endpoints (time to target, Holm-corrected)",
    "",
    f"{len(sec_sup)} of {len(secondary)} cells have a time-to-target ratio above 1 after Holm's correction "
    f"(one-sided, family-wise {1 - float(cfg['level']):.0%}): "
    + ("; ".join(f"{cell_name(r)} {fmt(r.estimate)}×" for r in sec_sup.itertuples()) or "none")
    + ". Restricted at the budget; censored runs make a ratio a bound (columns censored_* in tables/claims_endpoints.csv).",
    "",
    "Every cell (both endpoints, bootstrap intervals, p-values) is in `figures/tables/claims_endpoints.csv`; every part of the",
    "earlier metric-by-metric analysis in `figures/tables/claims_parts.csv` and `figures/tables/claims_parts.md`.",
    "",
]
text = "\n".join(wrap(line) for line in lines)
write_text(smk.output.md, text)

# Forest plot: every primary cell, grouped by claim, coloured by optimizer.
primary["label"] = [f"{cid}: {cell_name(r)}" for cid, r in zip(primary["claim"], primary.itertuples())]
colours = palette(sorted(set(primary["optimizer"])))
fig, axes = subplots(1, 1, width=7.0, panel_height=max(2.0, 0.16 * len(primary) + 0.6))
ax = axes[0, 0]
y = np.arange(len(primary))[::-1]
for yi, r in zip(y, primary.itertuples()):
    lo, hi = r.ci_low, r.ci_high
    ok = np.isfinite(lo) and np.isfinite(hi)
    ax.errorbar(
        r.estimate,
        yi,
        xerr=[[r.estimate - lo], [hi - r.estimate]] if ok else None,
        fmt="o" if r.verdict == E.SUPPORTED else "s" if r.verdict == E.NOT_SUPPORTED else "D",
        color=colours[r.optimizer],
        ms=3,
        lw=1,
    )
theory = primary["predicted"].to_numpy(float)
ax.plot(theory, y, "x", color="0.2", ms=3, label="K_∞ linearization (GD)")
ax.axvline(1.0, color="0.3", lw=0.8)
ax.axvline(float(cfg["delta"]), color="0.6", lw=0.8, ls="--")
ax.set_xscale("log")
ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
ax.set_yticks(y)
ax.set_yticklabels(primary["label"], fontsize=5)
ax.set_xlabel("primary ratio control / treatment (> 1: treatment better), 95 % CI; dashed: δ")
for name, col in colours.items():
    ax.plot([], [], "o", color=col, label=name)
ax.legend(fontsize=6, loc="lower right")
save_figure(fig, {"png": smk.output.png, "pdf": smk.output.pdf}, cfg, rule=smk.rule, inputs=list(smk.input))
log.info("CLAIMS.md: %d bytes, %d primary cells", len(text.encode()), len(primary))
