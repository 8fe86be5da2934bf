"""Reading files: literal TSV, CSV quoting, JSONL, CoNLL; every bad row named by file and line."""

import pytest

from nlprnn.data.readers import read_conll, read_delimited, read_jsonl, read_tsv
from nlprnn.errors import DataError


def test_tsv_is_read_literally_keeping_quotes(write):
    path = write("a.tsv", 'id\tdocument\tlabel\n1\t"""영화 최고"""\t1\n2\t그냥 "보통"\t0\n')
    table = read_tsv(path).table
    assert table.column("document").to_pylist() == ['"""영화 최고"""', '그냥 "보통"']


def test_csv_format_applies_quoting(write):
    path = write("a.csv", 'text,label\n"좋다, 정말",1\n"""인용""",0\n')
    table = read_delimited(path, "csv").table
    assert table.column("text").to_pylist() == ["좋다, 정말", '"인용"']


def test_bom_and_crlf_are_accepted(write):
    path = write("a.tsv", "\ufefftext\tlabel\r\n좋다\t1\r\n싫다\t0\r\n".encode())
    result = read_tsv(path)
    assert result.column_names == ["text", "label"]
    assert result.table.column("label").to_pylist() == ["1", "0"]
    assert result.lines.tolist() == [2, 3]


def test_wrong_column_count_names_file_line_and_fix(write):
    path = write("bad.tsv", "text\tlabel\n좋다\t1\n싫다\t0\textra\n")
    with pytest.raises(DataError) as error:
        read_tsv(path)
    assert error.value.line == 3
    assert "bad.tsv:3" in str(error.value)
    assert "expected 2 columns" in str(error.value)
    assert "on_error='skip'" in str(error.value)


def test_skip_policy_counts_every_skipped_row(write):
    path = write("bad.tsv", "text\tlabel\n좋다\t1\n싫다\n별로\t0\t?\n괜찮다\t1\n")
    result = read_tsv(path, on_error="skip")
    assert result.table.num_rows == 2
    assert [p.line for p in result.skipped] == [3, 4]


def test_invalid_utf8_is_reported_with_line(write):
    path = write("bad.tsv", "text\tlabel\n좋다\t1\n".encode() + b"\xff\xfe\t0\n")
    with pytest.raises(DataError, match=r"bad.tsv:3: invalid UTF-8"):
        read_tsv(path)
    assert read_tsv(path, on_error="skip").table.num_rows == 1


def test_missing_file_directory_and_empty_file(write, tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_tsv(tmp_path / "nope.tsv")
    with pytest.raises(DataError, match="is a directory"):
        read_tsv(tmp_path)
    with pytest.raises(DataError, match="empty"):
        read_tsv(write("empty.tsv", ""))


def test_jsonl_reads_keys_and_reports_bad_lines(write):
    path = write("a.jsonl", '{"text": "좋다", "label": 1}\n{"text": "싫다"}\nnot json\n')
    result = read_jsonl(path, ["text", "label"], on_error="skip")
    assert result.table.column("label").to_pylist() == ["1"]
    assert [p.line for p in result.skipped] == [2, 3]
    with pytest.raises(DataError, match=r"a.jsonl:2: .*missing key"):
        read_jsonl(path, ["text", "label"])


def test_conll_sentences_docstart_and_crlf(write):
    text = "-DOCSTART- O\r\n\r\n김\tNNP\tB-PER\r\n씨\tNNB\tO\r\n\r\n\r\n서울\tNNP\tB-LOC\r\n"
    result = read_conll(write("a.conll", text.encode()), columns=["word", "pos", "tag"])
    assert result.table.column("word").to_pylist() == [["김", "씨"], ["서울"]]
    assert result.table.column("tag").to_pylist() == [["B-PER", "O"], ["B-LOC"]]
    assert result.lines.tolist() == [3, 7]


def test_conll_varying_column_count_is_an_error(write):
    path = write("a.conll", "김\tNNP\tB-PER\n씨\tO\n\n서울\tNNP\tB-LOC\n")
    with pytest.raises(DataError, match=r"a.conll:2: expected 3 columns, found 2"):
        read_conll(path)
    result = read_conll(path, on_error="skip")
    assert result.table.column("column0").to_pylist() == [["서울"]]
    assert result.skipped[0].line == 2
