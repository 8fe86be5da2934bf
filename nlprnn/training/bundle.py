"""Model bundles: a directory that ``evaluate`` and ``predict`` load to process raw text exactly as
training did. Everything is JSON except the weights, which load with ``weights_only=True``.

    bundle/
      bundle.json     format version, task, the run's config, the task's own state (e.g. a scale)
      fields.json     every field's spec (tokenizer spec included)
      vocab-NAME.json one vocab per field that has one
      weights.pt      the model's state_dict

Every file is checked as it is read: a missing, truncated or hand-edited file is a ``BundleError``
that names the file and what to do, never a bare JSON or pickle error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nlprnn.data.field import Field
from nlprnn.data.vocab import Vocab
from nlprnn.errors import BundleError, NlprnnError
from nlprnn.training.checkpoint import load_checkpoint, save_checkpoint

BUNDLE_VERSION = 1
RETRAIN = "retrain with this nlprnn (`train` writes RUN/bundle), or restore the bundle's files"

__all__ = ["BUNDLE_VERSION", "Bundle", "BundleError", "load_bundle", "save_bundle"]


@dataclass
class Bundle:
    """What a bundle holds: its task's name, the run's config (as saved), the task's state, the fields
    with their vocabs, and the model's weights."""

    path: Path
    task: str
    config: dict[str, Any]
    fields: dict[str, Field]
    weights: dict[str, torch.Tensor]
    state: dict[str, Any] = field(default_factory=dict)


def save_bundle(directory: str | Path, task: str, config: dict[str, Any], fields: dict[str, Field],
                weights: dict[str, torch.Tensor], state: dict[str, Any] | None = None) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, f in fields.items():
        if f.vocab is not None:
            f.vocab.save(directory / f"vocab-{name}.json")
    (directory / "fields.json").write_text(
        json.dumps({n: f.spec() for n, f in fields.items()}, ensure_ascii=False, indent=1), encoding="utf-8")
    save_checkpoint(weights, directory / "weights.pt")
    meta = {"format_version": BUNDLE_VERSION, "task": task, "config": config, "state": state or {}}
    (directory / "bundle.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def _read_json(path: Path) -> Any:
    if not path.exists():
        raise BundleError(path, "missing from the bundle", RETRAIN)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BundleError(path, f"not readable JSON ({error})", RETRAIN) from None


def read_meta(directory: str | Path) -> dict[str, Any]:
    """The bundle's ``bundle.json``, checked: its format version and its task name."""
    directory = Path(directory)
    if not (directory / "bundle.json").exists():
        raise BundleError(directory, "no bundle.json", "give the bundle directory a `train` run wrote (RUN_DIR/bundle)")
    meta = _read_json(directory / "bundle.json")
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise BundleError(directory / "bundle.json", "has no config table", RETRAIN)
    if meta.get("format_version") != BUNDLE_VERSION:
        raise BundleError(directory, f"bundle format {meta.get('format_version')!r}, this nlprnn reads "
                          f"{BUNDLE_VERSION}", "retrain with this version or install the one that wrote it")
    return meta


def load_bundle(directory: str | Path, task: str | None = None) -> Bundle:
    """The bundle written by ``save_bundle`` (of ``task``, when given), every file checked."""
    directory = Path(directory)
    meta = read_meta(directory)
    if task is not None and meta.get("task") != task:
        raise BundleError(directory, f"a {meta.get('task')!r} bundle, not a {task!r} one",
                          f"use `python -m pipelines.{meta.get('task')}` for it")
    specs = _read_json(directory / "fields.json")
    fields: dict[str, Field] = {}
    for name, spec in (specs.items() if isinstance(specs, dict) else []):
        try:
            fields[name] = Field.from_spec(spec)
        except (NlprnnError, TypeError, KeyError, AttributeError) as error:
            raise BundleError(directory / "fields.json", f"field {name!r} cannot be rebuilt ({error})", RETRAIN) from None
        path = directory / f"vocab-{name}.json"
        if path.exists():
            try:
                vocab = Vocab.from_dict(_read_json(path))
            except (TypeError, KeyError, ValueError) as error:
                raise BundleError(path, f"not a vocabulary ({error})", RETRAIN) from None
            fields[name].attach_vocab(vocab)
    try:
        weights = load_checkpoint(directory / "weights.pt")
    except NlprnnError as error:
        raise BundleError(directory / "weights.pt", str(error), RETRAIN) from None
    return Bundle(directory, str(meta["task"]), meta["config"], fields, weights, dict(meta.get("state") or {}))
