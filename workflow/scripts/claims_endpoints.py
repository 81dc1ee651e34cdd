"""Rule `claims_endpoints`: every pre-registered one-factor comparison (config claims.endpoints) in every cell
(claim × comparison × optimizer × width or model), its primary and secondary effect with interval, n, minimum
detectable effect and verdict (hrta.claims.endpoints); secondary p-values Holm-corrected over all cells."""

import time

import pandas as pd

from hrta.claims import endpoints as E
from hrta.io import write_csv
from hrta.pipeline.joblog import job_logger
from hrta.pipeline.provenance import write_metadata
from hrta.schedules import parse_schedule

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
start = time.perf_counter()
cfg = dict(smk.params.endpoints)
kw = {"level": float(cfg["level"]), "delta": float(cfg["delta"]), "power": float(cfg["power"])}


def read(paths):
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


# Per source: (runs, histories, the columns that make a cell).
sources = {}
for exp in ("e3", "e4", "e8"):  # e8: the λ_min regime (lr·λ_min·T ≳ 10), rows marked in column `regime`
    if hasattr(smk.input, f"{exp}_runs"):
        sources[exp] = (read(smk.input[f"{exp}_runs"]), read(smk.input[f"{exp}_histories"]), ["optimizer", "width"])
for exp in ("e5", "e6"):
    if hasattr(smk.input, f"{exp}_runs"):
        runs, hist = read(smk.input[f"{exp}_runs"]), read(smk.input[f"{exp}_history"])
        if exp == "e6":  # the rate each run uses: the grid's choice (column chosen) or the kernel-scaled rate
            best = runs[(runs["lr_factor"].astype(str) != "kernel") & runs["chosen"].astype(bool)].assign(
                lr_choice="best"
            )
            kernel = runs[runs["lr_factor"].astype(str) == "kernel"].assign(lr_choice="kernel")
            runs = pd.concat([best, kernel], ignore_index=True)
            hist = hist.assign(lr_factor=hist["lr_factor"].astype(str))
            runs = runs.assign(lr_factor=runs["lr_factor"].astype(str))
            keys = ["optimizer", "method", "seed", "lr_factor"]
            hist = hist.merge(runs[[*keys, "lr_choice"]], on=keys, how="inner")
        sources[exp] = (runs, hist, ["cell", "optimizer"] + (["lr_choice"] if exp == "e6" else []))

rows = []
for c in cfg["comparisons"]:
    runs, hist, cols = sources[c["source"]]
    if c["source"] == "e6":
        runs, hist = runs[runs["lr_choice"] == c["lr_choice"]], hist[hist["lr_choice"] == c["lr_choice"]]
    for key, g in runs.groupby(cols, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        where = dict(zip(cols, key))
        ctrl, trt = g[g["method"] == c["control"]], g[g["method"] == c["treatment"]]
        seeds = sorted(set(ctrl["seed"]) & set(trt["seed"]))
        if len(seeds) < 1:
            continue
        h = hist
        for col, v in where.items():
            h = h[h[col] == v]

        def histories(method, h=h, seeds=seeds):
            return [h[(h["method"] == method) & (h["seed"] == s)] for s in seeds]

        sched_c, sched_t = ctrl["schedule"].iloc[0], trt["schedule"].iloc[0]
        sw_c, sw_t = E.switch_steps(sched_c), E.switch_steps(sched_t)
        hc, ht = histories(c["control"]), histories(c["treatment"])
        st_c = [ctrl.loc[ctrl["seed"] == s, "status"].iloc[0] for s in seeds]
        st_t = [trt.loc[trt["seed"] == s, "status"].iloc[0] for s in seeds]
        budget = parse_schedule(sched_c).total_steps
        targets = E.target_family(hc, [float(q) for q in cfg["target_fractions"]], sw_c, budget, statuses=st_c)
        arms = {"statuses_control": st_c, "statuses_treatment": st_t}
        ttt = E.time_to_target_effect(hc, ht, targets, sw_c, sw_t, budget, **arms, **kw)
        effects = {"final_loss": E.final_loss_effect(hc, ht, sw_c, sw_t, **arms, **kw), "time_to_target": ttt.effect}
        censored = {"censored_control": ttt.censored_control, "censored_treatment": ttt.censored_treatment}
        setting = ", ".join(f"{k} {v}" for k, v in where.items())
        for endpoint, quantity in (("primary", cfg["primary"]), ("secondary", cfg["secondary"])):
            e = effects[quantity]
            rows.append(
                {
                    "claim": c["claim"],
                    "source": c["source"],
                    "treatment": c["treatment"],
                    "control": c["control"],
                    "factor": c["factor"],
                    "lr_choice": c.get("lr_choice", ""),
                    "setting": ("λ_min regime: " if c["source"] == "e8" else "") + setting,
                    "regime": "λ_min regime" if c["source"] == "e8" else "",
                    **{k: where.get(k, "") for k in ("optimizer", "width", "cell")},
                    "endpoint": endpoint,
                    "quantity": quantity,
                    "budget": budget,
                    **{k: v for k, v in e.__dict__.items() if k not in ("ratios", "level", "delta")},
                    "ratios": " ".join(f"{r:.4g}" for r in e.ratios),
                    **(censored if quantity == "time_to_target" else {"censored_control": 0, "censored_treatment": 0}),
                }
            )

table = pd.DataFrame(rows)
secondary = table["endpoint"] == "secondary"
reject, adjusted = E.holm(table.loc[secondary, "p_value"].tolist(), alpha=1 - kw["level"])
table["p_holm"] = float("nan")
table.loc[secondary, "p_holm"] = list(adjusted)
table["holm_reject"] = False
table.loc[secondary, "holm_reject"] = list(reject)
for out in smk.output:
    write_metadata(out, cfg, rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start})
write_csv(table, smk.output.csv)
log.info("%d endpoint cells (%d primary) -> %s", len(table), int((~secondary).sum()), smk.output.csv)
