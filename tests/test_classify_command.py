"""``python -m pipelines.classify`` as a user runs it: train, resume, evaluate, predict, and errors."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.classify import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--tokenizer", "whitespace", "--no-progress", "--set", "data.train=" + str(ROOT / "data/sentiment/train.tsv"),
        "--set", "data.test=" + str(ROOT / "data/sentiment/test.tsv")]


def test_train_evaluate_predict(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "3", *FAST]) == 0
    printed = capsys.readouterr().out
    assert "epoch   3" in printed and "test   accuracy" in printed
    result = json.loads((out / "result.json").read_text())
    assert result["test"]["accuracy"] > 0.8  # the toy data is learnable in 3 epochs
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert main(["evaluate", "--bundle", str(out / "bundle"), "--data", str(ROOT / "data/sentiment/test.tsv"),
                 "--no-progress"]) == 0
    assert f"accuracy {result['test']['accuracy']:.4f}" in capsys.readouterr().out

    new = tmp_path / "new.tsv"
    new.write_text("id\ttext\n1\t정말 최고였다\n2\t너무 지루했다\n3\t배우는 정말 좋았어요\n", encoding="utf-8")
    predictions = tmp_path / "predictions.tsv"
    assert main(["predict", "--bundle", str(out / "bundle"), "--data", str(new), "--output", str(predictions),
                 "--no-progress"]) == 0
    rows = list(csv.reader(predictions.open(encoding="utf-8"), delimiter="\t"))
    assert rows[0] == ["line", "text", "predicted", "probability"]
    assert [r[0] for r in rows[1:]] == ["2", "3", "4"]  # the input's order
    assert rows[1][1] == "정말 최고였다" and rows[1][2] in ("0", "1")


def test_resume_continues_where_the_run_stopped(tmp_path, capsys):
    straight, resumed = tmp_path / "a", tmp_path / "b"
    cpu = [*FAST, "--set", "device=cpu"]  # bit-for-bit on the CPU (on CUDA: see tests/test_cuda.py)
    assert main(["train", "--out", str(straight), "--epochs", "2", *cpu]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "1", *cpu]) == 0
    assert main(["train", "--out", str(resumed), "--epochs", "2", "--resume", *cpu]) == 0
    a = [json.loads(x) for x in (straight / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]


def test_dry_run_finishes_quickly(tmp_path):
    assert main(["train", "--dry-run", "--out", str(tmp_path / "dry"), *FAST]) == 0


def test_config_errors_name_the_key(capsys):
    assert main(["train", "--set", "model.hiden_size=3", "--no-progress"]) == 2
    assert "unknown config key(s) 'model.hiden_size'" in capsys.readouterr().err
    assert main(["train", "--set", "train.lr=fast", "--no-progress"]) == 2
    assert "'train.lr' must be a number greater than 0, got 'fast'" in capsys.readouterr().err


def test_missing_bundle_and_unknown_text_are_explained(tmp_path, capsys):
    assert main(["evaluate", "--bundle", str(tmp_path), "--no-progress"]) == 2
    assert "no bundle.json" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "1", *FAST]) == 0
    capsys.readouterr()
    unknown = tmp_path / "unknown.tsv"
    unknown.write_text("text\nxyzzy plugh\n", encoding="utf-8")
    assert main(["predict", "--bundle", str(out / "bundle"), "--data", str(unknown), "--no-progress"]) == 2
    assert "every token of the text is unknown" in capsys.readouterr().err


def test_bundle_from_another_format_version_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "1", *FAST]) == 0
    meta = json.loads((out / "bundle" / "bundle.json").read_text())
    meta["format_version"] = 99
    (out / "bundle" / "bundle.json").write_text(json.dumps(meta))
    capsys.readouterr()
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--no-progress"]) == 2
    assert "bundle format 99" in capsys.readouterr().err


@pytest.mark.kkma
def test_readme_train_command_runs_with_kkma(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipelines.classify", "train", "--out", str(tmp_path / "run"),
                             "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "test   accuracy" in result.stdout
