"""Datasets: processed columns in Arrow (via HuggingFace ``datasets``), plus the fields that read them.

A dataset holds, for each named field, the processed column (token lists or label strings) and the
line each row came from. Token ids are computed once per vocab for the whole column (``ids``) and
cached; ``examples`` materializes torchtext-style Example objects only when asked.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import datasets as hf
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nlprnn.data.archives import unpack_archive
from nlprnn.data.columns import Encoded, IdColumn, list_lengths, list_offsets
from nlprnn.data.example import Example
from nlprnn.data.field import Field
from nlprnn.data.issues import RowIssue
from nlprnn.data.readers import (
    ReadResult,
    RowProblem,
    _check_on_error,
)
from nlprnn.errors import ConfigError, DataError, VocabError
from nlprnn.tokenizers import TokenizeReport

LINE = "__line__"
FieldTarget = tuple[str, Field] | tuple[tuple[str, Field], ...] | None
FieldSpec = Sequence[FieldTarget] | Mapping[str, FieldTarget]


def _drop_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table`` without ``rows``. A token-list column whose dropped rows hold no tokens (empty texts,
    the usual reason) keeps its tokens where they are and only loses those rows' offsets; other columns
    are filtered (a copy)."""
    keep = np.ones(table.num_rows, dtype=bool)
    keep[rows] = False
    mask = pa.array(keep)
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_list(column.type) and not column.null_count:
            flat, offsets = list_offsets(column)
            if (offsets[rows + 1] == offsets[rows]).all() and offsets[-1] < 2**31:
                kept = np.append(offsets[:-1][keep], offsets[-1]).astype(np.int32)
                columns[name] = pa.ListArray.from_arrays(pa.array(kept), flat, type=column.type)
                continue
        columns[name] = column.filter(mask)
    return pa.table(columns)


class Dataset:
    """Rows of processed fields. ``dataset.fields`` maps names to fields; ``len``, indexing and
    iteration give Examples; ``split`` makes seeded (optionally stratified) splits.

    Built by the readers (``from_read``, the file datasets) from a pyarrow Table of processed columns,
    or as torchtext's ``Dataset(examples, fields, filter_pred)`` from Example objects.
    """

    table: pa.Table
    fields: dict[str, Field]
    sort_key: Callable[[Example], Any] | None = None
    """torchtext's per-dataset sort key; an Iterator given none uses it (else the first text field's length)."""
    urls: Sequence[str | tuple[str, str]] = ()
    name = ""
    dirname = ""
    part_class: type[Dataset] | None = None
    """The class of the parts ``take`` and ``split`` make (None: Dataset; nlprnn.legacy's Dataset its own)."""

    def __init__(self, examples: pa.Table | Sequence[Example], fields: Mapping[str, Field] | Sequence[Any],
                 path: str | None = None, skipped: Sequence[RowProblem] = (),
                 reports: Mapping[str, TokenizeReport] | None = None, token_lines: bool = False,
                 filter_pred: Callable[[Example], bool] | None = None) -> None:
        kept: list[Example] | None = None
        if isinstance(examples, pa.Table):
            table: pa.Table = examples
            if filter_pred is not None:
                built = Dataset(table, fields, path, skipped, reports, token_lines).filter(filter_pred)
                table, fields = built.table, built.fields
        else:  # torchtext's Dataset(examples, fields, filter_pred)
            kept = [ex for ex in examples if filter_pred is None or filter_pred(ex)]
            fields = dict(_named_fields(fields))
            table = pa.table({name: _column([getattr(ex, name) for ex in kept]) for name in fields})
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
        self._examples: list[Example] | None = kept
        self._encoded: dict[str, Encoded] = {}

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def from_read(cls, read: ReadResult, fields: Mapping[str, FieldTarget],
                  on_error: str = "raise", progress: bool = False, keep_rows: bool = False) -> Dataset:
        """Process the raw columns of a reader's result with the fields mapped to them.

        ``fields`` maps a column name to ``(name, field)``, several such pairs, or None (ignored). Each
        field preprocesses its column and reports the rows it cannot use; under ``on_error="raise"`` the
        first such row is a DataError, under ``"skip"`` they are dropped and listed in ``skipped``. With
        ``keep_rows`` (nlprnn.legacy: torchtext kept an empty text as an empty example) they stay, and
        one warning counts them and names the first.
        """
        _check_on_error(on_error)
        problems: dict[int, tuple[str, RowIssue]] = {}
        processed: dict[str, pa.Array] = {}
        chosen: dict[str, Field] = {}
        reports: dict[str, TokenizeReport] = {}
        locate = partial(line_of, read.path, read.lines, read.token_lines)
        for column, target in fields.items():
            for name, field in _targets(target):
                if column not in read.table.column_names:
                    names = read.table.column_names
                    commas = len(names) == 1 and "," in names[0]  # a CSV header read as one TSV column
                    raise DataError(read.path, 1 if not names[0].startswith("column") else None,
                                    f"no column {column!r}; the file's header names {names}.",
                                    "name the columns in the file's first line" if not commas else "",
                                    remedies=("csv_file",) if commas else (), code="missing_column")
                raw = read.table.column(column)  # chunked as read: one piece per thread
                values, report = field.preprocess_column(raw, progress=progress)
                if report is not None:
                    reports[name] = report
                for row, issue in field.row_problems(raw, values, locate).items():
                    problems.setdefault(row, (name, issue))
                processed[name] = values
                chosen[name] = field
        skipped = list(read.skipped)
        table = pa.table({**processed, LINE: pa.array(read.lines, type=pa.int64())})
        if problems and keep_rows and on_error == "raise":
            first = min(problems)
            name, issue = problems[first]
            warnings.warn(f"{read.path}:{int(read.lines[first])}: {name}: {issue.problem} ({len(problems)} such rows "
                          "in all, kept as torchtext kept them; on_error='skip' drops them)", stacklevel=4)
            problems = {}
        if problems:
            rows = sorted(problems)
            if on_error == "raise":
                name, issue = problems[rows[0]]
                extra = f" ({len(rows) - 1} more rows with problems.)" if len(rows) > 1 else ""
                raise DataError(read.path, int(read.lines[rows[0]]), f"{name}: {issue.problem}{extra}", issue.fix,
                                remedies=issue.remedies, code=issue.code)
            skipped += [RowProblem(read.path, int(read.lines[r]), f"{problems[r][0]}: {problems[r][1].problem}")
                        for r in rows]
            table = _drop_rows(table, np.asarray(rows, dtype=np.int64))
            skipped.sort(key=lambda p: p.line)
        return cls(table, chosen, path=read.path, skipped=skipped, reports=reports,
                   token_lines=read.token_lines)

    @classmethod
    def from_columns(cls, path: str, columns: Mapping[str, pa.Array | Sequence[str]],
                     fields: Mapping[str, FieldTarget], lines: Sequence[int] | None = None,
                     keep_rows: bool = False) -> Dataset:
        """Columns already in memory (raw strings, or token lists as Arrow arrays), processed by ``fields`` as
        ``from_read`` processes a file's; ``path`` names them in errors, ``lines`` numbers the rows (from 1)."""
        table = pa.table({name: values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
                          for name, values in columns.items()})
        numbers = np.asarray(lines if lines is not None else np.arange(1, table.num_rows + 1), dtype=np.int64)
        return cls.from_read(ReadResult(str(path), table, numbers), fields, keep_rows=keep_rows)

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

    def __getattr__(self, name: str) -> Any:
        """``dataset.text`` iterates the values of the field ``text``, one per row (torchtext's)."""
        fields = self.__dict__.get("fields")
        if fields is not None and name in fields:
            if self.__dict__.get("_examples") is not None:
                return (getattr(example, name) for example in self._examples)  # type: ignore[union-attr]
            return iter(self.table.column(name).to_pylist())
        raise AttributeError(f"{type(self).__name__} has no attribute or field {name!r}")

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
        return line_of(self.path, self.lines, self.token_lines, row, token)

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
    def splits(cls, path: str | Path | None = None, root: str = ".data", train: str | None = None,
               validation: str | None = None, test: str | None = None, **kwargs: Any) -> tuple[Dataset, ...]:
        """Datasets for the train/validation/test files that are given, in that order (torchtext's
        ``splits``); ``path`` is their folder, or None for the folder ``download(root)`` finds (a data
        set's unpacked archive under ``root``); ``kwargs`` go to the constructor."""
        folder = Path(path) if path is not None else Path(cls.download(root))
        return tuple(cls(folder / name, **kwargs) for name in (train, validation, test) if name is not None)

    @classmethod
    def download(cls, root: str | Path, check: str | Path | None = None) -> str:
        """The folder of a data set's files, ``root/<name>/<dirname>``, as torchtext's ``download`` gave it,
        with no network: when ``check`` (default ``root/<name>``) is missing, each archive of ``urls``
        found in ``root/<name>`` is unpacked there (.zip, .tar.gz/.tgz, .gz); one that is missing is an
        error naming the file, its URL and where to put it."""
        folder = Path(root) / cls.name
        if not os.path.isdir(check if check is not None else folder):  # check="" is no folder (torchtext's test)
            for url in cls.urls:
                url, filename = url if isinstance(url, tuple) else (url, os.path.basename(url))
                archive = folder / filename
                if not archive.is_file():
                    raise DataError(archive, None, f"{cls.__name__}'s files are not under {folder}/, and nlprnn "
                                    "downloads nothing.", f"download {url} and put it at {archive} (or unpack it "
                                    f"into {folder}/), then run again", code="not_downloaded")
                unpack_archive(archive, folder)
        return str(folder / cls.dirname)

    # -- filtering ------------------------------------------------------------------------------
    def filter(self, predicate: Callable[[Example], bool]) -> Dataset:
        """The rows whose Example ``predicate`` accepts (torchtext's ``filter_pred``)."""
        keep = [row for row, example in enumerate(self.examples) if predicate(example)]
        kept = self.take(np.asarray(keep, dtype=np.int64))
        kept.skipped, kept.reports = list(self.skipped), dict(self.reports)
        return kept

    def filter_examples(self, field_names: Sequence[str]) -> None:
        """Drop, in place, the tokens of these fields that their vocab does not hold (torchtext's)."""
        columns = {}
        for name in field_names:
            vocab = self.fields[name].vocab
            if vocab is None:
                raise VocabError(f"field {name!r} has no vocab yet; build it before filter_examples")
            flat, offsets = list_offsets(self.table.column(name))
            # the tokens ``stoi`` holds: a caller's edits to it count, as in torchtext
            known = pc.is_in(flat, value_set=pa.array(list(vocab.stoi), type=pa.string())).to_numpy(zero_copy_only=False)
            before = np.concatenate([[0], np.cumsum(known)])
            columns[name] = pa.ListArray.from_arrays(pa.array(before[offsets].astype(np.int32)),
                                                     flat.filter(pa.array(known)))
        for name, column in columns.items():
            self.table = self.table.set_column(self.table.column_names.index(name), name, column)
        if self._examples is not None:
            for example, *values in zip(self._examples, *(columns[n].to_pylist() for n in columns)):
                for name, value in zip(columns, values):
                    setattr(example, name, value)
        self._ids, self._encoded = {}, {}

    # -- splitting ------------------------------------------------------------------------------
    def take(self, rows: np.ndarray) -> Dataset:
        """A dataset of the given rows, in that order (fields shared)."""
        return (self.part_class or Dataset)(self.table.take(pa.array(np.asarray(rows, dtype=np.int64))), self.fields,
                                            path=self.path, token_lines=self.token_lines)

    def split(self, split_ratio: float | Sequence[float] = 0.7, stratified: bool = False,
              strata_field: str = "label", random_state: int | tuple | np.random.Generator | None = None
              ) -> tuple[Dataset, ...]:
        """Seeded split with torchtext's sizes: a float -> (train, test); [train, test] or
        [train, test, valid] ratios -> (train, test) or (train, valid, test), a part that comes out
        empty left out, as torchtext did. Without validation, test takes every row train does not (no
        row is lost to rounding). ``random_state`` is a seed or numpy Generator (None: seed 0, so splits
        are reproducible by default); each part keeps the file's order."""
        ratios = check_split_ratio(split_ratio)
        permute = self._permutation(random_state)
        if stratified:
            if strata_field not in self.fields:
                raise ConfigError(f"strata_field {strata_field!r} is not a field of this dataset ({list(self.fields)})",
                                  key="strata_field", value=strata_field, allowed=list(self.fields))
            strata = self.table.column(strata_field).to_pylist()
            by_value: dict[Any, list[int]] = {}
            for row, value in enumerate(strata):
                by_value.setdefault(_hashable(value), []).append(row)
            groups = [np.asarray(rows, dtype=np.int64) for rows in by_value.values()]
        else:
            groups = [np.arange(len(self))]
        parts: list[list[np.ndarray]] = [[], [], []]  # train, test, valid
        for group in groups:
            for part, piece in zip(parts, rationed_split(group, ratios, permute)):
                part.append(piece)
        train, test, valid = (np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts)
        subsets = tuple(self._subset(rows) for rows in (train, valid, test) if len(rows))
        return subsets

    def _permutation(self, random_state: Any) -> Callable[[int], np.ndarray]:
        """How ``split`` shuffles: a numpy Generator from the seed (0 when None)."""
        if isinstance(random_state, np.random.Generator):
            rng = random_state
        elif isinstance(random_state, tuple):  # random.getstate(), as torchtext tutorials pass
            rng = np.random.default_rng(hash(random_state) & 0xFFFFFFFF)
        else:
            rng = np.random.default_rng(0 if random_state is None else random_state)
        return rng.permutation

    def _subset(self, rows: np.ndarray) -> Dataset:
        """One part of a split (in the file's order), with this dataset's sort key."""
        part = self.take(np.sort(rows))
        part.sort_key = self.sort_key
        return part

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


class SplitRatioError(ConfigError, AssertionError):
    """A split ratio out of range; an AssertionError too, as torchtext's ``check_split_ratio`` raised."""


def check_split_ratio(split_ratio: float | Sequence[float]) -> tuple[float, float, float]:
    """(train, test, valid) shares from a float or 2-3 relative sizes (normalized), as torchtext."""
    if isinstance(split_ratio, str) or not isinstance(split_ratio, float | int | Sequence):
        raise ConfigError(f"split_ratio must be a float or a list of 2-3 numbers, not {type(split_ratio).__name__}",
                          key="split_ratio", value=split_ratio)
    if isinstance(split_ratio, float | int):
        if not 0 < split_ratio < 1:
            raise SplitRatioError(f"split_ratio {split_ratio} is not between 0 and 1", key="split_ratio",
                                  value=split_ratio)
        return float(split_ratio), 1 - float(split_ratio), 0.0
    ratios = [float(r) for r in split_ratio]
    if len(ratios) not in (2, 3) or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise SplitRatioError(f"split_ratio must be 2 or 3 non-negative relative sizes, got {split_ratio}",
                              key="split_ratio", value=split_ratio)
    total = sum(ratios)
    if total != 1:
        ratios = [r / total for r in ratios]
    return ratios[0], ratios[1], ratios[2] if len(ratios) == 3 else 0.0


def rationed_split(rows: np.ndarray, ratios: tuple[float, float, float],
                   permute: Callable[[int], Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` shuffled by ``permute`` and cut into (train, test, valid) by torchtext's rule: train
    ``round(train * n)``; test the rest when there is no validation share, else ``round(test * n)``."""
    n = len(rows)
    shuffled = rows[np.asarray(permute(n), dtype=np.int64)] if n else rows
    n_train = int(round(ratios[0] * n))
    n_test = n - n_train if not ratios[2] else int(round(ratios[1] * n))
    return shuffled[:n_train], shuffled[n_train:n_train + n_test], shuffled[n_train + n_test:]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def line_of(path: str | None, lines: np.ndarray, token_lines: bool, row: int,
            token: int | None = None) -> tuple[str | None, int | None]:
    """(file, line) of a row, or of its ``token``-th token where each token has its own line (CoNLL)."""
    line = int(lines[row])
    return path, line + token if token_lines and token is not None else line


def _targets(target: Any) -> list[tuple[str, Field]]:
    """One column's fields: None, a ``(name, field)`` pair, or several pairs (torchtext's tuple of tuples,
    e.g. words and their characters from one CoNLL column)."""
    if target is None:
        return []
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], str):
        return [target] if target[1] is not None else []
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[0], tuple) and all(
            isinstance(n, str) for n in target[0]):  # torchtext's ((name, name), (field, field))
        return [(n, f) for n, f in zip(*target) if f is not None]
    return [pair for pair in target if pair is not None and pair[1] is not None]


def _named_fields(fields: Mapping[str, Any] | Sequence[Any]) -> list[tuple[str, Field]]:
    """torchtext's fields of a Dataset: (name, field) pairs (or None), names and fields possibly tuples."""
    pairs = fields.items() if isinstance(fields, Mapping) else [f for f in fields if f is not None]
    out: list[tuple[str, Field]] = []
    for name, field in pairs:
        if field is None:
            continue
        out += list(zip(name, field)) if isinstance(name, tuple) else [(name, field)]
    return out


def _column(values: list[Any]) -> pa.Array:
    """Examples' processed values as an Arrow column: token lists, lists of lists (a NestedField's
    words of characters), strings or numbers, as Arrow infers them."""
    if values and all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in values):
        return pa.array(values, type=pa.list_(pa.string()))  # also when some lists are empty
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ConfigError(f"the examples' values of one field are of mixed kinds ({error}); give every "
                          "example the same kind of value for a field") from None
