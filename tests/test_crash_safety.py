"""kill -9 at any moment loses nothing: training resumes as if never stopped, checkpoints are never
half-written, and a killed tokenization leaves a token cache that later runs can trust."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import cached_rows

from nlprnn.tokenizers.cache import TokenCache
from nlprnn.training import load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


TASKS = {  # small, quick runs that checkpoint every 3 steps
    "classify": ["--tokenizer", "whitespace", "--epochs", "20"],
    "lm": ["--epochs", "8", "--set", "data.bptt_len=16", "--set", "model.num_layers=1"],  # hidden state carried
}


def train_args(task: str, out: Path) -> list[str]:
    return [sys.executable, "-m", f"pipelines.{task}", "train", *TASKS[task], "--out", str(out),
            "--set", "model.hidden_size=16", "--set", "model.embedding_dim=16", "--set", "train.checkpoint_every=3",
            "--set", "device=cpu", "--no-progress"]  # bit for bit: the CPU (CUDA's resume: tests/test_cuda.py)


def records(out: Path) -> list[dict]:
    """metrics.jsonl without the timings, which differ from run to run."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("seconds", "tokens_per_s")} for r in rows]


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


@pytest.mark.parametrize(("task", "seed"), [("classify", 1), ("classify", 2), ("lm", 3)])
def test_kill_9_during_training_then_resume_equals_an_uninterrupted_run(tmp_path, task, seed):
    reference = tmp_path / "reference"
    subprocess.run(train_args(task, reference), cwd=ROOT, env=ENV, check=True, capture_output=True)

    crashed = tmp_path / "crashed"
    delay = random.Random(seed).uniform(0.0, 1.5)
    process = subprocess.Popen(train_args(task, crashed), cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for(lambda: (crashed / "last.pt").exists())
    time.sleep(delay)
    assert process.poll() is None, "the run ended before the kill; the test needs a longer run"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (crashed / "bundle").exists()

    resumed = subprocess.run(train_args(task, crashed) + ["--resume"], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert records(crashed) == records(reference)  # every epoch's loss and metrics, bit for bit
    ours = load_checkpoint(crashed / "bundle" / "weights.pt")
    theirs = load_checkpoint(reference / "bundle" / "weights.pt")
    assert all(torch.equal(ours[name], theirs[name]) for name in theirs)


SAVER = """
import sys, torch
from nlprnn.training import save_checkpoint
i = int(sys.argv[2])
while True:
    save_checkpoint({"i": torch.full((1_000_000,), i, dtype=torch.int64)}, sys.argv[1])
    i += 1
"""


def test_kill_9_during_checkpoint_saves_never_leaves_a_half_written_file(tmp_path):
    path = tmp_path / "last.pt"
    rng = random.Random(0)
    last_seen = -1
    for kill in range(6):
        first = kill * 100_000
        process = subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(first)], env=ENV)
        wait_for(lambda first=first: path.exists() and int(load_checkpoint(path)["i"][0]) >= first)  # it has begun
        time.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = load_checkpoint(path)  # always the previous or the next complete file, never a torn one
        values = state["i"].unique()
        assert len(values) == 1 and int(values[0]) >= max(first, last_seen)
        last_seen = int(values[0])
    save_checkpoint({"i": torch.zeros(1)}, path)  # the next save clears what killed saves left behind
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_a_damaged_token_cache_is_moved_aside_not_trusted(tmp_path):
    (tmp_path / "tokens-demo.sqlite").write_bytes(b"this is not an SQLite database" * 100)
    with pytest.warns(UserWarning, match="damaged"):
        cache = TokenCache("demo", tmp_path)
    cache.put_many([(b"k", ["a", "b"], 0)])
    assert cache.get_many([b"k"]) == {b"k": (["a", "b"], 0)}
    assert any(p.name.startswith("tokens-demo.sqlite.corrupt-") for p in tmp_path.iterdir())


@pytest.mark.kkma
def test_kill_9_during_kkma_tokenization_leaves_a_cache_later_runs_trust(tmp_path):
    cache = tmp_path / "cache"
    env = {**ENV, "NLPRNN_CACHE": str(cache)}
    command = [sys.executable, "-m", "pipelines.preprocess", "--out", str(tmp_path / "out"), "--no-progress"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    wait_for(lambda: cached_rows(cache) > 0 or process.poll() is not None, timeout=180)
    assert process.poll() is None, "tokenization finished before the kill"
    os.killpg(process.pid, signal.SIGKILL)  # the command and its Kkma worker processes
    process.wait()
    committed = cached_rows(cache)
    assert 0 < committed < 400

    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["from_cache"] >= committed and summary["from_cache"] + summary["tokenized_now"] == summary["rows"]

    # what the killed run committed is what a clean analysis gives
    from nlprnn.data.readers import read_tsv
    from nlprnn.tokenizers import get_tokenizer

    texts = read_tsv(ROOT / "data/sentiment/train.tsv").table.column("text").to_pylist()
    kkma_cached = get_tokenizer("kkma", cache_dir=str(cache), workers=1)
    kkma_fresh = get_tokenizer("kkma", cache=False, workers=1)
    sample = texts[:: max(1, len(texts) // 25)]
    assert kkma_cached.tokenize_many(sample)[0] == kkma_fresh.tokenize_many(sample)[0]
