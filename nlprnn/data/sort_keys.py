"""A user's ``sort_key`` on the fast path: recognised by probing, evaluated on the Arrow columns.

torchtext code passes ``sort_key=lambda x: len(x.text)`` (or ``interleave_keys`` of two lengths) to its
iterators. Calling it on 150,000 Example objects costs more than the whole columnar epoch, so the key
is first called on probe rows (a seeded sample and each field's shortest and longest rows) and compared
with what the columns give at once: each sequential field's length, and ``interleave_keys`` of two of
them. A candidate that agrees on every probe is used for all rows; a key that matches none is called on
every row, as torchtext did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nlprnn.data.dataset import Dataset


def interleave_keys(a: int, b: int) -> int:
    """Interleave the bits of two 16-bit numbers into one sort key, as torchtext's ``interleave_keys``:
    examples close in both lengths get close keys."""

    def interleave(args: Any) -> str:
        return "".join(x for t in zip(*args) for x in t)

    return int("".join(interleave(format(x, "016b") for x in (a, b))), base=2)


def interleave_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``interleave_keys`` of two arrays of numbers below 2**16, vectorized."""
    out = np.zeros(len(a), dtype=np.int64)
    for bit in range(16):
        out |= ((a >> bit) & 1) << (2 * bit + 1)
        out |= ((b >> bit) & 1) << (2 * bit)
    return out


def _candidates(dataset: Dataset) -> Iterator[tuple[str, np.ndarray]]:
    sequential = [name for name, field in dataset.fields.items() if field.sequential]
    lengths = {name: dataset.lengths(name) for name in sequential}
    for name in sequential:
        yield f"len(x.{name})", lengths[name]
    for a, b in product(sequential, repeat=2):
        if lengths[a].max(initial=0) < 2**16 and lengths[b].max(initial=0) < 2**16:
            yield f"interleave_keys(len(x.{a}), len(x.{b}))", interleave_columns(lengths[a], lengths[b])


def probe_rows(dataset: Dataset, count: int = 256, seed: int = 0) -> np.ndarray:
    """A seeded sample of rows plus every sequential field's shortest and longest rows."""
    rng = np.random.default_rng(seed)
    rows = set(rng.choice(len(dataset), size=min(count, len(dataset)), replace=False).tolist())
    for name, field in dataset.fields.items():
        if field.sequential and len(dataset):
            lengths = dataset.lengths(name)
            rows.update((int(lengths.argmin()), int(lengths.argmax())))
    return np.asarray(sorted(rows), dtype=np.int64)


def sort_key_values(dataset: Dataset, sort_key: Callable[[Any], Any]) -> tuple[np.ndarray, str]:
    """Every row's ``sort_key`` value as integers that sort the same way, and how they were found:
    the recognised column expression, or ``"called on every row"``."""
    if len(dataset) == 0:
        return np.zeros(0, dtype=np.int64), "empty"
    probes = probe_rows(dataset)
    expected = [sort_key(dataset[int(row)]) for row in probes]
    for name, values in _candidates(dataset):
        if all(isinstance(e, int | np.integer) and int(e) == int(v) for e, v in zip(expected, values[probes])):
            return values, name
    keys = [sort_key(example) for example in dataset.examples]
    if all(isinstance(k, int | np.integer) for k in keys):
        return np.asarray(keys, dtype=np.int64), "called on every row"
    ranks = np.empty(len(keys), dtype=np.int64)  # tuples, floats, strings: their order as ranks
    ranks[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return ranks, "called on every row"
