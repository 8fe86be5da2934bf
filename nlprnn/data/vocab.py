"""Vocab: the token <-> id mapping of a field, with counts, specials, JSON save/load and vectors.

Order of ids (fixed, documented): the specials first, in the order given (a Field passes
``unk, pad, init, eos``, leaving out the ones it does not use); then the other tokens by descending
count, ties broken by the token's code points (``specials_first=False`` puts the specials last, as
torchtext could). ``min_freq`` and ``max_size`` never drop specials, and ``max_size`` does not count
them (as in legacy torchtext). ``freqs`` counts every token seen, the dropped ones too (torchtext's).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from nlprnn.data.columns import string_bytes
from nlprnn.data.sorting import stable_argsort
from nlprnn.data.vectors import Vectors, pretrained_aliases
from nlprnn.errors import ConfigError, DataError, UnknownTokenError, VocabError
from nlprnn.parallel import map_threads, thread_parts, thread_spans

FORMAT_VERSION = 1
UNK = "<unk>"
_UNK_IF_LISTED = object()  # Vocab(unk_token=...) not given: "<unk>" when the specials list it, else none


def frequency_order(tokens: pa.Array, counts: np.ndarray) -> np.ndarray:
    """Positions of ``tokens`` by descending count, ties in code-point (UTF-8 byte) order.

    A large vocabulary is cut into ranges of that order (by count, then the first two bytes), each
    sorted in its own thread by integer keys (see ``_sort_range``); the ranges, one after another,
    are the whole order.
    """
    parts = thread_parts(len(tokens))
    if (parts < 2 or not pa.types.is_string(tokens.type) or tokens.null_count or counts.min() < 0
            or counts.max() >= 1 << 46):
        return pc.sort_indices(pa.table({"count": counts, "token": tokens}), sort_keys=_ORDER).to_numpy()
    ends, chars = string_bytes(tokens)
    strings = _Strings(np.concatenate([chars, np.zeros(16, dtype=np.uint8)]), ends[:-1], np.diff(ends))
    rank = int(counts.max()) - counts  # ascending rank: descending count
    first = strings.word(np.arange(len(tokens)), 0)
    coarse = (rank << 16) | ((first.view(np.uint64) ^ _SIGN) >> np.uint64(48)).astype(np.int64)
    at = [len(coarse) * i // parts for i in range(1, parts)]
    piece = np.searchsorted(np.partition(coarse, at)[at], coarse, side="right")
    ranges = [np.flatnonzero(piece == number) for number in range(parts)]
    return np.concatenate(map_threads(lambda rows: _sort_range(rows, tokens, counts, rank, first, strings), ranges))


_ORDER = [("count", "descending"), ("token", "ascending")]
_SIGN = np.uint64(1 << 63)
#: ``_KEEP[n]`` keeps the first ``n`` bytes of a big-endian 8-byte word and zeroes the rest
_KEEP = np.array([((1 << 64) - 1) ^ ((1 << (64 - 8 * n)) - 1) for n in range(9)], dtype=np.uint64)


class _Strings:
    """UTF-8 strings as bytes (``chars``, 16 zero bytes after the last), and each one's start and length."""

    def __init__(self, chars: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
        self.chars, self.starts, self.lengths = chars, starts, lengths

    def word(self, rows: np.ndarray, number: int) -> np.ndarray:
        """Bytes ``8 * number`` to ``8 * number + 8`` of each string of ``rows`` as an int64 that orders as
        the bytes do (memcmp); bytes past a string's end count as zeros, which sort first."""
        words = np.ndarray((len(self.chars) - 7,), dtype=">u8", buffer=self.chars, strides=(1,))
        values = words[self.starts[rows] + 8 * number].astype(np.uint64)
        values &= _KEEP[np.clip(self.lengths[rows] - 8 * number, 0, 8)]
        return (values ^ _SIGN).view(np.int64)


def _sort_range(rows: np.ndarray, tokens: pa.Array, counts: np.ndarray, rank: np.ndarray, first: np.ndarray,
                strings: _Strings) -> np.ndarray:
    """``rows`` in the vocabulary's order: a least-significant-first radix pass over three integer keys
    (the strings' second 8 bytes, their first 8, the count's rank), then Arrow's string sort for the few
    that tie on all three (the same count and first 16 bytes)."""
    second = strings.word(rows, 1)
    first, rank = first[rows], rank[rows]
    order = np.argsort(second)
    order = order[stable_argsort(first[order])]
    order = order[stable_argsort(rank[order])]
    rank, first, second = rank[order], first[order], second[order]
    same = (rank[1:] == rank[:-1]) & (first[1:] == first[:-1]) & (second[1:] == second[:-1])
    if same.any():
        slots = np.flatnonzero(np.concatenate([same, [False]]) | np.concatenate([[False], same]))
        tied = rows[order[slots]]
        table = pa.table({"count": counts[tied], "token": tokens.take(pa.array(tied))})
        # the tied ones keep the slots they hold: sorted among themselves, they are in order there too
        order[slots] = order[slots][pc.sort_indices(table, sort_keys=_ORDER).to_numpy()]
    return rows[order]


def _find(tokens: pa.Array, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Where any of ``values`` (a few strings, the specials) occur in ``tokens``: their positions and which
    value each is. Only the tokens as long as one of them are looked up."""
    if not len(values) or not len(tokens):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lengths = pc.binary_length(tokens).to_numpy(zero_copy_only=False)
    candidates = np.flatnonzero(np.isin(lengths, pc.binary_length(values).to_numpy(zero_copy_only=False)))
    found = pc.index_in(tokens.take(pa.array(candidates)), value_set=values)
    hit = ~found.is_null().to_numpy(zero_copy_only=False)
    return candidates[hit], found.filter(pa.array(hit)).to_numpy(zero_copy_only=False).astype(np.int64)


class _StoI(dict):
    """token -> id; a missing token maps to the unk id (without being inserted, unlike torchtext)."""

    def __init__(self, items: Iterable[tuple[str, int]], unk_index: int | None) -> None:
        super().__init__(items)
        self.unk_index = unk_index

    def __missing__(self, token: str) -> int:
        if self.unk_index is None:
            raise UnknownTokenError(f"{token!r} is not in the vocabulary, which has no unk token")
        return self.unk_index


class Vocab:
    """A vocabulary built from token counts; the arguments are torchtext's ``Vocab``'s.

    Args:
        counter: token -> count (a ``Counter`` or any mapping).
        max_size: keep at most this many non-special tokens (the most frequent).
        min_freq: drop tokens seen fewer times.
        specials: tokens placed first (or last, ``specials_first=False``), in this order.
        vectors: pretrained vectors to load (see ``load_vectors``), with ``unk_init`` and ``vectors_cache``.
        unk_token: the special that unknown tokens map to, or None (then unknown tokens are errors).
            By default ``"<unk>"`` when ``specials`` holds it, else none, as in torchtext: specials
            without ``"<unk>"`` give a vocab without one, and every id is where the specials put it.
    """

    _freqs: Counter[str] | None
    _pending: tuple[pa.Array, np.ndarray, pa.Array, bool] | None = None

    def __init__(
        self,
        counter: Mapping[str, int] | None = None,
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = ("<unk>", "<pad>"),
        vectors: Any = None,
        unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None,
        vectors_cache: str | Path | None = None,
        specials_first: bool = True,
        unk_token: Any = _UNK_IF_LISTED,
    ) -> None:
        if unk_token is _UNK_IF_LISTED:
            unk_token = UNK if UNK in specials else None
        counter = counter or {}
        tokens = pa.array(list(counter.keys()), type=pa.string())
        counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
        self._init_from_counts(tokens, counts, max_size, min_freq, specials, unk_token, specials_first)
        if isinstance(counter, Counter):
            self._freqs = counter  # torchtext's freqs is the counter it was given
        if vectors is not None:
            self.load_vectors(vectors, unk_init=unk_init, cache=vectors_cache)

    @classmethod
    def from_counts(
        cls,
        tokens: pa.Array,
        counts: np.ndarray,
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = ("<unk>", "<pad>"),
        unk_token: str | None = "<unk>",
        specials_first: bool = True,
    ) -> Vocab:
        """Build from parallel arrays of distinct tokens and their counts (the fast path)."""
        vocab = cls.__new__(cls)
        vocab._init_from_counts(tokens, counts, max_size, min_freq, specials, unk_token, specials_first)
        return vocab

    def _init_from_counts(
        self,
        tokens: pa.Array,
        counts: np.ndarray,
        max_size: int | None,
        min_freq: int,
        specials: Sequence[str],
        unk_token: str | None,
        specials_first: bool = True,
    ) -> None:
        if min_freq < 1:
            raise ConfigError(f"min_freq must be at least 1, got {min_freq}", key="min_freq", value=min_freq)
        if max_size is not None and max_size < 0:  # a negative slice would drop the rarest tokens silently
            raise ConfigError(f"max_size must be 0 or more (None: no limit), got {max_size}", key="max_size",
                              value=max_size)
        specials = list(dict.fromkeys(specials))
        if unk_token is not None and unk_token not in specials:
            specials.insert(0, unk_token)
        special_array = pa.array(specials, type=pa.string())
        keep = counts >= min_freq
        special_rows, special_at = _find(tokens, special_array)
        keep[special_rows] = False  # a special counted in the data stays where the specials put it
        everything = bool(keep.all())
        kept_rows = None if everything else np.flatnonzero(keep)
        kept_tokens = tokens if kept_rows is None else tokens.take(pa.array(kept_rows))
        kept_counts = counts if kept_rows is None else counts[kept_rows]
        order = frequency_order(kept_tokens, kept_counts)
        if max_size is not None:
            order = order[:max_size]
        first = 0 if specials_first else len(order)  # the id of the first special
        self.specials = specials
        self.unk_token = unk_token
        self.vectors: torch.Tensor | None = None
        self._special_ids = {token: first + i for i, token in enumerate(specials)}
        self.unk_index: int | None = self._special_ids[unk_token] if unk_token is not None else None
        # the id of every entry of ``tokens``, kept so that numericalizing the column the vocab was
        # built from needs no second lookup (see index_array)
        word_start = len(specials) if specials_first else 0
        source_ids = np.full(len(tokens), self.unk_index if self.unk_index is not None else -1, dtype=np.int64)

        def gather(span: tuple[int, int]) -> np.ndarray:
            """The counts of ``order[start:stop]``, and their ids written into ``source_ids``."""
            piece = order[span[0]:span[1]]
            source_ids[piece if kept_rows is None else kept_rows[piece]] = np.arange(word_start + span[0],
                                                                                       word_start + span[1])
            return kept_counts[piece]

        word_counts = map_threads(gather, thread_spans(len(order)))
        source_ids[special_rows] = first + special_at
        self._itos: list[str] | None = None
        self._arrow: pa.Array | None = None
        self._pending = (kept_tokens, order, special_array, specials_first)  # the tokens, put in order on first use
        zeros = np.zeros(len(specials), dtype=np.int64)
        self.counts = np.concatenate([zeros, *word_counts] if specials_first else [*word_counts, zeros])
        self._stoi: _StoI | None = None
        self._freqs = None
        self._counted: tuple[pa.Array, np.ndarray] | None = (tokens, counts)
        self._source: tuple[pa.Array, np.ndarray] | None = (tokens, source_ids)

    def _tokens(self) -> pa.Array:
        """id -> token as an Arrow string array: the built vocab's tokens gathered in id order on first
        use (numericalizing the data it was built from needs none of them), or made from ``itos``."""
        if self._arrow is None and self._pending is not None:
            tokens, order, special_array, specials_first = self._pending
            words = pa.concat_arrays(map_threads(lambda span: tokens.take(pa.array(order[span[0]:span[1]])),
                                                 thread_spans(len(order)))).cast(pa.string())
            self._arrow = pa.concat_arrays([special_array, words] if specials_first else [words, special_array])
            self._pending = None
        if self._arrow is None:
            self._arrow = pa.array(self.itos, type=pa.string())
        return self._arrow

    @property
    def itos(self) -> list[str]:
        """id -> token (a list, built on first use from the Arrow array)."""
        if self._itos is None:
            self._itos = self._tokens().to_pylist() if self._pending is not None or self._arrow is not None else []
        return self._itos

    @itos.setter
    def itos(self, tokens: list[str]) -> None:
        self._itos = list(tokens)
        self._arrow = None
        self._pending = None
        self._stoi = None
        self._source = None
        self._special_ids = {t: i for i, t in enumerate(self._itos) if t in set(self.specials)}

    # -- lookups -------------------------------------------------------------------------------
    @property
    def stoi(self) -> _StoI:
        """token -> id; built on first use."""
        if self._stoi is None:
            self._stoi = _StoI(((s, i) for i, s in enumerate(self.itos)), self._unk_id())
        return self._stoi

    def _unk_id(self) -> int | None:
        """``unk_index``, or where the unk token stands when it is missing (a vocab pickled before it was kept)."""
        if "unk_index" in self.__dict__:
            return self.__dict__["unk_index"]
        return self.itos.index(self.unk_token) if self.unk_token in self.itos else None

    def index(self, token: str) -> int:
        """Id of ``token``; specials are found without building ``stoi``."""
        if self._stoi is None and token in self._special_ids:
            return self._special_ids[token]
        return self.stoi[token]

    @property
    def freqs(self) -> Counter[str]:
        """token -> count in the data the vocab was built from: every token counted, also those that
        ``min_freq`` or ``max_size`` left out (torchtext's ``freqs``), specials as counted."""
        if self._freqs is None:
            if self._counted is not None:
                tokens, counts = self._counted
                self._freqs = Counter(dict(zip(tokens.to_pylist(), counts.tolist())))
            else:
                self._freqs = Counter({s: int(c) for s, c in zip(self.itos, self.counts) if c})
        return self._freqs

    @freqs.setter
    def freqs(self, counter: Mapping[str, int]) -> None:
        self._freqs = Counter(counter)
        self._counted = None

    def __len__(self) -> int:
        if self._itos is None and self._pending is not None:
            return len(self._pending[1]) + len(self._pending[2])
        if self._itos is None and self._arrow is not None:
            return len(self._arrow)
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self.itos)

    def __getitem__(self, token: str) -> int:
        return self.stoi[token]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos and self.unk_token == other.unk_token

    def lookup_indices(self, tokens: Iterable[str]) -> list[int]:
        stoi = self.stoi
        return [stoi[t] for t in tokens]

    def lookup_tokens(self, indices: Iterable[int]) -> list[str]:
        return [self.itos[int(i)] for i in indices]

    def index_array(self, tokens: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Ids of an Arrow string array (vectorized), and a mask of the tokens that were unknown."""
        if self._source is not None and tokens is self._source[0]:
            ids = self._source[1]
            return ids, ids < 0
        found = pc.index_in(tokens, value_set=self._tokens())
        unknown = found.is_null().to_numpy(zero_copy_only=False)
        fill = self.unk_index if self.unk_index is not None else 0
        ids = pc.fill_null(found, fill).to_numpy(zero_copy_only=False).astype(np.int64)
        return ids, unknown

    # -- growing -----------------------------------------------------------------------------------
    def extend(self, tokens: Iterable[str] | Vocab, sort: bool = False) -> None:
        """Append tokens not yet present (ids of existing tokens never change); ``sort``: in sorted order."""
        new = tokens.itos if isinstance(tokens, Vocab) else list(tokens)
        new = sorted(new) if sort else new
        present = set(self.itos)
        added = [t for t in dict.fromkeys(new) if t not in present]
        stoi = self._stoi
        self.itos = self.itos + added
        if stoi is not None:  # the same dict object stays, with the edits a caller made to it
            stoi.update((t, len(self.itos) - len(added) + i) for i, t in enumerate(added))
            self._stoi = stoi
        self.counts = np.concatenate([self.counts, np.zeros(len(added), dtype=np.int64)])
        if self.vectors is not None and added:
            extra = torch.zeros(len(added), self.vectors.shape[1], dtype=self.vectors.dtype)
            self.vectors = torch.cat([self.vectors, extra])

    # -- vectors ----------------------------------------------------------------------------------
    def load_vectors(self, vectors: Any, unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     cache: str | Path | None = None, lowercase_fallback: bool = True, **kwargs: Any) -> int:
        """Fill ``self.vectors`` (one row per id); returns how many vocab tokens the vectors held.

        ``vectors`` is a ``Vectors`` object, a torchtext alias (``"glove.6B.100d"``, read from ``cache``),
        a list of these (concatenated, as torchtext did), or the path of a word2vec/fastText text file.
        A token the vectors lack gets ``unk_init(empty row)`` (zeros by default, as in torchtext); from a
        path, it is looked up again in lower case first (``lowercase_fallback``).
        """
        if isinstance(vectors, str | Path) and Path(vectors).is_file() and str(vectors) not in pretrained_aliases:
            return self._load_vectors_file(Path(vectors), unk_init, lowercase_fallback)
        sources = list(vectors) if isinstance(vectors, list | tuple) else [vectors]
        for i, source in enumerate(sources):
            if isinstance(source, str):
                if source not in pretrained_aliases:
                    raise ConfigError(f"unknown pretrained vectors {source!r}: not a file, and not one of "
                                      f"{', '.join(pretrained_aliases)}", key="vectors", value=source,
                                      allowed=list(pretrained_aliases))
                options = {"cache": cache, **kwargs} if cache is not None else dict(kwargs)
                sources[i] = pretrained_aliases[source](unk_init=unk_init, **options)
            elif not isinstance(source, Vectors):
                raise ConfigError(f"vectors must be a Vectors object, a pretrained name or a file path, not "
                                  f"{type(source).__name__}", key="vectors", value=source)
        total = sum(v.dim for v in sources)
        rows = torch.empty(len(self), total)
        found = 0
        for i, token in enumerate(self.itos):
            start = 0
            for source in sources:
                rows[i, start:start + source.dim] = source[token.strip()]
                start += source.dim
            found += any(token.strip() in source.stoi for source in sources)
        self.vectors = rows
        return found

    def set_vectors(self, stoi: Mapping[str, int], vectors: torch.Tensor, dim: int,
                    unk_init: Callable[[torch.Tensor], torch.Tensor] = torch.Tensor.zero_) -> None:
        """Vectors from a tensor: the vocab token ``t`` gets ``vectors[stoi[t]]``, the others ``unk_init``."""
        rows = torch.empty(len(self), dim)
        for i, token in enumerate(self.itos):
            index = stoi.get(token)
            rows[i] = vectors[index] if index is not None else unk_init(rows[i])
        self.vectors = rows

    def _load_vectors_file(self, path: Path, unk_init: Callable[[torch.Tensor], torch.Tensor] | None,
                           lowercase_fallback: bool) -> int:
        """A word2vec/fastText text file, streamed, keeping only rows of tokens in the vocab."""
        stoi = self.stoi
        rows: dict[int, list[float]] = {}
        lower_rows: dict[int, list[float]] = {}
        lowered = {t.lower(): i for i, t in enumerate(self.itos)} if lowercase_fallback else {}
        dim: int | None = None
        with path.open("r", encoding="utf-8", errors="strict") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip("\r\n").rstrip(" ").split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # word2vec header: "count dim"
                if len(parts) < 2:
                    continue
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) - 1 != dim:
                    raise DataError(path, number, f"expected {dim} numbers after the word, found {len(parts) - 1}.",
                                    "every line is a word then the same number of space-separated floats.")
                word = parts[0]
                index = stoi.get(word) if word in stoi else None
                try:
                    if index is not None and index not in rows:
                        rows[index] = [float(x) for x in parts[1:]]
                    elif lowercase_fallback and word.lower() in lowered:
                        lower_rows.setdefault(lowered[word.lower()], [float(x) for x in parts[1:]])
                except ValueError:
                    raise DataError(path, number, "a vector value is not a number.", "check the file's format.") from None
        if dim is None:
            raise DataError(path, None, "no vectors in the file.", "give a word2vec/fastText text file.")
        for index, row in lower_rows.items():
            rows.setdefault(index, row)
        init = unk_init or torch.zeros_like
        vectors = torch.empty(len(self), dim)
        for i in range(len(self)):
            vectors[i] = torch.tensor(rows[i]) if i in rows else init(torch.empty(dim))
        self.vectors = vectors
        return len(rows)

    # -- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "itos": self.itos,
            "counts": self.counts.tolist(),
            "specials": self.specials,
            "unk_token": self.unk_token,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocab:
        if data.get("format_version") != FORMAT_VERSION:
            raise VocabError(f"vocab format_version {data.get('format_version')!r} is not {FORMAT_VERSION}; rebuild the vocab with this nlprnn.")
        vocab = cls.__new__(cls)
        vocab.specials = list(data["specials"])
        vocab.unk_token = data["unk_token"]
        vocab._freqs, vocab._counted, vocab.vectors = None, None, None
        vocab.itos = list(data["itos"])
        vocab.counts = np.asarray(data["counts"], dtype=np.int64)
        vocab.unk_index = vocab.itos.index(vocab.unk_token) if vocab.unk_token is not None else None
        return vocab

    def __getstate__(self) -> dict[str, Any]:
        """Plain data only (lists, dicts, a tensor), so ``pickle`` and ``torch.load(weights_only=True)``
        both read it back; ``stoi`` is kept as it stands, edits included, as torchtext pickled it."""
        return {"itos": self.itos, "stoi": dict(self._stoi) if self._stoi is not None else None,
                "counts": self.counts.tolist(), "specials": list(self.specials), "unk_token": self.unk_token,
                "unk_index": self.__dict__.get("unk_index"), "freqs": dict(self.freqs), "vectors": self.vectors}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.specials, self.unk_token = list(state["specials"]), state["unk_token"]
        self._freqs, self._counted = Counter(state["freqs"]), None
        self.itos = list(state["itos"])
        self.counts = np.asarray(state["counts"], dtype=np.int64)
        if state.get("unk_index") is not None:  # missing from vocabs pickled before it was kept (torchtext's too)
            self.unk_index = state["unk_index"]
        unk_index = self.unk_index = self._unk_id()
        if state.get("stoi") is not None:
            self._stoi = _StoI(state["stoi"].items(), unk_index)
        self.vectors = state.get("vectors")

    def save(self, path: str | Path) -> None:
        """Write the vocab as JSON (vectors are not saved: they live in the model's weights)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        head = ", ".join(self.itos[:6])
        return f"Vocab(size={len(self)}, specials={self.specials}, first=[{head}{', ...' if len(self) > 6 else ''}])"
