"""Tokenizers that need nothing beyond Python: whitespace and characters."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from nlprnn.tokenizers.base import Tokenizer, register_tokenizer

#: below this many rows one thread does it (a thread's start costs more than it saves)
THREADED_ROWS = 50_000


def in_threads(function: Callable[[pa.Array], pa.Array], array: pa.Array) -> pa.Array:
    """``function`` over contiguous slices of ``array`` in one thread per core, joined in order: Arrow's
    compute kernels release the GIL, so a column's split runs on every core."""
    parts = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)
    if parts < 2 or len(array) < THREADED_ROWS:
        return function(array)
    step = -(-len(array) // parts)
    with ThreadPoolExecutor(parts) as pool:
        pieces = list(pool.map(function, [array.slice(i, step) for i in range(0, len(array), step)]))
    return pa.concat_arrays(pieces)


@register_tokenizer
class WhitespaceTokenizer(Tokenizer):
    """Splits on runs of Unicode whitespace, like ``str.split()``."""

    name = "whitespace"
    lowercase_commutes = True

    def __call__(self, text: str) -> list[str]:
        return text.split()

    def tokenize_arrow(self, texts: pa.Array) -> pa.ListArray:
        return in_threads(self._split_arrow, texts)

    @staticmethod
    def _split_arrow(texts: pa.Array) -> pa.ListArray:
        # utf8_split_whitespace keeps empty strings at the ends; str.split() does not.
        stripped = pc.utf8_trim_whitespace(texts)
        split = pc.utf8_split_whitespace(stripped)
        empty = pc.equal(pc.utf8_length(stripped), 0)
        if pc.any(empty).as_py():
            split = pc.if_else(empty, pa.scalar([], type=split.type), split)
        return split


@register_tokenizer
class CharTokenizer(Tokenizer):
    """One token per character; spaces are dropped unless ``keep_spaces=True`` (char-level LMs)."""

    name = "char"
    output_options = ("keep_spaces",)

    def __init__(self, keep_spaces: bool = False, **options: Any) -> None:
        super().__init__(keep_spaces=keep_spaces, **options)
        self.keep_spaces = keep_spaces

    def __call__(self, text: str) -> list[str]:
        if self.keep_spaces:
            return list(text)
        return [c for c in text if not c.isspace()]


# torchtext's basic_english rules (torchtext.data.utils), in order
_BASIC_ENGLISH = [(re.compile(p), r) for p, r in [
    (r"\'", " '  "), (r'\"', ""), (r"\.", " . "), (r"<br \/>", " "), (r",", " , "), (r"\(", " ( "), (r"\)", " ) "),
    (r"\!", " ! "), (r"\?", " ? "), (r"\;", " "), (r"\:", " "), (r"\s+", " "),
]]


@register_tokenizer
class BasicEnglishTokenizer(Tokenizer):
    """torchtext's ``basic_english``: lowercase, punctuation split off, ``<br />`` removed, then spaces."""

    name = "basic_english"

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        for pattern, replacement in _BASIC_ENGLISH:
            text = pattern.sub(replacement, text)
        return text.split()
