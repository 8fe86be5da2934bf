"""``python -m pipelines.classify train|evaluate|predict``: text classification from TSV/CSV/JSONL.

    python -m pipelines.classify train                       # data/sentiment with Kkma, into runs/classify
    python -m pipelines.classify train --config pipelines/configs/classify.toml --set model.hidden_size=256
    python -m pipelines.classify train --resume              # continue runs/classify from its last.pt
    python -m pipelines.classify evaluate --data data/sentiment/test.tsv
    python -m pipelines.classify predict --data new.tsv --output predictions.tsv
"""

from __future__ import annotations

import sys
from typing import Any

from nlprnn.tasks import classification as task
from pipelines.cli import print_run_end, print_skipped, run_command, task_parser, train_overrides
from pipelines.config import build_config


def print_metrics(name: str, metrics: dict[str, Any]) -> None:
    print(f"{name:<6} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}")
    labels = metrics["labels"]
    width = max(6, *(len(label) for label in labels))
    print(f"       confusion (rows gold, columns predicted): {' '.join(f'{label:>{width}}' for label in labels)}")
    for label, row in zip(labels, metrics["confusion"]):
        print(f"       {label:>{width}} {' '.join(f'{n:>{width}}' for n in row)}")


def main(argv: list[str] | None = None) -> int:
    parser = task_parser("python -m pipelines.classify", __doc__, "runs/classify/bundle", "data/sentiment/test.tsv",
                         {"--tokenizer": "data.tokenizer: kkma, okt, komoran, kiwi, whitespace, char"})
    args = parser.parse_args(argv)
    progress = not args.no_progress

    def body() -> None:
        if args.command == "train":
            overrides = train_overrides(args, {"data.tokenizer": args.tokenizer},
                                        {"model.hidden_size": 16, "model.embedding_dim": 16, "model.num_layers": 1})
            config = build_config(task.ClassifyConfig, args.config, overrides)
            result = task.train(config, progress=progress, resume=args.resume)
            if not result:  # a rank other than 0 under torchrun: rank 0 reports
                return
            for record in result["history"]:
                print(f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid accuracy "
                      f"{record['accuracy']:.4f}  macro-F1 {record['macro_f1']:.4f}  {record['tokens_per_s']:,.0f} tok/s"
                      f"{'  *' if record.get('best') else ''}")
            print(f"rows: train {result['train_rows']}, valid {result['valid_rows']}"
                  + (f", test {result['test_rows']}" if "test_rows" in result else "")
                  + f"; vocab {result['vocab']}; best epoch {result['best_epoch']}")
            print_run_end(result, config.out, print_metrics)
        elif args.command == "evaluate":
            metrics = task.evaluate(args.bundle, args.data, progress=progress, on_error=args.on_error)
            print(f"rows   {metrics['rows']}")
            print_metrics(args.data, metrics)
            print_skipped(metrics["skipped"])
        else:
            rows, skipped = task.predict(args.bundle, args.data, args.output, progress=progress,
                                         on_error=args.on_error)
            if args.output:
                print(f"{rows} predictions written to {args.output}", file=sys.stderr)
            print_skipped(skipped, file=sys.stderr)

    return run_command(body)


if __name__ == "__main__":
    sys.exit(main())
