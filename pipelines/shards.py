"""``python -m pipelines.shards run|status|merge``: Kkma (or another KoNLPy analyzer) over a big file,
split into shards that separate processes or machines run, then merged into one token cache.

    python -m pipelines.shards run --data big.tsv --column document --shards 8 --out shards/   # all, in turn
    python -m pipelines.shards run --data big.tsv --column document --shards 8 --out shards/ --only 3 4
    python -m pipelines.shards status --out shards/
    python -m pipelines.shards merge --out shards/          # into ~/.cache/nlprnn (or $NLPRNN_CACHE)

Shard i holds the rows whose index modulo the shard count is i, read chunk by chunk (memory does not
grow with the file). Each shard writes its own cache file (``OUT/shard-I/``), committed as it goes, and
``OUT/shard-I.done`` when complete. Running again skips finished shards, and a shard that was killed
re-analyzes nothing it had committed. On several machines, give each its ``--only`` shards and copy the
``shard-*`` folders back into one OUT before ``merge``. After the merge, ``preprocess`` and ``train``
over the file read every row from the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from nlprnn.data.readers import iter_tsv_chunks
from nlprnn.errors import ConfigError, NlprnnError
from nlprnn.tokenizers import get_tokenizer
from nlprnn.tokenizers.cache import TokenCache


def _plan(out: Path, data: str | None, column: str | None, shards: int | None, tokenizer: str) -> dict[str, Any]:
    """The run's plan (file, column, shard count, tokenizer), written by the first run and checked after."""
    path = out / "plan.json"
    if data is None:
        if not path.exists():
            raise ConfigError(f"{out}: no plan.json; start with `run --data FILE --column NAME --shards N --out {out}`")
        return json.loads(path.read_text(encoding="utf-8"))
    if not shards or shards < 1 or column is None:
        raise ConfigError("run needs --data, --column and --shards (at least 1)")
    spec = get_tokenizer(tokenizer).spec()
    plan = {"data": str(Path(data).resolve()), "column": column, "shards": shards, "tokenizer": spec}
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != plan:
            raise ConfigError(f"{out} holds shards of another plan ({old}); use another --out, or the same "
                              "--data, --column, --shards and --tokenizer")
    else:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    return plan


def run_shard(plan: dict[str, Any], out: Path, index: int, workers: int | None, progress: bool) -> dict[str, Any]:
    """Tokenize shard ``index`` into ``OUT/shard-index/``; write ``shard-index.done`` at the end."""
    start = time.perf_counter()
    spec = plan["tokenizer"]
    tokenizer = get_tokenizer(spec["name"], **{**spec.get("options", {}), "cache_dir": str(out / f"shard-{index}"),
                                               "workers": workers})
    rows = analyzed = cached = timed_out = failed = shortened = 0
    seen = 0
    for chunk in iter_tsv_chunks(plan["data"], on_error="skip"):
        if plan["column"] not in chunk.column_names:
            raise ConfigError(f"{plan['data']}: no column {plan['column']!r}; the file has {chunk.column_names}")
        texts = chunk.table.column(plan["column"]).to_pylist()
        mine = [t for k, t in enumerate(texts, start=seen) if k % plan["shards"] == index and t.strip()]
        seen += len(texts)
        if not mine:
            continue
        _, report = tokenizer.tokenize_many(mine, progress=progress)
        rows += len(mine)
        analyzed += report.computed
        cached += report.cached
        timed_out += len(report.timed_out)
        shortened += len(report.shortened)
        failed += len(report.failed)
    close = getattr(tokenizer, "close", None)
    if close is not None:
        close()
    done = {"shard": index, "rows": rows, "analyzed_now": analyzed, "from_shard_cache": cached,
            "runs_shortened": shortened, "hit_time_bound": timed_out, "analyzer_errors": failed, "seconds": round(time.perf_counter() - start, 1)}
    (out / f"shard-{index}.done").write_text(json.dumps(done), encoding="utf-8")
    return done


def pending(plan: dict[str, Any], out: Path) -> list[int]:
    return [i for i in range(plan["shards"]) if not (out / f"shard-{i}.done").exists()]


def merge(plan: dict[str, Any], out: Path, cache_dir: str | None) -> tuple[int, Path]:
    """Rows added to the main cache from every finished shard (refused while shards are missing)."""
    missing = pending(plan, out)
    if missing:
        raise ConfigError(f"shards {missing} are not finished; run them (`run --out {out} --only ...`) first")
    spec = plan["tokenizer"]
    identity = get_tokenizer(spec["name"], **spec.get("options", {})).identity()
    target = TokenCache(identity, cache_dir)
    added = 0
    for index in range(plan["shards"]):
        for source in sorted((out / f"shard-{index}").glob(f"tokens-{identity}.sqlite")):
            added += target.merge_from(source)
    target.close()
    return added, target.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.shards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="tokenize shards (all that are not finished, or --only these)")
    run.add_argument("--data")
    run.add_argument("--column")
    run.add_argument("--shards", type=int)
    run.add_argument("--tokenizer", default="kkma")
    run.add_argument("--only", type=int, nargs="+", help="shard numbers to run here (default: every unfinished one)")
    run.add_argument("--workers", type=int, help="analyzer processes per shard (default: one per core)")
    run.add_argument("--no-progress", action="store_true")
    status = sub.add_parser("status", help="which shards are finished")
    combine = sub.add_parser("merge", help="merge finished shards into the token cache")
    combine.add_argument("--cache-dir", help="default: $NLPRNN_CACHE or ~/.cache/nlprnn")
    for command in (run, status, combine):
        command.add_argument("--out", required=True, help="the shards' folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        if args.command == "run":
            plan = _plan(out, args.data, args.column, args.shards, args.tokenizer)
            todo = pending(plan, out)
            for index in args.only or range(plan["shards"]):
                if not 0 <= index < plan["shards"]:
                    raise ConfigError(f"--only {index}: shards are numbered 0 to {plan['shards'] - 1}")
                if index not in todo:
                    print(f"shard {index}: already finished, skipped")
                    continue
                done = run_shard(plan, out, index, args.workers, not args.no_progress)
                print(f"shard {index}: {done['rows']} rows, {done['analyzed_now']} analyzed, "
                      f"{done['from_shard_cache']} already in the shard's cache, {done['hit_time_bound']} hit the "
                      f"time bound, {done['seconds']} s")
        elif args.command == "status":
            plan = _plan(out, None, None, None, "kkma")
            left = pending(plan, out)
            print(f"{plan['shards'] - len(left)} of {plan['shards']} shards finished" +
                  (f"; still to run: {' '.join(map(str, left))}" if left else ""))
        else:
            plan = _plan(out, None, None, None, "kkma")
            added, path = merge(plan, out, args.cache_dir)
            print(f"merged {plan['shards']} shards: {added} rows added to {path}")
    except NlprnnError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
