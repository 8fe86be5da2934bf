"""Vocab: fixed id order, limits, unknown tokens, JSON persistence, extension and vectors."""

from collections import Counter

import pytest
import torch

from nlprnn import Vocab
from nlprnn.errors import ConfigError


def test_specials_first_then_frequency_then_alphabetical():
    vocab = Vocab(Counter({"b": 2, "a": 2, "c": 5, "d": 1}))
    assert vocab.itos == ["<unk>", "<pad>", "c", "a", "b", "d"]


def test_min_freq_and_max_size_leave_specials_alone():
    vocab = Vocab(Counter({"a": 5, "b": 3, "c": 1}), min_freq=2, max_size=1)
    assert vocab.itos == ["<unk>", "<pad>", "a"]


def test_negative_max_size_and_min_freq_below_one_are_refused():
    with pytest.raises(ConfigError, match="max_size must be 0 or more"):
        Vocab(Counter({"a": 5, "b": 3}), max_size=-1)
    with pytest.raises(ConfigError, match="min_freq must be at least 1"):
        Vocab(Counter({"a": 5}), min_freq=0)
    assert Vocab(Counter({"a": 5}), max_size=0).itos == ["<unk>", "<pad>"]


def test_custom_unk_token_is_honoured():
    vocab = Vocab(Counter({"a": 1}), specials=["[UNK]", "[PAD]"], unk_token="[UNK]")
    assert vocab.stoi["never-seen"] == vocab.itos.index("[UNK]") == 0
    assert "never-seen" not in vocab.stoi  # looking up does not insert, unlike torchtext


def test_without_unk_an_unknown_token_is_an_error():
    vocab = Vocab(Counter({"pos": 1}), specials=[], unk_token=None)
    with pytest.raises(KeyError, match="no unk token"):
        vocab.stoi["neg"]


def test_json_round_trip(tmp_path):
    vocab = Vocab(Counter({"영화": 3, "좋다": 1}))
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.freqs == vocab.freqs


def test_extend_keeps_existing_ids():
    vocab = Vocab(Counter({"a": 2, "b": 1}))
    before = dict(vocab.stoi)
    vocab.extend(["b", "z"])
    assert all(vocab.stoi[t] == i for t, i in before.items())
    assert vocab.itos[-1] == "z"


def test_vectors_from_a_word2vec_text_file(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("2 3\n영화 1 2 3\nGood 4 5 6\n", encoding="utf-8")
    vocab = Vocab(Counter({"영화": 2, "good": 1, "없음": 1}))
    found = vocab.load_vectors(path, unk_init=lambda t: t.fill_(-1))
    assert found == 2  # "good" matched "Good" by its lowercase form
    assert vocab.vectors[vocab.stoi["영화"]].tolist() == [1, 2, 3]
    assert vocab.vectors[vocab.stoi["good"]].tolist() == [4, 5, 6]
    assert torch.equal(vocab.vectors[vocab.stoi["없음"]], torch.full((3,), -1.0))
