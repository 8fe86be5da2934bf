"""Korean morpheme analyzers: KoNLPy's Kkma (the default), Okt and Komoran, and kiwipiepy.

The KoNLPy analyzers run in child processes (see ``pool.py``): parallel over all cores, bounded in
time per text, and cached on disk (see ``cache.py``).

Repeated runs, answered up front: Kkma's time grows exponentially with the length of a run of one
repeated unit (measured warm: ``ㅇ`` x 8 0.07 s, x 10 0.33 s, x 14 1.9 s, x 30 minutes; ``황시욬`` x 5
1.5 s). Before a text reaches the analyzer, every run of a 1-3 character unit repeated 3 or more times
that is longer than ``max_run`` characters (default 8) is cut to as many repeats as fit in ``max_run``
(at least two): ``ㅇ`` x 40 -> ``ㅇ`` x 8, ``황시욬`` x 10 -> ``황시욬`` x 2; and a space-free stretch of more
than ``max_run + 4`` characters made of few distinct ones (a third of its length or fewer, e.g.
``굿굿ㅁㅇ굿굿굿ㅇㄴ굿굿ㅁㅇ굿굿굿뜨``, the one NSMC review that still hit the bound) gets a space every
``max_run`` characters. Such rows are counted in the report (``shortened``); ordinary text is not changed.

Time bound and fallback, the net for triggers nobody knows yet: a text whose analysis takes longer than
``timeout`` seconds (default 10) is analyzed again with every run of a repeated unit shortened to two
repeats (``ㅋㅋㅋㅋㅋ`` -> ``ㅋㅋ``); if that too overruns, or the analyzer raises, the text gets
whitespace tokens. Such rows are counted in the report (``timed_out``/``failed``). Every result is
cached with its status, so a later run does not pay for it again.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from tqdm.auto import tqdm

from nlprnn.errors import TokenizerUnavailableError
from nlprnn.parallel import cpu_count
from nlprnn.tokenizers.base import Tokenizer, TokenizeReport, register_tokenizer
from nlprnn.tokenizers.cache import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SHORTENED,
    STATUS_TIMED_OUT,
    TokenCache,
    text_key,
)
from nlprnn.tokenizers.pool import TIMED_OUT, KonlpyPool, check_java

_REPEATS = re.compile(r"(.{1,3}?)\1{2,}", re.DOTALL)


def shorten_repeats(text: str) -> str:
    """Shorten every run of 3+ repeats of a 1-3 character unit to 2 repeats."""
    return _REPEATS.sub(r"\1\1", text)


def shorten_runs(text: str, max_run: int = 8) -> str:
    """Cut every run of 3+ repeats of a 1-3 character unit that is longer than ``max_run`` characters
    to as many repeats as fit in ``max_run`` (at least two); shorter runs stay as they are."""

    def cut(match: re.Match[str]) -> str:
        run, unit = match.group(0), match.group(1)
        if len(run) <= max_run:
            return run
        return unit * max(2, max_run // len(unit))

    return _break_low_diversity(_REPEATS.sub(cut, text), max_run)


_CHUNK = re.compile(r"\S+")


def _break_low_diversity(text: str, max_run: int) -> str:
    """A space-free stretch longer than ``max_run + 4`` characters drawn from few distinct characters (at
    most a third of its length: a repetition in disguise, such as ``굿굿ㅁㅇ굿굿굿ㅇㄴ굿굿ㅁㅇ굿굿굿뜨``) gets a
    space every ``max_run`` characters; ordinary words are varied and stay as they are."""

    def split(match: re.Match[str]) -> str:
        chunk = match.group(0)
        if len(chunk) <= max_run + 4 or len(set(chunk)) > len(chunk) // 3:
            return chunk
        return " ".join(chunk[i:i + max_run] for i in range(0, len(chunk), max_run))

    return _CHUNK.sub(split, text)


def uncached(keys: Sequence[bytes], texts: Sequence[str], known: dict[bytes, Any]) -> dict[bytes, str]:
    """key -> text of each distinct text not in ``known``: one analysis each, in first-seen order."""
    todo: dict[bytes, str] = {}
    for key, text in zip(keys, texts):
        if key not in known and key not in todo:
            todo[key] = text
    return todo


def record_statuses(report: TokenizeReport, statuses: Iterable[int]) -> None:
    """Each row's cache status into the report's lists: time bound hit, analyzer error, runs shortened."""
    rows = {STATUS_TIMED_OUT: report.timed_out, STATUS_FAILED: report.failed, STATUS_SHORTENED: report.shortened}
    for row, status in enumerate(statuses):
        if status in rows:
            rows[status].append(row)


class KonlpyTokenizer(Tokenizer):
    """Shared machinery of the KoNLPy analyzers; see the module docstring for bound and fallback.

    Options: ``pos`` (tokens as ``morpheme/TAG``), ``max_run`` (longest run of a repeated unit passed
    to the analyzer, in characters), ``timeout`` (seconds per text), ``workers`` (processes for a
    corpus; default all cores), ``cache`` (on-disk cache; default on), ``cache_dir`` (default
    ``~/.cache/nlprnn`` or ``$NLPRNN_CACHE``).
    """

    output_options = ("pos", "max_run")
    version = "3"  # 2: long repeated runs shortened before analysis; 3: and low-diversity stretches broken
    #: rows each worker should have before another worker (another JVM start) pays off.
    ROWS_PER_WORKER: ClassVar[int] = 200

    def __init__(
        self,
        pos: bool = False,
        max_run: int = 8,
        timeout: float = 10.0,
        workers: int | None = None,
        cache: bool = True,
        cache_dir: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(pos=pos, max_run=max_run, timeout=timeout, workers=workers, cache=cache,
                         cache_dir=cache_dir, **options)
        self.pos = pos
        self.max_run = max_run
        self.timeout = timeout
        self.workers = workers or cpu_count()
        self.use_cache = cache
        self.cache_dir = cache_dir
        self._pool: KonlpyPool | None = None
        self._cache: TokenCache | None = None
        self._lock = threading.Lock()

    def spec(self) -> dict[str, Any]:
        # runtime knobs that do not change tokens are left out, so specs compare by meaning
        return {"name": self.name, "options": {"pos": self.pos, "max_run": self.max_run, "timeout": self.timeout}}

    @property
    def pool(self) -> KonlpyPool:
        with self._lock:
            if self._pool is None:
                check_java()
                self._pool = KonlpyPool(self.name, pos=self.pos, workers=self.workers)
            return self._pool

    @property
    def cache(self) -> TokenCache | None:
        if self.use_cache and self._cache is None:
            self._cache = TokenCache(self.identity(), self.cache_dir)
        return self._cache

    def __call__(self, text: str) -> list[str]:
        tokens, _ = self.tokenize_many([text])
        return tokens[0]

    def tokenize_many(
        self, texts: Sequence[str], progress: bool = False
    ) -> tuple[list[list[str]], TokenizeReport]:
        start_time = time.perf_counter()
        report = TokenizeReport(rows=len(texts))
        keys = [text_key(text) for text in texts]
        cache = self.cache
        known: dict[bytes, tuple[list[str], int]] = cache.get_many(keys) if cache is not None else {}
        report.cached = sum(1 for key in keys if key in known)
        todo = uncached(keys, texts, known)
        if todo:
            known.update(self._analyze(todo, progress))
        report.computed = len(todo)
        record_statuses(report, (known[key][1] for key in keys))
        report.seconds = time.perf_counter() - start_time
        return [known[key][0] for key in keys], report

    def _analyze(self, todo: dict[bytes, str], progress: bool) -> dict[bytes, tuple[list[str], int]]:
        """Run the pool over distinct texts, with the fallback; results go to the cache as they come."""
        keys = list(todo)
        originals = list(todo.values())
        texts = [shorten_runs(text, self.max_run) for text in originals]
        was_cut = [a != b for a, b in zip(originals, texts)]
        results: dict[bytes, tuple[list[str], int]] = {}
        overran: list[int] = []
        pending: list[tuple[bytes, list[str], int]] = []
        lock = threading.Lock()
        bar = tqdm(total=len(texts), unit="row", desc=self.name, disable=not progress)
        last_flush = time.monotonic()

        def keep(i: int, tokens: list[str], status: int) -> None:
            nonlocal last_flush
            results[keys[i]] = (tokens, status)
            pending.append((keys[i], tokens, status))
            if len(pending) >= 512 or time.monotonic() - last_flush > 5:
                if self.cache is not None:
                    self.cache.put_many(pending)
                pending.clear()
                last_flush = time.monotonic()

        def on_result(i: int, answer: Any) -> None:
            with lock:
                if answer is TIMED_OUT:
                    overran.append(i)
                elif isinstance(answer, dict):  # the analyzer raised on this text
                    keep(i, originals[i].split(), STATUS_FAILED)
                else:
                    keep(i, answer, STATUS_SHORTENED if was_cut[i] else STATUS_OK)
                bar.update(1)

        workers = max(1, min(self.workers, len(texts) // self.ROWS_PER_WORKER))
        self.pool.run(texts, self.timeout, on_result, workers=workers)
        bar.close()
        if overran:
            shortened = [shorten_repeats(texts[i]) for i in overran]

            def on_retry(j: int, answer: Any) -> None:
                i = overran[j]
                ok = answer is not TIMED_OUT and not isinstance(answer, dict)
                keep(i, answer if ok else originals[i].split(), STATUS_TIMED_OUT)

            self.pool.run(shortened, self.timeout, on_retry, chunk_size=1, workers=1)
        if self.cache is not None:
            self.cache.put_many(pending)
        return results

    def close(self) -> None:
        """Stop the analyzer processes (they also stop when this object is collected)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __getstate__(self) -> dict[str, Any]:
        # the pool and the cache connection stay behind; a copy opens its own on use
        state = self.__dict__.copy()
        state.update(_pool=None, _cache=None, _lock=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


@register_tokenizer
class KkmaTokenizer(KonlpyTokenizer):
    """KoNLPy's Kkma morphemes (lemmas restored: ``아 더빙..`` -> ``아 아 더빙 ..``). The default."""

    name = "kkma"


@register_tokenizer
class OktTokenizer(KonlpyTokenizer):
    """KoNLPy's Okt (Open Korean Text) morphemes."""

    name = "okt"


@register_tokenizer
class KomoranTokenizer(KonlpyTokenizer):
    """KoNLPy's Komoran morphemes."""

    name = "komoran"


_SHARED_KIWI: Any = None


@register_tokenizer
class KiwiTokenizer(Tokenizer):
    """kiwipiepy's morphemes: C++, no JVM, about 20x faster than Kkma (``pip install nlprnn[kiwi]``)."""

    name = "kiwi"
    output_options = ("pos",)

    def __init__(self, pos: bool = False, **options: Any) -> None:
        super().__init__(pos=pos, **options)
        self.pos = pos
        self._kiwi: Any = None

    def _analyzer(self) -> Any:
        """The process's one Kiwi (its model takes a second to load and its first analysis longer still, so
        every KiwiTokenizer shares it: a served model pays that once, not per request)."""
        global _SHARED_KIWI
        if self._kiwi is None:
            if _SHARED_KIWI is None:
                try:
                    from kiwipiepy import Kiwi
                except ImportError as error:
                    raise TokenizerUnavailableError(
                        "the kiwi tokenizer needs kiwipiepy: `pip install nlprnn[kiwi]`"
                    ) from error
                _SHARED_KIWI = Kiwi()
            self._kiwi = _SHARED_KIWI
        return self._kiwi

    def tokenize_with_offsets(self, text: str) -> list[tuple[str, str, int, int]]:
        """``(morpheme, tag, start, end)`` for each morpheme; a restored lemma (``했`` -> ``하`` + ``었``)
        has the span of the characters it came from."""
        return [(t.form, t.tag, t.start, t.start + t.len) for t in self._analyzer().tokenize(text)]

    def __call__(self, text: str) -> list[str]:
        tokens = self._analyzer().tokenize(text)
        if self.pos:
            return [f"{t.form}/{t.tag}" for t in tokens]
        return [t.form for t in tokens]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_kiwi"] = None
        return state
