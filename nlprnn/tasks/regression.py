"""Time-series regression: predict the next value of a numeric column from the previous ``window`` rows.

The series is split in time order (the last ``test_fraction`` for test, the ``valid_fraction`` before it
for validation), scaled with the training part's mean and standard deviation, and cut into windows.
Metrics are MSE and MAE in the column's own units, next to the naive forecast "same as the last value".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nlprnn.config import Cell, Device, Fraction, PositiveInt, Probability
from nlprnn.data.field import Field
from nlprnn.data.iterators import WindowIterator
from nlprnn.data.readers import read_delimited
from nlprnn.errors import ConfigError, DataError
from nlprnn.models.heads import SequenceRegressor
from nlprnn.tasks.base import Splits, Task
from nlprnn.training.distributed import Distributed
from nlprnn.training.trainer import TrainConfig


@dataclass
class RegressDataConfig:
    path: str = "data/series/temperature.tsv"
    column: str = "value"
    format: Literal["tsv", "csv"] = "tsv"
    window: PositiveInt = 30
    valid_fraction: Fraction = 0.1
    test_fraction: Fraction = 0.1
    valid: str | None = None  # a series file of its own for validation (else data.valid_fraction of data.path)
    test: str | None = None  # likewise for the test part
    batch_size: PositiveInt = 32


@dataclass
class RegressModelConfig:
    hidden_size: PositiveInt = 64
    num_layers: PositiveInt = 1
    cell: Cell = "lstm"
    dropout: Probability = 0.0


@dataclass
class RegressConfig:
    data: RegressDataConfig = field(default_factory=RegressDataConfig)
    model: RegressModelConfig = field(default_factory=RegressModelConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=30, lr=3e-3, monitor="mse", mode="min"))
    out: str = "runs/regress"
    device: Device | None = None  # default: CUDA when a GPU is visible, else CPU


@dataclass
class Series:
    """A numeric column with the file line of each value."""

    values: np.ndarray
    lines: np.ndarray
    path: str

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class Windows:
    """Inputs (N, window, 1) and targets (N, 1): every run of ``window`` scaled values and the value after it."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.x)


def read_series(path: str, column: str, format: str = "tsv") -> Series:
    """The column as float64 and each value's line; a value that is not a number names its line."""
    read = read_delimited(path, "csv" if format == "csv" else "tsv")
    if column not in read.column_names:
        raise DataError(path, 1, f"no column {column!r} in the header ({', '.join(read.column_names)}).",
                        "set data.column to one of them", code="no_such_column")
    values = []
    for line, text in zip(read.lines.tolist(), read.table.column(column).to_pylist()):
        try:
            values.append(float(text))
        except ValueError:
            raise DataError(path, line, f"{text!r} in column {column!r} is not a number.", "fix or remove the row",
                            code="not_a_number") from None
        if not np.isfinite(values[-1]):
            raise DataError(path, line, f"{text!r} is not a finite number.", "fix or remove the row",
                            code="not_a_number")
    return Series(np.asarray(values, dtype=np.float64), read.lines, str(path))


def windows(series: np.ndarray, window: int) -> Windows:
    """Every run of ``window`` values of ``series`` and the value after it."""
    if len(series) <= window:
        raise ConfigError(f"a part of {len(series)} values is too short for data.window={window}", key="data.window",
                          value=window)
    view = np.lib.stride_tricks.sliding_window_view(series, window + 1)
    return Windows(torch.tensor(view[:, :window], dtype=torch.float32).unsqueeze(-1),
                   torch.tensor(view[:, window:], dtype=torch.float32))


class RegressTask(Task):
    """The next value of a numeric column from the ``window`` values before it."""

    name = "regress"
    Config = RegressConfig
    summary = "train / evaluate / predict next-value forecasts of a numeric column"
    metrics = ("mse", "mae")
    curves = ("mse", "naive_mse")
    flags = {"--column": ("data.column", "the numeric column to forecast")}
    dry_run = {"model.hidden_size": 8}
    data_key = "data.path"
    config: RegressConfig

    @property
    def scale(self) -> tuple[float, float]:
        """The training part's mean and standard deviation (saved in the bundle)."""
        mean, std = self.state["scale"]
        return float(mean), float(std)

    def fields(self) -> dict[str, Field]:
        return {}  # numbers, not tokens

    def read(self, path: str, fields: dict[str, Field], labelled: bool = True, progress: bool = False) -> Series:
        return read_series(path, self.config.data.column, self.config.data.format)

    def splits(self, fields: dict[str, Field], progress: bool) -> Splits:
        """Train, validation and test parts of the series: files of their own (data.valid, data.test), or its
        last shares (each later part starts with the window before it, so its first target follows on)."""
        data = self.config.data
        series = self.read(data.path, fields).values
        n, w = len(series), data.window
        test_share = 0.0 if data.test else data.test_fraction
        test_start = int(round(n * (1 - test_share)))
        valid_start = test_start if data.valid else int(round(n * (1 - test_share - data.valid_fraction)))
        train_part = series[:valid_start]
        valid_part = self.read(data.valid, fields).values if data.valid else series[max(0, valid_start - w):test_start]
        test_part = self.read(data.test, fields).values if data.test else series[max(0, test_start - w):]
        mean, std = float(train_part.mean()), float(train_part.std() or 1.0)
        self.state["scale"] = [mean, std]
        train, valid, test = (windows((p - mean) / std, w) for p in (train_part, valid_part, test_part))
        return Splits(train, valid, test)

    def build_vocabs(self, fields: dict[str, Field], train: Any) -> None:
        pass  # no vocabularies: the inputs are numbers

    def check_input(self, data: Any, fields: dict[str, Field]) -> None:
        pass  # read_series has checked every value

    def build_model(self, fields: dict[str, Field]) -> SequenceRegressor:
        m = self.config.model
        return SequenceRegressor(1, hidden_size=m.hidden_size, num_layers=m.num_layers, cell=m.cell,
                                 layer_dropout=m.dropout, output_dropout=m.dropout)

    def train_iterator(self, train: Windows, context: Distributed) -> WindowIterator:
        return WindowIterator(train.x, train.y, self.config.data.batch_size, self.config.train.seed, context.device,
                              rank=context.rank, world_size=context.world_size)

    def loss(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, int]:
        x, y = batch
        return F.mse_loss(model(x), y), x.shape[0] * x.shape[1]

    def _windows(self, data: Windows | Series) -> Windows:
        if isinstance(data, Series):  # a whole file given to evaluate
            mean, std = self.scale
            return windows((data.values - mean) / std, self.config.data.window)
        return data

    @torch.no_grad()
    def evaluate(self, model: nn.Module, data: Windows | Series, device: torch.device) -> dict[str, Any]:
        """MSE and MAE in the series' units, for the model and for the last-value forecast."""
        part = self._windows(data)
        mean, std = self.scale
        model.eval()
        predicted = model(part.x.to(device)).cpu() * std + mean
        truth, naive = part.y * std + mean, part.x[:, -1] * std + mean
        return {"windows": len(part), "mse": float(F.mse_loss(predicted, truth)),
                "mae": float(F.l1_loss(predicted, truth)), "naive_mse": float(F.mse_loss(naive, truth)),
                "naive_mae": float(F.l1_loss(naive, truth))}

    @torch.no_grad()
    def predict(self, model: nn.Module, data: Series, device: torch.device) -> list[float]:
        """The forecast after each run of ``window`` values (the last one: past the end of the file)."""
        window = self.config.data.window
        if len(data) < window:
            raise DataError(data.path, None, f"has {len(data)} values; data.window={window} are needed.",
                            "give a longer series", code="too_short")
        mean, std = self.scale
        view = np.lib.stride_tricks.sliding_window_view((data.values - mean) / std, window)
        model.eval()
        x = torch.tensor(view, dtype=torch.float32).unsqueeze(-1).to(device)
        return (model(x).cpu()[:, 0] * std + mean).tolist()

    def write_predictions(self, data: Series, predictions: list[float], fields: dict[str, Field], source: str,
                          handle: IO[str]) -> int:
        """``line, value, predicted_next`` for each row that ends a full window."""
        window = self.config.data.window
        handle.write("line\tvalue\tpredicted_next\n")
        for k, forecast in enumerate(predictions):
            row = k + window - 1
            handle.write(f"{int(data.lines[row])}\t{data.values[row]:g}\t{forecast:.4f}\n")
        return len(predictions)

    @classmethod
    def upgrade(cls, config: dict[str, Any], state: dict[str, Any]) -> None:
        if "scale" in config:  # bundles before the task protocol kept the scale in the config
            state.setdefault("scale", config.pop("scale"))

    def describe(self, splits: Splits, fields: dict[str, Field], model: nn.Module) -> dict[str, Any]:
        return {"windows": [len(splits.train), len(splits.valid), len(splits.test or [])]}

    def report(self, name: str, metrics: dict[str, Any]) -> Iterable[str]:
        yield (f"{name:<6} MSE {metrics['mse']:.4f}  MAE {metrics['mae']:.4f}   last-value baseline: "
               f"MSE {metrics['naive_mse']:.4f}  MAE {metrics['naive_mae']:.4f}")

    def epoch_line(self, record: dict[str, Any]) -> str:
        return (f"epoch {record['epoch']:>3}  loss {record['train_loss']:.4f}  valid MSE {record['mse']:.4f}"
                f"  MAE {record['mae']:.4f}{'  *' if record.get('best') else ''}")

    def result_lines(self, result: dict[str, Any]) -> Iterable[str]:
        train, valid, test = result["windows"]
        yield f"windows: train {train}, valid {valid}, test {test}; best epoch {result['best_epoch']}"
