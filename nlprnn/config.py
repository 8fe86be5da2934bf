"""Configs: dataclasses filled from TOML, ``--set key=value`` overrides or a bundle, checked once here.

A config field's type says what it allows, and ``build_config`` enforces it: ``bool``, ``int``,
``float``, ``str``, ``X | None``, ``Literal["a", "b"]`` (one of the values), and ``Annotated[T,
Range(...)]`` or ``Annotated[str, OneOf(callable)]`` for ranges and sets known only at run time (the
registered tokenizers). A value outside what the type allows is a ``ConfigError`` naming the key, the
value and the allowed values.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import tomllib

from nlprnn.errors import ConfigError

C = TypeVar("C")


@dataclass(frozen=True)
class Range:
    """Numbers from ``low`` to ``high`` (either may be None); ``high_open`` excludes ``high`` itself."""

    low: float | None = None
    high: float | None = None
    high_open: bool = False
    low_open: bool = False

    def allows(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True

    def describe(self, base: Any = float) -> str:
        kind = "a whole number" if base is int else "a number"
        if self.high is None:
            return f"{kind} {'greater than' if self.low_open else 'of at least'} {self.low:g}"
        if self.low is None:
            return f"{kind} of at most {self.high:g}"
        return (f"{kind} from {self.low:g}{' (excluded)' if self.low_open else ''} to {self.high:g}"
                f"{' (excluded)' if self.high_open else ''}")


@dataclass(frozen=True)
class OneOf:
    """Strings from a set that is known only at run time (``choices()`` is called when checking)."""

    choices: Callable[[], list[str]]


@dataclass(frozen=True)
class Check:
    """Values that ``test`` accepts, described as ``described`` (e.g. a device name)."""

    test: Callable[[Any], bool]
    described: str


def _is_device(value: str) -> bool:
    import torch

    try:
        torch.device(value)
    except (RuntimeError, ValueError):
        return False
    return True


Device = Annotated[str, Check(_is_device, "a device such as cpu, cuda or cuda:1")]

PositiveInt = Annotated[int, Range(low=1)]
Positive = Annotated[float, Range(low=0.0, low_open=True)]
Probability = Annotated[float, Range(0.0, 1.0, high_open=True)]
Fraction = Annotated[float, Range(0.0, 1.0, high_open=True)]
OnError = Literal["raise", "skip"]
Cell = Literal["lstm", "gru", "rnn"]


def _tokenizer_names() -> list[str]:
    from nlprnn.tokenizers import available_tokenizers  # registered ones, at the time of checking

    return available_tokenizers()


TokenizerName = Annotated[str, OneOf(_tokenizer_names)]


def _describe(annotation: Any) -> str:
    base, checks = _unwrap(annotation)
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(base))
    for check in checks:
        if isinstance(check, Range):
            return check.describe(base)
        if isinstance(check, OneOf):
            return "one of " + ", ".join(check.choices())
        if isinstance(check, Check):
            return check.described
    return {int: "a whole number", float: "a number", bool: "true or false", str: "text"}.get(
        base, getattr(base, "__name__", str(base)))


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(annotation) is Annotated:
        base, *checks = typing.get_args(annotation)
        return base, tuple(checks)
    return annotation, ()


def allowed_values(annotation: Any) -> list[Any] | str:
    """The allowed values of a config type (a list for a closed set, else a description)."""
    options = _options(annotation)
    values: list[Any] = []
    for option in options:
        base, checks = _unwrap(option)
        if typing.get_origin(base) is Literal:
            values += list(typing.get_args(base))
        elif any(isinstance(c, OneOf) for c in checks):
            values += next(c for c in checks if isinstance(c, OneOf)).choices()
        elif option is type(None):
            values.append(None)
        else:
            return " or ".join(_describe(o) for o in options)
    return values


def _options(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    return typing.get_args(annotation) if origin in (typing.Union, types.UnionType) else (annotation,)


def coerce(name: str, value: Any, annotation: Any) -> Any:
    """Check (and for strings from the command line, convert) one value against its annotation."""
    options = _options(annotation)
    empty = value is None or (isinstance(value, str) and value.lower() == "none" and type(None) in options)
    if empty:  # the word "none" is a value of its own where the key cannot be empty (model.freeze=none)
        if type(None) in options:
            return None
        raise ConfigError(f"config key {name!r} cannot be empty; it must be {_describe(annotation)}",
                          key=name, value=value, allowed=allowed_values(annotation))
    failed_check = None
    for option in options:
        if option is type(None):
            continue
        base, checks = _unwrap(option)
        converted = _convert(value, base)
        if converted is _NO:
            continue
        for check in checks:
            if isinstance(check, Range):
                ok = check.allows(converted)
            elif isinstance(check, Check):
                ok = check.test(converted)
            else:
                ok = converted in check.choices()
            if not ok:
                failed_check = option
                break
        else:
            return converted
    described = " or ".join(_describe(o) for o in options if o is not type(None))
    if type(None) in options:
        described += " (or none)"
    if failed_check is not None and len(options) <= 2:
        described = _describe(failed_check) + (" (or none)" if type(None) in options else "")
    raise ConfigError(f"config key {name!r} must be {described}, got {value!r}", key=name, value=value,
                      allowed=allowed_values(annotation))


_NO = object()


def _convert(value: Any, base: Any) -> Any:
    """``value`` as ``base`` (bool, int, float, str or a Literal), or ``_NO`` if it is not one."""
    if typing.get_origin(base) is Literal:
        choices = typing.get_args(base)
        if value in choices:
            return value
        if isinstance(value, str):
            for choice in choices:
                if str(choice).lower() == value.lower():
                    return choice
        return _NO
    if base is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        return _NO
    if base in (int, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            if base is float or isinstance(value, int):
                return base(value)
            return _NO
        if isinstance(value, str):
            try:
                return base(value)
            except ValueError:
                return _NO
        return _NO
    if base is str:
        return value if isinstance(value, str) else _NO
    return _NO


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} not found", key="--config", value=str(path))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})", key="--config", value=str(path)) from None


def build_config(cls: type[C], path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                 base: C | None = None, values: dict[str, Any] | None = None) -> C:
    """An instance of the dataclass ``cls`` from its defaults (or ``base``), then ``values`` (e.g. a
    bundle's saved config), then the TOML file, then dotted ``overrides``.

    A field whose type is itself a dataclass is a table (``[model]``) and takes dotted overrides
    (``model.hidden_size=512``).
    """
    merged: dict[str, Any] = _deep_copy(values or {})
    if path is not None:
        _merge(merged, read_toml(path))
    for key, value in (overrides or {}).items():
        target = merged
        *parents, last = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ConfigError(f"config key {parent!r} is not a table, so {key!r} cannot be set", key=key)
        target[last] = value
    return fill(base if base is not None else cls(), merged, "")


def _leaves(values: dict[str, Any], keys: list[str]) -> list[str]:
    """The dotted keys under ``keys`` as they were written (``nonexistent.key``, not just ``nonexistent``)."""
    out: list[str] = []
    for key in keys:
        value = values[key]
        out += [f"{key}.{leaf}" for leaf in _leaves(value, sorted(value))] if isinstance(value, dict) and value else [key]
    return out


def _deep_copy(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in values.items()}


def _merge(target: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def fill(base: C, values: dict[str, Any], prefix: str = "") -> C:
    """``base`` (a dataclass instance holding the defaults) with ``values`` checked and applied."""
    cls = type(base)
    hints = typing.get_type_hints(cls, include_extras=True)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        names = ", ".join(repr(prefix + k) for k in _leaves(values, unknown))
        raise ConfigError(f"unknown config key(s) {names}; known keys: {', '.join(prefix + k for k in sorted(known))}",
                          key=prefix + unknown[0], allowed=sorted(prefix + k for k in known))
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if dataclasses.is_dataclass(hints[name]):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {prefix + name!r} is a table ([{prefix + name}]), got {value!r}",
                                  key=prefix + name, value=value)
            # a task's own defaults for the section (e.g. ner monitors f1) stay unless overridden
            checked[name] = fill(getattr(base, name), value, f"{prefix}{name}.")
        else:
            checked[name] = coerce(prefix + name, value, hints[name])
    return dataclasses.replace(base, **checked)  # type: ignore[type-var]


def leaf_keys(config: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every (dotted key, annotation, current value) of a config, tables flattened."""
    hints = typing.get_type_hints(type(config), include_extras=True)
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            yield from leaf_keys(value, f"{prefix}{f.name}.")
        else:
            yield prefix + f.name, hints[f.name], value


def parse_sets(pairs: list[str] | None) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value, got {pair!r}", key="--set", value=pair)
        out[key.strip()] = value.strip()
    return out
