"""Time-series regression: predict the next value of a numeric column from the previous ``window`` rows.

The series is split in time order (the last ``test_fraction`` for test, the ``valid_fraction`` before it
for validation), scaled with the training part's mean and standard deviation, and cut into windows.
Metrics are MSE and MAE in the column's own units, next to the naive forecast "same as the last value".
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nlprnn.data.batching import BucketSampler, default_device
from nlprnn.data.readers import read_delimited
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.heads import SequenceRegressor
from nlprnn.training.bundle import load_bundle, save_bundle
from nlprnn.training.checkpoint import load_checkpoint
from nlprnn.training.distributed import setup
from nlprnn.training.plot import plot_history
from nlprnn.training.trainer import TrainConfig, Trainer

TASK = "regress"


@dataclass
class RegressDataConfig:
    path: str = "data/series/temperature.tsv"
    column: str = "value"
    format: str = "tsv"
    window: int = 30
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    batch_size: int = 32


@dataclass
class RegressModelConfig:
    hidden_size: int = 64
    num_layers: int = 1
    cell: str = "lstm"
    dropout: float = 0.0


@dataclass
class RegressConfig:
    data: RegressDataConfig = field(default_factory=RegressDataConfig)
    model: RegressModelConfig = field(default_factory=RegressModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=30, lr=3e-3, monitor="mse", mode="min"))
    out: str = "runs/regress"
    device: str | None = None


def read_series(path: str, data: RegressDataConfig) -> tuple[np.ndarray, np.ndarray]:
    """The column as float64 and each value's line; a value that is not a number names its line."""
    read = read_delimited(path, "csv" if data.format == "csv" else "tsv")
    if data.column not in read.column_names:
        raise DataError(path, 1, f"no column {data.column!r} in the header ({', '.join(read.column_names)}).",
                        "set data.column to one of them.")
    values = []
    for line, text in zip(read.lines.tolist(), read.table.column(data.column).to_pylist()):
        try:
            values.append(float(text))
        except ValueError:
            raise DataError(path, line, f"{text!r} in column {data.column!r} is not a number.",
                            "fix or remove the row.") from None
        if not np.isfinite(values[-1]):
            raise DataError(path, line, f"{text!r} is not a finite number.", "fix or remove the row.")
    return np.asarray(values, dtype=np.float64), read.lines


def windows(series: np.ndarray, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs (N, window, 1), targets (N, 1)): every run of ``window`` values and the value after it."""
    if len(series) <= window:
        raise ConfigError(f"a part of {len(series)} values is too short for data.window={window}")
    view = np.lib.stride_tricks.sliding_window_view(series, window + 1)
    x = torch.tensor(view[:, :window], dtype=torch.float32).unsqueeze(-1)
    return x, torch.tensor(view[:, window:], dtype=torch.float32)


class WindowIterator:
    """Shuffled batches of windows with an exact-resume position (a seeded, unbucketed BucketSampler)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int, device: torch.device,
                 rank: int = 0, world_size: int = 1) -> None:
        self.x, self.y, self.device = x, y, device
        self.sampler = BucketSampler(np.ones(len(x), dtype=np.int64), batch_size, shuffle=True, bucket=False, seed=seed,
                                     rank=rank, world_size=world_size)
        self.consumed = 0

    def __iter__(self) -> Any:
        self.consumed = self.sampler.start
        for rows in self.sampler:
            self.consumed += 1
            yield self.x[rows].to(self.device), self.y[rows].to(self.device)
        self.sampler.set_epoch(self.sampler.epoch + 1)
        self.consumed = 0

    def __len__(self) -> int:
        return len(self.sampler.batches())

    def state_dict(self) -> dict[str, int]:
        return {**self.sampler.state_dict(), "start": self.consumed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
        self.consumed = state["start"]


def regression_metrics(model: SequenceRegressor, x: torch.Tensor, y: torch.Tensor, scale: tuple[float, float],
                       device: torch.device) -> dict[str, float]:
    """MSE and MAE in the series' units, for the model and for the last-value forecast."""
    mean, std = scale
    model.eval()
    with torch.no_grad():
        predicted = model(x.to(device)).cpu() * std + mean
    truth = y * std + mean
    naive = x[:, -1] * std + mean
    return {"mse": float(F.mse_loss(predicted, truth)), "mae": float(F.l1_loss(predicted, truth)),
            "naive_mse": float(F.mse_loss(naive, truth)), "naive_mae": float(F.l1_loss(naive, truth))}


def _split(series: np.ndarray, data: RegressDataConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(series)
    test_start = int(round(n * (1 - data.test_fraction)))
    valid_start = int(round(n * (1 - data.test_fraction - data.valid_fraction)))
    # each later part starts with the window before it, so its first target follows the previous part
    return (series[:valid_start], series[max(0, valid_start - data.window):test_start],
            series[max(0, test_start - data.window):])


def build_model(model: RegressModelConfig) -> SequenceRegressor:
    return SequenceRegressor(1, hidden_size=model.hidden_size, num_layers=model.num_layers, cell=model.cell,
                             layer_dropout=model.dropout, output_dropout=model.dropout)


def train(config: RegressConfig, progress: bool = True, resume: bool = False) -> dict[str, Any]:
    ctx = setup(config.device)
    device = ctx.device
    series, _ = read_series(config.data.path, config.data)
    train_part, valid_part, test_part = _split(series, config.data)
    mean, std = float(train_part.mean()), float(train_part.std() or 1.0)
    scaled = [(part - mean) / std for part in (train_part, valid_part, test_part)]
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = (windows(p, config.data.window) for p in scaled)
    torch.manual_seed(config.train.seed)
    model = build_model(config.model)
    iterator = WindowIterator(x_train, y_train, config.data.batch_size, config.train.seed, device,
                              rank=ctx.rank, world_size=ctx.world_size)

    def step(model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        x, y = batch
        return F.mse_loss(model(x), y), x.shape[0] * x.shape[1]

    def evaluate(model: torch.nn.Module) -> dict[str, Any]:
        return regression_metrics(model, x_valid, y_valid, (mean, std), device)  # type: ignore[arg-type]

    out = Path(config.out)
    trainer = Trainer(model, config.train, iterator, step, evaluate, out, device=device, progress=progress,
                      distributed=ctx)
    history = trainer.fit(resume=resume)
    if not ctx.is_main:
        return {}  # rank 0 writes the bundle and reports
    plot_history(history, out / "curves.png", ["mse", "naive_mse"])
    best = load_checkpoint(out / "best.pt")
    model.load_state_dict(best["model"])
    save_bundle(out / "bundle", TASK, {**asdict(config), "scale": [mean, std]}, {}, model.state_dict())
    result = {"best_epoch": best["epoch"], "history": history, "windows": [len(x_train), len(x_valid), len(x_test)],
              "valid": evaluate(model), "test": regression_metrics(model, x_test, y_test, (mean, std), device)}
    (out / "result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def load(bundle: str | Path) -> tuple[SequenceRegressor, RegressConfig, tuple[float, float]]:
    raw, _, weights = load_bundle(bundle, TASK)
    config = RegressConfig(data=RegressDataConfig(**raw["data"]), model=RegressModelConfig(**raw["model"]))
    model = build_model(config.model)
    model.load_state_dict(weights)
    return model.to(default_device()), config, (raw["scale"][0], raw["scale"][1])


def evaluate(bundle: str | Path, path: str) -> dict[str, float]:
    """MSE/MAE over every window of the file's whole series."""
    model, config, (mean, std) = load(bundle)
    series, _ = read_series(path, config.data)
    x, y = windows((series - mean) / std, config.data.window)
    return {"windows": len(x), **regression_metrics(model, x, y, (mean, std), next(model.parameters()).device)}


def predict(bundle: str | Path, path: str, out: str | Path | None) -> int:
    """``line, value, predicted_next``: for each row with ``window`` rows up to and including it, the
    forecast of the next value (the last row's forecast is the one past the end of the file)."""
    model, config, (mean, std) = load(bundle)
    series, lines = read_series(path, config.data)
    window = config.data.window
    if len(series) < window:
        raise DataError(path, None, f"has {len(series)} values; data.window={window} are needed.", "give a longer series.")
    view = np.lib.stride_tricks.sliding_window_view((series - mean) / std, window)
    with torch.no_grad():
        model.eval()
        x = torch.tensor(view, dtype=torch.float32).unsqueeze(-1).to(next(model.parameters()).device)
        predicted = (model(x).cpu()[:, 0] * std + mean).tolist()
    handle = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        handle.write("line\tvalue\tpredicted_next\n")
        for k, forecast in enumerate(predicted):
            row = k + window - 1
            handle.write(f"{int(lines[row])}\t{series[row]:g}\t{forecast:.4f}\n")
    finally:
        if out:
            handle.close()
    return len(predicted)
