"""Tutorial code ported from torchtext, timed on both libraries in one go: the README's port figure.

    python benchmarks/port_bench.py [--data ../shared/data/nsmc/ratings_train.txt] [--runs 3]
        [--legacy-python PATH]      # a Python 3.9 with torch 1.10.2 + torchtext 0.11.2 (see below)

The snippet (issue 11): ``Field(tokenize=str.split, lower=True, include_lengths=True, batch_first=True)``,
``LabelField()``, ``TabularDataset(..., fields=[("id", None), ("TEXT", TEXT), ("LABEL", LABEL)],
skip_header=True)``, both vocabs, then one epoch of ``BucketIterator(batch_size=64, sort_key=lambda x:
len(x.TEXT), sort_within_batch=True, shuffle=True, repeat=False, device="cpu")``. Variants: the tokenizer
(``str.split`` or a lambda), and the sort key (``len(x.TEXT)``, ``interleave_keys`` of two lengths (NSMC has one text column, so the text's length twice),
or none: nlprnn's default, which torchtext's BucketIterator does not have).
Three libraries: torchtext 0.11 itself; ``nlprnn.legacy``, the same code with ``torchtext.legacy`` replaced
by ``nlprnn.legacy`` and nothing else (it keeps NSMC's 5 empty documents, with a warning, as torchtext
keeps them silently); and the top-level ``nlprnn`` names, read with ``on_error="skip"``.

Each configuration runs in a fresh process (``--runs`` times, the median reported), after one run that
is not counted (file cache). The legacy side needs its own interpreter, made with:

    python3.9 -m venv legacy39 && legacy39/bin/pip install torch==1.10.2 torchtext==0.11.2 "numpy<2"

and is skipped (with a note) when none is given or found at ``$NLPRNN_LEGACY_PYTHON``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SNIPPET = r'''
import json, sys, time
start = time.perf_counter()
LIBRARY, PATH, TOKENIZE, KEY = sys.argv[1:5]
if LIBRARY == "legacy":
    from torchtext.legacy.data import BucketIterator, Field, LabelField, TabularDataset, interleave_keys
    extra = {}
elif LIBRARY == "nlprnn.legacy":  # the torchtext code with one substitution, nothing else changed
    from nlprnn.legacy.data import BucketIterator, Field, LabelField, TabularDataset, interleave_keys
    extra = {}
else:
    from nlprnn import BucketIterator, Field, LabelField, TabularDataset, interleave_keys
    extra = {"on_error": "skip"}
imported = time.perf_counter()
tokenize = str.split if TOKENIZE == "str.split" else (lambda s: s.split())
TEXT = Field(tokenize=tokenize, lower=True, include_lengths=True, batch_first=True)
LABEL = LabelField()
ds = TabularDataset(PATH, format="tsv", fields=[("id", None), ("TEXT", TEXT), ("LABEL", LABEL)], skip_header=True,
                    **extra)
loaded = time.perf_counter()
TEXT.build_vocab(ds, min_freq=1)
LABEL.build_vocab(ds)
vocab = time.perf_counter()
keys = {"len": lambda x: len(x.TEXT), "interleave": lambda x: interleave_keys(len(x.TEXT), len(x.TEXT)),
        "none": None}
kwargs = {"sort_key": keys[KEY]} if keys[KEY] is not None else {}
it = BucketIterator(ds, batch_size=64, sort_within_batch=True, shuffle=True, repeat=False, device="cpu", **kwargs)
real = total = batches = 0
for b in it:
    text, lengths = b.TEXT
    real += int(lengths.sum()); total += text.numel(); batches += 1
done = time.perf_counter()
print(json.dumps({"import": imported - start, "load": loaded - imported, "vocab": vocab - loaded,
                  "epoch": done - vocab, "total": done - imported, "rows": len(ds), "batches": batches,
                  "padding": 1 - real / total, "vocab_size": len(TEXT.vocab)}))
'''


def run(python: str, library: str, data: str, tokenize: str, key: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([python, "-c", SNIPPET, library, data, tokenize, key], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(python: str, library: str, data: str, tokenize: str, key: str, runs: int) -> dict[str, float]:
    run(python, library, data, tokenize, key)  # not counted: warms the file cache
    results = [run(python, library, data, tokenize, key) for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--legacy-python", default=os.environ.get("NLPRNN_LEGACY_PYTHON"))
    args = parser.parse_args()
    legacy = args.legacy_python if args.legacy_python and Path(args.legacy_python).exists() else None
    configs = [("str.split", "len"), ("lambda", "len"), ("str.split", "interleave"), ("str.split", "none")]
    print("| tokenize | sort_key | library | load s | vocab s | epoch s | total s | padding | vs legacy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tokenize, key in configs:
        # torchtext's BucketIterator needs a sort key: "none" is nlprnn's own default (the text's length)
        reference = median(legacy, "legacy", args.data, tokenize, key, args.runs) if legacy and key != "none" else None
        ours = median(sys.executable, "nlprnn", args.data, tokenize, key, args.runs)
        ported = median(sys.executable, "nlprnn.legacy", args.data, tokenize, key, args.runs) if key != "none" else None
        for name, result in (("torchtext 0.11", reference), ("nlprnn.legacy", ported), ("nlprnn", ours)):
            if result is None:
                continue
            ratio = f"{reference['total'] / result['total']:.1f}x" if reference else "-"
            print(f"| {tokenize} | {key} | {name} | {result['load']:.2f} | {result['vocab']:.2f} | "
                  f"{result['epoch']:.2f} | **{result['total']:.2f}** | {result['padding']:.2%} | {ratio} |")
    if not legacy:
        print("\n(no legacy interpreter: pass --legacy-python or set NLPRNN_LEGACY_PYTHON; see the docstring)")


if __name__ == "__main__":
    main()
