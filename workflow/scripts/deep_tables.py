"""Rule `tables_deep`: the three deep-network tables.

deep_spectrum: per data set and depth L, λ_min(K_s/n) of the infinite-width depth-L NTK at s = 0.5, 1,
1.5, 2 (the nearest grid points), κ at s = 1, and claim 1's rule on s ∈ (0, 2)
(hrta.claims.verdict_lambda_min_increasing, as in CLAIMS.md) with every interval of s over which λ_min
fails to increase (hrta.claims.decreasing_intervals).

deep_kernel_error: mean ± std over seeds of ‖K_emp − K_∞‖_F/‖K_∞‖_F per network and s, whether the mean
is within deep.kernel_tolerance, and which runs train that network (deep.train, e5 models).

deep_gd: per method and stage of the deep GD runs (mean ± std over seeds): lr·λ_max(K_∞/n), loss at the
stage start and end, the end loss predicted by the linearization with K_∞ and with K_emp at the stage
start, and the largest |log(measured/predicted)| over the stage.
"""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import numpy as np
import pandas as pd

from hrta import claims as C
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.outputs import output_paths, write_table
from hrta.plots import format_number, mean_std

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
p = smk.params


def nearest(g, s):
    return g.iloc[int(np.argmin(np.abs(g.s.to_numpy() - s)))]


def without_empty_std(df):
    """Drop the *_std columns when they are all NaN (a single seed: no spread to report)."""
    return df.drop(columns=[c for c in df if c.endswith("_std") and df[c].isna().all()])


def intervals_text(drops):
    return "; ".join(f"[{d.s_from:.3g}, {d.s_to:.3g}]" for d in drops) or "none"


# ---- spectrum ----
spec = pd.read_csv(smk.input.spectrum)
rows, pretty = [], []
for (name, depth), g in spec.groupby(["dataset", "depth"], sort=False):
    g = g.sort_values("s")
    inside = g[(g.s > 0) & (g.s < 2)]
    resolved = inside.lambda_min_resolved.astype(bool)
    verdict = C.verdict_lambda_min_increasing(inside.s, inside.lambda_min, resolved)
    bad = C.decreasing_intervals(inside.s[resolved], inside.lambda_min[resolved])
    row = {"dataset": name, "n": int(g.n.iloc[0]), "d": int(g.d.iloc[0]), "depth": int(depth)}
    for s in (0.5, 1.0, 1.5, 2.0):
        r = nearest(g, s)
        row[f"lambda_min_s{s:g}"] = r.lambda_min if r.lambda_min_resolved else np.nan
    r1 = nearest(g, 1.0)
    row.update(
        condition_number_s1=r1.condition_number,
        resolved_points=int(resolved.sum()),
        verdict=verdict.label,
        non_increasing_s=intervals_text(bad),
    )
    rows.append(row)
    pretty.append(
        {
            "data set": f"{name} (n={row['n']}, d={row['d']})",
            "L": row["depth"],
            **{f"λ_min s={s:g}": format_number(row[f"lambda_min_s{s:g}"]) for s in (0.5, 1.0, 1.5, 2.0)},
            "κ s=1": format_number(row["condition_number_s1"]),
            "claim-1 rule": f"{verdict.label} ({row['resolved_points']} pts)",
            "λ_min fails to increase on": row["non_increasing_s"],
        }
    )
write_table(
    pd.DataFrame(rows),
    pd.DataFrame(pretty),
    output_paths(smk.output, "spectrum"),
    {},
    caption="Depth-L infinite-width NTK: λ_min(K_s/n) vs s per data set and depth (claim 1 at depth)",
    rule=smk.rule,
    inputs=[smk.input.spectrum],
)

# ---- kernel error ----
err = pd.read_csv(smk.input.kernel_error)
err["widths"] = err.widths.astype(str)
users = {",".join(map(str, p.train_widths)): ["deep.train"]}
for name, widths in p.e5_deep.items():
    users.setdefault(",".join(map(str, widths)), []).append(f"e5.{name}")
tol = float(p.kernel_tolerance)
rows, pretty = [], []
by_width = sorted(
    err.groupby(["depth", "widths", "s"]), key=lambda kv: (kv[0][0], [int(w) for w in kv[0][1].split(",")], kv[0][2])
)
for (depth, widths, s), g in by_width:  # numeric width order: (300, 300) before (1000, 1000)
    mean, std = g.relative_error.mean(), g.relative_error.std(ddof=1) if len(g) > 1 else np.nan
    rows.append(
        {
            "depth": int(depth),
            "widths": widths,
            "s": s,
            "relative_error_mean": mean,
            "relative_error_std": std,
            "n_seeds": len(g),
            "within_tolerance": bool(mean <= tol),
            "trained_by": " ".join(users.get(widths, [])),
        }
    )
    pretty.append(
        {
            "L": int(depth),
            "widths": f"({widths})",
            "s": f"{s:g}",
            "‖K_emp − K_∞‖/‖K_∞‖": mean_std(mean, std),
            f"≤ {tol:g}": "yes" if mean <= tol else "no",
            "trained by": ", ".join(users.get(widths, [])) or "",
        }
    )
write_table(
    without_empty_std(pd.DataFrame(rows)),
    pd.DataFrame(pretty),
    output_paths(smk.output, "error"),
    {"kernel_tolerance": tol},
    caption=f"DeepNet's empirical NTK at initialization vs the infinite-width kernel (mean ± std over seeds; tolerance {tol:g})",
    rule=smk.rule,
    inputs=[smk.input.kernel_error],
)

# ---- GD vs linearization ----
st = pd.concat([pd.read_csv(f) for f in smk.input.stages], ignore_index=True)
cols = [
    "analytic_lr_lambda_max",
    "loss_start",
    "loss_end",
    "analytic_predicted_end",
    "empirical_predicted_end",
    "analytic_max_abs_log_ratio",
    "empirical_max_abs_log_ratio",
]
rows, pretty = [], []
for (method, stage), g in st.groupby(["method", "stage"], sort=False):
    row = {"method": method, "stage": int(stage), "s": g.s.iloc[0], "steps": int(g.steps.iloc[0]), "n_seeds": len(g)}
    for c in cols:
        row[f"{c}_mean"] = g[c].mean()
        row[f"{c}_std"] = g[c].std(ddof=1) if len(g) > 1 else np.nan
    rows.append(row)
    pretty.append(
        {
            "method": method,
            "stage (s, steps)": f"{int(stage)} ({g.s.iloc[0]:g}, {int(g.steps.iloc[0])})",
            "lr·λ_max": format_number(row["analytic_lr_lambda_max_mean"]),
            "loss start": mean_std(row["loss_start_mean"], row["loss_start_std"]),
            "loss end": mean_std(row["loss_end_mean"], row["loss_end_std"]),
            "pred. end K_∞": mean_std(row["analytic_predicted_end_mean"], row["analytic_predicted_end_std"]),
            "pred. end K_emp": mean_std(row["empirical_predicted_end_mean"], row["empirical_predicted_end_std"]),
            "max|log ratio| K_∞": format_number(row["analytic_max_abs_log_ratio_mean"]),
            "max|log ratio| K_emp": format_number(row["empirical_max_abs_log_ratio_mean"]),
        }
    )
write_table(
    without_empty_std(pd.DataFrame(rows)),
    pd.DataFrame(pretty),
    output_paths(smk.output, "gd"),
    {},
    caption="Deep GD runs vs the linearized prediction with the deep kernel (per stage; mean ± std over seeds)",
    rule=smk.rule,
    inputs=list(smk.input.stages),
)
log.info("deep tables written")
