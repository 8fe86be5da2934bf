"""Language-model pretraining, then a classifier or tagger that starts from it (``model.pretrained``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from nlprnn.config import build_config
from nlprnn.errors import ConfigError
from nlprnn.models.pretrained import PretrainedClassifier
from nlprnn.tasks import evaluate, load, train
from nlprnn.tasks.classification import ClassifyConfig
from nlprnn.tasks.language_model import LanguageModelTask, LMConfig
from nlprnn.tasks.pretraining import parameter_groups, unfreeze
from nlprnn.tasks.tagging import NerConfig
from nlprnn.training.bundle import load_bundle
from nlprnn.training.trainer import slanted_triangular

SMALL_LM = {"data.level": "word", "model.num_layers": 2, "model.hidden_size": 24, "model.embedding_dim": 16,
            "train.epochs": 1, "device": "cpu"}


def language_model(out: Path, direction: str, **data: object) -> str:
    overrides = {**SMALL_LM, "data.direction": direction, "out": str(out / direction),
                 **{f"data.{k}": v for k, v in data.items()}}
    train(build_config(LMConfig, overrides=overrides), progress=False)
    return str(out / direction / "bundle")


@pytest.fixture(scope="module")
def review_lms(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A forward and a backward LM on the review texts of the training file (labels not read)."""
    out = tmp_path_factory.mktemp("lms")
    data = {"train": "data/sentiment/train.tsv", "format": "tsv", "tokenizer": "whitespace"}
    return ",".join(language_model(out, d, **data) for d in ("forward", "backward"))


def test_the_slanted_triangular_rate_rises_for_a_tenth_then_falls() -> None:
    factor = slanted_triangular(100, 0.1, 32)
    assert factor(0) == pytest.approx(1 / 32)
    assert factor(10) == pytest.approx(1.0)
    assert factor(5) == pytest.approx((1 + 0.5 * 31) / 32)
    assert factor(100) == pytest.approx(1 / 32)
    assert all(factor(t) > factor(t + 1) for t in range(10, 99))


def test_a_backward_lm_reads_the_same_rows_right_to_left_with_the_same_vocab(tmp_path: Path) -> None:
    configs = [build_config(LMConfig, overrides={**SMALL_LM, "data.train": "data/ner/train.conll",
                                                 "data.format": "conll", "data.direction": d}) for d in
               ("forward", "backward")]
    tasks = [LanguageModelTask(c) for c in configs]
    fields = [t.fields() for t in tasks]
    splits = [t.splits(f, progress=False) for t, f in zip(tasks, fields)]
    forward, backward = (s.train.table.column("text").to_pylist() for s in splits)
    assert forward[0][:3] == ["올해", "박", "지훈"] and forward[0][-1] == "<eos>"
    assert backward == [row[::-1] for row in forward[::-1]]
    for task, f, s in zip(tasks, fields, splits):
        task.build_vocabs(f, s.train)
    assert fields[0]["text"].vocab.itos == fields[1]["text"].vocab.itos  # type: ignore[union-attr]


def test_lm_text_can_come_from_a_tsv_column_or_the_2016_layout() -> None:
    for data in ({"format": "tsv", "text_column": "text", "train": "data/sentiment/train.tsv"},
                 {"format": "klp2016", "train": "data/ner_raw/train.txt"}):
        config = build_config(LMConfig, overrides={**SMALL_LM, **{f"data.{k}": v for k, v in data.items()}})
        task = LanguageModelTask(config)
        rows = task.splits(task.fields(), progress=False).train.table.column("text").to_pylist()
        assert len(rows) > 200 and all(row[-1] == "<eos>" for row in rows)
    with pytest.raises(ConfigError, match="data.text_column applies to data.format=tsv"):
        LanguageModelTask(build_config(LMConfig, overrides={"data.text_column": "document"})).fields()


def test_a_classifier_starts_from_two_lms_and_its_bundle_stands_alone(review_lms: str, tmp_path: Path) -> None:
    copies = [shutil.copytree(Path(p), tmp_path / name / "bundle") for p, name in zip(review_lms.split(","), "fb")]
    review_lms = ",".join(str(p) for p in copies)
    config = build_config(ClassifyConfig, overrides={
        "data.tokenizer": "whitespace", "model.pretrained": review_lms, "model.pretrained_as": "encoder",
        "train.epochs": 2, "device": "cpu", "train.schedule": "slanted_triangular", "out": str(tmp_path / "run")})
    result = train(config, progress=False)
    forward = load_bundle(review_lms.split(",")[0], "lm")
    bundle = load_bundle(tmp_path / "run" / "bundle")
    assert bundle.fields["text"].vocab.itos == forward.fields["text"].vocab.itos  # type: ignore[union-attr]
    for lm in review_lms.split(","):  # the classifier's bundle needs the language models no more
        shutil.rmtree(Path(lm).parent)
    metrics = evaluate(load(tmp_path / "run" / "bundle", device="cpu"), "data/sentiment/test.tsv", progress=False)
    assert metrics["accuracy"] == pytest.approx(result["test"]["accuracy"])


def test_a_bundle_from_before_pretrained_as_loads_with_the_lms_as_its_encoder(review_lms: str, tmp_path: Path) -> None:
    config = build_config(ClassifyConfig, overrides={
        "data.tokenizer": "whitespace", "model.pretrained": review_lms, "model.pretrained_as": "encoder",
        "train.epochs": 1, "device": "cpu", "out": str(tmp_path / "run")})
    result = train(config, progress=False)
    path = tmp_path / "run" / "bundle" / "bundle.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    del saved["config"]["model"]["pretrained_as"]  # as written before the key existed (the default is now inputs)
    path.write_text(json.dumps(saved), encoding="utf-8")
    loaded = load(tmp_path / "run" / "bundle", device="cpu")
    assert isinstance(loaded.model, PretrainedClassifier)
    metrics = evaluate(loaded, "data/sentiment/test.tsv", progress=False)
    assert metrics["accuracy"] == pytest.approx(result["test"]["accuracy"])


def test_layers_unfreeze_from_the_top_one_group_an_epoch(tmp_path: Path) -> None:
    lms = ",".join(language_model(tmp_path, d, train="data/sentiment/train.tsv", format="tsv") for d in
                   ("forward", "backward"))
    config = build_config(ClassifyConfig, overrides={"data.tokenizer": "whitespace", "model.pretrained": lms})
    from nlprnn.tasks.classification import ClassifyTask

    task = ClassifyTask(config)
    fields = task.fields()
    task.build_vocabs(fields, task.splits(fields, progress=False).train)
    model = task.build_model(fields)
    encoder = model.lm_encoder  # the default, TagLM: the LMs' states are inputs of the classifier's own BiLSTM
    groups = encoder.layer_groups()  # embeddings, layer 0, layer 1 (both directions each)
    assert len(groups) == 3
    factors = [g["lr_factor"] for g in parameter_groups(model, encoder, 2.6) or []]
    assert factors == pytest.approx([1.0, 2.6 ** -2, 2.6 ** -1, 1.0])
    trainable = []
    for epoch in range(4):
        unfreeze(encoder, "gradual", epoch)
        trainable.append([all(p.requires_grad for p in g) for g in groups])
    assert trainable == [[False, False, False], [False, False, True], [False, True, True], [True, True, True]]


def test_a_taglm_tagger_keeps_the_frozen_lm_weights(tmp_path: Path) -> None:
    lms = ",".join(language_model(tmp_path, d, train="data/ner/train.conll", format="conll")
                   for d in ("forward", "backward"))
    config = build_config(NerConfig, overrides={"model.pretrained": lms, "model.freeze": "frozen", "device": "cpu",
                                                "train.epochs": 1, "model.hidden_size": 16, "out": str(tmp_path / "ner")})
    train(config, progress=False)
    tagger = load_bundle(tmp_path / "ner" / "bundle").weights
    forward = load_bundle(lms.split(",")[0], "lm").weights
    assert torch.equal(tagger["lm_encoder.encoders.0.rnn.weight_hh_l1"], forward["encoder.rnn.weight_hh_l1"])
    assert torch.equal(tagger["lm_encoder.embeddings.0.weight"], forward["embedding.weight"])


def test_a_taglm_classifier_reads_the_lm_states_beside_its_own_embedding(review_lms: str, tmp_path: Path) -> None:
    config = build_config(ClassifyConfig, overrides={
        "data.tokenizer": "whitespace", "model.pretrained": review_lms, "model.pretrained_as": "inputs",
        "model.freeze": "frozen", "model.hidden_size": 16, "model.embedding_dim": 16, "train.epochs": 1,
        "device": "cpu", "out": str(tmp_path / "run")})
    result = train(config, progress=False)
    forward = load_bundle(review_lms.split(",")[0], "lm")
    bundle = load_bundle(tmp_path / "run" / "bundle")
    weights = bundle.weights
    assert torch.equal(weights["lm_encoder.encoders.0.rnn.weight_hh_l1"], forward.weights["encoder.rnn.weight_hh_l1"])
    assert weights["encoder.rnn.weight_ih_l0"].shape[1] == 16 + 2 * 24  # embedding + forward and backward LM states
    metrics = evaluate(load(tmp_path / "run" / "bundle", device="cpu"), "data/sentiment/test.tsv", progress=False)
    assert metrics["accuracy"] == pytest.approx(result["test"]["accuracy"])
    from nlprnn.tasks.classification import ClassifyTask

    task = ClassifyTask(config)  # a new run's embedding starts from the forward LM's (both 16 wide)
    fields = task.fields()
    task.build_vocabs(fields, task.splits(fields, progress=False).train)
    assert torch.equal(task.build_model(fields).embedding.weight, forward.weights["embedding.weight"])


def test_pretrained_bundles_are_checked(review_lms: str, tmp_path: Path) -> None:
    forward, backward = review_lms.split(",")
    cases = {f"{backward},{forward}": "must be a forward one", str(tmp_path): "is not a bundle",
             f"{forward},{backward},{forward}": "names 3 bundles"}
    for spec, words in cases.items():
        config = build_config(ClassifyConfig, overrides={"data.tokenizer": "whitespace", "model.pretrained": spec,
                                                         "out": str(tmp_path / "x")})
        with pytest.raises(ConfigError, match=words):
            train(config, progress=False)
    config = build_config(ClassifyConfig, overrides={"data.tokenizer": "char", "model.pretrained": forward,
                                                     "out": str(tmp_path / "x")})
    with pytest.raises(ConfigError, match="trained on 'whitespace' tokens"):
        train(config, progress=False)
