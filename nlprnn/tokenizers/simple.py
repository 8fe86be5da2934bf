"""Tokenizers that need nothing beyond Python: whitespace and characters."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlprnn.parallel import in_threads
from nlprnn.tokenizers.base import Tokenizer, keep_tokens, register_tokenizer


@register_tokenizer
class WhitespaceTokenizer(Tokenizer):
    """Splits on runs of Unicode whitespace, like ``str.split()``."""

    name = "whitespace"
    lowercase_commutes = True

    def __call__(self, text: str) -> list[str]:
        return text.split()

    def tokenize_arrow(self, texts: pa.Array, lower: bool = False) -> pa.ListArray:
        return in_threads(self._split_lower_arrow if lower else self._split_arrow, texts)

    @classmethod
    def _split_lower_arrow(cls, texts: pa.Array) -> pa.ListArray:
        return cls._split_arrow(pc.utf8_lower(texts))

    @staticmethod
    def _split_arrow(texts: pa.Array) -> pa.ListArray:
        # utf8_split_whitespace keeps empty strings where a text starts or ends with whitespace (and
        # gives [""] for ""); str.split() does not. Dropping them afterwards, only where there are
        # any, costs a third less than trimming every text first.
        split = pc.utf8_split_whitespace(texts)
        flat = split.flatten()
        keep = pc.not_equal(pc.binary_length(flat), 0)
        if pc.all(keep).as_py():
            return split
        offsets = split.offsets.to_numpy()
        flat, offsets = keep_tokens(flat, offsets - offsets[0], keep)
        return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat)


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
