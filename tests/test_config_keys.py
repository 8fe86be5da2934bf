"""Every config key of every task, given a value outside what it allows, through the task's command:
one line on stderr that names the key (or the file it points to), exit code 2, no traceback."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest

from nlprnn.config import Check, OneOf, Range, leaf_keys
from nlprnn.tasks import TASKS
from pipelines.cli import task_command

ROOT = Path(__file__).resolve().parents[1]
FAST = {  # settings that keep each run short; the key under test comes after them and wins
    "classify": ["data.tokenizer=whitespace", f"data.train={ROOT}/data/sentiment/train.tsv",
                 f"data.test={ROOT}/data/sentiment/test.tsv"],
    "ner": [f"data.train={ROOT}/data/ner/train.conll", f"data.valid={ROOT}/data/ner/dev.conll"],
    "lm": ["data.bptt_len=16"],
    "regress": [f"data.path={ROOT}/data/series/temperature.tsv"],
}
# text keys have no type to break: the value that is wrong for each, by the key's last part
WRONG_TEXT = {
    "train": "/nonexistent/file.tsv", "valid": "/nonexistent/file.tsv", "test": "/nonexistent/file.tsv",
    "path": "/nonexistent/file.tsv", "out": "/dev/null/run", "device": "gpu", "text_column": "no_such_column",
    "label_column": "no_such_column", "column": "no_such_column", "monitor": "no_such_metric",
    "pretrained": "/nonexistent/bundle", "map_types": "PER", "adaptive_cutoffs": "2000,x",
    "address": "127.0.0.1:6379",  # a cluster named while the engine is local
}


def _parts(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    options = [o for o in typing.get_args(annotation) or (annotation,) if o is not type(None)]
    if typing.get_origin(annotation) not in (typing.Union, type(int | None)):
        options = [annotation]
    option = options[0]
    if typing.get_origin(option) is typing.Annotated:
        base, *checks = typing.get_args(option)
        return base, tuple(checks)
    return option, ()


def wrong_values(key: str, annotation: Any) -> list[str]:
    """Values outside what the key's type allows: the wrong kind, and outside its range or set."""
    base, checks = _parts(annotation)
    if typing.get_origin(base) is typing.Literal:
        return ["no_such_choice"]
    if any(isinstance(c, OneOf | Check) for c in checks) and key.split(".")[-1] != "device":
        return ["no_such_choice"]
    if base is bool:
        return ["maybe"]
    if base in (int, float):
        values = ["abc"]
        for check in checks:
            if isinstance(check, Range) and check.low is not None:
                values.append(str(int(check.low) - 1 if base is int else check.low - 0.5))
            if isinstance(check, Range) and check.high is not None:
                values.append(str(check.high if check.high_open else check.high + 1))
        if key.endswith("_column") and base is int:  # a column the file does not have
            values.append("9")
        return values
    last = key.split(".")[-1]
    assert last in WRONG_TEXT, f"no wrong value known for the text key {key!r}: add one to WRONG_TEXT"
    return [WRONG_TEXT[last]]


CASES = [(task, key, value) for task, cls in TASKS.items() for key, annotation, _ in leaf_keys(cls.Config())
         for value in wrong_values(key, annotation)]


@pytest.mark.parametrize(("task", "key", "value"), CASES, ids=[f"{t}-{k}={v}" for t, k, v in CASES])
def test_a_wrong_value_of_any_key_is_one_line_and_exit_2(tmp_path, capsys, task, key, value):
    args = ["train", "--dry-run", "--no-progress"]
    for pair in FAST[task] + [f"out={tmp_path / 'run'}", f"{key}={value}"]:
        args += ["--set", pair]
    code = task_command(task)(args)
    err = capsys.readouterr().err.strip()
    assert code == 2, f"{key}={value} was accepted"
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    named = key.split(".")[-1] in err or value in err
    assert named, f"the message does not name {key} or {value}: {err}"


def test_every_task_key_is_walked():
    """The walk covers each task's whole config, tables included (a new key is tested by being added)."""
    keys = {task: {k for t, k, _ in CASES if t == task} for task in TASKS}
    assert {"data.train", "model.hidden_size", "train.lr", "train.monitor", "out", "device"} <= keys["classify"]
    assert all(len(k) > 15 for k in keys.values())
