"""``torchtext.legacy`` 0.11 on nlprnn: code written for torchtext ports by one substitution,
``torchtext.legacy`` -> ``nlprnn.legacy`` (``torchtext.data`` -> ``nlprnn.legacy.data`` for code older
than torchtext 0.9).

The classes are nlprnn's own (one implementation of reading, vocab and batching) with torchtext's
defaults: ``tokenize=None`` splits on whitespace, a LabelField numbers its labels by frequency, TSV is
read with CSV quoting, a language-modeling file is one example, ``BPTTIterator`` pads the last step,
splits shuffle with Python's ``random`` as torchtext's did, and batches stay on the CPU unless a device
is given. The differences kept on purpose are listed in the README.
"""

import torch

from nlprnn.legacy import data, datasets, vocab

# Fields and vocabs pickle as plain data, so torch.load's default (weights_only=True) may read them back.
torch.serialization.add_safe_globals([
    data.Field, data.LabelField, data.NestedField, data.RawField, data.ReversibleField, data.SubwordField,
    vocab.Vocab,
])

__all__ = ["data", "datasets", "vocab"]
