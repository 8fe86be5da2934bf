"""Language modeling on a text file: word or character level, BPTT training, perplexity, generation.

The default corpus is the Korean constitution that KoNLPy ships (``konlpy:kolaw/constitution.txt``), at
character level. The loss is the mean per token, so Zaremba et al.'s learning rate 1 (for a loss summed
over the window) corresponds to about ``bptt_len`` here, as in pytorch/examples' word_language_model (lr 20).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
import torch
from torch import nn

from nlprnn.config import Cell, Device, Fraction, PositiveInt, Probability, Range, TokenizerName
from nlprnn.data.dataset import LINE, Dataset
from nlprnn.data.entity_files import read_klp2016
from nlprnn.data.field import Field
from nlprnn.data.file_datasets import LanguageModelingDataset
from nlprnn.data.iterators import BPTTIterator
from nlprnn.data.readers import read_conll, read_tsv
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.generation import generate
from nlprnn.models.heads import LanguageModel, adaptive_cutoffs
from nlprnn.tasks.base import Splits, Task
from nlprnn.tasks.checks import check_known_tokens
from nlprnn.training.distributed import Distributed, unwrap
from nlprnn.training.metrics import language_model_metrics
from nlprnn.training.trainer import TrainConfig


@dataclass
class LMDataConfig:
    train: str = "konlpy:kolaw/constitution.txt"
    valid: str | None = None
    valid_fraction: Fraction = 0.1  # the last lines of data.train, when data.valid is not set
    test: str | None = None  # scored after training, as the validation part is
    test_fraction: Annotated[float, Range(0.0, 1.0, high_open=True)] = 0.0  # the very last lines, when data.test is not set
    level: Literal["word", "char"] = "char"
    tokenizer: TokenizerName = "whitespace"  # for level "word"
    # text: a row a line | tsv: the column data.text_column of a TSV with a header (e.g. NSMC's document) |
    # conll: the column data.token_column of a CoNLL file, a sentence a row | klp2016: the 2016 corpus's
    # morphemes, a sentence a row. Labels are never read: a labelled training file is fair unlabeled text.
    format: Literal["text", "tsv", "conll", "klp2016"] = "text"
    text_column: str = "text"
    token_column: int = 0
    direction: Literal["forward", "backward"] = "forward"  # backward: read right to left (for model.pretrained)
    min_freq: PositiveInt = 1  # rarer words are <unk> (word level)
    max_vocab: PositiveInt | None = None
    batch_size: PositiveInt = 16
    bptt_len: PositiveInt = 64
    eval_batch_size: PositiveInt = 10


@dataclass
class LMModelConfig:
    embedding_dim: PositiveInt = 128
    hidden_size: PositiveInt = 256
    num_layers: PositiveInt = 2
    cell: Cell = "lstm"
    dropout: Probability = 0.2
    tie_weights: bool = False
    layer_norm: bool = False
    # "2000,10000": an adaptive softmax with these cluster boundaries (word ids, ascending; the most
    # frequent words come first); "" for the full softmax. Faster for a large word vocabulary on a CPU.
    adaptive_cutoffs: str = ""


@dataclass
class LMConfig:
    data: LMDataConfig = field(default_factory=LMDataConfig)
    model: LMModelConfig = field(default_factory=LMModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=10, optimizer="adam", lr=3e-3, clip=0.25, monitor="loss", mode="min"))
    out: str = "runs/lm"
    device: Device | None = None  # default: CUDA when a GPU is visible, else CPU


def resolve_path(path: str) -> str:
    """``konlpy:RELATIVE`` names a corpus file inside the KoNLPy package; other paths are plain."""
    if path.startswith("konlpy:"):
        import konlpy

        return os.path.join(os.path.dirname(konlpy.__file__), "data", "corpus", path.split(":", 1)[1])
    return path


def reverse_text(data: Dataset) -> Dataset:
    """The stream read right to left: every row's tokens reversed, and the rows in reverse order."""
    rows = data.table.column("text").to_pylist()[::-1]
    table = pa.table({"text": pa.array([row[::-1] for row in rows], type=pa.list_(pa.string())),
                      LINE: pa.array(data.lines[::-1].copy(), type=pa.int64())})
    return Dataset(table, data.fields, path=data.path, skipped=data.skipped)


class LanguageModelTask(Task):
    """The next token of a text, the state carried from window to window; generation from a prompt."""

    name = "lm"
    Config = LMConfig
    summary = "train / evaluate / generate a word- or character-level LSTM language model"
    metrics = ("loss", "perplexity", "bits_per_token")
    curves = ("loss",)
    predict_command = None  # a language model generates instead (``generate``)
    dry_run = {"model.hidden_size": 32, "model.embedding_dim": 16, "model.num_layers": 1}
    own_file = {"data.valid": None, "data.test": None, "data.test_fraction": 0.1}
    config: LMConfig

    def __init__(self, config: LMConfig) -> None:
        super().__init__(config)
        self.carry = {"state": None}  # saved in checkpoints, so a mid-epoch resume is exact
        self.iterator: BPTTIterator | None = None

    def fields(self) -> dict[str, Field]:
        data = self.config.data
        for key, value, default, fmt in (("text_column", data.text_column, "text", "tsv"),
                                         ("token_column", data.token_column, 0, "conll")):
            if value != default and data.format != fmt:
                raise ConfigError(f"data.{key} applies to data.format={fmt}, and data.format is {data.format!r}",
                                  key=f"data.{key}", value=value)
        return {"text": Field(tokenize="char" if data.level == "char" else data.tokenizer, batch_first=True)}

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True, progress: bool = False,
             forward: bool = False) -> Dataset:
        """The file's text as a stream of rows (``data.format``), read right to left for a backward model
        unless ``forward``."""
        data = self.config.data
        read: Dataset
        if data.format == "text":
            read = LanguageModelingDataset(resolve_path(path), fields["text"], newline_eos=data.level == "word",
                                           char_stream=data.level == "char", progress=progress)
        else:
            read = self._read_rows(path, fields["text"], progress)
        return reverse_text(read) if data.direction == "backward" and not forward else read

    def _read_rows(self, path: str, field: Field, progress: bool) -> Dataset:
        """The text of a TSV column, or the tokens of a CoNLL or 2016-corpus file, a row each, ``<eos>`` after each."""
        data = self.config.data
        if data.format == "tsv":
            read = read_tsv(path)
            if data.text_column not in read.column_names:
                raise ConfigError(f"{path} has no column {data.text_column!r} (its header: {read.column_names})",
                                  key="data.text_column", value=data.text_column, allowed=read.column_names)
            raw = read.table.column(data.text_column).combine_chunks()
            tokens = list(raw.to_pylist()) if data.level == "char" else field.preprocess_column(raw, progress)[0].to_pylist()
        else:
            read = read_klp2016(path)[0] if data.format == "klp2016" else read_conll(path)
            column = f"column{data.token_column if data.format == 'conll' else 0}"
            if column not in read.column_names:
                raise ConfigError(f"{path} has {len(read.column_names)} columns, no column {data.token_column}",
                                  key="data.token_column", value=data.token_column)
            rows = read.table.column(column).to_pylist()
            tokens = [list(" ".join(row)) for row in rows] if data.level == "char" else rows
        end = ["\n"] if data.level == "char" else ["<eos>"]
        table = pa.table({"text": pa.array([list(row) + end for row in tokens], type=pa.list_(pa.string())),
                          LINE: pa.array(read.lines, type=pa.int64())})
        return Dataset(table, {"text": field}, path=path, skipped=read.skipped)

    def build_vocabs(self, fields: dict[str, Field], train: Dataset) -> None:
        data = self.config.data
        # counted in reading order either way, so that a forward and a backward model of one text share a vocab
        text = reverse_text(train) if data.direction == "backward" else train
        fields["text"].build_vocab(text, min_freq=data.min_freq, max_size=data.max_vocab)

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        """The training file, and a validation file or else its last lines (no shuffling: it is text); a
        test file, or else (``data.test_fraction``) the lines after those."""
        data = self.config.data
        whole = self.read(data.train, fields, progress=progress, forward=True)
        n = len(whole)
        test_share = 0.0 if data.test else data.test_fraction
        test_cut = int(round(n * (1 - test_share)))
        valid_cut = test_cut if data.valid else int(round(n * (1 - test_share - data.valid_fraction)))
        if not data.valid and not 1 <= valid_cut < test_cut or test_share and not valid_cut < test_cut < n:
            raise DataError(whole.path, None, f"has {n} lines, too few to split off a validation part.",
                            "give a longer text or a separate data.valid file", code="too_short")
        train = whole.take(np.arange(valid_cut)) if valid_cut < n else whole
        valid = (self.read(data.valid, fields, progress=progress, forward=True) if data.valid
                 else whole.take(np.arange(valid_cut, test_cut)))
        test = (self.read(data.test, fields, progress=progress, forward=True) if data.test
                else whole.take(np.arange(test_cut, n)) if test_cut < n else None)
        if data.direction == "backward":  # the same parts as the forward model's, each read right to left
            train, valid = reverse_text(train), reverse_text(valid)
            test = reverse_text(test) if test is not None else None
        return Splits(train, valid, test)

    def build_model(self, fields: dict[str, Field]) -> LanguageModel:
        m = self.config.model
        vocab = fields["text"].vocab
        assert vocab is not None
        cutoffs = adaptive_cutoffs(m.adaptive_cutoffs, len(vocab))
        if cutoffs and m.tie_weights:
            raise ConfigError("model.tie_weights shares one output matrix; an adaptive softmax "
                              "(model.adaptive_cutoffs) has several: use one or the other",
                              key="model.tie_weights", value=True)
        if m.tie_weights and m.embedding_dim != m.hidden_size:
            raise ConfigError(f"model.tie_weights needs model.embedding_dim == model.hidden_size, got "
                              f"{m.embedding_dim} and {m.hidden_size}", key="model.tie_weights", value=True)
        return LanguageModel(len(vocab), m.embedding_dim, m.hidden_size, num_layers=m.num_layers, cell=m.cell,
                             dropout=m.dropout, tie_weights=m.tie_weights, layer_norm=m.layer_norm,
                             adaptive_cutoffs=cutoffs)

    def train_iterator(self, train: Dataset, context: Distributed) -> BPTTIterator:
        data = self.config.data
        self.iterator = BPTTIterator(train, data.batch_size, data.bptt_len, device=context.device, batch_first=True,
                                     seed=self.config.train.seed, rank=context.rank, world_size=context.world_size)
        return self.iterator

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        assert self.carry is not None and self.iterator is not None
        if self.iterator.position <= 1:  # a new pass over the text starts from a zero state
            self.carry["state"] = None
        logits, state = model(batch.text, self.carry["state"])
        self.carry["state"] = LanguageModel.detach(state)
        return unwrap(model).loss(logits, batch.target), batch.target.numel()

    @torch.no_grad()
    def evaluate(self, model: nn.Module, data: Dataset, device: torch.device) -> dict[str, Any]:
        """Loss, perplexity and bits per token over the whole stream, state carried window to window."""
        model.eval()
        total, tokens, state = 0.0, 0, None
        config = self.config.data
        for batch in BPTTIterator(data, config.eval_batch_size, config.bptt_len, device=device, batch_first=True,
                                  train=False):
            logits, state = model(batch.text, state)
            total += float(unwrap(model).loss(logits, batch.target)) * batch.target.numel()
            tokens += batch.target.numel()
        return {"tokens": int(data.lengths("text").sum()), **language_model_metrics(total, tokens)}

    def generate(self, model: LanguageModel, fields: dict[str, Field], prompt: str, max_tokens: int,
                 seed: int | None = 0, temperature: float = 0.8, top_k: int | None = None,
                 greedy: bool = False, check: bool = True) -> str:
        """Text continuing ``prompt``; with ``check``, a prompt none of whose tokens the model knows is refused."""
        text = fields["text"]
        vocab = text.vocab
        assert vocab is not None
        if not prompt:
            raise ConfigError("give a --prompt of at least one token", key="prompt", value=prompt)
        char = self.config.data.level == "char"
        tokens = list(prompt) if char else (text.tokenizer or str.split)(prompt)
        if check:
            check_known_tokens(None, text, [vocab.index(t) for t in tokens], what="prompt")
        return generate(model, vocab, tokens, max_tokens, strategy="greedy" if greedy else "sample",
                        temperature=temperature, top_k=top_k, seed=seed, stop_token=None if char else "<eos>",
                        joiner="" if char else " ")

    def describe(self, splits: Splits, fields: dict[str, Field], model: nn.Module) -> dict[str, Any]:
        first = splits.train[0].text
        prompt = "".join(first[:1]) if first else "\n"
        return {"vocab": len(fields["text"].vocab or []), "level": self.config.data.level,
                "train_tokens": int(splits.train.lengths("text").sum()),
                "valid_tokens": int(splits.valid.lengths("text").sum()),
                "sample": self.generate(model, fields, prompt, 200, seed=0, check=False)}  # type: ignore[arg-type]

    def _unit(self) -> str:
        return "bits/char" if self.config.data.level == "char" else "bits/token"

    def report(self, name: str, metrics: dict[str, Any]) -> Iterable[str]:
        yield (f"{name:<6} loss {metrics['loss']:.4f} nats/token  perplexity {metrics['perplexity']:.2f}  "
               f"{metrics['bits_per_token']:.3f} {self._unit()}")

    def epoch_line(self, record: dict[str, Any]) -> str:
        return (f"epoch {record['epoch']:>3}  train loss {record['train_loss']:.4f}  valid loss {record['loss']:.4f}"
                f"  ppl {record['perplexity']:.2f}  {record['bits_per_token']:.3f} {self._unit()}"
                f"  {record['tokens_per_s']:,.0f} tok/s{'  *' if record.get('best') else ''}")

    def result_lines(self, result: dict[str, Any]) -> Iterable[str]:
        yield (f"tokens: train {result['train_tokens']}, valid {result['valid_tokens']}; vocab {result['vocab']}; "
               f"best epoch {result['best_epoch']}")
        yield f"sample: {result['sample']!r}"
