"""Named entities from raw text: sentences in, entities out as character spans of the user's own text.

The path: raw sentences (one a line, or the text of a 2016-corpus or character-BIO file) -> the
analyzer's morphemes with their spans (``nlprnn.tokenizers.offsets``) -> the tagger's tokens: the
morphemes, or (``data.units=characters``) each character with its morpheme as features -> BIO tags over
the tokens -> entity spans from the first token's start to the last one's end. Scoring is at the
character level: an entity counts when its span and type are both right (seqeval, strict IOB2, over
one tag per character), so the analyzer's segmentation errors cost what they cost. A morpheme tagger
cannot end an entity inside a morpheme; a character tagger can.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa

from nlprnn.data.dataset import Dataset
from nlprnn.data.entity_files import RawSentences, Span, char_tags, spans_of_char_tags
from nlprnn.data.field import Field
from nlprnn.data.readers import ReadResult
from nlprnn.errors import ConfigError, DataError
from nlprnn.tokenizers.offsets import Morpheme, align, morphemes_with_offsets, word_starts
from nlprnn.training.metrics import ner_metrics

#: refuse a POS-feature model when more of the analyzer's morphemes than this carry tags it never saw
UNKNOWN_TAGS_REFUSED = 0.05
#: and warn above this share
UNKNOWN_TAGS_WARNED = 0.005


Units = Literal["morphemes", "characters"]


@dataclass
class TextData:
    """Raw sentences made ready for a tagger: the analyzer's morphemes of each, the tokens the tagger tags
    (``tokens``: the morphemes, or the characters), as the model's fields (``analyzed``; its row ``r``
    is sentence ``rows[r]``), and for a 2016-corpus file also the same model's input from the file's own
    morphemes (``gold_morphemes``), to score the same model without the analyzer's segmentation."""

    sentences: RawSentences
    morphemes: list[list[Morpheme]]
    tokens: list[list[Morpheme]]
    analyzed: Dataset
    rows: list[int]
    analyzer: str
    tag_field: Field
    gold_morphemes: Dataset | TextData | None = None
    units: Units = "morphemes"

    def __len__(self) -> int:
        return len(self.analyzed)

    @property
    def tag_names(self) -> list[str]:
        """The model's tags by id, looked up when asked: a validation file is read before the vocabulary is built."""
        vocab = self.tag_field.vocab
        return list(vocab.itos) if vocab is not None else []

    @property
    def skipped(self) -> list[Any]:
        return sorted(self.sentences.skipped + self.analyzed.skipped, key=lambda p: p.line)

    @property
    def inexact(self) -> int:
        """Morphemes the analyzer restored (lemmas) that could not be found in the text as written."""
        return sum(not m.exact for row in self.morphemes for m in row)


def analyze(sentences: RawSentences, fields: dict[str, Field], analyzer: str, on_error: str,
            gold: Dataset | TextData | None = None, progress: bool = False, tagged: bool = False,
            units: Units = "morphemes", morphemes: list[list[Morpheme]] | None = None) -> TextData:
    """A file's raw ``sentences`` (``read_raw``) through ``analyzer`` (or its ``morphemes`` given, e.g. the
    file's own), with the fields of a tagger (``word``, and ``char``, ``feature`` (POS), ``word_start``
    where the model has them) over ``units``: the morphemes, or each character (``characters``); ``gold``:
    the same file's own morphemes, for a 2016-corpus file; ``tagged``: with the file's entities projected
    onto the tokens as BIO tags (``project``), to train on."""
    path = sentences.path
    if morphemes is None:
        morphemes = morphemes_with_offsets(analyzer, sentences.texts, progress=progress)
    tokens = ([characters(text, row) for text, row in zip(sentences.texts, morphemes)] if units == "characters"
              else morphemes)
    list_type = pa.list_(pa.string())
    columns = {
        "form": pa.array([[m.form for m in row] for row in tokens], type=list_type),
        "pos": pa.array([[m.tag for m in row] for row in tokens], type=list_type),
        "start": pa.array([word_starts(text, row) for text, row in zip(sentences.texts, tokens)], type=list_type),
    }
    if tagged:
        if sentences.entities is None:
            raise DataError(path, None, "holds text only, so there are no entities to train on.",
                            "give the 2016 corpus layout or a character-level BIO file", code="no_tags")
        columns["tag"] = pa.array([project(row, spans) for row, spans in zip(tokens, sentences.entities)],
                                  type=list_type)
    table = pa.table(columns)
    read = ReadResult(path, table, np.asarray(sentences.lines, dtype=np.int64))
    mapping: dict[str, Any] = {"form": tuple((n, fields[n]) for n in ("word", "char") if n in fields)}
    if "feature" in fields:
        mapping["pos"] = ("feature", fields["feature"])
    if "word_start" in fields:
        mapping["start"] = ("word_start", fields["word_start"])
    if tagged:
        mapping["tag"] = ("tag", fields["tag"])
    analyzed = Dataset.from_read(read, mapping, on_error=on_error, progress=progress)
    row_of_line = {line: i for i, line in enumerate(sentences.lines)}
    rows = [row_of_line[int(line)] for line in analyzed.lines]
    return TextData(sentences, morphemes, tokens, analyzed, rows, analyzer, fields["tag"], gold, units)


def characters(text: str, morphemes: Sequence[Morpheme]) -> list[Morpheme]:
    """Each non-space character of ``text`` as a token of a character tagger: its form the morpheme it
    lies in (as written in the text), its tag that morpheme's POS tag behind the character's place in it
    (``B-`` first, ``I-`` inside, ``E-`` last, ``S-`` alone). The tagger reads the analyzer's segmentation
    as features and may still begin or end an entity inside a morpheme. A character no morpheme covers
    stands alone, tagged ``NA`` (unanalysable, in the Sejong set)."""
    cover: dict[int, Morpheme] = {}
    for m in morphemes:  # a restored lemma shares its characters with the next: the first one holds them
        for i in range(m.start, m.end):
            cover.setdefault(i, m)
    tokens = []
    for i, char in enumerate(text):
        if char.isspace():
            continue
        home = cover.get(i)
        if home is None:
            tokens.append(Morpheme(char, "S-NA", i, i + 1))
            continue
        last = home.end - 1
        place = "S" if i == home.start == last else "B" if i == home.start else "E" if i == last else "I"
        tokens.append(Morpheme(text[home.start:home.end], f"{place}-{home.tag}", i, i + 1, home.exact))
    return tokens


def file_morphemes(read: ReadResult, sentences: RawSentences) -> list[list[Morpheme]]:
    """A 2016-corpus file's own morphemes (``read_klp2016``'s columns 0 and 1) with their spans in its raw
    sentences: the segmentation an analyzer that agreed with the corpus would give."""
    forms, tags = (read.table.column(c).to_pylist() for c in ("column0", "column1"))
    if len(forms) != len(sentences.texts):
        raise DataError(sentences.path, None, f"gave {len(forms)} morpheme rows for {len(sentences.texts)} sentences.",
                        "report this file: its morphemes and its `; ` sentences should pair up", code="bad_markup")
    return [[Morpheme(f, t, start, end, exact) for f, t, (start, end, exact) in zip(fs, ts, align(text, fs))]
            for text, fs, ts in zip(sentences.texts, forms, tags)]


def project(morphemes: Sequence[Morpheme], spans: Sequence[Span]) -> list[str]:
    """BIO tags of ``morphemes`` from character ``spans``: a morpheme is in an entity when more than half
    of its characters are; the first such morpheme of each entity is ``B-``."""
    tags = ["O"] * len(morphemes)
    for span in spans:
        inside = [i for i, m in enumerate(morphemes)
                  if m.end > m.start and 2 * (min(m.end, span.end) - max(m.start, span.start)) > m.end - m.start]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + span.type
    return tags


def check_tag_set(data: TextData, fields: dict[str, Field]) -> None:
    """Refuse (over 5%) or warn about (over 0.5%) an analyzer whose POS tags the model never saw in
    training: a model trained on one tag set and fed another would be scored silently wrong."""
    feature = fields.get("feature")
    if feature is None or feature.vocab is None:
        return
    known = set(feature.vocab.itos)
    if data.units == "characters":  # the features are a morpheme's tag behind the character's place: B-NNP
        known = {tag.partition("-")[2] for tag in known}
    tags = Counter(m.tag for row in data.morphemes for m in row)
    total = sum(tags.values())
    unknown = {tag: n for tag, n in tags.items() if tag not in known}
    share = sum(unknown.values()) / max(total, 1)
    if share <= UNKNOWN_TAGS_WARNED:
        return
    common = ", ".join(tag for tag, _ in Counter(unknown).most_common(6))
    trained = ", ".join(t for t in feature.vocab.itos[:12] if not t.startswith("<"))
    message = (f"the analyzer {data.analyzer!r} gives POS tags the model never saw in training ({common}) on "
               f"{share:.1%} of the morphemes; the model was trained on tags such as {trained}")
    if share > UNKNOWN_TAGS_REFUSED:
        raise ConfigError(message + ": use an analyzer with the training data's tag set (mecab and kiwi give the "
                          "Sejong tags of the KMOU and 2016 corpora), or train without POS features",
                          key="data.analyzer", value=data.analyzer)
    warnings.warn(message + "; those morphemes are read as an unknown tag", stacklevel=2)


def rename_types(mapping: str | None) -> Callable[[str], str]:
    """``"PER=PS,LOC=LC"`` -> a function on BIO tags: named types renamed, every other type dropped to
    ``O``; None -> tags unchanged. For scoring a model trained on one corpus against another's types."""
    if not mapping:
        return lambda tag: tag
    pairs: dict[str, str] = {}
    for item in mapping.split(","):
        source, equals, target = item.strip().partition("=")
        if not equals or not source or not target:
            raise ConfigError(f"data.map_types item {item!r} is not SOURCE=TARGET (e.g. PER=PS,LOC=LC)",
                              key="data.map_types", value=mapping)
        pairs[source] = target

    def rename(tag: str) -> str:
        prefix, _, kind = tag.partition("-")
        return f"{prefix}-{pairs[kind]}" if kind in pairs else "O"

    return rename


def entity_spans(text: str, morphemes: Sequence[Morpheme], tags: Sequence[str]) -> list[Span]:
    """Character spans of the entities that BIO ``tags`` mark over ``morphemes`` of ``text``: from the
    entity's first morpheme's start to the furthest end among its morphemes."""
    spans = []
    for span in spans_of_char_tags(list(tags)):  # entity runs over morpheme positions
        members = morphemes[span.start:span.end]
        start, end = members[0].start, max(m.end for m in members)
        if end > start:
            spans.append(Span(start, end, span.type))
    return spans


def predicted_spans(data: TextData, predicted: list[list[int]], tag_names: Sequence[str],
                    rename: Callable[[str], str]) -> list[list[Span]]:
    """Entity spans of every sentence of ``data`` (an empty list for one the reader skipped)."""
    spans: list[list[Span]] = [[] for _ in data.sentences.texts]
    for row, ids in zip(data.rows, predicted):
        tags = [rename(tag_names[i]) for i in ids]
        spans[row] = entity_spans(data.sentences.texts[row], data.tokens[row], tags)
    return spans


def character_metrics(data: TextData, spans: list[list[Span]]) -> dict[str, Any]:
    """Character-level entity precision, recall, F1 and the per-type report against the file's entities."""
    if data.sentences.entities is None:
        raise DataError(data.sentences.path, None, "holds text only, so there is nothing to score against.",
                        "give the 2016 corpus layout (`; `, `$` markup, morphemes) or a character-level BIO file",
                        code="no_tags")
    texts, gold = data.sentences.texts, data.sentences.entities
    return ner_metrics([char_tags(len(t), g) for t, g in zip(texts, gold)],
                       [char_tags(len(t), p) for t, p in zip(texts, spans)])


def write_entities(data: TextData, spans: list[list[Span]], handle: IO[str]) -> int:
    """One JSON line per sentence: ``{"text", "entities": [{"start", "end", "type", "text"}]}``."""
    for row in sorted(set(data.rows)):
        text = data.sentences.texts[row]
        record = {"text": text, "entities": [s.to_json(text) for s in spans[row]]}
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(set(data.rows))
