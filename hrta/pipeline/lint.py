"""Warnings about a config that is valid but would silently leave something out: printed by the workflow
(workflow/rules/common.smk, after the config checks, so in every ``snakemake -n``) and listed by
``python -m hrta.plan``. Torch-free.

Readings (config ``claims.readings``) are how a method reaches claims 4–7 (the verdict matrix of
figures/claims_parts.md and tables/claims_matrix.csv, the rows of figures/CLAIMS.md): a method of e3, e5
or e6 that is in no reading is trained and tabulated but never judged, and a reading whose method key
exists in one of these experiments but not in another (a renamed key) silently loses that method there.
A config that leaves a reading's method out of an experiment on purpose (the default config trains only some
methods in e5 and e6, for budget) says so, ``claims.readings.<name>.not_trained_in: {method: [e5, e6]}``, and
is not warned about that absence; check_declared_absences refuses a declaration that is not true.
"""

from __future__ import annotations

from collections.abc import Mapping

from .config_schema import ConfigError

__all__ = [
    "READING_EXPERIMENTS",
    "base_warnings",
    "check_declared_absences",
    "config_bases",
    "config_warnings",
    "reading_warnings",
]

#: Experiments whose methods the readings of claims 4–7 look up (workflow/scripts/claims_report.py).
READING_EXPERIMENTS = ("e3", "e5", "e6")


def _baseline(config: Mapping, exp: str) -> str | None:
    """The control method of ``exp`` (s = 1 throughout): claims.e3_baseline for e3, else its `baseline`."""
    return config.get("claims", {}).get("e3_baseline") if exp == "e3" else config[exp].get("baseline")


def _declared_absences(spec: Mapping) -> Mapping[str, list[str]]:
    """{method: [experiments]} a reading's ``not_trained_in`` declares (the experiments that deliberately
    do not train the method); {} when it declares none."""
    return spec.get("not_trained_in") or {}


def check_declared_absences(config: Mapping) -> None:
    """Raise ConfigError naming the key unless every ``claims.readings.<name>.not_trained_in`` entry is true:
    its method is one of the reading's methods, and each experiment it names is one the readings look up
    (READING_EXPERIMENTS) and does not train that method."""
    readings = (config.get("claims") or {}).get("readings") or {}
    for name, spec in readings.items():
        for method, exps in _declared_absences(spec).items():
            key = f"claims.readings.{name}.not_trained_in.{method}"
            if method not in spec["methods"]:
                raise ConfigError(
                    f"invalid config: key '{key}': {method!r} is not one of this reading's methods "
                    f"(claims.readings.{name}.methods: {', '.join(spec['methods'])})"
                )
            for i, exp in enumerate(exps):
                if exp not in READING_EXPERIMENTS:
                    raise ConfigError(
                        f"invalid config: key '{key}[{i}]': {exp!r} is not an experiment whose methods the readings "
                        f"look up ({', '.join(READING_EXPERIMENTS)})"
                    )
                if method in ((config.get(exp) or {}).get("methods") or {}):
                    raise ConfigError(
                        f"invalid config: key '{key}[{i}]': {exp} trains method {method!r} ({exp}.methods.{method}), "
                        f"so it is not absent there; drop {exp} from the declaration"
                    )


def reading_warnings(config: Mapping) -> list[str]:
    """One message per method of e3/e5/e6 in no reading (baselines excepted) and per reading method that
    one of these experiments defines and another (present) one does not, unless the reading declares that
    absence (``not_trained_in``), each naming the fix."""
    readings = (config.get("claims") or {}).get("readings") or {}
    exps = [exp for exp in READING_EXPERIMENTS if config.get(exp)]
    if not readings or not exps:
        return []
    in_a_reading = {m for spec in readings.values() for m in spec["methods"]}
    messages = []
    for exp in exps:
        for method in config[exp]["methods"]:
            if method != _baseline(config, exp) and method not in in_a_reading:
                messages.append(
                    f"method '{method}' of {exp}.methods is in no reading of claims.readings, so claims 4–7 "
                    f"never judge it (it appears only in {exp}'s own tables and figures); add it to a reading "
                    f"(claims.readings.<name>.methods) or make it {exp}'s baseline"
                )
    for name, spec in readings.items():
        declared = _declared_absences(spec)
        for method in spec["methods"]:
            have = [exp for exp in exps if method in config[exp]["methods"]]
            missing = [
                exp for exp in exps if method not in config[exp]["methods"] and exp not in declared.get(method, [])
            ]
            if not have:
                messages.append(
                    f"reading '{name}' (claims.readings.{name}.methods) names method '{method}', which none of "
                    f"{', '.join(exps)} defines: the reading judges nothing for it; fix the name or drop it"
                )
            elif missing:
                messages.append(
                    f"reading '{name}' names method '{method}', which {', '.join(have)} define(s) but "
                    f"{', '.join(missing)} do(es) not, so the reading's cells in {', '.join(missing)} leave it "
                    f"out (a renamed key?); give it the same key in {', '.join(missing)}, drop it from the reading, "
                    f"or declare the absence (claims.readings.{name}.not_trained_in: {{{method}: [{', '.join(missing)}]}})"
                )
    return messages


def config_bases(config: Mapping) -> list[str]:
    """Base activations the config uses (e1, e2, deep, every experiment's model and E5's models), sorted."""
    bases = set()
    for section in config.values():
        if not isinstance(section, Mapping):
            continue
        bases.add(section.get("base"))
        for spec in [section.get("model") or {}, *(section.get("models") or {}).values()]:
            bases.add(spec.get("base", "relu") if isinstance(spec, Mapping) else None)
    return sorted(b for b in bases if isinstance(b, str))


def base_warnings(config: Mapping) -> list[str]:
    """One message per base activation the config uses that has no calibrated runtime constants."""
    from .runtime import uncalibrated_message  # noqa: PLC0415

    return [msg for base in config_bases(config) if (msg := uncalibrated_message(base))]


def config_warnings(config: Mapping) -> list[str]:
    """Every warning about ``config`` (validated, defaults filled in): reading_warnings, base_warnings."""
    return reading_warnings(config) + base_warnings(config)
