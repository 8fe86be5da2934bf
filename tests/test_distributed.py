"""DistributedDataParallel under torchrun: two CPU ranks (gloo) train as one process would on the same
global batches, and the commands run under torchrun with rank 0 alone writing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nlprnn.data.batching import Batch, BucketSampler, _Gather
from nlprnn.training import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from ddp_worker import BATCH, recording_step, toy_config, toy_dataset, toy_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
               f"--master_port={free_port()}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


class GlobalBatches:
    """One process's iterator over the same global batches: rank 0's and rank 1's rows of each step together."""

    def __init__(self, dataset, seed: int) -> None:
        lengths = dataset.sort_key_lengths()
        ranks = [BucketSampler(lengths, BATCH, seed=seed, rank=r, world_size=2).batches() for r in range(2)]
        self.steps = [list(a) + list(b) for a, b in zip(*ranks)]
        self.gather = _Gather({n: (f, dataset.ids(n)) for n, f in dataset.fields.items()})
        self.dataset = dataset
        self.position = 0

    def __iter__(self):
        for rows in self.steps[self.position:]:
            item = self.gather[rows]
            self.position += 1
            yield Batch.from_tensors(item, self.dataset.fields, item.pop("__rows__"), self.dataset)

    def __len__(self) -> int:
        return len(self.steps)

    def state_dict(self):
        return {"seed": 11, "epoch": 0, "position": self.position}

    def load_state_dict(self, state):
        self.position = state["position"]


def test_two_gloo_ranks_match_one_process_over_the_same_global_batches(tmp_path):
    torchrun(str(ROOT / "tests" / "ddp_worker.py"), str(tmp_path))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    weights = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert ranks[0]["world"] == 2 and len(ranks[0]["losses"]) == len(ranks[1]["losses"]) == 8
    for name in weights[0]:  # DDP keeps the replicas identical, step after step
        assert torch.equal(weights[0][name], weights[1][name]), name

    dataset = toy_dataset(tmp_path)
    model = toy_model(dataset)
    losses: list[float] = []
    Trainer(model, toy_config(), GlobalBatches(dataset, seed=11), recording_step(losses), lambda m: {"accuracy": 0.0},
            tmp_path / "single", progress=False).fit()
    # equal batch sizes: the mean of the two ranks' mean losses is the mean loss over the global batch
    expected = [(a + b) / 2 for a, b in zip(ranks[0]["losses"], ranks[1]["losses"])]
    assert losses == pytest.approx(expected, abs=1e-5)
    for name, value in model.state_dict().items():
        assert torch.allclose(value, weights[0][name], atol=1e-5), name


def test_classify_under_torchrun_writes_once_and_resumes(tmp_path):
    out = tmp_path / "run"
    args = ["-m", "pipelines.classify", "train", "--tokenizer", "whitespace", "--epochs", "2", "--out", str(out),
            "--set", "model.hidden_size=16", "--set", "model.embedding_dim=16", "--no-progress"]
    first = torchrun(*args)
    assert first.stdout.count("rows: train") == 1  # rank 0 alone reports
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history] == [1, 2]
    assert (out / "bundle" / "weights.pt").exists()
    assert not list(out.glob(".*.tmp"))

    resumed = torchrun(*[a if a != "2" else "3" for a in args], "--resume")
    assert resumed.stdout.count("rows: train") == 1
    again = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in again] == [1, 2, 3] and again[:2] == history
