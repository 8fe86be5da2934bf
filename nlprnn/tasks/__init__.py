"""Tasks: one protocol (``base.Task``), one runner (``runner``), and the registry of the tasks.

``TASKS`` is the one place a task is registered: the commands (``python -m pipelines.<name>``), the
bundle loader (a bundle's ``task`` key) and ``python -m pipelines`` read it.
"""

from nlprnn.tasks.base import Splits, Task
from nlprnn.tasks.classification import ClassifyConfig, ClassifyTask
from nlprnn.tasks.language_model import LanguageModelTask, LMConfig
from nlprnn.tasks.regression import RegressConfig, RegressTask
from nlprnn.tasks.runner import Loaded, evaluate, load, predict, task_for, train
from nlprnn.tasks.tagging import NerConfig, NerTask

TASKS: dict[str, type[Task]] = {
    "classify": ClassifyTask,
    "ner": NerTask,
    "lm": LanguageModelTask,
    "regress": RegressTask,
}

__all__ = [
    "TASKS", "ClassifyConfig", "ClassifyTask", "LMConfig", "LanguageModelTask", "Loaded", "NerConfig", "NerTask",
    "RegressConfig", "RegressTask", "Splits", "Task", "evaluate", "load", "predict", "task_for", "train",
]
