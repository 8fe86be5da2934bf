"""Distributed training under ``torchrun``: one process per rank, DistributedDataParallel on top.

``torchrun --nproc_per_node=N -m pipelines.<task> train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; ``setup`` reads them, starts the process group (NCCL when GPUs are visible, else gloo)
and picks the rank's device. Without those variables it returns a one-process context and nothing
else changes, so the same code runs in both cases.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from nlprnn.errors import ConfigError


@dataclass(frozen=True)
class Distributed:
    """Where this process stands: its rank among ``world_size`` and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs, bundles and prints."""
        return self.rank == 0


def setup(device: str | torch.device | None = None) -> Distributed:
    """The process group of a ``torchrun`` launch (started once), or a single-process context.

    ``device`` overrides the default choice (CUDA when visible, else CPU); under ``torchrun`` a CUDA
    device means ``cuda:LOCAL_RANK``.
    """
    chosen = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {str(device)!r} asks for a GPU, but none is visible to torch here",
                          key="device", value=str(device), allowed=["cpu"])
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed(device=chosen)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if chosen.type == "cuda":
        # every rank checks before any work, so all of them stop with the same message
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", local_rank + 1))
        gpus = torch.cuda.device_count()
        if gpus < max(local_world, local_rank + 1):
            raise ConfigError(f"{local_world} processes on this machine but {gpus} GPU(s) visible: one process per "
                              f"GPU, so pass --nproc_per_node={gpus} to torchrun (or --set device=cpu to train on "
                              "the CPU with gloo)", key="nproc_per_node", value=local_world, allowed=f"at most {gpus}")
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        # long enough for rank 0 to tokenize a large file while the others wait (see main_first)
        minutes = float(os.environ.get("NLPRNN_DIST_TIMEOUT_MINUTES", "180"))
        dist.init_process_group(backend="nccl" if chosen.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(minutes=minutes))
    return Distributed(rank=rank, world_size=world_size, local_rank=local_rank, device=chosen)


def all_reduce_sum(values: list[float], context: Distributed) -> list[float]:
    """Element-wise sums over the ranks (the values themselves in one process)."""
    if not context.enabled:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64,
                          device=context.device if context.device.type == "cuda" else "cpu")
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def all_gather(value: Any, context: Distributed) -> list[Any]:
    """Every rank's ``value`` (picklable plain data), in rank order."""
    if not context.enabled:
        return [value]
    out: list[Any] = [None] * context.world_size
    dist.all_gather_object(out, value)
    return out


@contextmanager
def main_first(context: Distributed) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. tokenizing into the shared cache), then the others run it."""
    if not context.is_main:
        barrier(context)
    yield
    if context.is_main:
        barrier(context)


def unwrap(model: Any) -> Any:
    """The model inside a DistributedDataParallel wrapper (for methods other than ``forward``)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def barrier(context: Distributed) -> None:
    """Wait for every rank (e.g. until rank 0 has written a file the others read)."""
    if context.enabled:
        dist.barrier()


def cleanup(context: Distributed) -> None:
    """Wait for every rank, then shut the process group down. Without this a rank that finishes first
    (ranks other than 0 skip the bundle and the reports) exited with gloo's threads still running, and now
    and then aborted ("terminate called without an active exception")."""
    if context.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
