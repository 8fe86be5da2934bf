"""Example: one row of a dataset, with each field's processed value as an attribute."""

from __future__ import annotations

from typing import Any


class Example:
    """``example.text``, ``example.label`` ...; ``vars(example)`` gives all of them, as in torchtext."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        # reached only for names that are not set
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"this example has no field {name!r}; its fields: {', '.join(vars(self))}")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Example({inner})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Example) and vars(self) == vars(other)
