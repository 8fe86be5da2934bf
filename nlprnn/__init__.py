"""nlprnn: torchtext's declarative data pipeline (Field, Vocab, TabularDataset, BucketIterator,
BPTTIterator) on current PyTorch, Korean-first (Kkma by default), and the RNN models it feeds."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# the public names and the module each comes from, imported on first use: ``import nlprnn`` (and a Ray
# actor or tokenizer worker importing ``nlprnn.tokenizers``) does not pay for torch and datasets until
# something needs them
_EXPORTS: dict[str, tuple[str, ...]] = {
    "nlprnn.data": (
        "Batch", "BPTTIterator", "BucketIterator", "BucketSampler", "Dataset", "Example", "Field", "Iterator",
        "LabelField", "LanguageModelingDataset", "NestedField", "Pipeline", "RawField", "ReversibleField",
        "SequenceTaggingDataset", "SubwordField", "TabularDataset", "TagField", "Vocab", "WindowIterator", "batch",
        "default_device", "interleave_keys", "pack", "pool", "stream_preprocess", "unpack",
    ),
    "nlprnn.errors": (
        "BundleError", "ConfigError", "DataError", "NlprnnError", "TagError", "TokenizerUnavailableError",
        "TrainingError", "UnknownTokenError", "VocabError",
    ),
    "nlprnn.predictor": (
        "Predictor", "load",
    ),
    "nlprnn.tokenizers": (
        "Tokenizer", "available_tokenizers", "get_tokenizer", "register_tokenizer",
    ),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = ("config", "data", "errors", "legacy", "models", "parallel", "predictor", "serving", "tasks",
               "tokenizers", "training")


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"nlprnn.{name}")
    else:
        raise AttributeError(f"module 'nlprnn' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME) | set(_SUBMODULES))


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from nlprnn.data import (
        Batch,
        BPTTIterator,
        BucketIterator,
        BucketSampler,
        Dataset,
        Example,
        Field,
        Iterator,
        LabelField,
        LanguageModelingDataset,
        NestedField,
        Pipeline,
        RawField,
        ReversibleField,
        SequenceTaggingDataset,
        SubwordField,
        TabularDataset,
        TagField,
        Vocab,
        WindowIterator,
        batch,
        default_device,
        interleave_keys,
        pack,
        pool,
        stream_preprocess,
        unpack,
    )
    from nlprnn.errors import (
        BundleError,
        ConfigError,
        DataError,
        NlprnnError,
        TagError,
        TokenizerUnavailableError,
        TrainingError,
        UnknownTokenError,
        VocabError,
    )
    from nlprnn.predictor import Predictor, load
    from nlprnn.tokenizers import Tokenizer, available_tokenizers, get_tokenizer, register_tokenizer


__all__ = [*_HOME, "__version__"]
