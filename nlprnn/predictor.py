"""A trained bundle in memory: ``predictor = nlprnn.load("runs/ner/bundle")``, then ``predictor(texts)``.

One result per input, from the same code as the ``predict`` command (so the same numbers), batched by
length, on the bundle's device or the one given, no file written:

- classify: ``{"label", "probability", "scores": {label: probability}}``
- ner: ``{"text", "entities": [{"start", "end", "type", "text"}]}`` from raw text (character offsets);
  given token lists, ``{"tokens", "entities"}`` with token offsets
- lm: ``{"text", "perplexity", "tokens"}``; ``predictor.generate(prompt, ...)`` continues a prompt
- regress: ``{"forecast"}``, the value after a window of numbers

An input that cannot be used (not a string, empty, longer than ``max_chars``) is a DataError naming its
index (``texts[3]: ...``), never a silent empty result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from nlprnn.data.dataset import Dataset
from nlprnn.data.entity_files import RawSentences, spans_of_char_tags
from nlprnn.errors import DataError

__all__ = ["Predictor", "load"]

MAX_CHARS = 10_000


class Predictor:
    """What a bundle predicts, for inputs in memory (see the module docstring for each task's results)."""

    def __init__(self, loaded: Any, max_chars: int = MAX_CHARS) -> None:
        self.loaded = loaded
        self.task = loaded.task
        self.max_chars = max_chars

    @property
    def name(self) -> str:
        """The bundle's task: ``classify``, ``ner``, ``lm`` or ``regress``."""
        return str(self.task.name)

    @property
    def device(self) -> torch.device:
        return self.loaded.device

    def info(self) -> dict[str, Any]:
        """What a client needs to know: the task, its labels or entity types, its analyzer or tokenizer."""
        import nlprnn

        data = self.task.config.data
        out: dict[str, Any] = {"task": self.name, "nlprnn": nlprnn.__version__, "device": str(self.device)}
        if self.name == "classify":
            out.update(labels=list(self.loaded.fields["label"].vocab.itos), tokenizer=data.tokenizer)
        elif self.name == "ner":
            tags = self.loaded.fields["tag"].vocab.itos
            out.update(entity_types=sorted({t.split("-", 1)[1] for t in tags if "-" in t}), analyzer=data.analyzer,
                       units=data.units)
        elif self.name == "lm":
            out.update(level=data.level, vocab=len(self.loaded.fields["text"].vocab))
        else:
            out.update(window=data.window)
        return out

    # -- prediction -------------------------------------------------------------------------------
    def check(self, inputs: Sequence[Any]) -> None:
        """Refuse what cannot be predicted (a DataError naming the input's index), before any work."""
        if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
            raise DataError("texts", None, f"expected a list of inputs, got {type(inputs).__name__}.",
                            "pass a list, e.g. predictor(['문장 하나', '문장 둘'])", code="bad_input")
        if self.name == "regress":
            self._windows(inputs)
        elif self.name == "ner" and inputs and all(isinstance(item, list | tuple) for item in inputs):
            for i, item in enumerate(inputs):
                self._tokens(i, item)
        else:
            self._texts(inputs)

    def __call__(self, inputs: Sequence[Any]) -> list[dict[str, Any]]:
        """One result per input, in the order given."""
        self.check(inputs)
        if not inputs:
            return []
        with torch.no_grad():
            if self.name == "classify":
                return self._classify(self._texts(inputs))
            if self.name == "ner":
                if all(isinstance(item, list | tuple) for item in inputs):
                    return self._tag_tokens([self._tokens(i, item) for i, item in enumerate(inputs)])
                return self._tag_text(self._texts(inputs))
            if self.name == "lm":
                return [self._perplexity(text) for text in self._texts(inputs)]
            return self._forecast(inputs)

    def _texts(self, inputs: Sequence[Any]) -> list[str]:
        for i, item in enumerate(inputs):
            if not isinstance(item, str):
                raise DataError(f"texts[{i}]", None, f"is a {type(item).__name__}, not a string.", "give text",
                                code="bad_input")
            if not item.strip():
                raise DataError(f"texts[{i}]", None, "is empty.", "give each input some text", code="empty_text")
            if len(item) > self.max_chars:
                raise DataError(f"texts[{i}]", None, f"has {len(item):,} characters, more than {self.max_chars:,}.",
                                "split it into shorter texts", code="too_long")
        return list(inputs)

    def _tokens(self, i: int, item: Sequence[Any]) -> list[str]:
        if not item or not all(isinstance(t, str) and t.strip() and " " not in t for t in item):
            raise DataError(f"texts[{i}]", None, "is not a list of tokens (non-empty strings without spaces).",
                            "give raw text, or each sentence as its tokens", code="bad_input")
        return list(item)

    def _classify(self, texts: list[str]) -> list[dict[str, Any]]:
        fields = self.loaded.fields
        data = Dataset.from_columns("texts", {"text": texts}, {"text": ("text", fields["text"])})
        result = self.task.predict(self.loaded.model, data, self.device)
        labels = fields["label"].vocab.itos
        return [{"label": labels[index], "probability": confidence,
                 "scores": {label: p for label, p in zip(labels, scores)}}
                for index, confidence, scores in zip(result["predicted"], result["confidence"], result["scores"])]

    def _tag_text(self, texts: list[str]) -> list[dict[str, Any]]:
        from nlprnn.tasks import ner_text

        data = self.task.config.data
        sentences = RawSentences("texts", texts, None, list(range(1, len(texts) + 1)))
        analyzed = ner_text.analyze(sentences, self.loaded.fields, data.analyzer, "raise", None, False,
                                    units=data.units)
        spans = self.task.predict(self.loaded.model, analyzed, self.device)["spans"]
        return [{"text": text, "entities": [s.to_json(text) for s in spans[row]]} for row, text in enumerate(texts)]

    def _tag_tokens(self, sentences: list[list[str]]) -> list[dict[str, Any]]:
        fields = self.loaded.fields
        needs = [name for name in ("feature", "word_start") if name in fields]
        if needs:
            raise DataError("texts", None, f"this model also reads a {' and a '.join(needs)} column per token, "
                            "which token lists do not carry.", "give raw text instead", code="bad_input")
        targets = tuple([("word", fields["word"])] + ([("char", fields["char"])] if "char" in fields else []))
        data = Dataset.from_columns("texts", {"word": pa.array(sentences, type=pa.list_(pa.string()))}, {"word": targets})
        predicted = self.task.predict(self.loaded.model, data, self.device)["predicted"]
        itos, rename = fields["tag"].vocab.itos, self.task.rename
        out = []
        for tokens, ids in zip(sentences, predicted):
            spans = spans_of_char_tags([rename(itos[t]) for t in ids])
            out.append({"tokens": tokens, "entities": [{"start": s.start, "end": s.end, "type": s.type,
                                                         "text": " ".join(tokens[s.start:s.end])} for s in spans]})
        return out

    def _perplexity(self, text: str) -> dict[str, Any]:
        field = self.loaded.fields["text"]
        char = self.task.config.data.level == "char"
        tokens = list(text) + ["\n"] if char else (field.tokenizer or str.split)(text) + ["<eos>"]
        if self.task.config.data.direction == "backward":
            tokens = tokens[::-1]
        ids = torch.tensor([[field.vocab.stoi[t] for t in tokens]], device=self.device)
        if ids.shape[1] < 2:
            raise DataError("texts", None, f"{text!r} has one token; a perplexity needs two.", "give a longer text",
                            code="too_short")
        model = self.loaded.model
        logits, _ = model(ids[:, :-1], None)
        loss = float(model.loss(logits, ids[:, 1:]))
        return {"text": text, "perplexity": float(np.exp(loss)), "tokens": int(ids.shape[1] - 1)}

    def generate(self, prompt: str, max_tokens: int = 50, temperature: float = 0.8, top_k: int | None = None,
                 greedy: bool = False, seed: int | None = 0) -> str:
        """A language model's continuation of ``prompt`` (the ``generate`` command's)."""
        if self.name != "lm":
            raise DataError("prompt", None, f"a {self.name} bundle does not generate text.", "load a language model",
                            code="bad_input")
        self._texts([prompt])
        return str(self.task.generate(self.loaded.model, self.loaded.fields, prompt, max_tokens, seed, temperature,
                                      top_k, greedy))

    def _windows(self, inputs: Sequence[Any]) -> None:
        window = self.task.config.data.window
        for i, values in enumerate(inputs):
            if isinstance(values, str) or not isinstance(values, Sequence) or len(values) < window or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in values):
                raise DataError(f"texts[{i}]", None, f"is not a window of at least {window} finite numbers.",
                                f"give the last {window} values of the series", code="bad_input")

    def _forecast(self, inputs: Sequence[Any]) -> list[dict[str, Any]]:
        from nlprnn.tasks.regression import Series

        window = self.task.config.data.window
        out = []
        for values in inputs:
            series = Series(np.asarray(values[-window:], dtype=np.float64), np.arange(1, window + 1), "texts")
            out.append({"forecast": self.task.predict(self.loaded.model, series, self.device)[-1]})
        return out


def load(bundle: str | Path, device: torch.device | str | None = None, max_chars: int = MAX_CHARS) -> Predictor:
    """The bundle of any task as a Predictor, on ``device`` (default: CUDA when visible, else CPU)."""
    from nlprnn.tasks import runner

    return Predictor(runner.load(bundle, device=device), max_chars=max_chars)
