"""Rule `claims_report`: one computed verdict per claim → figures/CLAIMS.md and figures/tables/claims.csv.

Nothing here is typed by hand but the claim sentences: every verdict is a rule of hrta.claims applied
to this run's data (E2 spectra and kernel errors, E4 rates, the speed-ups of E3 and E5–E7).
"""

import time

import numpy as np
import pandas as pd

from hrta import claims as C
from hrta.io import job_logger, write_csv, write_metadata, write_text

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
cfg = smk.params.claims
speedups = pd.read_csv(smk.input.speedups)


def value(x):
    """1000.0 → '1000' (group columns turn float when other experiments leave them empty)."""
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def speedup_parts(exp, name_cols, methods=None):
    """Verdicts of the speed-up rows of one experiment, named by ``name_cols``, with the tolerance."""
    rows = speedups[speedups["experiment"] == exp]
    if methods is not None:
        rows = rows[rows["method"].isin(methods)]
    parts = {}
    for _, row in rows.iterrows():
        name = ", ".join(f"{c}={value(row[c])}" for c in name_cols)
        parts[name] = C.Verdict(
            row["verdict"],
            row["rule"],
            f"{row['numbers']}; tolerance {row['tolerance']:.3g}; "
            f"diagnostic, counting the first logged step ≤ tol under any s: "
            f"{row['speedup_first_below']:.3g}×",
        )
    return parts


def claim(cid, sentence, evidence, parts, rule_note=""):
    verdict = C.combine_verdicts(parts)
    if rule_note:
        verdict = C.Verdict(verdict.label, f"{verdict.rule}; {rule_note}", verdict.numbers)
    log.info("claim %s: %s", cid, verdict.label)
    return C.Claim(cid, sentence, evidence, verdict, parts)


tol_note = C.RULE_TOLERANCE.format(fraction=cfg["tolerance_fraction"])
claims = []

# 1 — λ_min of the analytic kernel vs s on (0, 2): one part per data set × layer choice.
def claim1_parts():
    """{part name: Verdict} of claim 1 on every data set the run trains on (data/e2/lambda_min/*.csv,
    rule e2_lambda_min); more kinds of parts (e.g. deeper networks) are added to this dict."""
    data = pd.concat([pd.read_csv(p) for p in smk.input.e2_lambda_min], ignore_index=True)
    inside = data[(data["s"] > 0) & (data["s"] < 2)]
    parts = {}
    for (name, layers), g in inside.groupby(["dataset", "layers"], sort=False):
        first = g.iloc[0]
        label = f"data={name} ({first['target']}, n={int(first['n_train'])}, d={int(first['d'])}), layers={layers}"
        parts[label] = C.verdict_lambda_min_increasing(g["s"], g["lambda_min"], g["lambda_min_resolved"])
    if hasattr(smk.input, "deep_spectrum"):  # claim 1 at depth (issue 12): one part per depth L, every data set
        deep = pd.read_csv(smk.input.deep_spectrum)
        for depth, gd in deep[(deep["s"] > 0) & (deep["s"] < 2)].groupby("depth"):
            per = {
                name: C.verdict_lambda_min_increasing(g["s"], g["lambda_min"], g["lambda_min_resolved"])
                for name, g in gd.groupby("dataset", sort=False)
            }
            both = C.combine_verdicts(per)
            parts[f"depth L={depth}"] = C.Verdict(both.label, C.RULE_LAMBDA_MIN, both.numbers)
    return parts


claims.append(
    claim(
        "1",
        "λ_min of the infinite-width NTK of σ_s (of K_s/n) grows with s on (0, 2), for the "
        "both-layer and the first-layer kernel, on every data set the run trains on and on n points "
        "uniform on the unit sphere in R³; parts 'depth L': the same for the NTK of a σ_s network with L "
        "hidden layers (hrta.ntk_deep), on every data set.",
        "figures/e2_spectrum.png; figures/tables/e2_lambda_min.csv; figures/tables/e2_spectrum.csv; "
        "figures/deep_spectrum.png; figures/tables/deep_spectrum.csv",
        claim1_parts(),
    )
)

# 2 — empirical kernel → analytic kernel as the width grows, per (layers, s): slope of the error below 0.
empirical = pd.concat([pd.read_csv(p) for p in smk.input.e2_empirical], ignore_index=True)
parts = {
    f"layers={layers}, s={s:g}": C.verdict_slope_below_zero(g["width"], g["rel_error"], reference=-0.5)
    for (layers, s), g in empirical.groupby(["layers", "s"], sort=False)
}
claims.append(
    claim(
        "2",
        "The empirical NTK approaches the infinite-width kernel as the width grows "
        "(‖K_emp − K_∞‖_F/‖K_∞‖_F decreases with m).",
        "figures/e2_kernel_error.png; figures/e2_eigen_error.png; figures/tables/e2_spectrum.csv",
        parts,
        f"widths {sorted(int(w) for w in empirical['width'].unique())}, "
        f"{empirical['seed'].nunique()} seeds; −0.5 is the central-limit rate m^(-1/2)",
    )
)


# 3 — GD follows the (K_∞) linearization at θ₀, the longer the wider: per method, the mismatch at each
# horizon falls with width, and the lazy horizon t_ε grows with m. Diverged runs are counted and named.
def claim3_parts():
    ratios = pd.read_csv(smk.input.e4_horizons)
    lazy = pd.read_csv(smk.input.e4_lazy)
    e4 = smk.params.e4_claim3
    ratios = ratios[ratios["kernel"] == "analytic"]
    lazy = lazy[lazy["kernel"] == "analytic"]
    parts = {}
    for method, lz in lazy.groupby("method", sort=False):
        bad = lz[lz["status"] != "ok"]
        named = [
            f"{method} m={int(r.width)} seed={int(r.seed)} (last step {int(r.last_step)})" for r in bad.itertuples()
        ]
        rm = ratios[ratios["method"] == method]
        for t, g in rm.groupby("horizon"):
            reached = g[np.isfinite(g["mismatch"])]
            missed = g[~np.isfinite(g["mismatch"])]
            div = [f"{method} m={int(r.width)} seed={int(r.seed)}" for r in missed.itertuples()]
            parts[f"method={method}, t={int(t)}"] = C.verdict_mismatch_falls(
                reached["width"], reached["mismatch"], diverged=div
            )
        parts[f"method={method}, lazy horizon"] = C.verdict_lazy_horizon_grows(
            lz["width"], lz["t_eps"], lz["censored"], floor=e4["log_every"], diverged=named
        )
    return parts


claims.append(
    claim(
        "3",
        "Full-batch GD follows the NTK (lazy, linearized) prediction, and the match is better at larger "
        "widths: the mismatch at each fixed step falls with m and the lazy horizon t_ε grows with m.",
        "figures/e4_horizons.png; figures/e4_lazy_horizon.png; figures/e4_curves.png; figures/tables/e4_horizons.csv",
        claim3_parts(),
        f"prediction = GD on the network linearized at θ₀ with K_∞ (through s switches via the cross-s "
        f"kernel); horizons {list(smk.params.e4_claim3['horizons'])}; ε = {smk.params.e4_claim3['lazy_epsilon']:g}",
    )
)

# 4 — HRTA vs the ReLU baseline (E3), each HRTA schedule × optimizer × width.
claims.append(
    claim(
        "4",
        "HRTA (0.5→1 and 1.5→1) reaches a loss tolerance in fewer steps than the ReLU baseline, "
        "under GD and under Adam, at each width.",
        "figures/e3_loss.png; figures/claims_speedups.png; figures/tables/claims_speedups.csv",
        speedup_parts("e3", ["optimizer", "width", "method"], cfg["hrta_methods"]),
        tol_note,
    )
)

# 5 — a relaxation stage (s > 1) vs staying at s = 1 (E3).
claims.append(
    claim(
        "5",
        "A relaxation stage (s > 1) speeds up training compared with staying at s = 1.",
        "figures/e3_loss.png; figures/claims_speedups.png",
        speedup_parts("e3", ["optimizer", "width", "method"], cfg["relaxation_methods"]),
        tol_note,
    )
)

# 6 — extensions (E5): other bases and a three-layer network.
claims.append(
    claim(
        "6",
        "The speed-up carries over to other activations (homotopy between the identity and tanh, "
        "GELU) and to a three-layer network.",
        "figures/claims_e5_extensions.png; figures/claims_speedups.png",
        speedup_parts("e5", ["cell", "optimizer", "method"]),
        tol_note,
    )
)

# 7 — fairness (E6): each method at its own best learning rate, and at the kernel-scaled rate.
steps = pd.read_csv(smk.input.steps)
best = steps[(steps["experiment"] == "e6") & (steps["lr_choice"] == "best")]
factors = [float(f) for f in smk.params.e6["lr_factors"]]
at_edge = (
    best["lr_factor"].astype(float).isin([min(factors), max(factors)])
    if len(factors) > 1
    else best["lr_factor"] == best["lr_factor"]
)
edge_note = (
    f"best learning rate at an end of the grid (factors {factors}) for {int(at_edge.sum())} of {len(best)} "
    "method × optimizer × seed runs — where it is, the optimum may lie outside the grid"
)
claims.append(
    claim(
        "7",
        "The speed-up survives when each method gets its own best learning rate from a grid, and "
        "when the GD rate is scaled to 1/λ_max(K_s/n).",
        "figures/claims_e6_lr_grid.png; figures/claims_speedups.png",
        speedup_parts("e6", ["optimizer", "lr_choice", "method"]),
        f"{tol_note}; {edge_note}",
    )
)

# E7 has no verdict of its own: it shows where the speed-up grows or vanishes.
e7 = speedups[speedups["experiment"] == "e7"]
e7_lines = [
    "## Sensitivity (E7, no verdict): speed-up by data set",
    "",
    "| cell | optimizer | method | speed-up [95% CI] | verdict |",
    "|---|---|---|---|---|",
]
for _, r in e7.iterrows():
    e7_lines.append(
        f"| {r['cell']} | {r['optimizer']} | {r['method']} | {r['speedup']:.3g} "
        f"[{r['ci_low']:.3g}, {r['ci_high']:.3g}] | {r['verdict']} |"
    )

preamble = (
    "Generated by the `claims_report` rule from this run's data; no verdict is typed by hand. "
    "Speed-up = baseline steps / method steps until the training loss stays at or below a tolerance "
    '("stays": the loss jumps when s switches, and only the final network counts), paired by seed; '
    f"{tol_note}. A diverged run counts as never reaching the tolerance. "
    "Intervals are 95% Student-t intervals (on log speed-ups, or on log-log slopes). "
    "Each claim holds only if every part holds (see the rule under each claim)."
)
text = C.render_claims_markdown(claims, preamble=preamble) + "\n" + "\n".join(e7_lines) + "\n"
for out in smk.output:
    write_metadata(out, dict(cfg), rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start})
write_text(smk.output.md, text)
write_csv(C.claims_table(claims), smk.output.csv)
log.info("claims: %s", ", ".join(f"{c.id}={c.verdict.label}" for c in claims))
