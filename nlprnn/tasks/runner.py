"""One runner for every task: train, and load / evaluate / predict with a bundle.

``train`` is the same for every task: distributed setup, reading (rank 0 first, so the others read
its token cache), vocabularies, seeding, the Trainer, the best checkpoint reloaded through the safe
loader, the bundle, ``curves.png`` and ``result.json``. ``load`` reads a bundle of any task (its
``task`` key picks the class) and checks every part of it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nlprnn.config import build_config, fill
from nlprnn.data.batching import default_device
from nlprnn.data.field import Field
from nlprnn.errors import BundleError, ConfigError, RunExistsError
from nlprnn.tasks.base import Splits, Task
from nlprnn.tokenizers.ray_engine import release
from nlprnn.training.bundle import load_bundle, save_bundle
from nlprnn.training.checkpoint import load_checkpoint
from nlprnn.training.distributed import cleanup, main_first, setup
from nlprnn.training.plot import plot_history
from nlprnn.training.trainer import Trainer


def task_class(name: str) -> type[Task]:
    from nlprnn.tasks import TASKS

    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; the tasks: {', '.join(TASKS)}", key="task", value=name,
                          allowed=list(TASKS))
    return TASKS[name]


def task_for(config: Any) -> Task:
    """The task whose config ``config`` is."""
    from nlprnn.tasks import TASKS

    for cls in TASKS.values():
        if isinstance(config, cls.Config):
            return cls(config)
    raise ConfigError(f"{type(config).__name__} is not the config of a registered task", value=type(config).__name__)


def _check(task: Task) -> None:
    """Checks that need the task (the monitored metric is one it computes)."""
    monitor = task.config.train.monitor
    if task.metrics and monitor not in task.metrics:
        raise ConfigError(f"config key 'train.monitor' must be one of {', '.join(task.metrics)} for {task.name}, "
                          f"got {monitor!r}", key="train.monitor", value=monitor, allowed=list(task.metrics))


def train(config: Any, progress: bool = True, resume: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Train ``config``'s task, keep the best epoch as ``OUT/bundle``; returns what ``result.json`` holds
    (an empty dict on ranks other than 0 under ``torchrun``). A run directory that holds a trained
    bundle is never replaced unless ``overwrite`` (or continued, ``resume``): RunExistsError says so."""
    task = task_for(config)
    _check(task)
    if not (resume or overwrite) and (Path(config.out) / "bundle" / "bundle.json").exists():
        raise RunExistsError(config.out)
    context = setup(config.device)
    device = context.device
    fields = task.fields()
    with main_first(context):  # rank 0 tokenizes into the cache, the other ranks then read from it
        splits = task.splits(fields, progress and context.is_main)
    release(f.tokenizer for f in fields.values())  # a Ray cluster tokenized the files; training needs none
    task.build_vocabs(fields, splits.train)
    torch.manual_seed(config.train.seed)
    model = task.build_model(fields)
    iterator = task.train_iterator(splits.train, context)

    def evaluate(model: nn.Module) -> dict[str, Any]:
        return task.evaluate(model, splits.valid, device)

    out = Path(config.out)
    trainer = Trainer(model, config.train, iterator, task.loss, evaluate, out, device=device, progress=progress,
                      distributed=context, carry=task.carry, groups=task.parameter_groups(model),
                      before_epoch=lambda epoch: task.before_epoch(model, epoch), epoch_line=task.epoch_line)
    history = trainer.fit(resume=resume)
    try:
        return _finish(task, config, fields, splits, model, history) if context.is_main else {}
    finally:  # every rank waits here for rank 0's bundle and reports, then the process group closes
        trainer.release()
        cleanup(context)


def _finish(task: Task, config: Any, fields: dict[str, Field], splits: Splits, model: nn.Module,
            history: list[dict[str, Any]]) -> dict[str, Any]:
    """Rank 0's part after training: the best epoch's weights, the bundle, curves and ``result.json``."""
    out = Path(config.out)
    device = next(model.parameters()).device
    plot_history(history, out / "curves.png", list(task.curves))
    best = load_checkpoint(out / "best.pt")
    model.load_state_dict(best["model"])
    save_bundle(out / "bundle", task.name, asdict(config), fields, model.state_dict(), task.state)
    result: dict[str, Any] = {"task": task.name, "best_epoch": best["epoch"],
                              "valid": task.evaluate(model, splits.valid, device), "history": history,
                              "skipped": splits.skipped, **task.describe(splits, fields, model)}
    if splits.test is not None:
        result["test"] = task.evaluate(model, splits.test, device)
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return result


@dataclass
class Loaded:
    """A trained model ready to use: its task (with the run's config), model and fields."""

    task: Task
    model: nn.Module
    fields: dict[str, Field]

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def load(bundle: str | Path, task: str | None = None, device: torch.device | str | None = None) -> Loaded:
    """The model of a bundle of any task (or of ``task``, refusing others), on ``device`` (default: CUDA
    when visible). A bundle whose config this version cannot read is a BundleError saying what to do."""
    saved = load_bundle(bundle, task)
    cls = task_class(saved.task)
    raw, state = dict(saved.config), dict(saved.state)
    cls.upgrade(raw, state)
    try:
        config: Any = build_config(cls.Config, values=raw)
    except ConfigError as error:
        raise BundleError(Path(bundle) / "bundle.json", f"its config does not fit this nlprnn ({error})",
                          "retrain with this version, or install the nlprnn version that wrote the bundle") from None
    loaded_task = cls(config)
    loaded_task.state = state
    model = loaded_task.build_model(saved.fields)
    try:
        model.load_state_dict(saved.weights)
    except RuntimeError as error:
        first = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else str(error)
        raise BundleError(Path(bundle) / "weights.pt", f"the weights do not fit the model its config describes "
                          f"({first})", "retrain, or restore the bundle's files as `train` wrote them") from None
    return Loaded(loaded_task, model.to(device or default_device()).eval(), saved.fields)


def _with_data(loaded: Loaded, on_error: str | None, data: dict[str, Any] | None) -> None:
    """The loaded task's data settings for this use: ``on_error`` and ``data`` overrides (e.g. the input's
    ``format``), checked as the config's own keys."""
    section = loaded.task.config.data
    overrides = {k.removeprefix("data."): v for k, v in (data or {}).items() if v is not None}
    if on_error and hasattr(section, "on_error"):
        overrides["on_error"] = on_error
    if overrides:
        changed = fill(section, overrides, "data.")
        loaded.task.config = dataclasses.replace(loaded.task.config, data=changed)


def evaluate(bundle: str | Path | Loaded, path: str, progress: bool = True, on_error: str | None = None,
             task: str | None = None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Metrics of a bundle's model (a bundle directory, or one already loaded) on a labelled file, read
    with the training run's data settings (``data``: keys changed for this file, e.g. ``{"format": "text"}``);
    ``rows`` and ``skipped`` say how much of the file was used."""
    loaded = bundle if isinstance(bundle, Loaded) else load(bundle, task)
    _with_data(loaded, on_error, data)
    rows_in = loaded.task.read(path, loaded.fields, labelled=True, progress=progress)
    loaded.task.check_input(rows_in, loaded.fields)
    metrics = loaded.task.evaluate(loaded.model, rows_in, loaded.device)
    return {"rows": len(rows_in), "skipped": [str(p) for p in getattr(rows_in, "skipped", [])], **metrics}


def predict(bundle: str | Path | Loaded, path: str, out: str | Path | None, progress: bool = True,
            on_error: str | None = None, task: str | None = None,
            data: dict[str, Any] | None = None) -> tuple[int, list[str]]:
    """Write a bundle's predictions for a file (to ``out``, or stdout), read with the run's data settings
    and ``data`` overrides; returns the rows written and the rows skipped (``on_error="skip"``) with why."""
    loaded = bundle if isinstance(bundle, Loaded) else load(bundle, task)
    if loaded.task.predict_command is None:
        raise ConfigError(f"a {loaded.task.name} bundle does not predict", key="command", value="predict")
    _with_data(loaded, on_error, data)
    rows_in = loaded.task.read(path, loaded.fields, labelled=False, progress=progress)
    loaded.task.check_input(rows_in, loaded.fields)
    predictions = loaded.task.predict(loaded.model, rows_in, loaded.device)
    handle = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        rows = loaded.task.write_predictions(rows_in, predictions, loaded.fields, path, handle)
    finally:
        if out:
            handle.close()
    return rows, [str(p) for p in getattr(rows_in, "skipped", [])]
