"""NER on raw Korean text: the 2016 Korean NER corpus, scored over characters from raw sentences.

    python benchmarks/reproduce_ner2016.py [--epochs 30] [--analyzers kiwi,mecab,kkma] [--no-word-start]
    python benchmarks/reproduce_ner2016.py --bundle runs/ner2016/bundle --kmou-bundle runs/kmou/bundle
    python benchmarks/reproduce_ner2016.py --bundle runs/ner2016/bundle --analyzers kiwi,file

Trains a BiLSTM-CRF on ``train.txt``'s gold morphemes (word embedding, character BiLSTM, POS and the
word-start flag from the eojeol numbers), picks the best epoch on ``dev.txt`` (morpheme-level entity
F1; with ``--units characters`` a tagger of characters, each read with its morpheme's form and POS,
its best epoch picked on the characters of dev's raw sentences through ``--analyzer``), then scores
the same model on the 366 development sentences two ways: from the file's own morphemes
(morpheme-level F1), and from the raw ``; `` sentences through each analyzer (character-level
F1: an entity counts when its span and type are right, against the ``$`` markup). With ``--kmou-bundle``
it also scores a model trained on the KMOU corpus on these sentences, its types mapped
(PER->PS, LOC->LC, ORG->OG, DAT->DT, TIM->TI, the others dropped). The analyzer ``file`` stands for one
that segments exactly as the corpus does: the file's own morphemes aligned to the raw sentences, which
tells the cost of the analyzer from that of scoring characters. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from nlprnn.data.entity_files import read_klp2016
from nlprnn.tasks import ner_text, runner, train
from nlprnn.tasks.tagging import NerConfig, NerDataConfig, NerModelConfig
from nlprnn.tokenizers.offsets import Morpheme
from nlprnn.training import TrainConfig

KMOU_TYPES = "PER=PS,LOC=LC,ORG=OG,DAT=DT,TIM=TI"


def file_morphemes(path: str) -> Callable[..., list[list[Morpheme]]]:
    """In place of ``morphemes_with_offsets``: the 2016-corpus file's own morphemes of each raw sentence,
    aligned to it (restored lemmas inexact, as an analyzer's)."""
    read, sentences = read_klp2016(path, repair_tags=True)
    by_text = dict(zip(sentences.texts, ner_text.file_morphemes(read, sentences)))
    return lambda analyzer, texts, progress=False: [by_text[text] for text in texts]


def row(name: str, analyzer: str, metrics: dict[str, Any], seconds: float) -> str:
    """A table row: character-level P/R/F1, the gold-morpheme F1 of the same model and the gap."""
    morph = metrics.get("morpheme_level")
    gold = f"{100 * morph['f1']:.2f}" if morph else "-"
    gap = f"{100 * (metrics['f1'] - morph['f1']):+.2f}" if morph else "-"
    return (f"| {name} | {analyzer} | {100 * metrics['precision']:.2f} | {100 * metrics['recall']:.2f} | "
            f"**{100 * metrics['f1']:.2f}** | {gold} | {gap} | {metrics['inexact']:,} | {seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="../shared/data/ner_ko_2016klp")
    parser.add_argument("--bundle", help="score this trained bundle instead of training one")
    parser.add_argument("--kmou-bundle", help="also score this KMOU-trained bundle, types mapped")
    parser.add_argument("--analyzers", default="kiwi,mecab,kkma")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--word-dropout", type=float, default=0.1)
    parser.add_argument("--min-freq", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--no-word-start", action="store_true", help="leave the eojeol word-start flag out")
    parser.add_argument("--train-on", default="file", choices=["file", "analyzer", "both"],
                        help="train on the file's morphemes, the analyzer's (entities projected), or both")
    parser.add_argument("--analyzer", default="kiwi", help="the analyzer of --train-on analyzer/both")
    parser.add_argument("--no-pos", action="store_true", help="leave the POS feature out")
    parser.add_argument("--units", default="morphemes", choices=["morphemes", "characters"],
                        help="tag the morphemes, or each character with its morpheme as features (best epoch "
                             "then picked on dev's characters through --analyzer)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/ner2016")
    args = parser.parse_args()
    dev = f"{args.root}/dev.txt"
    bundle = args.bundle
    if bundle is None:
        config = NerConfig(
            data=NerDataConfig(train=f"{args.root}/train.txt", valid=dev, format="klp2016", min_freq=args.min_freq,
                               feature_column=None if args.no_pos else 1,
                               word_start_column=None if args.no_word_start else 2,
                               train_on=args.train_on, analyzer=args.analyzer, units=args.units),
            model=NerModelConfig(hidden_size=args.hidden, dropout=args.dropout, word_dropout=args.word_dropout,
                                 char_hidden=50),
            train=TrainConfig(epochs=args.epochs, lr=args.lr, monitor="f1", seed=args.seed, clip=5.0,
                              schedule="epoch_decay", lr_decay=0.95, decay_start=5),
            out=args.out)
        start = time.perf_counter()
        result = train(config, progress=False)
        level = "morpheme-level" if args.units == "morphemes" else f"character-level ({args.analyzer})"
        print(f"trained in {(time.perf_counter() - start) / 60:.1f} minutes; best epoch {result['best_epoch']} "
              f"of {args.epochs}; dev {level} F1 {100 * result['valid']['f1']:.2f}")
        bundle = f"{args.out}/bundle"
    print("\n| model | analyzer | dev P (chars) | dev R (chars) | dev F1 (chars) | dev F1 (gold morphemes) | "
          "chars - morphemes | inexact morphemes | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    runs = [("2016 train", bundle, None)] + ([("KMOU train, types mapped", args.kmou_bundle, KMOU_TYPES)]
                                              if args.kmou_bundle else [])
    reports = []
    for name, path, types in runs:
        for analyzer in args.analyzers.split(","):
            loaded = runner.load(path, "ner")
            start = time.perf_counter()
            oracle = (mock.patch.object(ner_text, "morphemes_with_offsets", file_morphemes(dev)) if analyzer == "file"
                      else contextlib.nullcontext())
            with oracle:
                metrics = runner.evaluate(loaded, dev, progress=False, data={
                    "format": "text", "analyzer": "kiwi" if analyzer == "file" else analyzer, "map_types": types})
            print(row(name, analyzer, metrics, time.perf_counter() - start), flush=True)
            reports.append((name, analyzer, metrics["report"]))
    for name, analyzer, report in reports:
        print(f"\n{name}, {analyzer}, character level:\n{report}")


if __name__ == "__main__":
    main()
