"""Fields keep torchtext's semantics (padding, lengths, layout) and fix its known bugs."""

import json

import numpy as np
import pyarrow as pa
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nlprnn import ConfigError, DataError, Field, LabelField, NestedField, TagField
from nlprnn.data.columns import IdColumn
from nlprnn.data.padding import pad_rows


def test_pad_adds_init_eos_and_pads_right():
    field = Field(tokenize="whitespace", init_token="<s>", eos_token="</s>", include_lengths=True)
    padded, lengths = field.pad([["a", "b"], ["c"]])
    assert padded == [["<s>", "a", "b", "</s>"], ["<s>", "c", "</s>", "<pad>"]]
    assert lengths == [4, 3]


def test_fix_length_truncate_first_and_pad_first():
    field = Field(tokenize="whitespace", fix_length=3, truncate_first=True, pad_first=True)
    assert field.pad([["a", "b", "c", "d"], ["e"]]) == [["b", "c", "d"], ["<pad>", "<pad>", "e"]]


def test_process_is_time_major_unless_batch_first():
    field = Field(tokenize="whitespace")
    field.build_vocab([["a", "b"], ["a"]])
    assert field.process([["a", "b"], ["a"]]).shape == (2, 2)
    assert field.process([["a", "b", "b"], ["a"]]).shape == (3, 2)
    field.batch_first = True
    assert field.process([["a", "b", "b"], ["a"]]).shape == (2, 3)


def test_column_processing_lowercases_and_drops_stop_words():
    field = Field(tokenize="whitespace", lower=True, stop_words={"the"})
    tokens, _ = field.preprocess_column(pa.array(["The Cat", "the end"]))
    assert tokens.to_pylist() == [["cat"], ["end"]]
    assert field.preprocess("The Cat") == ["cat"]


def test_label_ids_follow_label_order_not_frequency():
    label = LabelField()
    label.build_vocab(["1", "1", "1", "0"])
    assert label.vocab.itos == ["0", "1"]  # torchtext would give "1" id 0 here
    label.build_vocab(["neg", "pos", "pos", "neutral"])
    assert label.vocab.itos == ["neg", "neutral", "pos"]


def test_unknown_label_names_file_and_line():
    label = LabelField()
    label.build_vocab(["0", "1"])
    column = pa.array(["0", "2"])
    with pytest.raises(DataError, match=r"test.tsv:7: label '2' was not seen"):
        label.numericalize_column(column, lambda row, token=None: ("test.tsv", 6 + row))


def tags(*sequences):
    return pa.array(list(sequences), type=pa.list_(pa.string()))


def test_tag_field_reports_an_i_that_starts_an_entity_with_its_line():
    field = TagField()
    processed, _ = field.preprocess_column(tags(["O", "I-PER", "I-PER"]))
    problems = field.row_problems(tags(["O", "I-PER", "I-PER"]), processed,
                                  lambda row, token=None: ("a.conll", 10 + (token or 0)))
    assert problems[0].code == "broken_bio" and "repair_tags" in problems[0].remedies
    assert "token 2 (line 11)" in problems[0].problem and "I-PER" in problems[0].problem


def test_tag_field_repair_and_scheme_conversion():
    repair = TagField(on_invalid="repair")
    repaired, _ = repair.preprocess_column(tags(["O", "I-PER", "I-PER"]))
    assert repaired.to_pylist() == [["O", "B-PER", "I-PER"]] and repair.repaired == 1
    assert repair.row_problems(tags(["O", "I-PER", "I-PER"]), repaired) == {}
    assert TagField(scheme="bioes").preprocess_column(tags(["S-LOC", "B-PER", "E-PER"]))[0].to_pylist() == [
        ["B-LOC", "B-PER", "I-PER"]]
    assert TagField(scheme="iob1").preprocess_column(tags(["I-ORG", "I-ORG", "B-ORG"]))[0].to_pylist() == [
        ["B-ORG", "I-ORG", "B-ORG"]]


def test_a_tag_that_is_no_tag_is_reported_not_converted():
    field = TagField(scheme="bioes")
    processed, _ = field.preprocess_column(tags(["B-PER", "PER"]))
    assert "'PER' is neither 'O' nor PREFIX-TYPE" in field.row_problems(tags(["B-PER", "PER"]), processed)[0].problem


def test_tag_vocab_puts_o_first_and_groups_types():
    tags = TagField()
    tags.build_vocab([["B-PER", "I-PER", "O", "B-LOC"]])
    assert tags.vocab.itos == ["<pad>", "O", "B-LOC", "B-PER", "I-PER"]


def test_every_field_answers_the_batch_phases_itself():
    """Batch and Dataset never ask what kind a field is: each field gives its batch value and mask."""
    chars = Field(tokenize="char")
    words = NestedField(chars, include_lengths=True, batch_first=False)
    processed, _ = words.preprocess_column(pa.array(["가나 다", "라"]))
    words.build_vocab([list("가나다라")])
    tensors = words.to_tensors(words.batch_arrays(words.numericalize_column(processed), np.array([0, 1])))
    data, word_lengths, char_lengths = words.batch_value(tensors)  # torchtext's NestedField triple
    assert data.shape == (2, 2, 2) and char_lengths.shape == (2, 2)  # (words, batch, chars): time-major
    assert words.mask(tensors).tolist() == [[True, True], [True, False]]  # (words, batch)
    text = Field(tokenize=None, include_lengths=True, pad_first=True, batch_first=True)
    text.build_vocab([["a", "b"], ["a"]])
    column = text.numericalize_column(pa.array([["a", "b"], ["a"]], type=pa.list_(pa.string())))
    tensors = text.to_tensors(text.batch_arrays(column, np.array([0, 1])))
    assert text.mask(tensors).tolist() == [[True, True], [False, True]]
    assert isinstance(text.batch_value(tensors), tuple)


def test_nested_field_gives_words_by_characters():
    chars = Field(tokenize="char")
    words = NestedField(chars, include_lengths=True)
    processed, _ = words.preprocess_column(pa.array(["가나 다", "라"]))
    words.build_vocab([list("가나다라")])
    column = words.numericalize_column(processed)
    arrays = words.batch_arrays(column, np.array([0, 1]))
    assert arrays["data"].shape == (2, 2, 2)
    assert arrays["lengths"].tolist() == [2, 1]
    assert arrays["char_lengths"].tolist() == [[2, 1], [1, 0]]
    itos = chars.vocab.itos
    assert [itos[i] for i in arrays["data"][0, 0]] == ["가", "나"]


def test_spec_round_trips_through_json():
    field = Field(tokenize={"name": "char", "options": {"keep_spaces": True}}, lower=True, init_token="<s>",
                  include_lengths=True, batch_first=True)
    rebuilt = Field.from_spec(json.loads(json.dumps(field.spec())))
    assert rebuilt.spec() == field.spec()
    assert rebuilt.preprocess("A b") == ["a", " ", "b"]


def test_saved_functions_must_be_passed_again():
    spec = Field(tokenize="whitespace", preprocessing=lambda xs: xs).spec()
    with pytest.raises(ConfigError, match="preprocessing"):
        Field.from_spec(spec)


@given(st.lists(st.lists(st.text(min_size=1, max_size=3), max_size=6), min_size=1, max_size=6),
       st.booleans(), st.booleans(), st.one_of(st.none(), st.integers(3, 6)), st.booleans())
def test_vectorized_padding_equals_the_per_example_reference(rows, with_init, pad_first, fix_length, truncate_first):
    field = Field(tokenize=None, init_token="<s>" if with_init else None, eos_token="</s>", fix_length=fix_length,
                  pad_first=pad_first, truncate_first=truncate_first, include_lengths=True, batch_first=True)
    field.build_vocab(rows)
    ids = [[field.vocab.stoi[t] for t in row] for row in rows]
    column = IdColumn(np.asarray([i for row in ids for i in row], dtype=np.int64),
                      np.concatenate([[0], np.cumsum([len(r) for r in ids])]).astype(np.int64))
    arrays = field.batch_arrays(column, np.arange(len(rows)))
    expected, expected_lengths = field.numericalize(field.pad(rows))
    assert torch.equal(torch.from_numpy(arrays["data"]), expected)
    assert arrays["lengths"].tolist() == expected_lengths.tolist()


def test_pad_rows_round_trip_recovers_every_row():
    values = np.arange(10)
    offsets = np.array([0, 3, 3, 7, 10])
    out, lengths = pad_rows(values, offsets, np.array([3, 0, 2]), pad=-1)
    assert [out[i, :n].tolist() for i, n in enumerate(lengths)] == [[7, 8, 9], [0, 1, 2], [3, 4, 5, 6]]


def test_padding_agrees_with_a_row_by_row_reference():
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(0, 7, size=int(rng.integers(1, 12)))
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        values = rng.integers(10, 99, size=int(offsets[-1]))
        rows = rng.choice(len(lengths), size=int(rng.integers(1, len(lengths) + 1)), replace=False)
        init, eos = (1 if rng.random() < 0.5 else None), (2 if rng.random() < 0.5 else None)
        fix = int(rng.integers(2, 9)) if rng.random() < 0.4 else None  # room for init and eos
        truncate_first, pad_first = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        out, total = pad_rows(values, offsets, rows, 0, init=init, eos=eos, fix_length=fix,
                              truncate_first=truncate_first, pad_first=pad_first)
        expected = []
        for r in rows:
            tokens = values[offsets[r]:offsets[r + 1]].tolist()
            if fix is not None:
                room = fix - (init is not None) - (eos is not None)
                tokens = tokens[max(len(tokens) - room, 0):] if truncate_first else tokens[:max(room, 0)]
            expected.append(([init] if init is not None else []) + tokens + ([eos] if eos is not None else []))
        width = fix if fix is not None else max(map(len, expected))
        padded = [[0] * (width - len(e)) + e if pad_first else e + [0] * (width - len(e)) for e in expected]
        assert out.tolist() == padded and total.tolist() == [len(e) for e in expected]
