"""Readers for named-entity files that keep the raw text: the 2016 Korean NER corpus layout and
character-level BIO files, and the entity spans (character offsets) they hold.

The 2016 corpus (kmounlp/NER ``2016klp``) gives, per sentence, a ``; `` line with the raw sentence, a
``$`` line with the same sentence marked up as ``<홍길동:PS>``, then one line per morpheme
``eojeol-number<TAB>morpheme<TAB>POS<TAB>tag`` with tags ``B_PS`` ... and a bare ``I`` that continues the
entity before it. ``read_klp2016`` turns it into CoNLL-like columns ``morpheme POS word_start tag``
(``word_start`` is ``1`` where the eojeol number changes: the only record of the spaces; tags as BIO,
``B-PS``/``I-PS``) and keeps each sentence's raw text and the ``$`` line's entities as the
character-level truth.

Character-level BIO files (one character and its tag a line, ``##`` comment lines, a blank line between
sentences, a space as its own character) are read by ``read_char_bio`` into the same raw text and spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from nlprnn.data.readers import ReadResult, RowProblem, decode_lines, first_lines, sentence_problem
from nlprnn.errors import DataError

_MARKUP = re.compile(r"<([^<>]+?):([A-Z]{2,3})>")


@dataclass(frozen=True)
class Span:
    """An entity as character offsets of its sentence: ``text[start:end]`` is the entity, of ``type``."""

    start: int
    end: int
    type: str

    def to_json(self, text: str) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "type": self.type, "text": text[self.start:self.end]}


@dataclass
class RawSentences:
    """Sentences as their raw text, with gold entity spans where the file has them (``entities`` None:
    the file holds text only), the line of each sentence, and the rows skipped or repaired."""

    path: str
    texts: list[str]
    entities: list[list[Span]] | None
    lines: list[int]
    skipped: list[RowProblem] = field(default_factory=list)
    repaired: list[RowProblem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def parse_markup(marked: str) -> tuple[str, list[Span]]:
    """``"<홍길동:PS>이 왔다"`` -> ``("홍길동이 왔다", [Span(0, 3, "PS")])``. Angle brackets without a
    ``:TYPE`` are text (the corpus has ``<운동원인>``)."""
    text: list[str] = []
    spans: list[Span] = []
    position = last = 0
    for match in _MARKUP.finditer(marked):
        before = marked[last:match.start()]
        text.append(before)
        position += len(before)
        surface = match.group(1)
        spans.append(Span(position, position + len(surface), match.group(2)))
        text.append(surface)
        position += len(surface)
        last = match.end()
    text.append(marked[last:])
    return "".join(text), spans


def is_klp2016(path: str | Path) -> bool:
    """Whether the file starts like the 2016 corpus: its first non-blank line is a ``; `` sentence line."""
    first = next((line for line in first_lines(path) if line.strip()), "")
    return first.startswith("; ")


def read_klp2016(path: str | Path, on_error: str = "raise", repair_tags: bool = False) -> tuple[ReadResult, RawSentences]:
    """The 2016 corpus layout as CoNLL-like columns (``column0`` morpheme, ``column1`` POS, ``column2``
    word-start flag, ``column3`` BIO tag; one row per sentence) and the sentences' raw text and spans.

    Sentences need not be separated by blank lines; CRLF is accepted. A bare ``I`` with no entity before
    it, a morpheme line without four columns or a sentence without its ``$`` line raise a DataError
    (``on_error="skip"``: the sentence is skipped and listed); ``repair_tags`` makes a stray ``I`` an
    ``O``, counted. A ``$`` line whose entities (types, in order) differ from the morpheme tags' is kept
    and counted in ``repaired``: the morpheme tags stay the morpheme-level truth and the markup the
    character-level one (the training file has 2 such sentences, e.g. ``<한:LC><미:LC>`` over one
    morpheme ``한미``).
    """
    lines, problems = decode_lines(path, on_error)
    invalid = {p.line for p in problems}
    skipped = list(problems)
    repaired: list[RowProblem] = []
    rows: list[list[list[str]]] = []
    texts: list[str] = []
    entities: list[list[Span]] = []
    numbers: list[int] = []
    sentence_lines: list[int] = []

    def fail(number: int, problem: str, fix: str, code: str, tags: bool = False) -> None:
        remedies = (("repair_tags",) if tags else ()) + ("skip_rows",)
        skipped.append(sentence_problem(path, number, problem, fix, on_error, code, remedies))

    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if number in invalid or not line.strip():
            continue
        if not line.startswith("; "):
            fail(number, f"expected a `; ` sentence line, found {line[:40]!r}.",
                 "start each sentence with `; RAW TEXT`, then `$MARKUP`, then its morpheme lines", "no_sentence_line")
            while index < len(lines) and not lines[index].startswith("; "):
                index += 1
            continue
        raw, start = line[2:], number
        marked = lines[index] if index < len(lines) else ""
        if not marked.startswith("$"):
            fail(start, "the sentence has no `$` markup line after it.", "put the sentence with `<entity:TYPE>` "
                 "markup on the line after the `; ` line", "no_markup_line")
            while index < len(lines) and not lines[index].startswith("; "):
                index += 1
            continue
        index += 1
        morphemes: list[list[str]] = []
        bad = False
        first_morpheme = index + 1
        previous_word, previous_type = None, None
        while index < len(lines) and not lines[index].startswith("; "):
            number, line = index + 1, lines[index]
            index += 1
            if bad or number in invalid or not line.strip():
                bad = bad or number in invalid
                continue
            parts = line.split("\t")
            if len(parts) != 4:
                fail(number, f"expected 4 tab-separated columns (eojeol, morpheme, POS, tag), found {len(parts)}.",
                     "write each morpheme as `eojeol-number<TAB>morpheme<TAB>POS<TAB>tag`", "wrong_columns")
                bad = True
                continue
            word, morpheme, pos, tag = parts
            if tag == "I" or tag.startswith("I_"):
                if previous_type is None:
                    if not repair_tags:
                        fail(number, f"tag {tag!r} of {morpheme!r} continues an entity, but none comes before it.",
                             "start the entity with B_TYPE", "bad_tags", tags=True)
                        bad = True
                        continue
                    repaired.append(RowProblem(str(path), number, f"a stray {tag!r} with no entity before it became O."))
                    tag = "O"
                else:
                    tag = f"I-{tag[2:] if tag.startswith('I_') else previous_type}"
            elif tag.startswith("B_") and len(tag) > 2:
                tag = "B-" + tag[2:]
            elif tag != "O":
                fail(number, f"unknown tag {tag!r}: the corpus uses O, B_TYPE and a bare I.",
                     "use O, B_TYPE (e.g. B_PS) or I", "bad_tags")
                bad = True
                continue
            previous_type = tag[2:] if tag != "O" else None
            morphemes.append([morpheme, pos, "1" if word != previous_word else "0", tag])
            previous_word = word
        if bad:
            continue
        if not morphemes:
            fail(start, "the sentence has no morpheme lines.", "give one `eojeol<TAB>morpheme<TAB>POS<TAB>tag` "
                 "line per morpheme after the `$` line", "no_tokens")
            continue
        text, spans = parse_markup(marked[1:])
        if text != raw:
            repaired.append(RowProblem(str(path), start + 1, "the `$` line without its markup differs from the "
                                       "`; ` line; the `$` line's text and entities were used."))
        tagged = [t[2:] for *_, t in morphemes if t.startswith("B-")]
        if tagged != [s.type for s in spans]:
            repaired.append(RowProblem(str(path), start + 1, f"the `$` markup has entities {[s.type for s in spans]} "
                                       f"but the morpheme tags {tagged}; each kept for its own level."))
        rows.append(morphemes)
        texts.append(text)
        entities.append(spans)
        numbers.append(first_morpheme)
        sentence_lines.append(start)
    if not rows and not skipped:
        raise DataError(path, None, "the file holds no sentences.", "give `; ` sentence lines, `$` markup lines and "
                        "morpheme lines, as the 2016 Korean NER corpus", code="no_tokens")
    list_type = pa.list_(pa.string())
    table = pa.table({f"column{i}": pa.array([[m[i] for m in row] for row in rows], type=list_type) for i in range(4)})
    skipped.sort(key=lambda p: p.line)
    read = ReadResult(str(path), table, np.asarray(numbers, dtype=np.int64), skipped, token_lines=True)
    return read, RawSentences(str(path), texts, entities, sentence_lines, skipped, repaired)


def read_char_bio(path: str | Path, on_error: str = "raise") -> RawSentences:
    """A character-level BIO file: ``CHAR<TAB>TAG`` a line (the character may be a space), ``##``
    comment lines, a blank line between sentences. Tags ``B-X``/``I-X``/``O`` (``_`` for ``-`` too);
    an ``I-X`` that does not continue an ``X`` starts one, as seqeval reads it."""
    lines, problems = decode_lines(path, on_error)
    invalid = {p.line for p in problems}
    skipped = list(problems)
    texts: list[str] = []
    entities: list[list[Span]] = []
    numbers: list[int] = []
    chars: list[str] = []
    tags: list[str] = []
    start, bad = 0, False

    def close() -> None:
        nonlocal chars, tags, bad
        if chars and not bad:
            texts.append("".join(chars))
            entities.append(spans_of_char_tags(tags))
            numbers.append(start)
        chars, tags, bad = [], [], False

    for number, line in enumerate(lines, start=1):
        if number in invalid:
            bad = True
            continue
        if line.startswith("##"):
            continue
        if line == "":
            close()
            continue
        char, tab, tag = line.rpartition("\t")
        tag = tag.strip().replace("_", "-")
        if not tab or len(char) != 1 or not (tag == "O" or tag[:2] in ("B-", "I-")):
            skipped.append(sentence_problem(
                path, number, f"expected one character, a tab and its tag (O, B-TYPE, I-TYPE), found {line[:40]!r}.",
                "write `CHAR<TAB>TAG` per character (a space is its own character), a blank line between sentences",
                on_error, "wrong_columns"))
            bad = True
            continue
        if not chars:
            start = number
        chars.append(char)
        tags.append(tag)
    close()
    if not texts and not skipped:
        raise DataError(path, None, "the file holds no characters.", "give `CHAR<TAB>TAG` lines, a blank line "
                        "between sentences", code="no_tokens")
    return RawSentences(str(path), texts, entities, numbers, skipped)


def read_text_lines(path: str | Path, on_error: str = "raise") -> RawSentences:
    """Plain text, one sentence a line (blank lines passed over); no gold entities."""
    lines, problems = decode_lines(path, on_error)
    invalid = {p.line for p in problems}
    kept = [(n, line) for n, line in enumerate(lines, start=1) if n not in invalid and line.strip()]
    if not kept and not problems:
        raise DataError(path, None, "the file holds no text.", "give one sentence a line", code="no_tokens")
    return RawSentences(str(path), [line for _, line in kept], None, [n for n, _ in kept], list(problems))


def read_raw(path: str | Path, on_error: str = "raise") -> RawSentences:
    """Raw sentences from any of the three layouts, told apart by their first lines: the 2016 corpus
    (``; `` first), character-level BIO (every one of the first lines ``CHAR<TAB>TAG`` or ``##``), or one
    sentence a line."""
    if is_klp2016(path):
        return read_klp2016(path, on_error)[1]
    head = [line for line in first_lines(path) if line and not line.startswith("##")]
    if head and all(re.fullmatch(r".\t(O|[BI][-_]\S+)", line) for line in head):
        return read_char_bio(path, on_error)
    return read_text_lines(path, on_error)


def spans_of_char_tags(tags: list[str]) -> list[Span]:
    """Entity spans of a BIO tag sequence over characters (an ``I-X`` that cannot continue starts an X)."""
    spans: list[Span] = []
    begin, kind = None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, this = tag.partition("-")
        if begin is not None and (prefix != "I" or this != kind):
            spans.append(Span(begin, i, kind or ""))
            begin, kind = None, None
        if prefix == "B" or (prefix == "I" and begin is None):
            begin, kind = i, this
    return spans


def char_tags(length: int, spans: list[Span]) -> list[str]:
    """The BIO tag of each of ``length`` characters, from entity spans (the inverse of ``spans_of_char_tags``)."""
    tags = ["O"] * length
    for span in spans:
        if span.end > span.start:
            tags[span.start] = f"B-{span.type}"
            tags[span.start + 1:span.end] = [f"I-{span.type}"] * (span.end - span.start - 1)
    return tags
