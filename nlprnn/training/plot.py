"""Training curves as a PNG: training loss and the validation metrics, per epoch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def plot_history(history: Sequence[dict[str, Any]], path: str | Path, metrics: Sequence[str]) -> Path:
    """Write ``path`` with two panels: train loss, and each of ``metrics`` found in the records."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["train_loss"] for r in history], marker="o")
    left.set(title="training loss", xlabel="epoch", ylabel="loss")
    for name in metrics:
        values = [r.get(name) for r in history]
        if all(isinstance(v, int | float) for v in values):
            right.plot(epochs, values, marker="o", label=name)
    right.set(title="validation", xlabel="epoch")
    right.legend()
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
