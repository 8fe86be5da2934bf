"""Numeric columns: a field's ids for a whole dataset as flat arrays plus offsets (Arrow's list layout).

Keeping ids flat lets a batch be gathered with a few numpy operations instead of a Python loop per
example, and lets DataLoader workers receive the whole column cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from nlprnn.data.issues import Locate
from nlprnn.parallel import map_threads, thread_parts


@dataclass
class IdColumn:
    """Ids of one field for every row.

    ``offsets`` is None for a non-sequential field (one value per row). For a sequential field, row
    ``i`` is ``values[offsets[i]:offsets[i+1]]``. For a nested field, ``values`` are characters,
    ``inner`` splits them into tokens, and ``offsets`` splits tokens into rows.
    """

    values: np.ndarray
    offsets: np.ndarray | None = None
    inner: np.ndarray | None = None

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per row (sequential fields only)."""
        assert self.offsets is not None, "a non-sequential column has no lengths"
        return np.diff(self.offsets)

    def row(self, i: int) -> list:
        if self.offsets is None:
            return self.values[i].item()
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        if self.inner is None:
            return self.values[start:end].tolist()
        return [self.values[self.inner[t] : self.inner[t + 1]].tolist() for t in range(start, end)]


@dataclass
class Encoded:
    """A string column dictionary-encoded once: distinct values, each element's index into them, and
    the row offsets (None for one value per row). Counting (vocab) and numericalizing both start here,
    so the strings are hashed once."""

    dictionary: pa.Array
    indices: np.ndarray
    offsets: np.ndarray | None

    def counts(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=len(self.dictionary)).astype(np.int64)


def encode(array: pa.Array | pa.ChunkedArray) -> Encoded:
    """Dictionary-encode a string column or a list-of-strings column."""
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        flat, offsets = list_offsets(array)
    else:
        flat, offsets = array, None
    flat = flat.cast(pa.string())
    parts = thread_parts(len(flat))
    if parts > 1 and flat.null_count == 0:
        dictionary, indices = _encode_in_parts(flat, parts)
        return Encoded(dictionary, indices, offsets)
    encoded = pc.dictionary_encode(flat)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return Encoded(encoded.dictionary, indices, offsets)


def string_bytes(strings: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """A string array's raw layout, no copy: each value ``i`` is ``chars[ends[i]:ends[i + 1]]`` (UTF-8)."""
    ends = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset:strings.offset + len(strings) + 1]
    return ends, np.frombuffer(strings.buffers()[2] or b"", dtype=np.uint8)


def _encode_in_parts(strings: pa.StringArray, parts: int) -> tuple[pa.Array, np.ndarray]:
    """Dictionary-encode in ``parts`` threads: each string goes to the part its last byte and length
    choose, so one value never lands in two parts and the parts' dictionaries simply concatenate.
    (Encoding halves and merging their dictionaries cost as much as encoding once.) Each thread also
    gathers its part's strings. The dictionary is then in no particular order; nothing that reads it
    relies on first-seen order."""
    import pyarrow.compute as pc

    ends, chars = string_bytes(strings)
    lengths = np.diff(ends)
    last = chars[ends[1:] - 1] if len(chars) else np.zeros(len(strings), dtype=np.uint8)
    last[lengths == 0] = 0  # an empty string's "last byte" above is its neighbour's
    part = (last + lengths) % parts

    def encode_part(number: int) -> tuple[np.ndarray, pa.DictionaryArray]:
        rows = np.flatnonzero(part == number)
        return rows, pc.dictionary_encode(strings.take(pa.array(rows)))

    encoded = map_threads(encode_part, range(parts))
    indices = np.empty(len(strings), dtype=np.int64)
    base = 0
    for rows, piece in encoded:
        indices[rows] = piece.indices.to_numpy(zero_copy_only=False) + base
        base += len(piece.dictionary)
    return pa.concat_arrays([piece.dictionary for _, piece in encoded]), indices


def list_offsets(array: pa.ListArray | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Flattened values and zero-based int64 offsets of an Arrow list array (any chunking or slicing)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    offsets = array.offsets.to_numpy().astype(np.int64)
    flat = array.flatten()
    return flat, offsets - offsets[0]


def list_lengths(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Lengths of every row of an Arrow list column, as int64."""
    import pyarrow.compute as pc

    return pc.list_value_length(array).to_numpy(zero_copy_only=False).astype(np.int64)


def blank(strings: pa.Array) -> np.ndarray:
    """True where a string is empty or only whitespace (one pass, no trimmed copy made)."""
    import pyarrow.compute as pc

    return pc.or_(pc.equal(pc.binary_length(strings), 0), pc.utf8_is_space(strings)).to_numpy(zero_copy_only=False)


def merge_counts(pairs: list[tuple[pa.Array, np.ndarray]]) -> tuple[pa.Array, np.ndarray]:
    """(values, counts) pairs summed into one pair of distinct values and their total counts."""
    if not pairs:
        return pa.array([], type=pa.string()), np.zeros(0, dtype=np.int64)
    if len(pairs) == 1:
        return pairs[0]
    merged = pa.table({"t": pa.concat_arrays([v.cast(pa.string()) for v, _ in pairs]),
                       "c": np.concatenate([c for _, c in pairs])}).group_by("t").aggregate([("c", "sum")])
    return merged.column("t").combine_chunks(), merged.column("c_sum").to_numpy()


def numbers(encoded: Encoded, locate: Locate) -> np.ndarray:
    """An encoded column of numbers written as text, as floats; a value that is no number names its line."""
    import pyarrow.compute as pc

    from nlprnn.errors import DataError

    try:
        values = pc.cast(encoded.dictionary, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        bad = {i for i, v in enumerate(encoded.dictionary.to_pylist()) if not _is_number(v)}
        position = int(next(p for p, i in enumerate(encoded.indices.tolist()) if i in bad))
        offsets = encoded.offsets
        row = position if offsets is None else int(np.searchsorted(offsets, position, side="right") - 1)
        value = encoded.dictionary[int(encoded.indices[position])].as_py()
        path, line = locate(row, None)
        raise DataError(path, line, f"{value!r} is not a number (the field has use_vocab=False).",
                        "fix the value, or use a vocab for this field", code="not_a_number") from None
    return values[encoded.indices]


def _is_number(value: str) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
