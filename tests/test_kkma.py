"""Kkma, the default tokenizer: real analyzer, bounded time per text, parallel, cached, JVM-free parent."""

import pickle

import pytest

from nlprnn import TokenizerUnavailableError, get_tokenizer

pytestmark = pytest.mark.kkma


@pytest.fixture(scope="module")
def kkma():
    tokenizer = get_tokenizer("kkma", timeout=2.0, workers=2)
    yield tokenizer
    tokenizer.close()


def test_morphemes_with_restored_lemmas(kkma):
    assert kkma("아 더빙.. 진짜 짜증나네요 목소리") == ["아", "아", "더빙", "..", "진짜", "짜증나", "네요", "목소리"]


HAZARDS = ["ㅇ" * 40, "정말 최고의 영화 " + "굿" * 22, "황시욬" * 10, "ㄷ" * 16, "감동 " + "ㅇ" * 16, "야" * 29]


def test_long_repeated_runs_are_shortened_before_kkma_and_cost_an_ordinary_text(kkma):
    import time

    kkma.tokenize_many(["시작 전에 한 번 분석해 둡니다"])  # the JVM and dictionaries are warm from here on
    for text in HAZARDS:
        start = time.perf_counter()
        tokens, report = kkma.tokenize_many([text, "좋은 영화"])
        assert time.perf_counter() - start < 3.0, text  # each took the 10 s bound and a retry before
        assert report.shortened == [0] and report.timed_out == [] and tokens[0]
    tokens, report = kkma.tokenize_many(["ㅋㅋㅋㅋㅋ 재밌다"])  # a short run is left as it is
    assert report.shortened == []


def test_a_text_that_would_run_for_minutes_hits_the_bound_and_is_reported():
    """The time bound stays as the net for triggers that are not shortened up front (here: max_run off)."""
    kkma = get_tokenizer("kkma", timeout=2.0, workers=1, max_run=1000)
    texts = ["좋은 영화", "ㅇ" * 30, "재밌다", "좋은 영화", "ㅇ" * 30]
    try:
        tokens, report = kkma.tokenize_many(texts)
        assert report.timed_out == [1, 4]  # rows of the input, duplicates included
        assert report.computed == 3  # each distinct text analyzed once
        assert tokens[1] == tokens[4] == ["ㅇ", "ㅇ"]  # the fallback: repeats shortened, analyzed again
        assert tokens[0] == tokens[3] == ["좋", "은", "영화"]
        again, cached = kkma.tokenize_many(texts)
        assert cached.computed == 0 and cached.timed_out == [1, 4] and again == tokens
    finally:
        kkma.close()


def test_second_run_is_served_from_cache(kkma):
    texts = ["캐시 확인용 문장입니다", "두 번째 문장"]
    first, report1 = kkma.tokenize_many(texts)
    second, report2 = kkma.tokenize_many(texts)
    assert report1.computed == 2 and report2.computed == 0 and report2.cached == 2
    assert first == second


def test_parallel_output_equals_one_worker(tmp_path):
    texts = [f"{i}번째 리뷰: 배우들의 연기가 좋았다" for i in range(420)]
    parallel = get_tokenizer("kkma", workers=2, cache=False)
    single = get_tokenizer("kkma", workers=1, cache=False)
    try:
        assert parallel.tokenize_many(texts)[0] == single.tokenize_many(texts)[0]
    finally:
        parallel.close()
        single.close()


def test_the_jvm_never_starts_in_the_calling_process(kkma):
    import jpype

    kkma("JVM은 자식 프로세스에서만")
    assert not jpype.isJVMStarted()


def test_tokenizer_pickles_without_its_processes(kkma):
    copy = pickle.loads(pickle.dumps(kkma))
    assert copy.spec() == kkma.spec()
    assert copy("영화") == ["영화"]
    copy.close()


@pytest.mark.parametrize("name, expected", [("okt", ["좋은", "영화"]), ("komoran", ["좋", "은", "영화"])])
def test_other_konlpy_analyzers_run_the_same_way(name, expected):
    tokenizer = get_tokenizer(name, workers=1)
    try:
        assert tokenizer("좋은 영화") == expected
    finally:
        tokenizer.close()


def test_pos_option_keeps_the_tags():
    tokenizer = get_tokenizer("kkma", pos=True, workers=1)
    try:
        assert tokenizer("좋은 영화") == ["좋/VA", "은/ETD", "영화/NNG"]
    finally:
        tokenizer.close()


@pytest.mark.kkma
def test_a_jvm_that_fails_to_start_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("_JAVA_OPTIONS", "-Xmx1k")  # the JVM refuses to start with so small a heap
    kkma = get_tokenizer("kkma", workers=1, cache_dir=str(tmp_path))
    with pytest.raises(TokenizerUnavailableError) as caught:
        kkma("안녕하세요")
    message = str(caught.value)
    assert "Java VM did not start" in message and "Too small maximum heap" in message
    assert "apt-get install default-jre-headless" in message and "whitespace, char, kiwi" in message
