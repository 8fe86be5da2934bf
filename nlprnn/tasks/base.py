"""The task protocol: what a task (classification, tagging, language modeling, ...) says for itself.

A task owns its config, its fields and how it reads its files, its model, its loss on a batch, its
metrics and how it writes predictions. Everything else (distributed setup, tokenizing under
``main_first``, vocabularies, seeding, the Trainer, the best checkpoint, the bundle, ``result.json``,
curves, and loading a bundle back for ``evaluate``/``predict``) is written once, in ``runner.py``.

A new task is one class: subclass ``Task``, set the class attributes, implement the methods marked
"required", and add it to ``TASKS`` in ``nlprnn/tasks/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

import torch
from torch import nn

from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.data.iterators import BucketIterator
from nlprnn.errors import ConfigError
from nlprnn.tasks.checks import check_dataset_tokens
from nlprnn.training.distributed import Distributed
from nlprnn.training.trainer import ResumableIterator


@dataclass
class Splits:
    """The data a training run uses: train and validation parts, an optional test part, and the rows
    the reader skipped (``on_error="skip"``) in words."""

    train: Any
    valid: Any
    test: Any | None = None
    skipped: list[str] = field(default_factory=list)


def cut_parts(dataset: Dataset, valid_ratio: float, test_ratio: float, seed: int,
              stratified: bool = False, strata_field: str = "label") -> tuple[Dataset, Dataset, Dataset | None]:
    """(train, valid, test) cut from one dataset, seeded: shares of the whole; test None when ``test_ratio`` is 0."""
    if not 0 < valid_ratio + test_ratio < 1:
        raise ConfigError(f"data.valid_ratio + data.test_ratio must be between 0 and 1, got {valid_ratio + test_ratio}",
                          key="data.valid_ratio", value=valid_ratio)
    rest, test = (dataset.split(1 - test_ratio, stratified=stratified, strata_field=strata_field, random_state=seed)
                  if test_ratio else (dataset, None))
    share = valid_ratio / (1 - test_ratio)
    train, valid = rest.split(1 - share, stratified=stratified, strata_field=strata_field, random_state=seed + 1)
    return train, valid, test


class Task:
    """One kind of model and data. See the module docstring; the methods say what the runner needs."""

    name: ClassVar[str]
    """The registry key, the bundle's ``task`` and the command's name (``python -m pipelines.NAME``)."""
    Config: ClassVar[type]
    """The run's config dataclass: sections ``data``, ``model``, ``train`` (a TrainConfig), ``out``, ``device``."""
    summary: ClassVar[str] = ""
    """One line for ``python -m pipelines``."""
    metrics: ClassVar[tuple[str, ...]] = ()
    """Metric names ``evaluate`` returns that ``train.monitor`` may name."""
    curves: ClassVar[tuple[str, ...]] = ()
    """Metrics drawn in ``curves.png`` beside the training loss."""
    predict_command: ClassVar[str | None] = "predict"
    """The command that writes predictions (None: the task has none, e.g. a language model generates)."""
    flags: ClassVar[dict[str, tuple[str, str]]] = {}
    """Extra ``train`` flags of the command: ``{"--tokenizer": ("data.tokenizer", "help text")}``."""
    use_flags: ClassVar[dict[str, tuple[str, str]]] = {}
    """Extra flags of ``evaluate`` and ``predict`` that change a data key of the bundle's config for that
    file: ``{"--format": ("data.format", "help text")}``."""
    own_file: ClassVar[dict[str, Any]] = {}
    """Config values under which ``train --data FILE`` is a complete run on that file: its validation and
    test parts cut from it (never the project's sample files), unless the user names them."""
    dry_run: ClassVar[dict[str, Any]] = {}
    """Config overrides of ``train --dry-run`` (a tiny model; one epoch is added by the command)."""
    data_key: ClassVar[str] = "data.train"
    """The config key of the training file (what ``train --data`` sets)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.state: dict[str, Any] = {}
        """What the task learns from the data besides the model (e.g. a scale), saved in the bundle."""
        self.carry: dict[str, Any] | None = None
        """What ``loss`` keeps from batch to batch (an LM's hidden state); the Trainer checkpoints it."""

    # -- data (required: fields, read, splits) ------------------------------------------------------
    def fields(self) -> dict[str, Field]:
        """The fields of a new run (their vocabs are built by ``build_vocabs``)."""
        raise NotImplementedError

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True, progress: bool = False) -> Any:
        """One file with the given fields; ``labelled=False`` for ``predict`` (no target column needed)."""
        raise NotImplementedError

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        """The train, validation (and test) parts of a training run, from the config's files."""
        raise NotImplementedError

    def build_vocabs(self, fields: dict[str, Field], train: Any) -> None:
        """Every field's vocab from the training part (the default: each field's own defaults)."""
        for f in fields.values():
            f.build_vocab(train)

    def check_input(self, data: Any, fields: dict[str, Field]) -> None:
        """Refuse input that cannot be what the model was trained on (the default: every token unknown)."""
        if isinstance(data, Dataset):
            name = next(n for n, f in data.fields.items() if not f.is_target)
            check_dataset_tokens(data, name, fields[name])

    # -- model (required: build_model, loss) ---------------------------------------------------------
    def build_model(self, fields: dict[str, Field]) -> nn.Module:
        raise NotImplementedError

    def train_iterator(self, train: Any, context: Distributed) -> ResumableIterator:
        """Training batches; the default: bucketed batches of ``data.batch_size`` rows of a Dataset, this
        rank's share of them, shuffled by ``train.seed``."""
        return BucketIterator(train, batch_size=self.config.data.batch_size, seed=self.config.train.seed,
                              device=context.device, rank=context.rank, world_size=context.world_size)

    def parameter_groups(self, model: nn.Module) -> list[dict[str, Any]] | None:
        """Optimizer groups ``{"params", "lr_factor"}`` (e.g. discriminative rates); None: one group."""
        return None

    def before_epoch(self, model: nn.Module, epoch: int) -> None:
        """Called before each training epoch (0-based), e.g. to unfreeze layers gradually."""

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        """The mean loss of a training batch and the tokens (or items) it covered."""
        raise NotImplementedError

    # -- results (required: evaluate; predict and write_predictions where predict_command is set) ---
    def evaluate(self, model: nn.Module, data: Any, device: torch.device) -> dict[str, Any]:
        raise NotImplementedError

    def predict(self, model: nn.Module, data: Any, device: torch.device) -> Any:
        raise NotImplementedError

    def write_predictions(self, data: Any, predictions: Any, fields: dict[str, Field], source: str,
                          handle: IO[str]) -> int:
        """Write predictions for ``data`` (read from ``source``) in the file's order; returns rows written."""
        raise NotImplementedError

    def describe(self, splits: Splits, fields: dict[str, Field], model: nn.Module) -> dict[str, Any]:
        """Extra entries of ``result.json`` (row counts, vocab sizes, a sample ...)."""
        return {}

    @classmethod
    def upgrade(cls, config: dict[str, Any], state: dict[str, Any]) -> None:
        """Bring an older bundle's saved config and state to this version's keys, in place."""

    # -- words for the commands ----------------------------------------------------------------------
    def report(self, name: str, metrics: dict[str, Any]) -> Iterable[str]:
        """Lines that show ``metrics`` of the data called ``name`` (valid, test, a file)."""
        yield f"{name:<6} " + "  ".join(f"{k} {metrics[k]:.4f}" for k in self.metrics if k in metrics)

    def epoch_line(self, record: dict[str, Any]) -> str:
        """One line per epoch of ``metrics.jsonl``."""
        shown = "  ".join(f"{k} {record[k]:.4f}" for k in self.metrics if k in record)
        return (f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid {shown}"
                f"  {record['tokens_per_s']:,.0f} tok/s{'  *' if record.get('best') else ''}")

    def result_lines(self, result: dict[str, Any]) -> Iterable[str]:
        """Lines after training: sizes (rows, vocab), the best epoch, anything else the task shows."""
        yield f"best epoch {result['best_epoch']}"
