"""``torchtext.legacy.datasets.sequence_tagging``: a CoNLL-style column file (torchtext's defaults: tab
separated, ``-DOCSTART-`` lines kept as tokens) and the UDPOS and CoNLL-2000 chunking corpora."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from nlprnn.data.example import Example
from nlprnn.data.file_datasets import SequenceTaggingDataset as _NativeTagging
from nlprnn.legacy.data.dataset import Dataset

__all__ = ["CoNLL2000Chunking", "SequenceTaggingDataset", "UDPOS"]


class SequenceTaggingDataset(Dataset, _NativeTagging):
    """``SequenceTaggingDataset(path, fields, encoding='utf-8', separator='\\t')``: one token a line, a
    blank line between sentences, ``fields`` one ``(name, field)`` or None per column."""

    @staticmethod
    def sort_key(example: Example) -> int:
        return len(next(iter(vars(example).values()), ()))

    def __init__(self, path: str | Path, fields: Any, encoding: str = "utf-8", separator: str = "\t",
                 **kwargs: Any) -> None:
        _NativeTagging.__init__(self, path, fields, encoding=encoding, separator=separator, keep_docstart=True,
                                **kwargs)


class UDPOS(SequenceTaggingDataset):
    """Universal Dependencies English Web Treebank POS tags: ``root/udpos/en-ud-v2/en-ud-tag.v2.*.txt``."""

    urls = ["https://bitbucket.org/sivareddyg/public/downloads/en-ud-v2.zip"]
    dirname = "en-ud-v2"
    name = "udpos"

    @classmethod
    def splits(cls, fields: Any, root: str = ".data", train: str = "en-ud-tag.v2.train.txt",  # type: ignore[override]
               validation: str = "en-ud-tag.v2.dev.txt", test: str = "en-ud-tag.v2.test.txt",
               **kwargs: Any) -> tuple[Any, ...]:
        return super().splits(fields=fields, root=root, train=train, validation=validation, test=test, **kwargs)


class CoNLL2000Chunking(SequenceTaggingDataset):
    """CoNLL-2000 chunking (``word POS chunk``, space separated): ``root/conll2000/conll2000/{train,test}.txt``;
    with no validation file, torchtext split 10% of train off (seeded), as here."""

    urls = ["https://www.clips.uantwerpen.be/conll2000/chunking/train.txt.gz",
            "https://www.clips.uantwerpen.be/conll2000/chunking/test.txt.gz"]
    dirname = ""
    name = "conll2000"

    @classmethod
    def splits(cls, fields: Any, root: str = ".data", train: str = "train.txt",  # type: ignore[override]
               test: str = "test.txt", validation_frac: float = 0.1, **kwargs: Any) -> tuple[Any, ...]:
        train_data, test_data = super().splits(fields=fields, root=root, train=train, test=test, separator=" ",
                                               **kwargs)
        # the same 10% every time: torchtext split with the state random.seed(0) gives (and left the
        # global generator reseeded; here it is left alone)
        train_data, val_data = train_data.split(1 - validation_frac, random_state=random.Random(0).getstate())
        return train_data, val_data, test_data
