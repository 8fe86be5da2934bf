"""Pretrained word vectors read from local files: ``Vectors``, ``GloVe``, ``FastText``, ``CharNGram``, as
``torchtext.vocab`` names them. Nothing is downloaded: a file that is not in ``cache`` is one error naming
the file, where it goes and the URL it comes from. A text file read once is kept beside it as ``.pt``, as
torchtext did, so the next run loads in a second.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch

from nlprnn.data.archives import unpack_archive
from nlprnn.errors import DataError

DEFAULT_CACHE = ".vector_cache"


def _zero(vector: torch.Tensor) -> torch.Tensor:
    return vector.zero_()


class Vectors:
    """Word -> vector from a word2vec/GloVe/fastText text file (optionally ``.gz``), as torchtext's.

    Args:
        name: the file, as a path, or a name inside ``cache``.
        cache: the folder of vector files and their ``.pt`` copies (default ``.vector_cache``).
        url: where the file comes from, named in the error when it is missing (or its archive is: a
            ``.zip`` / ``.tar.gz`` already in ``cache`` is unpacked there).
        unk_init: fills the vector of a word the file lacks (default zeros).
        max_vectors: read at most this many (the files list frequent words first).
    """

    def __init__(self, name: str | os.PathLike[str], cache: str | os.PathLike[str] | None = None,
                 url: str | None = None, unk_init: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 max_vectors: int | None = None) -> None:
        self.unk_init = unk_init or _zero
        self.itos: list[str] = []
        self.stoi: dict[str, int] = {}
        self.vectors = torch.zeros(0, 0)
        self.dim = 0
        self.cache(str(name), str(cache if cache is not None else DEFAULT_CACHE), url=url, max_vectors=max_vectors)

    def cache(self, name: str, cache: str, url: str | None = None, max_vectors: int | None = None) -> None:
        """Load ``name`` (from its ``.pt`` copy when there is one), unpacking a local archive if needed."""
        suffix = f"_{max_vectors}.pt" if max_vectors else ".pt"
        if os.path.isfile(name):
            path = Path(name)
            path_pt = Path(cache) / (path.name + suffix)
        else:
            path = Path(cache) / name
            path_pt = Path(str(path) + suffix)
        if path_pt.is_file():
            self.itos, self.stoi, self.vectors, self.dim = torch.load(path_pt, weights_only=True)
            return
        if not path.is_file() and url:
            archive = Path(cache) / os.path.basename(url)
            if archive.is_file() and archive.name.endswith((".zip", ".tar.gz", ".tgz")):
                unpack_archive(archive, Path(cache))
        if not path.is_file():
            where = f" (from {url}; an archive from there may be put in {cache}/ as it is)" if url else ""
            raise DataError(path, None, "vectors file not found.",
                            f"put the file in {cache}/{where}, or pass cache= the folder that holds it")
        self.itos, self.vectors, self.dim = read_vectors_file(path, max_vectors)
        self.stoi = {word: i for i, word in enumerate(self.itos)}
        path_pt.parent.mkdir(parents=True, exist_ok=True)
        torch.save((self.itos, self.stoi, self.vectors, self.dim), path_pt)

    def __getitem__(self, token: str) -> torch.Tensor:
        if token in self.stoi:
            return self.vectors[self.stoi[token]]
        return self.unk_init(torch.empty(self.dim))

    def __len__(self) -> int:
        return len(self.vectors)

    def get_vecs_by_tokens(self, tokens: str | Sequence[str], lower_case_backup: bool = False) -> torch.Tensor:
        """The vector of a token (1-D), or of each token of a list (2-D); ``lower_case_backup`` looks a
        token the file lacks up again in lower case."""
        single = isinstance(tokens, str)
        words = [tokens] if isinstance(tokens, str) else list(tokens)
        if lower_case_backup:
            words = [w if w in self.stoi else w.lower() for w in words]
        stacked = torch.stack([self[w] for w in words])
        return stacked[0] if single else stacked


def read_vectors_file(path: Path, max_vectors: int | None = None) -> tuple[list[str], torch.Tensor, int]:
    """Words and vectors of a text file (``.gz`` too): a word then its floats, space-separated, one a line;
    a word2vec header line (``count dim``) is skipped. A row of another width is an error with its line."""
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    words: list[str] = []
    rows: list[list[float]] = []
    dim: int | None = None
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            parts = raw.rstrip().split(b" ")
            if len(parts) < 3:  # a header ("400000 300"), or a word without a vector
                continue
            if dim is None:
                dim = len(parts) - 1
            elif len(parts) - 1 != dim:
                raise DataError(path, number, f"{len(parts) - 1} numbers after the word, {dim} on the lines "
                                "before.", "give every word the same number of values")
            try:
                word = parts[0].decode("utf-8")
                rows.append([float(x) for x in parts[1:]])
            except UnicodeDecodeError:
                continue  # torchtext skipped words that are not UTF-8 the same way
            except ValueError:
                raise DataError(path, number, "a value after the word is not a number.",
                                "check the file's format: a word, then space-separated floats") from None
            words.append(word)
            if max_vectors and len(words) == max_vectors:
                break
    if dim is None:
        raise DataError(path, None, "no vectors in the file.", "give a word2vec/GloVe/fastText text file")
    return words, torch.tensor(rows, dtype=torch.float32).view(-1, dim), dim


class GloVe(Vectors):
    """Stanford's GloVe vectors: ``glove.{name}.{dim}d.txt`` in ``cache``."""

    url = {
        "42B": "http://nlp.stanford.edu/data/glove.42B.300d.zip",
        "840B": "http://nlp.stanford.edu/data/glove.840B.300d.zip",
        "twitter.27B": "http://nlp.stanford.edu/data/glove.twitter.27B.zip",
        "6B": "http://nlp.stanford.edu/data/glove.6B.zip",
    }

    def __init__(self, name: str = "840B", dim: int = 300, **kwargs: Any) -> None:
        super().__init__(f"glove.{name}.{dim}d.txt", url=self.url.get(name), **kwargs)


class FastText(Vectors):
    """fastText's Wikipedia vectors: ``wiki.{language}.vec`` in ``cache``."""

    url_base = "https://dl.fbaipublicfiles.com/fasttext/vectors-wiki/wiki.{}.vec"

    def __init__(self, language: str = "en", **kwargs: Any) -> None:
        url = self.url_base.format(language)
        super().__init__(os.path.basename(url), url=url, **kwargs)


class CharNGram(Vectors):
    """Hashimoto et al.'s character n-gram vectors (``charNgram.txt``): a word's vector is the mean of its
    2-, 3- and 4-grams' (with ``#BEGIN#`` / ``#END#`` marks), as torchtext computed it."""

    name = "charNgram.txt"
    url = "http://www.logos.t.u-tokyo.ac.jp/~hassy/publications/arxiv2016jmt/jmt_pre-trained_embeddings.tar.gz"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(self.name, url=self.url, **kwargs)

    def __getitem__(self, token: str) -> torch.Tensor:
        vector = torch.zeros(1, self.dim)
        if token == "<unk>":
            return self.unk_init(vector)
        chars = ["#BEGIN#", *token, "#END#"]
        found = 0
        for n in (2, 3, 4):
            for i in range(len(chars) - n + 1):
                key = f"{n}gram-{''.join(chars[i:i + n])}"
                if key in self.stoi:
                    vector += self.vectors[self.stoi[key]]
                    found += 1
        return vector / found if found else self.unk_init(vector)


pretrained_aliases: dict[str, Callable[..., Vectors]] = {
    "charngram.100d": partial(CharNGram),
    "fasttext.en.300d": partial(FastText, language="en"),
    "fasttext.simple.300d": partial(FastText, language="simple"),
    "glove.42B.300d": partial(GloVe, name="42B", dim=300),
    "glove.840B.300d": partial(GloVe, name="840B", dim=300),
    "glove.twitter.27B.25d": partial(GloVe, name="twitter.27B", dim=25),
    "glove.twitter.27B.50d": partial(GloVe, name="twitter.27B", dim=50),
    "glove.twitter.27B.100d": partial(GloVe, name="twitter.27B", dim=100),
    "glove.twitter.27B.200d": partial(GloVe, name="twitter.27B", dim=200),
    "glove.6B.50d": partial(GloVe, name="6B", dim=50),
    "glove.6B.100d": partial(GloVe, name="6B", dim=100),
    "glove.6B.200d": partial(GloVe, name="6B", dim=200),
    "glove.6B.300d": partial(GloVe, name="6B", dim=300),
}
