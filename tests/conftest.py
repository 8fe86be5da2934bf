"""Shared test helpers: a private token cache, and a writer for small data files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``cuda`` are skipped where torch sees no GPU."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; torch sees none here")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep the tests' token cache out of the user's ~/.cache."""
    path = tmp_path_factory.mktemp("nlprnn-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("NLPRNN_CACHE", str(path))
    yield path
    mp.undo()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write("name.tsv", text) -> path; bytes are written as they are."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def cached_rows(folder: Path) -> int:
    """Rows committed to the token caches in ``folder`` (read-only, as another process sees them)."""
    import sqlite3

    total = 0
    for path in folder.glob("tokens-*.sqlite"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                total += db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
        except sqlite3.Error:
            pass
    return total
