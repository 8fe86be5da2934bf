"""Training loop: exact resume (after an epoch and mid-epoch), atomic and safe checkpoints, metrics."""

import json
import os

import pytest
import torch
import torch.nn.functional as F

from nlprnn import BucketIterator, Field, LabelField, TabularDataset
from nlprnn.models import SequenceClassifier
from nlprnn.training import (
    CheckpointError,
    TrainConfig,
    Trainer,
    classification_metrics,
    load_checkpoint,
    ner_metrics,
    save_checkpoint,
)


class Crash(Exception):
    pass


@pytest.fixture
def data(write):
    words = ["좋다", "최고", "싫다", "별로", "영화", "배우", "정말", "너무"]
    rows = ["text\tlabel"]
    for i in range(96):
        label = i % 2
        body = [words[(i * 7 + j) % 4 + 4] for j in range(i % 5 + 1)]
        rows.append(" ".join(body + [words[label * 2 + i % 2]]) + f"\t{label}")
    TEXT = Field(tokenize="whitespace", include_lengths=True, batch_first=True)
    LABEL = LabelField()
    dataset = TabularDataset(write("train.tsv", "\n".join(rows) + "\n"), "tsv", [("text", TEXT), ("label", LABEL)],
                             skip_header=True)
    TEXT.build_vocab(dataset)
    LABEL.build_vocab(dataset)
    return dataset


def make_trainer(dataset, out, crash_at_step=None, crash_after_epoch=None, **config):
    torch.manual_seed(123)  # model init; training seeds itself from the config
    model = SequenceClassifier(len(dataset.fields["text"].vocab), 2, embedding_dim=8, hidden_size=8,
                               bidirectional=True, input_dropout=0.3, output_dropout=0.3)
    iterator = BucketIterator(dataset, batch_size=16, seed=5, device="cpu")
    calls = {"n": 0}

    def step(model, batch):
        calls["n"] += 1
        if crash_at_step is not None and calls["n"] == crash_at_step:
            raise Crash
        text, lengths = batch.text
        return F.cross_entropy(model(text, lengths), batch.label), int(lengths.sum())

    def evaluate(model):
        gold, predicted = [], []
        for batch in BucketIterator(dataset, batch_size=32, train=False, device="cpu"):
            text, lengths = batch.text
            predicted += model(text, lengths).argmax(-1).tolist()
            gold += batch.label.tolist()
        return classification_metrics(gold, predicted, ["0", "1"])

    def on_epoch_end(record):
        if crash_after_epoch is not None and record["epoch"] == crash_after_epoch:
            raise Crash

    settings = {"epochs": 3, "lr": 0.01, "seed": 7, **config}
    return Trainer(model, TrainConfig(**settings), iterator, step, evaluate, out, progress=False,
                   on_epoch_end=on_epoch_end)


def comparable(history):
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")} for r in history]


def test_resume_after_an_epoch_continues_exactly(data, tmp_path):
    straight = make_trainer(data, tmp_path / "a")
    expected = straight.fit()
    with pytest.raises(Crash):
        make_trainer(data, tmp_path / "b", crash_after_epoch=1).fit()
    resumed = make_trainer(data, tmp_path / "b")
    history = resumed.fit(resume=True)
    assert comparable(history) == comparable(expected)
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_mid_epoch_from_the_last_step_checkpoint(data, tmp_path):
    straight = make_trainer(data, tmp_path / "a", checkpoint_every=2)
    straight.fit()
    with pytest.raises(Crash):
        make_trainer(data, tmp_path / "b", checkpoint_every=2, crash_at_step=10).fit()  # dies in epoch 2
    assert load_checkpoint(tmp_path / "b" / "last.pt")["step"] == 8
    resumed = make_trainer(data, tmp_path / "b", checkpoint_every=2)
    resumed.fit(resume=True)
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_metrics_log_and_best_checkpoint_are_written(data, tmp_path):
    trainer = make_trainer(data, tmp_path / "run")
    trainer.fit()
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3] and "accuracy" in lines[0] and "train_loss" in lines[0]
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    assert json.loads(best["metrics"])["accuracy"] == max(r["accuracy"] for r in lines)


def test_epoch_decay_schedule_halves_after_decay_start(data, tmp_path):
    trainer = make_trainer(data, tmp_path / "run", schedule="epoch_decay", decay_start=1, epochs=3, lr=1.0,
                           optimizer="sgd")
    assert [r["lr"] for r in trainer.fit()] == [1.0, 0.5, 0.25]


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint({"step": 1}, path)

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_checkpoint({"step": 2, "bad": Unsaveable()}, path)
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"model": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="weights_only"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()


def test_truncated_checkpoint_is_refused(tmp_path):
    save_checkpoint({"weights": torch.ones(1000)}, tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "c.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a loadable"):
        load_checkpoint(tmp_path / "c.pt")


def test_classification_metrics():
    result = classification_metrics([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], ["a", "b", "c"])
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    # F1: a = 2*1/(2+1+1) = 0.5, b = 2*2/(4+1+0) = 0.8, c = 0
    assert result["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_ner_metrics_are_entity_level_and_strict():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    predicted = [["B-PER", "I-PER", "O", "I-LOC"]]  # strict IOB2: a lone I-LOC is no entity
    result = ner_metrics(gold, predicted)
    assert result["precision"] == 1.0 and result["recall"] == 0.5
    assert result["per_type"]["LOC"]["recall"] == 0.0
