"""Tag schemes for named-entity tags: checking BIO sequences and converting IOB1 and BIOES to BIO.

BIO (IOB2): an entity starts with ``B-X`` and continues with ``I-X``. IOB1 uses ``B-X`` only between
two adjacent entities of one type. BIOES adds ``E-X`` (end) and ``S-X`` (single).
"""

from __future__ import annotations

from collections.abc import Sequence

from nlprnn.errors import TagError

SCHEMES = ("bio", "iob1", "bioes")


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", None)``."""
    if tag == "O":
        return "O", None
    prefix, _, kind = tag.partition("-")
    if not kind or prefix not in {"B", "I", "E", "S"}:
        raise TagError(f"tag {tag!r} is neither 'O' nor PREFIX-TYPE with PREFIX in B, I, E, S")
    return prefix, kind


def bio_errors(tags: Sequence[str]) -> list[tuple[int, str]]:
    """Positions and descriptions of problems in a BIO sequence (empty when it is valid)."""
    errors: list[tuple[int, str]] = []
    previous = "O"
    for i, tag in enumerate(tags):
        try:
            prefix, kind = split_tag(tag)
        except ValueError as error:
            errors.append((i, str(error)))
            previous = "O"
            continue
        if prefix in {"E", "S"}:
            errors.append((i, f"tag {tag!r} is BIOES, not BIO"))
        elif prefix == "I":
            prev_prefix, prev_kind = split_tag(previous) if previous != "O" else ("O", None)
            if prev_kind != kind or prev_prefix not in {"B", "I"}:
                errors.append((i, f"{tag!r} follows {previous!r}; an I-{kind} must follow B-{kind} or I-{kind}"))
        previous = tag if prefix in {"B", "I"} else "O"
    return errors


def repair_bio(tags: Sequence[str]) -> list[str]:
    """Make a BIO sequence valid: an ``I-X`` that cannot continue an entity starts one (``B-X``)."""
    fixed: list[str] = []
    previous_kind: str | None = None
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "I" and kind != previous_kind:
            tag = f"B-{kind}"
        fixed.append(tag)
        previous_kind = kind if prefix in {"B", "I"} else None
    return fixed


def iob1_to_bio(tags: Sequence[str]) -> list[str]:
    """IOB1 -> BIO: an ``I-X`` that starts an entity becomes ``B-X``."""
    return repair_bio(tags)


def bioes_to_bio(tags: Sequence[str]) -> list[str]:
    """BIOES -> BIO: ``S-X`` -> ``B-X``, ``E-X`` -> ``I-X``."""
    out = []
    for tag in tags:
        prefix, kind = split_tag(tag)
        out.append({"S": f"B-{kind}", "E": f"I-{kind}"}.get(prefix, tag))
    return out


def to_bio(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert a sequence from ``scheme`` (one of ``SCHEMES``) to BIO."""
    if scheme == "bio":
        return list(tags)
    if scheme == "iob1":
        return iob1_to_bio(tags)
    if scheme == "bioes":
        return bioes_to_bio(tags)
    raise TagError(f"unknown tag scheme {scheme!r}; choose one of {SCHEMES}")
