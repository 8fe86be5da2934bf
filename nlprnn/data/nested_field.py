"""NestedField: tokens split again into sub-tokens (words into characters) for character features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import torch

from nlprnn.data.columns import Encoded, IdColumn, encode, list_offsets
from nlprnn.data.field import Field
from nlprnn.data.issues import Locate, nowhere
from nlprnn.data.padding import pad_rows
from nlprnn.data.vocab import Vocab
from nlprnn.errors import ConfigError
from nlprnn.tokenizers import TokenizeReport


class NestedField(Field):
    """Tokens split again into sub-tokens, e.g. words into characters for character features.

    ``nesting_field`` says how each token is split (its ``tokenize``, e.g. ``"char"``) and holds the
    shared character vocab. Batches are (batch, words, chars); with ``include_lengths`` they also carry
    the words per example and the characters per word.
    """

    kind = "nested"

    def __init__(self, nesting_field: Field, tokenize: Any = "whitespace", include_lengths: bool = False,
                 batch_first: bool = True, pad_token: str | None = "<pad>", unk_token: str | None = "<unk>",
                 lower: bool = False, dtype: torch.dtype = torch.long, fix_length: int | None = None,
                 use_vocab: bool = True, init_token: str | None = None, eos_token: str | None = None,
                 preprocessing: Any = None, postprocessing: Any = None, tokenizer_language: str | None = None,
                 pad_first: bool = False, truncate_first: bool = False) -> None:
        if nesting_field.init_token is not None or nesting_field.eos_token is not None:
            raise ConfigError("NestedField does not support init/eos tokens on the nesting field",
                              key="nesting_field")
        unsupported = {"use_vocab": not use_vocab, "init_token": init_token is not None,
                       "eos_token": eos_token is not None, "postprocessing": postprocessing is not None,
                       "pad_first": pad_first, "truncate_first": truncate_first}
        for name, given in unsupported.items():
            if given:
                raise ConfigError(f"NestedField({name}=...) is torchtext's but not supported here: characters are "
                                  "padded on the right with a vocab; add sentence markers as words in the text",
                                  key=name)
        super().__init__(tokenize=tokenize, include_lengths=include_lengths, batch_first=batch_first,
                         pad_token=pad_token, unk_token=unk_token, lower=lower, dtype=dtype,
                         preprocessing=preprocessing, tokenizer_language=tokenizer_language)
        self.nesting_field = nesting_field
        self.char_fix_length = fix_length
        nesting_field.pad_token = nesting_field.pad_token or pad_token
        nesting_field.unk_token = nesting_field.unk_token or unk_token

    def preprocess(self, x: Any) -> Any:
        words = super().preprocess(x)
        return [self.nesting_field.preprocess(word) for word in words]

    def preprocess_column(self, column: pa.Array | pa.ChunkedArray, progress: bool = False) -> tuple[pa.Array, TokenizeReport | None]:
        words, report = super().preprocess_column(column, progress)
        flat, offsets = list_offsets(words)
        chars, _ = self.nesting_field.preprocess_column(flat)
        nested = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), chars)
        return nested, report

    def encode(self, processed: pa.Array) -> Encoded:
        """Characters encoded; ``offsets`` split them into words (rows are split by ``numericalize``)."""
        return encode(list_offsets(processed)[0])

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str]) -> Vocab:
        vocab = self.nesting_field._make_vocab(tokens, counts, max_size, min_freq, specials)
        self.nesting_field.vocab = vocab
        return vocab

    def attach_vocab(self, vocab: Vocab) -> None:
        """The characters' vocab, shared with the nesting field."""
        self.vocab = self.nesting_field.vocab = vocab

    def numericalize_column(self, processed: pa.Array, locate: Locate = nowhere,
                            encoded: Encoded | None = None) -> IdColumn:
        """Character ids; ``offsets`` split the words into rows and ``inner`` the characters into words."""
        _, outer = list_offsets(processed)
        encoded = encoded if encoded is not None else self.encode(processed)
        chars = self.nesting_field.numericalize_column(processed, locate, encoded=encoded)
        return IdColumn(chars.values, outer, chars.offsets)

    def batch_arrays(self, column: IdColumn, rows: np.ndarray) -> dict[str, np.ndarray]:
        assert column.offsets is not None and column.inner is not None and self.vocab is not None
        pad = self.vocab.index(self.pad_token) if self.pad_token is not None else 0
        # word positions of each example, -1 where padded
        word_ids, word_counts = pad_rows(np.arange(len(column.inner) - 1), column.offsets, rows, -1)
        valid = word_ids >= 0
        starts = np.where(valid, column.inner[np.maximum(word_ids, 0)], 0)
        char_counts = np.where(valid, column.inner[np.maximum(word_ids, 0) + 1] - starts, 0)
        width = self.char_fix_length or int(char_counts.max(initial=1))
        char_counts = np.minimum(char_counts, width)
        relative = np.arange(width)
        inside = relative[None, None, :] < char_counts[:, :, None]
        data = np.full(word_ids.shape + (width,), pad, dtype=np.int64)
        data[inside] = column.values[(starts[:, :, None] + relative[None, None, :])[inside]]
        return {"data": data, "lengths": word_counts, "char_lengths": char_counts}

    def to_tensors(self, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        data = torch.from_numpy(arrays["data"]).to(self.dtype)
        char_lengths = torch.from_numpy(arrays["char_lengths"])
        if not self.batch_first:
            data, char_lengths = data.transpose(0, 1).contiguous(), char_lengths.t().contiguous()
        return {"data": data, "lengths": torch.from_numpy(arrays["lengths"]), "char_lengths": char_lengths}

    def batch_value(self, tensors: dict[str, torch.Tensor]) -> Any:
        """The (batch, words, chars) tensor, or with include_lengths ``(tensor, words per example,
        characters per word)``, as torchtext's NestedField gives."""
        if self.include_lengths:
            return tensors["data"], tensors["lengths"], tensors["char_lengths"]
        return tensors["data"]

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "nesting_field": self.nesting_field.spec(),
                "tokenize": self.tokenizer.spec() if self.tokenizer is not None else None,
                "include_lengths": self.include_lengths, "batch_first": self.batch_first,
                "pad_token": self.pad_token, "unk_token": self.unk_token, "lower": self.lower,
                "dtype": str(self.dtype).replace("torch.", ""), "fix_length": self.char_fix_length}

    @classmethod
    def _from_spec(cls, spec: dict[str, Any]) -> Field:
        spec = dict(spec)
        spec["nesting_field"] = Field.from_spec(spec["nesting_field"])
        return cls(**spec)
