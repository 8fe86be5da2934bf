"""``python -m pipelines.preprocess`` as a user runs it: summary, outputs, and clear errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlprnn import Dataset, Vocab
from pipelines.preprocess import main

ROOT = Path(__file__).resolve().parents[1]


def test_tsv_with_whitespace_tokens_writes_dataset_vocab_and_summary(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--data", str(ROOT / "data/sentiment/train.tsv"), "--tokenizer", "whitespace", "--out", str(out),
                 "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "rows                400  (0 skipped)" in printed and "padding" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels"] == ["0", "1"] and summary["padding_fraction"] < 0.2
    assert len(Dataset.load(out / "dataset")) == 400
    assert len(Vocab.load(out / "text_vocab.json")) == summary["text_vocab"]


def test_conll_config(tmp_path):
    out = tmp_path / "ner"
    assert main(["--config", str(ROOT / "pipelines/configs/preprocess_ner.toml"), "--data",
                 str(ROOT / "data/ner/train.conll"), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == 300 and "B-PER" in summary["labels"]


def test_bad_row_is_reported_with_file_line_and_fix(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\ttext\tlabel\n1\t좋다\t1\n2\t싫다\n", encoding="utf-8")
    assert main(["--data", str(bad), "--tokenizer", "whitespace", "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bad.tsv:3" in err and "expected 3 columns" in err and "--on-error skip" in err


def test_skip_policy_counts_rows_in_the_summary(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\ttext\tlabel\n1\t좋다\t1\n2\t싫다\n3\t\t0\n4\t별로\t0\n", encoding="utf-8")
    assert main(["--data", str(bad), "--tokenizer", "whitespace", "--on-error", "skip", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "rows                2  (2 skipped)" in printed
    assert "bad.tsv:3" in printed and "bad.tsv:4" in printed


def test_unknown_config_key_is_named(tmp_path, capsys):
    assert main(["--set", "tokeniser=kkma", "--no-progress"]) == 2
    assert "unknown config key(s) 'tokeniser'" in capsys.readouterr().err


def test_wrong_type_is_named(capsys):
    assert main(["--set", "batch_size=many", "--no-progress"]) == 2
    assert "'batch_size' must be a whole number of at least 1, got 'many'" in capsys.readouterr().err


@pytest.mark.kkma
def test_readme_main_command_runs_with_kkma(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipelines.preprocess", "--out", str(tmp_path / "run"),
                             "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "tokenizer           kkma" in result.stdout
    assert "labels              0, 1" in result.stdout


def test_engine_ray_without_ray_installed_is_one_line_with_the_install(monkeypatch, tmp_path, capsys):
    import sys

    from pipelines import preprocess

    monkeypatch.setitem(sys.modules, "ray", None)  # as where Ray is not installed
    assert preprocess.main(["--tokenizer", "whitespace", "--engine", "ray", "--out", str(tmp_path / "o"),
                            "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'nlprnn[ray]'" in err
