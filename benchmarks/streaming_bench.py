"""Streaming preprocessing at corpus scale: peak memory must not grow with the row count.

    python benchmarks/streaming_bench.py [--rows 200000 2000000] [--workdir /tmp/nlprnn-stream]

Builds TSVs of the given sizes by repeating NSMC's rows with fresh ids, then runs
``python -m pipelines.preprocess --stream`` (whitespace tokens) on each in a fresh process and prints
rows, seconds, rows/s and peak RSS; and, for the smallest file, the in-memory path for comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def make_file(source: Path, rows: int, path: Path) -> None:
    """``rows`` data rows: NSMC's rows over and over, each with a fresh id."""
    if path.exists():
        return
    lines = source.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], [line.split("\t", 1)[1] for line in lines[1:]]
    with open(path, "w", encoding="utf-8") as out:
        out.write(header + "\n")
        for i in range(rows):
            out.write(f"{i + 1}\t{body[i % len(body)]}\n")


def run(path: Path, out: Path, stream: bool) -> dict:
    command = [sys.executable, "-m", "pipelines.preprocess", "--data", str(path), "--set", "text_column=document",
               "--tokenizer", "whitespace", "--on-error", "skip", "--out", str(out), "--no-progress"]
    if stream:
        command.append("--stream")
    command = ["/usr/bin/time", "-f", "%M", *command]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return {"rows": summary["rows"], "seconds": seconds, "peak_mb": peak_kb / 1024, "vocab": summary["text_vocab"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nsmc", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--workdir", default="/tmp/nlprnn-stream")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    rows_list = sorted(args.rows)
    results = []
    for rows in rows_list:
        path = work / f"nsmc-{rows}.tsv"
        make_file(Path(args.nsmc), rows, path)
        results.append(("streamed (--stream)", rows, run(path, work / f"out-{rows}", stream=True)))
    smallest = work / f"nsmc-{rows_list[0]}.tsv"
    results.append(("in memory", rows_list[0], run(smallest, work / "out-memory", stream=False)))
    print("| path | rows in file | rows kept | vocab | seconds | rows/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for name, rows, r in results:
        print(f"| {name} | {rows:,} | {r['rows']:,} | {r['vocab']:,} | {r['seconds']:.1f} | "
              f"{r['rows'] / r['seconds']:,.0f} | {r['peak_mb']:,.0f} |")


if __name__ == "__main__":
    main()
