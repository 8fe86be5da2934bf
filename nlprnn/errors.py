"""Exception classes: every error a user can meet names what is wrong, where, and how to fix it.

Errors carry their parts as data (file, line, config key, value, allowed values, a problem ``code``
and ``remedies``), so a caller can act on them without reading the sentence. A remedy is a key such
as ``"skip_rows"``: the library words it for library callers (``LIBRARY_REMEDIES``, e.g. "pass
on_error='skip'"); a command words the same key as its own flag ("pass --on-error skip") by calling
``error.render(its_table)``. The library's sentence itself is never edited.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: How the library words each remedy key for code that calls it directly.
LIBRARY_REMEDIES: dict[str, str] = {
    "skip_rows": "pass on_error='skip' to skip and count such rows",
    "repair_tags": "use TagField(on_invalid='repair') to repair and count such sequences",
    "max_length": "raise max_length",
    "max_token_chars": "raise max_token_chars",
    "csv_format": "if the file uses CSV quoting, read it with format='csv'",
    "csv_file": "if it is a CSV file, read it with format='csv'",
    "overwrite_run": "pass overwrite=True to replace it, resume=True to continue it, or another out=",
}


class NlprnnError(Exception):
    """Base class of every error raised on purpose by nlprnn.

    ``render(remedies)`` words the error with another table of remedies (a command's flags).
    """

    code: str = "error"

    def render(self, remedies: Mapping[str, str | None] | None = None) -> str:
        return str(self)


class DataError(NlprnnError, ValueError):
    """A problem in a user's data file, located by file and line, with the fix.

    ``problem`` says what is wrong; ``fix`` what to do to the file; ``remedies`` are keys of other
    ways out (e.g. ``"skip_rows"``) that each caller words in its own terms; ``code`` names the kind
    of problem (``"empty_text"``, ``"invalid_utf8"`` ...).
    """

    def __init__(self, path: str | Path | None, line: int | None, problem: str, fix: str = "",
                 remedies: Sequence[str] = (), code: str = "data") -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.problem = problem
        self.fix = fix.rstrip(".")
        self.remedies = tuple(remedies)
        self.code = code
        super().__init__(self.render())

    @property
    def where(self) -> str:
        where = self.path or "<data>"
        return f"{where}:{self.line}" if self.line is not None else where

    def render(self, remedies: Mapping[str, str | None] | None = None) -> str:
        words = LIBRARY_REMEDIES if remedies is None else remedies
        ways = [self.fix] if self.fix else []
        ways += [text for key in self.remedies if (text := words.get(key))]
        message = f"{self.where}: {self.problem}"
        if ways:
            message += " Fix: " + ", or ".join(ways) + "."
        return message


class ConfigError(NlprnnError, ValueError):
    """A bad option or configuration value; names the key, the value and what is allowed."""

    code = "config"

    def __init__(self, message: str, key: str | None = None, value: Any = None,
                 allowed: Sequence[Any] | str | None = None) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(message)


class TokenizerUnavailableError(NlprnnError, RuntimeError):
    """A tokenizer cannot run here (missing Java runtime, missing optional package)."""

    code = "tokenizer_unavailable"


class VocabError(NlprnnError, ValueError):
    """A vocabulary is missing, empty, or used before it was built."""

    code = "vocab"


class TagError(NlprnnError, ValueError):
    """A tag that is not ``O`` or ``PREFIX-TYPE``, or an unknown tag scheme."""

    code = "tag"


class UnknownTokenError(VocabError, KeyError):
    """A lookup of a token that a vocabulary without an unk token does not hold."""

    code = "unknown_token"

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class BundleError(NlprnnError):
    """A model bundle that is missing, incomplete, damaged, or from an incompatible nlprnn version."""

    code = "bundle"

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{path}: {problem}; {fix}")


class RunExistsError(NlprnnError, FileExistsError):
    """A run directory already holds a trained model, and training into it was not asked to replace it."""

    code = "run_exists"

    def __init__(self, out: str | Path) -> None:
        self.out = str(out)
        self.remedies = ("overwrite_run",)
        super().__init__(self.render())

    def render(self, remedies: Mapping[str, str | None] | None = None) -> str:
        words = LIBRARY_REMEDIES if remedies is None else remedies
        fix = words.get("overwrite_run") or LIBRARY_REMEDIES["overwrite_run"]
        return f"{self.out} holds a trained model ({self.out}/bundle), which training would replace; {fix}."


class TrainingError(NlprnnError, ArithmeticError):
    """Training cannot go on (the loss became infinite or NaN); says what to change."""

    code = "training"


def no_effect(owner: str, why: str, **given: Any) -> None:
    """A DeprecationWarning for each torchtext keyword that was given (not None) but means nothing here,
    saying why and what to use; the caller's caller is named as the place."""
    for name, value in given.items():
        if value is not None:
            warnings.warn(f"{owner}({name}=...) has no effect in nlprnn: {why}", DeprecationWarning, stacklevel=3)
