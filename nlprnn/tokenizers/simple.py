"""Tokenizers that need nothing beyond Python: whitespace and characters."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from nlprnn.tokenizers.base import Tokenizer, register_tokenizer


@register_tokenizer
class WhitespaceTokenizer(Tokenizer):
    """Splits on runs of Unicode whitespace, like ``str.split()``."""

    name = "whitespace"

    def __call__(self, text: str) -> list[str]:
        return text.split()

    def tokenize_arrow(self, texts: pa.Array) -> pa.ListArray:
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
