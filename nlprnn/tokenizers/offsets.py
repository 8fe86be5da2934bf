"""Morphemes with their character spans in the user's text, from any analyzer.

Mecab and kiwi report where each morpheme came from (``tokenize_with_offsets``). Kkma (and the other
KoNLPy analyzers) give morphemes only, and restore lemmas (``했`` -> ``하`` + ``았``), so their morphemes
are aligned back to the text here (the longest common blocks of the forms run together and of the text);
one that is not found takes the characters between its found neighbours, and is counted.

POS tags are brought to the Sejong set that the KMOU and 2016 corpora use: mecab's compound ``VV+EP``
keeps its first tag, kiwi's irregular-conjugation ``VV-R`` is ``VV``, ``SSO``/``SSC`` are ``SS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import NamedTuple

from nlprnn.tokenizers.base import Tokenizer, get_tokenizer

#: tags of mecab-ko and kiwi that the Sejong corpora write otherwise
_SEJONG = {"SSO": "SS", "SSC": "SS", "SC": "SP", "SY": "SW", "NNBC": "NNB", "W_URL": "SL", "W_EMAIL": "SL",
           "W_HASHTAG": "SW", "W_MENTION": "SW", "W_SERIAL": "SN", "Z_CODA": "XSN"}


class Morpheme(NamedTuple):
    """A morpheme, its POS tag and its span ``[start, end)`` in the text (``exact``: the text there is
    the morpheme; False for a lemma the analyzer restored, given the characters it came from)."""

    form: str
    tag: str
    start: int
    end: int
    exact: bool = True


def sejong_tag(tag: str) -> str:
    """``VV+EP`` -> ``VV``, ``VV-R`` -> ``VV``, ``SSO`` -> ``SS``; Sejong tags are returned unchanged."""
    tag = tag.split("+", 1)[0]
    if "-" in tag and not tag.startswith("W_"):
        tag = tag.split("-", 1)[0]
    return _SEJONG.get(tag, tag)


def align(text: str, forms: Sequence[str]) -> list[tuple[int, int, bool]]:
    """Each form's ``(start, end, exact)`` in ``text``, in order. The forms, run together, are matched to the
    text's characters without its spaces (``difflib``'s longest common blocks, so a restored lemma does not
    throw the forms after it off); a form whose characters are not all matched, in one piece, shares the
    characters between its found neighbours (``exact`` False)."""
    kept = [i for i, c in enumerate(text) if not c.isspace()]  # text position of each non-space character
    joined = "".join(forms)
    matched: dict[int, int] = {}  # position in ``joined`` -> position in ``text``
    matcher = SequenceMatcher(None, joined, "".join(text[i] for i in kept), autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        matched.update((a + k, kept[b + k]) for k in range(size))
    found: list[tuple[int, int] | None] = []
    offset = 0
    for form in forms:
        positions = [matched.get(offset + k) for k in range(len(form))]
        offset += len(form)
        first, last = (positions[0], positions[-1]) if positions else (None, None)
        if first is not None and last is not None and text[first:last + 1] == form:
            found.append((first, last + 1))
        else:
            found.append(None)
    spans: list[tuple[int, int, bool]] = []
    for i, span in enumerate(found):
        if span is not None:
            spans.append((span[0], span[1], True))
            continue
        before = next((s[1] for s in reversed(found[:i]) if s is not None), 0)
        after = next((s[0] for s in found[i + 1:] if s is not None), len(text))
        while before < after and text[before].isspace():
            before += 1
        end = before
        while end < after and not text[end].isspace():
            end += 1
        spans.append((before, end, False))
    return spans


def morphemes_with_offsets(analyzer: str | Tokenizer, texts: Sequence[str], progress: bool = False) -> list[list[Morpheme]]:
    """The morphemes of each text with their spans and Sejong-style tags."""
    tokenizer = get_tokenizer(analyzer) if isinstance(analyzer, str) else analyzer
    with_offsets = getattr(tokenizer, "tokenize_with_offsets", None)
    if with_offsets is not None:
        return [[Morpheme(form, sejong_tag(tag), start, end) for form, tag, start, end in with_offsets(text)]
                for text in texts]
    tagged = get_tokenizer({"name": tokenizer.name, "options": {**tokenizer.spec().get("options", {}), "pos": True}})
    rows, _ = tagged.tokenize_many(list(texts), progress=progress)
    out = []
    for text, row in zip(texts, rows):
        pairs = [token.rpartition("/") if "/" in token[1:] else (token, "", "NA") for token in row]
        spans = align(text, [form for form, _, _ in pairs])
        out.append([Morpheme(form, sejong_tag(tag), start, end, exact)
                    for (form, _, tag), (start, end, exact) in zip(pairs, spans)])
    return out


def word_starts(text: str, morphemes: Sequence[Morpheme]) -> list[str]:
    """``"1"`` for a morpheme that begins a space-separated word of ``text``, else ``"0"`` (a lemma that
    shares its start with the morpheme before it does not begin another)."""
    flags = []
    previous_start = -1
    for m in morphemes:
        begins = m.start != previous_start and (m.start == 0 or text[m.start - 1].isspace()) and m.end > m.start
        flags.append("1" if begins else "0")
        previous_start = m.start
    return flags
