"""Named entities from raw text: the 2016-corpus and character-BIO readers, aligning analyzer morphemes
to the text, and ``ner predict/evaluate --format text`` end to end on the project's own files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlprnn.data.entity_files import (
    Span,
    char_tags,
    parse_markup,
    read_char_bio,
    read_klp2016,
    read_raw,
    spans_of_char_tags,
)
from nlprnn.errors import ConfigError, DataError
from nlprnn.tasks.ner_text import characters, entity_spans, project, rename_types
from nlprnn.tokenizers.offsets import Morpheme, align, sejong_tag, word_starts
from pipelines.ner import main as ner

RAW = Path("data/ner_raw")


def write(tmp_path: Path, text: str, name: str = "file.txt", crlf: bool = False) -> str:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n" if crlf else "\n").encode("utf-8"))
    return str(path)


KLP = """; 홍길동이 서울에 갔다.
$<홍길동:PS>이 <서울:LC>에 갔다.
1\t홍길동\tNNP\tB_PS
1\t이\tJKS\tO
2\t서울\tNNP\tB_LC
2\t에\tJKB\tO
3\t가\tVV\tO
3\t았\tEP\tO
3\t다\tEF\tO
3\t.\tSF\tO
; 국립 중앙 박물관
$<국립 중앙 박물관:OG>
1\t국립\tNNG\tB_OG
2\t중앙\tNNG\tI
3\t박물관\tNNG\tI
"""


def test_markup_gives_the_text_and_character_spans() -> None:
    assert parse_markup("<홍길동:PS>이 왔다") == ("홍길동이 왔다", [Span(0, 3, "PS")])
    assert parse_markup("전<우주:LC>가 <물질공간>으로") == ("전우주가 <물질공간>으로", [Span(1, 3, "LC")])


def test_the_2016_layout_reads_as_morpheme_columns_without_blank_lines_and_with_crlf(tmp_path: Path) -> None:
    read, raw = read_klp2016(write(tmp_path, KLP, crlf=True))
    assert read.table.column("column0").to_pylist()[1] == ["국립", "중앙", "박물관"]
    assert read.table.column("column3").to_pylist() == [["B-PS", "O", "B-LC", "O", "O", "O", "O", "O"],
                                                        ["B-OG", "I-OG", "I-OG"]]
    # the eojeol numbers become word-start flags: where the spaces were
    assert read.table.column("column2").to_pylist()[0] == ["1", "0", "1", "0", "1", "0", "0", "0"]
    assert raw.texts == ["홍길동이 서울에 갔다.", "국립 중앙 박물관"]
    assert raw.entities == [[Span(0, 3, "PS"), Span(5, 7, "LC")], [Span(0, 9, "OG")]]
    assert list(read.lines) == [3, 13]  # each sentence's first morpheme line


def test_a_bare_i_with_nothing_to_continue_is_an_error_or_a_counted_repair(tmp_path: Path) -> None:
    path = write(tmp_path, KLP.replace("1\t이\tJKS\tO", "1\t이\tJKS\tO").replace("3\t가\tVV\tO", "3\t가\tVV\tI"))
    with pytest.raises(DataError) as error:
        read_klp2016(path)
    assert error.value.line == 7 and error.value.code == "bad_tags"
    assert "repair_tags" in error.value.remedies
    read, raw = read_klp2016(path, repair_tags=True)
    assert read.table.column("column3").to_pylist()[0][4] == "O"
    assert [p.line for p in raw.repaired] == [7]
    _, skipped = read_klp2016(path, on_error="skip")
    assert len(skipped.texts) == 1 and skipped.skipped[0].line == 7


def test_markup_that_disagrees_with_the_morpheme_tags_is_kept_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path, KLP.replace("$<홍길동:PS>이 <서울:LC>에 갔다.", "$<홍길동:PS>이 서울에 갔다."))
    read, raw = read_klp2016(path)
    assert len(raw.texts) == 2 and raw.entities is not None and raw.entities[0] == [Span(0, 3, "PS")]
    assert "['PS'] but the morpheme tags ['PS', 'LC']" in raw.repaired[0].problem


def test_broken_2016_files_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="expected 4 tab-separated columns") as error:
        read_klp2016(write(tmp_path, KLP.replace("1\t이\tJKS\tO", "1\t이\tJKS")))
    assert error.value.line == 4
    with pytest.raises(DataError, match="no `\\$` markup line") as error:
        read_klp2016(write(tmp_path, KLP.replace("$<홍길동:PS>이 <서울:LC>에 갔다.\n", "")))
    assert error.value.line == 1


def test_character_bio_files_keep_spaces_as_characters(tmp_path: Path) -> None:
    path = write(tmp_path, "## 1\t서울 대학교\n서\tB-OG\n울\tI-OG\n \tI-OG\n대\tI-OG\n학\tI-OG\n교\tI-OG\n\n"
                           "## 2\n김\tB_PS\n씨\tO\n")
    raw = read_char_bio(path)
    assert raw.texts == ["서울 대학교", "김씨"]
    assert raw.entities == [[Span(0, 6, "OG")], [Span(0, 1, "PS")]]
    assert read_raw(path).texts == raw.texts  # told apart from the other layouts by its lines
    with pytest.raises(DataError, match="expected one character") as error:
        read_char_bio(write(tmp_path, "서울\tB-LC\n", "bad.bio"))
    assert error.value.line == 1


def test_character_tags_and_spans_are_inverses() -> None:
    spans = [Span(0, 3, "PS"), Span(3, 5, "PS"), Span(7, 8, "LC")]
    tags = char_tags(9, spans)
    assert tags[:6] == ["B-PS", "I-PS", "I-PS", "B-PS", "I-PS", "O"]
    assert spans_of_char_tags(tags) == spans


def test_restored_lemmas_are_aligned_to_the_characters_they_came_from() -> None:
    # Kkma gives 하 + 았 for 했: not in the text, so they share the characters between their neighbours
    assert align("나도 했다.", ["나", "도", "하", "았", "다", "."]) == [
        (0, 1, True), (1, 2, True), (3, 4, False), (3, 4, False), (4, 5, True), (5, 6, True)]
    # a lemma at the end of a word (이 + ㄴ for 인) does not throw off the words after it
    assert align("적인 작용을 한다.", ["적", "이", "ㄴ", "작용", "을", "하", "ㄴ다", "."]) == [
        (0, 1, True), (1, 2, False), (1, 2, False), (3, 5, True), (5, 6, True), (7, 9, False), (7, 9, False),
        (9, 10, True)]
    morphemes = [Morpheme("나", "NP", 0, 1), Morpheme("도", "JX", 1, 2), Morpheme("하", "VV", 3, 4),
                 Morpheme("었", "EP", 3, 4), Morpheme("다", "EF", 4, 5)]
    assert word_starts("나도 했다", morphemes) == ["1", "0", "1", "0", "0"]


def test_analyzer_tags_are_brought_to_the_sejong_set() -> None:
    assert [sejong_tag(t) for t in ("VV+EP", "VV-R", "SSO", "NNG", "W_URL")] == ["VV", "VV", "SS", "NNG", "SL"]


def test_morpheme_tags_become_character_spans_of_the_text() -> None:
    text = "경기 안양시에서 왔다"
    morphemes = [Morpheme("경기", "NNP", 0, 2), Morpheme("안양시", "NNP", 3, 6), Morpheme("에서", "JKB", 6, 8),
                 Morpheme("오", "VV", 9, 10, False), Morpheme("았", "EP", 9, 10, False), Morpheme("다", "EF", 10, 11)]
    tags = ["B-LC", "I-LC", "O", "O", "O", "O"]
    assert entity_spans(text, morphemes, tags) == [Span(0, 6, "LC")]


def test_a_character_tagger_reads_each_character_with_the_morpheme_it_lies_in() -> None:
    text = "안양시민이 했다"
    morphemes = [Morpheme("안양시민", "NNG", 0, 4), Morpheme("이", "JKS", 4, 5), Morpheme("하", "VV", 6, 7, False),
                 Morpheme("았", "EP", 6, 7, False), Morpheme("다", "EF", 7, 8)]
    tokens = characters(text, morphemes)
    assert [(t.form, t.tag, t.start) for t in tokens] == [
        ("안양시민", "B-NNG", 0), ("안양시민", "I-NNG", 1), ("안양시민", "I-NNG", 2), ("안양시민", "E-NNG", 3),
        ("이", "S-JKS", 4), ("했", "S-VV", 6), ("다", "S-EF", 7)]  # a restored lemma: the text as written
    assert word_starts(text, tokens) == ["1", "0", "0", "0", "0", "1", "0"]
    # an entity that ends inside a morpheme, which no morpheme tagger can give, is exact over characters
    tags = project(tokens, [Span(0, 3, "LC")])
    assert tags == ["B-LC", "I-LC", "I-LC", "O", "O", "O", "O"]
    assert entity_spans(text, tokens, tags) == [Span(0, 3, "LC")]
    assert project(morphemes, [Span(0, 3, "LC")]) == ["B-LC", "O", "O", "O", "O"]
    assert entity_spans(text, morphemes, ["B-LC", "O", "O", "O", "O"]) == [Span(0, 4, "LC")]


def test_types_of_another_corpus_are_mapped_and_the_rest_dropped() -> None:
    rename = rename_types("PER=PS,LOC=LC")
    assert [rename(t) for t in ("B-PER", "I-LOC", "B-POH", "O")] == ["B-PS", "I-LC", "O", "O"]
    with pytest.raises(ConfigError, match="SOURCE=TARGET"):
        rename_types("PER")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A morpheme tagger trained on the project's 2016-layout files, with POS and word-start features."""
    pytest.importorskip("kiwipiepy")
    out = tmp_path_factory.mktemp("ner_raw")
    assert ner(["train", "--data", str(RAW / "train.txt"), "--valid", str(RAW / "dev.txt"), "--epochs", "6",
                "--set", "data.units=morphemes",
                "--set", "data.feature_column=1", "--set", "data.word_start_column=2", "--set", "model.hidden_size=32",
                "--set", "model.embedding_dim=32", "--out", str(out), "--no-progress"]) == 0
    return out / "bundle"


def test_predict_raw_sentences_gives_entities_as_spans_of_the_text(bundle: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "entities.jsonl"
    assert ner(["predict", "--bundle", str(bundle), "--data", str(RAW / "sentences.txt"), "--format", "text",
                "--output", str(out), "--no-progress"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    texts = (RAW / "sentences.txt").read_text(encoding="utf-8").splitlines()
    assert [r["text"] for r in records] == texts
    found = [e for r in records for e in r["entities"]]
    assert found and all(r["text"][e["start"]:e["end"]] == e["text"] for r in records for e in r["entities"])
    assert {e["type"] for e in found} <= {"PS", "LC", "OG", "DT", "TI"}


def test_evaluate_raw_text_scores_characters_beside_the_gold_morphemes(bundle: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert ner(["evaluate", "--bundle", str(bundle), "--data", str(RAW / "dev.txt"), "--format", "text",
                "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "analyzer kiwi" in out and "character-level entities: precision" in out
    assert "morpheme-level entities, the file's own morphemes" in out
    # the character-level BIO file holds the same sentences: the same character-level figures
    assert ner(["evaluate", "--bundle", str(bundle), "--data", str(RAW / "dev.bio"), "--format", "text",
                "--no-progress"]) == 0
    bio = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "character-level" in x).split("entities:")[1]
    assert line == next(x for x in bio.splitlines() if "character-level" in x).split("entities:")[1]


def test_an_analyzer_with_another_tag_set_is_refused(bundle: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from nlprnn.tasks import runner
    from nlprnn.tasks.ner_text import check_tag_set
    from nlprnn.tokenizers.offsets import Morpheme

    loaded = runner.load(bundle, "ner")
    loaded.task.config.data.format = "text"
    data = loaded.task.read(str(RAW / "sentences.txt"), loaded.fields, labelled=False)  # type: ignore[arg-type]
    data.morphemes = [[Morpheme(m.form, {"JKS": "JKS", "NNP": "NNP"}.get(m.tag, "EFN"), m.start, m.end)
                       for m in row] for row in data.morphemes]  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="gives POS tags the model never saw") as error:
        check_tag_set(data, loaded.fields)  # type: ignore[arg-type]
    assert error.value.key == "data.analyzer"


def test_text_files_have_nothing_to_score_against(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ner(["evaluate", "--bundle", str(bundle), "--data", str(RAW / "sentences.txt"), "--format", "text",
                "--no-progress"]) == 2
    assert "holds text only" in capsys.readouterr().err


def test_a_wrong_format_or_analyzer_flag_names_the_key(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for flag, value in (("--format", "xml"), ("--analyzer", "nope")):
        assert ner(["evaluate", "--bundle", str(bundle), "--data", str(RAW / "dev.txt"), flag, value,
                    "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: config key 'data.{flag[2:]}'") and value in err


@pytest.fixture(scope="module")
def char_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A character tagger (``data.units=characters``) trained on the 2016-layout file's own morphemes and
    kiwi's, its best epoch picked on the characters of the dev file's raw sentences."""
    pytest.importorskip("kiwipiepy")
    out = tmp_path_factory.mktemp("ner_chars")
    assert ner(["train", "--data", str(RAW / "train.txt"), "--valid", str(RAW / "dev.txt"), "--epochs", "4",
                "--set", "data.units=characters", "--set", "data.train_on=both", "--set", "data.feature_column=1",
                "--set", "data.word_start_column=2", "--set", "model.hidden_size=32", "--set", "model.embedding_dim=32",
                "--out", str(out), "--no-progress"]) == 0
    return out / "bundle"


def test_a_character_tagger_is_scored_on_characters_from_the_analyzer_and_from_the_files_morphemes(
        char_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert ner(["evaluate", "--bundle", str(char_bundle), "--data", str(RAW / "dev.txt"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "analyzer kiwi" in out and "character-level entities: precision" in out
    assert "character-level entities, the file's own morphemes (no analyzer)" in out
    entities = tmp_path / "entities.jsonl"
    assert ner(["predict", "--bundle", str(char_bundle), "--data", str(RAW / "sentences.txt"), "--format", "text",
                "--output", str(entities), "--no-progress"]) == 0
    records = [json.loads(line) for line in entities.read_text(encoding="utf-8").splitlines()]
    assert len(records) == len((RAW / "sentences.txt").read_text(encoding="utf-8").splitlines())
    assert all(r["text"][e["start"]:e["end"]] == e["text"] for r in records for e in r["entities"])


def test_characters_of_a_conll_file_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ner(["train", "--data", "data/ner/train.conll", "--valid", "data/ner/dev.conll", "--set", "data.format=conll",
                "--set", "data.units=characters", "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "data.units" in err and "CoNLL file" in err


def test_the_default_tagger_tags_the_characters_of_raw_sentences_and_conll_stays_morphemes() -> None:
    from nlprnn.config import build_config
    from nlprnn.tasks.tagging import NerConfig, NerTask

    default = build_config(NerConfig)
    assert (default.data.train, default.data.valid) == ("data/ner_raw/train.txt", "data/ner_raw/dev.txt")
    assert NerTask(default).units == "characters" and default.data.units == "characters"  # the bundle records it
    conll = build_config(NerConfig, overrides={"data.train": "data/ner/train.conll", "data.valid": "data/ner/dev.conll"})
    assert NerTask(conll).units == "morphemes"
    chosen = build_config(NerConfig, overrides={"data.units": "morphemes"})
    assert NerTask(chosen).units == "morphemes"
