"""Field: how one column becomes tensors, in phases a Dataset and a Batch call without asking what
kind of field it is. LabelField, TagField and NestedField override the phases they change.

The arguments and their meaning are legacy torchtext's (``torchtext.data.Field``), so tutorial code
ports by changing imports. Differences, each a fixed torchtext bug or a documented choice:

- ``tokenize`` defaults to ``"kkma"`` and takes a tokenizer name, spec dict, Tokenizer or function;
  named tokenizers are saved as JSON specs, never pickled.
- A custom ``unk_token`` is honoured by the vocab (torchtext's Vocab hard-coded ``<unk>``).
- Processing is columnar: a dataset's column is tokenized (in parallel, cached) and numericalized
  once, as Arrow/numpy arrays; ``Field.preprocess``/``pad``/``numericalize``/``process`` remain for
  per-example code.

The phases, in the order a dataset's column goes through them:

1. ``preprocess_column``: raw strings -> token lists (or label strings)
2. ``row_problems``: rows that cannot be used, with why (empty, no tokens, runaway, broken tags)
3. ``encode`` / ``build_vocab``: dictionary-encode, count, build the vocab
4. ``numericalize_column``: ids for the whole column (``IdColumn``)
5. ``batch_arrays`` -> ``to_tensors``: one batch's padded numpy arrays, then tensors
6. ``batch_value`` / ``mask``: what ``batch.<name>`` gives, and where the real tokens are
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from nlprnn.data.columns import Encoded, IdColumn, blank, encode, list_offsets, merge_counts, numbers
from nlprnn.data.issues import EMPTY_TEXT, EMPTY_TOKEN, NO_TOKENS, Locate, RowIssue, nowhere
from nlprnn.data.padding import flatten, pad_batches, pad_rows
from nlprnn.data.vocab import Vocab
from nlprnn.errors import ConfigError, DataError, VocabError, no_effect
from nlprnn.tokenizers import Tokenizer, TokenizeReport, get_tokenizer
from nlprnn.tokenizers.base import CallableTokenizer, keep_tokens, token_lists

LIST_OF_STRINGS = pa.list_(pa.string())
#: the Python type a string value becomes for each dtype when ``use_vocab=False`` (torchtext's table)
_PYTHON_TYPES: dict[torch.dtype, type] = {
    **dict.fromkeys((torch.float16, torch.float32, torch.float64, torch.bfloat16), float),
    **dict.fromkeys((torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool), int),
}


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
    tokenizer_language: torchtext's spaCy language; accepted with a DeprecationWarning (name a tokenizer).
    max_length: rows with more tokens than this are reported (or skipped under ``on_error="skip"``),
        a guard against a runaway line, e.g. a file whose line ends were lost.
    max_token_chars: the same for rows holding a token of more than this many characters.
    """

    kind = "field"
    vocab_cls: type[Vocab] = Vocab
    """The class of the vocab ``build_vocab`` makes (torchtext's attribute)."""

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
        tokenizer_language: str | None = None,
    ) -> None:
        no_effect("Field", "torchtext passed it to spaCy; name the tokenizer itself, e.g. tokenize='kkma', 'mecab' "
                  "or 'basic_english'", tokenizer_language=tokenizer_language)
        for name, limit in (("max_length", max_length), ("max_token_chars", max_token_chars)):
            if limit is not None and limit < 1:
                raise ConfigError(f"{name} must be at least 1, got {limit}", key=name, value=limit)
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
        """Tokenize (if sequential and given a string, its trailing newline dropped), lowercase, drop stop
        words, run ``preprocessing``: torchtext's steps in torchtext's order."""
        if self.sequential and isinstance(x, str):
            x = x.rstrip("\n")
            x = self.tokenizer(x) if self.tokenizer is not None else x.split()  # None: torchtext's str.split
        if self.lower:
            x = [t.lower() for t in x] if isinstance(x, list) else x.lower()
        if self.sequential and self.use_vocab and self.stop_words is not None:
            x = [t for t in x if t not in self.stop_words]
        if self.preprocessing is not None:
            x = self.preprocessing(x)
        return x

    def pad(self, minibatch: Sequence[Sequence[str]]) -> Any:
        """Pad a list of token lists to one length (with init/eos); with lengths if include_lengths."""
        minibatch = list(minibatch)
        if not self.sequential:
            return minibatch
        values, offsets = flatten([list(x) for x in minibatch])
        padded, lengths = pad_rows(values, offsets, np.arange(len(minibatch)), self.pad_token, init=self.init_token,
                                   eos=self.eos_token, fix_length=self.fix_length, truncate_first=self.truncate_first,
                                   pad_first=self.pad_first)
        rows = padded.tolist()
        return (rows, lengths.tolist()) if self.include_lengths else rows

    def numericalize(self, arr: Any, device: torch.device | str | None = None) -> Any:
        """Turn padded tokens (from ``pad``) into a tensor (and a lengths tensor), as torchtext: ids through
        the vocab, or (``use_vocab=False``) strings converted to the dtype's Python type; then
        ``postprocessing``, then the tensor."""
        if self.include_lengths and not isinstance(arr, tuple):
            raise ConfigError("this field has include_lengths=True, so numericalize takes (padded batch, lengths), "
                              "as pad() returns them", key="include_lengths")
        lengths = None
        if isinstance(arr, tuple):
            arr, lengths = arr
            lengths = torch.tensor(lengths, dtype=self.dtype, device=device)
        if self.use_vocab:
            if self.vocab is None:
                raise VocabError("build the vocab first: field.build_vocab(dataset)")
            stoi = self.vocab.stoi
            arr = [[stoi[t] for t in x] for x in arr] if self.sequential else [stoi[x] for x in arr]
            if self.postprocessing is not None:
                arr = self.postprocessing(arr, self.vocab)
        else:
            convert = _PYTHON_TYPES.get(self.dtype)
            if convert is None:
                raise ConfigError(f"use_vocab=False needs a numeric dtype, not {self.dtype}", key="dtype",
                                  value=str(self.dtype))
            if not self.sequential:  # padding tokens of a sequence have no number, so only values convert
                arr = [convert(x) if isinstance(x, str) else x for x in arr]
            if self.postprocessing is not None:
                arr = self.postprocessing(arr, None)
        tensor = torch.tensor(arr, dtype=self.dtype, device=device)
        if self.sequential and not self.batch_first:
            tensor = tensor.t()
        if self.sequential:
            tensor = tensor.contiguous()
        return (tensor, lengths) if lengths is not None else tensor

    def process(self, batch: Sequence[Any], device: torch.device | str | None = None) -> Any:
        return self.numericalize(self.pad(batch), device=device)

    # -- column API (the fast path a Dataset uses) ------------------------------------------------
    def preprocess_column(
        self, column: pa.Array | pa.ChunkedArray, progress: bool = False
    ) -> tuple[pa.Array, TokenizeReport | None]:
        """Process a whole column: strings in; token lists (sequential) or strings out. A chunked column
        (a reader's pieces) goes to the tokenizer as it is: a vectorized one splits each piece in a thread."""
        report = None
        if not self.sequential:
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if pa.types.is_list(column.type):
                raise ConfigError("a non-sequential field was given a token-list column")
            out = pc.utf8_lower(column) if self.lower else column
            if self.preprocessing is not None:
                out = pa.array([self.preprocessing(x) for x in out.to_pylist()], type=pa.string())
            return out, None
        lowered = False
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            tokenizer = self.tokenizer or get_tokenizer("whitespace")  # None: torchtext's str.split
            lowered = self.lower and tokenizer.lowercase_commutes
            tokens = tokenizer.tokenize_arrow(column, lower=lowered)
            if tokens is None:
                lowered = False
                lists, report = tokenizer.tokenize_many(column.to_pylist(), progress=progress)
                tokens = token_lists(lists)
        else:
            tokens = column
        flat, offsets = list_offsets(tokens)
        if self.lower and not lowered:
            flat = pc.utf8_lower(flat)
        if self.stop_words:
            keep = pc.invert(pc.is_in(flat, value_set=pa.array(sorted(self.stop_words), type=pa.string())))
            flat, offsets = keep_tokens(flat, offsets, keep)
        tokens = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), flat)
        if self.preprocessing is not None:
            tokens = pa.array([self.preprocessing(x) for x in tokens.to_pylist()], type=LIST_OF_STRINGS)
        return tokens, report

    def row_problems(self, raw: pa.Array, processed: pa.Array, locate: Locate = nowhere) -> dict[int, RowIssue]:
        """Rows this field cannot use, with why: empty text, no tokens left after tokenizing, a runaway row."""
        problems: dict[int, RowIssue] = {}
        if pa.types.is_string(raw.type):
            empty = blank(raw)
            for i in np.flatnonzero(empty):
                problems[int(i)] = EMPTY_TEXT
        elif pa.types.is_list(raw.type) and len(raw):  # a CoNLL column: every token must have text
            flat, offsets = list_offsets(raw)
            blanks = blank(flat)
            if blanks.any():
                rows = np.searchsorted(offsets, np.flatnonzero(blanks), side="right") - 1
                for i in np.unique(rows):
                    problems[int(i)] = EMPTY_TOKEN
        if self.sequential:
            lengths = pc.list_value_length(processed).to_numpy(zero_copy_only=False)
            for i in np.flatnonzero(lengths == 0):
                problems.setdefault(int(i), NO_TOKENS)
            if self.max_length is not None:
                for i in np.flatnonzero(lengths > self.max_length):
                    problems.setdefault(int(i), RowIssue(
                        "too_long", f"{int(lengths[i]):,} tokens, more than max_length {self.max_length:,} "
                        "(a runaway line?).", "split or shorten the row", ("max_length", "skip_rows")))
            if self.max_token_chars is not None and len(processed):
                flat, offsets = list_offsets(processed)
                long = np.flatnonzero(pc.utf8_length(flat).to_numpy(zero_copy_only=False) > self.max_token_chars)
                for i in np.unique(np.searchsorted(offsets, long, side="right") - 1):
                    problems.setdefault(int(i), RowIssue(
                        "token_too_long", f"a token of more than {self.max_token_chars} characters (a runaway "
                        "line?).", "split the line into tokens", ("max_token_chars", "skip_rows")))
        return problems

    def encode(self, processed: pa.Array) -> Encoded:
        """The processed column dictionary-encoded (what ``counts`` and ``numericalize_column`` take)."""
        return encode(processed)

    def build_vocab(self, *sources: Any, max_size: int | None = None, min_freq: int = 1,
                    specials: Sequence[str] = (), vectors: Any = None,
                    unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    vectors_cache: str | None = None, specials_first: bool = True) -> Vocab:
        """Build ``self.vocab`` from datasets (every column using this field) or iterables of examples.

        ``vectors``: a ``Vectors`` object, a torchtext alias such as ``"glove.6B.100d"`` read from
        ``vectors_cache`` (see ``nlprnn.data.vectors``), a list of them, or a word2vec/fastText file.
        """
        columns: list[Encoded] = []
        counter: Counter[Any] = Counter()
        for source in sources:
            if hasattr(source, "encoded_for"):
                columns.extend(source.encoded_for(self))
            else:
                count_items(counter, source, self.sequential)
        pairs = [(c.dictionary, c.counts()) for c in columns]
        if counter:
            pairs.append((pa.array(list(counter)), np.fromiter(counter.values(), dtype=np.int64, count=len(counter))))
        tokens, counts = merge_counts(pairs)
        self.vocab = self._make_vocab(tokens, counts, max_size, min_freq, list(specials), specials_first)
        if vectors is not None:
            self.vocab.load_vectors(vectors, unk_init=unk_init, cache=vectors_cache)
        return self.vocab

    def attach_vocab(self, vocab: Vocab) -> None:
        """Use a saved vocab (a bundle's) as this field's."""
        self.vocab = vocab

    def special_tokens(self) -> list[str]:
        """Specials in vocab order: unk, pad, init, eos (those that are set)."""
        return [t for t in (self.unk_token, self.pad_token, self.init_token, self.eos_token) if t is not None]

    def _make_vocab(self, tokens: pa.Array, counts: np.ndarray, max_size: int | None, min_freq: int,
                    specials: list[str], specials_first: bool = True) -> Vocab:
        return self.vocab_cls.from_counts(tokens, counts, max_size=max_size, min_freq=min_freq,
                                 specials=self.special_tokens() + specials, unk_token=self.unk_token,
                                 specials_first=specials_first)

    def numericalize_column(self, processed: pa.Array, locate: Locate = nowhere,
                            encoded: Encoded | None = None) -> IdColumn:
        """Ids for a whole processed column (``encoded``: its encoding, if already made); a value the
        vocab lacks, with no unk token to map it to, raises with file:line."""
        encoded = encoded if encoded is not None else self.encode(processed)
        offsets = encoded.offsets
        if not self.use_vocab:
            return IdColumn(numbers(encoded, locate), offsets)
        if self.vocab is None:
            raise VocabError("build the vocab first: field.build_vocab(train_dataset)")
        remap, unknown = self.vocab.index_array(encoded.dictionary)
        if self.vocab.unk_token is None and unknown.any():
            position = int(np.flatnonzero(unknown[encoded.indices])[0])
            row = position if offsets is None else int(np.searchsorted(offsets, position, side="right") - 1)
            token = encoded.dictionary[int(encoded.indices[position])].as_py()
            path, line = locate(row, None if offsets is None else position - int(offsets[row]))
            known = ", ".join(self.vocab.itos[:12]) + (" ..." if len(self.vocab) > 12 else "")
            raise DataError(path, line, f"{self._value_name()} {token!r} was not seen when the vocab was built "
                            f"(known: {known}).", "fix the value, or build the vocab from data that contains it",
                            code="unknown_value")
        return IdColumn(remap[encoded.indices], offsets)

    def _value_name(self) -> str:
        return "token" if self.sequential else "value"

    def batch_arrays(self, column: IdColumn, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Numpy arrays of one batch: ``data`` (batch, time) or (batch,), and ``lengths`` if sequential."""
        return self._padded(column, [rows])[0]

    def batches_arrays(self, column: IdColumn, batches: Sequence[np.ndarray]) -> list[dict[str, np.ndarray]]:
        """``batch_arrays`` of a run of batches, padded in one pass (what the iterators call: a batch's
        own padding call cost more than its share of one call for the run)."""
        if type(self).batch_arrays is not Field.batch_arrays:  # a kind with its own layout (nested, raw)
            return [self.batch_arrays(column, rows) for rows in batches]
        return self._padded(column, batches)

    def _padded(self, column: IdColumn, batches: Sequence[np.ndarray]) -> list[dict[str, np.ndarray]]:
        if not self.sequential:
            return [{"data": column.values[rows]} for rows in batches]
        assert column.offsets is not None
        pad = self._index_of(self.pad_token, default=0) or 0
        padded = pad_batches(
            column.values, column.offsets, batches, pad,
            init=self._index_of(self.init_token), eos=self._index_of(self.eos_token),
            fix_length=self.fix_length, truncate_first=self.truncate_first, pad_first=self.pad_first,
        )
        return [{"data": data, "lengths": lengths} for data, lengths in padded]

    def _index_of(self, token: str | None, default: int | None = None) -> int | None:
        if token is None or not self.use_vocab:
            return default
        assert self.vocab is not None
        return self.vocab.index(token)

    def to_tensors(self, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """Tensors of a batch in this field's dtype and layout (time-major unless batch_first)."""
        data = torch.from_numpy(arrays["data"])
        if data.dtype != self.dtype:
            data = data.to(self.dtype)
        if self.sequential and not self.batch_first:
            data = data.transpose(0, 1).contiguous()
        out = {"data": data}
        if "lengths" in arrays:
            out["lengths"] = torch.from_numpy(arrays["lengths"])
        return out

    def batch_value(self, tensors: dict[str, torch.Tensor]) -> Any:
        """What ``batch.<name>`` gives: the tensor, or ``(tensor, lengths)`` with include_lengths."""
        if self.include_lengths and "lengths" in tensors:
            return tensors["data"], tensors["lengths"]
        return tensors["data"]

    def mask(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """Bool mask, True at real tokens, in this field's layout ((batch, time) if batch_first)."""
        data, lengths = tensors["data"], tensors["lengths"].to(tensors["data"].device)
        time_dim = 1 if self.batch_first else 0
        steps = data.shape[time_dim]
        positions = torch.arange(steps, device=data.device)[None, :]
        mask = positions >= (steps - lengths)[:, None] if self.pad_first else positions < lengths[:, None]
        return mask if time_dim == 1 else mask.t()

    @property
    def columnar(self) -> bool:
        """Batches are gathered from the whole-column ids (the fast path). False where a batch has to be
        made by ``process`` from the examples' values, as torchtext made every batch: the field has a
        ``postprocessing`` function, or a user's subclass defines its own ``pad``/``numericalize``/``process``."""
        return self.postprocessing is None and not _user_batching(type(self))

    # -- pickling and equality (torchtext's) --------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The field as plain data (a named tokenizer as its spec, the dtype as its name), so that
        ``torch.save(field)`` / ``torch.load`` work, with ``weights_only=True`` too (``nlprnn.legacy``
        allows the field and vocab classes); a tokenizer that is a function is pickled as a reference."""
        state = dict(self.__dict__)
        state["dtype"] = str(self.dtype).removeprefix("torch.")
        tokenizer = state.get("tokenizer")
        if isinstance(tokenizer, Tokenizer) and not isinstance(tokenizer, CallableTokenizer):
            state["tokenizer"] = {"tokenizer_spec": tokenizer.spec()}
        if state.get("stop_words") is not None:
            state["stop_words"] = sorted(state["stop_words"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["dtype"] = getattr(torch, state["dtype"])
        tokenizer = state.get("tokenizer")
        if isinstance(tokenizer, dict):
            state["tokenizer"] = get_tokenizer(tokenizer["tokenizer_spec"])
        if state.get("stop_words") is not None:
            state["stop_words"] = set(state["stop_words"])
        self.__dict__.update(state)

    def __eq__(self, other: object) -> bool:
        """Fields are equal when all their settings and vocabs are (torchtext compared ``__dict__``)."""
        return type(self) is type(other) and self.__getstate__() == other.__getstate__()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(type(self).__qualname__)  # equal fields must hash alike; torchtext returned 42

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
        from nlprnn.data.field_kinds import FIELD_KINDS  # the subclasses import this module

        target = FIELD_KINDS.get(kind)
        if target is None:
            raise ConfigError(f"unknown field kind {kind!r}; expected one of {sorted(FIELD_KINDS)}", key="kind",
                              value=kind, allowed=sorted(FIELD_KINDS))
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


def _user_batching(cls: type) -> bool:
    """Whether a class outside nlprnn, between ``cls`` and Field, defines how a batch is made."""
    for klass in cls.__mro__:
        if klass.__module__.startswith("nlprnn."):
            return False
        if any(name in vars(klass) for name in ("pad", "numericalize", "process")):
            return True
    return False


def count_items(counter: Counter[Any], source: Iterable[Any], sequential: bool) -> None:
    """Count an iterable of examples' values into ``counter`` as torchtext did: a value, a list of
    tokens, or a list of lists (a NestedField's words of characters)."""
    for item in source:
        if not sequential:
            counter[item] += 1
            continue
        try:
            counter.update(item)
        except TypeError:  # unhashable: the tokens are lists themselves
            counter.update(chain.from_iterable(item))


def _function_name(function: Callable[..., Any] | None) -> str | None:
    if function is None:
        return None
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"
