"""``torchtext.legacy.data.iterator``: the iterators with torchtext 0.11's defaults (batches on the CPU
unless a device is given; a BPTT stream padded, its layout the field's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from nlprnn.data import iterators as native
from nlprnn.data.dataset import Dataset
from nlprnn.data.legacy import batch, pool

__all__ = ["BPTTIterator", "BucketIterator", "Iterator", "batch", "pool"]


def _cpu_unless(device: torch.device | str | int | None) -> torch.device | str | int:
    return "cpu" if device is None else device  # torchtext made batches on the CPU when no device was named


class Iterator(native.Iterator):
    """``Iterator(dataset, batch_size, sort_key, device, batch_size_fn, train, repeat, shuffle, sort,
    sort_within_batch)``, as torchtext's."""

    def __init__(self, dataset: Dataset, batch_size: int, sort_key: Callable[[Any], Any] | None = None,
                 device: torch.device | str | int | None = None, batch_size_fn: Callable[..., int] | None = None,
                 train: bool = True, repeat: bool = False, shuffle: bool | None = None, sort: bool | None = None,
                 sort_within_batch: bool | None = None, **kwargs: Any) -> None:
        super().__init__(dataset, batch_size=batch_size, sort_key=sort_key, device=_cpu_unless(device),
                         batch_size_fn=batch_size_fn, train=train, repeat=repeat, shuffle=shuffle, sort=sort,
                         sort_within_batch=sort_within_batch, **kwargs)


class BucketIterator(Iterator):
    """Batches of similar lengths (nlprnn buckets by length whatever ``sort_within_batch`` says)."""

    bucket_default = True


class BPTTIterator(native.BPTTIterator):
    """``BPTTIterator(dataset, batch_size, bptt_len, **kwargs)``: the text padded to fill the last step of
    every stream, (time, batch) windows unless the field is ``batch_first``, as torchtext's."""

    pad_stream = True

    def __init__(self, dataset: Dataset, batch_size: int, bptt_len: int,
                 device: torch.device | str | int | None = None, batch_first: bool | None = None,
                 **kwargs: Any) -> None:
        super().__init__(dataset, batch_size, bptt_len, device=_cpu_unless(device), batch_first=batch_first,
                         **kwargs)
