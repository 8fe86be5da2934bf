"""Named, serializable tokenizers: ``get_tokenizer("kkma")``, ``get_tokenizer({"name": "char"})``."""

from nlprnn.tokenizers.base import (
    CallableTokenizer,
    Tokenizer,
    TokenizeReport,
    available_tokenizers,
    get_tokenizer,
    register_tokenizer,
)
from nlprnn.tokenizers.cache import TokenCache, default_cache_dir
from nlprnn.tokenizers.korean import (
    KiwiTokenizer,
    KkmaTokenizer,
    KomoranTokenizer,
    KonlpyTokenizer,
    OktTokenizer,
    shorten_repeats,
)
from nlprnn.tokenizers.mecab import MecabTokenizer
from nlprnn.tokenizers.pool import check_java
from nlprnn.tokenizers.simple import BasicEnglishTokenizer, CharTokenizer, WhitespaceTokenizer

__all__ = [
    "BasicEnglishTokenizer",
    "CallableTokenizer",
    "CharTokenizer",
    "KiwiTokenizer",
    "KkmaTokenizer",
    "KomoranTokenizer",
    "KonlpyTokenizer",
    "MecabTokenizer",
    "OktTokenizer",
    "TokenCache",
    "TokenizeReport",
    "Tokenizer",
    "WhitespaceTokenizer",
    "available_tokenizers",
    "check_java",
    "default_cache_dir",
    "get_tokenizer",
    "register_tokenizer",
    "shorten_repeats",
]
