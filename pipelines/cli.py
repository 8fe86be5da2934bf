"""What the task commands share: the train/evaluate/predict parser, overrides, and error printing."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any

from nlprnn.errors import NlprnnError
from pipelines.config import parse_sets


def task_parser(prog: str, doc: str | None, default_bundle: str, default_data: str,
                train_flags: dict[str, str] | None = None, skip_policy: bool = True) -> argparse.ArgumentParser:
    """``train`` (config, --set, named flags, --resume, --dry-run), ``evaluate`` and ``predict``;
    ``train_flags`` adds task-specific ``--flag: help`` options to ``train``; ``skip_policy`` adds
    ``--on-error raise|skip`` (data.on_error) to all three."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train, keep the best epoch as RUN/bundle, report metrics")
    train.add_argument("--config", help="TOML file (see pipelines/configs/)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. model.hidden_size=256")
    train.add_argument("--data", help="training file (data.train)")
    train.add_argument("--epochs", type=int, help="train.epochs")
    train.add_argument("--out", help="run directory")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--dry-run", action="store_true", help="one epoch with a tiny model")
    for flag, text in (train_flags or {}).items():
        train.add_argument(flag, help=text)
    for name in ("evaluate", "predict"):
        command = sub.add_parser(name, help=f"{name} with a trained bundle")
        command.add_argument("--bundle", default=default_bundle)
        command.add_argument("--data", required=name == "predict", default=default_data)
        if name == "predict":
            command.add_argument("--output", help="file to write (default: stdout)")
    for command in sub.choices.values():
        command.add_argument("--no-progress", action="store_true")
        if skip_policy:
            command.add_argument("--on-error", choices=["raise", "skip"], dest="on_error",
                                 help="bad rows: stop at the first (default), or skip them and list them")
    return parser


def train_overrides(args: argparse.Namespace, named: dict[str, Any], dry_run: dict[str, Any]) -> dict[str, Any]:
    """``--set`` pairs, then the named flags that were given, then the dry-run sizes."""
    overrides: dict[str, Any] = parse_sets(args.set)
    overrides.update({"data.train": args.data, "train.epochs": args.epochs, "out": args.out,
                      "data.on_error": getattr(args, "on_error", None), **named})
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.dry_run:
        overrides.update({"train.epochs": 1, **dry_run})
    return overrides


def print_run_end(result: dict[str, Any], out: str, print_metrics: Callable[[str, dict[str, Any]], None]) -> None:
    """The closing lines of a ``train``: validation (and test) metrics, and where the run's files are."""
    print_metrics("valid", result["valid"])
    if "test" in result:
        print_metrics("test", result["test"])
    print_skipped(result.get("skipped", []))
    print(f"bundle: {out}/bundle  metrics: {out}/metrics.jsonl  curves: {out}/curves.png")


def print_skipped(skipped: list[str], file: Any = None) -> None:
    """The rows a skip policy left out, so that nothing is lost silently."""
    if not skipped:
        return
    print(f"skipped {len(skipped)} rows (--on-error skip):", file=file)
    for problem in skipped[:10]:
        print(f"  {problem}", file=file)
    if len(skipped) > 10:
        print(f"  ... and {len(skipped) - 10} more (result.json lists them all)", file=file)


def run_command(body: Callable[[], None], skip_policy: bool = True) -> int:
    """Run a command; an nlprnn error becomes one line on stderr naming the command line's own flags
    (``skip_policy``: whether the command has ``--on-error``; if not, that advice is left out)."""
    try:
        body()
    except NlprnnError as error:
        message = str(error)
        if skip_policy:
            message = message.replace("pass on_error='skip'", "pass --on-error skip")
        else:
            message = re.sub(r",? or pass on_error='skip'[^.]*", "", message)
        message = message.replace("use TagField(on_invalid='repair')", "pass --set data.repair_tags=true")
        message = message.replace("(or raise max_length)", "(or raise --set data.max_tokens=N)")
        message = message.replace("(or raise max_token_chars)", "(or raise --set data.max_token_chars=N)")
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0
