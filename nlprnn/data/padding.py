"""The one padding routine: rows of a flat column gathered into a padded (batch, time) array.

``Field.batch_arrays`` uses it on ids and ``Field.pad`` on token strings (an object array), so the
per-example torchtext API and the columnar fast path cannot disagree.
"""

from __future__ import annotations

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
    rows = np.asarray(rows, dtype=np.int64)
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    n_init, n_eos = int(init is not None), int(eos is not None)
    if fix_length is not None:
        over = np.maximum(lengths - (fix_length - n_init - n_eos), 0)
        if truncate_first:
            starts = starts + over
        lengths = lengths - over
        width = fix_length
    else:
        width = int(lengths.max(initial=0)) + n_init + n_eos
    total = lengths + n_init + n_eos
    cells = np.arange(width)[None, :]
    lead: np.ndarray | int = 0  # left padding of each row (pad_first)
    if pad_first or n_init:  # a row's tokens start after its left padding and its init
        first = np.full(len(rows), n_init, dtype=np.int64)
        if pad_first:
            lead = width - total
            first += lead
        relative = cells - first[:, None]
        padding = (relative < 0) | (relative >= lengths[:, None])
    else:
        relative, padding = cells, cells >= lengths[:, None]
    # a clipped take, then the padding overwritten: 1.8x faster than gathering through a boolean mask
    if len(values):
        out = values.take(starts[:, None] + relative, mode="clip")
        out[padding] = pad
    else:
        out = np.full((len(rows), width), pad, dtype=values.dtype)
    if init is not None or eos is not None:
        batch = np.arange(len(rows))
        if init is not None:
            out[batch, lead] = init
        if eos is not None:
            out[batch, lead + n_init + lengths] = eos
    return out, total


def flatten(rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Python lists of tokens -> (flat object array, offsets), the layout ``pad_rows`` reads."""
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    values = np.empty(int(offsets[-1]), dtype=object)
    values[:] = [t for row in rows for t in row]
    return values, offsets
