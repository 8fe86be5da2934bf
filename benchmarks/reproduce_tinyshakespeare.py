"""tinyshakespeare with a character-level LSTM: the reproduction in the README.

    python benchmarks/reproduce_tinyshakespeare.py [--epochs 10] [--hidden 256]

The first 90% of ``../shared/data/tinyshakespeare/input.txt`` trains, the last 10% validates (split at
the line nearest the 90% character, so no line is cut). Validation loss is in nats per character
(nanoGPT's small character-level transformer reports 1.47); a 200-character sample follows.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nlprnn.tasks import train
from nlprnn.tasks.language_model import LMConfig, LMDataConfig, LMModelConfig
from nlprnn.training import TrainConfig


def split_file(path: Path, directory: Path, fraction: float = 0.9) -> tuple[Path, Path, int, int]:
    """Write the first ``fraction`` of the characters (to the end of that line) and the rest to two files."""
    text = path.read_text(encoding="utf-8")
    cut = text.index("\n", int(len(text) * fraction)) + 1
    train_path, valid_path = directory / "train.txt", directory / "valid.txt"
    train_path.write_text(text[:cut], encoding="utf-8")
    valid_path.write_text(text[cut:], encoding="utf-8")
    return train_path, valid_path, cut, len(text) - cut


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default="../shared/data/tinyshakespeare/input.txt")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default="runs/tinyshakespeare")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        train_path, valid_path, n_train, n_valid = split_file(Path(args.path), Path(scratch))
        config = LMConfig(
            data=LMDataConfig(train=str(train_path), valid=str(valid_path), level="char", batch_size=32,
                              bptt_len=64, eval_batch_size=16),
            model=LMModelConfig(embedding_dim=64, hidden_size=args.hidden, num_layers=args.layers, dropout=0.2),
            train=TrainConfig(epochs=args.epochs, optimizer="adam", lr=2e-3, clip=1.0, schedule="epoch_decay",
                              lr_decay=0.8, decay_start=4, monitor="loss", mode="min", seed=0),
            out=args.out, device=args.device,
        )
        start = time.perf_counter()
        result = train(config, progress=args.progress)
    minutes = (time.perf_counter() - start) / 60
    valid = result["valid"]
    print("\n| train / valid chars | vocab | model | best epoch | valid nats/char | bits/char | minutes |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n_train:,} / {n_valid:,} | {result['vocab']} | {args.layers}x{args.hidden} LSTM | {result['best_epoch']} | "
          f"{valid['loss']:.4f} | {valid['bits_per_token']:.3f} | {minutes:.1f} |")
    for record in result["history"]:
        print(f"epoch {record['epoch']:>2}: train loss {record['train_loss']:.4f}, valid loss {record['loss']:.4f}, "
              f"{record['tokens_per_s']:,.0f} chars/s, {record['seconds']:.0f} s")
    print("\nsample (seed 0, temperature 0.8):\n" + result["sample"])


if __name__ == "__main__":
    main()
