"""Linear-chain CRF with BIO constraints, and Viterbi decoding (Lafferty et al. 2001; the
constrained transitions follow AllenNLP's ``allowed_transitions``).

Scores: ``score(y) = start[y_1] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_T]``; the loss
is ``log Z - score(gold)``. Forbidden moves (``O -> I-X``, ``B-X -> I-Y``, a sentence starting with
``I-X``, any move into the pad tag) get -10,000 in every score, so neither training nor decoding
can use them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from nlprnn.errors import ConfigError

FORBIDDEN = -1e4


def bio_allowed(tags: Sequence[str]) -> tuple[Tensor, Tensor]:
    """(allowed transitions (K, K), allowed starts (K,)) for BIO tag names; specials (``<pad>``) never."""
    def parse(tag: str) -> tuple[str, str | None]:
        if tag == "O":
            return "O", None
        prefix, _, kind = tag.partition("-")
        return (prefix, kind) if prefix in ("B", "I") and kind else ("special", None)

    parsed = [parse(t) for t in tags]
    k = len(tags)
    allowed = torch.zeros(k, k, dtype=torch.bool)
    start = torch.zeros(k, dtype=torch.bool)
    for j, (prefix_j, kind_j) in enumerate(parsed):
        if prefix_j == "special":
            continue
        start[j] = prefix_j != "I"
        for i, (prefix_i, kind_i) in enumerate(parsed):
            if prefix_i == "special":
                continue
            allowed[i, j] = prefix_j != "I" or (prefix_i in ("B", "I") and kind_i == kind_j)
    return allowed, start


class CRF(nn.Module):
    """A CRF over ``num_tags`` tags; ``tags`` (names) turn on the BIO constraints. Batch-first."""

    def __init__(self, num_tags: int, tags: Sequence[str] | None = None) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        nn.init.uniform_(self.transitions, -0.1, 0.1)
        if tags is not None:
            if len(tags) != num_tags:
                raise ConfigError(f"{len(tags)} tag names for {num_tags} tags")
            allowed, start = bio_allowed(tags)
        else:
            allowed, start = torch.ones(num_tags, num_tags, dtype=torch.bool), torch.ones(num_tags, dtype=torch.bool)
        self.allowed: Tensor
        self.allowed_start: Tensor
        self.allowed_end: Tensor
        self.register_buffer("allowed", allowed)
        self.register_buffer("allowed_start", start)
        self.register_buffer("allowed_end", start | allowed.any(0))  # any reachable tag may end

    def _scores(self) -> tuple[Tensor, Tensor, Tensor]:
        transitions = self.transitions.masked_fill(~self.allowed, FORBIDDEN)
        start = self.start.masked_fill(~self.allowed_start, FORBIDDEN)
        end = self.end.masked_fill(~self.allowed_end, FORBIDDEN)
        return transitions, start, end

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Score of the given tag sequences: emissions (B, T, K), tags (B, T), mask (B, T) a prefix."""
        transitions, start, end = self._scores()
        maskf = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # (B, T)
        total = start[tags[:, 0]] + (emit * maskf).sum(1)
        total = total + (transitions[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)
        return total + end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z for each sequence (forward algorithm), (B,)."""
        transitions, start, end = self._scores()
        alpha = start + emissions[:, 0]  # (B, K)
        for emit_t, mask_t in zip(emissions[:, 1:].unbind(1), mask[:, 1:].unbind(1)):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + transitions.unsqueeze(0), dim=1) + emit_t
            alpha = torch.where(mask_t.unsqueeze(1), nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def neg_log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Mean over the batch of ``log Z - score(tags)``."""
        return (self.log_partition(emissions, mask) - self.score(emissions, tags, mask)).mean()

    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """Viterbi: the best allowed tag sequence of each example, as lists of its own length."""
        transitions, start, end = self._scores()
        score = start + emissions[:, 0]
        history = []
        for emit_t, mask_t in zip(emissions[:, 1:].unbind(1), mask[:, 1:].unbind(1)):
            candidates = score.unsqueeze(2) + transitions.unsqueeze(0)  # (B, from, to)
            best, back = candidates.max(dim=1)
            score = torch.where(mask_t.unsqueeze(1), best + emit_t, score)
            history.append(back)
        score = score + end
        # backtrack every sequence at once, from its own last token; one copy to the host at the end
        lengths = mask.sum(1)  # (B,)
        steps = emissions.shape[1]
        tag = score.argmax(1)  # (B,) the best last tag
        path = [tag]
        for t in range(steps - 2, -1, -1):  # history[t] leads from step t+1 back to step t
            previous = history[t].gather(1, tag.unsqueeze(1)).squeeze(1)
            tag = torch.where(t + 1 < lengths, previous, tag)  # rows that end at or before t+1 keep their tag
            path.append(tag)
        rows = torch.stack(path[::-1], dim=1) if path else score.new_zeros((len(lengths), 0), dtype=torch.long)
        # past a row's end its tag was carried unchanged, so its first n columns are its path
        return [r[:n] for r, n in zip(rows.tolist(), lengths.tolist())]
