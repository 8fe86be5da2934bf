"""Text classification from a TSV/CSV/JSONL file: a label per row, accuracy, macro-F1, a confusion matrix."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Annotated, Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from nlprnn.config import Cell, Device, Fraction, OnError, PositiveInt, Probability, Range, TokenizerName
from nlprnn.data.dataset import Dataset
from nlprnn.data.field import Field
from nlprnn.data.file_datasets import TabularDataset
from nlprnn.data.iterators import BucketIterator
from nlprnn.data.label_field import LabelField
from nlprnn.data.readers import read_delimited, read_jsonl, read_tsv
from nlprnn.errors import ConfigError
from nlprnn.models.heads import SequenceClassifier
from nlprnn.models.pretrained import LanguageModelEncoder, PretrainedClassifier
from nlprnn.tasks import pretraining
from nlprnn.tasks.base import Splits, Task
from nlprnn.tokenizers import available_tokenizers
from nlprnn.tokenizers.ray_engine import ray_summary, summary_line, with_engine
from nlprnn.training.metrics import classification_metrics
from nlprnn.training.trainer import TrainConfig


@dataclass
class DataConfig:
    """Which files, which columns, how to tokenize."""

    train: str = "data/sentiment/train.tsv"
    valid: str | None = None
    test: str | None = "data/sentiment/test.tsv"
    format: Literal["tsv", "csv", "jsonl"] = "tsv"
    text_column: str = "text"
    label_column: str = "label"
    tokenizer: TokenizerName = "kkma"
    lower: bool = False
    max_vocab: PositiveInt | None = None
    max_tokens: PositiveInt | None = 5000  # a longer row is reported (or skipped): a runaway line, not a review
    min_freq: PositiveInt = 1
    valid_ratio: Fraction = 0.1  # a share of the training file, when data.valid is not set
    test_ratio: Annotated[float, Range(0.0, 1.0, high_open=True)] = 0.0
    split_seed: int = 0
    batch_size: PositiveInt = 32
    on_error: OnError = "raise"
    # local: the tokenizer's own processes here; ray: a pool of Ray actors (pip install 'nlprnn[ray]'), on a
    # cluster at ``address`` ("auto" or HOST:PORT) or, without one, on Ray started on this machine
    engine: Literal["local", "ray"] = "local"
    address: str | None = None


@dataclass
class ModelConfig:
    """The SequenceClassifier: embedding -> RNNEncoder -> pooling -> linear."""

    embedding_dim: PositiveInt = 128
    hidden_size: PositiveInt = 128
    num_layers: PositiveInt = 2
    cell: Cell = "lstm"
    bidirectional: bool = True
    dropout: Probability = 0.3
    layer_norm: bool = False
    pooling: Literal["last", "max", "mean"] = "last"
    # language-model bundle(s) of `lm train`, `FWD/bundle` or `FWD/bundle,BWD/bundle`, used as pretrained_as says:
    # encoder (ULMFiT): the classifier's encoder is their embedding and recurrent layers, with concat pooling and
    # a two-layer head, the sizes above unused; inputs (TagLM): their states join the embedding as the input
    # of the classifier's own encoder of the sizes above (the embedding starts from theirs when the sizes match).
    # NSMC test: inputs 0.8761, encoder 0.8694, from scratch 0.8699 (bundles from before the key were all
    # trained as encoder and are read so, by ``upgrade``)
    pretrained: str | None = None
    pretrained_as: Literal["encoder", "inputs"] = "inputs"
    freeze: Literal["gradual", "none", "frozen"] = "gradual"  # the LM layers: one more group per epoch, all, none
    layer_lr_decay: Annotated[float, Range(low=1.0)] = 2.6  # each LM layer group down learns this much slower
    head_hidden: PositiveInt = 50  # the pretrained classifier's head


@dataclass
class ClassifyConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=8, lr=2e-3, monitor="accuracy"))
    out: str = "runs/classify"
    device: Device | None = None  # default: CUDA when a GPU is visible, else CPU


class ClassifyTask(Task):
    """A label for each row of a table: a BiLSTM over the row's tokens."""

    name = "classify"
    Config = ClassifyConfig
    summary = "train / evaluate / predict a text classifier (TSV, CSV, JSONL)"
    metrics = ("accuracy", "macro_f1")
    curves = ("accuracy", "macro_f1")
    flags = {"--tokenizer": ("data.tokenizer", ", ".join(available_tokenizers())),
             "--engine": ("data.engine", "local (default) | ray: tokenize the files on a Ray cluster's actors"),
             "--address": ("data.address", "with --engine ray: a running cluster, auto or HEAD:6379 (default: "
                                           "Ray started on this machine)")}
    own_file = {"data.valid": None, "data.test": None, "data.test_ratio": 0.1}
    dry_run = {"model.hidden_size": 16, "model.embedding_dim": 16, "model.num_layers": 1}
    config: ClassifyConfig

    def __init__(self, config: ClassifyConfig) -> None:
        super().__init__(config)
        self.encoder: LanguageModelEncoder | None = None
        """The language models' encoder, loaded with their vocabulary (``model.pretrained``)."""

    @classmethod
    def upgrade(cls, config: dict[str, Any], state: dict[str, Any]) -> None:
        model = config.get("model", {})
        if "pretrained_as" not in model:  # bundles before the key: the language models were the encoder
            model["pretrained_as"] = "encoder"

    def fields(self) -> dict[str, Field]:
        data = self.config.data
        pretraining.check_paths(self.config.model.pretrained)
        tokenizer = with_engine(data.tokenizer, data.engine, data.address, progress=False, key="data.address")
        text = Field(tokenize=tokenizer, lower=data.lower, include_lengths=True, batch_first=True,
                     max_length=data.max_tokens)
        return {"text": text, "label": LabelField()}

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True, progress: bool = False) -> Dataset:
        data = self.config.data
        columns: dict[str, Any] = {data.text_column: ("text", fields["text"])}
        if labelled:
            columns[data.label_column] = ("label", fields["label"])
        return TabularDataset(path, data.format, columns, skip_header=data.format != "jsonl", on_error=data.on_error,
                              progress=progress)

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        """The training file, less a stratified, seeded validation share unless ``data.valid`` names a file,
        and less a test share when ``data.test_ratio`` is set and ``data.test`` is not."""
        data = self.config.data
        train = self.read(data.train, fields, progress=progress)
        test = self.read(data.test, fields, progress=progress) if data.test else None
        valid = self.read(data.valid, fields, progress=progress) if data.valid else None
        skipped = [str(p) for d in (train, test, valid) if d is not None for p in d.skipped]
        whole = len(train)
        if test is None and data.test_ratio:
            train, test = train.split(1 - data.test_ratio, stratified=True, random_state=data.split_seed)
        if valid is None:
            share = data.valid_ratio * whole / len(train)  # valid_ratio is a share of the whole file
            if not 0 < share < 1:
                raise ConfigError("config key 'data.valid_ratio' must leave rows for training and validation "
                                  f"(with data.test_ratio={data.test_ratio})", key="data.valid_ratio",
                                  value=data.valid_ratio)
            train, valid = train.split(1 - share, stratified=True, random_state=data.split_seed + 1)
        return Splits(train, valid, test, skipped)

    def build_vocabs(self, fields: dict[str, Field], train: Dataset) -> None:
        """The label vocab; the text vocab from the training part, or the language models' (``model.pretrained``)."""
        if self.config.model.pretrained:
            self.encoder = pretraining.load_encoder(self.config.model.pretrained, fields["text"], self.state)
        else:
            fields["text"].build_vocab(train, max_size=self.config.data.max_vocab, min_freq=self.config.data.min_freq)
        fields["label"].build_vocab(train)

    def build_model(self, fields: dict[str, Field]) -> nn.Module:
        m = self.config.model
        text, label = fields["text"].vocab, fields["label"].vocab
        assert text is not None and label is not None
        lm = pretraining.encoder_for(m.pretrained, fields["text"], self.state) if self.encoder is None else self.encoder
        if lm is not None and m.pretrained_as == "encoder":
            return PretrainedClassifier(lm, len(label), head_hidden=m.head_hidden, dropout=m.dropout)
        classifier = SequenceClassifier(
            len(text), len(label), embedding_dim=m.embedding_dim, hidden_size=m.hidden_size, pooling=m.pooling,
            padding_idx=text.index("<pad>"), num_layers=m.num_layers, cell=m.cell, bidirectional=m.bidirectional,
            input_dropout=m.dropout, layer_dropout=m.dropout, output_dropout=m.dropout, layer_norm=m.layer_norm,
            lm_encoder=lm)
        pretraining.start_embedding(classifier.embedding, self.encoder)
        return classifier

    def _language_models(self, model: nn.Module) -> LanguageModelEncoder | None:
        """The model's pretrained layers: its encoder (ULMFiT) or its input encoder (TagLM); None from scratch."""
        if not self.config.model.pretrained:
            return None
        return cast(LanguageModelEncoder, model.encoder if isinstance(model, PretrainedClassifier) else model.lm_encoder)

    def parameter_groups(self, model: nn.Module) -> list[dict[str, Any]] | None:
        return pretraining.parameter_groups(model, self._language_models(model), self.config.model.layer_lr_decay)

    def before_epoch(self, model: nn.Module, epoch: int) -> None:
        pretraining.unfreeze(self._language_models(model), self.config.model.freeze, epoch)

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        tokens, lengths = batch.text
        return F.cross_entropy(model(tokens, lengths), batch.label), int(lengths.sum())

    @torch.no_grad()
    def predict(self, model: nn.Module, data: Dataset, device: torch.device) -> dict[str, list]:
        """Predicted class, its probability, every class's probability (``scores``) and the gold class (or -1)
        of every row, in the file's order."""
        model.eval()
        predicted, confidence, gold = [0] * len(data), [0.0] * len(data), [-1] * len(data)
        scores: list[list[float]] = [[] for _ in range(len(data))]
        for batch in BucketIterator(data, batch_size=256, train=False, device=device):
            text, lengths = batch.text
            probabilities = model(text, lengths).float().softmax(-1)
            best = probabilities.max(-1)
            rows = batch.rows.tolist()
            labels = batch.label.tolist() if "label" in data.fields else [-1] * len(rows)
            for position, (row, index, value, every) in enumerate(zip(rows, best.indices.tolist(), best.values.tolist(),
                                                                      probabilities.tolist())):
                predicted[row], confidence[row], gold[row], scores[row] = index, value, labels[position], every
        return {"predicted": predicted, "confidence": confidence, "scores": scores, "gold": gold}

    def evaluate(self, model: nn.Module, data: Dataset, device: torch.device) -> dict[str, Any]:
        result = self.predict(model, data, device)
        label = data.fields["label"].vocab
        assert label is not None
        return classification_metrics(result["gold"], result["predicted"], label.itos)

    def write_predictions(self, data: Dataset, predictions: dict[str, list], fields: dict[str, Field], source: str,
                          handle: IO[str]) -> int:
        """``line, text, predicted, probability`` as TSV, the text as the file has it."""
        labels = fields["label"].vocab
        assert labels is not None
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        writer.writerow(["line", "text", "predicted", "probability"])
        texts = self._raw_texts(source)
        for row, line in enumerate(data.lines.tolist()):
            writer.writerow([line, texts[line], labels.itos[predictions["predicted"][row]],
                             f"{predictions['confidence'][row]:.4f}"])
        return len(data)

    def _raw_texts(self, path: str) -> dict[int, str]:
        """line -> the text as written in the file (tabs and newlines cannot occur in a TSV cell)."""
        data = self.config.data
        if data.format == "jsonl":
            read = read_jsonl(path, [data.text_column], on_error="skip")
        elif data.format == "csv":
            read = read_delimited(path, "csv", on_error="skip")
        else:
            read = read_tsv(path, on_error="skip")
        column = read.table.column(data.text_column).to_pylist()
        return {int(line): text.replace("\t", " ").replace("\n", " ")
                for line, text in zip(read.lines.tolist(), column)}

    def describe(self, splits: Splits, fields: dict[str, Field], model: nn.Module) -> dict[str, Any]:
        label = fields["label"].vocab
        assert label is not None
        sizes = {"train_rows": len(splits.train), "valid_rows": len(splits.valid),
                 "vocab": len(fields["text"].vocab or []), "labels": label.itos}
        ray = ray_summary(fields["text"].tokenizer)
        return {**sizes, **({"test_rows": len(splits.test)} if splits.test is not None else {}),
                **({"ray": ray} if ray is not None else {})}

    def report(self, name: str, metrics: dict[str, Any]) -> Iterable[str]:
        yield f"{name:<6} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}"
        labels = metrics["labels"]
        width = max(6, *(len(label) for label in labels))
        yield f"       confusion (rows gold, columns predicted): {' '.join(f'{label:>{width}}' for label in labels)}"
        for label, row in zip(labels, metrics["confusion"]):
            yield f"       {label:>{width}} {' '.join(f'{n:>{width}}' for n in row)}"

    def epoch_line(self, record: dict[str, Any]) -> str:
        return (f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid accuracy {record['accuracy']:.4f}"
                f"  macro-F1 {record['macro_f1']:.4f}  {record['tokens_per_s']:,.0f} tok/s"
                f"{'  *' if record.get('best') else ''}")

    def result_lines(self, result: dict[str, Any]) -> Iterable[str]:
        yield (f"rows: train {result['train_rows']}, valid {result['valid_rows']}"
                + (f", test {result['test_rows']}" if "test_rows" in result else "")
                + f"; vocab {result['vocab']}; best epoch {result['best_epoch']}")
        if result.get("ray"):
            yield f"ray: {summary_line(result['ray'])}"
