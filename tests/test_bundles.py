"""Bundles: any task's bundle loads through one runner; bundles written before the task protocol still
load and score as they did; a damaged or incompatible bundle is a BundleError that says what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nlprnn.errors import BundleError
from nlprnn.tasks import ClassifyTask, LanguageModelTask, NerTask, RegressTask, runner
from pipelines.classify import main as classify
from pipelines.ner import main as ner

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "tests" / "fixtures" / "bundles-v1"
"""Bundles written by the dry runs of nlprnn 0.1.0 before the task protocol (commit 44534c5):
``classify train --dry-run --tokenizer whitespace``; ``ner train --epochs 3`` with hidden/embedding 16,
characters 8, ``data.feature_column=1``; ``lm train --dry-run``; ``regress train --dry-run``. The
expected figures are what that version's ``evaluate`` printed for them."""


@pytest.fixture
def bundle(tmp_path):
    def copy(task: str) -> Path:
        return Path(shutil.copytree(V1 / task, tmp_path / task))
    return copy


@pytest.mark.parametrize(("task", "cls", "data", "metric", "expected"), [
    ("classify", ClassifyTask, "data/sentiment/test.tsv", "accuracy", 0.52),
    ("ner", NerTask, "data/ner/dev.conll", "f1", 0.4118),
    ("lm", LanguageModelTask, "konlpy:kolaw/constitution.txt", "loss", 4.8812),
    ("regress", RegressTask, "data/series/temperature.tsv", "mse", 21.1186),
])
def test_a_bundle_from_before_the_task_protocol_scores_as_it_did(task, cls, data, metric, expected):
    loaded = runner.load(V1 / task, device="cpu")
    assert isinstance(loaded.task, cls)  # the bundle's task key picked the class
    metrics = runner.evaluate(loaded, str(ROOT / data) if not data.startswith("konlpy:") else data, progress=False)
    assert metrics[metric] == pytest.approx(expected, abs=1e-4)


def test_a_bundle_of_another_task_is_refused_with_the_right_command(capsys):
    assert classify(["evaluate", "--bundle", str(V1 / "ner"), "--no-progress"]) == 2
    assert "a 'ner' bundle, not a 'classify' one; use `python -m pipelines.ner`" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncated", "edited", "missing"])
def test_a_damaged_vocabulary_is_a_bundle_error_naming_the_file(bundle, capsys, damage):
    path = bundle("classify") / "vocab-text.json"
    if damage == "truncated":
        path.write_text(path.read_text()[:100])
    elif damage == "edited":
        path.write_text(json.dumps({"itos": "not a list"}))
    else:
        path.unlink()
        (path.parent / "fields.json").write_text("{]")
    assert classify(["evaluate", "--bundle", str(path.parent), "--data", str(ROOT / "data/sentiment/test.tsv"),
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "retrain" in err
    assert ("vocab-text.json" in err) or ("fields.json" in err)


def test_a_renamed_config_key_is_a_bundle_error_that_says_what_to_do(bundle):
    directory = bundle("ner")
    meta = json.loads((directory / "bundle.json").read_text())
    meta["config"]["model"]["hidden_units"] = meta["config"]["model"].pop("hidden_size")
    (directory / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=r"config does not fit this nlprnn .*'model.hidden_units'.*retrain"):
        runner.load(directory)


def test_weights_that_do_not_fit_the_config_are_a_bundle_error(bundle, capsys):
    directory = bundle("ner")
    meta = json.loads((directory / "bundle.json").read_text())
    meta["config"]["model"]["hidden_size"] = 64
    (directory / "bundle.json").write_text(json.dumps(meta))
    assert ner(["evaluate", "--bundle", str(directory), "--no-progress"]) == 2
    assert "weights do not fit the model its config describes" in capsys.readouterr().err


def test_a_regression_bundle_keeps_its_scale_as_task_state(tmp_path):
    loaded = runner.load(V1 / "regress", device="cpu")  # the old bundle had the scale inside its config
    assert loaded.task.scale == pytest.approx((12.5621, 7.3732), abs=1e-4)
