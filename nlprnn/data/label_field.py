"""LabelField: one label per example, with ids in the labels' natural order (not by frequency)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from nlprnn.data.field import Field
from nlprnn.data.vocab import Vocab


def natural_order(labels: Iterable[str]) -> list[str]:
    """Labels sorted numerically when all are numbers, else by code point."""
    labels = list(labels)
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def ordered_vocab(tokens: pa.Array, counts: np.ndarray, order: list[str], specials: list[str],
                  unk_token: str | None) -> Vocab:
    """A vocab whose non-special ids follow ``order`` rather than frequency."""
    count_of = dict(zip(tokens.to_pylist(), counts.tolist()))
    vocab = Vocab(counter={}, specials=specials, unk_token=unk_token)
    ordered = [t for t in order if t not in set(specials)]
    vocab.itos = vocab.itos + ordered
    vocab.counts = np.concatenate([vocab.counts, np.asarray([count_of.get(t, 0) for t in ordered], dtype=np.int64)])
    return vocab


class LabelField(Field):
    """A single label per example: no tokenizing, no unk, no pad. Ids are stable: labels in natural
    order (numbers numerically, otherwise by code point), so ``"0"`` -> 0 and ``"1"`` -> 1 whatever
    the class balance (torchtext ordered them by frequency)."""

    kind = "label"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("sequential", False)
        kwargs.setdefault("unk_token", None)
        kwargs.setdefault("is_target", True)
        kwargs.setdefault("tokenize", None)
        super().__init__(**kwargs)

    def _value_name(self) -> str:
        return "label"

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str], specials_first: bool = True) -> Vocab:
        return ordered_vocab(tokens, counts, natural_order(tokens.to_pylist()), self.special_tokens() + specials,
                             self.unk_token)
