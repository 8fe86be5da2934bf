"""Errors carry their parts as data; the library words them for library callers and a command words the
same remedies as its own flags, without editing the library's sentence."""

from __future__ import annotations

import pytest

from nlprnn import ConfigError, DataError, Field, LabelField, NlprnnError, TabularDataset
from nlprnn.config import build_config
from nlprnn.tasks import ClassifyConfig
from pipelines.cli import REMEDY_FLAGS, remedy_words


def test_a_data_error_carries_file_line_code_and_remedies(write):
    path = write("a.tsv", "text\tlabel\n좋다\t1\n\t0\n")
    with pytest.raises(DataError) as caught:
        TabularDataset(path, "tsv", [("text", Field(tokenize="whitespace")), ("label", LabelField())],
                       skip_header=True)
    error = caught.value
    assert (error.path, error.line, error.code, error.remedies) == (str(path), 3, "empty_text", ("skip_rows",))
    assert str(error) == f"{path}:3: text: empty text. Fix: fill in the text or delete the row, or pass " \
                         "on_error='skip' to skip and count such rows."


def test_a_command_words_the_remedies_as_its_flags():
    error = DataError("a.conll", 4, "tag: token 2 (line 5): broken.", "fix the sequence",
                      remedies=("repair_tags", "skip_rows"))
    assert error.render(remedy_words("data.")) == (
        "a.conll:4: tag: token 2 (line 5): broken. Fix: fix the sequence, or pass --set data.repair_tags=true "
        "to repair and count such sequences, or pass --on-error skip to skip and list such rows.")
    assert "on-error" not in error.render(remedy_words("data.", skip_policy=False))
    assert set(REMEDY_FLAGS) >= {"skip_rows", "repair_tags", "max_length", "max_token_chars", "csv_format"}


def test_a_config_error_names_key_value_and_allowed_values():
    with pytest.raises(ConfigError) as caught:
        build_config(ClassifyConfig, overrides={"model.cell": "transformer"})
    assert (caught.value.key, caught.value.value, caught.value.allowed) == ("model.cell", "transformer",
                                                                            ["lstm", "gru", "rnn"])


def test_none_is_a_value_where_a_key_cannot_be_empty():
    # model.freeze=none (train every LM layer) from the command line, and from a saved bundle's config
    assert build_config(ClassifyConfig, overrides={"model.freeze": "none"}).model.freeze == "none"
    assert build_config(ClassifyConfig, overrides={"model.pretrained": "none"}).model.pretrained is None
    with pytest.raises(ConfigError, match="model.hidden_size"):
        build_config(ClassifyConfig, overrides={"model.hidden_size": "none"})


@pytest.mark.parametrize("make", [
    lambda: __import__("nlprnn.models", fromlist=["RNNEncoder"]).RNNEncoder(4, 4, cell="transformer"),
    lambda: __import__("nlprnn.data.readers", fromlist=["read_tsv"]).read_tsv("x.tsv", on_error="ignore"),
    lambda: __import__("nlprnn.data.tags", fromlist=["to_bio"]).to_bio(["B-PER"], "bilou"),
    lambda: __import__("nlprnn.data.vocab", fromlist=["Vocab"]).Vocab({"a": 1}, specials=[], unk_token=None).stoi["b"],
])
def test_library_errors_derive_from_nlprnn_error(make):
    with pytest.raises(NlprnnError):
        make()
