"""NestedField: tokens split again into sub-tokens (words into characters) for character features."""

from __future__ import annotations

from collections.abc import Sequence
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

    ``nesting_field`` says how each token is split (its ``tokenize``, e.g. ``"char"``), its
    ``init_token``/``eos_token`` mark each word's ends and its ``fix_length`` caps the characters of a
    word; this field's ``init_token``/``eos_token`` add whole words at the sentence's ends and its
    ``fix_length`` caps the words, as in torchtext. Both share one vocab. Batches are (batch, words,
    chars); with ``include_lengths`` they also carry the words per example and the characters per word.
    """

    kind = "nested"

    def __init__(self, nesting_field: Field, tokenize: Any = "whitespace", include_lengths: bool = False,
                 batch_first: bool = True, pad_token: str | None = "<pad>", unk_token: str | None = "<unk>",
                 lower: bool = False, dtype: torch.dtype = torch.long, fix_length: int | None = None,
                 use_vocab: bool = True, init_token: str | None = None, eos_token: str | None = None,
                 preprocessing: Any = None, postprocessing: Any = None, tokenizer_language: str | None = None,
                 pad_first: bool = False, truncate_first: bool = False) -> None:
        if isinstance(nesting_field, NestedField):
            raise ConfigError("the nesting field must not be another NestedField: nesting field must not be another "
                              "NestedField", key="nesting_field")
        if nesting_field.include_lengths:
            raise ConfigError("the nesting field cannot have include_lengths=True (the NestedField's own "
                              "include_lengths gives the characters per word): nesting field cannot have "
                              "include_lengths=True", key="include_lengths")
        if nesting_field.sequential and nesting_field.pad_token is not None:
            pad_token = nesting_field.pad_token  # a word of padding is a row of the characters' pad
        if nesting_field.unk_token is not None:
            unk_token = nesting_field.unk_token
        super().__init__(tokenize=tokenize, include_lengths=include_lengths, batch_first=batch_first,
                         pad_token=pad_token, unk_token=unk_token, lower=lower or nesting_field.lower, dtype=dtype,
                         fix_length=None, use_vocab=use_vocab, init_token=init_token, eos_token=eos_token,
                         preprocessing=preprocessing, postprocessing=postprocessing,
                         tokenizer_language=tokenizer_language, pad_first=pad_first, truncate_first=truncate_first)
        self.fix_length = fix_length  # words per example (the nesting field's fix_length: characters per word)
        self.nesting_field = nesting_field
        nesting_field.batch_first = True  # each example's words are numericalized (words, chars)
        nesting_field.pad_token = nesting_field.pad_token or pad_token
        nesting_field.unk_token = nesting_field.unk_token or unk_token

    @property
    def columnar(self) -> bool:
        """The column path covers characters padded on the right through the vocab; word markers, left
        padding, a cap on the words or numbers as values make batches through ``process``, as torchtext."""
        nesting = self.nesting_field
        return (super().columnar and self.use_vocab and nesting.sequential and nesting.postprocessing is None
                and None is self.init_token is self.eos_token is nesting.init_token is nesting.eos_token
                and not self.pad_first and self.fix_length is None)

    # -- per-example API (torchtext's) ---------------------------------------------------------
    def preprocess(self, x: Any) -> Any:
        """The words (this field's tokenizer and preprocessing), each then preprocessed by the nesting field."""
        return [self.nesting_field.preprocess(word) for word in super().preprocess(x)]

    def pad(self, minibatch: Sequence[Any]) -> Any:
        """Pad every word to one number of characters (the nesting field's rules: its markers, its
        fix_length, or the longest word plus markers), then every example to one number of words,
        padding with whole words of pad; with include_lengths also the words per example and the
        characters per word (0 for padding words)."""
        minibatch = list(minibatch)
        nesting = self.nesting_field
        if not nesting.sequential:
            return super().pad(minibatch)
        if nesting.fix_length is not None:
            width = nesting.fix_length
        else:
            width = max(len(word) for example in minibatch for word in example)
            width += (nesting.init_token is not None) + (nesting.eos_token is not None)
        pad_word = [self.pad_token] * width
        chars = Field(sequential=True, use_vocab=False, tokenize=None, pad_token=nesting.pad_token,
                      init_token=nesting.init_token, eos_token=nesting.eos_token, fix_length=width,
                      pad_first=nesting.pad_first, truncate_first=nesting.truncate_first, include_lengths=True)
        padded, sentence_lengths = self._pad_words(minibatch, pad_word)
        examples: list[list[list[str]]] = []
        word_lengths: list[list[int]] = []
        for example, length in zip(padded, sentence_lengths):
            rows, lengths = chars.pad(example)
            missing = len(example) - length  # padding words: one row of pad each, length 0
            spots = range(missing) if self.pad_first else range(length, len(example))
            for spot in spots:
                rows[spot], lengths[spot] = list(pad_word), 0
            examples.append(rows)
            word_lengths.append(lengths)
        if self.include_lengths:
            return examples, sentence_lengths, word_lengths
        return examples

    def _pad_words(self, minibatch: list[Any], pad_word: list[Any]) -> tuple[list[list[Any]], list[int]]:
        """Examples padded to one number of words (the sentence markers as words of one token), with
        the words of each before padding."""
        markers = (self.init_token is not None) + (self.eos_token is not None)
        width = self.fix_length if self.fix_length is not None else max(len(x) for x in minibatch) + markers
        room = max(width - markers, 0)
        padded, lengths = [], []
        for example in minibatch:
            kept = list(example[-room:] if self.truncate_first else example[:room]) if room else []
            body = ([[self.init_token]] if self.init_token is not None else []) + kept + (
                [[self.eos_token]] if self.eos_token is not None else [])
            fill = [pad_word] * (width - len(body))
            padded.append(fill + body if self.pad_first else body + fill)
            lengths.append(len(body))
        return padded, lengths

    def numericalize(self, arrs: Any, device: torch.device | str | None = None) -> Any:
        """Each padded example through the nesting field, stacked into (batch, words, chars); with
        include_lengths, ``(tensor, words per example, characters per word)``."""
        if self.include_lengths:
            arrs, sentence_lengths, word_lengths = arrs
        nesting = self.nesting_field
        stacked = torch.stack([nesting.numericalize(example, device=device) for example in arrs])
        if not self.batch_first:
            stacked = stacked.transpose(0, 1).contiguous()
        if self.include_lengths:
            return (stacked, torch.tensor(sentence_lengths, dtype=self.dtype, device=device),
                    torch.tensor(word_lengths, dtype=self.dtype, device=device))
        return stacked

    # -- column API -------------------------------------------------------------------------------
    def preprocess_column(self, column: pa.Array | pa.ChunkedArray, progress: bool = False) -> tuple[pa.Array, TokenizeReport | None]:
        words, report = super().preprocess_column(column, progress)
        flat, offsets = list_offsets(words)
        chars, _ = self.nesting_field.preprocess_column(flat)
        nested = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), chars)
        return nested, report

    def encode(self, processed: pa.Array) -> Encoded:
        """Characters encoded; ``offsets`` split them into words (rows are split by ``numericalize``)."""
        return encode(list_offsets(processed)[0])

    def special_tokens(self) -> list[str]:
        """This field's specials (unk, pad, sentence markers), then the nesting field's (word markers),
        the order torchtext's shared vocab had."""
        return list(dict.fromkeys(super().special_tokens() + self.nesting_field.special_tokens()))

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str], specials_first: bool = True) -> Vocab:
        vocab = super()._make_vocab(tokens, counts, max_size, min_freq, specials, specials_first)
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
        width = self.nesting_field.fix_length or int(char_counts.max(initial=1))
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
                "dtype": str(self.dtype).replace("torch.", ""), "fix_length": self.fix_length,
                **{k: getattr(self, k) for k in ("init_token", "eos_token", "pad_first", "truncate_first")
                   if getattr(self, k)},
                **({"use_vocab": False} if not self.use_vocab else {})}

    @classmethod
    def _from_spec(cls, spec: dict[str, Any]) -> Field:
        spec = dict(spec)
        spec["nesting_field"] = Field.from_spec(spec["nesting_field"])
        return cls(**spec)
