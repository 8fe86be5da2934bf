"""Checks the task commands share on data a trained model is asked to process."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.errors import DataError


def check_known_tokens(path: str | None, field: Field, ids: np.ndarray | Sequence[int], what: str = "text") -> None:
    """Refuse input none of whose tokens the model knows: a sign of the wrong file, column or tokenizer."""
    vocab = field.vocab
    assert vocab is not None, "the field has no vocab"
    unk = vocab.unk_index
    ids = np.asarray(ids)
    if len(ids) and unk is not None and bool((ids == unk).all()):
        spec = field.tokenizer.spec() if field.tokenizer is not None else None
        raise DataError(path, None, f"every token of the {what} is unknown to the model's vocabulary "
                        f"({len(vocab)} tokens{f', tokenizer {spec}' if spec else ''}).",
                        f"check that this is {what} of the kind the model was trained on"
                        f"{', in the column the training run used' if what == 'text' else ''}.")


def check_dataset_tokens(dataset: Dataset, name: str, field: Field) -> None:
    """``check_known_tokens`` over a dataset's whole column ``name``."""
    check_known_tokens(dataset.path, field, dataset.ids(name).values)
