"""On-disk cache of tokenized texts, keyed by tokenizer identity and the text itself.

One SQLite file per tokenizer identity (name + version + output options). Keys are hashes of the
text, so duplicate rows are tokenized once, a second run over a file does no tokenization, and a
killed run keeps what it had committed (each batch of results is one SQLite transaction, so a kill
never leaves half a batch). A file that fails SQLite's check on opening is moved aside, not trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

STATUS_OK = 0
STATUS_TIMED_OUT = 1
"""The text hit the time bound; its tokens are the fallback's."""
STATUS_FAILED = 2
STATUS_SHORTENED = 3
"""Analyzed after long runs of a repeated unit were shortened (see ``korean.shorten_runs``)."""
"""The analyzer raised on the text; its tokens are whitespace tokens."""


def default_cache_dir() -> Path:
    """``$NLPRNN_CACHE``, else ``$XDG_CACHE_HOME/nlprnn``, else ``~/.cache/nlprnn``."""
    if os.environ.get("NLPRNN_CACHE"):
        return Path(os.environ["NLPRNN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nlprnn"


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class TokenCache:
    """Maps text -> token list for one tokenizer identity."""

    def __init__(self, identity: str, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"tokens-{identity}.sqlite"
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as error:  # damaged (not by a kill: SQLite commits atomically)
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            warnings.warn(f"token cache {self.path} is damaged ({error}); moved to {aside.name}, starting afresh",
                          stacklevel=2)
            for suffix in ("", "-wal", "-shm"):
                source = Path(str(self.path) + suffix)
                if source.exists():
                    source.rename(Path(str(aside) + suffix))
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (key BLOB PRIMARY KEY, tokens TEXT NOT NULL, status INTEGER NOT NULL)"
            )
            (verdict,) = db.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {verdict}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, tuple[list[str], int]]:
        """(tokens, status) for the keys that are cached."""
        found: dict[bytes, tuple[list[str], int]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 900):
            part = unique[start : start + 900]
            marks = ",".join("?" * len(part))
            query = f"SELECT key, tokens, status FROM tokens WHERE key IN ({marks})"
            for key, tokens, status in self._db.execute(query, part):
                found[key] = (json.loads(tokens), status)
        return found

    def put_many(self, items: Iterable[tuple[bytes, list[str], int]]) -> None:
        """Store (key, tokens, status) rows in one transaction."""
        rows = [(key, json.dumps(tokens, ensure_ascii=False), status) for key, tokens, status in items]
        if not rows:
            return
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", rows)
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0])

    def close(self) -> None:
        self._db.close()
