"""The data pipeline on NSMC (150,000 rows): speed, memory and padding, printed as tables.

    python benchmarks/pipeline_bench.py [--nsmc ../shared/data/nsmc/ratings_train.txt] [--kkma-rows 3000]

1. Post-tokenization pipeline, whitespace tokenizer: read + tokenize, build vocab, numericalize, one
   epoch of bucketed batches of 64 with lengths. Each repeat runs in a fresh process, so its peak RSS
   is its own. (Legacy torchtext 0.11 needs about 11 s for this on this machine, as reported in the
   issue; it cannot be installed beside torch 2.x, so it is not re-measured here.)
2. Padding fraction of training batches of 64: bucketed vs random batching.
3. Kkma on ``--kkma-rows`` distinct documents: rows/s with 1 process and with all cores, after each
   process's JIT has warmed up on 1,200 other documents (JVM start-up timed apart), parallel
   efficiency, and a cached second run. ``benchmarks/kkma_whole_file.py`` runs the whole file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

WARMUP_ROWS = 1200

STAGES_CODE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import nlprnn
t_import = time.perf_counter() - t0
rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
path = sys.argv[1]
t = time.perf_counter()
TEXT = nlprnn.Field(tokenize="whitespace", include_lengths=True, batch_first=True)
LABEL = nlprnn.LabelField()
data = nlprnn.TabularDataset(path, "tsv", {"document": ("text", TEXT), "label": ("label", LABEL)},
                             skip_header=True, on_error="skip")
t_load = time.perf_counter() - t
t = time.perf_counter()
TEXT.build_vocab(data)
LABEL.build_vocab(data)
t_vocab = time.perf_counter() - t
t = time.perf_counter()
data.ids("text"); data.ids("label")
t_ids = time.perf_counter() - t
t = time.perf_counter()
real = padded = batches = 0
for batch in nlprnn.BucketIterator(data, batch_size=64, device="cpu"):
    text, lengths = batch.text
    real += int(lengths.sum()); padded += text.numel(); batches += 1
t_epoch = time.perf_counter() - t
print(json.dumps({"import": t_import, "load": t_load, "vocab": t_vocab, "numericalize": t_ids, "epoch": t_epoch,
                  "rows": len(data), "skipped": len(data.skipped), "vocab_size": len(TEXT.vocab), "batches": batches,
                  "padding": 1 - real / padded, "rss_import_mb": rss_import,
                  "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def pipeline_table(path: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", STAGES_CODE, path], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in ("load", "vocab", "numericalize", "epoch")}
    total = statistics.median(r["load"] + r["vocab"] + r["numericalize"] + r["epoch"] for r in runs)
    first = runs[0]
    print(f"\n## Post-tokenization pipeline, NSMC train ({first['rows']} rows kept, {first['skipped']} empty skipped), "
          f"whitespace tokens, median of {repeats} fresh processes\n")
    print("| stage | seconds |")
    print("|---|---|")
    for name in ("load", "vocab", "numericalize", "epoch"):
        print(f"| {name} | {med[name]:.3f} |")
    print(f"| **total** (target < 1 s; legacy torchtext ~11 s) | **{total:.3f}** |")
    print(f"\nvocab {first['vocab_size']} tokens, {first['batches']} batches; peak RSS "
          f"{statistics.median(r['rss_peak_mb'] for r in runs):.0f} MB "
          f"(of which {statistics.median(r['rss_import_mb'] for r in runs):.0f} MB after `import nlprnn`)")
    return {"total": total, **med}


def padding_table(path: str) -> None:
    import numpy as np

    import nlprnn
    from nlprnn.data.batching import BucketSampler

    TEXT = nlprnn.Field(tokenize="whitespace")
    data = nlprnn.TabularDataset(path, "tsv", {"document": ("text", TEXT)}, skip_header=True, on_error="skip")
    lengths = data.lengths("text")
    print("\n## Padding fraction, training batches of 64 (whitespace tokens)\n")
    print("| batching | padding |")
    print("|---|---|")
    for name, sampler in [("random", BucketSampler(lengths, 64, bucket=False)),
                          ("bucketed, pools of 100 batches (default)", BucketSampler(lengths, 64)),
                          ("bucketed by token budget 2,048", BucketSampler(lengths, 64, max_tokens=2048))]:
        batches = sampler.batches()
        real = sum(int(lengths[b].sum()) for b in batches)
        total = sum(int(lengths[b].max()) * len(b) for b in batches)
        print(f"| {name} | {1 - real / total:.2%} |")
    del np


def kkma_table(path: str, rows: int) -> None:
    import nlprnn
    from nlprnn.data.readers import read_tsv
    from nlprnn.parallel import cpu_count

    distinct = list(dict.fromkeys(t for t in read_tsv(path).table.column("document").to_pylist() if t.strip()))
    warmup, texts = distinct[:WARMUP_ROWS], distinct[WARMUP_ROWS:WARMUP_ROWS + rows]
    cores = cpu_count()
    results = {}
    for workers in (1, cores):
        tokenizer = nlprnn.get_tokenizer("kkma", workers=workers, cache=False)
        tokenizer.ROWS_PER_WORKER = 1
        start = time.perf_counter()
        tokenizer.tokenize_many(warmup[: 2 * workers])
        startup = time.perf_counter() - start
        tokenizer.tokenize_many(warmup)  # the JIT compiles Kkma's hot code during the first ~1,000 texts
        start = time.perf_counter()
        _, report = tokenizer.tokenize_many(texts)
        seconds = time.perf_counter() - start
        tokenizer.close()
        results[workers] = (len(texts) / seconds, startup, len(report.timed_out))
    with tempfile.TemporaryDirectory() as cache_dir:
        tokenizer = nlprnn.get_tokenizer("kkma", workers=cores, cache_dir=cache_dir)
        start = time.perf_counter()
        first_tokens, _ = tokenizer.tokenize_many(texts)
        cold = time.perf_counter() - start
        tokenizer.close()
        again = nlprnn.get_tokenizer("kkma", workers=cores, cache_dir=cache_dir)
        start = time.perf_counter()
        second_tokens, report = again.tokenize_many(texts)
        warm = time.perf_counter() - start
        assert report.computed == 0 and second_tokens == first_tokens
    print(f"\n## Kkma, {len(texts)} distinct NSMC documents (after {len(warmup)} more to warm the JIT), "
          "time bound 10 s per text\n")
    print("| processes | rows/s (warm JIT) | JVM start s | hit time bound |")
    print("|---|---|---|---|")
    for workers, (rate, startup, bound) in results.items():
        print(f"| {workers} | {rate:.1f} | {startup:.1f} | {bound} |")
    efficiency = results[cores][0] / (cores * results[1][0])
    print(f"\nparallel efficiency on {cores} cores: {efficiency:.2f} (target >= 0.8)")
    print(f"cached second run: {warm:.3f} s vs {cold:.1f} s first run incl. JVM start = {cold / warm:.0f}x "
          f"(target >= 50x); vs warm tokenizing alone {len(texts) / results[cores][0] / warm:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nsmc", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kkma-rows", type=int, default=3000, help="0 skips the Kkma table")
    args = parser.parse_args()
    if not os.path.exists(args.nsmc):
        sys.exit(f"{args.nsmc} not found: pass --nsmc PATH to NSMC's ratings_train.txt")
    pipeline_table(args.nsmc, args.repeats)
    padding_table(args.nsmc)
    if args.kkma_rows:
        kkma_table(args.nsmc, args.kkma_rows)


if __name__ == "__main__":
    main()
