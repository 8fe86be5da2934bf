"""Where no Java runtime is visible (tox env ``nojava``): Kkma fails clearly, the rest works."""

import os

import pyarrow as pa
import pytest

from nlprnn import Field, TokenizerUnavailableError, get_tokenizer

pytestmark = pytest.mark.nojava


def test_environment_really_hides_java():
    assert os.environ.get("NLPRNN_EXPECT_NO_JAVA") == "1", "run through tox -e nojava"


@pytest.mark.parametrize("name", ["kkma", "okt", "komoran"])
def test_konlpy_tokenizers_say_how_to_install_java(name):
    with pytest.raises(TokenizerUnavailableError) as error:
        get_tokenizer(name)("안녕하세요")
    message = str(error.value)
    assert "Java" in message and "apt-get install default-jre-headless" in message
    assert "whitespace, char, kiwi" in message


def test_tokenizers_without_java_work():
    assert get_tokenizer("whitespace")("좋은 영화") == ["좋은", "영화"]
    assert get_tokenizer("char")("영화") == ["영", "화"]
    pytest.importorskip("kiwipiepy")
    assert "영화" in get_tokenizer("kiwi")("좋은 영화")


def test_a_default_field_fails_only_when_it_tokenizes():
    field = Field()  # kkma by default: building it needs no JVM
    with pytest.raises(TokenizerUnavailableError):
        field.preprocess_column(pa.array(["좋은 영화"]))
