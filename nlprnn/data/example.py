"""Example: one row of a dataset, with each field's processed value as an attribute."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nlprnn.errors import ConfigError, DataError


class Example:
    """``example.text``, ``example.label`` ...; ``vars(example)`` gives all of them, as in torchtext.

    The ``from*`` constructors are torchtext's: each field's ``preprocess`` is applied to the raw value.
    """

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

    @classmethod
    def fromlist(cls, data: Sequence[Any], fields: Sequence[Any]) -> Example:
        """Values in column order; ``fields`` a ``(name, field)`` (or ``None``) per column; a name and a
        field may be tuples, several fields reading one column."""
        ex = cls()
        for target, value in zip(fields, data):
            if target is None or target[1] is None:
                continue
            name, field = target
            if isinstance(value, str):
                value = value.rstrip("\n")
            for n, f in (zip(name, field) if isinstance(name, tuple) else [(name, field)]):
                setattr(ex, n, f.preprocess(value))
        return ex

    @classmethod
    def fromdict(cls, data: Mapping[str, Any], fields: Mapping[str, Any]) -> Example:
        """Values by key; ``fields`` maps a key to ``(name, field)``, a list of them, or None."""
        ex = cls()
        for key, targets in fields.items():
            if key not in data:
                raise DataError(None, None, f"the example has no key {key!r} (it has {', '.join(map(str, data))}).",
                                "give every example the keys that fields names", code="missing_key")
            if targets is None:
                continue
            for name, field in (targets if isinstance(targets, list) else [targets]):
                setattr(ex, name, field.preprocess(data[key]))
        return ex

    @classmethod
    def fromJSON(cls, data: str, fields: Mapping[str, Any]) -> Example:  # noqa: N802 (torchtext's name)
        return cls.fromdict(json.loads(data), fields)

    @classmethod
    def fromCSV(cls, data: Sequence[Any], fields: Any, field_to_index: Mapping[str, int] | None = None  # noqa: N802
                ) -> Example:
        if field_to_index is None:
            return cls.fromlist(data, fields)
        return cls.fromdict({f: data[i] for f, i in field_to_index.items()}, fields)

    @classmethod
    def fromtree(cls, data: str, fields: Sequence[Any], subtrees: bool = False) -> Example | list[Example]:
        """A sentiment-treebank line (``(3 (2 It) ...)``): its words and label; with ``subtrees`` one
        Example per subtree. Needs nltk, as torchtext's did."""
        try:
            from nltk.tree import Tree
        except ImportError:
            raise ConfigError("Example.fromtree reads trees with nltk: `pip install nltk`", key="fromtree") from None
        tree = Tree.fromstring(data)
        if subtrees:
            return [cls.fromlist([" ".join(t.leaves()), t.label()], fields) for t in tree.subtrees()]
        return cls.fromlist([" ".join(tree.leaves()), tree.label()], fields)
