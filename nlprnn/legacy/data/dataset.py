"""``torchtext.legacy.data.dataset``: Dataset and TabularDataset with torchtext 0.11's defaults."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nlprnn.data import dataset as native
from nlprnn.data.file_datasets import TabularDataset as _NativeTabular
from nlprnn.errors import ConfigError

__all__ = ["Dataset", "RandomShuffler", "TabularDataset"]


class RandomShuffler:
    """torchtext's shuffler: Python's ``random`` run on a state of its own (the global state when it was
    made, or the ``random.getstate()`` given), so a tutorial's ``random.seed(SEED)`` gives torchtext's
    very splits, and the global generator is left where it was."""

    def __init__(self, random_state: tuple | None = None) -> None:
        self._random_state = random_state if random_state is not None else random.getstate()

    @property
    def random_state(self) -> tuple:
        return random.getstate() if self._random_state is None else self._random_state

    @random_state.setter
    def random_state(self, state: tuple) -> None:
        self._random_state = state

    @contextmanager
    def use_internal_state(self) -> Iterator[None]:
        old = random.getstate()
        random.setstate(self._random_state)
        try:
            yield
        finally:
            self._random_state = random.getstate()
            random.setstate(old)

    def __call__(self, data: Sequence[Any]) -> list[Any]:
        with self.use_internal_state():
            return random.sample(data, len(data))


class Dataset(native.Dataset):
    """torchtext's Dataset: ``Dataset(examples, fields, filter_pred)``; ``split`` shuffles as torchtext
    (``random_state`` a ``random.getstate()`` tuple, None: the global state) and keeps that order."""

    def __init__(self, examples: Any, fields: Any, filter_pred: Callable[[Any], bool] | None = None,
                 **kwargs: Any) -> None:
        native.Dataset.__init__(self, examples, fields, filter_pred=filter_pred, **kwargs)

    def _permutation(self, random_state: Any) -> Callable[[int], np.ndarray]:
        if isinstance(random_state, int | np.random.Generator):
            return super()._permutation(random_state)
        if random_state is not None and not isinstance(random_state, tuple):
            raise ConfigError("random_state is a random.getstate() tuple (or None), as in torchtext",
                              key="random_state", value=random_state)
        shuffler = RandomShuffler(random_state)
        return lambda n: np.asarray(shuffler(range(n)), dtype=np.int64)

    def _subset(self, rows: np.ndarray) -> native.Dataset:
        part = self.take(rows)  # torchtext kept the shuffled order
        part.sort_key = self.sort_key
        return part


Dataset.part_class = Dataset


class TabularDataset(Dataset, _NativeTabular):
    """``TabularDataset(path, format, fields, skip_header=False, csv_reader_params=None, **kwargs)`` as in
    torchtext: TSV is read with CSV quoting too, and ``fields`` as a dict names header columns (so
    ``skip_header`` must be False, as torchtext required)."""

    tsv_quoting = True
    keep_rows = True

    def __init__(self, path: str | Path, format: str, fields: Any, skip_header: bool = False,
                 csv_reader_params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if isinstance(fields, Mapping) and skip_header and format.lower() in ("csv", "tsv"):
            raise ConfigError(f"When using a dict to specify fields with a {format} file, skip_header must be False "
                              "and the file must have a header.", key="skip_header", value=True)
        _NativeTabular.__init__(self, path, format, fields, skip_header=skip_header,
                                csv_reader_params=csv_reader_params, **kwargs)
