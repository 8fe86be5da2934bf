"""Field, LabelField, TagField, NestedField: how one column becomes tensors.

The arguments and their meaning are legacy torchtext's (``torchtext.data.Field``), so tutorial code
ports by changing imports. Differences, each a fixed torchtext bug or a documented choice:

- ``tokenize`` defaults to ``"kkma"`` and takes a tokenizer name, spec dict, Tokenizer or function;
  named tokenizers are saved as JSON specs, never pickled.
- A custom ``unk_token`` is honoured by the vocab (torchtext's Vocab hard-coded ``<unk>``).
- LabelField ids are stable: labels in natural order (numbers numerically, otherwise by code
  point), not by frequency, so ``"0"`` -> 0 and ``"1"`` -> 1 whatever the class balance.
- Processing is columnar: a dataset's column is tokenized (in parallel, cached) and numericalized
  once, as Arrow/numpy arrays; ``Field.preprocess``/``pad``/``numericalize``/``process`` remain for
  per-example code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from nlprnn.data.columns import Encoded, IdColumn, encode, list_offsets
from nlprnn.data.tags import SCHEMES, bio_errors, repair_bio, to_bio
from nlprnn.data.vocab import Vocab
from nlprnn.errors import ConfigError, DataError, VocabError
from nlprnn.tokenizers import Tokenizer, TokenizeReport, get_tokenizer

if TYPE_CHECKING:
    pass

Locate = Callable[[int], tuple[str | None, int | None]]
"""Maps a row index to (file, line) for error messages."""

LIST_OF_STRINGS = pa.list_(pa.string())


def _nowhere(row: int) -> tuple[str | None, int | None]:
    return None, None


def natural_order(labels: Iterable[str]) -> list[str]:
    """Labels sorted numerically when all are numbers, else by code point."""
    labels = list(labels)
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


class Field:
    """How to turn one column into a tensor. Arguments as in ``torchtext.data.Field``:

    sequential: the column is a sequence of tokens (else a single value, e.g. a label).
    use_vocab: map tokens to ids with a Vocab (else values are numbers already).
    init_token, eos_token: tokens added at the start/end of every sequence.
    fix_length: pad or truncate every sequence to this length (init/eos included).
    dtype: dtype of the batch tensor.
    preprocessing: function applied to each example's token list after tokenizing.
    postprocessing: function ``(batch_ids: list[list[int]], vocab) -> list[list[int]]`` before tensors.
    lower: lowercase tokens.
    tokenize: tokenizer name (``"kkma"``, ``"okt"``, ``"komoran"``, ``"kiwi"``, ``"whitespace"``, ``"char"``),
        spec dict, Tokenizer or function.
    include_lengths: batches give ``(tensor, lengths)``.
    batch_first: batch tensors are (batch, time); else (time, batch) as in torchtext.
    pad_token, unk_token: special tokens (None disables them).
    pad_first, truncate_first: pad / truncate on the left.
    stop_words: tokens to drop after tokenizing.
    is_target: the field is a prediction target.
    max_length: rows with more tokens than this are reported (or skipped under ``on_error="skip"``),
        a guard against a runaway line, e.g. a file whose line ends were lost.
    max_token_chars: the same for rows holding a token of more than this many characters.
    """

    kind = "field"

    def __init__(
        self,
        sequential: bool = True,
        use_vocab: bool = True,
        init_token: str | None = None,
        eos_token: str | None = None,
        fix_length: int | None = None,
        dtype: torch.dtype = torch.long,
        preprocessing: Callable[[Any], Any] | None = None,
        postprocessing: Callable[[list, Vocab | None], list] | None = None,
        lower: bool = False,
        tokenize: str | dict[str, Any] | Tokenizer | Callable[[str], list[str]] | None = "kkma",
        include_lengths: bool = False,
        batch_first: bool = False,
        pad_token: str | None = "<pad>",
        unk_token: str | None = "<unk>",
        pad_first: bool = False,
        truncate_first: bool = False,
        stop_words: Iterable[str] | None = None,
        is_target: bool = False,
        max_length: int | None = None,
        max_token_chars: int | None = None,
    ) -> None:
        for name, limit in (("max_length", max_length), ("max_token_chars", max_token_chars)):
            if limit is not None and limit < 1:
                raise ConfigError(f"{name} must be at least 1, got {limit}")
        self.max_length = max_length
        self.max_token_chars = max_token_chars
        if fix_length is not None and fix_length < 1 + (init_token is not None) + (eos_token is not None):
            raise ConfigError(f"fix_length={fix_length} leaves no room for tokens")
        self.sequential = sequential
        self.use_vocab = use_vocab
        self.init_token = init_token
        self.eos_token = eos_token
        self.fix_length = fix_length
        self.dtype = dtype
        self.preprocessing = preprocessing
        self.postprocessing = postprocessing
        self.lower = lower
        self.tokenizer: Tokenizer | None = get_tokenizer(tokenize) if sequential and tokenize is not None else None
        self.include_lengths = include_lengths
        self.batch_first = batch_first
        self.pad_token = pad_token if sequential else None
        self.unk_token = unk_token
        self.pad_first = pad_first
        self.truncate_first = truncate_first
        self.stop_words = set(stop_words) if stop_words is not None else None
        self.is_target = is_target
        self.vocab: Vocab | None = None

    # -- per-example API (torchtext's) ---------------------------------------------------------
    @property
    def tokenize(self) -> Tokenizer | None:
        return self.tokenizer

    def preprocess(self, x: Any) -> Any:
        """Tokenize (if sequential and given a string), lowercase, drop stop words, run ``preprocessing``."""
        if self.sequential and isinstance(x, str):
            if self.tokenizer is None:
                raise ConfigError("this field has tokenize=None; give it token lists, not strings")
            x = self.tokenizer(x)
        if self.lower:
            x = [t.lower() for t in x] if self.sequential else x.lower()
        if self.sequential and self.stop_words is not None:
            x = [t for t in x if t not in self.stop_words]
        if self.preprocessing is not None:
            x = self.preprocessing(x)
        return x

    def pad(self, minibatch: Sequence[Sequence[str]]) -> Any:
        """Pad a list of token lists to one length (with init/eos); with lengths if include_lengths."""
        if not self.sequential:
            return minibatch
        extra = (self.init_token is not None) + (self.eos_token is not None)
        if self.fix_length is None:
            width = max(len(x) for x in minibatch) + extra
        else:
            width = self.fix_length
        padded, lengths = [], []
        for x in minibatch:
            room = width - extra
            body = list(x[-room:] if self.truncate_first else x[:room]) if room < len(x) else list(x)
            seq: list[Any] = ([self.init_token] if self.init_token is not None else []) + body
            seq += [self.eos_token] if self.eos_token is not None else []
            fill: list[Any] = [self.pad_token] * (width - len(seq))
            padded.append(fill + seq if self.pad_first else seq + fill)
            lengths.append(len(seq))
        return (padded, lengths) if self.include_lengths else padded

    def numericalize(self, arr: Any, device: torch.device | str | None = None) -> Any:
        """Turn padded tokens (from ``pad``) into a tensor (and lengths tensor)."""
        lengths = None
        if self.include_lengths and self.sequential:
            arr, lengths = arr
            lengths = torch.tensor(lengths, dtype=torch.long, device=device)
        if self.use_vocab:
            if self.vocab is None:
                raise VocabError("build the vocab first: field.build_vocab(dataset)")
            stoi = self.vocab.stoi
            arr = [[stoi[t] for t in x] for x in arr] if self.sequential else [stoi[x] for x in arr]
            if self.postprocessing is not None:
                arr = self.postprocessing(arr, self.vocab)
        else:
            if self.postprocessing is not None:
                arr = self.postprocessing(arr, None)
            arr = [[float(t) for t in x] for x in arr] if self.sequential else [float(x) for x in arr]
        tensor = torch.tensor(arr, device=device).to(self.dtype)
        if self.sequential and not self.batch_first:
            tensor = tensor.t().contiguous()
        return (tensor, lengths) if lengths is not None else tensor

    def process(self, batch: Sequence[Any], device: torch.device | str | None = None) -> Any:
        return self.numericalize(self.pad(batch), device=device)

    # -- column API (the fast path a Dataset uses) ------------------------------------------------
    def preprocess_column(
        self, column: pa.Array | pa.ChunkedArray, progress: bool = False
    ) -> tuple[pa.Array, TokenizeReport | None]:
        """Process a whole column: strings in; token lists (sequential) or strings out."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        report = None
        if not self.sequential:
            if pa.types.is_list(column.type):
                raise ConfigError("a non-sequential field was given a token-list column")
            out = pc.utf8_lower(column) if self.lower else column
            if self.preprocessing is not None:
                out = pa.array([self.preprocessing(x) for x in out.to_pylist()], type=pa.string())
            return out, None
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if self.tokenizer is None:
                raise ConfigError("this field has tokenize=None but its column holds text; set tokenize")
            tokens = self.tokenizer.tokenize_arrow(column)
            if tokens is None:
                lists, report = self.tokenizer.tokenize_many(column.to_pylist(), progress=progress)
                tokens = pa.array(lists, type=LIST_OF_STRINGS)
        else:
            tokens = column
        flat, offsets = list_offsets(tokens)
        if self.lower:
            flat = pc.utf8_lower(flat)
        if self.stop_words:
            keep = pc.invert(pc.is_in(flat, value_set=pa.array(sorted(self.stop_words), type=pa.string())))
            kept_before = np.concatenate([[0], np.cumsum(keep.to_numpy(zero_copy_only=False))])
            offsets = kept_before[offsets]
            flat = flat.filter(keep)
        tokens = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat)
        if self.preprocessing is not None:
            tokens = pa.array([self.preprocessing(x) for x in tokens.to_pylist()], type=LIST_OF_STRINGS)
        return tokens, report

    def row_problems(self, raw: pa.Array, processed: pa.Array) -> dict[int, str]:
        """Rows this field cannot use, with why: empty text, or no tokens left after tokenizing."""
        problems: dict[int, str] = {}
        if pa.types.is_string(raw.type):
            empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(raw)), 0).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(empty):
                problems[int(i)] = "empty text."
        elif pa.types.is_list(raw.type) and len(raw):  # a CoNLL column: every token must have text
            flat, offsets = list_offsets(raw)
            blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(flat)), 0).to_numpy(zero_copy_only=False)
            if blank.any():
                rows = np.searchsorted(offsets, np.flatnonzero(blank), side="right") - 1
                for i in np.unique(rows):
                    problems[int(i)] = "an empty token (a column left blank?)."
        if self.sequential:
            lengths = pc.list_value_length(processed).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(lengths == 0):
                problems.setdefault(int(i), "no tokens left after tokenizing.")
            if self.max_length is not None:
                for i in np.flatnonzero(lengths > self.max_length):
                    problems.setdefault(int(i), f"{int(lengths[i]):,} tokens, more than max_length "
                                                f"{self.max_length:,} (a runaway line?).")
            if self.max_token_chars is not None and len(processed):
                flat, offsets = list_offsets(processed)
                long = np.flatnonzero(pc.utf8_length(flat).to_numpy(zero_copy_only=False) > self.max_token_chars)
                for i in np.unique(np.searchsorted(offsets, long, side="right") - 1):
                    problems.setdefault(int(i), f"a token of more than {self.max_token_chars} characters "
                                                "(a runaway line?).")
        return problems

    def counts(self, columns: Sequence[Encoded]) -> tuple[pa.Array, np.ndarray]:
        """Distinct tokens (or values) in encoded processed columns and how often each occurs."""
        if not columns:
            return pa.array([], type=pa.string()), np.zeros(0, dtype=np.int64)
        if len(columns) == 1:
            return columns[0].dictionary, columns[0].counts()
        merged = pa.table({"t": pa.concat_arrays([c.dictionary for c in columns]),
                           "c": np.concatenate([c.counts() for c in columns])}).group_by("t").aggregate([("c", "sum")])
        return merged.column("t").combine_chunks(), merged.column("c_sum").to_numpy()

    def encode(self, processed: pa.Array) -> Encoded:
        """The processed column dictionary-encoded (what ``counts`` and ``numericalize_column`` take)."""
        return encode(processed)

    def build_vocab(self, *sources: Any, max_size: int | None = None, min_freq: int = 1,
                    specials: Sequence[str] = (), vectors: str | None = None,
                    unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Vocab:
        """Build ``self.vocab`` from datasets (every column using this field) or iterables of examples.

        ``vectors`` is the path of a word2vec/fastText text file to load into ``vocab.vectors``.
        """
        columns: list[Encoded] = []
        counter: Counter[str] = Counter()
        for source in sources:
            if hasattr(source, "encoded_for"):
                columns.extend(source.encoded_for(self))
            else:
                for item in source:
                    if self.sequential:
                        counter.update(item)
                    else:
                        counter[item] += 1
        tokens, counts = self.counts(columns)
        if counter:
            extra_tokens = pa.array(list(counter), type=pa.string())
            extra_counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
            merged = pa.table({"t": pa.concat_arrays([tokens, extra_tokens]),
                               "c": np.concatenate([counts, extra_counts])}).group_by("t").aggregate([("c", "sum")])
            tokens, counts = merged.column("t").combine_chunks(), merged.column("c_sum").to_numpy()
        self.vocab = self._make_vocab(tokens, counts, max_size, min_freq, list(specials))
        if vectors is not None:
            self.vocab.load_vectors(vectors, unk_init=unk_init)
        return self.vocab

    def special_tokens(self) -> list[str]:
        """Specials in vocab order: unk, pad, init, eos (those that are set)."""
        return [t for t in (self.unk_token, self.pad_token, self.init_token, self.eos_token) if t is not None]

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str]) -> Vocab:
        return Vocab.from_counts(tokens, counts, max_size=max_size, min_freq=min_freq,
                                 specials=self.special_tokens() + specials, unk_token=self.unk_token)

    def numericalize_column(self, processed: pa.Array | Encoded, locate: Locate = _nowhere) -> IdColumn:
        """Ids for a whole processed column; unknown values with no unk token raise with file:line."""
        encoded = processed if isinstance(processed, Encoded) else self.encode(processed)
        offsets = encoded.offsets
        if not self.use_vocab:
            return IdColumn(self._numbers(encoded, locate), offsets)
        if self.vocab is None:
            raise VocabError("build the vocab first: field.build_vocab(train_dataset)")
        remap, unknown = self.vocab.index_array(encoded.dictionary)
        if self.vocab.unk_token is None and unknown.any():
            position = int(np.flatnonzero(unknown[encoded.indices])[0])
            row = position if offsets is None else int(np.searchsorted(offsets, position, side="right") - 1)
            token = encoded.dictionary[int(encoded.indices[position])].as_py()
            path, line = locate(row)
            if offsets is not None and line is not None and self.kind == "tag":
                line += position - int(offsets[row])  # CoNLL: one token a line
            known = ", ".join(self.vocab.itos[:12]) + (" ..." if len(self.vocab) > 12 else "")
            raise DataError(path, line, f"{self._value_name()} {token!r} was not seen when the vocab was built "
                            f"(known: {known}).", "fix the value, or build the vocab from data that contains it.")
        return IdColumn(remap[encoded.indices], offsets)

    def _value_name(self) -> str:
        return "token" if self.sequential else "value"

    def _numbers(self, encoded: Encoded, locate: Locate) -> np.ndarray:
        try:
            numbers = pc.cast(encoded.dictionary, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            bad = {i for i, v in enumerate(encoded.dictionary.to_pylist()) if not _is_number(v)}
            position = int(next(p for p, i in enumerate(encoded.indices.tolist()) if i in bad))
            offsets = encoded.offsets
            row = position if offsets is None else int(np.searchsorted(offsets, position, side="right") - 1)
            value = encoded.dictionary[int(encoded.indices[position])].as_py()
            path, line = locate(row)
            raise DataError(path, line, f"{value!r} is not a number (the field has use_vocab=False).",
                            "fix the value, or use a vocab for this field.") from None
        return numbers[encoded.indices]

    def batch_arrays(self, column: IdColumn, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Numpy arrays of one batch: ``data`` (batch, time) or (batch,), and ``lengths`` if sequential."""
        if not self.sequential:
            return {"data": column.values[rows]}
        assert column.offsets is not None
        pad = self._index_of(self.pad_token, default=0) or 0
        data, lengths = pad_rows(
            column.values, column.offsets, rows, pad,
            init=self._index_of(self.init_token), eos=self._index_of(self.eos_token),
            fix_length=self.fix_length, truncate_first=self.truncate_first, pad_first=self.pad_first,
        )
        if self.postprocessing is not None:
            data = np.asarray(self.postprocessing(data.tolist(), self.vocab))
        return {"data": data, "lengths": lengths}

    def _index_of(self, token: str | None, default: int | None = None) -> int | None:
        if token is None or not self.use_vocab:
            return default
        assert self.vocab is not None
        return self.vocab.index(token)

    def to_tensors(self, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """Tensors of a batch in this field's dtype and layout (time-major unless batch_first)."""
        data = torch.from_numpy(arrays["data"]).to(self.dtype)
        if self.sequential and not self.batch_first:
            data = data.transpose(0, 1).contiguous()
        out = {"data": data}
        if "lengths" in arrays:
            out["lengths"] = torch.from_numpy(arrays["lengths"])
        return out

    # -- serialization ----------------------------------------------------------------------------
    def spec(self) -> dict[str, Any]:
        """The field's settings as JSON-ready data (functions are named, not saved)."""
        return {
            "kind": self.kind,
            "sequential": self.sequential,
            "use_vocab": self.use_vocab,
            "init_token": self.init_token,
            "eos_token": self.eos_token,
            "fix_length": self.fix_length,
            "dtype": str(self.dtype).replace("torch.", ""),
            "lower": self.lower,
            "tokenize": self.tokenizer.spec() if self.tokenizer is not None else None,
            "include_lengths": self.include_lengths,
            "batch_first": self.batch_first,
            "pad_token": self.pad_token,
            "unk_token": self.unk_token,
            "pad_first": self.pad_first,
            "truncate_first": self.truncate_first,
            "stop_words": sorted(self.stop_words) if self.stop_words is not None else None,
            "is_target": self.is_target,
            "preprocessing": _function_name(self.preprocessing),
            "postprocessing": _function_name(self.postprocessing),
            **{k: getattr(self, k) for k in ("max_length", "max_token_chars") if getattr(self, k, None) is not None},
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Field:
        """Rebuild a field from ``spec()``; a field that had functions needs them passed again."""
        spec = dict(spec)
        kind = spec.pop("kind", "field")
        target = FIELD_KINDS.get(kind)
        if target is None:
            raise ConfigError(f"unknown field kind {kind!r}; expected one of {sorted(FIELD_KINDS)}")
        for name in ("preprocessing", "postprocessing"):
            if spec.pop(name, None):
                raise ConfigError(f"this field was saved with a {name} function, which JSON cannot hold; "
                                  f"rebuild it in code and pass {name}= again")
        spec["dtype"] = getattr(torch, spec["dtype"])
        return target._from_spec(spec)

    @classmethod
    def _from_spec(cls, spec: dict[str, Any]) -> Field:
        return cls(**spec)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "kind" and v not in (None, False))
        return f"{type(self).__name__}({args})"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _function_name(function: Callable[..., Any] | None) -> str | None:
    if function is None:
        return None
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


def pad_rows(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray, pad: int, init: int | None = None,
             eos: int | None = None, fix_length: int | None = None, truncate_first: bool = False,
             pad_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Gather rows of a flat id column into a padded (batch, time) array, vectorized.

    Returns the array and each row's length (init/eos included, after truncation to fix_length).
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
    lead = (width - total) if pad_first else np.zeros_like(total)
    out = np.full((len(rows), width), pad, dtype=values.dtype)
    relative = np.arange(width)[None, :] - (lead + n_init)[:, None]
    inside = (relative >= 0) & (relative < lengths[:, None])
    out[inside] = values[(starts[:, None] + relative)[inside]]
    batch = np.arange(len(rows))
    if init is not None:
        out[batch, lead] = init
    if eos is not None:
        out[batch, lead + n_init + lengths] = eos
    return out, total


class LabelField(Field):
    """A single label per example: no tokenizing, no unk, no pad; ids in natural label order."""

    kind = "label"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("sequential", False)
        kwargs.setdefault("unk_token", None)
        kwargs.setdefault("is_target", True)
        kwargs.setdefault("tokenize", None)
        super().__init__(**kwargs)

    def _value_name(self) -> str:
        return "label"

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str]) -> Vocab:
        return ordered_vocab(tokens, counts, natural_order(tokens.to_pylist()), self.special_tokens() + specials,
                             self.unk_token)


def ordered_vocab(tokens: pa.Array, counts: np.ndarray, order: list[str], specials: list[str],
                  unk_token: str | None) -> Vocab:
    """A vocab whose non-special ids follow ``order`` rather than frequency."""
    count_of = dict(zip(tokens.to_pylist(), counts.tolist()))
    vocab = Vocab(counter={}, specials=specials, unk_token=unk_token)
    ordered = [t for t in order if t not in set(specials)]
    vocab.itos = vocab.itos + ordered
    vocab.counts = np.concatenate([vocab.counts, np.asarray([count_of.get(t, 0) for t in ordered], dtype=np.int64)])
    return vocab


class TagField(Field):
    """Per-token tags (NER): BIO-checked, converted to BIO from ``scheme`` ("bio", "iob1", "bioes").

    ``on_invalid="error"`` reports an ``I-X`` that follows neither ``B-X`` nor ``I-X`` with file and
    line; ``"repair"`` turns it into ``B-X`` (counted in ``repaired``). Tag ids: pad, then ``O``, then the
    others sorted by entity type, B before I.
    """

    kind = "tag"

    def __init__(self, scheme: str = "bio", on_invalid: str = "error", **kwargs: Any) -> None:
        if scheme not in SCHEMES:
            raise ConfigError(f"scheme must be one of {SCHEMES}, not {scheme!r}")
        if on_invalid not in ("error", "repair"):
            raise ConfigError(f"on_invalid must be 'error' or 'repair', not {on_invalid!r}")
        kwargs.setdefault("unk_token", None)
        kwargs.setdefault("is_target", True)
        kwargs.setdefault("tokenize", "whitespace")
        super().__init__(**kwargs)
        self.scheme = scheme
        self.on_invalid = on_invalid
        self.repaired = 0

    def _value_name(self) -> str:
        return "tag"

    def check_tags(self, processed: pa.Array, locate: Locate) -> tuple[pa.Array, dict[int, str]]:
        """Convert to BIO and check every sequence; returns the tags and rows with problems."""
        sequences = processed.to_pylist()
        problems: dict[int, str] = {}
        changed = False
        for row, tags in enumerate(sequences):
            try:
                bio = to_bio(tags, self.scheme)
            except ValueError as error:
                problems[row] = f"{error}."
                continue
            errors = bio_errors(bio)
            if errors and self.on_invalid == "repair":
                bio = repair_bio(bio)
                self.repaired += 1
                errors = []
            if errors:
                position, message = errors[0]
                path, line = locate(row)
                if line is not None:
                    problems[row] = f"token {position + 1} (line {line + position}): {message}."
                else:
                    problems[row] = f"token {position + 1}: {message}."
            if bio != tags:
                sequences[row] = bio
                changed = True
        tags_array = pa.array(sequences, type=LIST_OF_STRINGS) if changed else processed
        return tags_array, problems

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str]) -> Vocab:
        def key(tag: str) -> tuple[str, str]:
            prefix, _, kind = tag.partition("-")
            return ("", "") if tag == "O" else (kind, prefix)

        order = sorted(tokens.to_pylist(), key=key)
        return ordered_vocab(tokens, counts, order, self.special_tokens() + specials, self.unk_token)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "scheme": self.scheme, "on_invalid": self.on_invalid}


class NestedField(Field):
    """Tokens split again into sub-tokens, e.g. words into characters for character features.

    ``nesting_field`` says how each token is split (its ``tokenize``, e.g. ``"char"``) and holds the
    shared character vocab. Batches are (batch, words, chars); with ``include_lengths`` they also carry
    the words per example and the characters per word.
    """

    kind = "nested"

    def __init__(self, nesting_field: Field, tokenize: Any = "whitespace", include_lengths: bool = False,
                 batch_first: bool = True, pad_token: str | None = "<pad>", unk_token: str | None = "<unk>",
                 lower: bool = False, dtype: torch.dtype = torch.long, fix_length: int | None = None) -> None:
        if nesting_field.init_token is not None or nesting_field.eos_token is not None:
            raise ConfigError("NestedField does not support init/eos tokens on the nesting field")
        super().__init__(tokenize=tokenize, include_lengths=include_lengths, batch_first=batch_first,
                         pad_token=pad_token, unk_token=unk_token, lower=lower, dtype=dtype)
        self.nesting_field = nesting_field
        self.char_fix_length = fix_length
        nesting_field.pad_token = nesting_field.pad_token or pad_token
        nesting_field.unk_token = nesting_field.unk_token or unk_token

    def preprocess(self, x: Any) -> Any:
        words = super().preprocess(x)
        return [self.nesting_field.preprocess(word) for word in words]

    def preprocess_column(self, column: pa.Array | pa.ChunkedArray, progress: bool = False) -> tuple[pa.Array, TokenizeReport | None]:
        words, report = super().preprocess_column(column, progress)
        flat, offsets = list_offsets(words)
        chars, _ = self.nesting_field.preprocess_column(flat)
        nested = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), chars)
        return nested, report

    def encode(self, processed: pa.Array) -> Encoded:
        """Characters encoded; ``offsets`` split them into words (rows are split by ``numericalize``)."""
        return encode(list_offsets(processed)[0])

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str]) -> Vocab:
        vocab = self.nesting_field._make_vocab(tokens, counts, max_size, min_freq, specials)
        self.nesting_field.vocab = vocab
        return vocab

    def numericalize_column(self, processed: pa.Array | Encoded, locate: Locate = _nowhere) -> IdColumn:
        if isinstance(processed, Encoded):
            raise ConfigError("NestedField numericalizes from its processed column, not an encoding")
        words, outer = list_offsets(processed)
        chars = self.nesting_field.numericalize_column(self.encode(processed), locate)
        return IdColumn(chars.values, outer, chars.offsets)

    def batch_arrays(self, column: IdColumn, rows: np.ndarray) -> dict[str, np.ndarray]:
        assert column.offsets is not None and column.inner is not None and self.vocab is not None
        pad = self.vocab.index(self.pad_token) if self.pad_token is not None else 0
        # word positions of each example, -1 where padded
        word_ids, word_counts = pad_rows(np.arange(len(column.inner) - 1), column.offsets, rows, -1)
        valid = word_ids >= 0
        starts = np.where(valid, column.inner[np.maximum(word_ids, 0)], 0)
        char_counts = np.where(valid, column.inner[np.maximum(word_ids, 0) + 1] - starts, 0)
        width = self.char_fix_length or int(char_counts.max(initial=1))
        char_counts = np.minimum(char_counts, width)
        relative = np.arange(width)
        inside = relative[None, None, :] < char_counts[:, :, None]
        data = np.full(word_ids.shape + (width,), pad, dtype=np.int64)
        data[inside] = column.values[(starts[:, :, None] + relative[None, None, :])[inside]]
        return {"data": data, "lengths": word_counts, "char_lengths": char_counts}

    def to_tensors(self, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        data = torch.from_numpy(arrays["data"]).to(self.dtype)
        if not self.batch_first:
            data = data.transpose(0, 1).contiguous()
        return {"data": data, "lengths": torch.from_numpy(arrays["lengths"]),
                "char_lengths": torch.from_numpy(arrays["char_lengths"])}

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "nesting_field": self.nesting_field.spec(),
                "tokenize": self.tokenizer.spec() if self.tokenizer is not None else None,
                "include_lengths": self.include_lengths, "batch_first": self.batch_first,
                "pad_token": self.pad_token, "unk_token": self.unk_token, "lower": self.lower,
                "dtype": str(self.dtype).replace("torch.", ""), "fix_length": self.char_fix_length}

    @classmethod
    def _from_spec(cls, spec: dict[str, Any]) -> Field:
        spec = dict(spec)
        spec["nesting_field"] = Field.from_spec(spec["nesting_field"])
        return cls(**spec)


FIELD_KINDS: dict[str, type[Field]] = {
    "field": Field, "label": LabelField, "tag": TagField, "nested": NestedField,
}
