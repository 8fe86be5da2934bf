"""A newcomer's own data through the commands: a run that holds a model is never replaced unasked, a
dry run never touches a real run, ``--data FILE`` alone is a whole run on that file, and what goes wrong
is one line naming the file and line (or the whole key) and a fix in command-line words."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import task_command

ROOT = Path(__file__).resolve().parents[1]


def run(task: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = task_command(task)(list(argv) + ["--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    rows = "".join(f"{i}\t{'great fun' if i % 2 else 'dull bad'} film {i}\t{'pos' if i % 2 else 'neg'}\n"
                   for i in range(60))
    path = tmp_path / "mine.tsv"
    path.write_text("id\ttext\tlabel\n" + rows, encoding="utf-8")
    return path


def test_a_run_that_holds_a_model_is_not_replaced_unasked(reviews, tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["train", "--data", str(reviews), "--tokenizer", "whitespace", "--epochs", "1", "--out", out]
    assert run("classify", *base, capsys=capsys)[0] == 0
    code, _, err = run("classify", *base, capsys=capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"{out} holds a trained model" in err and "--overwrite" in err and "--resume" in err
    assert run("classify", *base, "--overwrite", capsys=capsys)[0] == 0


def test_a_dry_run_goes_beside_the_run(reviews, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--data", str(reviews), "--tokenizer", "whitespace", "--epochs", "1"]
    run("classify", *base, "--out", str(out), capsys=capsys)
    before = (out / "bundle" / "weights.pt").read_bytes()
    code, stdout, _ = run("classify", *base, "--dry-run", "--set", f"out={out}", capsys=capsys)
    assert code == 2  # an explicit out is a real run's: protected like any
    code, stdout, _ = run("classify", "train", "--dry-run", "--tokenizer", "whitespace", "--data", str(reviews),
                          "--config", str(_config_with_out(tmp_path, out)), capsys=capsys)
    assert code == 0 and f"{out}-dry-run/bundle" in stdout
    assert (out / "bundle" / "weights.pt").read_bytes() == before


def _config_with_out(tmp_path: Path, out: Path) -> Path:
    config = tmp_path / "run.toml"
    config.write_text(f'out = "{out}"\n', encoding="utf-8")
    return config


def test_data_alone_is_a_whole_run_on_that_file(reviews, tmp_path, capsys):
    code, out, _ = run("classify", "train", "--data", str(reviews), "--tokenizer", "whitespace", "--epochs", "1",
                       "--out", str(tmp_path / "r"), capsys=capsys)
    assert code == 0
    assert "rows: train 48, valid 6, test 6" in out  # stratified, seeded shares of mine.tsv; no sample file
    code, out, _ = run("classify", "train", "--data", str(reviews), "--test", str(reviews), "--tokenizer", "whitespace",
                       "--epochs", "1", "--out", str(tmp_path / "r2"), capsys=capsys)
    assert code == 0 and "test 60" in out


def test_ner_and_lm_cut_their_parts_from_the_file_too(tmp_path, capsys):
    code, out, _ = run("ner", "train", "--data", str(ROOT / "data/ner/train.conll"), "--dry-run", "--out",
                       str(tmp_path / "ner"), capsys=capsys)
    assert code == 0 and "valid" in out and "test" in out
    text = tmp_path / "text.txt"
    text.write_text("".join(f"문장 {i} 입니다\n" for i in range(200)), encoding="utf-8")
    code, out, _ = run("lm", "train", "--data", str(text), "--dry-run", "--out", str(tmp_path / "lm"), capsys=capsys)
    assert code == 0 and out.count("test") >= 1


def test_a_csv_file_read_as_tsv_says_which_flag_reads_it(tmp_path, capsys):
    path = tmp_path / "mine.csv"
    path.write_text("id,text,label\n1,좋다,1\n", encoding="utf-8")
    code, _, err = run("classify", "train", "--data", str(path), "--tokenizer", "whitespace", "--out",
                       str(tmp_path / "run"), capsys=capsys)
    assert code == 2
    assert err == (f"error: {path}:1: no column 'text'; the file's header names ['id,text,label']. "
                   "Fix: if it is a CSV file, pass --set data.format=csv.\n")


def test_an_empty_file_gets_a_fix_in_command_words(tmp_path, capsys):
    path = tmp_path / "empty.tsv"
    path.write_text("", encoding="utf-8")
    code, _, err = run("classify", "train", "--data", str(path), "--tokenizer", "whitespace", "--out",
                       str(tmp_path / "run"), capsys=capsys)
    assert code == 2 and "empty.tsv" in err and "skip_header" not in err and "=False" not in err


@pytest.mark.parametrize("task", ["classify", "ner", "lm", "regress"])
def test_an_unknown_key_is_named_whole(task, capsys):
    code, _, err = run(task, "train", "--set", "nonexistent.key=1", capsys=capsys)
    assert code == 2 and "'nonexistent.key'" in err


@pytest.mark.parametrize("task", ["classify", "ner", "lm", "regress"])
def test_every_task_command_takes_valid_and_test(task, capsys):
    with pytest.raises(SystemExit):
        task_command(task)(["train", "--help"])
    help_text = capsys.readouterr().out
    assert "--valid" in help_text and "--test" in help_text and "--overwrite" in help_text


def test_the_tokenizer_help_lists_the_registry(capsys):
    from nlprnn.tokenizers import available_tokenizers

    with pytest.raises(SystemExit):
        task_command("classify")(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(name in help_text for name in available_tokenizers())
