"""Tokenizing a corpus on a Ray cluster: Ray Data's ``map_batches`` over a pool of actors, each holding
one analyzer (a KoNLPy analyzer's JVM started once per actor; kiwi or mecab likewise).

``RayTokenizer(inner)`` is a tokenizer like the one it wraps (the same spec, so fields, vocabs and bundles
record ``inner``), whose ``tokenize_many`` sends the distinct texts not yet in ``inner``'s token cache to
the cluster in blocks and commits each block's results to that cache as it comes back: a killed driver's
rerun analyzes only what was not committed, and ``train`` afterwards analyzes nothing. Ray restarts a
dead actor and retries its block elsewhere (a node lost mid-run included); the driver keeps one result
per distinct text and checks that every text got one. Ray is an optional extra: ``pip install
'nlprnn[ray]'``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from nlprnn.errors import ConfigError, NlprnnError, TokenizerUnavailableError
from nlprnn.tokenizers.base import Tokenizer, TokenizeReport, get_tokenizer
from nlprnn.tokenizers.cache import text_key
from nlprnn.tokenizers.korean import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SHORTENED,
    STATUS_TIMED_OUT,
    record_statuses,
    uncached,
)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise TokenizerUnavailableError("--engine ray needs Ray: pip install 'nlprnn[ray]'") from None
    return ray


@dataclass
class RayRun:
    """What the cluster did in one ``tokenize_many``: rows per node, and the analyzer's hazards."""

    rows: int = 0
    from_cache: int = 0
    analyzed: int = 0
    per_node: Counter[str] = field(default_factory=Counter)
    timed_out: int = 0
    shortened: int = 0
    failed: int = 0
    actors: int = 0
    seconds: float = 0.0


class Analyzer:
    """A Ray actor: one analyzer built from a tokenizer spec, applied to blocks of texts."""

    def __init__(self, spec: dict[str, Any]) -> None:
        options = dict(spec.get("options", {}))
        if spec["name"] in ("kkma", "okt", "komoran"):  # one JVM for this actor; results go to the driver's cache
            options.update(workers=1, cache=False)
        self.tokenizer = get_tokenizer(spec["name"], **options)
        import ray

        self.node = f"{socket.gethostname()}:{ray.get_runtime_context().get_node_id()[:8]}"

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(text) for text in batch["text"]]
        lists, report = self.tokenizer.tokenize_many(texts)
        status = [STATUS_OK] * len(texts)
        for rows, code in ((report.shortened, STATUS_SHORTENED), (report.timed_out, STATUS_TIMED_OUT),
                           (report.failed, STATUS_FAILED)):
            for row in rows:
                status[row] = code
        return {"key": list(batch["key"]), "tokens": [json.dumps(t, ensure_ascii=False) for t in lists],
                "status": status, "node": [self.node] * len(texts)}


def _analyzer_for(spec: dict[str, Any]) -> type[Analyzer]:
    """An Analyzer class that knows its spec (sent with the class, not as constructor arguments in the
    object store, which a restarted actor could not count on)."""

    class SpecAnalyzer(Analyzer):
        def __init__(self) -> None:
            super().__init__(spec)

    # the name `ray status`, the dashboard and Ray's logs show: MapWorker(MapBatches(KiwiAnalyzer))
    SpecAnalyzer.__name__ = SpecAnalyzer.__qualname__ = f"{spec['name'].capitalize()}Analyzer"
    return SpecAnalyzer


class RayTokenizer(Tokenizer):
    """``inner`` run by Ray actors over a large list of texts (a short one runs here, as ``inner`` would).

    ``address``: ``None`` starts Ray on this machine's cores (``ray.init()``), ``"auto"`` or
    ``HOST:PORT`` joins a running cluster as it is. ``actors``: the pool's size (default: the cluster's
    CPUs). ``block_rows``: texts per block sent to an actor.
    """

    name = "ray"
    MIN_ROWS = 200  # below this, starting actors costs more than it saves

    def __init__(self, inner: Tokenizer, address: str | None = None, actors: int | None = None,
                 block_rows: int = 256, progress: bool = True) -> None:
        super().__init__()
        self.inner = inner
        self.address = address
        self.actors = actors
        self.block_rows = block_rows
        self.progress = progress
        self.runs: list[RayRun] = []
        self.current: RayRun | None = None
        self._started_here = False

    def __call__(self, text: str) -> list[str]:
        return self.inner(text)

    def spec(self) -> dict[str, Any]:
        return self.inner.spec()

    def identity(self) -> str:
        return self.inner.identity()

    def tokenize_arrow(self, texts: Any, lower: bool = False) -> Any:
        return None  # through tokenize_many, on the cluster

    def _connect(self) -> Any:
        ray = import_ray()
        if not ray.is_initialized():
            os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
            if self.address is None:
                ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
                self._started_here = True
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        import logging

        context = ray.data.DataContext.get_current()  # this tokenizer's own bar says how far it is
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        for name in [n for n in logging.root.manager.loggerDict if n.startswith("ray.data")] + ["ray.data"]:
            logging.getLogger(name).setLevel(logging.ERROR)
        return ray

    def tokenize_many(self, texts: Sequence[str], progress: bool = False) -> tuple[list[list[str]], TokenizeReport]:
        if len(texts) < self.MIN_ROWS:
            return self.inner.tokenize_many(texts, progress=progress)
        start = time.perf_counter()
        keys = [text_key(text) for text in texts]
        cache = getattr(self.inner, "cache", None)
        known: dict[bytes, tuple[list[str], int]] = cache.get_many(keys) if cache is not None else {}
        todo = uncached(keys, texts, known)
        run = RayRun(rows=len(texts), from_cache=sum(1 for key in keys if key in known))
        self.current = run  # how far the run in progress is (run.analyzed grows as blocks come back)
        if todo:
            self._analyze(todo, known, cache, run, progress or self.progress)
        report = TokenizeReport(rows=len(texts), cached=run.from_cache, computed=len(todo))
        record_statuses(report, (known[key][1] for key in keys))
        run.seconds = report.seconds = time.perf_counter() - start
        self.runs.append(run)
        return [known[key][0] for key in keys], report

    def _analyze(self, todo: dict[bytes, str], known: dict[bytes, tuple[list[str], int]], cache: Any,
                 run: RayRun, progress: bool) -> None:
        """The distinct texts of ``todo`` through the actor pool; each result block committed as it arrives."""
        ray = self._connect()
        size = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        run.actors = size
        items = [{"key": key, "text": text} for key, text in todo.items()]
        results = ray.data.from_items(items, override_num_blocks=max(1, len(items) // self.block_rows)).map_batches(
            _analyzer_for(self.inner.spec()), batch_size=self.block_rows,
            batch_format="numpy", num_cpus=1,
            # Ray Data restarts a dead actor and retries its blocks (max_restarts=-1, max_task_retries=-1);
            # every actor starts at once (each analyzer's start overlaps the others'), and the pool may
            # shrink to one actor while a lost node's CPUs are gone
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=size, initial_size=size))
        bar = tqdm(total=len(todo), unit="row", desc=f"{self.inner.name} on ray", disable=not progress)
        try:
            for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
                fresh = []
                for key, tokens, status, node in zip(batch["key"], batch["tokens"], batch["status"], batch["node"]):
                    key = bytes(key)
                    if key not in todo or key in known:  # a block retried after its first run had answered
                        continue
                    parsed = json.loads(str(tokens))
                    known[key] = (parsed, int(status))
                    fresh.append((key, parsed, int(status)))
                    run.per_node[str(node)] += 1
                    run.timed_out += int(status) == STATUS_TIMED_OUT
                    run.shortened += int(status) == STATUS_SHORTENED
                    run.failed += int(status) == STATUS_FAILED
                if cache is not None and fresh:
                    cache.put_many(fresh)
                run.analyzed += len(fresh)
                bar.update(len(fresh))
        finally:
            bar.close()
        missing = [key for key in todo if key not in known]
        if missing:  # Ray gave up on some block: never a row left out silently
            raise NlprnnError(f"the Ray run returned no tokens for {len(missing)} of {len(todo)} texts; run "
                              "again (what was committed to the token cache is kept)")

    def close(self) -> None:
        """Stop Ray if this tokenizer started it (a cluster it joined is left running)."""
        if self._started_here:
            import_ray().shutdown()
            self._started_here = False
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def with_engine(tokenizer: str | Tokenizer, engine: str, address: str | None = None,
                progress: bool = True, key: str = "address") -> str | Tokenizer:
    """``tokenizer`` as the configured engine runs it: as it is (``"local"``), or by Ray actors
    (``"ray"``; ``address`` as ``RayTokenizer`` takes it). Ray not installed: one line saying how. An
    address with the local engine is refused (``key`` names it): a cluster was meant, and would be unused."""
    if engine == "local":
        if address is not None:
            raise ConfigError(f"config key '{key}' ({address!r}) names a Ray cluster, but the engine is local; "
                              "add --engine ray to tokenize there, or leave the address out", key=key, value=address)
        return tokenizer
    import_ray()  # before any work
    inner = get_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
    return RayTokenizer(inner, address=address, progress=progress)


def ray_summary(tokenizer: Any) -> dict[str, Any] | None:
    """Rows per node and the analyzer's hazards over the Ray runs of a tokenizer (None: not a Ray one)."""
    if not isinstance(tokenizer, RayTokenizer):
        return None
    runs = tokenizer.runs
    per_node: Counter[str] = Counter()
    for one in runs:
        per_node.update(one.per_node)
    return {"analyzed": sum(r.analyzed for r in runs), "from_cache": sum(r.from_cache for r in runs),
            "actors": max((r.actors for r in runs), default=0), "per_node": dict(per_node),
            "seconds": round(sum(r.seconds for r in runs), 2), "timed_out": sum(r.timed_out for r in runs),
            "shortened": sum(r.shortened for r in runs), "failed": sum(r.failed for r in runs)}


def summary_line(ray: dict[str, Any]) -> str:
    """``ray_summary`` as the commands print it."""
    nodes = ", ".join(f"{node} {count}" for node, count in sorted(ray["per_node"].items()))
    return (f"{ray['analyzed']} texts analyzed by {ray['actors']} actors in {ray['seconds']} s "
            f"({ray['from_cache']} already in the token cache); rows per node: {nodes or 'none'}; "
            f"{ray['timed_out']} hit the time bound, {ray['shortened']} shortened, {ray['failed']} analyzer errors")


def release(tokenizers: Any) -> None:
    """Close the Ray tokenizers among ``tokenizers`` (Ray stopped where they started it): training
    needs no cluster once its files are tokenized."""
    for tokenizer in tokenizers:
        if isinstance(tokenizer, RayTokenizer):
            tokenizer.close()


__all__ = ["Analyzer", "RayRun", "RayTokenizer", "import_ray", "ray_summary", "release", "summary_line",
           "with_engine"]
