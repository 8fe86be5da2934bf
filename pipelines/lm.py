"""``python -m pipelines.lm train|evaluate|generate``: word- or character-level LSTM language models.

    python -m pipelines.lm train                         # the Korean constitution (KoNLPy), characters
    python -m pipelines.lm train --data ../shared/data/ptb/ptb.train.txt --set data.valid=../shared/data/ptb/ptb.valid.txt --set data.level=word
    python -m pipelines.lm evaluate --data FILE
    python -m pipelines.lm generate --prompt "대한민국" --max-tokens 200 --temperature 0.8 --seed 1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from nlprnn.tasks import runner
from pipelines.cli import task_command


def add_generate(parser: argparse.ArgumentParser, sub: Any) -> Callable[[argparse.Namespace], None]:
    """``generate``: continue a prompt with a trained bundle."""
    generate = sub.add_parser("generate", help="continue a prompt with a trained bundle")
    generate.add_argument("--bundle", default="runs/lm/bundle")
    generate.add_argument("--prompt", required=True)
    generate.add_argument("--max-tokens", type=int, default=200)
    generate.add_argument("--temperature", type=float, default=0.8)
    generate.add_argument("--top-k", type=int)
    generate.add_argument("--greedy", action="store_true")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--no-progress", action="store_true")

    def run(args: argparse.Namespace) -> None:
        loaded = runner.load(args.bundle, "lm")
        print(loaded.task.generate(loaded.model, loaded.fields, args.prompt, args.max_tokens,  # type: ignore[attr-defined]
                                   args.seed, args.temperature, args.top_k, args.greedy))

    return run


main = task_command("lm", __doc__, extra=add_generate)

if __name__ == "__main__":
    sys.exit(main())
