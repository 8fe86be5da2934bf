"""Task models: an embedding (or numeric input), an RNNEncoder, and a head.

- SequenceClassifier (many-to-one): final states or pooled outputs -> class logits.
- SequenceTagger (many-to-many): per-token logits, softmax or a BIO-constrained CRF.
- LanguageModel (next token): hidden state carried across BPTT windows, optional tied embeddings.
- SequenceRegressor (many-to-one, numeric features): a window of rows -> the next value(s).
All take batch-first ids (B, T) with lengths (B,).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nlprnn.errors import ConfigError
from nlprnn.models.crf import CRF
from nlprnn.models.encoder import RNNEncoder, State


def valid_mask(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) bool, True at real tokens."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


class SequenceClassifier(nn.Module):
    """Embedding -> RNNEncoder -> pooling -> linear. ``pooling``: ``"last"`` (the top layer's final
    forward and backward states, concatenated), ``"max"`` or ``"mean"`` over valid positions. With
    ``lm_encoder`` (TagLM's way), the language models' states join the embedding as the encoder's input."""

    def __init__(self, vocab_size: int, num_classes: int, embedding_dim: int = 128, hidden_size: int = 256,
                 pooling: str = "last", padding_idx: int | None = None, embedding: nn.Embedding | None = None,
                 lm_encoder: nn.Module | None = None, **encoder: Any) -> None:
        super().__init__()
        if pooling not in ("last", "max", "mean"):
            raise ConfigError(f"pooling must be 'last', 'max' or 'mean', not {pooling!r}")
        self.embedding = embedding or nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        self.lm_encoder = lm_encoder
        input_size = self.embedding.embedding_dim
        if lm_encoder is not None:
            width = lm_encoder.output_size
            assert isinstance(width, int)
            input_size += width
        self.encoder = RNNEncoder(input_size, hidden_size, **encoder)
        self.pooling = pooling
        self.output = nn.Linear(self.encoder.output_size, num_classes)

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """tokens (B, T), lengths (B,) -> logits (B, num_classes)."""
        x = self.embedding(tokens)
        if self.lm_encoder is not None:
            x = torch.cat([x, self.lm_encoder(tokens, lengths)[0]], dim=-1)  # (B, T, E + H_lm)
        outputs, state = self.encoder(x, lengths)  # (B, T, D*H)
        if self.pooling == "last":
            features = self.encoder.final_output(state)  # (B, D*H)
        else:
            mask = valid_mask(lengths.to(tokens.device), tokens.shape[1]).unsqueeze(-1)
            if self.pooling == "max":
                features = outputs.masked_fill(~mask, float("-inf")).max(1).values
            else:
                features = (outputs * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.output(features)


def distinct_rows(rows: Tensor) -> tuple[Tensor, Tensor]:
    """The distinct rows of a 2-D integer tensor and each row's index among them, as ``torch.unique(dim=0,
    return_inverse=True)`` gives (in another order on CPU): there numpy sorts the rows as raw bytes, 8x
    faster than torch's row-by-row comparison (which took 4.6% of a KMOU tagger step)."""
    if rows.is_cuda or rows.numel() == 0:
        return torch.unique(rows, dim=0, return_inverse=True)
    array = np.ascontiguousarray(rows.detach().cpu().numpy())
    keys = array.view(np.dtype((np.void, array.dtype.itemsize * array.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[torch.from_numpy(first).to(rows.device)], torch.from_numpy(inverse.reshape(-1)).to(rows.device)


class SequenceTagger(nn.Module):
    """Embedding (+ optional character features, + an optional per-token feature such as the POS tag,
    + an optional word-start flag: the morpheme begins a space-separated word) -> RNNEncoder (-> optional self-attention, ``attention_heads``) -> per-token logits, with a CRF when
    ``crf=True`` (transitions constrained by ``tags``, the BIO tag names in id order). ``word_dropout``
    reads training words as ``unk_idx`` with that chance (Lample et al. 2016)."""

    def __init__(self, vocab_size: int, num_tags: int, embedding_dim: int = 128, hidden_size: int = 256,
                 crf: bool = True, tags: Sequence[str] | None = None, padding_idx: int | None = None,
                 char_vocab_size: int | None = None, char_dim: int = 32, char_hidden: int = 32,
                 feature_vocab_size: int | None = None, feature_dim: int = 32, word_dropout: float = 0.0,
                 unk_idx: int | None = None, attention_heads: int = 0, word_start_vocab_size: int | None = None,
                 word_start_dim: int = 8, lm_encoder: nn.Module | None = None, **encoder: Any) -> None:
        super().__init__()
        if word_dropout and unk_idx is None:
            raise ConfigError("word_dropout replaces words by <unk>: pass unk_idx")
        self.word_dropout, self.unk_idx = word_dropout, unk_idx
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
        input_size = embedding_dim
        self.feature_embedding: nn.Embedding | None = None
        if feature_vocab_size is not None:  # e.g. POS tags looked up and concatenated (as dsindex/ntagger)
            self.feature_embedding = nn.Embedding(feature_vocab_size, feature_dim, padding_idx=padding_idx)
            input_size += feature_dim
        self.word_start_embedding: nn.Embedding | None = None
        if word_start_vocab_size is not None:  # where the spaces were, which morphemes alone do not say
            self.word_start_embedding = nn.Embedding(word_start_vocab_size, word_start_dim, padding_idx=padding_idx)
            input_size += word_start_dim
        self.lm_encoder = lm_encoder
        if lm_encoder is not None:  # TagLM: the language models' states beside the tagger's own inputs
            width = lm_encoder.output_size
            assert isinstance(width, int)
            input_size += width
        self.char_embedding: nn.Embedding | None = None
        if char_vocab_size is not None:  # a BiLSTM over each word's characters (Lample et al. 2016)
            self.char_embedding = nn.Embedding(char_vocab_size, char_dim, padding_idx=padding_idx)
            # packed: a batch's distinct spellings are many and short, with a dozen or more distinct lengths,
            # where packing's per-step loop beat one call per length (KMOU tagger step: 7.46 -> 7.04 s)
            self.char_encoder = RNNEncoder(char_dim, char_hidden, bidirectional=True, execution="packed")
            input_size += 2 * char_hidden
        self.encoder = RNNEncoder(input_size, hidden_size, **encoder)
        self.attention: nn.MultiheadAttention | None = None
        if attention_heads:  # self-attention over the encoder's outputs, added back and normalized
            self.attention = nn.MultiheadAttention(self.encoder.output_size, attention_heads, batch_first=True,
                                                   dropout=encoder.get("output_dropout", 0.0))
            self.attention_norm = nn.LayerNorm(self.encoder.output_size)
        self.emissions = nn.Linear(self.encoder.output_size, num_tags)
        self.crf = CRF(num_tags, tags) if crf else None

    def forward(self, tokens: Tensor, lengths: Tensor, chars: Tensor | None = None,
                char_lengths: Tensor | None = None, features: Tensor | None = None,
                word_starts: Tensor | None = None) -> Tensor:
        """tokens (B, T), lengths (B,), chars (B, T, C), char_lengths (B, T), features (B, T), word_starts
        (B, T) -> emissions (B, T, K).

        In training, ``word_dropout`` replaces each word by <unk> with that probability (its characters and
        feature stay), so that <unk> is learned from every kind of word and the model leans on characters."""
        words = tokens
        if self.training and self.word_dropout > 0:
            dropped = torch.rand(tokens.shape, device=tokens.device) < self.word_dropout
            tokens = tokens.masked_fill(dropped, self.unk_idx)  # type: ignore[arg-type]
        x = self.embedding(tokens)
        if self.feature_embedding is not None:
            if features is None:
                raise ConfigError("this tagger uses a per-token feature column: pass features")
            x = torch.cat([x, self.feature_embedding(features)], dim=-1)  # (B, T, E + F)
        if self.word_start_embedding is not None:
            if word_starts is None:
                raise ConfigError("this tagger uses word-start flags: pass word_starts")
            x = torch.cat([x, self.word_start_embedding(word_starts)], dim=-1)
        if self.char_embedding is not None:
            if chars is None or char_lengths is None:
                raise ConfigError("this tagger uses character features: pass chars and char_lengths")
            x = torch.cat([x, self._char_features(chars, char_lengths)], dim=-1)
        if self.lm_encoder is not None:
            x = torch.cat([x, self.lm_encoder(words, lengths)[0]], dim=-1)
        outputs, _ = self.encoder(x, lengths)
        if self.attention is not None:  # each word sees every other at once, not only through the recurrences
            padding = ~valid_mask(lengths.to(outputs.device), outputs.shape[1])
            attended, _ = self.attention(outputs, outputs, outputs, key_padding_mask=padding, need_weights=False)
            outputs = self.attention_norm(outputs + attended)
        return self.emissions(outputs)

    def _char_features(self, chars: Tensor, char_lengths: Tensor) -> Tensor:
        """(B, T, C) character ids -> (B, T, 2 * char_hidden). Each distinct spelling in the batch is encoded
        once (a batch repeats its particles and endings many times) and the result scattered back."""
        assert self.char_embedding is not None
        b, t, c = chars.shape
        spellings, where = distinct_rows(chars.reshape(b * t, c))
        lengths = torch.zeros(len(spellings), dtype=char_lengths.dtype, device=char_lengths.device)
        lengths = lengths.scatter(0, where, char_lengths.reshape(b * t)).clamp(min=1)
        _, state = self.char_encoder(self.char_embedding(spellings), lengths)
        return self.char_encoder.final_output(state)[where].view(b, t, -1)

    def loss(self, emissions: Tensor, tags: Tensor, lengths: Tensor) -> Tensor:
        """CRF negative log-likelihood, or token cross-entropy over valid positions."""
        mask = valid_mask(lengths.to(emissions.device), emissions.shape[1])
        if self.crf is not None:
            return self.crf.neg_log_likelihood(emissions, tags, mask)
        return F.cross_entropy(emissions[mask], tags[mask])

    def decode(self, emissions: Tensor, lengths: Tensor) -> list[list[int]]:
        """Best tag ids of each sequence (Viterbi with a CRF, else argmax), each of its own length."""
        mask = valid_mask(lengths.to(emissions.device), emissions.shape[1])
        if self.crf is not None:
            return self.crf.decode(emissions, mask)
        best = emissions.argmax(-1)
        return [best[b, :n].tolist() for b, n in enumerate(lengths.tolist())]


def adaptive_cutoffs(text: str, vocab_size: int) -> list[int]:
    """``model.adaptive_cutoffs`` as ascending ids, each inside the vocab; a bad value is a ConfigError."""
    if not text.strip():
        return []
    try:
        cutoffs = [int(part) for part in text.split(",")]
    except ValueError:
        cutoffs = []
    if not cutoffs or cutoffs != sorted(set(cutoffs)) or cutoffs[0] < 1 or cutoffs[-1] >= vocab_size - 1:
        raise ConfigError(f"model.adaptive_cutoffs must be ascending word ids between 1 and {vocab_size - 2} (the "
                          f"vocab has {vocab_size:,} words), comma-separated, e.g. '2000,10000'; got {text!r}",
                          key="model.adaptive_cutoffs", value=text)
    return cutoffs


class LanguageModel(nn.Module):
    """Embedding -> unidirectional RNNEncoder -> softmax over the vocabulary (Zaremba et al. 2014).

    ``dropout`` goes on the embedding output, between layers and on the top output (vertical only).
    ``tie_weights`` shares the input and output embedding (Press & Wolf 2017; needs
    ``embedding_dim == hidden_size``). ``adaptive_cutoffs`` (e.g. ``(2000, 10000)``) replaces the full
    softmax with an adaptive one (Grave et al. 2017, ``nn.AdaptiveLogSoftmaxWithLoss``): the frequent
    words get the full width, rarer clusters smaller projections, which is where a word-level LM spends
    its time on a CPU. Carry ``state`` from window to window and ``detach`` it between.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 200, hidden_size: int = 200, num_layers: int = 2,
                 cell: str = "lstm", dropout: float = 0.0, tie_weights: bool = False, layer_norm: bool = False,
                 compile: bool | None = None, adaptive_cutoffs: Sequence[int] = ()) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.encoder = RNNEncoder(embedding_dim, hidden_size, num_layers=num_layers, cell=cell,
                                  input_dropout=dropout, layer_dropout=dropout, output_dropout=dropout,
                                  layer_norm=layer_norm, compile=compile)
        self.output: nn.Linear | nn.AdaptiveLogSoftmaxWithLoss
        if adaptive_cutoffs:
            if tie_weights:
                raise ConfigError("tie_weights shares one output matrix; an adaptive softmax has several")
            self.output = nn.AdaptiveLogSoftmaxWithLoss(hidden_size, vocab_size, list(adaptive_cutoffs), div_value=4.0)
        else:
            self.output = nn.Linear(hidden_size, vocab_size)
            if tie_weights:
                if embedding_dim != hidden_size:
                    raise ConfigError("tie_weights needs embedding_dim == hidden_size")
                self.output.weight = self.embedding.weight
            nn.init.zeros_(self.output.bias)
        initrange = 0.1  # as pytorch/examples word_language_model
        nn.init.uniform_(self.embedding.weight, -initrange, initrange)

    @property
    def adaptive(self) -> bool:
        return isinstance(self.output, nn.AdaptiveLogSoftmaxWithLoss)

    def forward(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """tokens (B, T) -> scores and the state to pass to the next window. The scores are what
        ``loss`` and ``log_probs`` take: logits (B, T, V), or with an adaptive softmax the top layer's
        outputs (B, T, H), since its clusters are scored only where needed."""
        outputs, state = self.encoder(self.embedding(tokens), None, state)
        return (outputs if self.adaptive else self.output(outputs)), state

    @staticmethod
    def detach(state: State) -> State:
        """Cut the graph between BPTT windows, keeping the values (``repackage_hidden``)."""
        if isinstance(state, tuple):
            return tuple(s.detach() for s in state)  # type: ignore[return-value]
        return state.detach()

    def loss(self, scores: Tensor, targets: Tensor) -> Tensor:
        """Mean cross-entropy per token; ``exp`` of it is the perplexity."""
        if isinstance(self.output, nn.AdaptiveLogSoftmaxWithLoss):
            return self.output(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1)).loss
        return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))

    def log_probs(self, scores: Tensor) -> Tensor:
        """Log-probabilities over the whole vocabulary (..., V) from ``forward``'s scores."""
        if isinstance(self.output, nn.AdaptiveLogSoftmaxWithLoss):
            flat = self.output.log_prob(scores.reshape(-1, scores.shape[-1]))
            return flat.reshape(*scores.shape[:-1], flat.shape[-1])
        return F.log_softmax(scores, dim=-1)


class SequenceRegressor(nn.Module):
    """Numeric features over time (B, T, F) -> RNNEncoder -> the next value(s) (B, outputs)."""

    def __init__(self, num_features: int, hidden_size: int = 64, outputs: int = 1, **encoder: Any) -> None:
        super().__init__()
        self.encoder = RNNEncoder(num_features, hidden_size, **encoder)
        self.output = nn.Linear(self.encoder.output_size, outputs)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        _, state = self.encoder(x, lengths)
        return self.output(self.encoder.final_output(state))
