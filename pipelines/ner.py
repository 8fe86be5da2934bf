"""``python -m pipelines.ner train|evaluate|predict``: named entities from CoNLL column files.

    python -m pipelines.ner train                      # data/ner/{train,dev}.conll, BiLSTM-CRF + characters
    python -m pipelines.ner train --config pipelines/configs/ner.toml --set model.crf=false
    python -m pipelines.ner evaluate --data data/ner/dev.conll
    python -m pipelines.ner predict --data sentences.conll --output tagged.conll
"""

from __future__ import annotations

import sys
from typing import Any

from nlprnn.tasks import tagging as task
from pipelines.cli import print_run_end, print_skipped, run_command, task_parser, train_overrides
from pipelines.config import build_config


def print_metrics(name: str, metrics: dict[str, Any]) -> None:
    print(f"{name:<6} precision {metrics['precision']:.4f}  recall {metrics['recall']:.4f}  F1 {metrics['f1']:.4f}")
    print(metrics["report"])


def main(argv: list[str] | None = None) -> int:
    parser = task_parser("python -m pipelines.ner", __doc__, "runs/ner/bundle", "data/ner/dev.conll",
                         {"--valid": "data.valid: the CoNLL file that picks the best epoch"})
    args = parser.parse_args(argv)
    progress = not args.no_progress

    def body() -> None:
        if args.command == "train":
            overrides = train_overrides(args, {"data.valid": args.valid},
                                        {"model.hidden_size": 16, "model.embedding_dim": 16, "model.char_dim": 8,
                                         "model.char_hidden": 8})
            config = build_config(task.NerConfig, args.config, overrides)
            result = task.train(config, progress=progress, resume=args.resume)
            if not result:  # a rank other than 0 under torchrun: rank 0 reports
                return
            for record in result["history"]:
                print(f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid P {record['precision']:.4f}"
                      f"  R {record['recall']:.4f}  F1 {record['f1']:.4f}  {record['tokens_per_s']:,.0f} tok/s"
                      f"{'  *' if record.get('best') else ''}")
            print(f"sentences: train {result['train_sentences']}, valid {result['valid_sentences']}; "
                  f"vocab {result['vocab']}; best epoch {result['best_epoch']}")
            print_run_end(result, config.out, print_metrics)
        elif args.command == "evaluate":
            metrics = task.evaluate(args.bundle, args.data, progress=progress, on_error=args.on_error)
            print(f"sentences {metrics['sentences']}")
            print_metrics(args.data, metrics)
            print_skipped(metrics["skipped"])
        else:
            sentences, skipped = task.predict(args.bundle, args.data, args.output, progress=progress,
                                              on_error=args.on_error)
            if args.output:
                print(f"{sentences} sentences tagged into {args.output}", file=sys.stderr)
            print_skipped(skipped, file=sys.stderr)

    return run_command(body)


if __name__ == "__main__":
    sys.exit(main())
