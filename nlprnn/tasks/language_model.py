"""Language modeling on a text file: word or character level, BPTT training, perplexity, generation.

``python -m pipelines.lm`` is a thin layer over ``train``, ``evaluate`` and ``sample`` here. The default
corpus is the Korean constitution that KoNLPy ships (``konlpy:kolaw/constitution.txt``), at character
level. The loss is the mean per token, so Zaremba et al.'s learning rate 1 (for a loss summed over the
window) corresponds to about ``bptt_len`` here, as in pytorch/examples' word_language_model (lr 20).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlprnn.data.batching import BPTTIterator, default_device
from nlprnn.data.dataset import Dataset, LanguageModelingDataset
from nlprnn.data.field import Field
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.generation import generate
from nlprnn.models.heads import LanguageModel
from nlprnn.tasks.checks import check_dataset_tokens, check_known_tokens
from nlprnn.training.bundle import load_bundle, save_bundle
from nlprnn.training.distributed import setup, unwrap
from nlprnn.training.metrics import language_model_metrics
from nlprnn.training.plot import plot_history
from nlprnn.training.trainer import TrainConfig, Trainer

TASK = "lm"


@dataclass
class LMDataConfig:
    train: str = "konlpy:kolaw/constitution.txt"
    valid: str | None = None
    valid_fraction: float = 0.1
    level: str = "char"
    tokenizer: str = "whitespace"
    batch_size: int = 16
    bptt_len: int = 64
    eval_batch_size: int = 10


@dataclass
class LMModelConfig:
    embedding_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 2
    cell: str = "lstm"
    dropout: float = 0.2
    tie_weights: bool = False
    layer_norm: bool = False


@dataclass
class LMConfig:
    data: LMDataConfig = field(default_factory=LMDataConfig)
    model: LMModelConfig = field(default_factory=LMModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=10, optimizer="adam", lr=3e-3, clip=0.25, monitor="loss", mode="min"))
    out: str = "runs/lm"
    device: str | None = None


def resolve_path(path: str) -> str:
    """``konlpy:RELATIVE`` names a corpus file inside the KoNLPy package; other paths are plain."""
    if path.startswith("konlpy:"):
        import konlpy

        return os.path.join(os.path.dirname(konlpy.__file__), "data", "corpus", path.split(":", 1)[1])
    return path


def _field(data: LMDataConfig) -> Field:
    if data.level not in ("word", "char"):
        raise ConfigError(f"config key 'data.level' must be 'word' or 'char', not {data.level!r}")
    return Field(tokenize="char" if data.level == "char" else data.tokenizer, batch_first=True)


def _read(path: str, data: LMDataConfig, text: Field, progress: bool) -> LanguageModelingDataset:
    return LanguageModelingDataset(resolve_path(path), text, newline_eos=data.level == "word",
                                   char_stream=data.level == "char", progress=progress)


def _split(dataset: Dataset, fraction: float) -> tuple[Dataset, Dataset]:
    """The first lines for training, the last ``fraction`` of them for validation (no shuffling: text)."""
    if not 0 < fraction < 1:
        raise ConfigError("config key 'data.valid_fraction' must be between 0 and 1")
    cut = int(round(len(dataset) * (1 - fraction)))
    if cut < 1 or cut >= len(dataset):
        raise DataError(dataset.path, None, f"has {len(dataset)} lines, too few to split off a validation part.",
                        "give a longer text or a separate data.valid file.")
    return dataset.take(np.arange(cut)), dataset.take(np.arange(cut, len(dataset)))


@torch.no_grad()
def evaluate_stream(model: LanguageModel, dataset: Dataset, data: LMDataConfig, device: torch.device) -> dict[str, float]:
    """Loss, perplexity and bits per token over the whole stream, state carried window to window."""
    model.eval()
    total, tokens, state = 0.0, 0, None
    for batch in BPTTIterator(dataset, data.eval_batch_size, data.bptt_len, device=device, batch_first=True,
                              train=False):
        logits, state = model(batch.text, state)
        total += float(model.loss(logits, batch.target)) * batch.target.numel()
        tokens += batch.target.numel()
    return language_model_metrics(total, tokens)


def build_model(model: LMModelConfig, vocab_size: int) -> LanguageModel:
    return LanguageModel(vocab_size, model.embedding_dim, model.hidden_size, num_layers=model.num_layers,
                         cell=model.cell, dropout=model.dropout, tie_weights=model.tie_weights,
                         layer_norm=model.layer_norm)


def train(config: LMConfig, progress: bool = True, resume: bool = False) -> dict[str, Any]:
    ctx = setup(config.device)
    device = ctx.device
    text = _field(config.data)
    whole = _read(config.data.train, config.data, text, progress and ctx.is_main)
    if config.data.valid:
        train_set: Dataset = whole
        valid_set: Dataset = _read(config.data.valid, config.data, text, progress and ctx.is_main)
    else:
        train_set, valid_set = _split(whole, config.data.valid_fraction)
    text.build_vocab(train_set)
    assert text.vocab is not None
    torch.manual_seed(config.train.seed)
    model = build_model(config.model, len(text.vocab))
    iterator = BPTTIterator(train_set, config.data.batch_size, config.data.bptt_len, device=device, batch_first=True,
                            seed=config.train.seed, rank=ctx.rank, world_size=ctx.world_size)
    carried: dict[str, Any] = {"state": None}  # saved in checkpoints, so a mid-epoch resume is exact

    def step(model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        if iterator.position <= 1:  # a new pass over the text starts from a zero state
            carried["state"] = None
        logits, state = model(batch.text, carried["state"])
        carried["state"] = LanguageModel.detach(state)
        return unwrap(model).loss(logits, batch.target), batch.target.numel()

    def evaluate(model: torch.nn.Module) -> dict[str, Any]:
        return evaluate_stream(model, valid_set, config.data, device)  # type: ignore[arg-type]

    out = Path(config.out)
    trainer = Trainer(model, config.train, iterator, step, evaluate, out, device=device, progress=progress,
                      distributed=ctx, carry=carried)
    history = trainer.fit(resume=resume)
    if not ctx.is_main:
        return {}  # rank 0 writes the bundle and reports
    plot_history(history, out / "curves.png", ["loss"])
    best = torch.load(out / "best.pt", weights_only=True)
    model.load_state_dict(best["model"])
    save_bundle(out / "bundle", TASK, asdict(config), {"text": text}, model.state_dict())
    result = {"best_epoch": best["epoch"], "valid": evaluate(model), "history": history, "vocab": len(text.vocab),
              "train_tokens": int(train_set.lengths("text").sum()), "valid_tokens": int(valid_set.lengths("text").sum()),
              "level": config.data.level}
    result["sample"] = sample(model, text, config.data.level, _prompt(train_set), 200, seed=0)
    (out / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def _prompt(dataset: Dataset) -> str:
    first = dataset[0].text
    return "".join(first[:1]) if first else "\n"


def sample(model: LanguageModel, text: Field, level: str, prompt: str, max_tokens: int, seed: int | None = 0,
           temperature: float = 0.8, top_k: int | None = None, greedy: bool = False) -> str:
    """Generated text continuing ``prompt`` (unknown prompt tokens map to <unk>)."""
    assert text.vocab is not None
    if level == "char":
        return generate(model, text.vocab, list(prompt), max_tokens, strategy="greedy" if greedy else "sample",
                        temperature=temperature, top_k=top_k, seed=seed, stop_token=None, joiner="")
    tokenize = text.tokenizer if text.tokenizer is not None else str.split
    return generate(model, text.vocab, prompt, max_tokens, strategy="greedy" if greedy else "sample",
                    temperature=temperature, top_k=top_k, seed=seed, tokenize=tokenize, stop_token="<eos>")


def load(bundle: str | Path) -> tuple[LanguageModel, Field, LMConfig]:
    raw, fields, weights = load_bundle(bundle, TASK)
    config = LMConfig(data=LMDataConfig(**raw["data"]), model=LMModelConfig(**raw["model"]))
    text = fields["text"]
    assert text.vocab is not None
    model = build_model(config.model, len(text.vocab))
    model.load_state_dict(weights)
    return model.to(default_device()), text, config


def evaluate(bundle: str | Path, path: str, progress: bool = True) -> dict[str, float]:
    model, text, config = load(bundle)
    dataset = _read(path, config.data, text, progress)
    check_dataset_tokens(dataset, "text", text)
    metrics = evaluate_stream(model, dataset, config.data, next(model.parameters()).device)
    return {"tokens": int(dataset.lengths("text").sum()), **metrics}


def generate_text(bundle: str | Path, prompt: str, max_tokens: int, seed: int | None, temperature: float,
                  top_k: int | None, greedy: bool) -> str:
    model, text, config = load(bundle)
    if not prompt:
        raise ConfigError("give a --prompt of at least one token")
    assert text.vocab is not None
    tokens = list(prompt) if config.data.level == "char" else (text.tokenizer or str.split)(prompt)
    check_known_tokens(None, text, [text.vocab.index(t) for t in tokens], what="prompt")
    return sample(model, text, config.data.level, prompt, max_tokens, seed, temperature, top_k, greedy)
