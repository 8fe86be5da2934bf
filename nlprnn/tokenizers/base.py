"""The tokenizer interface and its registry: a tokenizer is a named, JSON-serializable spec."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from nlprnn.errors import ConfigError, no_effect
from nlprnn.parallel import forked_parts, gc_paused, map_forked

_REGISTRY: dict[str, type[Tokenizer]] = {}


@dataclass
class TokenizeReport:
    """What happened while tokenizing a corpus: counts a summary prints, and the rows behind them."""

    rows: int = 0
    cached: int = 0
    computed: int = 0
    seconds: float = 0.0
    timed_out: list[int] = field(default_factory=list)
    """Row indices whose text hit the per-text time bound (see the tokenizer's fallback)."""
    failed: list[int] = field(default_factory=list)
    """Row indices where the analyzer raised; those rows fell back to whitespace tokens."""
    shortened: list[int] = field(default_factory=list)
    """Row indices whose text had long runs of a repeated unit shortened before analysis."""

    @property
    def rows_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else float("inf")


class Tokenizer:
    """Turns one text into a list of token strings; rebuilt from ``spec()`` via ``get_tokenizer``.

    Subclasses set ``name`` and ``version`` and implement ``__call__``. ``tokenize_many`` may be
    overridden for speed (parallelism, caching); ``tokenize_arrow`` for vectorized tokenizers.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    #: options that change the tokens produced, and so belong to the cache key.
    output_options: ClassVar[tuple[str, ...]] = ()
    #: lowercasing the text before tokenizing gives the same tokens as lowercasing them after (a split on
    #: whitespace), so a Field with ``lower=True`` may lowercase 150k texts instead of a million tokens.
    lowercase_commutes: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        self.options = options

    def __call__(self, text: str) -> list[str]:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """A JSON-ready description from which ``get_tokenizer`` rebuilds an equal tokenizer."""
        return {"name": self.name, "options": dict(self.options)}

    def identity(self) -> str:
        """A short hash of everything that determines the output: name, version, output options."""
        key = {
            "name": self.name,
            "version": self.version,
            "options": {k: self.options.get(k) for k in self.output_options},
        }
        return hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def tokenize_many(
        self, texts: Sequence[str], progress: bool = False
    ) -> tuple[list[list[str]], TokenizeReport]:
        """Tokenize a whole column; returns the token lists (in order) and a report."""
        import time

        start = time.perf_counter()
        with gc_paused():
            tokens = [self(text) for text in texts]
        report = TokenizeReport(rows=len(texts), computed=len(texts))
        report.seconds = time.perf_counter() - start
        return tokens, report

    def tokenize_arrow(self, texts: pa.Array, lower: bool = False) -> pa.ListArray | None:
        """Vectorized tokenization of an Arrow string column, or None where not supported. ``lower``
        (asked only where ``lowercase_commutes``) lowercases in the same pass, on the same threads."""
        return None

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(json.dumps(self.spec(), sort_keys=True))


class CallableTokenizer(Tokenizer):
    """Wraps a user's function. It works, but cannot be saved: its spec names it only for messages.

    Over a large column (``FORKED_ROWS`` rows or more) the function runs in forked worker processes,
    one per core, each turning its share of the texts into an Arrow column; where forking is unsafe
    (a JVM runs in this process, or not Linux) it runs here.
    """

    name = "callable"

    def __init__(self, function: Callable[[str], list[str]]) -> None:
        super().__init__()
        self.function = function

    def __call__(self, text: str) -> list[str]:
        return list(self.function(text))

    def tokenize_arrow(self, texts: pa.Array, lower: bool = False) -> pa.ListArray | None:
        parts = forked_parts(len(texts))
        if parts < 2:
            return None

        def tokenize_range(start: int, stop: int) -> pa.ListArray:
            return token_lists(self.tokenize_many(texts.slice(start, stop - start).to_pylist())[0])

        return pa.concat_arrays(map_forked(tokenize_range, len(texts), parts))

    def spec(self) -> dict[str, Any]:
        qualname = getattr(self.function, "__qualname__", repr(self.function))
        module = getattr(self.function, "__module__", None) or type(self.function).__module__
        return {"name": "callable", "options": {"function": f"{module}.{qualname}"}}

    def identity(self) -> str:
        return hashlib.sha1(json.dumps(self.spec(), sort_keys=True).encode()).hexdigest()[:16]


def token_lists(lists: list[list[str]]) -> pa.ListArray:
    """Python token lists as an Arrow list column (flattened first: 2.5x faster than nested conversion)."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(list(chain.from_iterable(lists)), type=pa.string()))


def keep_tokens(flat: pa.Array, offsets: np.ndarray, keep: pa.BooleanArray) -> tuple[pa.Array, np.ndarray]:
    """Only the tokens where ``keep`` is true, with each row's (zero-based) ``offsets`` moved to match."""
    kept_before = np.concatenate([[0], np.cumsum(keep.to_numpy(zero_copy_only=False))])
    return flat.filter(keep), kept_before[offsets]


def register_tokenizer(cls: type[Tokenizer]) -> type[Tokenizer]:
    """Class decorator: make ``cls`` available to ``get_tokenizer`` under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_tokenizers() -> list[str]:
    """Names that ``get_tokenizer`` accepts."""
    return sorted(_REGISTRY)


def get_tokenizer(tokenizer: str | dict[str, Any] | Tokenizer | Callable[[str], list[str]] | None = "whitespace",
                  language: str | None = None, **options: Any) -> Tokenizer:
    """Build a tokenizer from a name (``"kkma"``), a spec dict, a Tokenizer, or a plain function.

    torchtext's call works too: ``get_tokenizer(None)`` and ``get_tokenizer(str.split)`` are the
    whitespace tokenizer (saveable, and vectorized over a column); ``language`` (spaCy's) is accepted
    with a DeprecationWarning.
    """
    no_effect("get_tokenizer", "there are no spaCy models here; name the tokenizer, e.g. 'kkma', 'mecab', "
              "'basic_english'", language=language)
    spec = tokenizer
    if spec is None or spec is str.split:  # torchtext's default split, the same as ours
        spec = "whitespace"
    if isinstance(spec, Tokenizer):
        return spec
    if isinstance(spec, dict):
        if "name" not in spec:
            raise ConfigError(f"tokenizer spec {spec!r} has no 'name'; expected e.g. {{'name': 'kkma'}}")
        options = {**spec.get("options", {}), **options}
        spec = spec["name"]
    if isinstance(spec, str):
        if spec == "callable":
            raise ConfigError(
                f"this tokenizer was a plain function ({options.get('function', '?')}), which cannot be saved; "
                "pass the function again as tokenize=, or use a named tokenizer"
            )
        if spec not in _REGISTRY:
            raise ConfigError(
                f"unknown tokenizer {spec!r}; choose one of {', '.join(available_tokenizers())}",
                key="tokenize", value=spec, allowed=available_tokenizers()
            )
        return _REGISTRY[spec](**options)
    if callable(spec):
        return CallableTokenizer(spec)
    raise ConfigError(f"tokenize must be a tokenizer name, spec dict or function, not {type(spec).__name__}")
