"""The torchtext.data-style pipeline: readers -> fields -> vocab -> datasets -> batches."""

from nlprnn.data.batching import (
    Batch,
    BPTTIterator,
    BucketIterator,
    BucketSampler,
    Iterator,
    default_device,
    pack,
    unpack,
)
from nlprnn.data.columns import IdColumn
from nlprnn.data.dataset import Dataset, LanguageModelingDataset, SequenceTaggingDataset, TabularDataset
from nlprnn.data.example import Example
from nlprnn.data.field import Field, LabelField, NestedField, TagField, pad_rows
from nlprnn.data.readers import (
    ReadResult,
    RowProblem,
    iter_tsv_chunks,
    read_conll,
    read_delimited,
    read_jsonl,
    read_tsv,
)
from nlprnn.data.streaming import StreamResult, stream_preprocess
from nlprnn.data.tags import bio_errors, bioes_to_bio, iob1_to_bio, repair_bio, to_bio
from nlprnn.data.vocab import Vocab

__all__ = [
    "BPTTIterator", "Batch", "BucketIterator", "BucketSampler", "Dataset", "Example", "Field", "IdColumn",
    "Iterator", "LabelField", "LanguageModelingDataset", "NestedField", "ReadResult", "RowProblem",
    "SequenceTaggingDataset", "TabularDataset", "TagField", "Vocab", "bio_errors", "bioes_to_bio",
    "StreamResult", "default_device", "iob1_to_bio", "iter_tsv_chunks", "pack", "pad_rows", "read_conll",
    "read_delimited", "read_jsonl", "read_tsv", "repair_bio", "stream_preprocess", "to_bio", "unpack",
]
