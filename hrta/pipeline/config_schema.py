"""The pipeline config's schema as validation uses it, and the one validation of a config (torch-free).

The schema file (workflow/schemas/config.schema.yaml) leaves the allowed base activations out of
``$defs.base``: :func:`config_schema` fills its ``enum`` from the registry (hrta.bases.base_names), so a
base added there is a valid config value with no schema edit. :func:`validate_config` validates a config
against that schema (JSON Schema 2020-12) and fills in the schema's defaults, as snakemake.utils.validate
does; the workflow (workflow/rules/common.smk), ``python -m hrta.plan`` and the tests all call it. Its
errors name the config key: ``invalid config: key 'e5.models.tanh.base': 'softplus' is not one of [...]``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping, Sequence

from hrta.bases import base_names

from .jobs import SCHEMA_FILE, schema_document

__all__ = [
    "PAIRED_OUTPUT_INITS",
    "ConfigError",
    "check_paired_widths",
    "config_key",
    "config_schema",
    "validate_config",
]


#: output_init values whose units come in pairs, so the width must be even: hrta.models.PAIRED_OUTPUT_INITS, kept
#: here too so that validation stays torch-free (tests/test_models.py checks that the two agree)
PAIRED_OUTPUT_INITS = ("antisymmetric",)


class ConfigError(ValueError):
    """An invalid pipeline config; the message names the config key and the reason."""


def config_key(path: Sequence[str | int]) -> str:
    """The config key of a path of keys and list indices: ("e3", "widths", 0) -> 'e3.widths[0]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def config_schema(path: str | os.PathLike = SCHEMA_FILE) -> dict:
    """The schema file at ``path`` as a dict (a fresh copy), with ``$defs.base.enum`` set to the registered
    base activations (hrta.bases.base_names(), read now: a base registered at run time is allowed)."""
    schema = copy.deepcopy(schema_document(os.path.abspath(path)))
    schema["$defs"]["base"]["enum"] = list(base_names())
    return schema


def _with_defaults(validator_class):
    """``validator_class`` that also sets each property's ``default`` where the instance lacks it (the
    jsonschema FAQ recipe snakemake.utils.validate uses)."""
    from jsonschema import validators  # noqa: PLC0415

    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        for name, subschema in properties.items():
            if "default" in subschema:
                instance.setdefault(name, subschema["default"])
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _message(error) -> str:
    """A jsonschema ValidationError as 'invalid config: key ...: reason' (unknown keys with the allowed ones)."""
    path = list(error.absolute_path)
    unexpected = re.findall(r"'([^']+)'", error.message.split("(", 1)[-1])
    if error.validator in ("additionalProperties", "unevaluatedProperties") and unexpected:
        keys = ", ".join(f"'{config_key(path + [name])}'" for name in unexpected)
        allowed = sorted(error.schema.get("properties", {}))
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"invalid config: unknown key {keys}{hint}"
    if error.validator == "not" and error.schema.get("description"):  # a forbidden combination, said in words
        return f"invalid config: key '{config_key(path)}': {error.schema['description']}"
    return f"invalid config: key '{config_key(path)}': {error.message}"


def validate_config(config: dict, schema: str | os.PathLike = SCHEMA_FILE) -> dict:
    """Validate ``config`` against config_schema(schema) and fill in the schema's defaults (in place, as
    snakemake.utils.validate does); return ``config``. Raise ConfigError naming the key of the first error."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    resolved = config_schema(schema)
    validator = _with_defaults(Draft202012Validator)(resolved)
    for error in validator.iter_errors(config):
        raise ConfigError(_message(error))
    return config


def check_paired_widths(config: Mapping, train_experiments: Sequence[str], sweeps: Sequence[str]) -> None:
    """Every width of a two-layer network whose ``output_init`` pairs its units (hrta.models.PAIRED_OUTPUT_INITS:
    antisymmetric, unit k + m/2 mirrors unit k) is even: the training experiments' ``widths`` and the claims sweeps'
    two-layer ``model.width`` (e5: each of ``models``). ConfigError naming the key otherwise (before any job runs)."""

    def odd(key: str, width, init: str) -> None:
        if init in PAIRED_OUTPUT_INITS and int(width) % 2:
            raise ConfigError(
                f"invalid config: key '{key}': width {width} is odd; output_init {init!r} pairs unit k with unit "
                "k + m/2, so the width must be even"
            )

    for exp in train_experiments:
        init = (config[exp].get("model") or {}).get("output_init", "gaussian")
        for i, width in enumerate(config[exp]["widths"]):
            odd(f"{exp}.widths[{i}]", width, init)
    for exp in sweeps:
        sec = config[exp]
        models = {f"{exp}.models.{k}": v for k, v in sec["models"].items()} if "models" in sec else {}
        if "model" in sec:
            models[f"{exp}.model"] = sec["model"]
        for key, spec in models.items():
            if spec.get("kind", "two_layer") == "two_layer" and "width" in spec:
                odd(f"{key}.width", spec["width"], spec.get("output_init", "gaussian"))
