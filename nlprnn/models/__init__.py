"""Recurrent encoders and task heads fed by the data pipeline."""

from nlprnn.models.crf import CRF, bio_allowed
from nlprnn.models.embedding import embedding_from_vocab
from nlprnn.models.encoder import RNNEncoder, reverse_within_lengths
from nlprnn.models.generation import generate
from nlprnn.models.heads import LanguageModel, SequenceClassifier, SequenceRegressor, SequenceTagger
from nlprnn.models.layer_norm_rnn import LayerNormRNNLayer
from nlprnn.models.pretrained import LanguageModelEncoder, PretrainedClassifier

__all__ = [
    "CRF", "LanguageModel", "LanguageModelEncoder", "LayerNormRNNLayer", "PretrainedClassifier", "RNNEncoder", "SequenceClassifier", "SequenceRegressor",
    "SequenceTagger", "bio_allowed", "embedding_from_vocab", "generate", "reverse_within_lengths",
]
