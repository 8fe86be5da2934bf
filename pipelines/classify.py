"""``python -m pipelines.classify train|evaluate|predict``: text classification from TSV/CSV/JSONL.

    python -m pipelines.classify train                       # data/sentiment with Kkma, into runs/classify
    python -m pipelines.classify train --config pipelines/configs/classify.toml --set model.hidden_size=256
    python -m pipelines.classify train --resume              # continue runs/classify from its last.pt
    python -m pipelines.classify evaluate --data data/sentiment/test.tsv
    python -m pipelines.classify predict --data new.tsv --output predictions.tsv
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nlprnn.errors import NlprnnError
from nlprnn.tasks import classification as task
from pipelines.config import build_config, parse_sets


def print_metrics(name: str, metrics: dict[str, Any]) -> None:
    print(f"{name:<6} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}")
    labels = metrics["labels"]
    width = max(6, *(len(label) for label in labels))
    print(f"       confusion (rows gold, columns predicted): {' '.join(f'{label:>{width}}' for label in labels)}")
    for label, row in zip(labels, metrics["confusion"]):
        print(f"       {label:>{width}} {' '.join(f'{n:>{width}}' for n in row)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.classify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train, keep the best epoch as RUN/bundle, report test metrics")
    train.add_argument("--config", help="TOML file (see pipelines/configs/classify.toml)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. model.hidden_size=256")
    train.add_argument("--data", help="training file (data.train)")
    train.add_argument("--tokenizer", help="data.tokenizer: kkma, okt, komoran, kiwi, whitespace, char")
    train.add_argument("--epochs", type=int, help="train.epochs")
    train.add_argument("--out", help="run directory")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--dry-run", action="store_true", help="one epoch on 64 rows with a tiny model")
    for name in ("evaluate", "predict"):
        command = sub.add_parser(name, help=f"{name} with a trained bundle")
        command.add_argument("--bundle", default="runs/classify/bundle")
        command.add_argument("--data", required=name == "predict", default="data/sentiment/test.tsv")
        if name == "predict":
            command.add_argument("--output", help="TSV to write (default: stdout)")
    for command in sub.choices.values():
        command.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    progress = not args.no_progress
    try:
        if args.command == "train":
            overrides: dict[str, Any] = parse_sets(args.set)
            named = {"data.train": args.data, "data.tokenizer": args.tokenizer, "train.epochs": args.epochs,
                     "out": args.out}
            overrides.update({k: v for k, v in named.items() if v is not None})
            if args.dry_run:
                overrides.update({"train.epochs": 1, "model.hidden_size": 16, "model.embedding_dim": 16,
                                  "model.num_layers": 1})
            config = build_config(task.ClassifyConfig, args.config, overrides)
            result = task.train(config, progress=progress, resume=args.resume)
            for record in result["history"]:
                print(f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid accuracy "
                      f"{record['accuracy']:.4f}  macro-F1 {record['macro_f1']:.4f}  {record['tokens_per_s']:,.0f} tok/s"
                      f"{'  *' if record.get('best') else ''}")
            print(f"rows: train {result['train_rows']}, valid {result['valid_rows']}"
                  + (f", test {result['test_rows']}" if "test_rows" in result else "")
                  + f"; vocab {result['vocab']}; best epoch {result['best_epoch']}")
            print_metrics("valid", result["valid"])
            if "test" in result:
                print_metrics("test", result["test"])
            print(f"bundle: {config.out}/bundle  metrics: {config.out}/metrics.jsonl  curves: {config.out}/curves.png")
        elif args.command == "evaluate":
            metrics = task.evaluate(args.bundle, args.data, progress=progress)
            print(f"rows   {metrics['rows']}")
            print_metrics(args.data, metrics)
        else:
            rows = task.predict(args.bundle, args.data, args.output, progress=progress)
            if args.output:
                print(f"{rows} predictions written to {args.output}", file=sys.stderr)
    except NlprnnError as error:
        message = str(error).replace("pass on_error='skip'", "pass --set data.on_error=skip")
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
