"""Vocab: the token <-> id mapping of a field, with counts, specials, JSON save/load and vectors.

Order of ids (fixed, documented): the specials first, in the order given (a Field passes
``unk, pad, init, eos``, leaving out the ones it does not use); then the other tokens by descending
count, ties broken by the token's code points. ``min_freq`` and ``max_size`` never drop specials, and
``max_size`` does not count them (as in legacy torchtext).
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
from nlprnn.errors import ConfigError, DataError, UnknownTokenError, VocabError
from nlprnn.parallel import map_threads, thread_parts

FORMAT_VERSION = 1


def frequency_order(tokens: pa.Array, counts: np.ndarray) -> np.ndarray:
    """Positions of ``tokens`` by descending count, ties in code-point (UTF-8 byte) order.

    A large vocabulary is cut into ranges of tokens by their first four bytes, each range sorted in
    its own thread; a stable sort by count then puts them together, ties staying in range order.
    """
    table = pa.table({"count": counts, "token": tokens})
    keys = [("count", "descending"), ("token", "ascending")]
    parts = thread_parts(len(tokens))
    if parts < 2 or not pa.types.is_string(tokens.type) or tokens.null_count:
        return pc.sort_indices(table, sort_keys=keys).to_numpy()
    ends, chars = string_bytes(tokens)
    chars = np.concatenate([chars, np.zeros(4, dtype=np.uint8)])
    width = np.arange(4)
    prefix = chars[ends[:-1, None] + width]
    prefix[width[None, :] >= np.diff(ends)[:, None]] = 0  # shorter tokens: zeros sort first, as in memcmp
    key = prefix.view(">u4").ravel()
    cuts = np.partition(key, [len(key) * i // parts for i in range(1, parts)])[[len(key) * i // parts
                                                                                for i in range(1, parts)]]
    ranges = [np.flatnonzero(part) for part in np.searchsorted(cuts, key, side="right")[None, :]
              == np.arange(parts)[:, None]]
    ordered = map_threads(lambda rows: rows[pc.sort_indices(table.take(rows), sort_keys=keys).to_numpy()], ranges)
    together = np.concatenate(ordered)
    return together[np.argsort(-counts[together], kind="stable")]


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
    """A vocabulary built from token counts.

    Args:
        counter: token -> count (a ``Counter`` or any mapping).
        max_size: keep at most this many non-special tokens (the most frequent).
        min_freq: drop tokens seen fewer times.
        specials: tokens placed first, in this order.
        unk_token: the special that unknown tokens map to, or None (then unknown tokens are errors).
    """

    def __init__(
        self,
        counter: Mapping[str, int] | None = None,
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = ("<unk>", "<pad>"),
        unk_token: str | None = "<unk>",
        vectors: torch.Tensor | None = None,
    ) -> None:
        counter = counter or {}
        tokens = pa.array(list(counter.keys()), type=pa.string())
        counts = np.fromiter(counter.values(), dtype=np.int64, count=len(counter))
        self._init_from_counts(tokens, counts, max_size, min_freq, specials, unk_token)
        self.vectors = vectors

    @classmethod
    def from_counts(
        cls,
        tokens: pa.Array,
        counts: np.ndarray,
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = ("<unk>", "<pad>"),
        unk_token: str | None = "<unk>",
    ) -> Vocab:
        """Build from parallel arrays of distinct tokens and their counts (the fast path)."""
        vocab = cls.__new__(cls)
        vocab._init_from_counts(tokens, counts, max_size, min_freq, specials, unk_token)
        vocab.vectors = None
        return vocab

    def _init_from_counts(
        self,
        tokens: pa.Array,
        counts: np.ndarray,
        max_size: int | None,
        min_freq: int,
        specials: Sequence[str],
        unk_token: str | None,
    ) -> None:
        if min_freq < 1:
            raise ConfigError(f"min_freq must be at least 1, got {min_freq}", key="min_freq", value=min_freq)
        if max_size is not None and max_size < 0:  # a negative slice would drop the rarest tokens silently
            raise ConfigError(f"max_size must be 0 or more (None: no limit), got {max_size}", key="max_size",
                              value=max_size)
        specials = list(dict.fromkeys(specials))
        if unk_token is not None and unk_token not in specials:
            specials.insert(0, unk_token)
        keep = counts >= min_freq
        if specials and len(tokens):
            keep &= ~pc.is_in(tokens, value_set=pa.array(specials, type=pa.string())).to_numpy(zero_copy_only=False)
        everything = bool(keep.all())
        kept_tokens = tokens if everything else tokens.filter(pa.array(keep))
        kept_counts = counts if everything else counts[keep]
        order = frequency_order(kept_tokens, kept_counts)
        if max_size is not None:
            order = order[:max_size]
        self.specials = specials
        self.unk_token = unk_token
        self._itos: list[str] | None = None
        self._arrow: pa.Array | None = pa.concat_arrays([pa.array(specials, type=pa.string()),
                                        kept_tokens.take(pa.array(order)).cast(pa.string())])
        self.counts = np.concatenate([np.zeros(len(specials), dtype=np.int64), kept_counts[order]])
        self._stoi: _StoI | None = None
        # the id of every entry of ``tokens``, kept so that numericalizing the column the vocab was
        # built from needs no second lookup (see index_array)
        source_ids = np.full(len(tokens), self.index(unk_token) if unk_token is not None else -1, dtype=np.int64)
        source_ids[np.flatnonzero(keep)[order]] = np.arange(len(specials), len(specials) + len(order))
        if specials and len(tokens):
            found = pc.index_in(tokens, value_set=pa.array(specials, type=pa.string()))
            for position in np.flatnonzero(~found.is_null().to_numpy(zero_copy_only=False)):
                source_ids[position] = found[int(position)].as_py()
        self._source: tuple[pa.Array, np.ndarray] | None = (tokens, source_ids)

    @property
    def itos(self) -> list[str]:
        """id -> token (a list, built on first use from the Arrow array)."""
        if self._itos is None:
            self._itos = self._arrow.to_pylist() if self._arrow is not None else []
        return self._itos

    @itos.setter
    def itos(self, tokens: list[str]) -> None:
        self._itos = list(tokens)
        self._arrow = None
        self._stoi = None
        self._source = None

    # -- lookups -------------------------------------------------------------------------------
    @property
    def stoi(self) -> _StoI:
        """token -> id; built on first use."""
        if self._stoi is None:
            self._stoi = _StoI(((s, i) for i, s in enumerate(self.itos)), self.unk_index)
        return self._stoi

    @property
    def unk_index(self) -> int | None:
        return self.index(self.unk_token) if self.unk_token is not None else None

    def index(self, token: str) -> int:
        """Id of ``token``; specials are found without building ``stoi`` (they come first)."""
        if self._stoi is None and token in self.specials:
            return self.specials.index(token)
        return self.stoi[token]

    @property
    def freqs(self) -> Counter[str]:
        """token -> count in the data the vocab was built from (specials count 0)."""
        return Counter({s: int(c) for s, c in zip(self.itos, self.counts) if c})

    def __len__(self) -> int:
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
        if self._arrow is None:
            self._arrow = pa.array(self.itos, type=pa.string())
        found = pc.index_in(tokens, value_set=self._arrow)
        unknown = found.is_null().to_numpy(zero_copy_only=False)
        fill = self.unk_index if self.unk_index is not None else 0
        ids = pc.fill_null(found, fill).to_numpy(zero_copy_only=False).astype(np.int64)
        return ids, unknown

    # -- growing -----------------------------------------------------------------------------------
    def extend(self, tokens: Iterable[str] | Vocab) -> None:
        """Append tokens not yet present (ids of existing tokens never change)."""
        new = tokens.itos if isinstance(tokens, Vocab) else tokens
        present = set(self.itos)
        added = [t for t in dict.fromkeys(new) if t not in present]
        self.itos = self.itos + added
        self.counts = np.concatenate([self.counts, np.zeros(len(added), dtype=np.int64)])
        if self.vectors is not None and added:
            extra = torch.zeros(len(added), self.vectors.shape[1], dtype=self.vectors.dtype)
            self.vectors = torch.cat([self.vectors, extra])

    # -- vectors ----------------------------------------------------------------------------------
    def load_vectors(
        self,
        path: str | Path,
        unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None,
        lowercase_fallback: bool = True,
    ) -> int:
        """Read word2vec/fastText text vectors into ``self.vectors`` (one row per id); returns how many
        vocab tokens were found. Missing tokens get ``unk_init(empty row)`` (zeros by default, as in
        torchtext); the file is streamed, keeping only rows of tokens in the vocab.
        """
        path = Path(path)
        if not path.exists():
            raise DataError(path, None, "vectors file not found.", "give the path of a word2vec/fastText .txt/.vec file.")
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
        vocab.itos = list(data["itos"])
        vocab.counts = np.asarray(data["counts"], dtype=np.int64)
        vocab.specials = list(data["specials"])
        vocab.unk_token = data["unk_token"]
        vocab.vectors = None
        vocab._stoi = None
        vocab._arrow = None
        return vocab

    def save(self, path: str | Path) -> None:
        """Write the vocab as JSON (vectors are not saved: they live in the model's weights)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __repr__(self) -> str:
        head = ", ".join(self.itos[:6])
        return f"Vocab(size={len(self)}, specials={self.specials}, first=[{head}{', ...' if len(self) > 6 else ''}])"
