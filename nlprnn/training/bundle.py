"""Model bundles: a directory that ``evaluate`` and ``predict`` load to process raw text exactly as
training did. Everything is JSON except the weights, which load with ``weights_only=True``.

    bundle/
      bundle.json     format version, task, the run's config
      fields.json     every field's spec (tokenizer spec included)
      vocab-NAME.json one vocab per field that has one
      weights.pt      the model's state_dict
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from nlprnn.data.field import Field, NestedField
from nlprnn.data.vocab import Vocab
from nlprnn.errors import NlprnnError
from nlprnn.training.checkpoint import load_checkpoint, save_checkpoint

BUNDLE_VERSION = 1


class BundleError(NlprnnError):
    """A model bundle that is missing, incomplete, or from an incompatible nlprnn version."""


def save_bundle(directory: str | Path, task: str, config: dict[str, Any], fields: dict[str, Field],
                weights: dict[str, torch.Tensor]) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, field in fields.items():
        if field.vocab is not None:
            field.vocab.save(directory / f"vocab-{name}.json")
    (directory / "fields.json").write_text(
        json.dumps({n: f.spec() for n, f in fields.items()}, ensure_ascii=False, indent=1), encoding="utf-8")
    save_checkpoint(weights, directory / "weights.pt")
    meta = {"format_version": BUNDLE_VERSION, "task": task, "config": config}
    (directory / "bundle.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def load_bundle(directory: str | Path, task: str) -> tuple[dict[str, Any], dict[str, Field], dict[str, torch.Tensor]]:
    """(config, fields with their vocabs, weights) of a bundle written by ``save_bundle`` for ``task``."""
    directory = Path(directory)
    meta_path = directory / "bundle.json"
    if not meta_path.exists():
        raise BundleError(f"{directory}: no bundle.json; give the bundle directory a `train` run wrote "
                          "(RUN_DIR/bundle)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format_version") != BUNDLE_VERSION:
        raise BundleError(f"{directory}: bundle format {meta.get('format_version')!r}, this nlprnn reads "
                          f"{BUNDLE_VERSION}; retrain with this version or install the one that wrote it")
    if meta.get("task") != task:
        raise BundleError(f"{directory}: a {meta.get('task')!r} bundle, not a {task!r} one")
    specs = json.loads((directory / "fields.json").read_text(encoding="utf-8"))
    fields = {name: Field.from_spec(spec) for name, spec in specs.items()}
    for name, field in fields.items():
        path = directory / f"vocab-{name}.json"
        if path.exists():
            field.vocab = Vocab.load(path)
            if isinstance(field, NestedField):  # the characters' vocab is shared with the nesting field
                field.nesting_field.vocab = field.vocab
    weights = load_checkpoint(directory / "weights.pt")
    return meta["config"], fields, weights
