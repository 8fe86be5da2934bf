"""Run by tests/test_distributed.py under ``torchrun --nproc_per_node=2``: trains the toy classifier of
``toy_setup`` for one epoch in DistributedDataParallel and writes this rank's step losses and weights."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from nlprnn import BucketIterator, Field, LabelField, TabularDataset
from nlprnn.models import SequenceClassifier
from nlprnn.training import TrainConfig, Trainer
from nlprnn.training.distributed import cleanup, setup

WORDS = ["좋다", "최고", "싫다", "별로", "영화", "배우", "정말", "너무"]
BATCH = 8


def toy_dataset(directory: Path) -> TabularDataset:
    """128 rows whose label shows in their last word; lengths 2..6."""
    rows = ["text\tlabel"]
    for i in range(128):
        label = i % 2
        body = [WORDS[(i * 7 + j) % 4 + 4] for j in range(i % 5 + 1)]
        rows.append(" ".join(body + [WORDS[label * 2 + (i // 2) % 2]]) + f"\t{label}")
    path = directory / "toy.tsv"
    if not path.exists():
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    text, label = Field(tokenize="whitespace", include_lengths=True, batch_first=True), LabelField()
    dataset = TabularDataset(path, "tsv", [("text", text), ("label", label)], skip_header=True)
    text.build_vocab(dataset)
    label.build_vocab(dataset)
    return dataset


def toy_model(dataset: TabularDataset) -> SequenceClassifier:
    torch.manual_seed(7)
    return SequenceClassifier(len(dataset.fields["text"].vocab), 2, embedding_dim=8, hidden_size=8,
                              bidirectional=True)


def toy_config() -> TrainConfig:
    return TrainConfig(epochs=1, optimizer="sgd", lr=0.5, clip=None, amp=False, seed=3)


def recording_step(losses: list[float]):
    """The training step, recording each batch's loss."""

    def step(model, batch):
        text, lengths = batch.text
        loss = F.cross_entropy(model(text, lengths), batch.label)
        losses.append(loss.item())
        return loss, int(lengths.sum())

    return step


def main(out: Path) -> None:
    context = setup("cpu")
    dataset = toy_dataset(out)
    model = toy_model(dataset)
    iterator = BucketIterator(dataset, batch_size=BATCH, seed=11, device="cpu", rank=context.rank,
                              world_size=context.world_size)
    losses: list[float] = []
    trainer = Trainer(model, toy_config(), iterator, recording_step(losses), lambda m: {"accuracy": 0.0}, out / "run", device="cpu",
                      progress=False, distributed=context)
    trainer.fit()
    (out / f"rank{context.rank}.json").write_text(json.dumps({"losses": losses, "world": context.world_size}))
    torch.save(model.state_dict(), out / f"rank{context.rank}.pt")
    trainer.release()  # the DDP wrapper (its reducer holds the process group) goes first
    cleanup(context)  # every rank waits, then the process group closes (no gloo thread left at exit)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
