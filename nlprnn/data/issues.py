"""What a field says about rows it cannot use (``RowIssue``), and how it locates them (``Locate``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Locate(Protocol):
    """Maps a row (and a token within it, or None) to (file, line) for error messages."""

    def __call__(self, row: int, token: int | None = None) -> tuple[str | None, int | None]: ...


def nowhere(row: int, token: int | None = None) -> tuple[str | None, int | None]:
    return None, None


@dataclass(frozen=True)
class RowIssue:
    """Why a field cannot use a row: a ``code``, the ``problem`` in words, the ``fix`` to the file, and
    the ``remedies`` (keys, see ``nlprnn.errors``) that are other ways out."""

    code: str
    problem: str
    fix: str
    remedies: tuple[str, ...] = ("skip_rows",)


EMPTY_TEXT = RowIssue("empty_text", "empty text.", "fill in the text or delete the row")
EMPTY_TOKEN = RowIssue("empty_token", "an empty token (a column left blank?).", "fill in the token or delete the line")
NO_TOKENS = RowIssue("no_tokens", "no tokens left after tokenizing.", "check the text and tokenizer")
