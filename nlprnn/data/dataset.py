"""Datasets: processed columns in Arrow (via HuggingFace ``datasets``), plus the fields that read them.

A dataset holds, for each named field, the processed column (token lists or label strings) and the
line each row came from. Token ids are computed once per vocab for the whole column (``ids``) and
cached; ``examples`` materializes torchtext-style Example objects only when asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import pyarrow as pa

from nlprnn.data.columns import Encoded, IdColumn, list_lengths
from nlprnn.data.example import Example
from nlprnn.data.field import Field
from nlprnn.data.issues import RowIssue
from nlprnn.data.readers import (
    ReadResult,
    RowProblem,
    _check_on_error,
    decode_lines,
    read_conll,
    read_delimited,
    read_jsonl,
    read_tsv,
)
from nlprnn.errors import ConfigError, DataError
from nlprnn.tokenizers import TokenizeReport

LINE = "__line__"
FieldTarget = tuple[str, Field] | tuple[tuple[str, Field], ...] | None
FieldSpec = Sequence[FieldTarget] | Mapping[str, FieldTarget]


class Dataset:
    """Rows of processed fields. ``dataset.fields`` maps names to fields; ``len``, indexing and
    iteration give Examples; ``split`` makes seeded (optionally stratified) splits.
    """

    def __init__(self, table: pa.Table, fields: Mapping[str, Field], path: str | None = None,
                 skipped: Sequence[RowProblem] = (), reports: Mapping[str, TokenizeReport] | None = None,
                 token_lines: bool = False) -> None:
        if LINE not in table.column_names:
            table = table.append_column(LINE, pa.array(np.arange(1, table.num_rows + 1), type=pa.int64()))
        missing = [name for name in fields if name not in table.column_names]
        if missing:
            raise ConfigError(f"fields {missing} have no column in the table")
        self.table = table
        self.fields = dict(fields)
        self.path = path
        self.skipped = list(skipped)
        self.reports = dict(reports or {})
        self.token_lines = token_lines
        """Each token of a row stands on its own line (CoNLL), so errors can name a token's line."""
        self._ids: dict[str, tuple[tuple[int, int], IdColumn]] = {}
        self._examples: list[Example] | None = None
        self._encoded: dict[str, Encoded] = {}

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def from_read(cls, read: ReadResult, fields: Mapping[str, FieldTarget],
                  on_error: str = "raise", progress: bool = False) -> Dataset:
        """Process the raw columns of a reader's result with the fields mapped to them.

        ``fields`` maps a column name to ``(name, field)``, several such pairs, or None (ignored). Each
        field preprocesses its column and reports the rows it cannot use; under ``on_error="raise"`` the
        first such row is a DataError, under ``"skip"`` they are dropped and listed in ``skipped``.
        """
        _check_on_error(on_error)
        problems: dict[int, tuple[str, RowIssue]] = {}
        processed: dict[str, pa.Array] = {}
        chosen: dict[str, Field] = {}
        reports: dict[str, TokenizeReport] = {}
        locate = _locator(read)
        for column, target in fields.items():
            for name, field in _targets(target):
                if column not in read.table.column_names:
                    raise ConfigError(f"{read.path}: no column {column!r}; the file has {read.table.column_names}",
                                      key="column", value=column, allowed=read.table.column_names)
                raw = read.table.column(column).combine_chunks()
                values, report = field.preprocess_column(raw, progress=progress)
                if report is not None:
                    reports[name] = report
                for row, issue in field.row_problems(raw, values, locate).items():
                    problems.setdefault(row, (name, issue))
                processed[name] = values
                chosen[name] = field
        skipped = list(read.skipped)
        table = pa.table({**processed, LINE: pa.array(read.lines, type=pa.int64())})
        if problems:
            rows = sorted(problems)
            if on_error == "raise":
                name, issue = problems[rows[0]]
                extra = f" ({len(rows) - 1} more rows with problems.)" if len(rows) > 1 else ""
                raise DataError(read.path, int(read.lines[rows[0]]), f"{name}: {issue.problem}{extra}", issue.fix,
                                remedies=issue.remedies, code=issue.code)
            skipped += [RowProblem(read.path, int(read.lines[r]), f"{problems[r][0]}: {problems[r][1].problem}")
                        for r in rows]
            keep = np.ones(table.num_rows, dtype=bool)
            keep[rows] = False
            table = table.filter(pa.array(keep))
            skipped.sort(key=lambda p: p.line)
        return cls(table, chosen, path=read.path, skipped=skipped, reports=reports,
                   token_lines=read.token_lines)

    # -- torchtext-style access ----------------------------------------------------------------
    def __len__(self) -> int:
        return self.table.num_rows

    def __getitem__(self, index: int) -> Example:
        if self._examples is not None:
            return self._examples[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return Example(**{n: self.table.column(n)[index].as_py() for n in self.fields})

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    @property
    def examples(self) -> list[Example]:
        """Every row as an Example (built on first use; large datasets are better left columnar)."""
        if self._examples is None:
            columns = {n: self.table.column(n).to_pylist() for n in self.fields}
            self._examples = [Example(**dict(zip(columns, values))) for values in zip(*columns.values())]
        return self._examples

    @property
    def lines(self) -> np.ndarray:
        """The source line of every row."""
        return self.table.column(LINE).to_numpy()

    def locate(self, row: int, token: int | None = None) -> tuple[str | None, int | None]:
        """(file, line) of a row, or of a token of it where each token has its own line (CoNLL)."""
        line = int(self.lines[row])
        return self.path, line + token if self.token_lines and token is not None else line

    def encoded(self, name: str) -> Encoded:
        """A field's processed column dictionary-encoded (computed once, shared by vocab and ids)."""
        if name not in self._encoded:
            self._encoded[name] = self.fields[name].encode(self.table.column(name).combine_chunks())
        return self._encoded[name]

    def encoded_for(self, field: Field) -> list[Encoded]:
        """Encoded columns that use ``field`` (what ``field.build_vocab(dataset)`` counts)."""
        return [self.encoded(n) for n, f in self.fields.items() if f is field]

    def ids(self, name: str) -> IdColumn:
        """Ids of a field's column under its current vocab (computed once per vocab)."""
        field = self.fields[name]
        key = (id(field.vocab), len(field.vocab) if field.vocab is not None else -1)
        cached = self._ids.get(name)
        if cached is None or cached[0] != key:
            column = field.numericalize_column(self.table.column(name).combine_chunks(), self.locate,
                                               encoded=self.encoded(name))
            self._ids[name] = (key, column)
            return column
        return cached[1]

    def lengths(self, name: str) -> np.ndarray:
        """Tokens per row of a sequential field (before init/eos tokens)."""
        return list_lengths(self.table.column(name))

    def sort_key_lengths(self) -> np.ndarray:
        """Lengths used for bucketing: the first sequential, non-target field's."""
        for name, field in self.fields.items():
            if field.sequential and not field.is_target:
                return self.lengths(name)
        for name, field in self.fields.items():
            if field.sequential:
                return self.lengths(name)
        return np.ones(len(self), dtype=np.int64)

    @classmethod
    def splits(cls, path: str | Path | None = None, train: str | None = None, validation: str | None = None,
               test: str | None = None, **kwargs: Any) -> tuple[Dataset, ...]:
        """Datasets for the train/validation/test files that are given, in that order (torchtext's
        ``splits``); ``path`` is their folder, ``kwargs`` go to the constructor."""
        root = Path(path) if path is not None else Path(".")
        return tuple(cls(root / name, **kwargs) for name in (train, validation, test) if name is not None)

    # -- splitting ------------------------------------------------------------------------------
    def take(self, rows: np.ndarray) -> Dataset:
        """A dataset of the given rows, in that order (fields shared)."""
        return Dataset(self.table.take(pa.array(np.asarray(rows, dtype=np.int64))), self.fields,
                       path=self.path, token_lines=self.token_lines)

    def split(self, split_ratio: float | Sequence[float] = 0.7, stratified: bool = False,
              strata_field: str = "label", random_state: int | tuple | np.random.Generator | None = None
              ) -> tuple[Dataset, ...]:
        """Seeded split as in torchtext: a float -> (train, test); [train, test] or
        [train, test, valid] ratios -> (train, test) or (train, valid, test). ``random_state`` is a seed
        or numpy Generator (None: seed 0, so splits are reproducible by default)."""
        ratios = _split_ratios(split_ratio)
        if isinstance(random_state, np.random.Generator):
            rng = random_state
        elif isinstance(random_state, tuple):  # random.getstate(), as torchtext tutorials pass
            rng = np.random.default_rng(hash(random_state) & 0xFFFFFFFF)
        else:
            rng = np.random.default_rng(0 if random_state is None else random_state)
        if stratified:
            if strata_field not in self.fields:
                raise ConfigError(f"strata_field {strata_field!r} is not a field of this dataset ({list(self.fields)})")
            strata = np.asarray(self.table.column(strata_field).to_pylist(), dtype=object)
            groups = [np.flatnonzero(strata == value) for value in dict.fromkeys(strata.tolist())]
        else:
            groups = [np.arange(len(self))]
        parts: list[list[np.ndarray]] = [[], [], []]
        for group in groups:
            shuffled = group[rng.permutation(len(group))]
            n_train = int(round(ratios[0] * len(group)))
            n_test = int(round(ratios[1] * len(group)))
            pieces = (shuffled[:n_train], shuffled[n_train:n_train + n_test], shuffled[n_train + n_test:])
            for part, piece in zip(parts, pieces):
                part.append(piece)
        train, test, valid = (np.sort(np.concatenate(p)) for p in parts)
        out = [self.take(train)]
        if ratios[2] > 0:
            out.append(self.take(valid))
        out.append(self.take(test))
        return tuple(out)

    # -- storage --------------------------------------------------------------------------------
    def to_hf(self) -> hf.Dataset:
        """The processed columns as a HuggingFace ``datasets.Dataset`` (shares the Arrow memory)."""
        return hf.Dataset(hf.table.InMemoryTable(self.table))

    def save(self, directory: str | Path) -> None:
        """Write the columns (Arrow, via ``datasets``) and the field specs (JSON) to ``directory``."""
        directory = Path(directory)
        (directory / "dataset.json").unlink(missing_ok=True)  # written last: marks a complete save
        bars_were_off = hf.utils.are_progress_bars_disabled()
        hf.utils.disable_progress_bars()
        try:
            self.to_hf().save_to_disk(str(directory / "arrow"))
        finally:
            if not bars_were_off:
                hf.utils.enable_progress_bars()
        meta = {"path": self.path, "fields": {n: f.spec() for n, f in self.fields.items()},
                "skipped": [[p.path, p.line, p.problem] for p in self.skipped]}
        (directory / "dataset.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, fields: Mapping[str, Field] | None = None) -> Dataset:
        """Reopen a saved (or streamed) dataset, memory-mapped; ``fields`` reuses existing Field objects."""
        directory = Path(directory)
        streamed = (directory / "tokens.arrow").exists()
        complete = (directory / "complete.json").exists() if streamed else (directory / "dataset.json").exists()
        if not complete:
            raise DataError(directory, None, "is not a complete saved dataset (a run that was stopped part-way, "
                            "or not a dataset directory).", "run the preprocessing again into this directory.")
        meta = json.loads((directory / "dataset.json").read_text(encoding="utf-8"))
        if streamed:  # written chunk by chunk by nlprnn.data.streaming; memory-mapped
            table = hf.Dataset.from_file(str(directory / "tokens.arrow")).data.table
        else:
            table = hf.load_from_disk(str(directory / "arrow")).data.table
        if fields is None:
            fields = {n: Field.from_spec(s) for n, s in meta["fields"].items()}
        skipped = [RowProblem(*p) for p in meta["skipped"]]
        return cls(table, fields, path=meta["path"], skipped=skipped)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rows={len(self)}, fields={list(self.fields)}, path={self.path!r})"


def _split_ratios(split_ratio: float | Sequence[float]) -> tuple[float, float, float]:
    if isinstance(split_ratio, float | int):
        if not 0 < split_ratio < 1:
            raise ConfigError(f"split_ratio must be between 0 and 1, got {split_ratio}")
        return float(split_ratio), 1 - float(split_ratio), 0.0
    ratios = [float(r) for r in split_ratio]
    if len(ratios) not in (2, 3) or any(r < 0 for r in ratios):
        raise ConfigError(f"split_ratio must be a float or 2-3 non-negative numbers, got {split_ratio}")
    total = sum(ratios)
    ratios = [r / total for r in ratios]
    return ratios[0], ratios[1], ratios[2] if len(ratios) == 3 else 0.0


def _locator(read: ReadResult) -> Callable[..., tuple[str | None, int | None]]:
    def locate(row: int, token: int | None = None) -> tuple[str | None, int | None]:
        line = int(read.lines[row])
        return read.path, line + token if read.token_lines and token is not None else line
    return locate


def _targets(target: Any) -> list[tuple[str, Field]]:
    """One column's fields: None, a ``(name, field)`` pair, or several pairs (torchtext's tuple of tuples,
    e.g. words and their characters from one CoNLL column)."""
    if target is None:
        return []
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], str):
        return [target] if target[1] is not None else []
    return [pair for pair in target if pair is not None and pair[1] is not None]


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

    def __init__(self, path: str | Path, format: str, fields: FieldSpec, skip_header: bool = False,
                 on_error: str = "raise", progress: bool = False) -> None:
        format = format.lower()
        if format == "jsonl":
            format = "json"
        if format not in ("tsv", "csv", "json"):
            raise ConfigError(f"format must be 'tsv', 'csv' or 'json', not {format!r}")
        if format == "json":
            if not isinstance(fields, Mapping):
                raise ConfigError("for format='json', fields is a dict {key: (name, field)}")
            read = read_jsonl(path, list(fields), on_error=on_error)
            mapping = dict(fields)
        else:
            by_name = isinstance(fields, Mapping)
            if by_name and not skip_header:
                raise ConfigError("fields given as a dict need the header: pass skip_header=True")
            names = None if by_name else [f"column{i}" for i in range(len(fields))]
            if format == "tsv":
                read = read_tsv(path, skip_header=skip_header, columns=names, on_error=on_error)
            else:
                read = read_delimited(path, "csv", columns=names, skip_header=skip_header, on_error=on_error)
            mapping = _field_map(fields, read.column_names)
        built = Dataset.from_read(read, mapping, on_error=on_error, progress=progress)
        super().__init__(built.table, built.fields, path=built.path, skipped=built.skipped, reports=built.reports,
                         token_lines=built.token_lines)



class SequenceTaggingDataset(Dataset):
    """A CoNLL column file: one token a line, blank lines between sentences, ``-DOCSTART-`` skipped.

    ``fields``: one ``(name, field)`` or None per column, e.g.
    ``[("words", WORD), None, ("tags", TagField())]`` for ``token POS tag``.
    """

    def __init__(self, path: str | Path, fields: Sequence[tuple[str, Field] | None], separator: str | None = None,
                 on_error: str = "raise", progress: bool = False) -> None:
        names = [f"column{i}" for i in range(len(fields))]
        read = read_conll(path, columns=names, separator=separator, on_error=on_error)
        built = Dataset.from_read(read, _field_map(fields, names), on_error=on_error, progress=progress)
        super().__init__(built.table, built.fields, path=built.path, skipped=built.skipped, reports=built.reports,
                         token_lines=built.token_lines)



class LanguageModelingDataset(Dataset):
    """A text file for language modeling, as one stream of tokens (the rows are the file's lines).

    With ``newline_eos`` each line's tokens end with ``<eos>``, as in torchtext and Zaremba et al.'s
    PTB setup. With ``char_stream`` the text is taken character by character, newlines included,
    and the field's tokenizer is not used.
    """

    def __init__(self, path: str | Path, text_field: Field, newline_eos: bool = True, char_stream: bool = False,
                 on_error: str = "raise", progress: bool = False, eos_token: str = "<eos>") -> None:
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

