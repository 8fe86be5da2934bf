"""KMOU Korean NER with a BiLSTM-CRF and character features: the reproduction in the README.

    python benchmarks/reproduce_kmou.py [--epochs 30] [--hidden 200] [--layers 1] [--word-dropout 0.1] ...

Trains on ``../shared/data/ner_ko_kmou/train.conll`` and picks the best epoch on ``dev.conll`` (entity F1,
seqeval strict IOB2). The two training sentences with a broken BIO sequence are repaired (I-X -> B-X)
and counted. Inputs per morpheme, as in the published model: a word embedding trained from scratch
(words seen once map to <unk>, and in training any word does with chance 0.1, so the model leans on the
characters of unknown words), a character BiLSTM, and the POS column embedded. Adam 2e-3, times 0.95 per
epoch after the fifth, 30 epochs.
Published: GloVe BiLSTM-CRF 85.26, with character features 85.93 (dsindex/ntagger, its own split).
"""

from __future__ import annotations

import argparse
import time

from nlprnn.tasks import train
from nlprnn.tasks.tagging import NerConfig, NerDataConfig, NerModelConfig
from nlprnn.training import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="../shared/data/ner_ko_kmou")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--embedding", type=int, default=100)
    parser.add_argument("--char-dim", type=int, default=32)
    parser.add_argument("--char-hidden", type=int, default=50)
    parser.add_argument("--feature-dim", type=int, default=32)
    parser.add_argument("--word-dropout", type=float, default=0.1, help="chance a training word is read as <unk>")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--attention-heads", type=int, default=0, help="self-attention over the BiLSTM outputs")
    parser.add_argument("--min-freq", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr-decay", type=float, default=0.95, help="multiply the rate by this every epoch after 5 (0: a constant rate)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", default="runs/kmou")
    args = parser.parse_args()
    config = NerConfig(
        data=NerDataConfig(train=f"{args.root}/train.conll", valid=f"{args.root}/dev.conll", repair_tags=True,
                           feature_column=1, min_freq=args.min_freq,
                           batch_size=args.batch_size),
        model=NerModelConfig(embedding_dim=args.embedding, hidden_size=args.hidden, num_layers=args.layers,
                             dropout=args.dropout, word_dropout=args.word_dropout,
                             attention_heads=args.attention_heads,
                             crf=True, char_features=True, char_dim=args.char_dim, char_hidden=args.char_hidden,
                             feature_dim=args.feature_dim),
        train=TrainConfig(epochs=args.epochs, lr=args.lr, monitor="f1", seed=args.seed, clip=5.0,
                          schedule="epoch_decay" if args.lr_decay else "constant", lr_decay=args.lr_decay or 0.5,
                          decay_start=5),
        out=args.out,
    )
    start = time.perf_counter()
    result = train(config, progress=args.progress)
    minutes = (time.perf_counter() - start) / 60
    valid = result["valid"]
    print("\n| train / dev sentences | vocab | best epoch | dev P | dev R | dev F1 | minutes |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {result['train_sentences']} / {result['valid_sentences']} | {result['vocab']} | {result['best_epoch']} | "
          f"{100 * valid['precision']:.2f} | {100 * valid['recall']:.2f} | {100 * valid['f1']:.2f} | {minutes:.1f} |")
    for record in result["history"]:
        print(f"epoch {record['epoch']}: loss {record['train_loss']:.4f}, dev F1 {100 * record['f1']:.2f}, "
              f"{record['tokens_per_s']:,.0f} tokens/s, {record['seconds']:.0f} s")
    print(valid["report"])


if __name__ == "__main__":
    main()
