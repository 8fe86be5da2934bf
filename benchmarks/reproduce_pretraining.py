"""Language-model pretraining, then fine-tuning: NSMC, KMOU and the 2016 corpus with and without it.

    python benchmarks/reproduce_pretraining.py lm --corpus kmou --direction forward --out runs/lm-kmou-fwd
        [--adaptive-cutoffs 2000,6000]     # an adaptive softmax instead of the full one
    python benchmarks/reproduce_pretraining.py kmou --pretrained runs/lm-kmou-fwd/bundle,runs/lm-kmou-bwd/bundle
    python benchmarks/reproduce_pretraining.py lm --corpus nsmc --direction forward --epochs 4 --max-vocab 0 \
        --adaptive-cutoffs 2000,8000 --out runs/lm-nsmc-fwd        # then --direction backward
        [--epochs 8 --resume]              # the same LM trained on from its last epoch
    python benchmarks/reproduce_pretraining.py nsmc --pretrained runs/lm-nsmc-fwd/bundle,runs/lm-nsmc-bwd/bundle
        [--freeze none] [--random-init]    # the ablation: the same encoder, its weights re-drawn
        [--pretrained-as inputs --freeze frozen]   # TagLM: the LMs' states as inputs of the 2x128 BiLSTM
        [--seed 1]                         # another training seed, the same split

``lm`` trains a word-level language model (forward or backward) on unlabeled text that is fair to use:
the training part's own texts only, never a validation or test part. ``--corpus nsmc`` is the 80% training
part of the NSMC split the classifier uses (its texts written to a file first, Kkma morphemes);
``kmou`` the morphemes of KMOU ``train.conll``; ``klp2016`` those of the 2016 corpus's ``train.txt``.

``nsmc``, ``kmou`` and ``klp2016`` then train the task's model as the from-scratch reproductions do
(``reproduce_nsmc.py``, ``reproduce_kmou.py``, ``reproduce_ner2016.py``), with ``--pretrained`` (empty:
from scratch) and the ULMFiT switches, and print a table row.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from nlprnn.data.readers import read_tsv
from nlprnn.tasks import pretraining, train
from nlprnn.tasks.classification import ClassifyConfig, ClassifyTask, DataConfig, ModelConfig
from nlprnn.tasks.language_model import LMConfig, LMDataConfig, LMModelConfig
from nlprnn.tasks.tagging import NerConfig, NerDataConfig, NerModelConfig
from nlprnn.training import TrainConfig

NSMC = "../shared/data/nsmc/ratings_train.txt"
KMOU = "../shared/data/ner_ko_kmou"
KLP = "../shared/data/ner_ko_2016klp"


def nsmc_config(args: argparse.Namespace) -> ClassifyConfig:
    """reproduce_nsmc.py's split and model (Kkma, 80/10/10 stratified, seed 0)."""
    return ClassifyConfig(
        data=DataConfig(train=NSMC, test=None, text_column="document", label_column="label", tokenizer="kkma",
                        valid_ratio=0.1, test_ratio=0.1, min_freq=2, batch_size=64, on_error="skip"),
        model=ModelConfig(embedding_dim=128, hidden_size=128, num_layers=2, bidirectional=True, dropout=args.dropout,
                          pretrained=args.pretrained or None, pretrained_as=args.pretrained_as, freeze=args.freeze,
                          layer_lr_decay=args.layer_lr_decay),
        train=TrainConfig(epochs=args.epochs, lr=args.lr, monitor="accuracy", seed=args.seed, schedule=args.schedule),
        out=args.out)


def nsmc_training_texts(path: Path) -> str:
    """The texts of the NSMC training part (split exactly as the classifier splits it: the same config,
    Kkma tokens from the cache), one TSV row each, as written in the file, without labels."""
    config = nsmc_config(argparse.Namespace(dropout=0.3, pretrained="", pretrained_as="encoder", freeze="gradual",
                                            layer_lr_decay=2.6, epochs=1, lr=1e-3, schedule="constant", seed=0,
                                            out="unused"))
    task = ClassifyTask(config)
    splits = task.splits(task.fields(), progress=False)
    documents = read_tsv(NSMC)
    by_line = dict(zip(documents.lines.tolist(), documents.table.column("document").to_pylist()))
    texts = [by_line[int(line)] for line in splits.train.lines]
    path.write_text("text\n" + "\n".join(texts) + "\n", encoding="utf-8")
    print(f"{len(texts):,} training texts of {len(by_line):,} rows written to {path}")
    return str(path)


def lm(args: argparse.Namespace) -> None:
    if args.corpus == "nsmc":
        data = LMDataConfig(train=nsmc_training_texts(Path(args.out + ".train.tsv")), format="tsv", tokenizer="kkma")
    elif args.corpus == "kmou":
        data = LMDataConfig(train=f"{KMOU}/train.conll", format="conll")
    else:
        data = LMDataConfig(train=f"{KLP}/train.txt", format="klp2016")
    data.level, data.direction, data.min_freq = "word", args.direction, args.min_freq
    data.max_vocab = args.max_vocab or None
    data.batch_size, data.bptt_len, data.valid_fraction = 32, 35, 0.05
    config = LMConfig(data=data, model=LMModelConfig(embedding_dim=args.embedding, hidden_size=args.hidden,
                                                     num_layers=args.layers, dropout=args.dropout,
                                                     adaptive_cutoffs=args.adaptive_cutoffs),
                      train=TrainConfig(epochs=args.epochs, optimizer="adam", lr=args.lr, clip=0.25, monitor="loss",
                                        mode="min", seed=0),
                      out=args.out)
    start = time.perf_counter()
    result = train(config, progress=False, resume=args.resume)
    speed = statistics.median(record["tokens_per_s"] for record in result["history"])
    print(f"| {args.corpus} | {args.direction} | {args.adaptive_cutoffs or 'full'} | {result['train_tokens']:,} | "
          f"{result['vocab']:,} | {result['best_epoch']} | {result['valid']['perplexity']:.1f} | {speed:,.0f} | "
          f"{(time.perf_counter() - start) / 60:.1f} |")


def task_row(name: str, args: argparse.Namespace, result: dict[str, Any], minutes: float, metric: str) -> None:
    parts = [f"{100 * result[p][metric]:.2f}" for p in ("valid", "test") if p in result]
    source = (args.pretrained + (" (weights re-drawn)" if getattr(args, "random_init", False) else "")
              + (" as inputs (TagLM)" if getattr(args, "pretrained_as", "") == "inputs" else "")) or "none (from scratch)"
    print(f"| {name} | {source} | {args.freeze} | {args.layer_lr_decay} | "
          f"{args.schedule} | {result['best_epoch']} | {' | '.join(parts)} | {minutes:.1f} |")
    for record in result["history"]:
        print(f"epoch {record['epoch']}: loss {record['train_loss']:.4f}, valid {metric} {100 * record[metric]:.2f}, "
              f"{record['seconds']:.0f} s")


def nsmc(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    result = train(nsmc_config(args), progress=False)
    task_row("NSMC (Kkma), valid / test accuracy", args, result, (time.perf_counter() - start) / 60, "accuracy")


def tagger(args: argparse.Namespace, data: NerDataConfig, name: str) -> None:
    config = NerConfig(
        data=data,
        model=NerModelConfig(embedding_dim=100, hidden_size=200, dropout=0.5, word_dropout=0.1, crf=True,
                             char_features=True, char_dim=32, char_hidden=50, feature_dim=32,
                             pretrained=args.pretrained or None, freeze=args.freeze, layer_lr_decay=args.layer_lr_decay),
        train=TrainConfig(epochs=args.epochs, lr=args.lr, monitor="f1", seed=0, clip=5.0, schedule=args.schedule,
                          lr_decay=0.95, decay_start=5),
        out=args.out)
    start = time.perf_counter()
    result = train(config, progress=False)
    task_row(name, args, result, (time.perf_counter() - start) / 60, "f1")
    print(result["valid"]["report"])


def redraw_language_model_weights() -> None:
    """Make ``model.pretrained`` build the LMs' encoder with fresh weights (PyTorch's default initialisation)."""
    load = pretraining.load_encoder

    def fresh(spec: str, field: Any, state: dict[str, Any]) -> Any:
        encoder = load(spec, field, state)
        for module in encoder.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        return encoder

    pretraining.load_encoder = fresh  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lm")
    p.add_argument("--corpus", choices=["nsmc", "kmou", "klp2016"], required=True)
    p.add_argument("--direction", choices=["forward", "backward"], default="forward")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--embedding", type=int, default=100)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--min-freq", type=int, default=2)
    p.add_argument("--max-vocab", type=int, default=10000, help="the softmax over the vocabulary is most of an "
                   "LM's time on a CPU (17,500 words ran at 1,500 tokens/s on one thread with the full softmax); "
                   "0: no cap, as the classifier's own vocab (min_freq only)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--adaptive-cutoffs", default="", help="e.g. 2000,6000: an adaptive softmax (model.adaptive_cutoffs)")
    p.add_argument("--resume", action="store_true", help="continue --out from its last.pt up to --epochs (the same "
                   "other arguments as the run it continues)")
    p.add_argument("--out", required=True)
    for name in ("nsmc", "kmou", "klp2016"):
        p = sub.add_parser(name)
        p.add_argument("--pretrained", default="", help="FWD/bundle[,BWD/bundle]; empty: from scratch")
        p.add_argument("--freeze", choices=["gradual", "none", "frozen"], default="gradual")
        p.add_argument("--layer-lr-decay", type=float, default=2.6)
        p.add_argument("--schedule", default="slanted_triangular" if name == "nsmc" else "epoch_decay",
                       choices=["constant", "epoch_decay", "slanted_triangular"])
        p.add_argument("--epochs", type=int, default=4 if name == "nsmc" else 30)
        p.add_argument("--lr", type=float, default=2e-3)
        p.add_argument("--dropout", type=float, default=0.3)
        if name == "nsmc":
            p.add_argument("--seed", type=int, default=0, help="the training seed (weights, batch order); the "
                           "split stays reproduce_nsmc.py's")
            p.add_argument("--pretrained-as", choices=["encoder", "inputs"], default="encoder",
                           help="encoder: ULMFiT's classifier on the LMs' layers; inputs: TagLM, the LMs' states "
                           "beside the embedding as inputs of the from-scratch 2x128 BiLSTM")
        p.add_argument("--random-init", action="store_true", help="ablation: the same encoder (the LMs' shapes "
                       "and vocab) with its weights re-drawn, to tell the LMs' weights from the architecture")
        p.add_argument("--out", required=True)
    args = parser.parse_args()
    if getattr(args, "random_init", False):
        redraw_language_model_weights()
    if args.command == "lm":
        lm(args)
    elif args.command == "nsmc":
        nsmc(args)
    elif args.command == "kmou":
        tagger(args, NerDataConfig(train=f"{KMOU}/train.conll", valid=f"{KMOU}/dev.conll", repair_tags=True,
                                   feature_column=1, min_freq=2, batch_size=32), "KMOU dev F1")
    else:
        tagger(args, NerDataConfig(train=f"{KLP}/train.txt", valid=f"{KLP}/dev.txt", format="klp2016",
                                   feature_column=1, word_start_column=2, min_freq=2, units="morphemes"), "2016 corpus dev F1")


if __name__ == "__main__":
    main()
