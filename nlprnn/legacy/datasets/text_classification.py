"""``torchtext.legacy.datasets`` for text classification: IMDB (``imdb.py``), SST (``sst.py``) and TREC
(``trec.py``), each read from its unpacked archive under ``root``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from nlprnn.data.example import Example
from nlprnn.data.field import Field
from nlprnn.data.legacy import Pipeline
from nlprnn.legacy.data.dataset import Dataset
from nlprnn.legacy.data.field import Field as LegacyField
from nlprnn.legacy.data.iterator import BucketIterator
from nlprnn.legacy.datasets.base import fill_from_columns, need_file

__all__ = ["IMDB", "SST", "TREC"]


def _by_length(example: Example) -> int:
    return len(example.text)


class _Classification(Dataset):
    """A data set of (text, label) examples with torchtext's ``iters`` shortcut."""

    sort_key = staticmethod(_by_length)

    @classmethod
    def iters(cls, batch_size: int = 32, device: Any = None, root: str = ".data", vectors: Any = None,
              **kwargs: Any) -> tuple[Any, ...]:
        """BucketIterators over the splits with whitespace text and label Fields, vocabs from train."""
        text, label = LegacyField(), LegacyField(sequential=False)
        splits = cls.splits(text, label, root=root, **kwargs)  # type: ignore[misc, arg-type]
        text.build_vocab(splits[0], vectors=vectors)
        label.build_vocab(splits[0])
        return BucketIterator.splits(splits, batch_size=batch_size, device=device)


class IMDB(_Classification):
    """Large Movie Review Dataset: ``root/imdb/aclImdb/{train,test}/{pos,neg}/*.txt``, each file's first line
    a review (files in name order; torchtext took the directory's order)."""

    urls = ["http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"]
    name = "imdb"
    dirname = "aclImdb"

    def __init__(self, path: str | Path, text_field: Field, label_field: Field, **kwargs: Any) -> None:
        texts, labels = [], []
        for label in ("pos", "neg"):
            folder = need_file(Path(path) / label, "IMDB", str(self.urls[0]))
            for name in sorted(os.listdir(folder)):
                if name.endswith(".txt"):
                    with open(folder / name, encoding="utf-8") as handle:
                        texts.append(handle.readline())
                    labels.append(label)
        fill_from_columns(self, path, {"text": texts, "label": labels},
                          [("text", text_field), ("label", label_field)], **kwargs)

    @classmethod
    def splits(cls, text_field: Field, label_field: Field, root: str = ".data",  # type: ignore[override]
               train: str = "train", test: str = "test", **kwargs: Any) -> tuple[Any, ...]:
        return super().splits(root=root, text_field=text_field, label_field=label_field, train=train,
                              validation=None, test=test, **kwargs)


SST_LABELS = {"0": "negative", "1": "negative", "2": "neutral", "3": "positive", "4": "positive"}


def parse_tree(line: str) -> Any:
    """A bracketed tree (``(3 (2 It) (4 works))``) as nested ``[label, child, ...]`` lists, leaves as strings."""
    stack: list[list[Any]] = [[]]
    for token in re.findall(r"\(|\)|[^\s()]+", line):
        if token == "(":
            stack.append([])
        elif token == ")":
            node = stack.pop()
            stack[-1].append(node)
        else:
            stack[-1].append(token)
    return stack[0][0]


def tree_leaves(tree: Any) -> list[str]:
    return [tree] if isinstance(tree, str) else [leaf for child in tree[1:] for leaf in tree_leaves(child)]


def all_subtrees(tree: Any) -> list[Any]:
    """The tree and every subtree, in nltk's order (parents before their children)."""
    if isinstance(tree, str):
        return []
    return [tree] + [sub for child in tree[1:] for sub in all_subtrees(child)]


class SST(_Classification):
    """Stanford Sentiment Treebank: ``root/sst/trees/{train,dev,test}.txt``, one bracketed tree a line;
    labels ``negative``/``neutral``/``positive`` (``fine_grained``: ``very negative`` ... ``very positive``).
    The trees are parsed here (torchtext needed nltk)."""

    urls = ["http://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"]
    dirname = "trees"
    name = "sst"

    def __init__(self, path: str | Path, text_field: Field, label_field: Field, subtrees: bool = False,
                 fine_grained: bool = False, **kwargs: Any) -> None:
        labels = dict(SST_LABELS)
        if fine_grained:
            labels.update({"0": "very negative", "4": "very positive"})
        label_field.preprocessing = Pipeline(lambda label: labels.get(label, label))  # as torchtext set it
        texts, gold, lines = [], [], []
        with open(need_file(path, "SST", str(self.urls[0])), encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                tree = parse_tree(line)
                for node in (all_subtrees(tree) if subtrees else [tree]):
                    texts.append(" ".join(tree_leaves(node)))
                    gold.append(node[0])
                    lines.append(number)
        fill_from_columns(self, path, {"text": texts, "label": gold},
                          [("text", text_field), ("label", label_field)], lines=lines, **kwargs)

    @classmethod
    def splits(cls, text_field: Field, label_field: Field, root: str = ".data",  # type: ignore[override]
               train: str | None = "train.txt", validation: str | None = "dev.txt", test: str | None = "test.txt",
               train_subtrees: bool = False, **kwargs: Any) -> tuple[Any, ...]:
        folder = cls.download(root)
        parts = [(train, {"subtrees": train_subtrees}), (validation, {}), (test, {})]
        return tuple(cls(os.path.join(folder, name), text_field, label_field, **extra, **kwargs)
                     for name, extra in parts if name is not None)



class TREC(_Classification):
    """TREC question classification: ``root/trec/{train_5500.label,TREC_10.label}``, ``LABEL:fine text``
    a line; the coarse label unless ``fine_grained``."""

    urls = ["http://cogcomp.org/Data/QA/QC/train_5500.label", "http://cogcomp.org/Data/QA/QC/TREC_10.label"]
    name = "trec"
    dirname = ""

    def __init__(self, path: str | Path, text_field: Field, label_field: Field, fine_grained: bool = False,
                 **kwargs: Any) -> None:
        label_field.preprocessing = Pipeline(lambda label: label if fine_grained else label.split(":")[0])
        texts, labels = [], []
        with open(need_file(path, "TREC", str(self.urls[0])), "rb") as handle:
            for raw in handle:
                # one non-ASCII byte in the train file (sister\\xf0city), replaced with a space as torchtext did
                label, _, text = raw.replace(b"\xf0", b" ").decode().partition(" ")
                texts.append(text.rstrip("\n"))
                labels.append(label)
        fill_from_columns(self, path, {"text": texts, "label": labels},
                          [("text", text_field), ("label", label_field)], **kwargs)

    @classmethod
    def splits(cls, text_field: Field, label_field: Field, root: str = ".data",  # type: ignore[override]
               train: str = "train_5500.label", test: str = "TREC_10.label", **kwargs: Any) -> tuple[Any, ...]:
        return super().splits(root=root, text_field=text_field, label_field=label_field, train=train,
                              validation=None, test=test, **kwargs)
