"""Pretrained vectors from local files, under torchtext's names (nothing is downloaded)."""

import zipfile
from collections import Counter

import pytest
import torch

from nlprnn import DataError
from nlprnn.legacy import data, vocab

GLOVE = "the 0.1 0.2\ncat 0.3 0.4\nsat -0.5 0.6\n"


def test_vectors_read_a_text_file_once_then_its_pt_copy(tmp_path):
    (tmp_path / "small.txt").write_text(GLOVE)
    vectors = vocab.Vectors("small.txt", cache=str(tmp_path))
    assert vectors.dim == 2 and len(vectors) == 3
    assert vectors["cat"].tolist() == pytest.approx([0.3, 0.4])
    assert vectors["dog"].tolist() == [0.0, 0.0]  # unk_init: zeros
    assert (tmp_path / "small.txt.pt").exists()
    (tmp_path / "small.txt").unlink()
    assert vocab.Vectors("small.txt", cache=str(tmp_path))["sat"].tolist() == pytest.approx([-0.5, 0.6])
    assert vectors.get_vecs_by_tokens(["The", "cat"], lower_case_backup=True).shape == (2, 2)


def test_glove_by_alias_from_the_cache_folder_and_an_unpacked_archive(tmp_path):
    with zipfile.ZipFile(tmp_path / "glove.6B.zip", "w") as archive:  # the archive as Stanford serves it
        archive.writestr("glove.6B.50d.txt", GLOVE)
    v = vocab.Vocab(Counter({"cat": 2, "the": 1, "dog": 1}), vectors="glove.6B.50d", vectors_cache=str(tmp_path))
    assert v.vectors.shape == (5, 2)
    assert v.vectors[v.stoi["cat"]].tolist() == pytest.approx([0.3, 0.4])
    assert v.vectors[v.stoi["dog"]].tolist() == [0.0, 0.0]


def test_a_missing_vectors_file_names_the_url_and_the_folder(tmp_path):
    with pytest.raises(DataError, match=r"glove.6B.100d.txt: vectors file not found.*nlp.stanford.edu/data/glove.6B.zip"):
        vocab.GloVe(name="6B", dim=100, cache=str(tmp_path))
    with pytest.raises(DataError, match=r"wiki.ko.vec.*fbaipublicfiles"):
        vocab.FastText(language="ko", cache=str(tmp_path))


def test_build_vocab_with_vectors_objects_concatenates_them(tmp_path):
    (tmp_path / "a.txt").write_text(GLOVE)
    (tmp_path / "b.txt").write_text("cat 1 2 3\n")
    text = data.Field()
    text.build_vocab([["the", "cat"]], vectors=[vocab.Vectors("a.txt", cache=str(tmp_path)),
                                                vocab.Vectors("b.txt", cache=str(tmp_path), unk_init=torch.ones_like)])
    assert text.vocab.vectors[text.vocab.stoi["cat"]].tolist() == pytest.approx([0.3, 0.4, 1, 2, 3])
    assert text.vocab.vectors[text.vocab.stoi["the"]].tolist() == pytest.approx([0.1, 0.2, 1, 1, 1])


def test_set_vectors_and_extend_keep_ids(tmp_path):
    v = vocab.Vocab(Counter({"hello": 4, "world": 3}), specials=["<unk>", "<pad>"])
    v.set_vectors({"world": 0}, torch.tensor([[0.5, 0.5]]), dim=2)
    assert v.vectors.tolist() == [[0, 0], [0, 0], [0, 0], [0.5, 0.5]]
    v.extend(vocab.Vocab(Counter({"new": 1, "hello": 1})))
    assert v.itos == ["<unk>", "<pad>", "hello", "world", "new"] and v.stoi["new"] == 4


def test_char_ngram_vectors_average_the_ngrams_of_a_word(tmp_path):
    (tmp_path / "charNgram.txt").write_text("2gram-#BEGIN#a 1 1\n2gram-ab 3 3\n9gram-zz 5 5\n")
    grams = vocab.CharNGram(cache=str(tmp_path))
    assert grams["ab"].tolist() == [[2.0, 2.0]]
    assert grams["zz"].tolist() == [[0.0, 0.0]]
