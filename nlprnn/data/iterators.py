"""The torchtext-style iterators: Iterator, BucketIterator (rows of a Dataset in batches), BPTTIterator
(language-modeling windows) and WindowIterator (windows of a numeric series).

Every iterator keeps its place as ``state_dict() == {"seed", "epoch", "position"}`` (``position``: the
batches of the current epoch already yielded), so the Trainer resumes any of them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Iterator as TypingIterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from nlprnn.data.batching import ROWS, Batch, BucketSampler, _Gather, _identity, resolve_device
from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.data.sort_keys import sort_key_values
from nlprnn.errors import ConfigError, no_effect


class Iterator:
    """Batches of a dataset, as ``torchtext.data.Iterator``.

    Args:
        dataset: the Dataset.
        batch_size: rows per batch (or use ``max_tokens`` for a token budget per batch).
        sort_key: function of an Example giving its sort key (e.g. ``lambda x: len(x.text)``); default:
            the first text field's length. Keys the columns can give at once (a field's length,
            ``interleave_keys`` of two lengths) are recognised by probing and never call the function
            per row (see ``sort_keys.py``).
        device: where batches go (default: CUDA if available, else CPU); pinned memory and
            non-blocking copies on CUDA.
        train: training iterator (shuffled, and bucketed for BucketIterator) or not.
        repeat: iterate forever.
        shuffle, sort: override what ``train`` implies; ``sort`` sorts the whole dataset by length.
        sort_within_batch: accepted for torchtext compatibility; bucketed batches are always sorted
            longest first.
        batch_size_fn: torchtext's ``batch_size_fn(example, rows_in_batch, size_so_far)``: a batch ends
            when the size it returns reaches ``batch_size`` (called per row; ``max_tokens`` is the fast way).
        seed: seeds shuffling (with the epoch); state_dict/load_state_dict resume mid-epoch.
        num_workers: DataLoader worker processes.
        rank, world_size: split batches across distributed ranks.
    """

    bucket_default = False

    def __init__(self, dataset: Dataset, batch_size: int = 32, sort_key: Callable[[Any], int] | None = None,
                 device: torch.device | str | int | None = None, batch_size_fn: Callable[..., int] | None = None,
                 train: bool = True, repeat: bool = False, shuffle: bool | None = None, sort: bool | None = None,
                 sort_within_batch: bool | None = None, max_tokens: int | None = None, pool_size: int = 100,
                 seed: int = 0, num_workers: int = 0, rank: int = 0, world_size: int = 1,
                 drop_last: bool = False) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.train = train
        self.repeat = repeat
        self.shuffle = train if shuffle is None else shuffle
        self.sort = (not train) if sort is None else sort
        self.sort_within_batch = sort_within_batch
        self.num_workers = num_workers
        self.sort_key_source = "the first text field's length"
        sort_key = sort_key if sort_key is not None else getattr(dataset, "sort_key", None)
        if sort_key is not None:
            lengths, self.sort_key_source = sort_key_values(dataset, sort_key)
        else:
            lengths = dataset.sort_key_lengths()
        size_fn = None
        if batch_size_fn is not None:
            examples = dataset.examples

            def size_fn(row: int, count: int, size: int) -> int:
                return batch_size_fn(examples[row], count, size)

        self._restored = False
        bucket = self.bucket_default if self.shuffle else (self.sort or self.bucket_default)
        self.sampler = BucketSampler(lengths, batch_size=batch_size, max_tokens=max_tokens, shuffle=self.shuffle,
                                     bucket=bucket and (self.shuffle or self.sort), pool_size=pool_size,
                                     drop_last=drop_last, seed=seed, rank=rank, world_size=world_size,
                                     size_fn=size_fn)

    @property
    def epoch(self) -> int:
        return self.sampler.epoch

    def _loader(self) -> Iterable[dict[str, Any]]:
        """Gathered batches: a DataLoader with workers, or (num_workers=0) the same gathering in this
        process without DataLoader's per-batch bookkeeping, which cost a quarter of an NSMC epoch."""
        gather = _Gather({name: (field, self.dataset.ids(name) if field.columnar
                                 else self.dataset.table.column(name).combine_chunks())
                          for name, field in self.dataset.fields.items()})
        if self.num_workers == 0:
            return gather.epoch(self.sampler)
        # spawn, not fork: a forked child of a process that started a JVM hangs (see tokenizers.pool)
        return DataLoader(gather, sampler=self.sampler, batch_size=None, collate_fn=_identity,
                          num_workers=self.num_workers, pin_memory=self.device.type == "cuda",
                          multiprocessing_context="spawn")

    @property
    def position(self) -> int:
        """Batches of the current epoch already yielded."""
        return self.sampler.position

    def __iter__(self) -> TypingIterator[Batch]:
        # every iter() starts the epoch from its first batch, as torchtext's did (a peek with
        # next(iter(it)) skips nothing), unless load_state_dict put the iterator mid-epoch
        if not self._restored:
            self.sampler.position = 0
        self._restored = False
        while True:
            # with workers the sampler runs ahead of what was yielded, so the place is counted here
            epoch, start = self.sampler.epoch, self.sampler.position
            loader = self._loader()
            for item in loader:
                rows = item.pop(ROWS)
                batch = Batch.from_tensors(item, self.dataset.fields, rows, self.dataset)
                if self.device.type != "cpu":
                    if self.num_workers == 0 and self.device.type == "cuda":
                        batch = batch.pin_memory()
                    batch = batch.to(self.device, non_blocking=True)
                if self.num_workers:
                    start += 1
                    self.sampler.position = start
                yield batch
            if self.num_workers:
                self.sampler.epoch, self.sampler.position = epoch + 1, 0
            if not self.repeat:
                return

    def __len__(self) -> int:
        return len(self.sampler.batches())

    def in_original_order(self, outputs: Sequence[Any], batches: Sequence[Batch]) -> list[Any]:
        """Per-example outputs of ``batches`` (each indexable along the batch) in dataset order."""
        result: list[Any] = [None] * len(self.dataset)
        for output, batch in zip(outputs, batches):
            for position, row in enumerate(batch.rows.tolist()):
                result[row] = output[position]
        return result

    def state_dict(self) -> dict[str, int]:
        """Where the iterator is, ``{seed, epoch, position}``, to resume exactly."""
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume where ``state`` says: the next ``iter()`` goes on from that batch."""
        self.sampler.load_state_dict(state)
        self._restored = True

    @classmethod
    def splits(cls, datasets: Sequence[Dataset], batch_sizes: Sequence[int] | None = None, batch_size: int = 32,
               **kwargs: Any) -> tuple[Iterator, ...]:
        """One iterator per dataset; the first is the training one (torchtext's ``splits``)."""
        batch_sizes = batch_sizes or [batch_size] * len(datasets)
        train = kwargs.pop("train", None)
        out = []
        for i, (dataset, size) in enumerate(zip(datasets, batch_sizes)):
            out.append(cls(dataset, batch_size=size, train=(i == 0) if train is None else train, **kwargs))
        return tuple(out)


class BucketIterator(Iterator):
    """Iterator whose training batches hold rows of similar length (pooled bucketing), so padding is
    a few percent; evaluation batches are sorted by length (use ``in_original_order`` for outputs)."""

    bucket_default = True


class BPTTIterator:
    """Language-modeling windows, as ``torchtext.data.BPTTIterator``.

    The dataset's token stream is cut into ``batch_size`` parallel streams; each batch is the next
    ``bptt_len`` steps of every stream (``batch.text``) and the same shifted by one (``batch.target``),
    so a model carries its hidden state from batch to batch. Shapes are (time, batch), or (batch, time)
    with ``batch_first``. ``random_bptt`` draws each window length around ``bptt_len`` (AWD-LSTM:
    ``bptt_len`` with p=0.95 else half of it, then normal with sd 5, at least 5); ``batch.seq_len``
    tells it, for scaling the learning rate.

    Distributed: with ``world_size > 1`` the text is cut into ``batch_size * world_size`` streams and
    rank r takes streams ``r * batch_size`` to ``(r + 1) * batch_size - 1``, so the ranks together see
    what one process with ``batch_size * world_size`` streams would.
    """

    #: pad the text with the pad token to fill the last step of every stream, as torchtext did; by
    #: default the tail that does not fill a step is dropped (pytorch/examples' ``batchify``), so no
    #: pad token is ever a target
    pad_stream = False

    def __init__(self, dataset: Dataset, batch_size: int, bptt_len: int, device: torch.device | str | int | None = None,
                 batch_first: bool | None = False, train: bool = True, repeat: bool = False, random_bptt: bool = False,
                 seed: int = 0, field: str = "text", rank: int = 0, world_size: int = 1,
                 sort_key: Callable[[Any], Any] | None = None, batch_size_fn: Callable[..., int] | None = None,
                 shuffle: bool | None = None, sort: bool | None = None, sort_within_batch: bool | None = None) -> None:
        no_effect("BPTTIterator", "it reads the text in order as batch_size parallel streams; random_bptt=True "
                  "varies the window length", sort_key=sort_key, batch_size_fn=batch_size_fn, shuffle=shuffle,
                  sort=sort, sort_within_batch=sort_within_batch)
        if bptt_len < 1:
            raise ConfigError(f"bptt_len must be at least 1, got {bptt_len}")
        text_field = dataset.fields[field]
        self.dataset = dataset
        self.batch_size = batch_size
        self.bptt_len = bptt_len
        self.device = resolve_device(device)
        self.batch_first = text_field.batch_first if batch_first is None else batch_first  # None: the field's
        self.train = train
        self.repeat = repeat
        self.random_bptt = random_bptt and train
        self.seed = seed
        self.field_name = field
        self.epoch = 0
        self.position = 0
        self._restored = False
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is not in range for world_size {world_size}")
        stream = dataset.ids(field).values
        streams = batch_size * world_size
        steps = -(-len(stream) // streams) if self.pad_stream else len(stream) // streams
        if steps < 2:
            raise ConfigError(f"the text has {len(stream)} tokens: too few for {streams} streams")
        if self.pad_stream and steps * streams > len(stream):
            pad = text_field.vocab.index(text_field.pad_token) if text_field.vocab is not None and \
                text_field.pad_token is not None else 0
            stream = np.concatenate([stream, np.full(steps * streams - len(stream), pad, dtype=stream.dtype)])
        # (batch, steps): stream b is a contiguous piece of the text; this rank's rows of all the streams
        data = stream[: steps * streams].reshape(streams, steps)[rank * batch_size:(rank + 1) * batch_size]
        self.data = torch.from_numpy(data.astype(np.int64))

    @classmethod
    def splits(cls, datasets: Sequence[Dataset], batch_sizes: Sequence[int] | None = None, batch_size: int = 32,
               **kwargs: Any) -> tuple[BPTTIterator, ...]:
        """One iterator per dataset; the first is the training one (torchtext's ``splits``)."""
        sizes = list(batch_sizes) if batch_sizes is not None else [batch_size] * len(datasets)
        train = kwargs.pop("train", None)
        return tuple(cls(dataset, size, train=(i == 0) if train is None else train, **kwargs)
                     for i, (dataset, size) in enumerate(zip(datasets, sizes)))

    def _windows(self) -> list[tuple[int, int]]:
        steps = self.data.shape[1]
        rng = np.random.default_rng([self.seed, self.epoch])
        windows, i = [], 0
        while i < steps - 1:
            length = self.bptt_len
            if self.random_bptt:
                base = self.bptt_len if rng.random() < 0.95 else self.bptt_len / 2
                length = max(5, int(rng.normal(base, 5)))
            length = min(length, steps - 1 - i)
            windows.append((i, length))
            i += length
        return windows

    def __len__(self) -> int:
        return len(self._windows())

    def __iter__(self) -> TypingIterator[Batch]:
        field = self.dataset.fields[self.field_name]
        fields = {"text": field, "target": field}
        rows = torch.arange(self.batch_size)
        if not self._restored:  # a new iter() starts the epoch over, as Iterator's
            self.position = 0
        self._restored = False
        while True:
            windows = self._windows()
            start, self.position = self.position, 0
            for k, (i, length) in enumerate(windows[start:], start=start):
                text = self.data[:, i:i + length]
                target = self.data[:, i + 1:i + 1 + length]
                if not self.batch_first:
                    text, target = text.t().contiguous(), target.t().contiguous()
                lengths = torch.full((self.batch_size,), length, dtype=torch.long)
                batch: Batch = _LMBatch.from_tensors({"text": {"data": text, "lengths": lengths},
                                                      "target": {"data": target, "lengths": lengths}}, fields, rows,
                                                     self.dataset)
                batch.seq_len = length  # type: ignore[attr-defined]
                if self.device.type != "cpu":
                    batch = batch.to(self.device, non_blocking=True)
                self.position = k + 1
                yield batch
            self.epoch += 1
            self.position = 0
            if not self.repeat:
                return

    def state_dict(self) -> dict[str, int]:
        """``{seed, epoch, position}``, as every iterator of nlprnn."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]
        self._restored = True


class _LMBatch(Batch):
    """A BPTT batch: ``text`` and ``target`` are plain tensors whatever the field's include_lengths."""

    seq_len: int

    @classmethod
    def from_tensors(cls, tensors: dict[str, dict[str, torch.Tensor]], fields: dict[str, Field],
                     rows: torch.Tensor, dataset: Dataset | None = None) -> Batch:
        batch = super().from_tensors(tensors, fields, rows, dataset)
        batch.text, batch.target = tensors["text"]["data"], tensors["target"]["data"]  # type: ignore[attr-defined]
        return batch


class WindowIterator:
    """Shuffled batches of fixed windows of a numeric series (``x`` (N, window, features), ``y`` (N, outputs)),
    with the same ``{seed, epoch, position}`` state as the other iterators (an unbucketed BucketSampler)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int = 0,
                 device: torch.device | str | int | None = None, rank: int = 0, world_size: int = 1) -> None:
        self.x, self.y, self.device = x, y, resolve_device(device)
        self.sampler = BucketSampler(np.ones(len(x), dtype=np.int64), batch_size, shuffle=True, bucket=False, seed=seed,
                                     rank=rank, world_size=world_size)
        self._restored = False

    @property
    def position(self) -> int:
        return self.sampler.position

    def __iter__(self) -> TypingIterator[tuple[torch.Tensor, torch.Tensor]]:
        if not self._restored:  # a new iter() starts the epoch over, as Iterator's
            self.sampler.position = 0
        self._restored = False
        for rows in self.sampler:
            yield self.x[rows].to(self.device), self.y[rows].to(self.device)

    def __len__(self) -> int:
        return len(self.sampler.batches())

    def state_dict(self) -> dict[str, int]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
        self._restored = True
