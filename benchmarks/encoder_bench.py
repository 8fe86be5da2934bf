"""Encoder speed on CPU: forward + backward real tokens/s, printed as a table.

    python benchmarks/encoder_bench.py [--threads 2] [--iterations 5]

Batch 64, embedding 128, hidden 256, 2 layers, bidirectional. Two kinds of batch: lengths drawn
uniformly from 5..60 (what random batching gives), and a bucketed batch (lengths within 3 of each
other, what BucketIterator gives). "Real tokens" excludes padding. The layer-norm LSTM's compile time
is reported apart (first call, and each new batch shape may recompile).
"""

from __future__ import annotations

import argparse
import time

import torch

from nlprnn.models import RNNEncoder


def tokens_per_second(encoder: RNNEncoder, x: torch.Tensor, lengths: torch.Tensor, iterations: int) -> float:
    def step() -> None:
        out, _ = encoder(x, lengths)
        out.sum().backward()

    step()  # warm-up (compiles, allocates)
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    return int(lengths.sum()) * iterations / (time.perf_counter() - start)


def padded_inexact(encoder: RNNEncoder):  # type: ignore[no-untyped-def]
    """nn.LSTM straight on the padded batch: fast, but wrong for the backward direction of short rows."""
    def run(x: torch.Tensor, lengths: torch.Tensor):  # type: ignore[no-untyped-def]
        return encoder.rnn(x)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    batches = {
        "lengths 5..60": torch.randint(5, 61, (64,), generator=g),
        "bucketed (lengths 30..32)": torch.randint(30, 33, (64,), generator=g),
    }
    common = dict(num_layers=2, bidirectional=True)
    rows = []
    for batch_name, lengths in batches.items():
        x = torch.randn(64, int(lengths.max()), 128, requires_grad=True)
        configs = [
            ("nn.LSTM on padded input (inexact backward direction)", RNNEncoder(128, 256, **common), "inexact"),
            ("nn.LSTM packed", RNNEncoder(128, 256, execution="packed", **common), None),
            ("nn.LSTM padded, exact", RNNEncoder(128, 256, execution="padded", **common), None),
            ("nn.LSTM two fused calls per layer, exact", RNNEncoder(128, 256, execution="two_call", **common), None),
            ("nn.LSTM auto (the default)", RNNEncoder(128, 256, **common), None),
            ("nn.GRU padded, exact", RNNEncoder(128, 256, cell="gru", execution="padded", **common), None),
            ("layer-norm LSTM, eager (the CPU default)", RNNEncoder(128, 256, layer_norm=True, compile=False, **common), None),
            ("layer-norm LSTM, torch.compile", RNNEncoder(128, 256, layer_norm=True, compile=True, **common), "compile"),
        ]
        for name, encoder, special in configs:
            compile_seconds = None
            if special == "inexact":
                run = padded_inexact(encoder)
                start = time.perf_counter()
                for _ in range(args.iterations + 1):
                    out, _ = run(x, lengths)
                    out.sum().backward()
                rate = int(lengths.sum()) * (args.iterations + 1) / (time.perf_counter() - start)
            else:
                if special == "compile":
                    start = time.perf_counter()
                    out, _ = encoder(x, lengths)
                    out.sum().backward()
                    compile_seconds = time.perf_counter() - start
                rate = tokens_per_second(encoder, x, lengths, args.iterations)
            rows.append((batch_name, name, rate, compile_seconds))
            print(f"  measured {batch_name} / {name}: {rate:,.0f}", flush=True)
    print(f"\n## Encoder forward+backward, CPU, {args.threads} threads (batch 64, emb 128, hidden 256, 2 layers, bidirectional)\n")
    print("| batch | encoder | real tokens/s | vs nn.LSTM padded | compile s |")
    print("|---|---|---|---|---|")
    for batch_name in batches:
        base = next(r[2] for r in rows if r[0] == batch_name and "inexact" in r[1])
        for b, name, rate, compile_seconds in rows:
            if b == batch_name:
                extra = f"{compile_seconds:.1f}" if compile_seconds is not None else ""
                print(f"| {b} | {name} | {rate:,.0f} | {rate / base:.2f}x | {extra} |")


if __name__ == "__main__":
    main()
