"""``python -m pipelines.regress train|evaluate|predict``: forecast the next value of a numeric column.

    python -m pipelines.regress train                     # data/series/temperature.tsv, windows of 30 days
    python -m pipelines.regress train --set data.window=60 --set model.hidden_size=128
    python -m pipelines.regress evaluate --data data/series/temperature.tsv
    python -m pipelines.regress predict --data series.tsv --output forecasts.tsv
"""

from __future__ import annotations

import sys

from nlprnn.tasks import regression as task
from pipelines.cli import run_command, task_parser, train_overrides
from pipelines.config import build_config


def main(argv: list[str] | None = None) -> int:
    parser = task_parser("python -m pipelines.regress", __doc__, "runs/regress/bundle", "data/series/temperature.tsv",
                         {"--column": "data.column: the numeric column to forecast"}, skip_policy=False)
    args = parser.parse_args(argv)

    def body() -> None:
        if args.command == "train":
            overrides = train_overrides(args, {"data.column": args.column}, {"model.hidden_size": 8})
            if "data.train" in overrides:
                overrides["data.path"] = overrides.pop("data.train")
            config = build_config(task.RegressConfig, args.config, overrides)
            result = task.train(config, progress=not args.no_progress, resume=args.resume)
            if not result:  # a rank other than 0 under torchrun: rank 0 reports
                return
            for record in result["history"]:
                print(f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid MSE {record['mse']:.4f}"
                      f"  MAE {record['mae']:.4f}{'  *' if record.get('best') else ''}")
            print(f"windows: train {result['windows'][0]}, valid {result['windows'][1]}, test {result['windows'][2]}; "
                  f"best epoch {result['best_epoch']}")
            for part in ("valid", "test"):
                m = result[part]
                print(f"{part:<6} MSE {m['mse']:.4f}  MAE {m['mae']:.4f}   last-value baseline: "
                      f"MSE {m['naive_mse']:.4f}  MAE {m['naive_mae']:.4f}")
            print(f"bundle: {config.out}/bundle  metrics: {config.out}/metrics.jsonl  curves: {config.out}/curves.png")
        elif args.command == "evaluate":
            m = task.evaluate(args.bundle, args.data)
            print(f"windows {m['windows']}  MSE {m['mse']:.4f}  MAE {m['mae']:.4f}   last-value baseline: "
                  f"MSE {m['naive_mse']:.4f}  MAE {m['naive_mae']:.4f}")
        else:
            rows = task.predict(args.bundle, args.data, args.output)
            if args.output:
                print(f"{rows} forecasts written to {args.output}", file=sys.stderr)

    return run_command(body, skip_policy=False)


if __name__ == "__main__":
    sys.exit(main())
