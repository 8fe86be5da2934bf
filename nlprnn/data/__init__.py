"""The torchtext.data-style pipeline: readers -> fields -> vocab -> datasets -> batches."""

from nlprnn.data.batching import Batch, BucketSampler, default_device, pack, unpack
from nlprnn.data.columns import IdColumn
from nlprnn.data.dataset import Dataset
from nlprnn.data.entity_files import RawSentences, Span, parse_markup, read_char_bio, read_klp2016, read_raw
from nlprnn.data.example import Example
from nlprnn.data.field import Field
from nlprnn.data.file_datasets import LanguageModelingDataset, SequenceTaggingDataset, TabularDataset
from nlprnn.data.issues import RowIssue
from nlprnn.data.iterators import BPTTIterator, BucketIterator, Iterator, WindowIterator
from nlprnn.data.label_field import LabelField
from nlprnn.data.legacy import Pipeline, batch, interleave_keys, pool
from nlprnn.data.legacy_fields import RawField, ReversibleField, SubwordField
from nlprnn.data.nested_field import NestedField
from nlprnn.data.padding import pad_rows
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
from nlprnn.data.tag_field import TagField
from nlprnn.data.tags import bio_errors, bioes_to_bio, iob1_to_bio, repair_bio, to_bio
from nlprnn.data.vocab import Vocab
from nlprnn.tokenizers import get_tokenizer  # torchtext.legacy.data exported it too

__all__ = [
    "Pipeline", "RawField", "ReversibleField", "SubwordField", "batch", "get_tokenizer", "interleave_keys", "pool",
    "BPTTIterator", "Batch", "BucketIterator", "BucketSampler", "Dataset", "Example", "Field", "IdColumn",
    "Iterator", "LabelField", "LanguageModelingDataset", "NestedField", "ReadResult", "RowIssue", "RowProblem",
    "SequenceTaggingDataset", "TabularDataset", "TagField", "Vocab", "WindowIterator", "bio_errors", "bioes_to_bio",
    "StreamResult", "default_device", "iob1_to_bio", "iter_tsv_chunks", "pack", "pad_rows", "read_conll",
    "read_delimited", "read_jsonl", "read_tsv", "repair_bio", "stream_preprocess", "to_bio", "unpack",
    "RawSentences", "Span", "parse_markup", "read_char_bio", "read_klp2016", "read_raw",
]
