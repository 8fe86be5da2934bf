"""Batching on ``torch.utils.data``: a bucketing batch sampler, batch gathering, and Batch objects.

The iterators (``iterators.py``) are a sampler of row-index lists plus this gathering, so DataLoader
workers (``num_workers``) work. The data are gathered with numpy from flat id columns (see
``columns.py``), so one epoch over 150,000 rows costs well under a second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Iterator as TypingIterator
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from torch.utils.data import Sampler

from nlprnn.data.columns import IdColumn
from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.data.legacy import batch as legacy_batch
from nlprnn.data.sorting import stable_argsort
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
                 seed: int = 0, rank: int = 0, world_size: int = 1,
                 size_fn: Callable[[int, int, int], int] | None = None) -> None:
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
        self.size_fn = size_fn
        """torchtext's ``batch_size_fn`` on rows: ``size_fn(row, rows_in_batch, size_so_far) -> new size``."""
        self.epoch = 0
        self.position = 0  # batches of this epoch already consumed (resuming mid-epoch skips them)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _cut(self, rows: np.ndarray) -> list[np.ndarray]:
        batches: list[np.ndarray] = []
        if self.size_fn is not None:
            return self._cut_by_size_fn(rows)
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

    def _cut_by_size_fn(self, rows: np.ndarray) -> list[np.ndarray]:
        """torchtext's ``batch()`` with a ``batch_size_fn``: a batch ends when its size reaches
        ``batch_size``; a row that would overflow it starts the next batch. (``batch()`` yields an empty
        batch when a single row overflows; a sampler has no use for it.)"""
        assert self.size_fn is not None
        return [np.asarray(b) for b in legacy_batch(rows.tolist(), self.batch_size, self.size_fn) if b]

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
                pools.append(self._cut(chunk[stable_argsort(self.lengths[chunk])]))
        elif self.bucket:
            pools.append(self._cut(order[stable_argsort(self.lengths)]))
        else:
            pools.append(self._cut(order))
        if self.bucket:  # longest first within a batch, as pack_padded_sequence(enforce_sorted=True) wants
            pools = [_longest_first(p, self.lengths) for p in pools]
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
        """This epoch's batches from ``position`` on, as lists (what DataLoader passes its workers)."""
        return (rows.tolist() for rows in self.arrays())

    def arrays(self) -> TypingIterator[np.ndarray]:
        """This epoch's batches from ``position`` on, as index arrays; ``position`` counts them as they
        are taken, and the epoch moves on (position back to 0) when they are all taken."""
        batches = self.batches()
        for k in range(self.position, len(batches)):
            self.position = k + 1
            yield batches[k]
        self.epoch += 1
        self.position = 0

    def __len__(self) -> int:
        return len(self.batches())

    def state_dict(self) -> dict[str, int]:
        """``{seed, epoch, position}``: the same keys for every iterator of nlprnn."""
        return {"seed": self.seed, "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.epoch = state["seed"], state["epoch"]
        self.position = int(state.get("position", state.get("start", 0)))  # "start": checkpoints before 0.2


def _longest_first(batches: list[np.ndarray], lengths: np.ndarray) -> list[np.ndarray]:
    """Each batch's rows by descending length, ties in their order: one stable sort for all of them."""
    if not batches:
        return batches
    rows = np.concatenate(batches)
    owner = np.repeat(np.arange(len(batches)), [len(b) for b in batches])
    ordered = rows[np.lexsort((-lengths[rows], owner))]
    ends = np.cumsum([len(b) for b in batches]).tolist()
    return [ordered[end - len(b):end] for end, b in zip(ends, batches)]


class Batch:
    """One batch. Each field is an attribute (``batch.text``, ``batch.label``): a tensor, or
    ``(tensor, lengths)`` for fields with ``include_lengths``, as in torchtext. Lengths and masks of
    every sequential field are always available through ``lengths(name)`` and ``mask(name)``.
    """

    def __init__(self, data: Sequence[Any] | None = None, dataset: Dataset | None = None,
                 device: torch.device | str | None = None) -> None:
        """torchtext's ``Batch(examples, dataset, device)``: each field's ``process`` over the examples.
        The iterators build batches from gathered arrays instead (``from_tensors``)."""
        self.tensors: dict[str, dict[str, torch.Tensor]] = {}
        self.fields: dict[str, Field] = {}
        self.dataset = dataset
        self.rows = torch.zeros(0, dtype=torch.long)
        self.batch_size = 0
        if data is not None and dataset is not None:
            self.batch_size = len(data)
            self.fields = dict(dataset.fields)
            for name, field in self.fields.items():
                setattr(self, name, field.process([getattr(x, name) for x in data], device=device))

    @classmethod
    def from_tensors(cls, tensors: dict[str, dict[str, torch.Tensor]], fields: dict[str, Field],
                     rows: torch.Tensor, dataset: Dataset | None = None) -> Batch:
        """A batch of gathered tensors: ``tensors[name]`` holds ``data`` (and ``lengths`` ...) per field;
        ``rows`` is each example's dataset row (to put outputs back in file order)."""
        batch = cls.__new__(cls)
        batch.fields, batch.dataset, batch.rows, batch.tensors = fields, dataset, rows, tensors
        batch.batch_size = len(rows)
        for name, field in fields.items():
            setattr(batch, name, field.batch_value(tensors[name]))
        return batch

    @classmethod
    def fromvars(cls, dataset: Dataset, batch_size: int, train: bool | None = None, **kwargs: Any) -> Batch:
        """torchtext's batch from ready variables: ``Batch.fromvars(dataset, 32, text=tensor, ...)``."""
        batch = cls()
        batch.batch_size, batch.dataset, batch.fields = batch_size, dataset, dict(dataset.fields)
        for name, value in kwargs.items():
            setattr(batch, name, value)
        return batch

    def __getattr__(self, name: str) -> Any:
        # only reached for names that are not set: say which fields the batch has
        if name.startswith("__") or name in ("fields", "tensors"):
            raise AttributeError(name)
        raise AttributeError(f"this batch has no field {name!r}; its fields: {', '.join(self.fields)}")

    def tensor(self, name: str, part: str = "data") -> torch.Tensor:
        """One part of a field's batch: ``"data"``, ``"lengths"`` or (NestedField) ``"char_lengths"``."""
        return self.tensors[name][part]

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
        self.lengths(name)  # a clear error for a field without lengths
        return self.fields[name].mask(self.tensors[name])

    def pack(self, name: str, values: torch.Tensor | None = None) -> PackedSequence:
        """A PackedSequence of the field (or of ``values`` laid out like it, e.g. embeddings)."""
        field = self.fields[name]
        if field.pad_first:
            raise ConfigError(f"field {name!r} pads on the left (pad_first); packing needs right padding")
        data = self.tensors[name]["data"] if values is None else values
        return pack(data, self.lengths(name), batch_first=field.batch_first)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        return self._with({n: {k: v.to(device, non_blocking=non_blocking) if isinstance(v, torch.Tensor) else v
                               for k, v in t.items()} for n, t in self.tensors.items()})

    def pin_memory(self) -> Batch:
        """A copy in page-locked memory, so ``to(cuda, non_blocking=True)`` overlaps with compute."""
        return self._with({n: {k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in t.items()}
                           for n, t in self.tensors.items()})

    def _with(self, tensors: dict[str, dict[str, torch.Tensor]]) -> Batch:
        """The same batch over other tensors (moved or pinned), extra attributes such as seq_len kept."""
        batch = type(self).from_tensors(tensors, self.fields, self.rows, self.dataset)
        for name, value in vars(self).items():
            if name not in vars(batch) and name not in self.fields:
                setattr(batch, name, value)
        return batch

    def __len__(self) -> int:
        return self.batch_size

    def __iter__(self) -> TypingIterator[Any]:
        """``inputs, targets = batch``: the input fields' values then the target fields' (each one value,
        a tuple of several, or None), as torchtext's Batch unpacked."""
        for names in (self.input_fields, self.target_fields):
            values = [getattr(self, name) for name in names]
            yield None if not values else values[0] if len(values) == 1 else tuple(values)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {tuple(getattr(t['data'], 'shape', (len(t['data']),)))}"
                           for n, t in self.tensors.items())
        return f"Batch(size={self.batch_size}, {shapes})"


def pack(padded: torch.Tensor, lengths: torch.Tensor, batch_first: bool = True) -> PackedSequence:
    """``pack_padded_sequence`` for any order of lengths (lengths may live on the GPU)."""
    return pack_padded_sequence(padded, lengths.detach().cpu(), batch_first=batch_first, enforce_sorted=False)


def unpack(packed: PackedSequence, batch_first: bool = True, total_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The padded tensor and lengths of a PackedSequence, in the original batch order."""
    return pad_packed_sequence(packed, batch_first=batch_first, total_length=total_length)


class _Gather(torch.utils.data.Dataset):
    """Turns a list of row indices into the batch's tensors (runs in DataLoader workers): from a
    field's id column, or, for a field that is not ``columnar``, by its ``process`` over the rows'
    processed values, as torchtext made every batch."""

    def __init__(self, columns: dict[str, tuple[Field, IdColumn | pa.Array]]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return 0

    def __getitem__(self, rows: list[int] | np.ndarray) -> dict[str, Any]:
        return self.many([np.asarray(rows, dtype=np.int64)])[0]

    def many(self, batches: Sequence[np.ndarray]) -> list[dict[str, Any]]:
        """The tensors of a run of batches, each field's padded for the whole run in one pass."""
        indices = [np.asarray(rows, dtype=np.int64) for rows in batches]
        out: list[dict[str, Any]] = [{ROWS: torch.from_numpy(index)} for index in indices]
        for name, (field, column) in self.columns.items():
            if isinstance(column, IdColumn):
                for item, arrays in zip(out, field.batches_arrays(column, indices)):
                    item[name] = field.to_tensors(arrays)
            else:
                for item, index in zip(out, indices):
                    item[name] = processed_tensors(field.process(column.take(pa.array(index)).to_pylist()))
        return out

    def epoch(self, sampler: BucketSampler, run: int = 32) -> TypingIterator[dict[str, Any]]:
        """The sampler's batches from its position on, gathered ``run`` batches at a time, the position
        moved as each is taken (as ``sampler.arrays()`` does), the epoch moved on at the end."""
        batches = sampler.batches()
        for start in range(sampler.position, len(batches), run):
            for k, item in enumerate(self.many(batches[start:start + run]), start=start):
                sampler.position = k + 1
                yield item
        sampler.epoch += 1
        sampler.position = 0


def processed_tensors(value: Any) -> dict[str, Any]:
    """What ``field.process`` gave, under the names a batch keeps: ``data`` (and ``lengths``, and for a
    NestedField ``char_lengths``)."""
    if isinstance(value, tuple):
        return dict(zip(("data", "lengths", "char_lengths"), value))
    return {"data": value}


def _identity(batch: Any) -> Any:
    return batch
