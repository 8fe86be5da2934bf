"""``torchtext.legacy.data.field``: nlprnn's fields with torchtext 0.11's defaults."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from nlprnn.data import field as native
from nlprnn.data.legacy_fields import RawField
from nlprnn.data.legacy_fields import ReversibleField as _NativeReversible
from nlprnn.data.legacy_fields import SubwordField as _NativeSubword
from nlprnn.data.nested_field import NestedField as _NativeNested
from nlprnn.legacy.vocab import Vocab

__all__ = ["Field", "LabelField", "NestedField", "RawField", "ReversibleField", "SubwordField"]


def _language(tokenizer_language: str | None) -> str | None:
    """torchtext's default ``'en'`` means nothing was asked (no warning); any other language is passed on."""
    return None if tokenizer_language == "en" else tokenizer_language


class Field(native.Field):
    """``torchtext.legacy.data.Field``, argument for argument: ``tokenize=None`` splits on whitespace
    (``str.split``), batches are time-major unless ``batch_first``."""

    vocab_cls = Vocab
    dtypes = native._PYTHON_TYPES
    """dtype -> the Python type a string value becomes with ``use_vocab=False`` (torchtext's attribute)."""

    def __init__(self, sequential: bool = True, use_vocab: bool = True, init_token: str | None = None,
                 eos_token: str | None = None, fix_length: int | None = None, dtype: torch.dtype = torch.long,
                 preprocessing: Callable[[Any], Any] | None = None, postprocessing: Callable[..., Any] | None = None,
                 lower: bool = False, tokenize: Any = None, tokenizer_language: str | None = "en",
                 include_lengths: bool = False, batch_first: bool = False, pad_token: str | None = "<pad>",
                 unk_token: str | None = "<unk>", pad_first: bool = False, truncate_first: bool = False,
                 stop_words: Iterable[str] | None = None, is_target: bool = False) -> None:
        super().__init__(sequential=sequential, use_vocab=use_vocab, init_token=init_token, eos_token=eos_token,
                         fix_length=fix_length, dtype=dtype, preprocessing=preprocessing,
                         postprocessing=postprocessing, lower=lower,
                         tokenize="whitespace" if tokenize is None else tokenize,
                         tokenizer_language=_language(tokenizer_language), include_lengths=include_lengths,
                         batch_first=batch_first, pad_token=pad_token, unk_token=unk_token, pad_first=pad_first,
                         truncate_first=truncate_first, stop_words=stop_words, is_target=is_target)


class LabelField(Field):
    """torchtext's LabelField: a Field that is never sequential, has no ``<unk>`` and is the target,
    whatever was passed; ids by frequency (nlprnn.LabelField numbers labels in their natural order)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(sequential=False, unk_token=None, is_target=True)
        super().__init__(**kwargs)


class NestedField(_NativeNested, Field):
    """``torchtext.legacy.data.NestedField(nesting_field, use_vocab, init_token, eos_token, fix_length, ...)``:
    arguments in torchtext's order, batches (batch, words, chars)."""

    vocab_cls = Vocab

    def __init__(self, nesting_field: native.Field, use_vocab: bool = True, init_token: str | None = None,
                 eos_token: str | None = None, fix_length: int | None = None, dtype: torch.dtype = torch.long,
                 preprocessing: Callable[[Any], Any] | None = None, postprocessing: Callable[..., Any] | None = None,
                 tokenize: Any = None, tokenizer_language: str | None = "en", include_lengths: bool = False,
                 pad_token: str | None = "<pad>", pad_first: bool = False, truncate_first: bool = False) -> None:
        super().__init__(nesting_field, tokenize="whitespace" if tokenize is None else tokenize,
                         include_lengths=include_lengths, batch_first=True, pad_token=pad_token,
                         unk_token=nesting_field.unk_token, lower=nesting_field.lower, dtype=dtype,
                         fix_length=fix_length, use_vocab=use_vocab, init_token=init_token, eos_token=eos_token,
                         preprocessing=preprocessing, postprocessing=postprocessing,
                         tokenizer_language=_language(tokenizer_language), pad_first=pad_first,
                         truncate_first=truncate_first)


class ReversibleField(_NativeReversible, Field):
    """torchtext's ReversibleField (ids back to text with ``reverse``), with torchtext's defaults."""


class SubwordField(_NativeSubword, Field):
    """torchtext's SubwordField; its revtok subwords are characters here (a DeprecationWarning says so)."""
