"""Configs: a pydantic model filled from YAML, then from ``key=value`` overrides, then hashed.

Every command that takes settings reads them here, with one grammar: ``COMMAND [CONFIG.yaml]
[key=value ...]`` (:func:`split_arguments`), defaults < YAML < overrides < the command's own options
(:func:`load_config`). Overrides use dotted keys for nested fields (``backend.max_tokens=64``); values
are parsed as YAML scalars (``true``, ``3``, ``0.5``, ``[a, b]``, ``null``), so they get the types the
model expects, and a key the model does not know is an error that names it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Config = TypeVar("Config", bound=BaseModel)


class ConfigError(ValueError):
    pass


def split_arguments(arguments: Iterable[str]) -> tuple[Path | None, list[str]]:
    """A command's positional arguments: at most one CONFIG path, then ``key=value`` overrides."""
    config = None
    overrides = []
    for argument in arguments:
        if "=" in argument:
            overrides.append(argument)
        elif config is None:
            config = Path(argument)
        else:
            raise ConfigError(f"{argument!r}: expected key=value (only one config file may be given)")
    return config, overrides


def parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    """``["a.b=1", "c=x"]`` -> ``{"a": {"b": 1}, "c": "x"}``."""
    nested: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({exc})") from exc
        target = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"override {item!r}: {part!r} is set both as a value and as a section")
        target[parts[-1]] = value
    return nested


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings, not {type(data).__name__}")
    return data


def load_config(
    model: type[Config],
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults, then the YAML file, then overrides, then ``options`` (the values of a command's own
    ``--options``, those given only), validated by ``model`` (errors name the field)."""
    data = dict(defaults or {})
    if path is not None:
        data = deep_merge(data, read_yaml(path))
    data = deep_merge(data, parse_overrides(overrides))
    data = deep_merge(data, options or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        source = f"{path}" if path is not None else "config"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


def config_from_arguments(
    model: type[Config], arguments: Iterable[str], options: Mapping[str, Any] | None = None
) -> Config:
    """A command's settings from its arguments (``[CONFIG.yaml] [key=value ...]``) and its own options
    (those left at None were not given, so the file's or the default value stands)."""
    path, overrides = split_arguments(arguments)
    given = {key: value for key, value in (options or {}).items() if value is not None}
    return load_config(model, path, overrides, options=given)


def config_hash(config: BaseModel | Mapping[str, Any], *, exclude: Iterable[str] = ()) -> str:
    """A short stable hash of the settings that define a result (``exclude`` drops top-level keys)."""
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
    for key in exclude:
        data.pop(key, None)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def dump_yaml(config: BaseModel) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
