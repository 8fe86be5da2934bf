"""The training loop, written out: optimizer step, clipping, schedules, early stopping, checkpoints.

A task gives the Trainer a model, a training iterator (``state_dict``/``load_state_dict`` for exact
resume), a ``step`` function ``(model, batch) -> (mean loss, tokens)`` and an ``evaluate`` function
``(model) -> metrics dict``. Each epoch ends with ``last.pt`` (everything needed to continue: weights,
optimizer, scheduler, AMP scaler, RNG states, iterator position, history) and, when the monitored
metric improves, ``best.pt`` (weights and metrics); both are written atomically. ``metrics.jsonl``
gets one line per epoch.

Under ``torchrun`` (a ``Distributed`` context with several ranks) the model trains inside
DistributedDataParallel, each rank on its own batches; the training loss and token counts are summed
over the ranks; every rank evaluates the whole validation set (so all take the same early-stopping and
best-epoch decisions); only rank 0 writes checkpoints, logs and progress bars. ``last.pt`` holds every
rank's RNG states, so a resumed run continues each rank's stream.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from nlprnn.config import Positive, PositiveInt, Range, fill
from nlprnn.errors import ConfigError, TrainingError
from nlprnn.training.checkpoint import load_checkpoint, save_checkpoint
from nlprnn.training.distributed import Distributed, all_gather, all_reduce_sum, barrier


class ResumableIterator(Protocol):
    def __iter__(self) -> Any: ...
    def __len__(self) -> int: ...
    def state_dict(self) -> dict[str, int]: ...
    def load_state_dict(self, state: dict[str, int]) -> None: ...


@dataclass
class TrainConfig:
    """Optimization settings; ``schedule``: ``constant``, ``epoch_decay`` (Zaremba et al.: multiply the
    rate by ``lr_decay`` every epoch after the first ``decay_start`` epochs), ``plateau`` (multiply by
    ``lr_decay`` when the monitored metric did not improve for an epoch) or ``slanted_triangular``
    (ULMFiT, per step: up from ``lr / lr_ratio`` to ``lr`` over the first ``warmup`` of all steps, then
    linearly back down). ``monitor`` is one of the
    task's metrics (checked by the task runner), ``mode`` whether higher (``max``) or lower is better."""

    epochs: PositiveInt = 10
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: Positive = 1e-3
    momentum: Annotated[float, Range(0.0, 1.0)] = 0.0
    weight_decay: Annotated[float, Range(low=0.0)] = 0.0
    schedule: Literal["constant", "epoch_decay", "plateau", "slanted_triangular"] = "constant"
    lr_decay: Annotated[float, Range(0.0, 1.0, low_open=True)] = 0.5
    decay_start: Annotated[int, Range(low=0)] = 4
    warmup: Annotated[float, Range(0.0, 1.0, low_open=True, high_open=True)] = 0.1  # slanted_triangular's rise
    lr_ratio: Annotated[float, Range(low=1.0)] = 32.0  # slanted_triangular: lr / lowest rate
    clip: Positive | None = 5.0
    patience: Annotated[int, Range(low=0)] | None = None
    monitor: str = "accuracy"
    mode: Literal["max", "min"] = "max"
    seed: int = 0
    amp: bool = True
    checkpoint_every: Annotated[int, Range(low=0)] = 0
    deterministic: bool = False  # deterministic kernels (see ``use_deterministic``): exact resume on CUDA

    def validate(self) -> None:
        """The same checks ``build_config`` makes, for a TrainConfig built in code."""
        fill(TrainConfig(), {f.name: getattr(self, f.name) for f in fields(self)}, "train.")


def use_deterministic() -> None:
    """Deterministic kernels everywhere, so a resumed run equals an uninterrupted one bit for bit on CUDA as
    on CPU. Costs speed on CUDA (cuDNN's non-deterministic algorithms are off) and a cuBLAS workspace of
    4096 KiB x 8 (``CUBLAS_WORKSPACE_CONFIG``, which must be set before the first cuBLAS call); on CPU
    nlprnn's kernels are deterministic already."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def seed_everything(seed: int) -> None:
    """Seed Python and torch (the samplers take their own seeds)."""
    random.seed(seed)
    torch.manual_seed(seed)


def fused_adam(parameters: Any, lr: float, weight_decay: float = 0.0) -> torch.optim.Adam:
    """Adam with its fused kernel, one pass over each tensor (on CPU the reference loop took a tenth of a
    KMOU tagger's step, the fused one a sixth of that: benchmarks/README.md); the reference loop where this
    torch or these parameters cannot fuse."""
    try:
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)


class Trainer:
    """Runs ``config.epochs`` epochs of ``step`` over ``train_iterator``, evaluating after each."""

    def __init__(self, model: nn.Module, config: TrainConfig, train_iterator: ResumableIterator,
                 step: Callable[[nn.Module, Any], tuple[Tensor, int]],
                 evaluate: Callable[[nn.Module], dict[str, Any]], out_dir: str | Path,
                 device: torch.device | str = "cpu", progress: bool = True,
                 on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
                 distributed: Distributed | None = None, carry: dict[str, Any] | None = None,
                 groups: list[dict[str, Any]] | None = None,
                 before_epoch: Callable[[int], None] | None = None,
                 epoch_line: Callable[[dict[str, Any]], str] | None = None) -> None:
        config.validate()
        if config.deterministic:
            use_deterministic()
        self.distributed = distributed or Distributed(device=torch.device(device))
        self.model = model.to(device)
        # what the step function calls: the model itself, or its DistributedDataParallel wrapper
        self.train_model: nn.Module = self.model
        if self.distributed.enabled:
            cuda = torch.device(device).type == "cuda"
            self.train_model = nn.parallel.DistributedDataParallel(
                self.model, device_ids=[torch.device(device)] if cuda else None)
        self.config = config
        self.train_iterator = train_iterator
        self.step_fn = step
        self.evaluate_fn = evaluate
        self.out_dir = Path(out_dir)
        self.device = torch.device(device)
        self.progress = progress and self.distributed.is_main
        self.on_epoch_end = on_epoch_end
        self.before_epoch = before_epoch
        self.epoch_line = epoch_line
        """How the progress shows an epoch's record on stderr (a task's own line; default: loss and monitor)."""
        # groups: ``{"params", "lr_factor"}`` (discriminative rates); parameters frozen now may be unfrozen
        # by ``before_epoch`` later, so the groups hold them all
        parameters: Any = ([{"params": g["params"], "lr": config.lr * g.get("lr_factor", 1.0)} for g in groups]
                           if groups else [p for p in model.parameters() if p.requires_grad])
        if config.optimizer == "adam":
            self.optimizer: torch.optim.Optimizer = fused_adam(parameters, lr=config.lr,
                                                               weight_decay=config.weight_decay)
        else:
            self.optimizer = torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum,
                                             weight_decay=config.weight_decay)
        self.scheduler: Any = None
        if config.schedule == "epoch_decay":
            decay, start = config.lr_decay, config.decay_start
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(
                self.optimizer, lambda epoch: decay ** max(0, epoch + 1 - start))
        elif config.schedule == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="max" if config.mode == "max" else "min", factor=config.lr_decay, patience=0)
        elif config.schedule == "slanted_triangular":
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(
                self.optimizer, slanted_triangular(config.epochs * len(train_iterator), config.warmup, config.lr_ratio))
        self.use_amp = config.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.epoch = 0
        self.step = 0
        self.best: float | None = None
        self.bad_epochs = 0
        self.history: list[dict[str, Any]] = []
        # what the step function keeps from batch to batch (an LM's hidden state): saved in checkpoints
        self.carry = carry if carry is not None else {}
        # loss sum, token count and batch count of the epoch so far (kept in mid-epoch checkpoints, so a
        # resumed epoch reports the same mean loss as an uninterrupted one)
        self.running = [0.0, 0, 0]

    # -- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything ``resume`` needs; with several ranks every rank must call it (RNG states are gathered)."""
        rng = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
               "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict(),
            "rng": rng,
            "rng_ranks": all_gather(rng, self.distributed) if self.distributed.enabled else [],
            "iterator": self.train_iterator.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "running": list(self.running),
            "carry": all_gather(dict(self.carry), self.distributed),
            "history": json.dumps(self.history),
            "config": json.dumps(asdict(self.config)),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"]
        ranks = state.get("rng_ranks") or []
        if len(ranks) == self.distributed.world_size > 1:
            rng = ranks[self.distributed.rank]
        torch.set_rng_state(rng["torch"])
        random.setstate((3, tuple(rng["python"]), None))
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.train_iterator.load_state_dict(state["iterator"])
        self.epoch, self.step = state["epoch"], state["step"]
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]
        self.history = json.loads(state["history"])
        self.running = list(state.get("running", [0.0, 0, 0]))
        carried = state.get("carry") or []
        if len(carried) == self.distributed.world_size:
            self.carry.clear()  # checkpoints load on the CPU; the step function expects its device
            self.carry.update({k: _to_device(v, self.device) for k, v in carried[self.distributed.rank].items()})

    def save(self, name: str = "last.pt") -> None:
        """Write a resumable checkpoint (rank 0 writes; every rank must call this)."""
        state = self.state_dict()
        if self.distributed.is_main:
            save_checkpoint(state, self.out_dir / name)

    def resume(self, path: str | Path | None = None) -> None:
        """Continue from ``last.pt`` (or ``path``): the next step is the one the saved run would have taken."""
        self.load_state_dict(load_checkpoint(path or self.out_dir / "last.pt"))

    # -- the loop ---------------------------------------------------------------------------------
    def improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self.config.mode == "max" else value < self.best

    def train_epoch(self) -> dict[str, float]:
        """One pass over the training iterator (from where it stands); returns loss and speed."""
        self.train_model.train()
        position = _position(self.train_iterator.state_dict())
        if position == 0:
            self.running = [0.0, 0, 0]  # a fresh epoch (not one resumed mid-way)
        tokens_before = self.running[1]
        start = time.perf_counter()
        bar = tqdm(self.train_iterator, total=len(self.train_iterator), desc=f"epoch {self.epoch + 1}",
                   disable=not self.progress, leave=False)
        bar.update(position)
        for batch in bar:
            with torch.autocast(self.device.type, enabled=self.use_amp):
                loss, tokens = self.step_fn(self.train_model, batch)
            if not torch.isfinite(loss):
                raise TrainingError(f"the loss became {loss.item()} at step {self.step + 1}; lower the learning rate "
                                    "(train.lr) or clip the gradients (train.clip)")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if self.config.clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            if self.config.schedule == "slanted_triangular":
                self.scheduler.step()
            self.step += 1
            self.running = [self.running[0] + loss.item(), self.running[1] + tokens, self.running[2] + 1]
            total_loss, total_tokens, batches = self.running
            elapsed = time.perf_counter() - start
            postfix = {"loss": f"{total_loss / batches:.4f}",
                       "tok_s": f"{(total_tokens - tokens_before) / max(elapsed, 1e-9):,.0f}"}
            if self.history:  # the monitored validation metric of the previous epoch
                postfix[f"valid_{self.config.monitor}"] = f"{self.history[-1].get(self.config.monitor, float('nan')):.4f}"
            bar.set_postfix(postfix)
            if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
                self.save()
        seconds = time.perf_counter() - start
        # over all ranks: mean loss per batch, all tokens, the slowest rank's time
        total_loss, total_tokens, batches = self.running
        loss_sum, batch_count, token_count = all_reduce_sum([total_loss, batches, total_tokens - tokens_before],
                                                            self.distributed)
        seconds = max(all_gather(seconds, self.distributed))
        return {"train_loss": loss_sum / max(batch_count, 1), "seconds": seconds,
                "tokens_per_s": token_count / seconds if seconds > 0 else 0.0}

    def release(self) -> None:
        """Drop the DistributedDataParallel wrapper (and its reducer, which holds the process group)
        before the process group closes: a gloo group still referenced at interpreter exit now and then
        aborted a rank ("terminate called without an active exception")."""
        if self.train_model is not self.model:
            self.train_model = self.model
            gc.collect()

    def fit(self, resume: bool = False) -> list[dict[str, Any]]:
        """Train until ``epochs`` or early stopping; returns the per-epoch records."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            self.resume()
            if self.distributed.is_main:  # a kill between the log line and last.pt: the log follows last.pt
                lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.history)
                temporary = self.out_dir / ".metrics.jsonl.tmp"
                temporary.write_text(lines, encoding="utf-8")
                os.replace(temporary, self.out_dir / "metrics.jsonl")
        else:
            seed_everything(self.config.seed)
            if self.distributed.is_main:
                (self.out_dir / "metrics.jsonl").unlink(missing_ok=True)  # a fresh run starts a fresh log
        while self.epoch < self.config.epochs:
            if self.config.patience is not None and self.bad_epochs > self.config.patience:
                break
            if self.before_epoch is not None:
                self.before_epoch(self.epoch)
            record: dict[str, Any] = {"epoch": self.epoch + 1, "lr": self.optimizer.param_groups[0]["lr"]}
            record.update(self.train_epoch())
            self.model.eval()
            with torch.no_grad():
                metrics = self.evaluate_fn(self.model)
            record.update(metrics)
            record["step"] = self.step
            value = metrics.get(self.config.monitor)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise ConfigError(f"monitor {self.config.monitor!r} is not among the metrics {sorted(metrics)}")
            self.epoch += 1
            if self.improved(float(value)):
                self.best, self.bad_epochs = float(value), 0
                if self.distributed.is_main:
                    save_checkpoint({"model": self.model.state_dict(), "epoch": self.epoch,
                                     "metrics": json.dumps(_plain(record))}, self.out_dir / "best.pt")
                record["best"] = True
            else:
                self.bad_epochs += 1
            if self.config.schedule == "plateau":
                self.scheduler.step(float(value))
            elif self.config.schedule == "epoch_decay":
                self.scheduler.step()
            self.history.append(_plain(record))
            if self.distributed.is_main:
                with (self.out_dir / "metrics.jsonl").open("a", encoding="utf-8") as log:
                    log.write(json.dumps(self.history[-1], ensure_ascii=False) + "\n")
            self.save()
            if self.progress:
                line = self.epoch_line(self.history[-1]) if self.epoch_line is not None else (
                    f"epoch {self.epoch}: train loss {record['train_loss']:.4f}, valid {self.config.monitor} "
                    f"{float(value):.4f}, {record['tokens_per_s']:,.0f} tokens/s"
                    f"{' (best)' if record.get('best') else ''}")
                tqdm.write(f"{line}  {record['seconds']:.0f} s", file=sys.stderr)
            if self.on_epoch_end is not None:
                self.on_epoch_end(self.history[-1])
        barrier(self.distributed)  # best.pt and last.pt are on disk before any rank goes on
        return self.history


def slanted_triangular(total_steps: int, warmup: float, ratio: float) -> Callable[[int], float]:
    """ULMFiT's slanted triangular rate as a factor of the peak rate at step ``t`` (Howard & Ruder 2018, eq. 3)."""
    cut = max(1, math.floor(total_steps * warmup))

    def factor(t: int) -> float:
        p = t / cut if t < cut else 1 - (t - cut) / max(1, total_steps - cut)
        return (1 + max(p, 0.0) * (ratio - 1)) / ratio

    return factor


def _to_device(value: Any, device: torch.device) -> Any:
    """Tensors, alone or in tuples and lists, moved to ``device``; anything else as it is."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, tuple | list):
        return type(value)(_to_device(v, device) for v in value)
    return value


def _position(iterator_state: dict[str, int]) -> int:
    """Batches of the current epoch already consumed (every iterator's ``{seed, epoch, position}``)."""
    return int(iterator_state["position"])


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready copy (drops long text such as reports)."""
    return {k: v for k, v in record.items() if isinstance(v, int | float | str | bool | list | dict | type(None))
            and not (isinstance(v, str) and len(v) > 200)}
