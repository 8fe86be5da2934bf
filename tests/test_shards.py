"""``python -m pipelines.shards``: Kkma over a file in shards, killed and resumed, merged into one cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cached_rows

from pipelines.preprocess import main as preprocess
from pipelines.shards import main

ROOT = Path(__file__).resolve().parents[1]
DATA = str(ROOT / "data" / "sentiment" / "train.tsv")


@pytest.mark.kkma
def test_killed_shards_resume_without_redoing_finished_ones_and_merge(tmp_path, capsys, monkeypatch):
    out = tmp_path / "shards"
    args = ["run", "--data", DATA, "--column", "text", "--shards", "2", "--out", str(out), "--workers", "1",
            "--no-progress"]
    process = subprocess.Popen([sys.executable, "-m", "pipelines.shards", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    while not ((out / "shard-0.done").exists() and cached_rows(out / "shard-1") > 0):
        assert process.poll() is None and time.monotonic() < deadline, "shard 1 finished before the kill"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # mid-way through shard 1, Kkma workers included
    process.wait()
    assert not (out / "shard-1.done").exists()
    committed = cached_rows(out / "shard-1")

    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "shard 0: already finished, skipped" in printed
    shard1 = json.loads((out / "shard-1.done").read_text())
    assert shard1["from_shard_cache"] == committed and shard1["analyzed_now"] == shard1["rows"] - committed

    cache = tmp_path / "cache"
    assert main(["merge", "--out", str(out), "--cache-dir", str(cache)]) == 0
    assert "400 rows added" in capsys.readouterr().out
    monkeypatch.setenv("NLPRNN_CACHE", str(cache))
    assert preprocess(["--data", DATA, "--out", str(tmp_path / "pre"), "--no-progress"]) == 0
    assert "kkma: 0 texts analyzed, 400 from cache" in capsys.readouterr().out


def test_merge_refuses_unfinished_shards_and_a_changed_plan(tmp_path, capsys):
    out = tmp_path / "shards"
    out.mkdir()
    plan = {"data": DATA, "column": "text", "shards": 2, "tokenizer": {"name": "kkma", "options": {}}}
    (out / "plan.json").write_text(json.dumps(plan))
    assert main(["merge", "--out", str(out)]) == 2
    assert "shards [0, 1] are not finished" in capsys.readouterr().err
    assert main(["run", "--data", DATA, "--column", "text", "--shards", "3", "--out", str(out)]) == 2
    assert "another plan" in capsys.readouterr().err
