"""The one padding routine: rows of a flat column gathered into a padded (batch, time) array.

``Field.batch_arrays`` uses it on ids and ``Field.pad`` on token strings (an object array), so the
per-example torchtext API and the columnar fast path cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pad_rows(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray, pad: Any, init: Any = None,
             eos: Any = None, fix_length: int | None = None, truncate_first: bool = False,
             pad_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Gather rows ``values[offsets[r]:offsets[r+1]]`` into a padded (batch, time) array, vectorized.

    ``init``/``eos`` (None: none) are added to every row; ``fix_length`` pads or truncates to that width
    (``truncate_first`` cuts the start); ``pad_first`` pads on the left. Returns the array and each row's
    length (init/eos included, after truncation).
    """
    return pad_batches(values, offsets, [rows], pad, init=init, eos=eos, fix_length=fix_length,
                       truncate_first=truncate_first, pad_first=pad_first)[0]


def pad_batches(values: np.ndarray, offsets: np.ndarray, batches: Sequence[np.ndarray], pad: Any,
                init: Any = None, eos: Any = None, fix_length: int | None = None, truncate_first: bool = False,
                pad_first: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """``pad_rows`` of several batches in one pass: every batch's padded array (its own width) and row
    lengths. The tokens of all the batches are scattered into one buffer with a few numpy operations,
    so an iterator pays the per-call cost once for a run of batches instead of once a batch."""
    sizes = np.fromiter((len(b) for b in batches), dtype=np.int64, count=len(batches))
    rows = np.concatenate([np.asarray(b, dtype=np.int64) for b in batches]) if len(batches) else sizes
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    n_init, n_eos = int(init is not None), int(eos is not None)
    first_row = np.cumsum(sizes) - sizes  # each batch's first row in ``rows``
    if fix_length is not None:
        over = np.maximum(lengths - (fix_length - n_init - n_eos), 0)
        if truncate_first:
            starts = starts + over
        lengths = np.maximum(lengths - over, 0)
        widths = np.full(len(batches), fix_length, dtype=np.int64)
    else:
        widths = np.zeros(len(batches), dtype=np.int64)
        filled = sizes > 0
        if filled.any():
            widths[filled] = np.maximum.reduceat(lengths, first_row[filled])
        widths += n_init + n_eos
    total = lengths + n_init + n_eos
    row_width = np.repeat(widths, sizes)
    cells = sizes * widths
    first_cell = np.cumsum(cells) - cells  # each batch's first cell in the buffer
    row_base = np.repeat(first_cell - first_row * widths, sizes) + np.arange(len(rows)) * row_width
    lead = row_base + (row_width - total if pad_first else 0)  # where a row's init (or first token) goes
    out = np.full(int(cells.sum()), pad, dtype=values.dtype)
    # token k of the run, the j-th of its row: from starts[row] + j to lead[row] + n_init + j, where
    # j = k - (the row's first k), so both are a per-row constant repeated plus k
    token = np.arange(int(lengths.sum()))
    before = np.cumsum(lengths) - lengths  # tokens of the run before each row
    out[np.repeat(lead + n_init - before, lengths) + token] = values[np.repeat(starts - before, lengths) + token]
    if init is not None:
        out[lead] = init
    if eos is not None:
        out[lead + n_init + lengths] = eos
    return [(out[c:c + n * w].reshape(n, w), total[r:r + n])
            for c, r, n, w in zip(first_cell.tolist(), first_row.tolist(), sizes.tolist(), widths.tolist())]


def flatten(rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Python lists of tokens -> (flat object array, offsets), the layout ``pad_rows`` reads."""
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    values = np.empty(int(offsets[-1]), dtype=object)
    values[:] = [t for row in rows for t in row]
    return values, offsets
