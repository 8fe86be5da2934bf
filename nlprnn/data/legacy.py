"""torchtext.legacy.data's small helpers, with their signatures and behaviour: Pipeline, batch, pool,
interleave_keys. nlprnn's own iterators do not use them (they bucket on the columns); they are here so
that code written against torchtext, which calls them directly, runs unchanged."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from nlprnn.data.sort_keys import interleave_keys
from nlprnn.errors import ConfigError

__all__ = ["Pipeline", "batch", "interleave_keys", "pool"]


class Pipeline:
    """A chain of functions applied to a value, or to each token of a list (torchtext's Pipeline)."""

    def __init__(self, convert_token: Callable[..., Any] | None = None) -> None:
        if convert_token is None:
            self.convert_token: Callable[..., Any] = Pipeline.identity
        elif callable(convert_token):
            self.convert_token = convert_token
        else:
            raise ConfigError(f"Pipeline takes a function, not {type(convert_token).__name__}", key="convert_token")
        self.pipes: list[Pipeline] = [self]

    def __call__(self, x: Any, *args: Any) -> Any:
        for pipe in self.pipes:
            x = pipe.call(x, *args)
        return x

    def call(self, x: Any, *args: Any) -> Any:
        if isinstance(x, list):
            return [self.convert_token(token, *args) for token in x]
        return self.convert_token(x, *args)

    def add_before(self, pipeline: Pipeline | Callable[..., Any]) -> Pipeline:
        if not isinstance(pipeline, Pipeline):
            pipeline = Pipeline(pipeline)
        self.pipes = pipeline.pipes[:] + self.pipes[:]
        return self

    def add_after(self, pipeline: Pipeline | Callable[..., Any]) -> Pipeline:
        if not isinstance(pipeline, Pipeline):
            pipeline = Pipeline(pipeline)
        self.pipes = self.pipes[:] + pipeline.pipes[:]
        return self

    @staticmethod
    def identity(x: Any) -> Any:
        return x


def _count(new: Any, count: int, size_so_far: int) -> int:
    return count


def batch(data: Iterable[Any], batch_size: int, batch_size_fn: Callable[[Any, int, int], int] | None = None
          ) -> Iterator[list[Any]]:
    """Lists of up to ``batch_size`` items, or of items whose ``batch_size_fn`` size reaches ``batch_size``."""
    size_fn = batch_size_fn or _count
    minibatch: list[Any] = []
    size_so_far = 0
    for item in data:
        minibatch.append(item)
        size_so_far = size_fn(item, len(minibatch), size_so_far)
        if size_so_far == batch_size:
            yield minibatch
            minibatch, size_so_far = [], 0
        elif size_so_far > batch_size:
            yield minibatch[:-1]
            minibatch, size_so_far = minibatch[-1:], size_fn(item, 1, 0)
    if minibatch:
        yield minibatch


def pool(data: Iterable[Any], batch_size: int, key: Callable[[Any], Any],
         batch_size_fn: Callable[[Any, int, int], int] = _count, random_shuffler: Callable[[list], list] | None = None,
         shuffle: bool = False, sort_within_batch: bool = False) -> Iterator[list[Any]]:
    """torchtext 0.11's bucketing helper, as it was: chunks of 100 batches, each chunk sorted by ``key``
    only when ``sort_within_batch`` (else batched in the order given), cut into batches, the batches of a
    chunk shuffled (``shuffle``). (nlprnn's BucketIterator buckets by length whatever the flags.)"""
    shuffler = random_shuffler or (lambda items: random.sample(items, len(items)))
    for chunk in batch(data, batch_size * 100, batch_size_fn):
        batches = list(batch(sorted(chunk, key=key) if sort_within_batch else chunk, batch_size, batch_size_fn))
        yield from (shuffler(batches) if shuffle else batches)
