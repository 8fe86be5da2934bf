"""``classify predict`` over 100,000 rows: rows per second and peak memory, in a fresh process.

    python benchmarks/predict_bench.py [--rows 100000] [--device cpu|cuda] [--tokenizer whitespace]

Trains a small BiLSTM classifier on 20,000 NSMC rows (one epoch; the figure here is speed, not accuracy)
unless ``--bundle`` names one, writes a file of ``--rows`` NSMC rows, and times
``python -m pipelines.classify predict`` on it (reading, tokenizing, batching, the model, writing).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def take_rows(source: Path, rows: int, path: Path) -> None:
    lines = source.read_text(encoding="utf-8").splitlines()
    header, body = lines[0], [line for line in lines[1:] if line.split("\t")[1].strip()]
    with open(path, "w", encoding="utf-8") as out:
        out.write(header + "\n")
        for i in range(rows):
            out.write(body[i % len(body)] + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nsmc", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--bundle")
    parser.add_argument("--tokenizer", default="whitespace")
    parser.add_argument("--device", default=None, help="device for training (predict uses CUDA when visible)")
    parser.add_argument("--workdir", default="/tmp/nlprnn-predict")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    bundle = args.bundle
    if bundle is None:
        train = work / "train.tsv"
        take_rows(Path(args.nsmc), 20_000, train)
        subprocess.run([sys.executable, "-m", "pipelines.classify", "train", "--data", str(train), "--set",
                        "data.text_column=document", "--set", "data.test=none", "--tokenizer", args.tokenizer,
                        "--epochs", "1", "--out", str(work / "run"), "--no-progress"]
                       + (["--set", f"device={args.device}"] if args.device else []),
                       check=True, capture_output=True)
        bundle = str(work / "run" / "bundle")
    data = work / f"predict-{args.rows}.tsv"
    take_rows(Path(args.nsmc), args.rows, data)
    out = work / "predictions.tsv"
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "pipelines.classify", "predict",
                           "--bundle", bundle, "--data", str(data), "--output", str(out), "--no-progress"],
                          check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    written = sum(1 for _ in open(out, encoding="utf-8")) - 1
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    print("| rows | device | tokenizer | seconds (whole command) | rows/s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    print(f"| {written:,} | {device} | {args.tokenizer} | {seconds:.1f} | {written / seconds:,.0f} | {peak_mb:,.0f} |")


if __name__ == "__main__":
    main()
