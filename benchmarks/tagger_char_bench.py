"""Training steps of the KMOU tagger with the character BiLSTM run once per distinct spelling in a batch
(what SequenceTagger does) against once per token position (what it did before).

    python benchmarks/tagger_char_bench.py [--steps 100] [--threads 1]

Reads the first ``--sentences`` of ``../shared/data/ner_ko_kmou/train.conll``, builds the reproduction's
model (1x200 BiLSTM-CRF, char BiLSTM 32 -> 2x50, POS 32) and times ``--steps`` Adam steps each way over the
same batches, after a few warm-up steps. Prints a table.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch

from nlprnn import BucketIterator
from nlprnn.models import SequenceTagger
from nlprnn.tasks.tagging import NerConfig, NerDataConfig, NerModelConfig, NerTask, emissions


def per_token(self: SequenceTagger, chars: torch.Tensor, char_lengths: torch.Tensor) -> torch.Tensor:
    """The former path: every token position through the character BiLSTM."""
    assert self.char_embedding is not None
    b, t, c = chars.shape
    _, state = self.char_encoder(self.char_embedding(chars.reshape(b * t, c)), char_lengths.reshape(b * t).clamp(min=1))
    return self.char_encoder.final_output(state).view(b, t, -1)


def time_steps(model: SequenceTagger, batches: list[Any], warmup: int = 3) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    start = 0.0
    for i, batch in enumerate(batches):
        if i == warmup:
            start = time.perf_counter()
        optimizer.zero_grad()
        scores, lengths = emissions(model, batch)
        model.loss(scores, batch.tag, lengths).backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="../shared/data/ner_ko_kmou")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--char-dim", type=int, default=32)
    parser.add_argument("--char-hidden", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = NerConfig(data=NerDataConfig(train=f"{args.root}/train.conll", repair_tags=True, feature_column=1,
                                          min_freq=2),
                       model=NerModelConfig(embedding_dim=100, hidden_size=200, dropout=0.5, char_dim=args.char_dim,
                                            char_hidden=args.char_hidden, feature_dim=32))
    task = NerTask(config)
    fields = task.fields()
    dataset = task.read(config.data.train, fields)
    task.build_vocabs(fields, dataset)
    batches = list(BucketIterator(dataset, batch_size=32, seed=0))[: args.steps + 3]
    tokens = sum(int(b.word[1].sum()) for b in batches[3:])
    rows = []
    for name, patch in (("per token (before)", True), ("per distinct spelling", False)):
        torch.manual_seed(0)
        model = task.build_model(fields)
        if patch:
            model._char_features = per_token.__get__(model)  # type: ignore[method-assign]
        rows.append((name, time_steps(model, batches)))
    print(f"\n{len(batches) - 3} steps of batch 32 ({tokens:,} tokens), {args.threads} thread(s), "
          f"characters {args.char_dim} -> 2x{args.char_hidden}\n")
    print("| character encoder | seconds | tokens/s | speed-up |")
    print("|---|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {tokens / seconds:,.0f} | {rows[0][1] / seconds:.2f}x |")


if __name__ == "__main__":
    main()
