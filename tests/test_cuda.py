"""On a CUDA machine: batches arrive on the GPU, and a resumed run with ``train.deterministic`` equals an
uninterrupted one bit for bit. Skipped where torch sees no GPU (CI has none); the CPU's own checks of
the same behaviour are in test_batching.py, test_classify_command.py and test_crash_safety.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nlprnn import BucketIterator, Field, LabelField, TabularDataset
from nlprnn.training.distributed import setup
from pipelines.classify import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--tokenizer", "whitespace", "--no-progress", "--set", "data.train=" + str(ROOT / "data/sentiment/train.tsv"),
        "--set", "data.test=none"]


@pytest.mark.cuda
def test_batches_arrive_on_the_gpu():
    text, label = Field(tokenize="whitespace", include_lengths=True, batch_first=True), LabelField()
    dataset = TabularDataset(ROOT / "data/sentiment/train.tsv", "tsv", {"text": ("text", text), "label": ("label", label)},
                             skip_header=True)
    text.build_vocab(dataset)
    label.build_vocab(dataset)
    batch = next(iter(BucketIterator(dataset, batch_size=16, device="cuda")))
    tokens, lengths = batch.text
    assert tokens.is_cuda and lengths.is_cuda and batch.label.is_cuda and batch.mask("text").is_cuda


@pytest.mark.cuda
def test_a_deterministic_resume_on_cuda_equals_an_uninterrupted_run(tmp_path):
    cuda = [*FAST, "--set", "device=cuda", "--set", "train.deterministic=true"]
    straight, resumed = tmp_path / "a", tmp_path / "b"
    assert main(["train", "--out", str(straight), "--epochs", "3", *cuda]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "1", *cuda]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "3", "--resume", *cuda]) == 0
    a = [json.loads(x)["train_loss"] for x in (straight / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x)["train_loss"] for x in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert a == b


def test_more_processes_than_gpus_is_one_clear_error_before_any_work(monkeypatch):
    """torchrun --nproc_per_node=2 on a 1-GPU machine: every rank stops at once with what to pass."""
    from nlprnn.errors import ConfigError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    for rank in ("0", "1"):
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("LOCAL_RANK", rank)
        with pytest.raises(ConfigError, match=r"2 processes on this machine but 1 GPU\(s\) visible.*--nproc_per_node=1"):
            setup("cuda")


@pytest.mark.cuda
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_auto_runs_two_fused_calls_on_cuda_exact_against_packing_and_without_compaction(cell, recwarn):
    from nlprnn.models import RNNEncoder

    torch.manual_seed(0)
    lengths = torch.tensor([40, 3, 17, 40, 1, 25, 9, 33])
    x = torch.randn(8, 40, 32, device="cuda") * (torch.arange(40)[None, :, None] < lengths[:, None, None]).cuda()
    encoder = RNNEncoder(32, 64, num_layers=2, cell=cell, bidirectional=True).cuda().eval()
    assert encoder._mode(x, lengths) == "two_call"
    out, state = encoder(x, lengths)
    encoder.execution = "packed"
    packed_out, packed_state = encoder(x, lengths)
    torch.testing.assert_close(out, packed_out, atol=1e-4, rtol=1e-4)
    for a, b in zip(state if isinstance(state, tuple) else (state,), packed_state if isinstance(packed_state, tuple)
                    else (packed_state,)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    assert not [w for w in recwarn if "contiguous chunk of memory" in str(w.message)]


@pytest.mark.cuda
def test_crf_log_partition_on_cuda_and_under_autocast_equals_the_cpus():
    from nlprnn.models import CRF

    tags = ["<pad>", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    torch.manual_seed(0)
    crf = CRF(len(tags), tags)
    emissions = torch.randn(8, 13, len(tags)) * 5
    mask = torch.arange(13)[None] < torch.tensor([13, 12, 9, 9, 5, 3, 2, 1])[:, None]
    results = []
    for device, autocast in (("cpu", False), ("cuda", False), ("cuda", True)):
        crf.zero_grad()
        x = emissions.to(device).requires_grad_(True)
        with torch.autocast("cuda", enabled=autocast):
            log_z = crf.to(device).log_partition(x.half() if autocast else x, mask.to(device))
        log_z.sum().backward()
        results.append([t.detach().float().cpu() for t in (log_z, x.grad, crf.transitions.grad)])
    for got in results[1:]:
        for expected, value in zip(results[0], got):
            torch.testing.assert_close(value, expected, atol=5e-2, rtol=1e-2)
