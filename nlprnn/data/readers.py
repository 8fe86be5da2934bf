"""Reading user files into Arrow string columns, with every bad row reported by file and line.

Readers only split files into rows and columns; what a column means (tokens, labels, tags) is the
fields' business. Each reader returns a ``ReadResult``: the rows as a ``pyarrow.Table`` of strings,
the 1-based line number of every row, and the rows skipped under ``on_error="skip"`` with why.

TSV is read literally: a tab separates columns, a newline ends a row, and quotes are ordinary
characters (NSMC holds 623 documents with doubled quotes that CSV rules would mangle). Ask for
``format="csv"`` to get CSV quoting. A UTF-8 byte-order mark and CRLF line endings are accepted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from nlprnn.errors import ConfigError, DataError
from nlprnn.parallel import map_threads, thread_parts

OnError = Literal["raise", "skip"]
ON_ERROR_CHOICES = ("raise", "skip")


@dataclass
class RowProblem:
    """One row that was skipped, and why."""

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass
class ReadResult:
    """Rows read from one file: string columns, their line numbers, and skipped rows."""

    path: str
    table: pa.Table
    lines: np.ndarray
    skipped: list[RowProblem] = field(default_factory=list)
    token_lines: bool = False
    """Each token of a row has its own line (CoNLL): a row's token k is on ``lines[row] + k``."""

    @property
    def column_names(self) -> list[str]:
        return list(self.table.column_names)


def _check_on_error(on_error: str) -> None:
    if on_error not in ON_ERROR_CHOICES:
        raise ConfigError(f"on_error must be one of {ON_ERROR_CHOICES}, not {on_error!r}", key="on_error",
                          value=on_error, allowed=list(ON_ERROR_CHOICES))


def _check_file(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise DataError(p, None, "file not found.", "check the path (relative paths start at the current directory).")
    if p.is_dir():
        raise DataError(p, None, "is a directory, not a file.", "name a file inside it.")
    return p


def first_lines(path: str | Path, count: int = 200) -> list[str]:
    """The file's first ``count`` lines (BOM and CR stripped, undecodable bytes replaced), to tell layouts
    apart without reading the whole file."""
    with open(_check_file(path), encoding="utf-8-sig", errors="replace", newline="\n") as handle:
        lines = [line.removesuffix("\n") for line, _ in zip(handle, range(count))]
    return [line.removesuffix("\r") for line in lines]


def _open_bytes(path: str | Path) -> bytes:
    data = _check_file(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data


def decode_lines(path: str | Path, on_error: str = "raise") -> tuple[list[str], list[RowProblem]]:
    """The file's lines as text (BOM and CR stripped); undecodable lines raise or are reported."""
    _check_on_error(on_error)
    data = _open_bytes(path)
    problems: list[RowProblem] = []
    try:
        text = data.decode("utf-8")
        lines = text.split("\n")
    except UnicodeDecodeError:
        lines = []
        for number, raw in enumerate(data.split(b"\n"), start=1):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError as error:
                problems.append(_invalid_utf8(path, number, raw, error, on_error))
                lines.append("\x00INVALID")  # placeholder keeps numbering; dropped by callers
    if lines and lines[-1] == "":
        lines.pop()
    if any(line.endswith("\r") for line in lines):
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines, problems


def read_delimited(
    path: str | Path,
    format: Literal["tsv", "csv"] = "tsv",
    columns: Sequence[str] | None = None,
    skip_header: bool = True,
    on_error: str = "raise",
    csv_params: Mapping[str, Any] | None = None,
) -> ReadResult:
    """Read a TSV (literal) or CSV (quoted) file into string columns.

    ``columns`` names the columns; by default they come from the header line (``skip_header=True``)
    or are ``column0, column1, ...``. Every row must have as many columns as the names. CSV is read by
    the ``csv`` module over the whole file, so a quoted value may hold newlines; ``csv_params`` are its
    reader's options (torchtext's ``csv_reader_params``), and given with ``format="tsv"`` they read the
    TSV with CSV quoting too, as torchtext read every TSV.
    """
    _check_on_error(on_error)
    quoted = format == "csv" or csv_params is not None
    params = {"delimiter": "\t" if format == "tsv" else ",", **(csv_params or {})}
    if quoted and set(params) == {"delimiter"} and len(params["delimiter"]) == 1:  # the csv module's defaults
        fast = read_tsv_fast(path, skip_header=skip_header, columns=columns, delimiter=params["delimiter"], quoted=True)
        if fast is not None:
            return fast
    lines, problems = decode_lines(path, on_error)
    invalid = {p.line for p in problems}
    records = _csv_records(lines, invalid, params) if quoted else (
        (number, line.split("\t")) for number, line in enumerate(lines, start=1)
        if number not in invalid and not _blank(line, "\t"))
    first = next(records, None)
    header: list[str] | None = None
    if skip_header:
        if first is None:
            raise DataError(path, None, "the file is empty; a header line was expected.",
                            "add the header line (the column names) as the file's first line",
                            code="empty_file")
        header, first = first[1], next(records, None)
    names = list(columns) if columns is not None else header
    if names is None:
        if first is None:
            raise DataError(path, None, "the file is empty.", "give a file with at least one row.", code="empty_file")
        names = [f"column{i}" for i in range(len(first[1]))]
    width = len(names)
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, values in chain([first] if first is not None else [], records):
        if len(values) != width:
            problems.append(_wrong_width(path, number, lines[number - 1], names, len(values), format, on_error))
            continue
        rows.append(values)
        numbers.append(number)
    columns_of = list(zip(*rows)) if rows else [()] * width
    table = pa.table({name: pa.array(columns_of[i], type=pa.string()) for i, name in enumerate(names)})
    problems.sort(key=lambda p: p.line)
    return ReadResult(str(path), table, np.asarray(numbers, dtype=np.int64), problems)


def _csv_records(lines: list[str], invalid: set[int], params: Mapping[str, Any]) -> Iterator[tuple[int, list[str]]]:
    """(first line, values) of each CSV record; a quoted value may run over several lines. Blank lines
    and lines that were not UTF-8 (already reported) are passed over."""
    if invalid:
        lines = ["" if n in invalid else line for n, line in enumerate(lines, start=1)]
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n"), **params)
    start = 1
    for values in reader:
        if values:  # [] is a blank line
            yield start, values
        start = reader.line_num + 1


def iter_tsv_chunks(path: str | Path, chunk_rows: int = 50_000, skip_header: bool = True,
                    columns: Sequence[str] | None = None, on_error: str = "raise") -> Iterator[ReadResult]:
    """A literal TSV as a stream of ``ReadResult`` chunks of at most ``chunk_rows`` rows, for files larger
    than memory. The checks and line numbers are those of ``read_tsv``: BOM, CRLF, blank lines, invalid
    UTF-8 and wrong column counts raise or (``on_error="skip"``) are listed in each chunk's ``skipped``."""
    _check_on_error(on_error)
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be at least 1, got {chunk_rows}", key="chunk_rows", value=chunk_rows)
    path = _check_file(path)
    names: list[str] | None = list(columns) if columns is not None else None
    need_header = skip_header
    rows: list[list[str]] = []
    numbers: list[int] = []
    problems: list[RowProblem] = []
    seen_any = False

    def chunk() -> ReadResult:
        assert names is not None
        table = pa.table({name: pa.array([row[i] for row in rows], type=pa.string()) for i, name in enumerate(names)})
        return ReadResult(str(path), table, np.asarray(numbers, dtype=np.int64), list(problems))

    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            raw = raw[:-1] if raw.endswith(b"\n") else raw
            raw = raw[:-1] if raw.endswith(b"\r") else raw
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                problems.append(_invalid_utf8(path, number, raw, error, on_error))
                continue
            if _blank(line, "\t"):
                continue
            seen_any = True
            values = line.split("\t")
            if need_header:
                need_header = False
                names = names or values
                continue
            if names is None:
                names = [f"column{i}" for i in range(len(values))]
            if len(values) != len(names):
                problems.append(_wrong_width(path, number, line, names, len(values), "tsv", on_error))
                continue
            rows.append(values)
            numbers.append(number)
            if len(rows) >= chunk_rows:
                yield chunk()
                rows, numbers, problems = [], [], []
    if not seen_any:
        raise DataError(path, None, "the file is empty.", "give a file with a header line and at least one row.")
    if rows or problems:
        yield chunk()


#: more quotes than this before a cut, and a quoted file is read in one piece (they are followed in Python)
MAX_QUOTES_FOLLOWED = 100_000


def row_starts(data: bytes, parts: int, begin: int, delimiter: str, quoted: bool) -> list[int]:
    """Where each of ``parts`` pieces of ``data`` starts (the first at 0): each piece after the first at
    the start of a row near its share of the bytes, after a line end that, under CSV quoting (``quoted``),
    lies outside quoted values. The quotes from ``begin`` (a row's start) are followed as Arrow's parser
    follows them: a quote opens a value only where a field starts, a doubled quote inside one is a
    quote, and a single one closes it. A quoted file with very many quotes stays one piece."""
    starts = [0]
    position, inside, followed = begin, False, 0
    separators = (ord(delimiter), ord("\n"))
    for part in range(1, parts):
        line_end = data.find(b"\n", max(len(data) * part // parts, position))
        while quoted and line_end >= 0:
            while (quote := data.find(b'"', position, line_end)) >= 0:  # the quotes before this line end
                followed += 1
                if followed > MAX_QUOTES_FOLLOWED:
                    return [0]
                if inside and data[quote + 1] == ord('"'):  # a doubled quote (never past the line end)
                    position = quote + 2
                    continue
                inside = not inside and (quote == 0 or data[quote - 1] in separators)
                position = quote + 1
            position = line_end + 1
            if not inside:
                break
            line_end = data.find(b"\n", position)  # that line end was inside a value: try the next
        if line_end < 0:
            break
        starts.append(line_end + 1)
        position = line_end + 1
    return starts


def read_tsv_fast(path: str | Path, skip_header: bool = True, columns: Sequence[str] | None = None,
                  delimiter: str = "\t", quoted: bool = False) -> ReadResult | None:
    """Arrow's multithreaded reader for a clean literal TSV; None when the file needs the careful path.

    The file is clean when it has no CR, no blank lines, every line has the first line's number of
    tabs, and Arrow's UTF-8 check passes; anything else goes through ``read_delimited``, which locates
    the problem. ``quoted`` reads CSV quoting (a value may hold the delimiter or newlines, in one piece,
    as the ``csv`` module reads it: the same values, checked on NSMC's 150,000 rows and on quotes opened
    mid-value, doubled, left open), with ``delimiter``; a header with a quote goes the careful way.
    """
    data = _open_bytes(path)
    if not data or data.isspace() or b"\r" in data or data.startswith(b"\n"):
        return None
    first_end = data.find(b"\n")
    try:
        first_line = data[: first_end if first_end >= 0 else len(data)].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if quoted and '"' in first_line:
        return None
    width = first_line.count(delimiter) + 1
    names = list(columns) if columns is not None else None
    if skip_header:
        names = names or first_line.split(delimiter)
    elif names is None:
        names = [f"column{i}" for i in range(width)]
    if len(names) != width:
        return None
    # a line with another number of tabs makes Arrow raise (ArrowInvalid, below) and a blank line
    # (which Arrow skips) leaves a row count short of the line count: the careful path then names
    # them. Looking for either before reading cost more than the read itself.
    # Arrow's own reader threads (use_threads=True) made a process that had also run torch abort at
    # exit now and then ("terminate called without an active exception", 3 of 12 predict runs); the
    # file is cut at row starts into one piece per core instead, each read by one of our threads
    starts = row_starts(data, thread_parts(len(data) // 100), first_end + 1 if skip_header else 0,  # ~100 bytes a line
                        delimiter, quoted)
    pieces = [(start, end) for start, end in zip(starts, starts[1:] + [len(data)]) if start < end]

    def read(piece: tuple[int, int]) -> tuple[pa.Table, int]:
        table = pacsv.read_csv(
            pa.BufferReader(memoryview(data)[piece[0]:piece[1]]),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if skip_header and piece[0] == 0 else 0,
                                           use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if quoted else False,
                                             escape_char=False, newlines_in_values=quoted),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False),
        )
        line_ends = np.count_nonzero(np.frombuffer(data, np.uint8, piece[1] - piece[0], piece[0]) == ord("\n"))
        return table, int(line_ends)

    try:
        read_pieces = map_threads(read, pieces)
    except pa.ArrowInvalid:  # e.g. invalid UTF-8: the careful path says where
        return None
    table = pa.concat_tables([piece for piece, _ in read_pieces])
    start = 2 if skip_header else 1
    lines_read = sum(count for _, count in read_pieces) + (not data.endswith(b"\n")) - (start - 1)
    inside = np.zeros(table.num_rows, dtype=np.int64)  # line ends inside each row's quoted values
    if quoted and table.num_rows != lines_read:  # a row a line: no value holds a line end (none to count)
        for column in table.columns:
            inside += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False).astype(np.int64)
    if table.num_rows + int(inside.sum()) != lines_read:
        return None  # blank lines: the careful path keeps the line numbers right
    lines = start + np.arange(table.num_rows, dtype=np.int64) + np.concatenate([[0], np.cumsum(inside)[:-1]])
    return ReadResult(str(path), table, lines.astype(np.int64))


def read_tsv(path: str | Path, skip_header: bool = True, columns: Sequence[str] | None = None,
             on_error: str = "raise") -> ReadResult:
    """Read a literal TSV: the fast Arrow path for a clean file, the careful line-by-line one otherwise."""
    _check_on_error(on_error)
    fast = read_tsv_fast(path, skip_header=skip_header, columns=columns)
    if fast is not None:
        return fast
    return read_delimited(path, "tsv", columns=columns, skip_header=skip_header, on_error=on_error)


def read_jsonl(path: str | Path, columns: Sequence[str], on_error: str = "raise") -> ReadResult:
    """Read JSON Lines: one object a line; ``columns`` are the keys to keep. A dotted key (``"a.b"``)
    reads into nested objects, and through a list of objects gives the list of their values, as in
    torchtext. A list of strings stays a list (tokens already split); other values become strings."""
    lines, problems = decode_lines(path, on_error)
    if not any(line.strip() for line in lines) and not problems:
        raise DataError(path, None, "the file is empty.", "give a file with one JSON object per line.")
    invalid = {p.line for p in problems}
    values: dict[str, list[Any]] = {name: [] for name in columns}
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        if number in invalid or not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
            found, missing = {}, []
            for name in columns:
                try:
                    found[name] = _json_value(record, name)
                except KeyError:
                    missing.append(name)
            if missing:
                raise ValueError(f"missing key(s) {', '.join(map(repr, missing))}")
        except ValueError as error:
            problem = f"not a usable JSON object: {error}."
            if on_error == "raise":
                raise DataError(path, number, problem, "write one JSON object with the named keys per line",
                                remedies=("skip_rows",), code="bad_json") from None
            problems.append(RowProblem(str(path), number, problem))
            continue
        for name in columns:
            values[name].append(found[name])
        numbers.append(number)
    table = pa.table({name: _json_column(v) for name, v in values.items()})
    return ReadResult(str(path), table, np.asarray(numbers, dtype=np.int64), problems)


def _json_value(record: Any, key: str) -> Any:
    """``record[key]``, a dotted key read level by level; through a list, each item's value (a KeyError
    where a level lacks the key)."""
    if key in record:
        return record[key]
    value = record
    for part in key.split("."):
        if isinstance(value, list) and all(isinstance(item, dict) and part in item for item in value):
            value = [item[part] for item in value]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(part)
    return value


def _json_column(values: list[Any]) -> pa.Array:
    """A column of JSON values: token lists when every value is a list of strings, else strings."""
    if values and all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in values):
        return pa.array(values, type=pa.list_(pa.string()))
    return pa.array([v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
                    type=pa.string())


def read_conll(
    path: str | Path,
    columns: Sequence[str] | None = None,
    separator: str | None = None,
    on_error: str = "raise",
    keep_docstart: bool = False,
) -> ReadResult:
    """Read a CoNLL column file: one token a line, a blank line between sentences, ``-DOCSTART-`` skipped
    (kept as a token with ``keep_docstart``, as torchtext's reader did).

    Returns one row per sentence with a list-of-strings column per CoNLL column; ``lines`` holds the
    line of each sentence's first token. ``separator`` None splits on tabs if the first token line
    has one, else on runs of whitespace. Every token line must have the same number of columns.
    """
    lines, problems = decode_lines(path, on_error)
    invalid = {p.line for p in problems}
    width: int | None = len(columns) if columns is not None else None
    sentences: list[list[list[str]]] = []
    numbers: list[int] = []
    current: list[list[str]] = []
    current_line = 0
    bad_sentence = False

    def close() -> None:
        nonlocal current, bad_sentence
        if current and not bad_sentence:
            sentences.append(current)
            numbers.append(current_line)
        current, bad_sentence = [], False

    for number, line in enumerate(lines, start=1):
        if number in invalid:
            bad_sentence = True
            continue
        if not line.strip():
            close()
            continue
        if line.startswith("-DOCSTART-") and not keep_docstart:
            continue
        if separator is None:
            separator = "\t" if "\t" in line else ""
        parts = line.split(separator) if separator else line.split()
        if width is None:
            width = len(parts)
        if len(parts) != width:
            problems.append(sentence_problem(path, number, f"expected {width} columns, found {len(parts)}.",
                                             "give every token line the same columns (token, ..., tag)", on_error,
                                             "wrong_columns"))
            bad_sentence = True
            continue
        if not current:
            current_line = number
        current.append(parts)
    close()
    if width is None:
        raise DataError(path, None, "the file holds no token lines.", "give a CoNLL file: one token per line, a blank line between sentences.")
    names = list(columns) if columns is not None else [f"column{i}" for i in range(width)]
    list_type = pa.list_(pa.string())
    table = pa.table({
        name: pa.array([[token[i] for token in sentence] for sentence in sentences], type=list_type)
        for i, name in enumerate(names)
    })
    problems.sort(key=lambda p: p.line)
    return ReadResult(str(path), table, np.asarray(numbers, dtype=np.int64), problems, token_lines=True)


def sentence_problem(path: str | Path, number: int, problem: str, fix: str, on_error: str, code: str,
                     remedies: tuple[str, ...] = ("skip_rows",)) -> RowProblem:
    """A bad line of a file read a sentence at a time: raised (``on_error="raise"``) with ``fix`` and the
    remedies, or returned to list, the sentence it belongs to skipped."""
    if on_error == "raise":
        raise DataError(path, number, problem, fix, remedies=remedies, code=code)
    return RowProblem(str(path), number, problem + " The sentence was skipped.")


def _invalid_utf8(path: str | Path, number: int, raw: bytes, error: UnicodeDecodeError, on_error: str) -> RowProblem:
    """A line that is not UTF-8: raised with the byte and how to re-encode, or returned to list."""
    problem = f"invalid UTF-8 byte {raw[error.start:error.start + 1]!r} at column {error.start + 1}."
    if on_error == "raise":
        raise DataError(path, number, problem, "re-save the file as UTF-8 (e.g. `iconv -f cp949 -t utf-8`)",
                        remedies=("skip_rows",), code="invalid_utf8")
    return RowProblem(str(path), number, problem)


def conll_width(path: str | Path) -> int | None:
    """Columns of a CoNLL file's first token line (tabs if it has one, else whitespace); None if it has none."""
    lines, _ = decode_lines(path, on_error="skip")
    for line in lines:
        if line.strip() and not line.startswith("-DOCSTART-"):
            return len(line.split("\t")) if "\t" in line else len(line.split())
    return None


def _wrong_width(path: str | Path, number: int, line: str, names: Sequence[str], found: int, format: str,
                 on_error: str) -> RowProblem:
    """A row with the wrong number of columns: raised (with a hint about CSV quoting), or returned to list."""
    problem = f"expected {len(names)} columns ({', '.join(names)}) separated by {_sep_name(format)}, found {found}."
    if on_error == "raise":
        quoted = format == "tsv" and '"' in line
        raise DataError(path, number, problem, "remove or repair the row",
                        remedies=("csv_format", "skip_rows") if quoted else ("skip_rows",), code="wrong_columns")
    return RowProblem(str(path), number, problem)


def _blank(line: str, separator: str) -> bool:
    """A line with nothing on it; one of only separators and spaces is a row of empty cells (reported
    as such), not a blank line to pass over."""
    return not line.strip() and separator not in line


csv.field_size_limit(2**31 - 1)  # the default 128 KiB would reject a long field with an error of its own


def _sep_name(format: str) -> str:
    return "tabs" if format == "tsv" else "commas"
