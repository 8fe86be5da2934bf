"""Language models as encoders for a classifier or a tagger (Dai & Le 2015; ULMFiT, Howard & Ruder 2018;
TagLM, Peters et al. 2017).

``LanguageModelEncoder`` holds the embedding and recurrent layers of a forward language model and, for a
bidirectional encoder, of a backward one that reads each sentence right to left. The two stacks stay
separate (as in ELMo's biLM: a unidirectional LM's layers cannot be interleaved into ``nn.LSTM``'s
bidirectional layers, whose upper layers read both directions), and their outputs are concatenated.
``layer_groups`` lists the parameters bottom to top, for discriminative learning rates and gradual
unfreezing.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import Tensor, nn

from nlprnn.models.dropout import Dropout
from nlprnn.models.encoder import RNNEncoder, reverse_within_lengths
from nlprnn.models.heads import LanguageModel, adaptive_cutoffs, valid_mask


def language_model(config: dict[str, Any], vocab_size: int) -> LanguageModel:
    """A LanguageModel shaped as a bundle's ``model`` config says (weights to be loaded)."""
    cutoffs = adaptive_cutoffs(config.get("adaptive_cutoffs", ""), vocab_size)  # bundles before it: ""
    return LanguageModel(vocab_size, config["embedding_dim"], config["hidden_size"], num_layers=config["num_layers"],
                         cell=config["cell"], dropout=config["dropout"], tie_weights=config["tie_weights"],
                         layer_norm=config["layer_norm"], adaptive_cutoffs=cutoffs)


class LanguageModelEncoder(nn.Module):
    """tokens (B, T), lengths (B,) -> outputs (B, T, H_forward [+ H_backward]) and the final states (B, ...)."""

    def __init__(self, forward_lm: LanguageModel, backward_lm: LanguageModel | None = None) -> None:
        super().__init__()
        models = [forward_lm] + ([backward_lm] if backward_lm is not None else [])
        self.embeddings = nn.ModuleList(m.embedding for m in models)
        self.encoders = nn.ModuleList(m.encoder for m in models)
        self.output_size = sum(m.encoder.hidden_size for m in models)
        self.num_layers = forward_lm.encoder.num_layers
        self.frozen = False
        """All its weights fixed (TagLM): run without dropout and without gradients."""

    def forward(self, tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        if self.frozen:
            self.eval()
            with torch.no_grad():
                return self._run(tokens, lengths)
        return self._run(tokens, lengths)

    def _run(self, tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        outputs, finals = [], []
        for direction, (embedding, module) in enumerate(zip(self.embeddings, self.encoders)):
            encoder = cast(RNNEncoder, module)
            x = tokens if direction == 0 else reverse_within_lengths(tokens.unsqueeze(-1), lengths).squeeze(-1)
            out, state = encoder(embedding(x), lengths)
            if direction == 1:
                out = reverse_within_lengths(out, lengths)
            outputs.append(out)
            finals.append(encoder.final_output(state))
        return torch.cat(outputs, dim=-1), torch.cat(finals, dim=-1)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Parameters bottom to top: the embeddings, then recurrent layer 0, 1, ... of every direction."""
        groups: list[list[nn.Parameter]] = [[p for e in self.embeddings for p in e.parameters()]]
        for layer in range(self.num_layers):
            params: list[nn.Parameter] = []
            for module in self.encoders:
                encoder = cast(RNNEncoder, module)
                if encoder.layer_norm:
                    params += list(encoder.layers[layer].parameters())
                else:
                    params += [p for name, p in encoder.rnn.named_parameters() if name.endswith(f"_l{layer}")]
            groups.append(params)
        return groups


class PretrainedClassifier(nn.Module):
    """ULMFiT's classifier: a LanguageModelEncoder, concat pooling (the final state, the max and the mean
    over the outputs) and a two-layer head with dropout."""

    def __init__(self, encoder: LanguageModelEncoder, num_classes: int, head_hidden: int = 50,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        width = 3 * encoder.output_size
        self.head = nn.Sequential(Dropout(dropout), nn.Linear(width, head_hidden), nn.ReLU(), Dropout(dropout),
                                  nn.Linear(head_hidden, num_classes))

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        outputs, final = self.encoder(tokens, lengths)
        mask = valid_mask(lengths.to(tokens.device), tokens.shape[1]).unsqueeze(-1)
        largest = outputs.masked_fill(~mask, float("-inf")).max(1).values
        mean = (outputs * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(torch.cat([final, largest, mean], dim=-1))
