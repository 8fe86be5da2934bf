"""``torchtext.legacy.vocab``: Vocab with torchtext 0.11's defaults, and the pretrained vectors it loads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from nlprnn.data import vocab as native
from nlprnn.data.vectors import CharNGram, FastText, GloVe, Vectors, pretrained_aliases

__all__ = ["CharNGram", "FastText", "GloVe", "Vectors", "Vocab", "pretrained_aliases"]


class Vocab(native.Vocab):
    """torchtext's ``Vocab(counter, max_size, min_freq, specials, vectors, unk_init, vectors_cache,
    specials_first)``: ``<unk>`` exists when ``specials`` lists it; ``min_freq`` below 1 counts as 1;
    equal when counts, ids and vectors are."""

    UNK = native.UNK

    def __init__(self, counter: Mapping[str, int] | None = None, max_size: int | None = None, min_freq: int = 1,
                 specials: Sequence[str] = ("<unk>", "<pad>"), vectors: Any = None,
                 unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 vectors_cache: str | Path | None = None, specials_first: bool = True) -> None:
        super().__init__(counter, max_size=max_size, min_freq=max(min_freq, 1), specials=specials, vectors=vectors,
                         unk_init=unk_init, vectors_cache=vectors_cache, specials_first=specials_first)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, native.Vocab):
            return NotImplemented
        same_vectors = (self.vectors is None and other.vectors is None) or (
            self.vectors is not None and other.vectors is not None and torch.equal(self.vectors, other.vectors))
        return (self.freqs == other.freqs and dict(self.stoi) == dict(other.stoi) and self.itos == other.itos
                and same_vectors)

    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as torchtext's
