"""Batching on ``torch.utils.data``: a bucketing batch sampler, batch gathering, Batch objects,
and the torchtext-style iterators (Iterator, BucketIterator, BPTTIterator) built from them.

Every iterator is a DataLoader over a sampler of row-index lists, so ``num_workers`` works. The
data are gathered with numpy from flat id columns (see ``columns.py``), so one epoch over 150,000
rows costs well under a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Iterator as TypingIterator
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from torch.utils.data import DataLoader, Sampler

from nlprnn.data.columns import IdColumn
from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.errors import ConfigError

ROWS = "__rows__"


def default_device() -> torch.device:
    """CUDA when a GPU is visible, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: torch.device | str | int | None) -> torch.device:
    if device is None:
        return default_device()
    if isinstance(device, int):  # torchtext used -1 for CPU
        return torch.device("cpu") if device < 0 else torch.device("cuda", device)
    return torch.device(device)


class BucketSampler(Sampler[list[int]]):
    """Yields batches (lists of row indices) of similar length.

    Rows are shuffled, cut into pools of ``pool_size`` batches, each pool sorted by length and cut
    into batches, and the batches shuffled (legacy torchtext's ``pool``). Without ``shuffle`` all rows
    are sorted by length at once (evaluation). A batch holds ``batch_size`` rows, or with
    ``max_tokens`` as many rows as fit ``rows * longest <= max_tokens``.

    Distributed: with ``world_size > 1`` each rank gets every ``world_size``-th batch of each group of
    neighbouring (similar-length) batches, and all ranks get the same number of batches (the list is
    padded by repeating batches). Randomness comes from ``seed`` and the epoch only.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int = 64, max_tokens: int | None = None,
                 shuffle: bool = True, bucket: bool = True, pool_size: int = 100, drop_last: bool = False,
                 seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is not in range for world_size {world_size}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.shuffle = shuffle
        self.bucket = bucket
        self.pool_size = pool_size
        self.drop_last = drop_last
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start = 0  # batches of this epoch to skip (resuming mid-epoch)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _cut(self, rows: np.ndarray) -> list[np.ndarray]:
        batches: list[np.ndarray] = []
        if self.max_tokens is None:
            batches = [rows[i:i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        else:
            current: list[int] = []
            longest = 0
            for row in rows.tolist():
                length = int(self.lengths[row])
                if current and (len(current) + 1) * max(longest, length) > self.max_tokens:
                    batches.append(np.asarray(current))
                    current, longest = [], 0
                current.append(row)
                longest = max(longest, length)
            if current:
                batches.append(np.asarray(current))
        if self.drop_last and batches and self.max_tokens is None and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def batches(self, epoch: int | None = None) -> list[np.ndarray]:
        """This rank's batches for an epoch, in the order they are yielded."""
        rng = np.random.default_rng([self.seed, self.epoch if epoch is None else epoch])
        n = len(self.lengths)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        pools: list[list[np.ndarray]] = []
        if self.bucket and self.shuffle:
            pool = self.pool_size * self.batch_size if self.max_tokens is None else self.pool_size * max(
                1, self.max_tokens // max(1, int(self.lengths.mean()) if n else 1))
            for start in range(0, n, pool):
                chunk = order[start:start + pool]
                pools.append(self._cut(chunk[np.argsort(self.lengths[chunk], kind="stable")]))
        elif self.bucket:
            pools.append(self._cut(order[np.argsort(self.lengths, kind="stable")]))
        else:
            pools.append(self._cut(order))
        if self.bucket:  # longest first within a batch, as pack_padded_sequence(enforce_sorted=True) wants
            pools = [[b[np.argsort(-self.lengths[b], kind="stable")] for b in p] for p in pools]
        if self.world_size > 1:
            return self._rank_batches(pools, rng)
        batches = [b for p in pools for b in p]
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def _rank_batches(self, pools: list[list[np.ndarray]], rng: np.random.Generator) -> list[np.ndarray]:
        """Groups of ``world_size`` neighbouring batches of one pool; rank r takes the r-th of each."""
        ws = self.world_size
        groups: list[list[np.ndarray]] = []
        leftovers: list[np.ndarray] = []
        for pool in pools:
            whole = len(pool) // ws * ws
            groups += [pool[i:i + ws] for i in range(0, whole, ws)]
            leftovers += pool[whole:]
        if leftovers:
            leftovers.sort(key=lambda b: int(self.lengths[b].max()))
            while len(leftovers) % ws:  # pad with repeats of the longest, so all ranks step together
                leftovers.append(leftovers[-1])
            groups += [leftovers[i:i + ws] for i in range(0, len(leftovers), ws)]
        if self.shuffle:
            groups = [groups[i] for i in rng.permutation(len(groups))]
        return [group[self.rank] for group in groups]

    def __iter__(self) -> TypingIterator[list[int]]:
        batches = self.batches()
        start, self.start = self.start, 0
        for batch in batches[start:]:
            yield batch.tolist()

    def __len__(self) -> int:
        return len(self.batches()) - self.start

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "start": self.start}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.start = state["seed"], state["epoch"], state["start"]


class Batch:
    """One batch. Each field is an attribute (``batch.text``, ``batch.label``): a tensor, or
    ``(tensor, lengths)`` for fields with ``include_lengths``, as in torchtext. Lengths and masks of
    every sequential field are always available through ``lengths(name)`` and ``mask(name)``.
    """

    def __init__(self, tensors: dict[str, dict[str, torch.Tensor]], fields: dict[str, Field],
                 rows: torch.Tensor, dataset: Dataset | None = None) -> None:
        self.fields = fields
        self.dataset = dataset
        self.rows = rows
        """Dataset row of each example in the batch (to put outputs back in file order)."""
        self.tensors = tensors
        self.batch_size = len(rows)
        for name, field in fields.items():
            data = tensors[name]
            value: Any = data["data"]
            if field.include_lengths and "lengths" in data:
                value = (data["data"], data["lengths"])
            setattr(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only reached for names that are not set: say which fields the batch has
        if name.startswith("__") or name in ("fields", "tensors"):
            raise AttributeError(name)
        raise AttributeError(f"this batch has no field {name!r}; its fields: {', '.join(self.fields)}")

    @property
    def input_fields(self) -> list[str]:
        return [n for n, f in self.fields.items() if not f.is_target]

    @property
    def target_fields(self) -> list[str]:
        return [n for n, f in self.fields.items() if f.is_target]

    def lengths(self, name: str) -> torch.Tensor:
        """Length of each sequence of a sequential field (init/eos included)."""
        if "lengths" not in self.tensors[name]:
            raise ConfigError(f"field {name!r} is not sequential; it has no lengths")
        return self.tensors[name]["lengths"]

    def mask(self, name: str) -> torch.Tensor:
        """Bool mask, True at real tokens, in the field's layout ((batch, time) if batch_first)."""
        field = self.fields[name]
        data = self.tensors[name]["data"]
        lengths = self.lengths(name).to(data.device)
        time_dim = 1 if field.batch_first or field.kind == "nested" else 0
        steps = data.shape[time_dim]
        positions = torch.arange(steps, device=data.device)[None, :]
        if field.pad_first:
            mask = positions >= (steps - lengths)[:, None]
        else:
            mask = positions < lengths[:, None]
        return mask if time_dim == 1 else mask.t()

    def pack(self, name: str, values: torch.Tensor | None = None) -> PackedSequence:
        """A PackedSequence of the field (or of ``values`` laid out like it, e.g. embeddings)."""
        field = self.fields[name]
        if field.pad_first:
            raise ConfigError(f"field {name!r} pads on the left (pad_first); packing needs right padding")
        data = self.tensors[name]["data"] if values is None else values
        return pack(data, self.lengths(name), batch_first=field.batch_first)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        moved = {n: {k: v.to(device, non_blocking=non_blocking) for k, v in t.items()} for n, t in self.tensors.items()}
        return Batch(moved, self.fields, self.rows, self.dataset)

    def pin_memory(self) -> Batch:
        """A copy in page-locked memory, so ``to(cuda, non_blocking=True)`` overlaps with compute."""
        pinned = {n: {k: v.pin_memory() for k, v in t.items()} for n, t in self.tensors.items()}
        return Batch(pinned, self.fields, self.rows, self.dataset)

    def __len__(self) -> int:
        return self.batch_size

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {tuple(t['data'].shape)}" for n, t in self.tensors.items())
        return f"Batch(size={self.batch_size}, {shapes})"


def pack(padded: torch.Tensor, lengths: torch.Tensor, batch_first: bool = True) -> PackedSequence:
    """``pack_padded_sequence`` for any order of lengths (lengths may live on the GPU)."""
    return pack_padded_sequence(padded, lengths.detach().cpu(), batch_first=batch_first, enforce_sorted=False)


def unpack(packed: PackedSequence, batch_first: bool = True, total_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The padded tensor and lengths of a PackedSequence, in the original batch order."""
    return pad_packed_sequence(packed, batch_first=batch_first, total_length=total_length)


class _Gather(torch.utils.data.Dataset):
    """Turns a list of row indices into the batch's numpy arrays (runs in DataLoader workers)."""

    def __init__(self, columns: dict[str, tuple[Field, IdColumn]]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return 0

    def __getitem__(self, rows: list[int]) -> dict[str, Any]:
        index = np.asarray(rows, dtype=np.int64)
        out: dict[str, Any] = {name: field.to_tensors(field.batch_arrays(column, index))
                               for name, (field, column) in self.columns.items()}
        out[ROWS] = torch.from_numpy(index)
        return out


def _identity(batch: Any) -> Any:
    return batch


class Iterator:
    """Batches of a dataset, as ``torchtext.data.Iterator``.

    Args:
        dataset: the Dataset.
        batch_size: rows per batch (or use ``max_tokens`` for a token budget per batch).
        sort_key: function of an Example giving its length; default: the first text field's length.
        device: where batches go (default: CUDA if available, else CPU); pinned memory and
            non-blocking copies on CUDA.
        train: training iterator (shuffled, and bucketed for BucketIterator) or not.
        repeat: iterate forever.
        shuffle, sort: override what ``train`` implies; ``sort`` sorts the whole dataset by length.
        sort_within_batch: accepted for torchtext compatibility; bucketed batches are always sorted
            longest first.
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
        if batch_size_fn is not None:
            raise ConfigError("batch_size_fn is not supported; pass max_tokens=N for batches of at most N tokens")
        self.dataset = dataset
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.train = train
        self.repeat = repeat
        self.shuffle = train if shuffle is None else shuffle
        self.sort = (not train) if sort is None else sort
        self.sort_within_batch = sort_within_batch
        self.num_workers = num_workers
        if sort_key is not None:
            lengths = np.asarray([sort_key(example) for example in dataset], dtype=np.int64)
        else:
            lengths = dataset.sort_key_lengths()
        bucket = self.bucket_default if self.shuffle else (self.sort or self.bucket_default)
        self.sampler = BucketSampler(lengths, batch_size=batch_size, max_tokens=max_tokens, shuffle=self.shuffle,
                                     bucket=bucket and (self.shuffle or self.sort), pool_size=pool_size,
                                     drop_last=drop_last, seed=seed, rank=rank, world_size=world_size)
        self.iterations = 0  # batches consumed in the current epoch

    @property
    def epoch(self) -> int:
        return self.sampler.epoch

    def _loader(self) -> Iterable[dict[str, Any]]:
        """Gathered batches: a DataLoader with workers, or (num_workers=0) the same gathering in this
        process without DataLoader's per-batch bookkeeping, which cost a quarter of an NSMC epoch."""
        gather = _Gather({name: (field, self.dataset.ids(name)) for name, field in self.dataset.fields.items()})
        if self.num_workers == 0:
            return (gather[rows] for rows in self.sampler)
        # spawn, not fork: a forked child of a process that started a JVM hangs (see tokenizers.pool)
        return DataLoader(gather, sampler=self.sampler, batch_size=None, collate_fn=_identity,
                          num_workers=self.num_workers, pin_memory=self.device.type == "cuda",
                          multiprocessing_context="spawn")

    def __iter__(self) -> TypingIterator[Batch]:
        while True:
            self.iterations = self.sampler.start
            for item in self._loader():
                rows = item.pop(ROWS)
                batch = Batch(item, self.dataset.fields, rows, self.dataset)
                if self.device.type != "cpu":
                    if self.num_workers == 0 and self.device.type == "cuda":
                        batch = batch.pin_memory()
                    batch = batch.to(self.device, non_blocking=True)
                self.iterations += 1
                yield batch
            self.sampler.set_epoch(self.sampler.epoch + 1)
            self.iterations = 0
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
        """Where the iterator is: epoch and batches consumed, to resume exactly."""
        return {**self.sampler.state_dict(), "start": self.iterations}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
        self.iterations = state["start"]

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

    def __init__(self, dataset: Dataset, batch_size: int, bptt_len: int, device: torch.device | str | int | None = None,
                 batch_first: bool = False, train: bool = True, repeat: bool = False, random_bptt: bool = False,
                 seed: int = 0, field: str = "text", rank: int = 0, world_size: int = 1) -> None:
        if bptt_len < 1:
            raise ConfigError(f"bptt_len must be at least 1, got {bptt_len}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.bptt_len = bptt_len
        self.device = resolve_device(device)
        self.batch_first = batch_first
        self.train = train
        self.repeat = repeat
        self.random_bptt = random_bptt and train
        self.seed = seed
        self.field_name = field
        self.epoch = 0
        self.position = 0
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is not in range for world_size {world_size}")
        stream = dataset.ids(field).values
        streams = batch_size * world_size
        steps = len(stream) // streams
        if steps < 2:
            raise ConfigError(f"the text has {len(stream)} tokens: too few for {streams} streams")
        # (batch, steps): stream b is a contiguous piece of the text; this rank's rows of all the streams
        data = stream[: steps * streams].reshape(streams, steps)[rank * batch_size:(rank + 1) * batch_size]
        self.data = torch.from_numpy(data.astype(np.int64))

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
        while True:
            windows = self._windows()
            start, self.position = self.position, 0
            for k, (i, length) in enumerate(windows[start:], start=start):
                text = self.data[:, i:i + length]
                target = self.data[:, i + 1:i + 1 + length]
                if not self.batch_first:
                    text, target = text.t().contiguous(), target.t().contiguous()
                lengths = torch.full((self.batch_size,), length, dtype=torch.long)
                batch: Batch = _LMBatch({"text": {"data": text, "lengths": lengths},
                                  "target": {"data": target, "lengths": lengths}}, fields, rows, self.dataset,
                                 self.batch_first)
                batch.seq_len = length  # type: ignore[attr-defined]
                if self.device.type != "cpu":
                    batch = batch.to(self.device, non_blocking=True)
                    batch.seq_len = length  # type: ignore[attr-defined]
                self.position = k + 1
                yield batch
            self.epoch += 1
            self.position = 0
            if not self.repeat:
                return

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch, self.position = state["seed"], state["epoch"], state["position"]


class _LMBatch(Batch):
    """A BPTT batch: ``text`` and ``target`` are plain tensors whatever the field's include_lengths."""

    seq_len: int

    def __init__(self, tensors: dict[str, dict[str, torch.Tensor]], fields: dict[str, Field], rows: torch.Tensor,
                 dataset: Dataset | None, batch_first: bool) -> None:
        self.batch_first = batch_first
        super().__init__(tensors, fields, rows, dataset)
        self.text = tensors["text"]["data"]
        self.target = tensors["target"]["data"]

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        moved = {n: {k: v.to(device, non_blocking=non_blocking) for k, v in t.items()} for n, t in self.tensors.items()}
        return _LMBatch(moved, self.fields, self.rows, self.dataset, self.batch_first)
