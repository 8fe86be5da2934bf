"""Penn Treebank word-level LM, Zaremba et al. 2014's configs: the reproduction in the README.

    python benchmarks/reproduce_ptb.py                 # "small": 2x200 LSTM, no dropout, 13 epochs (CPU)
    python benchmarks/reproduce_ptb.py --config medium # 2x650, dropout 0.5, 39 epochs (a GPU's job)

Trains on ``../shared/data/ptb/ptb.train.txt`` (``<eos>`` after each line) and evaluates on
``ptb.valid.txt`` after every epoch, state carried across BPTT windows. The paper's loss is summed over
the BPTT window and averaged over the batch, with learning rate 1 and the gradient norm clipped at 5;
ours is the mean per token, so the same step is learning rate ``bptt`` (20 / 35) and clipping at
``5 / bptt`` (as pytorch/examples' word_language_model: lr 20, clip 0.25). Paper: validation
perplexity 120.7 (small), 86.2 (medium).
"""

from __future__ import annotations

import argparse
import time

from nlprnn.tasks import train
from nlprnn.tasks.language_model import LMConfig, LMDataConfig, LMModelConfig
from nlprnn.training import TrainConfig

# Zaremba et al. 2014, sec. 4.1: (hidden, dropout, bptt, epochs, epochs at full rate, decay, init scale)
CONFIGS = {
    "small": dict(hidden=200, dropout=0.0, bptt=20, epochs=13, decay_start=4, decay=0.5),
    "medium": dict(hidden=650, dropout=0.5, bptt=35, epochs=39, decay_start=6, decay=1 / 1.2),
}
PAPER = {"small": 120.7, "medium": 86.2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="../shared/data/ptb")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="small")
    parser.add_argument("--epochs", type=int, default=None, help="fewer epochs than the paper's (for a quick look)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--progress", action="store_true", help="tqdm bars (loss, tokens/s) on stderr")
    args = parser.parse_args()
    c = CONFIGS[args.config]
    bptt = int(c["bptt"])
    config = LMConfig(
        data=LMDataConfig(train=f"{args.root}/ptb.train.txt", valid=f"{args.root}/ptb.valid.txt", level="word",
                          tokenizer="whitespace", batch_size=20, bptt_len=bptt, eval_batch_size=20),
        model=LMModelConfig(embedding_dim=int(c["hidden"]), hidden_size=int(c["hidden"]), num_layers=2,
                            dropout=float(c["dropout"])),
        train=TrainConfig(epochs=args.epochs or int(c["epochs"]), optimizer="sgd", lr=float(bptt),
                          clip=5.0 / bptt, schedule="epoch_decay", lr_decay=float(c["decay"]),
                          decay_start=int(c["decay_start"]), monitor="perplexity", mode="min", seed=0),
        out=args.out or f"runs/ptb-{args.config}",
        device=args.device,
    )
    start = time.perf_counter()
    result = train(config, progress=args.progress, resume=args.resume)
    minutes = (time.perf_counter() - start) / 60
    print("\n| config | epochs | best epoch | valid perplexity | paper | minutes |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.config} | {config.train.epochs} | {result['best_epoch']} | {result['valid']['perplexity']:.1f} | "
          f"{PAPER[args.config]} | {minutes:.1f} |")
    for record in result["history"]:
        print(f"epoch {record['epoch']:>2}: lr {record['lr']:.3g}, train loss {record['train_loss']:.4f}, "
              f"valid perplexity {record['perplexity']:.2f}, {record['tokens_per_s']:,.0f} tokens/s, "
              f"{record['seconds']:.0f} s")


if __name__ == "__main__":
    main()
