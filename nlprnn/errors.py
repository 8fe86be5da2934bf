"""Exception classes: every error a user can meet names what is wrong, where, and how to fix it."""

from __future__ import annotations

from pathlib import Path


class NlprnnError(Exception):
    """Base class of every error raised on purpose by nlprnn."""


class DataError(NlprnnError, ValueError):
    """A problem in a user's data file, located by file and line, with the fix in the message."""

    def __init__(self, path: str | Path | None, line: int | None, problem: str, fix: str = "") -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.problem = problem
        self.fix = fix
        where = self.path or "<data>"
        if line is not None:
            where = f"{where}:{line}"
        message = f"{where}: {problem}"
        if fix:
            message += f" Fix: {fix}"
        super().__init__(message)


class ConfigError(NlprnnError, ValueError):
    """A bad option or configuration value; the message names the key."""


class TokenizerUnavailableError(NlprnnError, RuntimeError):
    """A tokenizer cannot run here (missing Java runtime, missing optional package)."""


class VocabError(NlprnnError, ValueError):
    """A vocabulary is missing, empty, or used before it was built."""
