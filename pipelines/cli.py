"""The task commands, made from the task registry: ``python -m pipelines.<task> train|evaluate|predict``.

Each task's command is ``task_command(name)``: its parser, its flags and its printing come from the
task class (``nlprnn.tasks.TASKS``); this module only parses arguments and writes to the terminal.
Library errors are printed as one line, their remedies worded as this command's flags through the one
table ``REMEDY_FLAGS``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from collections.abc import Callable
from typing import Any

from nlprnn.config import build_config, parse_sets
from nlprnn.errors import NlprnnError
from nlprnn.tasks import TASKS, Task, runner

#: How the commands word each remedy of a library error ({prefix}: where the key sits in the config).
REMEDY_FLAGS: dict[str, str] = {
    "skip_rows": "pass --on-error skip to skip and list such rows",
    "repair_tags": "pass --set {prefix}repair_tags=true to repair and count such sequences",
    "max_length": "raise --set {prefix}max_tokens=N",
    "max_token_chars": "raise --set {prefix}max_token_chars=N",
    "csv_format": "if the file uses CSV quoting, pass --format csv",
    "csv_file": "if it is a CSV file, pass --format csv",
    "overwrite_run": "pass --overwrite to replace it, --resume to continue it, or --out DIR for a new run",
}


def remedy_words(prefix: str = "data.", skip_policy: bool = True) -> dict[str, str | None]:
    """``REMEDY_FLAGS`` for a command whose data keys start with ``prefix``; without ``--on-error``
    (``skip_policy=False``) the advice to skip is left out."""
    words: dict[str, str | None] = {key: text.format(prefix=prefix) for key, text in REMEDY_FLAGS.items()}
    if not skip_policy:
        words["skip_rows"] = None
    if prefix:  # the task commands read --set data.format, not --format
        words["csv_format"] = "if the file uses CSV quoting, pass --set data.format=csv"
        words["csv_file"] = "if it is a CSV file, pass --set data.format=csv"
    return words


def has_skip_policy(task: type[Task]) -> bool:
    """Whether the task's data section has ``on_error`` (and so its command ``--on-error``)."""
    return hasattr(task.Config().data, "on_error")


def default_data(task: type[Task]) -> str:
    """The file ``evaluate`` reads by default: the default config's test, else validation, else training file."""
    data = task.Config().data
    for key in ("test", "valid", task.data_key.split(".", 1)[1]):
        if getattr(data, key, None):
            return str(getattr(data, key))
    return ""


def build_parser(task: type[Task], doc: str | None = None) -> tuple[argparse.ArgumentParser, Any]:
    """The parser of a task's command and its subcommands (``train``, ``evaluate``, ``predict`` if the
    task predicts); returns the parser and its subparsers, to which a command may add its own."""
    parser = argparse.ArgumentParser(prog=f"python -m pipelines.{task.name}", description=doc or task.summary,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train, keep the best epoch as RUN/bundle, report metrics")
    train.add_argument("--config", help="TOML file (see pipelines/configs/)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. model.hidden_size=256")
    train.add_argument("--data", help=f"training file ({task.data_key}); alone, its validation and test parts are "
                       "cut from it (seeded), not taken from the project's sample files")
    train.add_argument("--valid", help="data.valid: the file that picks the best epoch")
    train.add_argument("--test", help="data.test: a labelled file scored after training")
    train.add_argument("--epochs", help="train.epochs")
    train.add_argument("--out", help=f"run directory (default runs/{task.name})")
    train.add_argument("--overwrite", action="store_true", help="replace the trained model already in --out")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    train.add_argument("--dry-run", action="store_true", help="one epoch with a tiny model, into RUN-dry-run "
                       "unless --out is given (a real run is never touched)")
    for flag, (key, text) in task.flags.items():
        train.add_argument(flag, help=f"{key}: {text}")
    commands = ["evaluate"] + ([task.predict_command] if task.predict_command else [])
    for name in commands:
        command = sub.add_parser(name, help=f"{name} with a trained bundle")
        command.add_argument("--bundle", default=f"runs/{task.name}/bundle")
        command.add_argument("--data", required=name != "evaluate", default=default_data(task) if name == "evaluate" else None)
        if name != "evaluate":
            command.add_argument("--output", help="file to write (default: stdout)")
        for flag, (key, text) in task.use_flags.items():
            command.add_argument(flag, help=f"{key}: {text}")
    for command in sub.choices.values():
        command.add_argument("--no-progress", action="store_true")
        if has_skip_policy(task):
            command.add_argument("--on-error", choices=["raise", "skip"], dest="on_error",
                                 help="bad rows: stop at the first (default), or skip them and list them")
    return parser, sub


def train_overrides(task: type[Task], args: argparse.Namespace) -> dict[str, Any]:
    """The dry-run sizes (with ``--dry-run``), then ``--set`` pairs, then the named flags that were given:
    what the user spells out wins."""
    overrides: dict[str, Any] = {"train.epochs": 1, **task.dry_run} if args.dry_run else {}
    overrides.update(parse_sets(args.set))
    named = {task.data_key: args.data, "data.valid": args.valid, "data.test": args.test, "train.epochs": args.epochs,
             "out": args.out, "data.on_error": getattr(args, "on_error", None)}
    named.update(flag_values(task.flags, args))
    overrides.update({k: v for k, v in named.items() if v is not None})
    return overrides


def print_skipped(skipped: list[str], file: Any = None) -> None:
    """The rows a skip policy left out, so that nothing is lost silently."""
    if not skipped:
        return
    print(f"skipped {len(skipped)} rows (--on-error skip):", file=file)
    for problem in skipped[:10]:
        print(f"  {problem}", file=file)
    if len(skipped) > 10:
        print(f"  ... and {len(skipped) - 10} more (result.json lists them all)", file=file)


def own_file_values(task: type[Task], args: argparse.Namespace) -> dict[str, Any]:
    """With ``--data``, the task's ``own_file`` values as a nested table: the lowest layer of the config, so
    that a --config file, --set, --valid or --test that names a part still wins."""
    values: dict[str, Any] = {}
    for key, value in (task.own_file if args.data else {}).items():
        section, name = key.split(".", 1)
        values.setdefault(section, {})[name] = value
    return values


def run_train(task_cls: type[Task], args: argparse.Namespace) -> None:
    overrides = train_overrides(task_cls, args)
    config: Any = build_config(task_cls.Config, args.config, overrides, values=own_file_values(task_cls, args))
    overwrite = args.overwrite
    if args.dry_run and "out" not in overrides:  # a dry run goes beside the real run, never into it
        config = dataclasses.replace(config, out=f"{config.out}-dry-run")
        overwrite = True
    progress = not args.no_progress
    result = runner.train(config, progress=progress, resume=args.resume, overwrite=overwrite)
    if not result:  # a rank other than 0 under torchrun: rank 0 reports
        return
    task = task_cls(config)
    if not (progress and sys.stderr.isatty() and sys.stdout.isatty()):  # else each epoch's line was shown already
        for record in result["history"]:
            print(task.epoch_line(record))
    print("\n".join(task.result_lines(result)))
    for part in ("valid", "test"):
        if part in result:
            print("\n".join(task.report(part, result[part])))
    print_skipped(result.get("skipped", []))
    print(f"bundle: {config.out}/bundle  metrics: {config.out}/metrics.jsonl  curves: {config.out}/curves.png")


def flag_values(flags: dict[str, tuple[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    """The config keys a task's named flags (``Task.flags``, ``Task.use_flags``) set, with the parsed
    values (None where a flag was not given)."""
    return {key: getattr(args, flag.lstrip("-").replace("-", "_")) for flag, (key, _) in flags.items()}


def run_evaluate(args: argparse.Namespace, task: str) -> None:
    loaded = runner.load(args.bundle, task)
    metrics = runner.evaluate(loaded, args.data, progress=not args.no_progress, on_error=getattr(args, "on_error", None),
                              data=flag_values(TASKS[task].use_flags, args))
    print(f"rows   {metrics['rows']}")
    print("\n".join(loaded.task.report(args.data, metrics)))
    print_skipped(metrics["skipped"])


def run_predict(args: argparse.Namespace, task: str) -> None:
    rows, skipped = runner.predict(args.bundle, args.data, args.output, progress=not args.no_progress,
                                   on_error=getattr(args, "on_error", None), task=task,
                                   data=flag_values(TASKS[task].use_flags, args))
    if args.output:
        print(f"{rows} predictions written to {args.output}", file=sys.stderr)
    print_skipped(skipped, file=sys.stderr)


def task_command(name: str, doc: str | None = None,
                 extra: Callable[[argparse.ArgumentParser, Any], Callable[[argparse.Namespace], None]] | None = None
                 ) -> Callable[..., int]:
    """The ``main(argv)`` of a task's command; ``extra(parser, subparsers)`` may add subcommands and
    returns the function that runs them."""
    task = TASKS[name]

    def main(argv: list[str] | None = None) -> int:
        parser, sub = build_parser(task, doc)
        run_extra = extra(parser, sub) if extra is not None else None
        args = parser.parse_args(argv)

        def body() -> None:
            if args.command == "train":
                run_train(task, args)
            elif args.command == "evaluate":
                run_evaluate(args, name)
            elif args.command == task.predict_command:
                run_predict(args, name)
            elif run_extra is not None:
                run_extra(args)

        return run_command(body, remedy_words("data.", has_skip_policy(task)))

    return main


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  line: str | None = None) -> str:
    """A warning as the commands print it: ``warning: ...``, without the source line."""
    return f"warning: {message}\n"


def run_command(body: Callable[[], None], remedies: dict[str, str | None] | None = None) -> int:
    """Run a command; an nlprnn error (or a file the system refuses) becomes one line on stderr, its
    remedies worded with ``remedies`` (this command's flags), and exit code 2. Warnings are one line too."""
    warnings.formatwarning = _warning_line
    try:
        body()
    except NlprnnError as error:
        print(f"error: {error.render(remedies or remedy_words())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: what was committed (checkpoints, token cache) stays; no traceback
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (`... | head`): nothing left to say
        sys.stderr.close()
        return 1
    except OSError as error:  # e.g. an output directory that cannot be written
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    return 0


__all__ = ["REMEDY_FLAGS", "build_parser", "remedy_words", "run_command", "task_command"]
