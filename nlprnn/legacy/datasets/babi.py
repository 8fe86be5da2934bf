"""``torchtext.legacy.datasets.babi``: the bAbI 20 tasks (``root/tasks_1-20_v1-2/en-valid[-10k]/qaN_*.txt``),
stories as lists of sentences batched (batch, memory, words) by ``BABI20Field``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import torch

from nlprnn.data.columns import Encoded, encode, list_offsets
from nlprnn.data.example import Example
from nlprnn.legacy.data.dataset import Dataset
from nlprnn.legacy.data.field import Field
from nlprnn.legacy.data.iterator import Iterator
from nlprnn.legacy.datasets.base import need_file

__all__ = ["BABI20", "BABI20Field"]


class BABI20Field(Field):
    """A Field whose value may be a list of sentences (a story): padded to ``memory_size`` sentences,
    the latest first, each sentence to the longest of the batch, as torchtext's."""

    def __init__(self, memory_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.memory_size = memory_size
        self.unk_token = None
        self.batch_first = True

    @property
    def columnar(self) -> bool:
        return False  # stories pad by their own rule: batches are made by process, per example

    def preprocess(self, x: Any) -> Any:
        parent = super().preprocess
        return [parent(sentence) for sentence in x] if isinstance(x, list) else parent(x)

    def encode(self, processed: pa.Array) -> Encoded:
        if pa.types.is_list(processed.type.value_type):  # a story: sentences of words
            return encode(list_offsets(processed)[0])
        return super().encode(processed)

    def pad(self, minibatch: Any) -> Any:
        minibatch = list(minibatch)
        if not isinstance(minibatch[0][0], list):
            return super().pad(minibatch)
        self.fix_length = max(max(len(s) for s in story) for story in minibatch)
        try:
            padded = []
            parent = super().pad
            for story in minibatch:
                latest = story[::-1][:self.memory_size]
                padded.append(parent(latest) + [[self.pad_token] * self.fix_length] * (self.memory_size - len(latest)))
            return padded
        finally:
            self.fix_length = None

    def numericalize(self, arr: Any, device: torch.device | str | None = None) -> Any:
        parent = super().numericalize
        if isinstance(arr[0][0], list):
            return torch.stack([parent(story, device=device) for story in arr])
        return parent(arr, device=device)


def parse_babi(lines: Iterable[str], only_supporting: bool = False) -> list[tuple[list[str], str, str]]:
    """(story sentences, question without its '?', answer) of each question of a bAbI file."""
    found, story = [], []  # type: ignore[var-annotated]
    for line in lines:
        number, text = line.rstrip("\n").split(" ", 1)
        if number == "1":
            story = []
        if text.endswith("."):
            story.append(text[:-1])
            continue
        query, answer, supporting = (part.strip() for part in text.split("\t"))
        told = [story[int(i) - 1] for i in supporting.split()] if only_supporting else [s for s in story if s]
        found.append((told, query[:-1], answer))
        story.append("")
    return found


class BABI20(Dataset):
    urls = ["http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"]
    name = ""
    dirname = ""

    def __init__(self, path: str | Path, text_field: Field, only_supporting: bool = False, **kwargs: Any) -> None:
        fields = [("story", text_field), ("query", text_field), ("answer", text_field)]
        with open(need_file(path, "bAbI", str(self.urls[0])), encoding="utf-8") as handle:
            examples = [Example.fromlist(list(triple), fields) for triple in parse_babi(handle, only_supporting)]
        super().__init__(examples, fields, **kwargs)
        self.sort_key = _by_query

    @classmethod
    def splits(cls, text_field: Field, path: str | None = None, root: str = ".data", task: int = 1,  # type: ignore[override]
               joint: bool = False, tenK: bool = False, only_supporting: bool = False, train: str | None = None,  # noqa: N803
               validation: str | None = None, test: str | None = None, **kwargs: Any) -> tuple[Any, ...]:
        if not (isinstance(task, int) and 1 <= task <= 20):
            raise AssertionError(f"task must be a number from 1 to 20, got {task!r}")
        cls.dirname = os.path.join("tasks_1-20_v1-2", "en-valid-10k" if tenK else "en-valid")
        folder = path if path is not None else cls.download(root)
        train = train or (_joined(folder, "train") if joint else f"qa{task}_train.txt")
        validation = validation or (_joined(folder, "valid") if joint else f"qa{task}_valid.txt")
        test = test or f"qa{task}_test.txt"
        return super().splits(path=folder, root=root, text_field=text_field, train=train, validation=validation,
                              test=test, only_supporting=only_supporting, **kwargs)

    @classmethod
    def iters(cls, batch_size: int = 32, root: str = ".data", memory_size: int = 50, task: int = 1,
              joint: bool = False, tenK: bool = False, only_supporting: bool = False, sort: bool = False,  # noqa: N803
              shuffle: bool = False, device: Any = None, **kwargs: Any) -> tuple[Any, ...]:
        text = BABI20Field(memory_size)
        splits = cls.splits(text, root=root, task=task, joint=joint, tenK=tenK, only_supporting=only_supporting,
                            **kwargs)
        text.build_vocab(splits[0])
        return Iterator.splits(splits, batch_size=batch_size, sort=sort, shuffle=shuffle, device=device)


def _by_query(example: Example) -> int:
    return len(example.query)


def _joined(folder: str, part: str) -> str:
    """All 20 tasks' ``part`` files in one (``all_{part}.txt``, written once), for joint training."""
    name = f"all_{part}.txt"
    target = os.path.join(folder, name)
    if not os.path.isfile(target):
        with open(target, "w", encoding="utf-8") as out:
            for task in range(1, 21):
                with open(need_file(os.path.join(folder, f"qa{task}_{part}.txt"), "bAbI", str(BABI20.urls[0])),
                          encoding="utf-8") as source:
                    out.write(source.read())
    return name
