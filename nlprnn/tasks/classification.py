"""Text classification from a TSV/CSV/JSONL file: train, evaluate, predict.

``python -m pipelines.classify`` is a thin layer over ``train``, ``evaluate`` and ``predict`` here.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nlprnn.data.batching import BucketIterator, default_device
from nlprnn.data.dataset import Dataset, TabularDataset
from nlprnn.data.field import Field, LabelField
from nlprnn.errors import ConfigError
from nlprnn.models.heads import SequenceClassifier
from nlprnn.tasks.checks import check_dataset_tokens
from nlprnn.training.bundle import load_bundle, save_bundle
from nlprnn.training.distributed import main_first, setup
from nlprnn.training.metrics import classification_metrics
from nlprnn.training.plot import plot_history
from nlprnn.training.trainer import TrainConfig, Trainer

TASK = "classify"


@dataclass
class DataConfig:
    """Which files, which columns, how to tokenize."""

    train: str = "data/sentiment/train.tsv"
    valid: str | None = None
    test: str | None = "data/sentiment/test.tsv"
    format: str = "tsv"
    text_column: str = "text"
    label_column: str = "label"
    tokenizer: str = "kkma"
    lower: bool = False
    max_vocab: int | None = None
    max_tokens: int | None = 5000  # a longer row is reported (or skipped): a runaway line, not a review
    min_freq: int = 1
    valid_ratio: float = 0.1
    test_ratio: float = 0.0
    split_seed: int = 0
    batch_size: int = 32
    on_error: str = "raise"


@dataclass
class ModelConfig:
    """The SequenceClassifier: embedding -> RNNEncoder -> pooling -> linear."""

    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 2
    cell: str = "lstm"
    bidirectional: bool = True
    dropout: float = 0.3
    layer_norm: bool = False
    pooling: str = "last"


@dataclass
class ClassifyConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=8, lr=2e-3, monitor="accuracy"))
    out: str = "runs/classify"
    device: str | None = None


def _fields(data: DataConfig) -> tuple[Field, LabelField]:
    text = Field(tokenize=data.tokenizer, lower=data.lower, include_lengths=True, batch_first=True,
                 max_length=data.max_tokens)
    return text, LabelField()


def _read(path: str, data: DataConfig, text: Field, label: LabelField | None, progress: bool) -> TabularDataset:
    fields: dict[str, Any] = {data.text_column: ("text", text)}
    if label is not None:
        fields[data.label_column] = ("label", label)
    return TabularDataset(path, data.format, fields, skip_header=data.format != "jsonl", on_error=data.on_error,
                          progress=progress)


def build_model(model: ModelConfig, vocab_size: int, num_classes: int, padding_idx: int | None) -> SequenceClassifier:
    return SequenceClassifier(vocab_size, num_classes, embedding_dim=model.embedding_dim,
                              hidden_size=model.hidden_size, pooling=model.pooling, padding_idx=padding_idx,
                              num_layers=model.num_layers, cell=model.cell, bidirectional=model.bidirectional,
                              input_dropout=model.dropout, layer_dropout=model.dropout, output_dropout=model.dropout,
                              layer_norm=model.layer_norm)


@torch.no_grad()
def predict_batches(model: SequenceClassifier, dataset: Dataset, batch_size: int,
                    device: torch.device) -> tuple[list[int], list[float], list[int]]:
    """(predicted class, its probability, gold class or -1) per row, in the file's order."""
    model.eval()
    iterator = BucketIterator(dataset, batch_size=batch_size, train=False, device=device)
    predicted: list[int] = [0] * len(dataset)
    confidence: list[float] = [0.0] * len(dataset)
    gold: list[int] = [-1] * len(dataset)
    for batch in iterator:
        text, lengths = batch.text
        probabilities = model(text, lengths).float().softmax(-1)
        best = probabilities.max(-1)
        rows = batch.rows.tolist()
        for position, row in enumerate(rows):
            predicted[row] = int(best.indices[position])
            confidence[row] = float(best.values[position])
        if "label" in dataset.fields:
            for position, row in enumerate(rows):
                gold[row] = int(batch.label[position])
    return predicted, confidence, gold


def train(config: ClassifyConfig, progress: bool = True, resume: bool = False) -> dict[str, Any]:
    """Train, keep the best epoch as a bundle in ``OUT/bundle``, and return its validation (and test) metrics."""
    ctx = setup(config.device)
    device = ctx.device
    text, label = _fields(config.data)
    with main_first(ctx):  # rank 0 tokenizes into the cache, the other ranks then read from it
        train_set: Dataset = _read(config.data.train, config.data, text, label, progress and ctx.is_main)
        test_set: Dataset | None = None
        if config.data.test:
            test_set = _read(config.data.test, config.data, text, label, progress and ctx.is_main)
        valid_file = _read(config.data.valid, config.data, text, label, progress and ctx.is_main) if config.data.valid else None
    skipped = [str(p) for d in (train_set, test_set, valid_file) if d is not None for p in d.skipped]
    whole = len(train_set)
    if test_set is None and config.data.test_ratio:  # a share of the training file, stratified and seeded
        if not 0 < config.data.test_ratio < 1:
            raise ConfigError("config key 'data.test_ratio' must be between 0 and 1")
        train_set, test_set = train_set.split(1 - config.data.test_ratio, stratified=True,
                                              random_state=config.data.split_seed)
    if valid_file is not None:
        valid_set: Dataset = valid_file
    else:
        share = config.data.valid_ratio * whole / len(train_set)  # valid_ratio is a share of the whole file
        if not 0 < share < 1:
            raise ConfigError("config key 'data.valid_ratio' must be between 0 and 1 when data.valid is not set")
        train_set, valid_set = train_set.split(1 - share, stratified=True, random_state=config.data.split_seed + 1)
    text.build_vocab(train_set, max_size=config.data.max_vocab, min_freq=config.data.min_freq)
    label.build_vocab(train_set)
    assert text.vocab is not None and label.vocab is not None
    labels = label.vocab.itos
    torch.manual_seed(config.train.seed)
    model = build_model(config.model, len(text.vocab), len(labels), text.vocab.index("<pad>"))
    iterator = BucketIterator(train_set, batch_size=config.data.batch_size, seed=config.train.seed, device=device,
                              rank=ctx.rank, world_size=ctx.world_size)

    def step(model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        tokens, lengths = batch.text
        return F.cross_entropy(model(tokens, lengths), batch.label), int(lengths.sum())

    def evaluate(model: torch.nn.Module) -> dict[str, Any]:
        predicted, _, gold = predict_batches(model, valid_set, 256, device)  # type: ignore[arg-type]
        return classification_metrics(gold, predicted, labels)

    out = Path(config.out)
    trainer = Trainer(model, config.train, iterator, step, evaluate, out, device=device, progress=progress,
                      distributed=ctx)
    history = trainer.fit(resume=resume)
    if not ctx.is_main:
        return {}  # rank 0 writes the bundle and reports
    plot_history(history, out / "curves.png", ["accuracy", "macro_f1"])
    best = torch.load(out / "best.pt", weights_only=True)
    model.load_state_dict(best["model"])
    save_bundle(out / "bundle", TASK, _plain_config(config), {"text": text, "label": label}, model.state_dict())
    result: dict[str, Any] = {"best_epoch": best["epoch"], "valid": evaluate(model), "history": history,
                              "train_rows": len(train_set), "valid_rows": len(valid_set),
                              "vocab": len(text.vocab), "labels": labels, "skipped": skipped}
    if test_set is not None:
        predicted, _, gold = predict_batches(model, test_set, 256, device)
        result["test"] = classification_metrics(gold, predicted, labels)
        result["test_rows"] = len(test_set)
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def _plain_config(config: ClassifyConfig) -> dict[str, Any]:
    return asdict(config)


def load(bundle: str | Path, device: torch.device | None = None) -> tuple[SequenceClassifier, Field, LabelField, dict[str, Any]]:
    """The trained model and its fields from a bundle directory."""
    raw, fields, weights = load_bundle(bundle, TASK)
    text, label = fields["text"], fields["label"]
    if not isinstance(label, LabelField) or text.vocab is None or label.vocab is None:
        raise ConfigError(f"{bundle}: the bundle's fields are not a text field and a label field")
    model = build_model(ModelConfig(**raw["model"]), len(text.vocab), len(label.vocab), text.vocab.index("<pad>"))
    model.load_state_dict(weights)
    return model.to(device or default_device()), text, label, raw


def evaluate(bundle: str | Path, path: str, progress: bool = True, on_error: str | None = None) -> dict[str, Any]:
    """Metrics of a bundle's model on a labelled file (read with the training run's data settings)."""
    model, text, label, raw = load(bundle)
    data = DataConfig(**{**raw["data"], **({"on_error": on_error} if on_error else {})})
    dataset = _read(path, data, text, label, progress)
    check_dataset_tokens(dataset, "text", text)
    predicted, _, gold = predict_batches(model, dataset, 256, next(model.parameters()).device)
    return {"rows": len(dataset), "skipped": [str(p) for p in dataset.skipped],
            **classification_metrics(gold, predicted, label.vocab.itos)}  # type: ignore[union-attr]


def predict(bundle: str | Path, path: str, out: str | Path | None, progress: bool = True,
            on_error: str | None = None) -> tuple[int, list[str]]:
    """Write ``line, text, predicted, probability`` as TSV in the input's order (stdout when ``out`` is None);
    returns the rows written and the rows skipped (``on_error="skip"``) with why."""
    model, text, label, raw = load(bundle)
    data = DataConfig(**{**raw["data"], **({"on_error": on_error} if on_error else {})})
    dataset = _read(path, data, text, None, progress)
    check_dataset_tokens(dataset, "text", text)
    predicted, confidence, _ = predict_batches(model, dataset, 256, next(model.parameters()).device)
    itos = label.vocab.itos  # type: ignore[union-attr]
    handle = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        writer.writerow(["line", "text", "predicted", "probability"])
        texts = _raw_texts(path, data)
        for row, line in enumerate(dataset.lines.tolist()):
            writer.writerow([line, texts[line], itos[predicted[row]], f"{confidence[row]:.4f}"])
    finally:
        if out:
            handle.close()
    return len(dataset), [str(p) for p in dataset.skipped]


def _raw_texts(path: str, data: DataConfig) -> dict[int, str]:
    """line -> the text as written in the file (tabs and newlines cannot occur in a TSV cell)."""
    from nlprnn.data.readers import read_delimited, read_jsonl, read_tsv

    if data.format == "jsonl":
        read = read_jsonl(path, [data.text_column], on_error="skip")
    elif data.format == "csv":
        read = read_delimited(path, "csv", on_error="skip")
    else:
        read = read_tsv(path, on_error="skip")
    column = read.table.column(data.text_column).to_pylist()
    return {int(line): text.replace("\t", " ").replace("\n", " ") for line, text in zip(read.lines.tolist(), column)}
