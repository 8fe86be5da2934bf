"""``python -m pipelines.ner`` as a user runs it: BiLSTM-CRF with characters on CoNLL files."""

import json
from pathlib import Path

from pipelines.ner import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ["--no-progress", "--set", "data.train=" + str(ROOT / "data/ner/train.conll"),
        "--set", "data.valid=" + str(ROOT / "data/ner/dev.conll")]


def test_train_evaluate_predict(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--epochs", "3", "--set", "model.hidden_size=32", *DATA]) == 0
    printed = capsys.readouterr().out
    assert "epoch   3" in printed and "micro avg" in printed
    result = json.loads((out / "result.json").read_text())
    assert result["valid"]["f1"] > 0.8  # the toy corpus is learnable in 3 epochs
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--data", str(ROOT / "data/ner/dev.conll"),
                 "--no-progress"]) == 0
    assert f"F1 {result['valid']['f1']:.4f}" in capsys.readouterr().out

    words = tmp_path / "words.conll"
    words.write_text("김\n민수\n는\n서울\n에서\n왔\n다\n\n카카오\n", encoding="utf-8")
    tagged = tmp_path / "tagged.conll"
    assert main(["predict", "--bundle", str(out / "bundle"), "--data", str(words), "--output", str(tagged),
                 "--no-progress"]) == 0
    sentences = [block.splitlines() for block in tagged.read_text(encoding="utf-8").strip().split("\n\n")]
    assert [len(s) for s in sentences] == [7, 1]  # file order, one line per token
    assert all(line.split("\t")[1] in ("O",) or line.split("\t")[1][:2] in ("B-", "I-") for s in sentences for line in s)


def test_broken_bio_in_training_data_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.conll"
    bad.write_text("김\tNNP\tB-PER\n씨\tNNB\tO\n\n서울\tNNP\tO\n역\tNNG\tI-LOC\n", encoding="utf-8")
    assert main(["train", "--data", str(bad), "--dry-run", "--out", str(tmp_path / "o"), "--no-progress",
                 "--set", "data.valid=" + str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.conll:4" in err and "line 5" in err and "--set data.repair_tags=true" in err


def test_without_characters_or_crf(tmp_path):
    assert main(["train", "--dry-run", "--out", str(tmp_path / "plain"), "--set", "model.char_features=false",
                 "--set", "model.crf=false", *DATA]) == 0


def test_pos_column_as_a_feature_is_kept_in_the_bundle(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dry-run", "--out", str(out), "--set", "data.feature_column=1", *DATA]) == 0
    assert (out / "bundle" / "vocab-feature.json").exists()
    capsys.readouterr()
    assert main(["predict", "--bundle", str(out / "bundle"), "--data", str(ROOT / "data/ner/dev.conll"),
                 "--no-progress"]) == 0
    assert capsys.readouterr().out.count("\n") > 80


def test_a_column_the_file_lacks_is_named(tmp_path, capsys):
    assert main(["train", "--dry-run", "--out", str(tmp_path / "o"), "--set", "data.feature_column=5", *DATA]) == 2
    assert "no column 5 for data.feature_column" in capsys.readouterr().err


def test_word_dropout_and_self_attention_train_and_reload(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dry-run", "--out", str(out), "--set", "model.word_dropout=0.1",
                 "--set", "model.attention_heads=4", *DATA]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--bundle", str(out / "bundle"), "--data", str(ROOT / "data/ner/dev.conll"),
                 "--no-progress"]) == 0


def test_attention_heads_that_do_not_divide_the_width_are_refused(tmp_path, capsys):
    assert main(["train", "--dry-run", "--out", str(tmp_path / "o"), "--set", "model.attention_heads=7", *DATA]) == 2
    assert "does not divide the encoder's output width 32" in capsys.readouterr().err


def test_a_word_dropout_that_is_not_a_probability_is_refused(tmp_path, capsys):
    assert main(["train", "--dry-run", "--out", str(tmp_path / "o"), "--set", "model.word_dropout=1.5", *DATA]) == 2
    assert "'model.word_dropout' must be a number from 0 to 1 (excluded), got '1.5'" in capsys.readouterr().err
