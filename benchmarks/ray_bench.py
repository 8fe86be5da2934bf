"""Corpus tokenizing: today's local path against Ray on one node and on two nodes of this machine.

    python benchmarks/ray_bench.py [--data ../shared/data/nsmc/ratings_train.txt] [--rows 20000]
        [--tokenizers kiwi,kkma] [--kkma-rows N]

For each tokenizer, the first ``--rows`` distinct reviews of NSMC's train file, analyzed with nothing in
any token cache: (1) locally, as ``preprocess`` does without ``--engine`` (Kkma: one JVM process per core;
kiwi: in this process); (2) ``--engine ray`` with Ray started here (``ray.init()``, one actor per core);
(3) a head and a second node started with ``ray start`` on this machine, one CPU each (the same cores: this
measures the engine's overhead, not scaling). Printed as a table: seconds, rows/s, and each Ray row against
the local one. Needs ``pip install 'nlprnn[ray]'`` (and Java for Kkma).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nlprnn.parallel import cpu_count
from nlprnn.tokenizers import get_tokenizer
from nlprnn.tokenizers.ray_engine import RayTokenizer, import_ray


def reviews(path: str, rows: int) -> list[str]:
    seen: dict[str, None] = {}
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[1].strip():
                seen.setdefault(parts[1], None)
                if len(seen) == rows:
                    break
    return list(seen)


def fresh(name: str, cache_dir: str) -> object:
    """The tokenizer with an empty cache of its own (KoNLPy analyzers), so every row is analyzed."""
    return get_tokenizer(name, cache_dir=cache_dir) if name in ("kkma", "okt", "komoran") else get_tokenizer(name)


def timed(tokenizer: object, texts: list[str]) -> tuple[float, list[list[str]]]:
    start = time.perf_counter()
    lists, _ = tokenizer.tokenize_many(texts)  # type: ignore[attr-defined]
    return time.perf_counter() - start, lists


def two_nodes(ray_cli: str, env: dict[str, str]) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run([ray_cli, "start", "--head", "--port", str(port), "--include-dashboard", "false", *common],
                   check=True, env=env, capture_output=True)
    subprocess.run([ray_cli, "start", "--address", f"127.0.0.1:{port}", *common], check=True, env=env,
                   capture_output=True)
    return f"127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--kkma-rows", type=int, help="rows for Kkma (default --rows; it runs ~40 rows/s here)")
    parser.add_argument("--tokenizers", default="kiwi,kkma")
    args = parser.parse_args()
    ray = import_ray()
    os.environ["RAY_AUTH_MODE"] = "disabled"  # loopback only
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    ray_cli = str(Path(sys.executable).parent / "ray")
    print(f"{cpu_count()} cores; {args.data}\n")
    print("| tokenizer | engine | rows | seconds | rows/s | vs local | same tokens |")
    print("|---|---|---|---|---|---|---|")
    for name in args.tokenizers.split(","):
        texts = reviews(args.data, args.kkma_rows or args.rows if name == "kkma" else args.rows)
        with tempfile.TemporaryDirectory() as cache:
            local_s, expected = timed(fresh(name, f"{cache}/local"), texts)
        print(f"| {name} | local | {len(texts):,} | {local_s:.1f} | {len(texts) / local_s:,.1f} | 1.00x | - |", flush=True)
        for engine in ("ray, one node", "ray, two nodes"):
            address = None if engine == "ray, one node" else two_nodes(ray_cli, env)
            try:
                with tempfile.TemporaryDirectory() as cache:
                    runner = RayTokenizer(fresh(name, cache), address=address, progress=False)  # type: ignore[arg-type]
                    seconds, lists = timed(runner, texts)
                    nodes = len(runner.runs[-1].per_node)
                    runner.close()
                    if ray.is_initialized():
                        ray.shutdown()
            finally:
                if address is not None:
                    subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True)
            print(f"| {name} | {engine} ({nodes} node{'s' if nodes > 1 else ''} did work) | {len(texts):,} | "
                  f"{seconds:.1f} | {len(texts) / seconds:,.1f} | {local_s / seconds:.2f}x | {lists == expected} |",
                  flush=True)


if __name__ == "__main__":
    main()
