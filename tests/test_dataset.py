"""Datasets: torchtext-style construction, bad rows, splits, Arrow save/load, language modeling."""

import pyarrow as pa
import pytest
import torch

from nlprnn import (
    DataError,
    Dataset,
    Field,
    LabelField,
    LanguageModelingDataset,
    SequenceTaggingDataset,
    TabularDataset,
    TagField,
)

ROWS = "text\tlabel\n좋은 영화\t1\n지루한 영화\t0\n최고 였다\t1\n별로 다\t0\n"


def fields():
    return Field(tokenize="whitespace", include_lengths=True), LabelField()


def test_tabular_dataset_as_in_a_torchtext_tutorial(write):
    TEXT, LABEL = fields()
    train = TabularDataset(write("train.tsv", ROWS), format="tsv", fields=[("text", TEXT), ("label", LABEL)],
                           skip_header=True)
    TEXT.build_vocab(train)
    LABEL.build_vocab(train)
    assert len(train) == 4
    assert vars(train[0]) == {"text": ["좋은", "영화"], "label": "1"}
    assert TEXT.vocab.itos[:3] == ["<unk>", "<pad>", "영화"]
    assert train.lines.tolist() == [2, 3, 4, 5]


def test_fields_by_header_name_and_ignored_columns(write):
    TEXT, LABEL = fields()
    path = write("a.tsv", "id\ttext\tlabel\n1\t좋다\t1\n")
    data = TabularDataset(path, "tsv", {"text": ("text", TEXT), "label": ("label", LABEL)}, skip_header=True)
    assert list(data.fields) == ["text", "label"]
    data = TabularDataset(path, "tsv", [None, ("text", TEXT), ("label", LABEL)], skip_header=True)
    assert data[0].text == ["좋다"]


def test_empty_text_is_an_error_or_skipped_and_counted(write):
    path = write("a.tsv", "text\tlabel\n좋다\t1\n \t0\n싫다\t0\n")
    with pytest.raises(DataError, match=r"a.tsv:3: text: empty text"):
        TabularDataset(path, "tsv", [("text", fields()[0]), ("label", LabelField())], skip_header=True)
    data = TabularDataset(path, "tsv", [("text", fields()[0]), ("label", LabelField())], skip_header=True,
                          on_error="skip")
    assert len(data) == 2 and [p.line for p in data.skipped] == [3]


def test_skipped_rows_leave_the_columns_as_a_filter_would(write):
    # empty texts (no tokens: their tokens stay in place) and a row too long (it has tokens: filtered)
    path = write("a.tsv", "text\tlabel\n좋다 정말\t1\n \t0\n싫다\t0\n하나 둘 셋 넷\t1\n\t1\n별로\t0\n")
    for text in (Field(tokenize="whitespace"), Field(tokenize="whitespace", max_length=3)):
        data = TabularDataset(path, "tsv", [("text", text), ("label", LabelField())], skip_header=True,
                              on_error="skip")
        kept = [1, 3, 6] if text.max_length else [1, 3, 4, 6]  # rows after the header, from 1
        every = ["좋다 정말", " ", "싫다", "하나 둘 셋 넷", "", "별로"]
        assert [ex.text for ex in data] == [every[i - 1].split() for i in kept]
        assert data.table.column("text").type == pa.list_(pa.string())
        assert data.lines.tolist() == [i + 1 for i in kept]


def test_label_unseen_in_training_names_the_test_file_line(write):
    TEXT, LABEL = fields()
    train = TabularDataset(write("train.tsv", ROWS), "tsv", [("text", TEXT), ("label", LABEL)], skip_header=True)
    test = TabularDataset(write("test.tsv", "text\tlabel\n좋다\t1\n싫다\t2\n"), "tsv",
                          [("text", TEXT), ("label", LABEL)], skip_header=True)
    LABEL.build_vocab(train)
    with pytest.raises(DataError, match=r"test.tsv:3: label '2' was not seen"):
        test.ids("label")


def test_broken_bio_in_conll_names_the_token_line(write):
    path = write("a.conll", "김\tB-PER\n씨\tO\n\n서울\tO\n역\tI-LOC\n")
    with pytest.raises(DataError, match=r"a.conll:4: .*line 5.*I-LOC"):
        SequenceTaggingDataset(path, [("words", Field(tokenize=None)), ("tags", TagField())])
    repaired = SequenceTaggingDataset(path, [("words", Field(tokenize=None)), ("tags", TagField(on_invalid="repair"))])
    assert repaired[1].tags == ["O", "B-LOC"]


def test_split_is_seeded_and_stratified(write):
    rows = "text\tlabel\n" + "".join(f"문장 {i}\t{int(i % 4 == 0)}\n" for i in range(200))
    TEXT, LABEL = fields()
    data = TabularDataset(write("a.tsv", rows), "tsv", [("text", TEXT), ("label", LABEL)], skip_header=True)
    train, valid, test = data.split([0.8, 0.1, 0.1], stratified=True, random_state=7)
    assert (len(train), len(valid), len(test)) == (160, 20, 20)
    for part in (train, valid, test):
        labels = [ex.label for ex in part]
        assert labels.count("1") / len(labels) == pytest.approx(0.25)
    again = data.split([0.8, 0.1, 0.1], stratified=True, random_state=7)
    assert [ex.text for ex in again[0]] == [ex.text for ex in train]
    import random

    random.seed(1)
    legacy = data.split(0.5, random_state=random.getstate())  # what torchtext tutorials pass
    assert [ex.text for ex in legacy[0]] == [ex.text for ex in data.split(0.5, random_state=random.getstate())[0]]
    other = data.split([0.8, 0.1, 0.1], stratified=True, random_state=8)
    assert [ex.text for ex in other[0]] != [ex.text for ex in train]


def test_save_and_load_keep_columns_fields_and_lines(write, tmp_path):
    TEXT, LABEL = fields()
    data = TabularDataset(write("a.tsv", ROWS), "tsv", [("text", TEXT), ("label", LABEL)], skip_header=True)
    data.save(tmp_path / "saved")
    loaded = Dataset.load(tmp_path / "saved")
    assert [vars(e) for e in loaded] == [vars(e) for e in data]
    assert loaded.lines.tolist() == data.lines.tolist()
    assert loaded.fields["text"].spec() == TEXT.spec()


def test_language_modeling_dataset_appends_eos_per_line(write):
    TEXT = Field(tokenize="whitespace")
    data = LanguageModelingDataset(write("lm.txt", " the cat\n sat\n"), TEXT)
    TEXT.build_vocab(data)
    assert data.ids("text").values.tolist() == [TEXT.vocab.stoi[t] for t in ["the", "cat", "<eos>", "sat", "<eos>"]]


def test_char_stream_keeps_newlines(write):
    TEXT = Field(tokenize="char")
    data = LanguageModelingDataset(write("c.txt", "ab\nc\n"), TEXT, char_stream=True)
    TEXT.build_vocab(data)
    assert TEXT.vocab.lookup_tokens(data.ids("text").values) == ["a", "b", "\n", "c", "\n"]


def test_numeric_column_without_vocab(write):
    VALUE = Field(sequential=False, use_vocab=False, dtype=torch.float32)
    data = TabularDataset(write("n.tsv", "x\n1.5\n2\n"), "tsv", [("x", VALUE)], skip_header=True)
    assert data.ids("x").values.tolist() == [1.5, 2.0]
    bad = TabularDataset(write("m.tsv", "x\n1.5\nabc\n"), "tsv", [("x", VALUE)], skip_header=True)
    with pytest.raises(DataError, match=r"m.tsv:3: 'abc' is not a number"):
        bad.ids("x")
