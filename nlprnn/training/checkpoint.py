"""Checkpoints: written atomically (temp file + rename), read without unpickling arbitrary objects."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from nlprnn.errors import NlprnnError


class CheckpointError(NlprnnError):
    """A checkpoint that is missing, truncated, or holds objects other than tensors and plain data."""


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` to ``path`` so that a crash leaves either the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a save that was killed
        stale.unlink(missing_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)  # the rename itself survives a power cut
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``: tensors, numbers, strings and containers only."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # UnpicklingError for foreign objects, RuntimeError for truncation
        raise CheckpointError(
            f"{path}: not a loadable nlprnn checkpoint ({type(error).__name__}: {str(error).splitlines()[0]}). "
            "nlprnn loads only tensors and plain data (weights_only=True), so a file that needs arbitrary "
            "Python objects, or a truncated one, is refused; retrain or restore the file."
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a dict of state, found {type(state).__name__}")
    return state
