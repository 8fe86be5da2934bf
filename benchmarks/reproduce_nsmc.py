"""NSMC sentiment with a 2-layer BiLSTM classifier: the reproduction in the README.

    python benchmarks/reproduce_nsmc.py --tokenizer kkma [--epochs 4] [--cache-dir DIR]
        [--hidden 128] [--embedding 128] [--dropout 0.3] [--min-freq 2]

Reads ``../shared/data/nsmc/ratings_train.txt`` (150,000 rows), splits off 10% for validation and 10%
for test (stratified, seeded), trains, and prints a table row: tokenizer, rows, vocab, best epoch,
validation and test accuracy, minutes. Published BiLSTM baselines on NSMC: 0.867-0.877.
"""

from __future__ import annotations

import argparse
import os
import time

from nlprnn.tasks import train
from nlprnn.tasks.classification import ClassifyConfig, DataConfig, ModelConfig
from nlprnn.training import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nsmc", default="../shared/data/nsmc/ratings_train.txt")
    parser.add_argument("--tokenizer", default="kkma")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embedding", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--min-freq", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--cache-dir", default=None, help="token cache (default ~/.cache/nlprnn)")
    args = parser.parse_args()
    if args.cache_dir:
        os.environ["NLPRNN_CACHE"] = args.cache_dir
    config = ClassifyConfig(
        data=DataConfig(train=args.nsmc, test=None, text_column="document", label_column="label",
                        tokenizer=args.tokenizer, valid_ratio=0.1, test_ratio=0.1, min_freq=args.min_freq, batch_size=64,
                        on_error="skip"),
        model=ModelConfig(embedding_dim=args.embedding, hidden_size=args.hidden, num_layers=2, bidirectional=True,
                          dropout=args.dropout),
        train=TrainConfig(epochs=args.epochs, lr=2e-3, monitor="accuracy", seed=0),
        out=args.out or f"runs/nsmc-{args.tokenizer}",
    )
    start = time.perf_counter()
    result = train(config, progress=True)
    minutes = (time.perf_counter() - start) / 60
    print("\n| tokenizer | train / valid / test rows | vocab | best epoch | valid acc | test acc | test macro-F1 | minutes |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.tokenizer} | {result['train_rows']} / {result['valid_rows']} / {result['test_rows']} | "
          f"{result['vocab']} | {result['best_epoch']} | {result['valid']['accuracy']:.4f} | "
          f"{result['test']['accuracy']:.4f} | {result['test']['macro_f1']:.4f} | {minutes:.1f} |")
    for record in result["history"]:
        print(f"epoch {record['epoch']}: loss {record['train_loss']:.4f}, valid accuracy {record['accuracy']:.4f}, "
              f"{record['tokens_per_s']:,.0f} tokens/s, {record['seconds']:.0f} s")


if __name__ == "__main__":
    main()
