"""``torchtext.legacy.data``: the names of torchtext 0.11's legacy data package, on nlprnn."""

from nlprnn.data.batching import Batch
from nlprnn.data.example import Example
from nlprnn.data.legacy import Pipeline, interleave_keys
from nlprnn.legacy.data.dataset import Dataset, TabularDataset
from nlprnn.legacy.data.field import Field, LabelField, NestedField, RawField, ReversibleField, SubwordField
from nlprnn.legacy.data.iterator import BPTTIterator, BucketIterator, Iterator, batch, pool
from nlprnn.tokenizers import get_tokenizer

__all__ = [
    "BPTTIterator", "Batch", "BucketIterator", "Dataset", "Example", "Field", "Iterator", "LabelField",
    "NestedField", "Pipeline", "RawField", "ReversibleField", "SubwordField", "TabularDataset", "batch",
    "get_tokenizer", "interleave_keys", "pool",
]
