"""Named-entity recognition from CoNLL column files: BiLSTM(-CRF) with optional character features.

Metrics are seqeval's entity-level precision/recall/F1 in strict IOB2 mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Annotated, Any, Literal

import torch
from torch import nn

from nlprnn.config import Device, OnError, PositiveInt, Probability, Range
from nlprnn.data.batching import Batch
from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.data.file_datasets import SequenceTaggingDataset
from nlprnn.data.iterators import BucketIterator
from nlprnn.data.nested_field import NestedField
from nlprnn.data.readers import conll_width
from nlprnn.data.tag_field import TagField
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.heads import SequenceTagger
from nlprnn.tasks.base import Splits, Task
from nlprnn.training.distributed import unwrap
from nlprnn.training.metrics import ner_metrics
from nlprnn.training.trainer import TrainConfig


@dataclass
class NerDataConfig:
    train: str = "data/ner/train.conll"
    valid: str | None = "data/ner/dev.conll"  # required: the file that picks the best epoch
    test: str | None = None
    token_column: int = 0
    tag_column: int = -1
    feature_column: int | None = None  # a per-token feature column (e.g. POS) embedded beside each word
    scheme: Literal["bio", "iob1", "bioes"] = "bio"
    repair_tags: bool = False
    lower: bool = False
    min_freq: PositiveInt = 1
    batch_size: PositiveInt = 32
    on_error: OnError = "raise"
    max_tokens: PositiveInt | None = 1000  # tokens per sentence; a longer one is reported (or skipped)
    max_token_chars: PositiveInt | None = 100  # characters per token; a longer one is reported (or skipped)


@dataclass
class NerModelConfig:
    embedding_dim: PositiveInt = 100
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 1
    bidirectional: bool = True
    dropout: Probability = 0.3
    crf: bool = True
    char_features: bool = True
    char_dim: PositiveInt = 32
    char_hidden: PositiveInt = 32
    feature_dim: PositiveInt = 32
    word_dropout: Probability = 0.0  # in training, the chance that a word is read as <unk> (its characters stay)
    attention_heads: Annotated[int, Range(low=0)] = 0  # > 0: self-attention over the BiLSTM outputs, before the CRF


@dataclass
class NerConfig:
    data: NerDataConfig = field(default_factory=NerDataConfig)
    model: NerModelConfig = field(default_factory=NerModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=15, lr=5e-3, monitor="f1"))
    out: str = "runs/ner"
    device: Device | None = None  # default: CUDA when a GPU is visible, else CPU


def _column(path: str, key: str, number: int, width: int) -> int:
    if not -width <= number < width:
        raise DataError(path, None, f"has {width} columns, so there is no column {number} for data.{key}.",
                        f"set data.{key} to a column number from 0 to {width - 1} (negative counts from the end)",
                        code="no_such_column")
    return number % width


def emissions(model: SequenceTagger, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The tagger's per-token scores of a batch (B, T, K), and the sentence lengths (B,)."""
    tokens, lengths = batch.word
    chars = batch.tensor("char") if "char" in batch.fields else None
    char_lengths = batch.tensor("char", "char_lengths") if "char" in batch.fields else None
    features = batch.tensor("feature") if "feature" in batch.fields else None
    return model(tokens, lengths, chars, char_lengths, features), lengths


class NerTask(Task):
    """BIO entity tags for each token of a CoNLL file's sentences."""

    name = "ner"
    Config = NerConfig
    summary = "train / evaluate / predict a BiLSTM-CRF named-entity tagger (CoNLL columns)"
    metrics = ("f1", "precision", "recall")
    curves = ("precision", "recall", "f1")
    flags = {"--valid": ("data.valid", "the CoNLL file that picks the best epoch")}
    dry_run = {"model.hidden_size": 16, "model.embedding_dim": 16, "model.char_dim": 8, "model.char_hidden": 8}
    config: NerConfig

    def fields(self) -> dict[str, Field]:
        data, model = self.config.data, self.config.model
        fields: dict[str, Field] = {
            "word": Field(tokenize=None, lower=data.lower, include_lengths=True, batch_first=True,
                          max_length=data.max_tokens, max_token_chars=data.max_token_chars),
            "tag": TagField(scheme=data.scheme, on_invalid="repair" if data.repair_tags else "error", batch_first=True),
        }
        if model.char_features:
            fields["char"] = NestedField(Field(tokenize="char"), tokenize=None, batch_first=True)
        if data.feature_column is not None:
            fields["feature"] = Field(tokenize=None, batch_first=True)
        return fields

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True, progress: bool = False) -> Dataset:
        """The file's token column (with its characters), the feature column, and the tags when ``labelled``."""
        data = self.config.data
        width = conll_width(path)
        if width is None:
            raise DataError(path, None, "the file holds no token lines.", "give a CoNLL file: one token per line "
                            "(token, ..., tag), a blank line between sentences", code="no_tokens")
        columns: list[Any] = [None] * width
        token_column = _column(path, "token_column", data.token_column, width)
        columns[token_column] = tuple([("word", fields["word"])] + ([("char", fields["char"])] if "char" in fields else []))
        if "feature" in fields and data.feature_column is not None:
            feature_column = _column(path, "feature_column", data.feature_column, width)
            if feature_column == token_column:
                raise ConfigError("data.token_column and data.feature_column name the same column",
                                  key="data.feature_column", value=data.feature_column)
            columns[feature_column] = ("feature", fields["feature"])
        if labelled:
            if width < 2:
                raise DataError(path, None, "has a single column, so no tags to train or evaluate on.",
                                "give CoNLL lines `token ... tag`, or use `predict` for untagged text", code="no_tags")
            tag_column = _column(path, "tag_column", data.tag_column, width)
            if columns[tag_column] is not None:
                raise ConfigError("data.tag_column names the same column as data.token_column or data.feature_column",
                                  key="data.tag_column", value=data.tag_column)
            columns[tag_column] = ("tag", fields["tag"])
        return SequenceTaggingDataset(path, columns, on_error=data.on_error, progress=progress)

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        data = self.config.data
        if not data.valid:
            raise ConfigError("config key 'data.valid' is required for ner (a CoNLL file to pick the best epoch)",
                              key="data.valid", value=data.valid)
        train, valid = self.read(data.train, fields, progress=progress), self.read(data.valid, fields, progress=progress)
        test = self.read(data.test, fields, progress=progress) if data.test else None
        return Splits(train, valid, test, [str(p) for d in (train, valid, test) if d is not None for p in d.skipped])

    def build_vocabs(self, fields: dict[str, Field], train: Dataset) -> None:
        """Every field's vocabulary from the training set; words seen fewer than ``min_freq`` times map to <unk>."""
        for name, f in fields.items():
            f.build_vocab(train, min_freq=self.config.data.min_freq if name == "word" else 1)

    def build_model(self, fields: dict[str, Field]) -> SequenceTagger:
        m = self.config.model
        word, tag = fields["word"].vocab, fields["tag"].vocab
        assert word is not None and tag is not None
        char, feature = fields.get("char"), fields.get("feature")
        width = m.hidden_size * (2 if m.bidirectional else 1)
        if m.attention_heads and width % m.attention_heads:
            divisor = next(h for h in (4, 2, 1) if width % h == 0)
            raise ConfigError(f"model.attention_heads={m.attention_heads} does not divide the encoder's output width "
                              f"{width}: choose a divisor of it, such as {divisor}", key="model.attention_heads",
                              value=m.attention_heads)
        return SequenceTagger(len(word), len(tag), embedding_dim=m.embedding_dim, hidden_size=m.hidden_size, crf=m.crf,
                              tags=tag.itos, padding_idx=word.index("<pad>"),
                              char_vocab_size=len(char.vocab) if char is not None and char.vocab is not None else None,
                              char_dim=m.char_dim, char_hidden=m.char_hidden,
                              feature_vocab_size=len(feature.vocab) if feature is not None and feature.vocab else None,
                              feature_dim=m.feature_dim, word_dropout=m.word_dropout, unk_idx=word.unk_index,
                              attention_heads=m.attention_heads, num_layers=m.num_layers, bidirectional=m.bidirectional,
                              input_dropout=m.dropout, layer_dropout=m.dropout, output_dropout=m.dropout)

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        scores, lengths = emissions(model, batch)  # type: ignore[arg-type]
        return unwrap(model).loss(scores, batch.tag, lengths), int(lengths.sum())

    @torch.no_grad()
    def predict(self, model: nn.Module, data: Dataset, device: torch.device) -> dict[str, list[list[int]]]:
        """Predicted tag ids and gold tag ids (empty without tags) per sentence, in the file's order."""
        model.eval()
        predicted: list[list[int]] = [[] for _ in range(len(data))]
        gold: list[list[int]] = [[] for _ in range(len(data))]
        for batch in BucketIterator(data, batch_size=128, train=False, device=device):
            scores, lengths = emissions(model, batch)  # type: ignore[arg-type]
            paths = unwrap(model).decode(scores, lengths)
            tags = batch.tag.tolist() if "tag" in data.fields else None
            for position, (row, n) in enumerate(zip(batch.rows.tolist(), lengths.tolist())):
                predicted[row] = paths[position]
                if tags is not None:
                    gold[row] = tags[position][:n]
        return {"predicted": predicted, "gold": gold}

    def evaluate(self, model: nn.Module, data: Dataset, device: torch.device) -> dict[str, Any]:
        result = self.predict(model, data, device)
        vocab = data.fields["tag"].vocab
        assert vocab is not None
        names = vocab.itos
        return ner_metrics([[names[i] for i in s] for s in result["gold"]],
                           [[names[i] for i in s] for s in result["predicted"]])

    def write_predictions(self, data: Dataset, predictions: dict[str, list[list[int]]], fields: dict[str, Field],
                          source: str, handle: IO[str]) -> int:
        """``token<TAB>tag`` lines, a blank line between sentences, in the file's order."""
        vocab = fields["tag"].vocab
        assert vocab is not None
        for sentence, tags in zip(data.table.column("word").to_pylist(), predictions["predicted"]):
            handle.write("".join(f"{w}\t{vocab.itos[t]}\n" for w, t in zip(sentence, tags)) + "\n")
        return len(data)

    def describe(self, splits: Splits, fields: dict[str, Field], model: nn.Module) -> dict[str, Any]:
        return {"train_sentences": len(splits.train), "valid_sentences": len(splits.valid),
                "vocab": len(fields["word"].vocab or [])}

    def report(self, name: str, metrics: dict[str, Any]) -> Iterable[str]:
        yield f"{name:<6} precision {metrics['precision']:.4f}  recall {metrics['recall']:.4f}  F1 {metrics['f1']:.4f}"
        yield metrics["report"]

    def epoch_line(self, record: dict[str, Any]) -> str:
        return (f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid P {record['precision']:.4f}"
                f"  R {record['recall']:.4f}  F1 {record['f1']:.4f}  {record['tokens_per_s']:,.0f} tok/s"
                f"{'  *' if record.get('best') else ''}")

    def result_lines(self, result: dict[str, Any]) -> Iterable[str]:
        yield (f"sentences: train {result['train_sentences']}, valid {result['valid_sentences']}; "
                f"vocab {result['vocab']}; best epoch {result['best_epoch']}")
