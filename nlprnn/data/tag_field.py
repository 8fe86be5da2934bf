"""TagField: per-token entity tags, converted to BIO from their scheme and checked sentence by sentence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from nlprnn.data.field import LIST_OF_STRINGS, Field
from nlprnn.data.issues import Locate, RowIssue, nowhere
from nlprnn.data.label_field import ordered_vocab
from nlprnn.data.tags import SCHEMES, bio_errors, repair_bio, to_bio
from nlprnn.data.vocab import Vocab
from nlprnn.errors import ConfigError
from nlprnn.tokenizers import TokenizeReport


class TagField(Field):
    """Per-token tags (NER): converted to BIO from ``scheme`` ("bio", "iob1", "bioes") and checked.

    ``on_invalid="error"`` reports an ``I-X`` that follows neither ``B-X`` nor ``I-X`` with file and
    line; ``"repair"`` turns it into ``B-X`` (counted in ``repaired``). Tag ids: pad, then ``O``, then the
    others sorted by entity type, B before I.
    """

    kind = "tag"

    def __init__(self, scheme: str = "bio", on_invalid: str = "error", **kwargs: Any) -> None:
        if scheme not in SCHEMES:
            raise ConfigError(f"scheme must be one of {SCHEMES}, not {scheme!r}", key="scheme", value=scheme,
                              allowed=list(SCHEMES))
        if on_invalid not in ("error", "repair"):
            raise ConfigError(f"on_invalid must be 'error' or 'repair', not {on_invalid!r}", key="on_invalid",
                              value=on_invalid, allowed=["error", "repair"])
        kwargs.setdefault("unk_token", None)
        kwargs.setdefault("is_target", True)
        kwargs.setdefault("tokenize", "whitespace")
        super().__init__(**kwargs)
        self.scheme = scheme
        self.on_invalid = on_invalid
        self.repaired = 0

    def _value_name(self) -> str:
        return "tag"

    def preprocess_column(self, column: pa.Array | pa.ChunkedArray,
                          progress: bool = False) -> tuple[pa.Array, TokenizeReport | None]:
        """Tags converted to BIO (and, with ``on_invalid="repair"``, repaired). A sequence that cannot be
        converted is left as it is, for ``row_problems`` to report."""
        tags, report = super().preprocess_column(column, progress)
        sequences = tags.to_pylist()
        changed = False
        for row, sequence in enumerate(sequences):
            try:
                bio = to_bio(sequence, self.scheme)
            except ValueError:
                continue
            if self.on_invalid == "repair" and bio_errors(bio):
                bio = repair_bio(bio)
                self.repaired += 1
            if bio != sequence:
                sequences[row], changed = bio, True
        return (pa.array(sequences, type=LIST_OF_STRINGS) if changed else tags), report

    def row_problems(self, raw: pa.Array, processed: pa.Array, locate: Locate = nowhere) -> dict[int, RowIssue]:
        """The base checks, then every sequence's first BIO error, with the line of its token."""
        problems = super().row_problems(raw, processed, locate)
        for row, tags in enumerate(processed.to_pylist()):
            errors = bio_errors(tags)
            if not errors or row in problems:
                continue
            position, message = errors[0]
            _, line = locate(row, position)
            where = f"token {position + 1}" + (f" (line {line})" if line is not None else "")
            problems[row] = RowIssue("broken_bio", f"{where}: {message}.", "fix the sequence",
                                     ("repair_tags", "skip_rows"))
        return problems

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str], specials_first: bool = True) -> Vocab:
        def key(tag: str) -> tuple[str, str]:
            prefix, _, kind = tag.partition("-")
            return ("", "") if tag == "O" else (kind, prefix)

        order = sorted(tokens.to_pylist(), key=key)
        return ordered_vocab(tokens, counts, order, self.special_tokens() + specials, self.unk_token)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "scheme": self.scheme, "on_invalid": self.on_invalid}
