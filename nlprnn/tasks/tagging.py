"""Named-entity recognition from CoNLL column files: BiLSTM(-CRF) with optional character features.

``python -m pipelines.ner`` is a thin layer over ``train``, ``evaluate`` and ``predict`` here. Metrics
are seqeval's entity-level precision/recall/F1 in strict IOB2 mode.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from nlprnn.data.batching import Batch, BucketIterator, default_device
from nlprnn.data.dataset import Dataset, SequenceTaggingDataset
from nlprnn.data.field import Field, NestedField, TagField
from nlprnn.data.readers import conll_width
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.heads import SequenceTagger
from nlprnn.tasks.checks import check_dataset_tokens
from nlprnn.training.bundle import load_bundle, save_bundle
from nlprnn.training.distributed import setup, unwrap
from nlprnn.training.metrics import ner_metrics
from nlprnn.training.plot import plot_history
from nlprnn.training.trainer import TrainConfig, Trainer

TASK = "ner"


@dataclass
class NerDataConfig:
    train: str = "data/ner/train.conll"
    valid: str | None = "data/ner/dev.conll"
    test: str | None = None
    token_column: int = 0
    tag_column: int = -1
    feature_column: int | None = None  # a per-token feature column (e.g. POS) embedded beside each word
    scheme: str = "bio"
    repair_tags: bool = False
    lower: bool = False
    min_freq: int = 1
    batch_size: int = 32
    on_error: str = "raise"
    max_tokens: int | None = 1000  # tokens per sentence; a longer one is reported (or skipped)
    max_token_chars: int | None = 100  # characters per token; a longer one is reported (or skipped)


@dataclass
class NerModelConfig:
    embedding_dim: int = 100
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3
    crf: bool = True
    char_features: bool = True
    char_dim: int = 32
    char_hidden: int = 32
    feature_dim: int = 32
    word_dropout: float = 0.0  # in training, the chance that a word is read as <unk> (its characters stay)
    attention_heads: int = 0  # > 0: multi-head self-attention over the BiLSTM outputs, before the CRF


@dataclass
class NerConfig:
    data: NerDataConfig = field(default_factory=NerDataConfig)
    model: NerModelConfig = field(default_factory=NerModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=15, lr=5e-3, monitor="f1"))
    out: str = "runs/ner"
    device: str | None = None


def _width(path: str) -> int:
    width = conll_width(path)
    if width is None:
        raise DataError(path, None, "the file holds no token lines.",
                        "give a CoNLL file: one token per line (token, ..., tag), a blank line between sentences.")
    return width


def _column(path: str, key: str, number: int, width: int) -> int:
    if not -width <= number < width:
        raise DataError(path, None, f"has {width} columns, so there is no column {number} for data.{key}.",
                        f"set data.{key} to a column number from 0 to {width - 1} (negative counts from the end).")
    return number % width


def _read(path: str, data: NerDataConfig, fields: dict[str, Field], with_tags: bool, progress: bool) -> Dataset:
    width = _width(path)
    columns: list[Any] = [None] * width
    word = [("word", fields["word"])] + ([("char", fields["char"])] if "char" in fields else [])
    token_column = _column(path, "token_column", data.token_column, width)
    columns[token_column] = tuple(word)
    if "feature" in fields and data.feature_column is not None:
        feature_column = _column(path, "feature_column", data.feature_column, width)
        if feature_column == token_column:
            raise ConfigError("data.token_column and data.feature_column name the same column")
        columns[feature_column] = ("feature", fields["feature"])
    if with_tags:
        if width < 2:
            raise DataError(path, None, "has a single column, so no tags to train or evaluate on.",
                            "give CoNLL lines `token ... tag`, or use `predict` for untagged text.")
        tag_column = _column(path, "tag_column", data.tag_column, width)
        if columns[tag_column] is not None:
            raise ConfigError("data.tag_column names the same column as data.token_column or data.feature_column")
        columns[tag_column] = ("tag", fields["tag"])
    return SequenceTaggingDataset(path, columns, on_error=data.on_error, progress=progress)


def build_fields(config: NerConfig) -> dict[str, Field]:
    fields: dict[str, Field] = {
        "word": Field(tokenize=None, lower=config.data.lower, include_lengths=True, batch_first=True,
                      max_length=config.data.max_tokens, max_token_chars=config.data.max_token_chars),
        "tag": TagField(scheme=config.data.scheme, on_invalid="repair" if config.data.repair_tags else "error",
                        batch_first=True),
    }
    if config.model.char_features:
        fields["char"] = NestedField(Field(tokenize="char"), tokenize=None, batch_first=True)
    if config.data.feature_column is not None:
        fields["feature"] = Field(tokenize=None, batch_first=True)
    return fields


def build_vocabs(fields: dict[str, Field], train_set: Dataset, min_freq: int) -> None:
    """Every field's vocabulary from the training set; words seen fewer than ``min_freq`` times map to <unk>."""
    for name, f in fields.items():
        f.build_vocab(train_set, min_freq=min_freq if name == "word" else 1)


def build_model(model: NerModelConfig, fields: dict[str, Field]) -> SequenceTagger:
    word, tag = fields["word"], fields["tag"]
    assert word.vocab is not None and tag.vocab is not None
    char = fields.get("char")
    feature = fields.get("feature")
    if not 0 <= model.word_dropout < 1:
        raise ConfigError(f"model.word_dropout is a probability from 0 up to (not including) 1, not {model.word_dropout}")
    width = model.hidden_size * (2 if model.bidirectional else 1)
    if model.attention_heads and width % model.attention_heads:
        raise ConfigError(f"model.attention_heads={model.attention_heads} does not divide the encoder's output width "
                          f"{width}: choose a divisor of it, such as {next(h for h in (4, 2, 1) if width % h == 0)}")
    return SequenceTagger(len(word.vocab), len(tag.vocab), embedding_dim=model.embedding_dim,
                          hidden_size=model.hidden_size, crf=model.crf, tags=tag.vocab.itos,
                          padding_idx=word.vocab.index("<pad>"),
                          char_vocab_size=len(char.vocab) if char is not None and char.vocab is not None else None,
                          char_dim=model.char_dim, char_hidden=model.char_hidden,
                          feature_vocab_size=len(feature.vocab) if feature is not None and feature.vocab is not None else None,
                          feature_dim=model.feature_dim, word_dropout=model.word_dropout,
                          unk_idx=word.vocab.unk_index,
                          attention_heads=model.attention_heads, num_layers=model.num_layers,
                          bidirectional=model.bidirectional, input_dropout=model.dropout,
                          layer_dropout=model.dropout, output_dropout=model.dropout)


def emissions(model: SequenceTagger, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    tokens, lengths = batch.word
    chars = batch.tensors["char"] if "char" in batch.tensors else None
    features = batch.tensors["feature"]["data"] if "feature" in batch.tensors else None
    return model(tokens, lengths, chars["data"] if chars else None, chars["char_lengths"] if chars else None,
                 features), lengths


@torch.no_grad()
def decode(model: SequenceTagger, dataset: Dataset, tags: list[str],
           device: torch.device) -> tuple[list[list[str]], list[list[str]]]:
    """(predicted tags, gold tags or empty lists) per sentence, in the file's order."""
    model.eval()
    predicted: list[list[str]] = [[] for _ in range(len(dataset))]
    gold: list[list[str]] = [[] for _ in range(len(dataset))]
    for batch in BucketIterator(dataset, batch_size=128, train=False, device=device):
        scores, lengths = emissions(model, batch)
        paths = model.decode(scores, lengths)
        for position, row in enumerate(batch.rows.tolist()):
            predicted[row] = [tags[i] for i in paths[position]]
            if "tag" in dataset.fields:
                gold[row] = [tags[i] for i in batch.tag[position, : int(lengths[position])].tolist()]
    return predicted, gold


def train(config: NerConfig, progress: bool = True, resume: bool = False) -> dict[str, Any]:
    ctx = setup(config.device)
    device = ctx.device
    fields = build_fields(config)
    if not config.data.valid:
        raise ConfigError("config key 'data.valid' is required for ner (a CoNLL file to pick the best epoch)")
    train_set = _read(config.data.train, config.data, fields, True, progress and ctx.is_main)
    valid_set = _read(config.data.valid, config.data, fields, True, progress and ctx.is_main)
    skipped = [str(p) for d in (train_set, valid_set) for p in d.skipped]
    build_vocabs(fields, train_set, config.data.min_freq)
    assert fields["tag"].vocab is not None
    tags = fields["tag"].vocab.itos
    torch.manual_seed(config.train.seed)
    model = build_model(config.model, fields)
    iterator = BucketIterator(train_set, batch_size=config.data.batch_size, seed=config.train.seed, device=device,
                              rank=ctx.rank, world_size=ctx.world_size)

    def step(model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        scores, lengths = emissions(model, batch)  # type: ignore[arg-type]
        return unwrap(model).loss(scores, batch.tag, lengths), int(lengths.sum())

    def evaluate(model: torch.nn.Module) -> dict[str, Any]:
        predicted, gold = decode(model, valid_set, tags, device)  # type: ignore[arg-type]
        return ner_metrics(gold, predicted)

    out = Path(config.out)
    trainer = Trainer(model, config.train, iterator, step, evaluate, out, device=device, progress=progress,
                      distributed=ctx)
    history = trainer.fit(resume=resume)
    if not ctx.is_main:
        return {}  # rank 0 writes the bundle and reports
    plot_history(history, out / "curves.png", ["precision", "recall", "f1"])
    best = torch.load(out / "best.pt", weights_only=True)
    model.load_state_dict(best["model"])
    save_bundle(out / "bundle", TASK, asdict(config), fields, model.state_dict())
    result: dict[str, Any] = {"best_epoch": best["epoch"], "valid": evaluate(model), "history": history,
                              "train_sentences": len(train_set), "valid_sentences": len(valid_set),
                              "vocab": len(fields["word"].vocab or []), "skipped": skipped}
    if config.data.test:
        test_set = _read(config.data.test, config.data, fields, True, progress)
        predicted, gold = decode(model, test_set, tags, device)
        result["test"] = ner_metrics(gold, predicted)
    (out / "result.json").write_text(json.dumps({k: v for k, v in result.items()}, ensure_ascii=False, indent=1,
                                                default=str), encoding="utf-8")
    return result


def load(bundle: str | Path) -> tuple[SequenceTagger, dict[str, Field], NerConfig]:
    raw, fields, weights = load_bundle(bundle, TASK)
    config = NerConfig(data=NerDataConfig(**raw["data"]), model=NerModelConfig(**raw["model"]))
    model = build_model(config.model, fields)
    model.load_state_dict(weights)
    return model.to(default_device()), fields, config


def _tag_names(fields: dict[str, Field]) -> list[str]:
    vocab = fields["tag"].vocab
    assert vocab is not None
    return vocab.itos


def evaluate(bundle: str | Path, path: str, progress: bool = True, on_error: str | None = None) -> dict[str, Any]:
    model, fields, config = load(bundle)
    if on_error:
        config.data.on_error = on_error
    dataset = _read(path, config.data, fields, True, progress)
    check_dataset_tokens(dataset, "word", fields["word"])
    predicted, gold = decode(model, dataset, _tag_names(fields), next(model.parameters()).device)
    return {"sentences": len(dataset), "skipped": [str(p) for p in dataset.skipped], **ner_metrics(gold, predicted)}


def predict(bundle: str | Path, path: str, out: str | Path | None, progress: bool = True,
            on_error: str | None = None) -> tuple[int, list[str]]:
    """Write ``token<TAB>predicted tag`` lines, a blank line between sentences, in the file's order.
    The file needs only the token column (and the feature column, if the model uses one); a tag column,
    if present, is ignored."""
    model, fields, config = load(bundle)
    if on_error:
        config.data.on_error = on_error
    tags = _tag_names(fields)
    inputs = {name: f for name, f in fields.items() if name != "tag"}
    dataset = _read(path, config.data, inputs, False, progress)
    check_dataset_tokens(dataset, "word", fields["word"])
    predicted, _ = decode(model, dataset, tags, next(model.parameters()).device)
    handle = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        for sentence, labels in zip(dataset.table.column("word").to_pylist(), predicted):
            handle.write("".join(f"{w}\t{t}\n" for w, t in zip(sentence, labels)) + "\n")
    finally:
        if out:
            handle.close()
    return len(dataset), [str(p) for p in dataset.skipped]
