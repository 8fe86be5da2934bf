"""Linear-chain CRF with BIO constraints, and Viterbi decoding (Lafferty et al. 2001; the
constrained transitions follow AllenNLP's ``allowed_transitions``).

Scores: ``score(y) = start[y_1] + sum_t emit[t, y_t] + sum_t trans[y_{t-1}, y_t] + end[y_T]``; the loss
is ``log Z - score(gold)``. Forbidden moves (``O -> I-X``, ``B-X -> I-Y``, a sentence starting with
``I-X``, any move into the pad tag) get -10,000 in every score, so neither training nor decoding
can use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from nlprnn.errors import ConfigError

FORBIDDEN = -1e4
#: float32's exp is exactly 0 below about -103.97; the CPU kernel takes a slow path for a whole vector when
#: any of its inputs is that far out, which the forbidden scores (-1e4) make the usual case
_EXP_ZERO_BELOW = -104.0


def _exp(z: Tensor) -> Tensor:
    """``z.exp()``, the same values; on CPU in float32 the inputs whose exp is 0 reach the kernel as 0 and
    their results are zeroed after it, by multiplying with a 0/1 mask made with arithmetic, which is cheaper
    here than a comparison (the CRF's log Z forward and backward at batch 32 x 40 steps x 20 tags: plain exp
    6.2 ms, a comparison's mask 5.2 ms, this 4.3 ms)."""
    if z.device.type != "cpu" or z.dtype != torch.float32:
        return z.exp()
    keep = (z + -_EXP_ZERO_BELOW).mul_(1e38).clamp_(0.0, 1.0)  # 1 above the bound, 0 at or below it (NaN stays)
    return z.clamp_min(_EXP_ZERO_BELOW).mul_(keep).exp_().mul_(keep)


def _logsumexp_and_softmax(scores: Tensor, out: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """log-sum-exp of ``scores`` over dim 1 (that dim dropped) and the softmax over dim 1 (into ``out``)."""
    best = scores.amax(1, keepdim=True)
    shares = _exp(scores - best)
    total = shares.sum(1, keepdim=True)
    softmax = torch.div(shares, total, out=out) if out is not None else shares / total
    return (total.log_() + best).squeeze(1), softmax


class _ForwardAlgorithm(torch.autograd.Function):
    """log Z of a batch by the forward algorithm (Rabiner 1989), with its gradient written out: reverse mode
    over each step's weights ``P_t[b, i, j]``, the share of ``alpha_{t-1}[b, i]`` in ``alpha_t[b, j]`` (a
    softmax over the predecessors), saved in forward. The same derivative autograd takes of the loop, in
    about 8 operations a step where autograd's graph of ``torch.logsumexp`` runs about 30 (and computes
    each exp twice); the transitions' gradient is one product over all steps at the end. Scores finite."""

    @staticmethod
    def forward(ctx: Any, emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor,
                end: Tensor) -> Tensor:
        steps = emissions.shape[1]
        alpha = start + emissions[:, 0]  # (B, K)
        weights = emissions.new_empty((max(steps - 1, 0), emissions.shape[0], *transitions.shape))  # (T-1, B, from, to)
        for t in range(1, steps):
            log_sum, _ = _logsumexp_and_softmax(alpha.unsqueeze(2) + transitions, out=weights[t - 1])  # (B, from, to)
            alpha = torch.where(mask[:, t, None], log_sum + emissions[:, t], alpha)
        log_z, final = _logsumexp_and_softmax(alpha + end)
        ctx.save_for_backward(weights, final, mask)
        return log_z

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, Tensor, Tensor, Tensor]:
        weights, final, mask = ctx.saved_tensors
        shape = (*mask.shape, final.shape[1])  # the emissions' (B, T, K)
        d_alpha = grad[:, None] * final  # dL/d alpha_{T-1}, (B, K)
        d_end = d_alpha.sum(0)
        d_emissions = grad.new_zeros(shape)
        for t in range(shape[1] - 1, 0, -1):
            running = mask[:, t, None]
            d_next = torch.where(running, d_alpha, 0.0)  # what flowed into this step's new alpha
            d_emissions[:, t] = d_next
            d_alpha = torch.where(running, (weights[t - 1] * d_next.unsqueeze(1)).sum(2), d_alpha)
        d_emissions[:, 0] = d_alpha
        # dL/dT[i, j] = sum over steps and rows of P_t[b, i, j] * d_next_t[b, j]
        d_transitions = (weights * d_emissions[:, 1:].transpose(0, 1).unsqueeze(2)).sum((0, 1))
        return d_emissions, None, d_transitions, d_alpha.sum(0), d_end


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
        if emissions.dtype in (torch.float16, torch.bfloat16):  # under autocast: sums of exps in float32
            emissions = emissions.float()
        return _ForwardAlgorithm.apply(emissions, mask, transitions.to(emissions.dtype), start.to(emissions.dtype),
                                       end.to(emissions.dtype))

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
