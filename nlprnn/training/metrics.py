"""Metrics printed by the commands: classification, NER (seqeval, strict IOB2) and language modeling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from nlprnn.errors import ConfigError


def confusion_matrix(gold: Sequence[int], predicted: Sequence[int], num_classes: int) -> list[list[int]]:
    """``matrix[g][p]``: how many examples of class g were predicted as p."""
    matrix = [[0] * num_classes for _ in range(num_classes)]
    for g, p in zip(gold, predicted):
        matrix[g][p] += 1
    return matrix


def classification_metrics(gold: Sequence[int], predicted: Sequence[int], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 (mean of per-class F1, a class with no gold and no predictions skipped) and
    the confusion matrix."""
    if len(gold) != len(predicted):
        raise ConfigError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    matrix = confusion_matrix(gold, predicted, len(labels))
    f1s = []
    for k in range(len(labels)):
        tp = matrix[k][k]
        fp = sum(matrix[g][k] for g in range(len(labels))) - tp
        fn = sum(matrix[k]) - tp
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
    total = len(gold)
    return {
        "accuracy": sum(matrix[k][k] for k in range(len(labels))) / total if total else 0.0,
        "macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "confusion": matrix,
        "labels": list(labels),
    }


def ner_metrics(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Entity-level precision, recall and F1 (seqeval, strict IOB2), overall and per type, with the report."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    args = dict(mode="strict", scheme=IOB2)
    report = classification_report(gold, predicted, output_dict=True, zero_division=0, **args)
    per_type = {k: {m: float(v[m]) for m in ("precision", "recall", "f1-score", "support")}
                for k, v in report.items() if not k.endswith("avg")}
    return {
        "precision": float(precision_score(gold, predicted, zero_division=0, **args)),
        "recall": float(recall_score(gold, predicted, zero_division=0, **args)),
        "f1": float(f1_score(gold, predicted, zero_division=0, **args)),
        "per_type": per_type,
        "report": classification_report(gold, predicted, digits=4, zero_division=0, **args),
    }


def language_model_metrics(total_loss_nats: float, tokens: int) -> dict[str, float]:
    """Mean loss per token in nats, perplexity, and bits per token (bits per character for char LMs)."""
    mean = total_loss_nats / max(tokens, 1)
    return {"loss": mean, "perplexity": math.exp(min(mean, 50.0)), "bits_per_token": mean / math.log(2)}
