"""Configs: dataclasses filled from a TOML file and ``--set key=value`` overrides, checked once here."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import tomllib

from nlprnn.errors import ConfigError

C = TypeVar("C")


def _coerce(name: str, value: Any, annotation: Any) -> Any:
    """Check (and for strings from the command line, convert) one value against its annotation."""
    origin = typing.get_origin(annotation)
    options = typing.get_args(annotation) if origin in (typing.Union, types.UnionType) else (annotation,)
    if value is None or (isinstance(value, str) and value.lower() == "none"):
        if type(None) in options:
            return None
        raise ConfigError(f"config key {name!r} cannot be empty")
    for option in options:
        if option is type(None):
            continue
        if option is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
        elif option in (int, float):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and (option is float or isinstance(value, int)):
                return option(value)
            if isinstance(value, str):
                try:
                    return option(value)
                except ValueError:
                    pass
        elif option is str:
            if isinstance(value, str):
                return value
    names = " or ".join(getattr(o, "__name__", str(o)) for o in options)
    raise ConfigError(f"config key {name!r} must be {names}, got {value!r}")


def build_config(cls: type[C], path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> C:
    """An instance of the dataclass ``cls`` from defaults, then the TOML file, then ``overrides``.

    A field whose type is itself a dataclass is a TOML table (``[model]``) and takes dotted overrides
    (``model.hidden_size=512``).
    """
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"config file {path} not found")
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML ({error})") from None
    for key, value in (overrides or {}).items():
        target = values
        *parents, last = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ConfigError(f"config key {parent!r} is not a table, so {key!r} cannot be set")
        target[last] = value
    return _fill(cls(), values, "")


def _fill(base: C, values: dict[str, Any], prefix: str) -> C:
    """``base`` (a dataclass instance holding the defaults) with ``values`` checked and applied."""
    cls = type(base)
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        names = ", ".join(repr(prefix + k) for k in unknown)
        raise ConfigError(f"unknown config key(s) {names}; known keys: {', '.join(prefix + k for k in sorted(known))}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if dataclasses.is_dataclass(hints[name]):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {prefix + name!r} is a table ([{prefix + name}]), got {value!r}")
            # a task's own defaults for the section (e.g. ner monitors f1) stay unless overridden
            checked[name] = _fill(getattr(base, name), value, f"{prefix}{name}.")
        else:
            checked[name] = _coerce(prefix + name, value, hints[name])
    return dataclasses.replace(base, **checked)  # type: ignore[type-var]


def parse_sets(pairs: list[str] | None) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
