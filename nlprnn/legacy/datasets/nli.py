"""``torchtext.legacy.datasets.nli``: SNLI and MultiNLI JSON lines under ``root``, with the fields that read
their binary parses (``ParsedTextField``, ``ShiftReduceField``)."""

from __future__ import annotations

from typing import Any

from nlprnn.data.example import Example
from nlprnn.data.field import Field
from nlprnn.data.sort_keys import interleave_keys
from nlprnn.legacy.data.dataset import TabularDataset
from nlprnn.legacy.data.field import Field as LegacyField
from nlprnn.legacy.data.iterator import BucketIterator

__all__ = ["MultiNLI", "NLIDataset", "ParsedTextField", "SNLI", "ShiftReduceField"]


def _transitions(parse: list[str]) -> list[str]:
    return ["reduce" if t == ")" else "shift" for t in parse if t != "("]


def _words(parse: list[str]) -> list[str]:
    return [t for t in parse if t not in ("(", ")")]


def _reversed(batch: list[list[int]], _vocab: Any) -> list[list[int]]:
    return [list(reversed(row)) for row in batch]


class ShiftReduceField(LegacyField):
    """A binary parse as its shift/reduce transitions (SPINN's input)."""

    def __init__(self) -> None:
        super().__init__(preprocessing=_transitions)
        self.build_vocab([["reduce"], ["shift"]])


class ParsedTextField(LegacyField):
    """The words of a binary parse (brackets dropped), with lengths; ``reverse`` reverses each batch row."""

    def __init__(self, eos_token: str | None = "<pad>", lower: bool = False, reverse: bool = False) -> None:
        super().__init__(eos_token=eos_token, lower=lower, preprocessing=_words, include_lengths=True,
                         postprocessing=_reversed if reverse else None)


def _pair_lengths(example: Example) -> int:
    return interleave_keys(len(example.premise), len(example.hypothesis))


def _has_label(example: Example) -> bool:
    return example.label != "-"


class NLIDataset(TabularDataset):
    """Premise/hypothesis pairs from JSON lines; pairs whose gold label is ``-`` are left out."""

    urls: list[str] = []
    dirname = ""
    name = "nli"
    sort_key = staticmethod(_pair_lengths)

    @classmethod
    def splits(cls, text_field: Field, label_field: Field, parse_field: Field | None = None,  # type: ignore[override]
               extra_fields: dict[str, Any] | None = None, root: str = ".data", train: str | None = "train.jsonl",
               validation: str | None = "val.jsonl", test: str | None = "test.jsonl") -> tuple[Any, ...]:
        path = cls.download(root)
        if parse_field is None:
            fields: dict[str, Any] = {"sentence1": ("premise", text_field), "sentence2": ("hypothesis", text_field),
                                      "gold_label": ("label", label_field)}
        else:
            fields = {"sentence1_binary_parse": [("premise", text_field), ("premise_transitions", parse_field)],
                      "sentence2_binary_parse": [("hypothesis", text_field), ("hypothesis_transitions", parse_field)],
                      "gold_label": ("label", label_field)}
        for key, value in (extra_fields or {}).items():
            fields.setdefault(key, value)
        return super().splits(path, root, train, validation, test, format="json", fields=fields,
                              filter_pred=_has_label)

    @classmethod
    def iters(cls, batch_size: int = 32, device: Any = None, root: str = ".data", vectors: Any = None,
              trees: bool = False, **kwargs: Any) -> tuple[Any, ...]:
        """BucketIterators over train/validation/test (torchtext's tokenizer was spaCy; here whitespace)."""
        text: Field = ParsedTextField() if trees else LegacyField()
        transitions = ShiftReduceField() if trees else None
        label = LegacyField(sequential=False)
        splits = cls.splits(text, label, transitions, root=root, **kwargs)
        text.build_vocab(splits[0], vectors=vectors)
        label.build_vocab(splits[0])
        return BucketIterator.splits(splits, batch_size=batch_size, device=device)


class SNLI(NLIDataset):
    """``root/snli/snli_1.0/snli_1.0_{train,dev,test}.jsonl``."""

    urls = ["http://nlp.stanford.edu/projects/snli/snli_1.0.zip"]
    dirname = "snli_1.0"
    name = "snli"

    @classmethod
    def splits(cls, text_field: Field, label_field: Field, parse_field: Field | None = None,  # type: ignore[override]
               root: str = ".data", train: str = "snli_1.0_train.jsonl", validation: str = "snli_1.0_dev.jsonl",
               test: str = "snli_1.0_test.jsonl") -> tuple[Any, ...]:
        return super().splits(text_field, label_field, parse_field=parse_field, root=root, train=train,
                              validation=validation, test=test)


class MultiNLI(NLIDataset):
    """``root/multinli/multinli_1.0/multinli_1.0_{train,dev_matched,dev_mismatched}.jsonl``; ``genre_field``
    reads each pair's genre."""

    urls = ["http://www.nyu.edu/projects/bowman/multinli/multinli_1.0.zip"]
    dirname = "multinli_1.0"
    name = "multinli"

    @classmethod
    def splits(cls, text_field: Field, label_field: Field, parse_field: Field | None = None,  # type: ignore[override]
               genre_field: Field | None = None, root: str = ".data", train: str = "multinli_1.0_train.jsonl",
               validation: str = "multinli_1.0_dev_matched.jsonl",
               test: str = "multinli_1.0_dev_mismatched.jsonl") -> tuple[Any, ...]:
        extra = {"genre": ("genre", genre_field)} if genre_field is not None else {}
        return super().splits(text_field, label_field, parse_field=parse_field, extra_fields=extra, root=root,
                              train=train, validation=validation, test=test)
