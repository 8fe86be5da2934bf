"""Preprocessing a file larger than memory, one chunk of rows at a time.

Two passes, each holding one chunk at a time:

1. read -> tokenize -> write the processed columns to ``tokens.arrow`` and add the chunk's token and
   label counts to running totals (their size grows with the number of *distinct* tokens, not rows);
2. build the vocabularies from the totals, then read ``tokens.arrow`` back chunk by chunk,
   numericalize, and write ``ids.arrow`` (token ids as ``list<int32>``, label ids, source lines).

Both files are Arrow IPC streams, the format HuggingFace ``datasets`` memory-maps
(``datasets.Dataset.from_file``); ``Dataset.load(directory)`` reopens the token columns. Files are
written under temporary names and renamed when complete, with ``complete.json`` last: a directory
without it (a killed run) is never taken for a finished one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlprnn.data.columns import encode
from nlprnn.data.dataset import LINE, Dataset
from nlprnn.data.field import Field
from nlprnn.data.readers import RowProblem, iter_tsv_chunks
from nlprnn.errors import DataError
from nlprnn.tokenizers import TokenizeReport

COMPLETE = "complete.json"


@dataclass
class StreamResult:
    """What a streaming run did: rows kept, rows skipped (the first 1,000 listed), tokens, timings."""

    rows: int = 0
    tokens: int = 0
    skipped: int = 0
    skipped_rows: list[RowProblem] = field(default_factory=list)
    tokenized_now: int = 0
    from_cache: int = 0
    time_bound_fallbacks: int = 0
    runs_shortened: int = 0
    analyzer_failures: int = 0
    chunks: int = 0
    reported: bool = False  # the tokenizer keeps a report (analyzers with a cache and a time bound)
    seconds_tokenize: float = 0.0
    seconds_numericalize: float = 0.0


class _Counts:
    """Running (value -> count) totals as an Arrow table, merged chunk by chunk."""

    def __init__(self) -> None:
        self.table = pa.table({"value": pa.array([], type=pa.string()), "count": pa.array([], type=pa.int64())})

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        encoded = encode(column)
        chunk = pa.table({"value": encoded.dictionary.cast(pa.string()), "count": pa.array(encoded.counts())})
        merged = pa.concat_tables([self.table, chunk]).group_by("value").aggregate([("count", "sum")])
        self.table = pa.table({"value": merged.column("value"), "count": merged.column("count_sum")})

    def arrays(self) -> tuple[pa.Array, np.ndarray]:
        return self.table.column("value").combine_chunks(), self.table.column("count").to_numpy()


def stream_preprocess(path: str | Path, out: str | Path, fields: dict[str, tuple[str, Field]],
                      chunk_rows: int = 50_000, max_size: int | None = None, min_freq: int = 1,
                      on_error: str = "raise", progress: Callable[[int], None] | None = None,
                      engine: Literal["local", "ray"] = "local", address: str | None = None) -> StreamResult:
    """Tokenize, count, build vocabs and numericalize a TSV into ``out`` without holding it in memory.

    ``fields`` maps a header column to ``(name, field)`` as in ``TabularDataset``. The fields get
    their vocabs. ``progress`` is called with the rows done after each chunk. ``engine="ray"``: each
    chunk's texts are tokenized by Ray actors (``nlprnn.tokenizers.ray_engine``; ``address`` a running
    cluster, default Ray started here).
    """
    if engine == "ray":
        from nlprnn.tokenizers.ray_engine import RayTokenizer

        for _, field_ in fields.values():
            if field_.sequential and field_.tokenizer is not None and not isinstance(field_.tokenizer, RayTokenizer):
                field_.tokenizer = RayTokenizer(field_.tokenizer, address=address, progress=False)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / COMPLETE).unlink(missing_ok=True)
    result = StreamResult()
    counts = {name: _Counts() for name, _ in fields.values()}
    chosen = {name: f for name, f in fields.values()}
    tokens_path = out / "tokens.arrow"
    partial = out / ".tokens.arrow.partial"
    writer: pa.ipc.RecordBatchStreamWriter | None = None
    start = time.perf_counter()
    try:
        for chunk in iter_tsv_chunks(path, chunk_rows=chunk_rows, on_error=on_error):
            dataset = Dataset.from_read(chunk, fields, on_error=on_error)
            result.chunks += 1
            result.rows += len(dataset)
            result.skipped += len(dataset.skipped)
            room = 1000 - len(result.skipped_rows)
            result.skipped_rows += dataset.skipped[:max(room, 0)]
            for name, field_ in chosen.items():
                column = dataset.table.column(name)
                counts[name].add(pc.list_flatten(column) if field_.sequential else column)
                if field_.sequential:
                    result.tokens += int(pc.sum(pc.list_value_length(column)).as_py() or 0)
            _add_report(result, dataset.reports.values())
            table = dataset.table.select([*chosen, LINE])
            if writer is None:
                writer = pa.ipc.new_stream(str(partial), table.schema)
            writer.write_table(table)
            if progress is not None:
                progress(result.rows)
    finally:
        if writer is not None:
            writer.close()
    if writer is None or result.rows == 0:
        raise DataError(path, None, "no usable rows.", "check the file and its columns.")
    os.replace(partial, tokens_path)
    result.seconds_tokenize = time.perf_counter() - start

    start = time.perf_counter()
    for name, field_ in chosen.items():
        values, numbers = counts[name].arrays()
        field_.vocab = field_._make_vocab(values, numbers, max_size if field_.sequential else None,
                                          min_freq if field_.sequential else 1, [])
    _numericalize(tokens_path, out, chosen, str(path))
    result.seconds_numericalize = time.perf_counter() - start

    for name, field_ in chosen.items():
        assert field_.vocab is not None
        field_.vocab.save(out / f"{name}_vocab.json")
    meta = {"path": str(path), "fields": {n: f.spec() for n, f in chosen.items()},
            "skipped": [[p.path, p.line, p.problem] for p in result.skipped_rows]}
    (out / "dataset.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / COMPLETE).write_text(json.dumps({"rows": result.rows, "tokens": result.tokens}), encoding="utf-8")
    return result


def _numericalize(tokens_path: Path, out: Path, fields: dict[str, Field], source: str) -> None:
    """``tokens.arrow`` -> ``ids.arrow``, one record batch at a time."""
    partial = out / ".ids.arrow.partial"
    writer: pa.ipc.RecordBatchStreamWriter | None = None
    # read, not memory-mapped: mapped pages would count in the process's resident memory
    with pa.OSFile(str(tokens_path)) as file:
        reader = pa.ipc.open_stream(file)
        try:
            for batch in reader:
                lines = batch.column(LINE).to_numpy()

                def locate(row: int, token: int | None = None,
                           lines: np.ndarray = lines) -> tuple[str | None, int | None]:
                    return source, int(lines[row])

                columns: dict[str, Any] = {}
                for name, field_ in fields.items():
                    ids = field_.numericalize_column(batch.column(name), locate)
                    if ids.offsets is None:
                        columns[name] = pa.array(ids.values.astype(np.int64))
                    else:
                        columns[name] = pa.ListArray.from_arrays(pa.array(ids.offsets.astype(np.int32)),
                                                                 pa.array(ids.values.astype(np.int32)))
                columns[LINE] = batch.column(LINE)
                table = pa.table(columns)
                if writer is None:
                    writer = pa.ipc.new_stream(str(partial), table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    os.replace(partial, out / "ids.arrow")


def _add_report(result: StreamResult, reports: Any) -> None:
    for report in reports:
        if isinstance(report, TokenizeReport):
            result.reported = True
            result.tokenized_now += report.computed
            result.from_cache += report.cached
            result.time_bound_fallbacks += len(report.timed_out)
            result.runs_shortened += len(report.shortened)
            result.analyzer_failures += len(report.failed)


def is_complete(directory: str | Path) -> bool:
    """Whether ``directory`` holds a finished streaming run (not one that was killed part-way)."""
    return (Path(directory) / COMPLETE).exists()
