"""Unpacking a data set's or vectors' archive that is already on disk (nlprnn downloads nothing)."""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zipfile
from pathlib import Path


def unpack_archive(archive: Path, into: Path) -> None:
    """Unpack a .zip, .tar.gz / .tgz, or a bare .gz (beside itself, without the suffix), as torchtext did."""
    name = archive.name
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(into)
    elif name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(into, filter="data")
    elif name.endswith(".gz"):
        with gzip.open(archive, "rb") as packed, open(archive.with_suffix(""), "wb") as out:
            shutil.copyfileobj(packed, out)
