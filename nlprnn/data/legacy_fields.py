"""The rest of torchtext's fields: RawField (values passed through), ReversibleField (ids back to text),
SubwordField (characters as the subwords)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from nlprnn.data.columns import Encoded, IdColumn
from nlprnn.data.field import Field
from nlprnn.data.issues import Locate, RowIssue, nowhere
from nlprnn.tokenizers import TokenizeReport


class RawField(Field):
    """A column passed through as it is (an id, a raw sentence): no vocab, no tensor. ``batch.<name>`` is
    the list of the batch's values, after ``postprocessing`` when given."""

    kind = "raw"

    def __init__(self, preprocessing: Callable[[Any], Any] | None = None,
                 postprocessing: Callable[[list], list] | None = None, is_target: bool = False) -> None:
        super().__init__(sequential=False, use_vocab=False, tokenize=None, preprocessing=preprocessing,
                         is_target=is_target, pad_token=None, unk_token=None)
        self.raw_postprocessing = postprocessing

    def preprocess(self, x: Any) -> Any:
        return self.preprocessing(x) if self.preprocessing is not None else x

    @classmethod
    def _from_spec(cls, spec: dict[str, Any]) -> Field:
        return cls(is_target=spec.get("is_target", False))

    def process(self, batch: Any, *args: Any, **kwargs: Any) -> Any:
        return self.raw_postprocessing(batch) if self.raw_postprocessing is not None else batch

    def preprocess_column(self, column: pa.Array | pa.ChunkedArray,
                          progress: bool = False) -> tuple[pa.Array, TokenizeReport | None]:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if self.preprocessing is None:
            return column, None
        return pa.array([self.preprocessing(x) for x in column.to_pylist()]), None

    def row_problems(self, raw: pa.Array, processed: pa.Array, locate: Locate = nowhere) -> dict[int, RowIssue]:
        return {}  # any value passes through, an empty one too

    def build_vocab(self, *sources: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None  # a raw field has no vocab

    def numericalize_column(self, processed: pa.Array, locate: Locate = nowhere,
                            encoded: Encoded | None = None) -> IdColumn:
        values = np.empty(len(processed), dtype=object)
        values[:] = processed.to_pylist()
        return IdColumn(values)

    def batch_arrays(self, column: IdColumn, rows: np.ndarray) -> dict[str, np.ndarray]:
        return {"data": column.values[rows]}

    def to_tensors(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:  # type: ignore[override]
        return {"data": self.process(arrays["data"].tolist())}


class ReversibleField(Field):
    """A Field whose ids turn back into text with ``reverse`` (torchtext's, for generated output).

    The tokens are joined with a space, or with nothing for character tokens; Kkma and other morpheme
    analyzers restore lemmas, so their tokens do not always spell the original text.
    """

    kind = "reversible"

    def reverse(self, batch: torch.Tensor, include_eos: bool = False) -> list[str]:
        assert self.vocab is not None, "build the vocab first"
        if not self.batch_first:
            batch = batch.t()
        itos = self.vocab.itos
        texts = []
        for ids in batch.tolist():
            tokens = [itos[i] for i in ids]
            if self.eos_token is not None and self.eos_token in tokens:
                tokens = tokens[: tokens.index(self.eos_token) + (1 if include_eos else 0)]
            tokens = [t for t in tokens if t not in (self.init_token, self.pad_token)]
            joiner = "" if self.tokenizer is not None and self.tokenizer.name == "char" else " "
            texts.append(joiner.join(tokens))
        return texts


class SubwordField(Field):
    """torchtext's SubwordField split words into revtok's learned subwords, which nlprnn does not ship;
    here the subwords are characters (``tokenize="char"`` unless given), with a DeprecationWarning."""

    kind = "subword"

    def __init__(self, **kwargs: Any) -> None:
        warnings.warn("SubwordField: revtok's subword vocabulary is not available in nlprnn; characters are used "
                      "as subwords (tokenize='char'). Pass tokenize= for another tokenizer", DeprecationWarning,
                      stacklevel=2)
        kwargs.setdefault("tokenize", "char")
        super().__init__(**kwargs)

    def segment(self, *args: Any) -> Any:
        """Tokens of each argument (torchtext's ``segment``)."""
        return [self.preprocess(x) for x in args] if len(args) > 1 else self.preprocess(args[0])
