"""Named-entity recognition: BiLSTM(-CRF) with optional character, POS and word-start features.

Files: CoNLL columns, the 2016 Korean NER corpus layout (``data.format=klp2016``, read as columns
``morpheme POS word_start tag``), and raw text (``data.format=text``: sentences through an analyzer,
entities out as character spans; see ``ner_text.py``). Metrics are seqeval's entity-level
precision/recall/F1 in strict IOB2 mode, over morphemes or, for raw text, over characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import pyarrow as pa
import torch
from torch import nn

from nlprnn.config import Device, Fraction, OnError, PositiveInt, Probability, Range, TokenizerName
from nlprnn.data.batching import Batch
from nlprnn.data.dataset import Dataset
from nlprnn.data.entity_files import RawSentences, is_klp2016, read_klp2016, read_raw
from nlprnn.data.field import Field
from nlprnn.data.file_datasets import SequenceTaggingDataset
from nlprnn.data.iterators import BucketIterator
from nlprnn.data.nested_field import NestedField
from nlprnn.data.readers import ReadResult, conll_width
from nlprnn.data.tag_field import TagField
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.heads import SequenceTagger
from nlprnn.models.pretrained import LanguageModelEncoder
from nlprnn.tasks import ner_text, pretraining
from nlprnn.tasks.base import Splits, Task, cut_parts
from nlprnn.tasks.ner_text import TextData
from nlprnn.training.distributed import unwrap
from nlprnn.training.metrics import ner_metrics
from nlprnn.training.trainer import TrainConfig


@dataclass
class NerDataConfig:
    # the default: raw sentences (the 2016 layout) tagged character by character, the model that finds names
    # in a person's own text (`serve` it as it is); CoNLL morphemes: --data data/ner/train.conll
    train: str = "data/ner_raw/train.txt"
    valid: str | None = "data/ner_raw/dev.txt"  # the file that picks the best epoch; none: cut from data.train
    test: str | None = None
    valid_ratio: Fraction = 0.1  # a share of a CoNLL training file, when data.valid is not set
    test_ratio: Annotated[float, Range(0.0, 1.0, high_open=True)] = 0.0  # likewise, when data.test is not set
    split_seed: int = 0
    token_column: int = 0
    tag_column: int = -1
    feature_column: int | None = None  # a per-token feature column (e.g. POS) embedded beside each word
    word_start_column: int | None = None  # a column of 1/0: the token begins a space-separated word (klp2016: 2)
    # conll | klp2016 (`; ` text, `$` markup, `eojeol morpheme POS tag` lines; read as columns
    # `morpheme POS word_start tag`) | text (raw sentences through data.analyzer; evaluate scores characters)
    # | auto (klp2016 when the file starts with `; `, else conll)
    format: Literal["auto", "conll", "klp2016", "text"] = "auto"
    analyzer: TokenizerName = "kiwi"  # splits raw text (format text) into morphemes with character offsets
    # what a training file with raw text (klp2016, character BIO) is trained from: its own morphemes, its raw
    # text through data.analyzer with the entities projected onto the analyzer's morphemes, or both
    train_on: Literal["file", "analyzer", "both"] = "file"
    # what the tagger tags in raw text: the analyzer's morphemes, or each character with the morpheme it lies
    # in (its form, its POS tag and the character's place in it) as features, which lets an entity begin or
    # end inside a morpheme (2016 corpus dev, kiwi: see benchmarks/README.md). characters reads every file
    # (2016 layout, character BIO) as raw text, so training and the best epoch are scored on characters.
    # auto: characters for a training file with raw sentences (2016 layout, format text), morphemes for CoNLL
    units: Literal["auto", "morphemes", "characters"] = "auto"
    map_types: str | None = None  # e.g. "PER=PS,LOC=LC": predicted types renamed, others dropped (cross-corpus)
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
    word_start_dim: PositiveInt = 8  # the word-start flag's embedding (with data.word_start_column)
    # language-model bundle(s) of `lm train` on the same kind of tokens, `FWD/bundle[,BWD/bundle]`: their states
    # join the tagger's inputs (TagLM) and the word vocab is theirs; the word embedding starts from theirs
    # when the sizes match. freeze: gradual (ULMFiT: one more LM layer group per epoch; KMOU dev 80.66 against
    # frozen's 79.88, with train.schedule=slanted_triangular), frozen (TagLM), none
    pretrained: str | None = None
    freeze: Literal["gradual", "none", "frozen"] = "gradual"
    layer_lr_decay: Annotated[float, Range(low=1.0)] = 2.6  # each LM layer group down learns this much slower


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
    starts = batch.tensor("word_start") if "word_start" in batch.fields else None
    return model(tokens, lengths, chars, char_lengths, features, starts), lengths


class NerTask(Task):
    """BIO entity tags for each token of a CoNLL file's sentences."""

    name = "ner"
    Config = NerConfig
    summary = "train / evaluate / predict a BiLSTM-CRF named-entity tagger (CoNLL, 2016 corpus, raw text)"
    metrics = ("f1", "precision", "recall")
    curves = ("precision", "recall", "f1")
    own_file = {"data.valid": None, "data.test": None, "data.test_ratio": 0.1}
    dry_run = {"model.hidden_size": 16, "model.embedding_dim": 16, "model.char_dim": 8, "model.char_hidden": 8}
    use_flags = {"--format": ("data.format", "conll | klp2016 | text (raw sentences in: entities as character "
                              "spans; evaluate scores characters against `$` markup or character BIO)"),
                 "--analyzer": ("data.analyzer", "the morpheme analyzer for --format text (default: the bundle's)"),
                 "--map-types": ("data.map_types", "rename predicted types, drop the rest: PER=PS,LOC=LC,...")}
    config: NerConfig

    def __init__(self, config: NerConfig) -> None:
        super().__init__(config)
        if config.data.units == "auto":  # settled once, so the bundle records what was trained
            raw = Path(config.data.train).is_file() and self.file_format(config.data.train) in ("klp2016", "text")
            config.data.units = "characters" if raw else "morphemes"
        self.encoder: LanguageModelEncoder | None = None
        """The language models' encoder, loaded with their vocabulary (``model.pretrained``)."""
        self.repaired: dict[str, list[str]] = {}
        """Rows of each file the readers repaired and kept (the 2016 corpus's markup/tag disagreements)."""

    @property
    def units(self) -> ner_text.Units:
        """What the tagger tags, ``data.units`` as settled when the task was made (never ``auto``)."""
        return "characters" if self.config.data.units == "characters" else "morphemes"

    def fields(self) -> dict[str, Field]:
        data, model = self.config.data, self.config.model
        pretraining.check_paths(model.pretrained)
        ner_text.rename_types(data.map_types)  # a malformed mapping is refused before training
        if data.units == "characters" and data.format == "conll":
            raise ConfigError("data.units=characters tags the characters of raw text, which a CoNLL file of tokens "
                              "does not hold: give 2016-corpus or character-BIO files (data.format auto, klp2016 "
                              "or text)", key="data.units", value=data.units)
        fields: dict[str, Field] = {
            "word": Field(tokenize=None, lower=data.lower, include_lengths=True, batch_first=True,
                          max_length=data.max_tokens, max_token_chars=data.max_token_chars),
            "tag": TagField(scheme=data.scheme, on_invalid="repair" if data.repair_tags else "error", batch_first=True),
        }
        if model.char_features:
            fields["char"] = NestedField(Field(tokenize="char"), tokenize=None, batch_first=True)
        if data.feature_column is not None:
            fields["feature"] = Field(tokenize=None, batch_first=True)
        if data.word_start_column is not None:
            fields["word_start"] = Field(tokenize=None, batch_first=True)
        return fields

    def file_format(self, path: str) -> str:
        """The layout ``path`` is read in: ``data.format``, with ``auto`` told by the first line."""
        fmt = self.config.data.format
        if fmt == "auto":
            return "klp2016" if is_klp2016(path) else "conll"
        return fmt

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True,
             progress: bool = False) -> Dataset | TextData:
        """The file's token column (with its characters), the feature and word-start columns, and the tags
        when ``labelled``; for ``format=text``, the sentences through the analyzer (``TextData``)."""
        data = self.config.data
        fmt = self.file_format(path)
        if fmt == "text" or data.units == "characters":
            sentences, gold = self._raw_text(path, fields, labelled, progress)
            return ner_text.analyze(sentences, fields, data.analyzer, data.on_error, gold, progress,
                                    units=self.units)
        if fmt == "klp2016":
            return self._klp2016_dataset(self._parse_klp2016(path)[0], fields, labelled, progress)
        width = conll_width(path)
        if width is None:
            raise DataError(path, None, "the file holds no token lines.", "give a CoNLL file: one token per line "
                            "(token, ..., tag), a blank line between sentences", code="no_tokens")
        columns = self._columns(path, width, fields, labelled)
        return SequenceTaggingDataset(path, columns, on_error=data.on_error, progress=progress)

    def _parse_klp2016(self, path: str) -> tuple[ReadResult, RawSentences]:
        """A 2016-corpus file read once: its morpheme columns and its raw sentences (repairs noted)."""
        data = self.config.data
        read, raw = read_klp2016(path, data.on_error, data.repair_tags)
        self.repaired[path] = [str(p) for p in raw.repaired]
        return read, raw

    def _klp2016_dataset(self, read: ReadResult, fields: dict[str, Field], labelled: bool, progress: bool) -> Dataset:
        columns = self._columns(read.path, 4, fields, labelled)
        return Dataset.from_read(read, {f"column{i}": c for i, c in enumerate(columns)}, self.config.data.on_error,
                                 progress)

    def _raw_text(self, path: str, fields: dict[str, Field], gold: bool,
                  progress: bool) -> tuple[RawSentences, Dataset | TextData | None]:
        """A file's raw sentences (any layout ``read_raw`` knows) and, for a 2016-corpus file when ``gold``,
        the model's input from its own morphemes (as columns, or as characters for ``data.units=characters``):
        the file is read once for both."""
        data = self.config.data
        if not is_klp2016(path):
            return read_raw(path, data.on_error), None
        read, sentences = self._parse_klp2016(path)
        if not gold:
            return sentences, None
        if data.units == "characters":
            return sentences, ner_text.analyze(sentences, fields, "the file's own", data.on_error, None, progress,
                                               tagged=True, units="characters",
                                               morphemes=ner_text.file_morphemes(read, sentences))
        return sentences, self._klp2016_dataset(read, fields, True, progress)

    def _columns(self, path: str, width: int, fields: dict[str, Field], labelled: bool) -> list[Any]:
        """``(name, field)`` (or None) for each of the file's ``width`` columns, from the config's column numbers."""
        data = self.config.data
        columns: list[Any] = [None] * width
        token_column = _column(path, "token_column", data.token_column, width)
        columns[token_column] = tuple([("word", fields["word"])] + ([("char", fields["char"])] if "char" in fields else []))
        if "feature" in fields and data.feature_column is not None:
            feature_column = _column(path, "feature_column", data.feature_column, width)
            if feature_column == token_column:
                raise ConfigError("data.token_column and data.feature_column name the same column",
                                  key="data.feature_column", value=data.feature_column)
            columns[feature_column] = ("feature", fields["feature"])
        if "word_start" in fields and data.word_start_column is not None:
            start_column = _column(path, "word_start_column", data.word_start_column, width)
            if columns[start_column] is not None:
                raise ConfigError("data.word_start_column names the same column as data.token_column or "
                                  "data.feature_column", key="data.word_start_column", value=data.word_start_column)
            columns[start_column] = ("word_start", fields["word_start"])
        if labelled:
            if width < 2:
                raise DataError(path, None, "has a single column, so no tags to train or evaluate on.",
                                "give CoNLL lines `token ... tag`, or use `predict` for untagged text", code="no_tags")
            tag_column = _column(path, "tag_column", data.tag_column, width)
            if columns[tag_column] is not None:
                raise ConfigError("data.tag_column names the same column as data.token_column or data.feature_column",
                                  key="data.tag_column", value=data.tag_column)
            columns[tag_column] = ("tag", fields["tag"])
        return columns

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        """The training file and data.valid (and data.test); without data.valid (or data.test), seeded shares
        of a CoNLL training file (data.valid_ratio, data.test_ratio)."""
        data = self.config.data
        train = self.read_train(fields, progress)
        test = self.read(data.test, fields, progress=progress) if data.test else None
        if data.valid:
            valid = self.read(data.valid, fields, progress=progress)
        elif isinstance(train, TextData) or data.train_on != "file" or data.units != "morphemes":
            raise ConfigError(f"{data.train} is read as raw text (or through the analyzer), which is not cut into "
                              "parts: name the file that picks the best epoch (--valid FILE, config key data.valid)",
                              key="data.valid", value=data.valid)
        else:
            train, valid, cut = cut_parts(train, data.valid_ratio, 0.0 if test is not None else data.test_ratio,
                                          data.split_seed)
            test = test if test is not None else cut
        return Splits(train, valid, test, [str(p) for d in (train, valid, test) if d is not None for p in d.skipped])

    def read_train(self, fields: dict[str, Field], progress: bool) -> Dataset:
        """The training file as ``data.train_on`` says: the file's morphemes, the analyzer's, or both."""
        data = self.config.data
        views: list[Dataset] = []
        if data.train_on != "analyzer":
            if data.units == "characters" and is_klp2016(data.train):
                _, own = self._raw_text(data.train, fields, True, progress)  # the file's morphemes, as characters
                assert isinstance(own, TextData)
                views.append(own.analyzed)
            else:
                read = self.read(data.train, fields, progress=progress)
                if isinstance(read, TextData):
                    raise ConfigError(f"{data.train} is read as raw text (data.format=text or data.units=characters), "
                                      "which has no morphemes of its own to train on: use a 2016-corpus file, or "
                                      "data.train_on=analyzer", key="data.train_on", value=data.train_on)
                views.append(read)
        if data.train_on != "file":
            sentences, _ = self._raw_text(data.train, fields, False, progress)
            text = ner_text.analyze(sentences, fields, data.analyzer, data.on_error, None, progress, tagged=True,
                                    units=self.units)
            views.append(text.analyzed)
        if len(views) == 1:
            return views[0]
        first, second = views
        table = pa.concat_tables([first.table, second.table.select(first.table.column_names)])
        return Dataset(table, first.fields, path=first.path, skipped=first.skipped + second.skipped)

    def build_vocabs(self, fields: dict[str, Field], train: Dataset) -> None:
        """Every field's vocabulary from the training set; words seen fewer than ``min_freq`` times map to <unk>."""
        for name, f in fields.items():
            if name == "word" and self.config.model.pretrained:
                self.encoder = pretraining.load_encoder(self.config.model.pretrained, f, self.state)
                continue
            f.build_vocab(train, min_freq=self.config.data.min_freq if name == "word" else 1)

    def build_model(self, fields: dict[str, Field]) -> SequenceTagger:
        m = self.config.model
        word, tag = fields["word"].vocab, fields["tag"].vocab
        assert word is not None and tag is not None
        char, feature, start = fields.get("char"), fields.get("feature"), fields.get("word_start")
        width = m.hidden_size * (2 if m.bidirectional else 1)
        if m.attention_heads and width % m.attention_heads:
            divisor = next(h for h in (4, 2, 1) if width % h == 0)
            raise ConfigError(f"model.attention_heads={m.attention_heads} does not divide the encoder's output width "
                              f"{width}: choose a divisor of it, such as {divisor}", key="model.attention_heads",
                              value=m.attention_heads)
        lm = self.encoder or pretraining.encoder_for(m.pretrained, fields["word"], self.state)
        tagger = SequenceTagger(len(word), len(tag), embedding_dim=m.embedding_dim, hidden_size=m.hidden_size, crf=m.crf,
                              tags=tag.itos, padding_idx=word.index("<pad>"),
                              char_vocab_size=len(char.vocab) if char is not None and char.vocab is not None else None,
                              char_dim=m.char_dim, char_hidden=m.char_hidden,
                              feature_vocab_size=len(feature.vocab) if feature is not None and feature.vocab else None,
                              feature_dim=m.feature_dim,
                              word_start_vocab_size=len(start.vocab) if start is not None and start.vocab else None,
                              word_start_dim=m.word_start_dim, word_dropout=m.word_dropout, unk_idx=word.unk_index,
                              attention_heads=m.attention_heads, num_layers=m.num_layers, bidirectional=m.bidirectional,
                              input_dropout=m.dropout, layer_dropout=m.dropout, output_dropout=m.dropout, lm_encoder=lm)
        pretraining.start_embedding(tagger.embedding, self.encoder)
        return tagger

    def parameter_groups(self, model: nn.Module) -> list[dict[str, Any]] | None:
        return pretraining.parameter_groups(model, getattr(model, "lm_encoder", None), self.config.model.layer_lr_decay)

    def before_epoch(self, model: nn.Module, epoch: int) -> None:
        pretraining.unfreeze(getattr(model, "lm_encoder", None), self.config.model.freeze, epoch)

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        scores, lengths = emissions(model, batch)  # type: ignore[arg-type]
        return unwrap(model).loss(scores, batch.tag, lengths), int(lengths.sum())

    def check_input(self, data: Any, fields: dict[str, Field]) -> None:
        """As every task (not every token unknown); for raw text also the analyzer's POS tag set."""
        if isinstance(data, TextData):
            ner_text.check_tag_set(data, fields)
            data = data.analyzed
        super().check_input(data, fields)

    @torch.no_grad()
    def predict(self, model: nn.Module, data: Dataset | TextData, device: torch.device) -> dict[str, Any]:
        """Predicted tag ids and the gold tags as written (empty without tags) per sentence, in the file's
        order; for raw text also the entities of each sentence as character spans (``spans``). Gold tags
        are not looked up in the model's tag vocab: a model may be scored on another corpus's types."""
        if isinstance(data, TextData):
            result = self.predict(model, data.analyzed, device)
            result["spans"] = ner_text.predicted_spans(data, result["predicted"], data.tag_names, self.rename)
            return result
        model.eval()
        predicted: list[list[int]] = [[] for _ in range(len(data))]
        gold: list[list[str]] = data.table.column("tag").to_pylist() if "tag" in data.fields else [[]] * len(data)
        inputs = Dataset(data.table, {n: f for n, f in data.fields.items() if n != "tag"}, path=data.path)
        for batch in BucketIterator(inputs, batch_size=128, train=False, device=device):
            scores, lengths = emissions(model, batch)  # type: ignore[arg-type]
            paths = unwrap(model).decode(scores, lengths)
            for position, row in enumerate(batch.rows.tolist()):
                predicted[row] = paths[position]
        return {"predicted": predicted, "gold": gold}

    @property
    def rename(self) -> Callable[[str], str]:
        """Predicted tags with ``data.map_types`` applied (unchanged without it)."""
        return ner_text.rename_types(self.config.data.map_types)

    def evaluate(self, model: nn.Module, data: Dataset | TextData, device: torch.device) -> dict[str, Any]:
        """Entity P/R/F1 over morphemes; for raw text over characters (``level``), with the analyzer's
        figures and, for a 2016-corpus file, the same model's morpheme-level F1 on the file's own morphemes."""
        if isinstance(data, TextData):
            spans = self.predict(model, data, device)["spans"]
            metrics = ner_text.character_metrics(data, spans)
            metrics.update(level="character", analyzer=data.analyzer, inexact=data.inexact,
                           morphemes=sum(len(row) for row in data.morphemes))
            if data.gold_morphemes is not None:
                metrics["morpheme_level"] = self.evaluate(model, data.gold_morphemes, device)
            return metrics
        result = self.predict(model, data, device)
        vocab = data.fields["tag"].vocab
        assert vocab is not None
        names, rename = vocab.itos, self.rename
        metrics = ner_metrics(result["gold"],
                              [[rename(names[i]) for i in s] for s in result["predicted"]])
        if self.repaired.get(str(data.path)):
            metrics["repaired"] = self.repaired[str(data.path)]
        return metrics

    def write_predictions(self, data: Dataset | TextData, predictions: dict[str, Any], fields: dict[str, Field],
                          source: str, handle: IO[str]) -> int:
        """``token<TAB>tag`` lines, a blank line between sentences, in the file's order; for raw text one
        JSON line per sentence, ``{"text", "entities": [{"start", "end", "type", "text"}]}``."""
        if isinstance(data, TextData):
            return ner_text.write_entities(data, predictions["spans"], handle)
        vocab = fields["tag"].vocab
        assert vocab is not None
        rename = self.rename
        for sentence, tags in zip(data.table.column("word").to_pylist(), predictions["predicted"]):
            handle.write("".join(f"{w}\t{rename(vocab.itos[t])}\n" for w, t in zip(sentence, tags)) + "\n")
        return len(data)

    def describe(self, splits: Splits, fields: dict[str, Field], model: nn.Module) -> dict[str, Any]:
        return {"train_sentences": len(splits.train), "valid_sentences": len(splits.valid),
                "vocab": len(fields["word"].vocab or []), "repaired": [note for notes in self.repaired.values() for note in notes]}

    def report(self, name: str, metrics: dict[str, Any]) -> Iterable[str]:
        level = metrics.get("level")
        if level == "character":
            yield (f"analyzer {metrics['analyzer']}: {metrics['morphemes']:,} morphemes, {metrics['inexact']:,} "
                   "not found in the text as written (restored lemmas, aligned to their characters)")
        words = f"{level}-level entities: " if level else ""
        yield (f"{name:<6} {words}precision {metrics['precision']:.4f}  recall {metrics['recall']:.4f}  "
               f"F1 {metrics['f1']:.4f}")
        yield metrics["report"]
        if "morpheme_level" in metrics:
            gold = metrics["morpheme_level"]
            level = gold.get("level", "morpheme")  # a character tagger is scored on characters both ways
            yield (f"{name:<6} {level}-level entities, the file's own morphemes (no analyzer): precision "
                   f"{gold['precision']:.4f}  recall {gold['recall']:.4f}  F1 {gold['f1']:.4f}  "
                   f"(from the analyzer minus from the file's morphemes: {100 * (metrics['f1'] - gold['f1']):+.2f} "
                   "points)")
        if metrics.get("repaired"):
            yield f"repaired and kept {len(metrics['repaired'])} sentences: {metrics['repaired'][0]} ..."

    def epoch_line(self, record: dict[str, Any]) -> str:
        return (f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid P {record['precision']:.4f}"
                f"  R {record['recall']:.4f}  F1 {record['f1']:.4f}  {record['tokens_per_s']:,.0f} tok/s"
                f"{'  *' if record.get('best') else ''}")

    def result_lines(self, result: dict[str, Any]) -> Iterable[str]:
        yield (f"sentences: train {result['train_sentences']}, valid {result['valid_sentences']}; "
                f"vocab {result['vocab']}; best epoch {result['best_epoch']}")
        for note in result.get("repaired", [])[:5]:
            yield f"repaired and kept: {note}"

