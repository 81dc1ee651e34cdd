"""Rule `claims_endpoints`: every pre-registered one-factor comparison (config claims.endpoints) in every cell
(claim × comparison × optimizer × width or model), its primary and secondary effect with interval, n, minimum
detectable effect and verdict (hrta.claims.endpoints); secondary p-values Holm-corrected over all cells."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

import math
import time

import numpy as np
import pandas as pd

from hrta.claims import endpoints as E
from hrta.claims.theory import predicted_ratio as predicted
from hrta.datafiles import dataset_draw, dataset_from_config
from hrta.io import write_csv
from hrta.ntk import predict_schedule_loss
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


# Per source: (runs, histories, the columns that make a cell). Training experiments: those the comparisons name
# (e3, e4, e8, e3_long, ...; hrta.pipeline.jobs.endpoint_training_sources); e8: the λ_min regime (lr·λ_min·T ≳ 10),
# rows marked in column `regime`.
sources = {}
for exp in smk.params.train_sources:
    sources[exp] = (read(smk.input[f"{exp}_runs"]), read(smk.input[f"{exp}_histories"]), ["optimizer", "width"])
fairness = list(smk.params.fairness)  # e6 and, when the config has it, e6_regime
for exp in ["e5", *fairness]:
    if hasattr(smk.input, f"{exp}_runs"):
        runs, hist = read(smk.input[f"{exp}_runs"]), read(smk.input[f"{exp}_history"])
        if exp in fairness:  # the rate each run uses: the grid's choice (column chosen) or the kernel-scaled rate
            best = runs[(runs["lr_factor"].astype(str) != "kernel") & runs["chosen"].astype(bool)].assign(
                lr_choice="best"
            )
            kernel = runs[runs["lr_factor"].astype(str) == "kernel"].assign(lr_choice="kernel")
            runs = pd.concat([best, kernel], ignore_index=True)
            hist = hist.assign(lr_factor=hist["lr_factor"].astype(str))
            runs = runs.assign(lr_factor=runs["lr_factor"].astype(str))
            keys = ["optimizer", "method", "seed", "lr_factor"]
            hist = hist.merge(runs[[*keys, "lr_choice"]], on=keys, how="inner")
        sources[exp] = (runs, hist, ["cell", "optimizer"] + (["lr_choice"] if exp in fairness else []))
#: the sources in the λ_min regime (lr·λ_min·T ≳ 10): rows marked in column `regime`
REGIME_SOURCES = ("e8", "e6_regime")

_curves: dict = {}


def predicted_ratio(source, optimizer, quantity, sched_c, sched_t, seeds):
    """Theory beside measurement: the ratio control/treatment of the cell's quantity (final loss, or time to the
    control's targets) that GD on the infinite-width network linearized at initialization predicts
    (hrta.ntk.predict_schedule_loss, output at init = its mean 0; hrta.claims.theory.predicted_ratio), per seed's
    data draw, geometric mean over seeds; NaN where the theory does not apply (not constant-rate GD, a ramp stage,
    a source without a ReLU two-layer model)."""
    theory = dict(smk.params.theory).get(source)
    if not theory:
        return math.nan
    opt = theory["optimizers"][optimizer]
    if opt["optimizer"] != "gd" or opt.get("lr_schedule", "constant") != "constant":
        return math.nan
    ratios = []
    for seed in seeds:
        draw = dataset_draw(theory, seed)  # None: one draw for every seed
        curves = []
        for sched in (sched_c, sched_t):
            key = (source, draw, sched, float(opt["lr"]))
            if key not in _curves:
                data = dataset_from_config(theory["dataset"], draw)
                try:
                    _curves[key] = predict_schedule_loss(data.X_train, data.y_train, sched, float(opt["lr"]))
                except ValueError:  # a ramp stage: no single kernel
                    _curves[key] = None
            curves.append(_curves[key])
        if curves[0] is None or curves[1] is None:
            return math.nan
        fractions = cfg["target_fractions"]
        ratios.append(predicted(quantity, *curves, sched_c, sched_t, int(theory["log_every"]), fractions))
    ratios = np.asarray(ratios, float)
    return float(np.exp(np.log(ratios).mean())) if np.all(np.isfinite(ratios) & (ratios > 0)) else math.nan


rows = []
for c in cfg["comparisons"]:
    runs, hist, cols = sources[c["source"]]
    if c["source"] in fairness:
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
        theory = {q: predicted_ratio(c["source"], where.get("optimizer"), q, sched_c, sched_t, seeds) for q in effects}
        paired_runs = g[g["method"].isin([c["control"], c["treatment"]]) & g["seed"].isin(seeds)]
        outside = int(paired_runs["outside_ntk"].astype(bool).sum()) if "outside_ntk" in paired_runs.columns else 0
        # issue 24: runs whose tuned rate is still at an end of the rate grid at the widening limit; a tuned-rate
        # cell with any is censored (E.RULE_CENSORED): its label says so, its numbers stay
        at_edge = (
            int(paired_runs["at_edge"].fillna(False).astype(bool).sum()) if "at_edge" in paired_runs.columns else 0
        )
        n_at_edge = at_edge if c.get("lr_choice") == "best" else 0
        censored_why = (
            f"{n_at_edge} of {len(paired_runs)} paired runs at a tuned rate still at an end of the factors tried at "
            "the widening limit"
            if n_at_edge
            else ""
        )
        setting = ", ".join(f"{k} {v}" for k, v in where.items())
        primary_q = c.get("primary", cfg["primary"])
        secondary_q = cfg["secondary"] if primary_q == cfg["primary"] else cfg["primary"]
        for endpoint, quantity in (("primary", primary_q), ("secondary", secondary_q)):
            e = effects[quantity]
            rows.append(
                {
                    "claim": c["claim"],
                    "source": c["source"],
                    "treatment": c["treatment"],
                    "control": c["control"],
                    "factor": c["factor"],
                    "lr_choice": c.get("lr_choice", ""),
                    "setting": ("λ_min regime: " if c["source"] in REGIME_SOURCES else "") + setting,
                    "regime": "λ_min regime" if c["source"] in REGIME_SOURCES else "",
                    **{k: where.get(k, "") for k in ("optimizer", "width", "cell")},
                    "endpoint": endpoint,
                    "quantity": quantity,
                    "budget": budget,
                    **{k: v for k, v in e.__dict__.items() if k not in ("ratios", "level", "delta")},
                    "verdict": E.censored_at_rate_limit(e.verdict, n_at_edge, c.get("lr_choice", "")),
                    "verdict_uncensored": e.verdict,
                    "censored_reason": censored_why,
                    "ratios": " ".join(f"{r:.4g}" for r in e.ratios),
                    "predicted": theory[quantity],
                    "n_outside_ntk": outside,
                    "n_at_edge": n_at_edge,
                    **(censored if quantity == "time_to_target" else {"censored_control": 0, "censored_treatment": 0}),
                }
            )

table = pd.DataFrame(rows)
secondary = table["endpoint"] == "secondary"
# Holm over the secondary cells with a p-value (a cell with fewer than 2 usable seeds has none: not rejected), censored
# cells left out (E.RULE_CENSORED).
tested = secondary & table["p_value"].notna() & (table["verdict"] != E.CENSORED)
table["p_holm"] = float("nan")
table["holm_reject"] = False
if tested.any():
    reject, adjusted = E.holm(table.loc[tested, "p_value"].tolist(), alpha=1 - kw["level"])
    table.loc[tested, "p_holm"] = list(adjusted)
    table.loc[tested, "holm_reject"] = list(reject)
for out in smk.output:
    write_metadata(out, cfg, rule=smk.rule, inputs=list(smk.input), timings={"job": time.perf_counter() - start})
write_csv(table, smk.output.csv)
log.info("%d endpoint cells (%d primary) -> %s", len(table), int((~secondary).sum()), smk.output.csv)
