"""Distributed data parallel on this machine: 2 processes (torchrun, gloo) against 1 process.

    python benchmarks/ddp_bench.py [--rows 30000] [--epochs 1]

Trains the NSMC classifier (whitespace tokens, 2-layer BiLSTM 128) on ``--rows`` rows for ``--epochs``
and reads the training speed from ``metrics.jsonl`` (tokens summed over ranks / the slowest rank's
seconds): one process with 1 thread, one process with 2 threads, and two processes with 1 thread each.
The global batch is the same in all runs (``--batch``, 64 = 2 x 32 under torchrun). Every step all-reduces the whole
gradient over loopback (gloo), the embedding's included, so the vocabulary size (``--min-freq``) decides
how much of a step is communication.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nsmc", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--min-freq", type=int, default=2, help="data.min_freq: the vocab size sets the gradient "
                        "that every step all-reduces")
    parser.add_argument("--batch", type=int, default=64, help="global batch (half per rank under torchrun)")
    parser.add_argument("--workdir", default="/tmp/nlprnn-ddp")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    data = work / "train.tsv"
    lines = Path(args.nsmc).read_text(encoding="utf-8").splitlines()[: args.rows + 1]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    common = ["-m", "pipelines.classify", "train", "--data", str(data), "--set", "data.text_column=document",
              "--set", "data.label_column=label", "--set", "data.test=none", "--tokenizer", "whitespace",
              "--on-error", "skip", "--epochs", str(args.epochs), "--set", f"data.min_freq={args.min_freq}",
              "--no-progress"]
    runs = {
        "1 process, 1 thread": (["python"], 1, args.batch),
        "1 process, 2 threads": (["python"], 2, args.batch),
        "2 processes (torchrun, gloo), 1 thread each": (
            ["python", "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
             f"--master_port={free_port()}"], 1, args.batch // 2),
    }
    rows = []
    for name, (launcher, threads, batch) in runs.items():
        out = work / name.split(",")[0].replace(" ", "-")
        command = [sys.executable, *launcher[1:], *common, "--set", f"data.batch_size={batch}", "--out", str(out)]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        subprocess.run(command, env=env, check=True, capture_output=True)
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        speed = sum(r["tokens_per_s"] for r in records) / len(records)
        seconds = sum(r["seconds"] for r in records)
        vocab = json.loads((out / "result.json").read_text())["vocab"]
        rows.append((name, speed, seconds, records[-1]["accuracy"], vocab))
    base = rows[0][1]
    print("| run | vocab | training tokens/s | vs 1 process, 1 thread | training seconds | valid accuracy |")
    print("|---|---|---|---|---|---|")
    for name, speed, seconds, accuracy, vocab in rows:
        print(f"| {name} | {vocab:,} | {speed:,.0f} | {speed / base:.2f}x | {seconds:.1f} | {accuracy:.4f} |")


if __name__ == "__main__":
    main()
