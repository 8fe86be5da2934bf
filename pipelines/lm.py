"""``python -m pipelines.lm train|evaluate|generate``: word- or character-level LSTM language models.

    python -m pipelines.lm train                         # the Korean constitution (KoNLPy), characters
    python -m pipelines.lm train --data ../shared/data/ptb/ptb.train.txt --set data.valid=../shared/data/ptb/ptb.valid.txt --set data.level=word
    python -m pipelines.lm evaluate --data FILE
    python -m pipelines.lm generate --prompt "대한민국" --max-tokens 200 --temperature 0.8 --seed 1
"""

from __future__ import annotations

import argparse
import sys

from nlprnn.tasks import language_model as task
from pipelines.cli import run_command, task_parser, train_overrides
from pipelines.config import build_config


def main(argv: list[str] | None = None) -> int:
    parser = task_parser("python -m pipelines.lm", __doc__, "runs/lm/bundle", "konlpy:kolaw/constitution.txt",
                         skip_policy=False)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    generate = sub.add_parser("generate", help="continue a prompt with a trained bundle")
    generate.add_argument("--bundle", default="runs/lm/bundle")
    generate.add_argument("--prompt", required=True)
    generate.add_argument("--max-tokens", type=int, default=200)
    generate.add_argument("--temperature", type=float, default=0.8)
    generate.add_argument("--top-k", type=int)
    generate.add_argument("--greedy", action="store_true")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    progress = not args.no_progress

    def body() -> None:
        if args.command == "train":
            overrides = train_overrides(args, {}, {"model.hidden_size": 32, "model.embedding_dim": 16,
                                                   "model.num_layers": 1})
            config = build_config(task.LMConfig, args.config, overrides)
            result = task.train(config, progress=progress, resume=args.resume)
            if not result:  # a rank other than 0 under torchrun: rank 0 reports
                return
            unit = "bits/char" if result["level"] == "char" else "bits/token"
            for record in result["history"]:
                print(f"epoch {record['epoch']:>3}  train loss {record['train_loss']:.4f}  valid loss {record['loss']:.4f}"
                      f"  ppl {record['perplexity']:.2f}  {record['bits_per_token']:.3f} {unit}"
                      f"  {record['tokens_per_s']:,.0f} tok/s{'  *' if record.get('best') else ''}")
            valid = result["valid"]
            print(f"tokens: train {result['train_tokens']}, valid {result['valid_tokens']}; vocab {result['vocab']}; "
                  f"best epoch {result['best_epoch']}")
            print(f"valid  loss {valid['loss']:.4f} nats/token  perplexity {valid['perplexity']:.2f}  "
                  f"{valid['bits_per_token']:.3f} {unit}")
            print(f"sample: {result['sample']!r}")
            print(f"bundle: {config.out}/bundle  metrics: {config.out}/metrics.jsonl  curves: {config.out}/curves.png")
        elif args.command == "evaluate":
            metrics = task.evaluate(args.bundle, args.data, progress=progress)
            print(f"tokens {metrics['tokens']}  loss {metrics['loss']:.4f}  perplexity {metrics['perplexity']:.2f}  "
                  f"bits/token {metrics['bits_per_token']:.3f}")
        elif args.command == "generate":
            print(task.generate_text(args.bundle, args.prompt, args.max_tokens, args.seed, args.temperature,
                                     args.top_k, args.greedy))
        else:
            raise SystemExit("predict is not a language-model command; use generate")

    return run_command(body, skip_policy=False)


if __name__ == "__main__":
    sys.exit(main())
