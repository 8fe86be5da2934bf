"""Embedding layers built from a Vocab: padding index respected, pretrained vectors, optional freezing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from nlprnn.errors import ConfigError

if TYPE_CHECKING:  # the models need no data pipeline (datasets, pyarrow) to run
    from nlprnn.data.vocab import Vocab


def embedding_from_vocab(vocab: Vocab, dim: int | None = None, pad_token: str | None = "<pad>",
                         freeze: bool = False) -> nn.Embedding:
    """An ``nn.Embedding`` of ``len(vocab)`` rows; initialized from ``vocab.vectors`` when loaded.

    ``dim`` may be left out when the vocab has vectors. The pad row is zero and gets no gradient.
    """
    padding_idx = vocab.index(pad_token) if pad_token is not None and pad_token in vocab.specials else None
    if vocab.vectors is not None:
        if dim is not None and dim != vocab.vectors.shape[1]:
            raise ConfigError(f"dim={dim} but the vocab's vectors have {vocab.vectors.shape[1]} dimensions")
        embedding = nn.Embedding.from_pretrained(vocab.vectors.clone(), freeze=freeze, padding_idx=padding_idx)
        if padding_idx is not None:
            embedding.weight.data[padding_idx].zero_()
        return embedding
    if dim is None:
        raise ConfigError("give dim: the vocab has no pretrained vectors")
    embedding = nn.Embedding(len(vocab), dim, padding_idx=padding_idx)
    embedding.weight.requires_grad_(not freeze)
    return embedding
