"""Training: the loop, checkpoints and metrics."""

from nlprnn.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from nlprnn.training.distributed import Distributed
from nlprnn.training.distributed import setup as setup_distributed
from nlprnn.training.metrics import classification_metrics, confusion_matrix, language_model_metrics, ner_metrics
from nlprnn.training.trainer import TrainConfig, Trainer, seed_everything

__all__ = [
    "CheckpointError", "Distributed", "TrainConfig", "Trainer", "classification_metrics", "confusion_matrix",
    "language_model_metrics", "load_checkpoint", "ner_metrics", "save_checkpoint", "seed_everything", "setup_distributed",
]
