"""``torchtext.legacy.datasets``: the data sets torchtext's tutorials import, read from local copies
under ``root`` in the layout their archives unpack to (nlprnn downloads nothing: a missing file is one
error naming it, its URL and where it goes)."""

from nlprnn.legacy.datasets.babi import BABI20
from nlprnn.legacy.datasets.language_modeling import LanguageModelingDataset, PennTreebank, WikiText2, WikiText103
from nlprnn.legacy.datasets.nli import SNLI, MultiNLI
from nlprnn.legacy.datasets.sequence_tagging import UDPOS, CoNLL2000Chunking, SequenceTaggingDataset
from nlprnn.legacy.datasets.text_classification import IMDB, SST, TREC
from nlprnn.legacy.datasets.translation import IWSLT, WMT14, Multi30k, TranslationDataset

__all__ = [
    "BABI20", "IMDB", "IWSLT", "SNLI", "SST", "TREC", "UDPOS", "WMT14", "CoNLL2000Chunking", "LanguageModelingDataset",
    "Multi30k", "MultiNLI", "PennTreebank", "SequenceTaggingDataset", "TranslationDataset", "WikiText2",
    "WikiText103",
]
