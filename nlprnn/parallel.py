"""Column work split over cores: Arrow's compute kernels release the GIL, so one Python thread per core
runs them side by side; a user's Python function (a tokenizer) runs in forked worker processes. Used
where one column is large enough to pay for the threads' or processes' start."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar, cast

import pyarrow as pa

T = TypeVar("T")
R = TypeVar("R")

#: below this many rows (or values) one thread does it (a thread's start costs more than it saves)
THREADED_ROWS = 50_000


def cpu_count() -> int:
    """Cores this process may run on (its affinity where the OS says, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _workers() -> int:
    """One worker per core, at most 8."""
    return max(1, min(cpu_count(), 8))


def _ranges(size: int, parts: int) -> list[tuple[int, int]]:
    """``range(size)`` cut into ``parts`` contiguous (start, stop) pieces, the last maybe shorter."""
    step = -(-size // parts)
    return [(start, min(start + step, size)) for start in range(0, size, step)]


def thread_parts(size: int) -> int:
    """How many threads to split ``size`` rows over: one per core (at most 8), or 1 when small."""
    return 1 if size < THREADED_ROWS else _workers()


def thread_spans(size: int) -> list[tuple[int, int]]:
    """``range(size)`` as (start, stop) pieces, one per thread that ``thread_parts`` gives it."""
    parts = thread_parts(size)
    return [(0, size)] if parts < 2 else _ranges(size, parts)


def map_threads(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[function(x) for x in items]``, one thread per item (in order)."""
    if len(items) < 2:
        return [function(x) for x in items]
    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(function, items))


def in_threads(function: Callable[[pa.Array], pa.Array], array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``function`` over contiguous slices of ``array`` in one thread per core, joined in order (a chunked
    array with a chunk per thread, as a reader makes it, is cut at its chunks)."""
    parts = thread_parts(len(array))
    if isinstance(array, pa.ChunkedArray):
        if parts > 1 and array.num_chunks == parts and min(len(c) for c in array.chunks) > 0:
            return pa.concat_arrays(map_threads(function, array.chunks))
        array = array.combine_chunks()
    if parts < 2:
        return function(array)
    return pa.concat_arrays(map_threads(function, [array.slice(a, b - a) for a, b in _ranges(len(array), parts)]))


#: below this many rows a Python function runs in this process (forking costs ~20 ms a worker)
FORKED_ROWS = 20_000

_FORKED: Callable[[int, int], object] | None = None  # what forked workers run; inherited, never pickled


def fork_is_safe() -> bool:
    """Whether worker processes may be forked from this one: Linux only (macOS frameworks break in
    forked children), and never once a JVM runs here (a forked child of a JPype process hangs)."""
    if sys.platform != "linux":
        return False
    jpype = sys.modules.get("jpype")
    return not (jpype is not None and jpype.isJVMStarted())


def forked_parts(size: int) -> int:
    """Worker processes to split ``size`` rows of Python work over (1: do it here)."""
    if size < FORKED_ROWS or not fork_is_safe():
        return 1
    return _workers()


def map_forked(function: Callable[[int, int], R], size: int, parts: int) -> list[R]:
    """``function(start, stop)`` over ``parts`` contiguous ranges of ``range(size)``, each in a forked
    process, results in order. The function reaches the workers by fork, not by pickling, so a lambda
    or a closure over this process's data works; only the results travel back (pickled). This process
    only waits meanwhile: working here too was slower (its writes copy pages the children share)."""
    global _FORKED
    ranges = _ranges(size, parts)
    _FORKED = function
    try:
        # an executor, not multiprocessing.Pool: a worker that dies (a crash in C code, the OOM killer)
        # raises BrokenProcessPool here, where Pool would wait for its result for ever
        with ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("fork")) as pool:
            return cast("list[R]", list(pool.map(_run_forked, ranges)))
    finally:
        _FORKED = None


def _run_forked(bounds: tuple[int, int]) -> object:
    assert _FORKED is not None
    return _FORKED(*bounds)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a bulk build of many small objects (token lists): it
    would otherwise scan every list made so far again and again (150,000 texts: 0.37 s -> 0.11 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
