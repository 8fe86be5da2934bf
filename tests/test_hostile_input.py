"""Broken and hostile files, through every reader and every command: each answers with a message that
names the file, the line and the fix, or (under an explicit skip policy) skips the row and lists it.
Nothing is lost silently; BOM, CRLF and mixed line endings are simply read."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlprnn import DataError, Field, LanguageModelingDataset
from nlprnn.data.readers import iter_tsv_chunks, read_conll, read_delimited, read_jsonl, read_tsv
from pipelines import classify, lm, ner, preprocess, regress

BIG = "가나다 " * (1024 * 1024)  # a 10 MB line (10 bytes a word)

# Per format: a valid file as lines, and how a bad line 3 looks (invalid UTF-8 comes from bytes).
FORMATS = {
    "tsv": (["text\tlabel"] + [f"좋은 영화 {i}\t{i % 2}" for i in range(1, 40)], "좋은\t1\t0", "\t1", f"{BIG}\t1"),
    "csv": (["text,label"] + [f"좋은 영화 {i},{i % 2}" for i in range(1, 40)], "좋은,1,0", ",1", f"{BIG},1"),
    "jsonl": ([f'{{"text": "좋은 영화 {i}", "label": "{i % 2}"}}' for i in range(1, 40)], '{"text": 1',
              '{"text": "", "label": "1"}',
              f'{{"text": "{BIG}", "label": "1"}}'),
    "conll": (["김\tNNP\tB-PER", "민수\tNNP\tI-PER", "는\tJX\tO", "", "서울\tNNP\tB-LOC", "에\tJKB\tO"] * 10,
              "서울\tNNP", "\tNNP\tO", f"{BIG}\tNNP\tO"),
}
READERS = {
    "tsv": lambda p, e: read_tsv(p, on_error=e),
    "tsv-stream": lambda p, e: [c for c in iter_tsv_chunks(p, chunk_rows=5, on_error=e)],
    "csv": lambda p, e: read_delimited(p, "csv", on_error=e),
    "jsonl": lambda p, e: read_jsonl(p, ["text", "label"], on_error=e),
    "conll": lambda p, e: read_conll(p, on_error=e),
    "text": lambda p, e: LanguageModelingDataset(p, Field(tokenize="whitespace"), on_error=e),
}


def fmt(reader: str) -> str:
    return {"tsv-stream": "tsv", "text": "tsv"}.get(reader, reader)


def make(tmp_path: Path, reader: str, case: str) -> Path:
    lines, wrong_columns, empty_field, huge = FORMATS[fmt(reader)]
    lines = list(lines)
    path = tmp_path / f"{case}.{fmt(reader)}"
    newline = "\n"
    if case == "missing":
        return path
    if case == "directory":
        path.mkdir()
        return path
    if case == "empty":
        path.write_bytes(b"")
        return path
    if case == "wrong_columns":
        lines[2] = wrong_columns
    elif case == "empty_field":
        lines[2] = empty_field
    elif case == "huge_line":
        lines[2] = huge
    data = newline.join(lines).encode("utf-8") + b"\n"
    if case == "bom":
        data = b"\xef\xbb\xbf" + data
    elif case == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif case == "mixed_endings":
        parts = data.split(b"\n")
        data = b"".join(part + (b"\r\n" if i % 2 else b"\n") for i, part in enumerate(parts[:-1]))
    elif case == "invalid_utf8":
        parts = data.split(b"\n")
        parts[2] = parts[2][:4] + b"\xff\xfe" + parts[2][4:]
        data = b"\n".join(parts)
    path.write_bytes(data)
    return path


ERRORS = ["missing", "directory", "empty", "invalid_utf8", "wrong_columns"]
FINE = ["bom", "crlf", "mixed_endings", "huge_line"]


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("case", ERRORS)
def test_every_reader_names_file_line_and_fix(tmp_path, reader, case):
    if case == "wrong_columns" and reader == "text":
        pytest.skip("a text file has no columns")
    path = make(tmp_path, reader, case)
    with pytest.raises(DataError) as caught:
        READERS[reader](path, "raise")
    message = str(caught.value)
    assert str(path) in message and "Fix:" in message
    if case in ("invalid_utf8", "wrong_columns"):
        assert f"{path}:3:" in message


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("case", ["invalid_utf8", "wrong_columns"])
def test_under_the_skip_policy_the_bad_line_is_listed_not_lost(tmp_path, reader, case):
    if case == "wrong_columns" and reader == "text":
        pytest.skip("a text file has no columns")
    result = READERS[reader](make(tmp_path, reader, case), "skip")
    chunks = result if isinstance(result, list) else [result]
    skipped = [p for c in chunks for p in c.skipped]
    assert [p.line for p in skipped] == [3] and skipped[0].problem


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("case", FINE)
def test_bom_line_endings_and_a_10_mb_line_are_read_intact(tmp_path, reader, case):
    clean = READERS[reader](make(tmp_path / "clean", reader, "plain") if (tmp_path / "clean").mkdir() is None
                            else None, "raise")
    result = READERS[reader](make(tmp_path, reader, case), "raise")
    if reader == "text":
        assert len(result) == len(clean)
        if case == "huge_line":
            assert max(result.lengths("text")) > 1
        return
    tables = [c.table for c in (result if isinstance(result, list) else [result])]
    clean_tables = [c.table for c in (clean if isinstance(clean, list) else [clean])]
    assert sum(t.num_rows for t in tables) == sum(t.num_rows for t in clean_tables)
    first = tables[0].column(0).to_pylist()
    if case == "huge_line":
        text = first[2] if reader == "jsonl" else first[1] if reader != "conll" else first[0][:3]
        assert (BIG in text) if reader != "conll" else True
        if reader == "conll":
            assert any(BIG == token for row in first for token in row)
    else:
        assert first == clean_tables[0].column(0).to_pylist()  # no BOM or CR left in the values


# -- commands -------------------------------------------------------------------------------------
def command_files(tmp_path: Path, task: str, case: str) -> Path:
    reader = {"classify": "tsv", "preprocess": "tsv", "ner": "conll", "lm": "text", "regress": "tsv"}[task]
    if task == "regress" and case not in ERRORS[:3]:
        lines = ["day\tvalue"] + [f"{i}\t{i % 7}.5" for i in range(1, 60)]
        if case == "wrong_columns":
            lines[2] = "3\t1\t2"
        elif case == "empty_field":
            lines[2] = "3\t"
        elif case == "invalid_utf8":
            lines[2] = "3\t\udcff"
        path = tmp_path / f"{case}.tsv"
        path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
        return path
    return make(tmp_path, reader, case)


def run_command(task: str, path: Path, tmp_path: Path, *extra: str) -> int:
    out = str(tmp_path / "out")
    if task == "classify":
        return classify.main(["train", "--dry-run", "--data", str(path), "--tokenizer", "whitespace", "--set",
                              "data.test=none", "--out", out, "--no-progress", *extra])
    if task == "preprocess":
        return preprocess.main(["--data", str(path), "--tokenizer", "whitespace", "--out", out, "--no-progress",
                                *extra])
    if task == "ner":
        return ner.main(["train", "--dry-run", "--data", str(path), "--valid", str(path), "--out", out,
                         "--no-progress", *extra])
    if task == "lm":
        return lm.main(["train", "--dry-run", "--data", str(path), "--out", out, "--set", "data.bptt_len=4",
                        "--set", "data.batch_size=2", "--no-progress", *extra])
    return regress.main(["train", "--dry-run", "--data", str(path), "--set", "data.window=3", "--out", out,
                         "--no-progress", *extra])


@pytest.mark.parametrize("task", ["classify", "preprocess", "ner", "lm", "regress"])
@pytest.mark.parametrize("case", ERRORS + ["empty_field"])
def test_every_command_answers_bad_files_in_one_line_with_the_fix(tmp_path, capsys, task, case):
    if task == "lm" and case in ("wrong_columns", "empty_field"):
        pytest.skip("a text file has no columns")
    path = command_files(tmp_path, task, case)
    assert run_command(task, path, tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and err.count("\n") == 0 and str(path) in err
    assert "Fix:" in err or "fix" in err.lower() or "give" in err
    if case in ("invalid_utf8", "wrong_columns", "empty_field") and task != "ner":
        assert f"{path}:3" in err or f"{path}:4" in err
    if task in ("classify", "preprocess", "ner") and case in ("invalid_utf8", "wrong_columns", "empty_field"):
        assert "--on-error skip" in err
    if task in ("lm", "regress"):  # no skip policy there: no advice to use one
        assert "on-error" not in err and "on_error" not in err


@pytest.mark.parametrize("task", ["classify", "ner"])
@pytest.mark.parametrize("case", ["invalid_utf8", "wrong_columns", "huge_line"])
def test_training_commands_skip_and_list_bad_rows_when_asked(tmp_path, capsys, task, case):
    path = command_files(tmp_path, task, case)
    assert run_command(task, path, tmp_path) == 2  # by default: stop and say where
    capsys.readouterr()
    assert run_command(task, path, tmp_path, "--on-error", "skip") == 0
    printed = capsys.readouterr().out
    assert "skipped" in printed and f"{path}:" in printed


def test_a_label_never_seen_in_training_names_the_line(tmp_path, capsys):
    train = make(tmp_path, "tsv", "plain")
    assert run_command("classify", train, tmp_path) == 0
    test = tmp_path / "test.tsv"
    test.write_text("text\tlabel\n좋은 영화\t1\n나쁜 영화\t2\n", encoding="utf-8")
    capsys.readouterr()
    assert classify.main(["evaluate", "--bundle", str(tmp_path / "out" / "bundle"), "--data", str(test),
                          "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{test}:3" in err and "'2'" in err


def test_a_conll_file_with_varying_columns_and_broken_bio(tmp_path, capsys):
    varying = tmp_path / "varying.conll"
    varying.write_text("김\tNNP\tB-PER\n민수\tI-PER\n\n", encoding="utf-8")
    assert ner.main(["train", "--dry-run", "--data", str(varying), "--valid", str(varying), "--out",
                     str(tmp_path / "o"), "--no-progress"]) == 2
    assert f"{varying}:2: expected 3 columns" in capsys.readouterr().err
    broken = tmp_path / "broken.conll"
    broken.write_text("김\tNNP\tO\n민수\tNNP\tI-PER\n\n", encoding="utf-8")
    assert ner.main(["train", "--dry-run", "--data", str(broken), "--valid", str(broken), "--out",
                     str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:1" in err and "line 2" in err and "--set data.repair_tags=true" in err
