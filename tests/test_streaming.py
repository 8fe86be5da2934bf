"""Streaming preprocessing (``--stream``): chunk by chunk, the same vocab and ids as the in-memory path."""

from __future__ import annotations

import json

import datasets
import pytest

from nlprnn import DataError, Dataset, Field, LabelField, TabularDataset
from nlprnn.data.readers import iter_tsv_chunks
from nlprnn.data.streaming import is_complete, stream_preprocess
from pipelines.preprocess import main

ROWS = ["id\ttext\tlabel"] + [f"{i}\t{'좋다 ' * (i % 4)}영화 {i % 7}번\t{i % 2}" for i in range(1, 60)]


def test_chunks_give_the_same_rows_lines_and_problems_as_one_read(write):
    path = write("t.tsv", "\ufeff" + "\r\n".join(ROWS[:10]) + "\r\n\r\nbad row\n" + "\n".join(ROWS[10:]) + "\n")
    chunks = list(iter_tsv_chunks(path, chunk_rows=7, on_error="skip"))
    assert [c.table.num_rows for c in chunks] == [7] * 8 + [3]
    assert sum((c.table.column("id").to_pylist() for c in chunks), []) == [str(i) for i in range(1, 60)]
    skipped = [p for c in chunks for p in c.skipped]
    assert [(p.line, "expected 3 columns" in p.problem) for p in skipped] == [(12, True)]
    with pytest.raises(DataError, match=r"t\.tsv:12: expected 3 columns"):
        list(iter_tsv_chunks(path, chunk_rows=7))


def test_streamed_vocab_and_ids_equal_the_in_memory_pipeline(write, tmp_path):
    path = write("t.tsv", "\n".join(ROWS) + "\n")
    text, label = Field(tokenize="whitespace"), LabelField()
    result = stream_preprocess(path, tmp_path / "out", {"text": ("text", text), "label": ("label", label)},
                               chunk_rows=8, min_freq=2)
    assert result.rows == 59 and result.chunks == 8 and is_complete(tmp_path / "out")

    TEXT, LABEL = Field(tokenize="whitespace"), LabelField()
    whole = TabularDataset(path, "tsv", {"text": ("text", TEXT), "label": ("label", LABEL)}, skip_header=True)
    TEXT.build_vocab(whole, min_freq=2)
    LABEL.build_vocab(whole)
    assert text.vocab.itos == TEXT.vocab.itos and label.vocab.itos == LABEL.vocab.itos
    ids = datasets.Dataset.from_file(str(tmp_path / "out" / "ids.arrow"))
    expected = whole.ids("text")
    assert ids["text"] == [expected.row(i) for i in range(len(whole))]
    assert ids["label"] == whole.ids("label").values.tolist()
    reloaded = Dataset.load(tmp_path / "out")
    assert reloaded[3].text == whole[3].text and list(reloaded.lines) == list(whole.lines)


def test_a_run_that_did_not_finish_is_not_loaded(write, tmp_path):
    path = write("t.tsv", "\n".join(ROWS) + "\n")
    fields = {"text": ("text", Field(tokenize="whitespace")), "label": ("label", LabelField())}
    stream_preprocess(path, tmp_path / "out", fields, chunk_rows=8)
    (tmp_path / "out" / "complete.json").unlink()  # as a run killed before its last write leaves it
    with pytest.raises(DataError, match="not a complete saved dataset"):
        Dataset.load(tmp_path / "out")


def test_preprocess_command_streams(write, tmp_path, capsys):
    path = write("t.tsv", "\n".join(ROWS) + "\n")
    out = tmp_path / "run"
    assert main(["--stream", "--data", str(path), "--tokenizer", "whitespace", "--out", str(out), "--no-progress",
                 "--set", "chunk_rows=10"]) == 0
    printed = capsys.readouterr().out
    assert "streamed            6 chunks" in printed and "peak RSS" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == 59 and (out / "text_vocab.json").exists()
