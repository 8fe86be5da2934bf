"""Text generation from a LanguageModel: greedy, temperature sampling and top-k, seeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from nlprnn.errors import ConfigError
from nlprnn.models.heads import LanguageModel

if TYPE_CHECKING:  # the models need no data pipeline (datasets, pyarrow) to run
    from nlprnn.data.vocab import Vocab


@torch.no_grad()
def generate(model: LanguageModel, vocab: Vocab, prompt: str | list[str], max_tokens: int = 50,
             strategy: str = "sample", temperature: float = 1.0, top_k: int | None = None, seed: int | None = 0,
             tokenize: Callable[[str], list[str]] = str.split, stop_token: str | None = "<eos>",
             joiner: str = " ") -> str:
    """Continue ``prompt`` by up to ``max_tokens`` tokens; returns prompt and continuation as text.

    ``strategy``: ``"greedy"`` (argmax) or ``"sample"`` (softmax(logits / temperature), restricted to the
    ``top_k`` best when given). A temperature of 0 is greedy. ``joiner`` is ``""`` for characters. The
    padding token is never produced (it was, now and then, by word-level models).
    """
    if strategy not in ("greedy", "sample"):
        raise ConfigError(f"strategy must be 'greedy' or 'sample', not {strategy!r}")
    tokens = tokenize(prompt) if isinstance(prompt, str) else list(prompt)
    if not tokens:
        raise ConfigError("the prompt has no tokens; give at least one")
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu")
    if seed is not None:
        generator.manual_seed(seed)
    was_training = model.training
    model.eval()
    ids = torch.tensor([vocab.lookup_indices(tokens)], device=device)
    scores, state = model(ids)
    out = list(tokens)
    never = [i for i, t in enumerate(vocab.itos) if t == "<pad>"]  # padding is never text
    for _ in range(max_tokens):
        last = model.log_probs(scores[:, -1])[0].float().cpu()  # log-softmax: same argmax, same sampling
        last[never] = float("-inf")
        if strategy == "greedy" or temperature == 0:
            next_id = int(last.argmax())
        else:
            scaled = last / temperature
            if top_k is not None:
                threshold = scaled.topk(min(top_k, scaled.numel())).values[-1]
                scaled = scaled.masked_fill(scaled < threshold, float("-inf"))
            next_id = int(torch.multinomial(scaled.softmax(-1), 1, generator=generator))
        token = vocab.itos[next_id]
        if stop_token is not None and token == stop_token:
            break
        out.append(token)
        scores, state = model(torch.tensor([[next_id]], device=device), state)
    model.train(was_training)
    return joiner.join(out)
