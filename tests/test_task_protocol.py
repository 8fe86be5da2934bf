"""The task protocol: a new task is one class added to the registry, and the runner, the bundle and the
commands serve it with no other change. Also: every iterator keeps its place the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nlprnn import BPTTIterator, BucketIterator, Field, LabelField, TabularDataset, WindowIterator
from nlprnn.models import SequenceClassifier
from nlprnn.tasks import TASKS, Splits, Task, runner
from nlprnn.training import TrainConfig
from pipelines.cli import task_command

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class FirstCharData:
    train: str = str(ROOT / "data/sentiment/train.tsv")
    valid: str = str(ROOT / "data/sentiment/test.tsv")
    batch_size: int = 32


@dataclass
class FirstCharModel:
    hidden_size: int = 16


@dataclass
class FirstCharConfig:
    data: FirstCharData = field(default_factory=FirstCharData)
    model: FirstCharModel = field(default_factory=FirstCharModel)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=2, lr=0.01, monitor="accuracy"))
    out: str = "runs/first_char"
    device: str | None = None


class FirstCharTask(Task):
    """A task none of the project's files know: a review's label from its characters alone."""

    name = "first_char"
    Config = FirstCharConfig
    summary = "a review's label from its characters"
    metrics = ("accuracy",)
    curves = ("accuracy",)
    config: FirstCharConfig

    def fields(self) -> dict[str, Field]:
        return {"text": Field(tokenize="char", include_lengths=True, batch_first=True),
                "label": LabelField()}

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True, progress: bool = False) -> Any:
        columns = {"text": ("text", fields["text"])}
        if labelled:
            columns["label"] = ("label", fields["label"])
        return TabularDataset(path, "tsv", columns, skip_header=True)

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        return Splits(self.read(self.config.data.train, fields), self.read(self.config.data.valid, fields))

    def build_model(self, fields: dict[str, Field]) -> torch.nn.Module:
        return SequenceClassifier(len(fields["text"].vocab), len(fields["label"].vocab), embedding_dim=8,
                                  hidden_size=self.config.model.hidden_size, bidirectional=True)

    def loss(self, model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        text, lengths = batch.text
        return F.cross_entropy(model(text, lengths), batch.label), int(lengths.sum())

    def predict(self, model: torch.nn.Module, data: Any, device: torch.device) -> list[int]:
        out = [0] * len(data)
        for batch in BucketIterator(data, batch_size=64, train=False, device=device):
            for row, guess in zip(batch.rows.tolist(), model(*batch.text).argmax(-1).tolist()):
                out[row] = guess
        return out

    def evaluate(self, model: torch.nn.Module, data: Any, device: torch.device) -> dict[str, Any]:
        gold = data.ids("label").values
        return {"accuracy": float(np.mean(np.asarray(self.predict(model, data, device)) == gold))}

    def write_predictions(self, data: Any, predictions: list[int], fields: dict[str, Field], source: str,
                          handle: IO[str]) -> int:
        labels = fields["label"].vocab.itos
        handle.writelines(f"{labels[p]}\n" for p in predictions)
        return len(predictions)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(TASKS, "first_char", FirstCharTask)


def test_a_new_task_is_one_class_and_gets_train_bundle_evaluate_and_predict(registered, tmp_path, capsys):
    main = task_command("first_char")
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--no-progress", "--set", "model.hidden_size=32"]) == 0
    printed = capsys.readouterr().out
    assert "epoch   2" in printed and f"bundle: {out}/bundle" in printed
    result = json.loads((out / "result.json").read_text())
    assert result["task"] == "first_char" and result["best_epoch"] in (1, 2)
    assert (out / "curves.png").exists() and (out / "bundle" / "vocab-label.json").exists()

    loaded = runner.load(out / "bundle")  # the bundle's task key finds the class in the registry
    assert isinstance(loaded.task, FirstCharTask) and loaded.task.config.model.hidden_size == 32
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--no-progress"]) == 0
    assert f"accuracy {result['valid']['accuracy']:.4f}" in capsys.readouterr().out
    written = tmp_path / "first.txt"
    assert main(["predict", "--bundle", str(out / "bundle"), "--data", str(ROOT / "data/sentiment/test.tsv"),
                 "--output", str(written), "--no-progress"]) == 0
    assert len(written.read_text(encoding="utf-8").splitlines()) == 100


def test_the_new_task_s_config_is_checked_like_the_others(registered, capsys):
    assert task_command("first_char")(["train", "--set", "train.monitor=f1", "--no-progress"]) == 2
    assert "'train.monitor' must be one of accuracy for first_char" in capsys.readouterr().err


# -- one iterator state -------------------------------------------------------------------------------
def _iterators(write) -> list[Any]:
    text = Field(tokenize="whitespace", include_lengths=True, batch_first=True)
    rows = "text\tlabel\n" + "".join(f"{'가 ' * (i % 7 + 1)}나\t{i % 2}\n" for i in range(60))
    dataset = TabularDataset(write("a.tsv", rows), "tsv", [("text", text), ("label", LabelField())], skip_header=True)
    for f in dataset.fields.values():
        f.build_vocab(dataset)
    x, y = torch.randn(50, 4, 1), torch.randn(50, 1)
    return [BucketIterator(dataset, batch_size=8, seed=3, device="cpu"),
            BPTTIterator(dataset, batch_size=2, bptt_len=5, device="cpu"),
            WindowIterator(x, y, batch_size=8, seed=3, device="cpu")]


def _first(batch: Any) -> torch.Tensor:
    return batch[0] if isinstance(batch, tuple) else batch.text[0] if isinstance(batch.text, tuple) else batch.text


def test_every_iterator_keeps_its_place_as_seed_epoch_position(write):
    for iterator in _iterators(write):
        assert set(iterator.state_dict()) == {"seed", "epoch", "position"}, type(iterator).__name__
        stream = iter(iterator)
        for _ in range(3):
            next(stream)
        state = iterator.state_dict()
        assert state["position"] == 3 and state["epoch"] == 0
        rest = [_first(b) for b in stream]
        assert iterator.state_dict() == {**state, "epoch": 1, "position": 0}  # a finished epoch moves on
        iterator.load_state_dict(state)
        resumed = [_first(b) for b in iterator]
        assert len(resumed) == len(rest) and all(torch.equal(a, b) for a, b in zip(rest, resumed))
