"""Kkma over a whole TSV column with all cores: proves no text hangs the run, and fills the cache.

    python benchmarks/kkma_whole_file.py ../shared/data/nsmc/ratings_train.txt --cache-dir .cache/kkma

Prints rows, distinct texts, seconds, rows/s, the texts whose repeated runs were shortened before the
analyzer, and every text that hit the time bound.
"""

from __future__ import annotations

import argparse
import time

from nlprnn.data.readers import read_tsv
from nlprnn.tokenizers import get_tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--column", default="document")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    table = read_tsv(args.path, on_error="skip").table
    texts = table.column(args.column).to_pylist()
    kkma = get_tokenizer("kkma", timeout=args.timeout, workers=args.workers, cache_dir=args.cache_dir)
    start = time.perf_counter()
    tokens, report = kkma.tokenize_many(texts, progress=True)
    seconds = time.perf_counter() - start
    kkma.close()
    print("| rows | distinct analyzed | from cache | seconds | rows/s | runs shortened | timed out | failed |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(texts)} | {report.computed} | {report.cached} | {seconds:.1f} | "
        f"{len(texts) / seconds:.1f} | {len(report.shortened)} | {len(report.timed_out)} | {len(report.failed)} |"
    )
    for i in report.timed_out:
        print(f"time bound hit: {texts[i]!r} -> {tokens[i]!r}")


if __name__ == "__main__":
    main()
