"""The datasets read from files, as torchtext's: TabularDataset (TSV, CSV, JSON lines),
SequenceTaggingDataset (CoNLL columns) and LanguageModelingDataset (a text as one stream)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from nlprnn.data.columns import list_lengths
from nlprnn.data.dataset import LINE, Dataset, FieldSpec, FieldTarget
from nlprnn.data.example import Example
from nlprnn.data.field import Field
from nlprnn.data.readers import decode_lines, read_conll, read_delimited, read_jsonl, read_tsv
from nlprnn.errors import ConfigError, DataError, no_effect


def check_encoding(path: str | Path, encoding: str) -> None:
    """nlprnn reads UTF-8 (with or without a BOM); another encoding is refused with the command that converts."""
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig"):
        raise ConfigError(f"{path}: nlprnn reads UTF-8 files, not {encoding}; convert it first, e.g. "
                          f"`iconv -f {encoding} -t utf-8 {path} > {Path(path).stem}.utf8{Path(path).suffix}`",
                          key="encoding", value=encoding, allowed=["utf-8"])


def _field_map(fields: FieldSpec, columns: Sequence[str]) -> dict[str, FieldTarget]:
    """torchtext's ``fields``: a list in column order, or a dict keyed by column (header) name."""
    if isinstance(fields, Mapping):
        return dict(fields)
    if len(fields) != len(columns):
        raise ConfigError(f"fields lists {len(fields)} columns but the file has {len(columns)} ({', '.join(columns)}); "
                          "give one (name, field) or None per column")
    return dict(zip(columns, fields))


class TabularDataset(Dataset):
    """A TSV, CSV or JSON-lines file, as in torchtext.

    ``fields``: for tsv/csv a list of ``(name, field)`` or None per column, or a dict from header
    column name to ``(name, field)``; for json a dict from key to ``(name, field)``. TSV is literal
    (quotes are text); csv applies CSV quoting. ``on_error="skip"`` skips bad rows and lists them in
    ``dataset.skipped``; the default raises on the first, naming file and line.
    """

    #: read TSV with CSV quoting (torchtext did); nlprnn reads it literally, so quotes are text
    tsv_quoting = False
    #: keep rows a field cannot use (an empty text) with a warning, as torchtext kept them (nlprnn.legacy)
    keep_rows = False

    def __init__(self, path: str | Path, format: str, fields: FieldSpec, skip_header: bool = False,
                 csv_reader_params: Mapping[str, Any] | None = None, on_error: str = "raise", progress: bool = False,
                 filter_pred: Callable[[Example], bool] | None = None) -> None:
        format = format.lower()
        if format == "jsonl":
            format = "json"
        if format not in ("tsv", "csv", "json"):
            raise ConfigError(f"format must be 'tsv', 'csv' or 'json', not {format!r}", key="format", value=format,
                              allowed=["tsv", "csv", "json"])
        quoted = format == "csv" or (format == "tsv" and self.tsv_quoting)
        if not quoted:
            no_effect("TabularDataset", "TSV is read literally (tabs and newlines only); read the file with "
                      "format='csv' for CSV quoting", csv_reader_params=csv_reader_params or None)
        if format == "json":
            if not isinstance(fields, Mapping):
                raise ConfigError("for format='json', fields is a dict {key: (name, field)}")
            read = read_jsonl(path, list(fields), on_error=on_error)
            mapping = dict(fields)
        else:
            by_name = isinstance(fields, Mapping)  # the header line names the columns, whatever skip_header says
            names = None if by_name else [f"column{i}" for i in range(len(fields))]
            header = skip_header or by_name
            if quoted:
                read = read_delimited(path, "csv" if format == "csv" else "tsv", columns=names, skip_header=header, on_error=on_error,
                                      csv_params=dict(csv_reader_params or {}))  # type: ignore[arg-type]
            else:
                read = read_tsv(path, skip_header=header, columns=names, on_error=on_error)
            mapping = _field_map(fields, read.column_names)
        built = Dataset.from_read(read, mapping, on_error=on_error, progress=progress, keep_rows=self.keep_rows)
        super().__init__(built.table, built.fields, path=built.path, skipped=built.skipped, reports=built.reports,
                         token_lines=built.token_lines, filter_pred=filter_pred)


class SequenceTaggingDataset(Dataset):
    """A CoNLL column file: one token a line, blank lines between sentences, ``-DOCSTART-`` skipped.

    ``fields``: one ``(name, field)`` or None per column, e.g.
    ``[("words", WORD), None, ("tags", TagField())]`` for ``token POS tag``.
    """

    def __init__(self, path: str | Path, fields: Sequence[tuple[str, Field] | None], encoding: str = "utf-8",
                 separator: str | None = None, on_error: str = "raise", progress: bool = False,
                 filter_pred: Callable[[Example], bool] | None = None, keep_docstart: bool = False) -> None:
        check_encoding(path, encoding)
        names = [f"column{i}" for i in range(len(fields))]
        read = read_conll(path, columns=names, separator=separator, on_error=on_error, keep_docstart=keep_docstart)
        built = Dataset.from_read(read, _field_map(fields, names), on_error=on_error, progress=progress)
        super().__init__(built.table, built.fields, path=built.path, skipped=built.skipped, reports=built.reports,
                         token_lines=built.token_lines, filter_pred=filter_pred)



class LanguageModelingDataset(Dataset):
    """A text file for language modeling, as one stream of tokens (the rows are the file's lines).

    With ``newline_eos`` each line's tokens end with ``<eos>``, as in torchtext and Zaremba et al.'s
    PTB setup. With ``char_stream`` the text is taken character by character, newlines included,
    and the field's tokenizer is not used.
    """

    def __init__(self, path: str | Path, text_field: Field, newline_eos: bool = True, encoding: str = "utf-8",
                 char_stream: bool = False, on_error: str = "raise", progress: bool = False, eos_token: str = "<eos>",
                 filter_pred: Callable[[Example], bool] | None = None) -> None:
        check_encoding(path, encoding)
        no_effect("LanguageModelingDataset", "the text is one stream (torchtext's filter saw it as a single "
                  "example)", filter_pred=filter_pred)
        lines, problems = decode_lines(path, on_error)
        bad = {p.line for p in problems}
        numbers = np.asarray([n for n in range(1, len(lines) + 1) if n not in bad], dtype=np.int64)
        texts = [lines[n - 1] for n in numbers]
        if char_stream:
            tokens = pa.array([list(text) + ["\n"] for text in texts], type=pa.list_(pa.string()))
            report = None
        else:
            tokens, report = text_field.preprocess_column(pa.array(texts, type=pa.string()), progress=progress)
            if newline_eos:
                tokens = pa.array([row + [eos_token] for row in tokens.to_pylist()], type=pa.list_(pa.string()))
        if len(tokens) == 0 or list_lengths(tokens).sum() == 0:
            raise DataError(path, None, "the file holds no text.", "give a non-empty text file.")
        table = pa.table({"text": tokens, LINE: pa.array(numbers)})
        super().__init__(table, {"text": text_field}, path=str(path), skipped=problems,
                         reports={"text": report} if report is not None else None)

