"""Tokenizers are named specs: rebuilt from JSON, never pickled lambdas."""

import json

import pyarrow as pa
import pytest

from nlprnn import ConfigError, get_tokenizer
from nlprnn.tokenizers import available_tokenizers, shorten_repeats


def test_registry_lists_the_korean_and_simple_tokenizers():
    assert {"kkma", "okt", "komoran", "kiwi", "whitespace", "char"} <= set(available_tokenizers())


def test_spec_round_trips_through_json():
    char = get_tokenizer("char", keep_spaces=True)
    rebuilt = get_tokenizer(json.loads(json.dumps(char.spec())))
    assert rebuilt == char
    assert rebuilt("가 나") == ["가", " ", "나"]


def test_unknown_name_lists_the_choices():
    with pytest.raises(ConfigError, match="unknown tokenizer 'spacy'.*kkma"):
        get_tokenizer("spacy")


def test_vectorized_whitespace_matches_str_split():
    texts = ["아 더빙..  진짜", "", "   ", "\t탭\u3000전각 공백 ", "하나"]
    tokenizer = get_tokenizer("whitespace")
    assert tokenizer.tokenize_arrow(pa.array(texts)).to_pylist() == [t.split() for t in texts]


def test_char_tokenizer_drops_spaces_by_default():
    assert get_tokenizer("char")("좋은 영화") == ["좋", "은", "영", "화"]


def test_plain_functions_are_accepted_but_named_not_saved():
    tokenizer = get_tokenizer(lambda text: text.split("/"))
    assert tokenizer("a/b") == ["a", "b"]
    assert tokenizer.spec()["name"] == "callable"
    assert get_tokenizer(str.split).spec()["name"] == "whitespace"  # torchtext's default split is ours


def test_shorten_repeats_used_by_the_time_bound_fallback():
    assert shorten_repeats("ㅇ" * 30) == "ㅇㅇ"
    assert shorten_repeats("황시욬" * 10 + " 영화") == "황시욬황시욬 영화"
    assert shorten_repeats("좋은 영화") == "좋은 영화"


def test_kiwi_tokenizes_without_java():
    pytest.importorskip("kiwipiepy")
    tokens = get_tokenizer("kiwi")("아 더빙.. 진짜 짜증나네요 목소리")
    assert "더빙" in tokens and "목소리" in tokens


def test_mecab_morphemes_with_sejong_tags_and_exact_character_spans():
    pytest.importorskip("mecab_ko")
    mecab = get_tokenizer("mecab")
    text = "아버지가 방에 들어가신다.  정말 😀 재미있는 영화"
    spans = mecab.tokenize_with_offsets(text)
    assert all(text[start:end] == word for word, _, start, end in spans)  # offsets in characters, not bytes
    assert mecab(text)[:4] == ["아버지", "가", "방", "에"]
    assert get_tokenizer("mecab", pos=True)("아버지가")[:2] == ["아버지/NNG", "가/JKS"]
    assert mecab("ㅇ" * 40 + " 황시욬" * 10)  # the texts that stall Kkma come back at once
