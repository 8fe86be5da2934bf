"""What the data set readers share: string columns read by a data set's own parser, turned into a
dataset by nlprnn's column path (tokenized once per column, not once per Example)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlprnn.data import dataset as native
from nlprnn.data.field import Field
from nlprnn.errors import DataError


def fill_from_columns(dataset: native.Dataset, path: str | Path, columns: dict[str, list[str]],
                      fields: Sequence[tuple[str, Field] | None], lines: Sequence[int] | None = None,
                      **kwargs: Any) -> None:
    """Make ``dataset`` hold ``columns`` (parallel lists of raw strings) processed by ``fields`` (one
    ``(name, field)`` or None per column, in order); ``lines`` are the rows' source lines (for errors)."""
    built = native.Dataset.from_columns(str(path), columns, dict(zip(columns, fields)), lines, keep_rows=True)
    native.Dataset.__init__(dataset, built.table, built.fields, path=str(path), skipped=built.skipped,
                            reports=built.reports, **kwargs)


def need_file(path: str | Path, dataset: str, url: str) -> Path:
    """``path`` if it exists, else one error naming it, the data set and where it comes from."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, None, f"{dataset} file not found, and nlprnn downloads nothing.",
                        f"download {url} and unpack it so that this path exists (or pass root= / path= the folder "
                        "that holds it)", code="not_downloaded")
    return path
