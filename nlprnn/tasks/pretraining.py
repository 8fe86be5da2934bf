"""Starting a classifier or a tagger from language models trained first (``model.pretrained``).

``model.pretrained`` names one or two bundles of ``lm train`` (``RUN/bundle`` or ``FWD/bundle,BWD/bundle``,
the second trained with ``data.direction=backward``). The task then reads its text with the language
models' vocabulary (and checks that it tokenizes as they did), and its model starts from their embedding
and recurrent layers (``LanguageModelEncoder``). How those layers train is ULMFiT's recipe, each part
switchable: ``model.freeze`` (``gradual``: the task's own layers first, then one more language-model
layer group per epoch from the top; ``none``; ``frozen``: never, as TagLM), ``model.layer_lr_decay``
(discriminative rates: each group down from the top learns that many times slower) and the slanted
triangular schedule (``train.schedule=slanted_triangular``).

The language models' shapes are kept in the task's state, so a bundle trained this way loads without
the language-model bundles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from nlprnn.data.field import Field
from nlprnn.errors import ConfigError
from nlprnn.models.pretrained import LanguageModelEncoder, language_model
from nlprnn.training.bundle import load_bundle


def _paths(spec: str) -> list[str]:
    paths = [p.strip() for p in spec.split(",") if p.strip()]
    if not 1 <= len(paths) <= 2:
        raise ConfigError(f"model.pretrained names {len(paths)} bundles; give one language model, or a forward "
                          "and a backward one separated by a comma", key="model.pretrained", value=spec)
    return paths


def load_encoder(spec: str, field: Field, state: dict[str, Any]) -> LanguageModelEncoder:
    """The encoder of the language-model bundles ``spec``, their weights loaded; ``field`` (the task's text
    field) gets their vocabulary, and ``state["pretrained"]`` their shapes."""
    models, shapes, vocab = [], [], None
    for position, path in enumerate(_paths(spec)):
        bundle = load_bundle(path, "lm")
        data, model = bundle.config["data"], bundle.config["model"]
        direction = data.get("direction", "forward")
        wanted = "forward" if position == 0 else "backward"
        if direction != wanted:
            raise ConfigError(f"{path} is a {direction} language model, but model.pretrained's "
                              f"{'first' if position == 0 else 'second'} bundle must be a {wanted} one "
                              "(forward first, then backward)", key="model.pretrained", value=spec)
        if data.get("level") != "word":
            raise ConfigError(f"{path} is a character-level language model; pretrain at word level, with the "
                              "tokenizer the task uses", key="model.pretrained", value=spec)
        text = bundle.fields["text"]
        assert text.vocab is not None
        if vocab is not None and text.vocab.itos != vocab.itos:
            raise ConfigError(f"{path} has another vocabulary than the forward model; train both language "
                              "models on the same text with the same settings", key="model.pretrained", value=spec)
        vocab = text.vocab
        if field.tokenizer is not None and text.tokenizer is not None and \
                field.tokenizer.identity() != text.tokenizer.identity():
            raise ConfigError(f"{path} was trained on {text.tokenizer.spec()['name']!r} tokens but this task "
                              f"tokenizes with {field.tokenizer.spec()['name']!r}; set data.tokenizer to the "
                              "language model's", key="model.pretrained", value=spec)
        lm = language_model(model, len(vocab))
        lm.load_state_dict(bundle.weights)
        models.append(lm)
        shapes.append(model)
    assert vocab is not None
    field.vocab = vocab
    state["pretrained"] = {"models": shapes, "vocab_size": len(vocab)}
    return LanguageModelEncoder(*models)


def encoder_for(spec: str | None, field: Field, state: dict[str, Any]) -> LanguageModelEncoder | None:
    """The language-model encoder of a task whose ``model.pretrained`` is ``spec``: from the bundles when
    training (empty state), or shaped from the state when a trained bundle is loaded (weights follow)."""
    if not spec:
        return None
    if "pretrained" in state:
        saved = state["pretrained"]
        return LanguageModelEncoder(*(language_model(shape, saved["vocab_size"]) for shape in saved["models"]))
    return load_encoder(spec, field, state)


def start_embedding(embedding: nn.Embedding, encoder: LanguageModelEncoder | None) -> None:
    """A new run's own word ``embedding`` starts from the forward language model's when their shapes match
    (``encoder``: the one loaded for training; None otherwise)."""
    if encoder is None:
        return
    source = encoder.embeddings[0]
    assert isinstance(source, nn.Embedding)
    if source.weight.shape == embedding.weight.shape:
        with torch.no_grad():
            embedding.weight.copy_(source.weight)


def check_paths(spec: str | None) -> None:
    """A training run's ``model.pretrained`` names bundles that exist (checked before any data is read)."""
    for path in _paths(spec) if spec else []:
        if not (Path(path) / "bundle.json").is_file():
            raise ConfigError(f"model.pretrained: {path} is not a bundle (no bundle.json); give RUN/bundle of "
                              "`python -m pipelines.lm train`", key="model.pretrained", value=spec)


def parameter_groups(model: nn.Module, encoder: LanguageModelEncoder | None, decay: float) -> list[dict[str, Any]] | None:
    """Optimizer groups with learning-rate factors: 1 for the task's own layers, ``decay ** -k`` for the
    language model's layer group ``k`` steps below its top (ULMFiT's discriminative fine-tuning)."""
    if encoder is None:
        return None
    groups = encoder.layer_groups()
    pretrained = {id(p) for group in groups for p in group}
    own = [p for p in model.parameters() if id(p) not in pretrained]
    top = len(groups) - 1
    return [{"params": own, "lr_factor": 1.0}] + [
        {"params": params, "lr_factor": decay ** -(top - k)} for k, params in enumerate(groups) if params]


def unfreeze(encoder: LanguageModelEncoder | None, mode: str, epoch: int) -> None:
    """Which language-model layers train in ``epoch`` (0-based): ``gradual`` none in the first, then one
    more group from the top each epoch; ``none`` all; ``frozen`` none, ever."""
    if encoder is None:
        return
    groups = encoder.layer_groups()
    encoder.frozen = mode == "frozen"
    trainable = {"frozen": 0, "none": len(groups), "gradual": epoch}[mode]
    for k, params in enumerate(reversed(groups)):
        for p in params:
            p.requires_grad_(k < trainable)
