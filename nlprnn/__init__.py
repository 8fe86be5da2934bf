"""nlprnn: torchtext's declarative data pipeline (Field, Vocab, TabularDataset, BucketIterator,
BPTTIterator) on current PyTorch, Korean-first (Kkma by default), and the RNN models it feeds."""

from nlprnn.data import (
    Batch,
    BPTTIterator,
    BucketIterator,
    BucketSampler,
    Dataset,
    Example,
    Field,
    Iterator,
    LabelField,
    LanguageModelingDataset,
    NestedField,
    Pipeline,
    RawField,
    ReversibleField,
    SequenceTaggingDataset,
    SubwordField,
    TabularDataset,
    TagField,
    Vocab,
    WindowIterator,
    batch,
    default_device,
    interleave_keys,
    pack,
    pool,
    stream_preprocess,
    unpack,
)
from nlprnn.errors import (
    BundleError,
    ConfigError,
    DataError,
    NlprnnError,
    TagError,
    TokenizerUnavailableError,
    TrainingError,
    UnknownTokenError,
    VocabError,
)
from nlprnn.predictor import Predictor, load
from nlprnn.tokenizers import Tokenizer, available_tokenizers, get_tokenizer, register_tokenizer

__version__ = "0.1.0"

__all__ = [
    "Pipeline", "RawField", "ReversibleField", "SubwordField", "batch", "interleave_keys", "pool",
    "BPTTIterator", "Batch", "BucketIterator", "BucketSampler", "BundleError", "ConfigError", "DataError", "Dataset", "Example",
    "Field", "Iterator", "LabelField", "LanguageModelingDataset", "NestedField", "NlprnnError",
    "SequenceTaggingDataset", "TabularDataset", "TagError", "TagField", "Tokenizer", "TokenizerUnavailableError",
    "TrainingError", "UnknownTokenError", "Vocab", "VocabError", "WindowIterator", "__version__", "available_tokenizers", "default_device", "get_tokenizer", "pack",
    "register_tokenizer", "stream_preprocess", "unpack", "Predictor", "load",
]
