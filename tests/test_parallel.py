"""Large columns are split over cores: threads for Arrow kernels (reading, encoding, sorting a vocab),
forked processes for a user's Python tokenizer. Each split must give what one piece of work gives;
here the size thresholds are lowered so that the project's small inputs take the split paths."""

import os
import random
import sys
import types
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pyarrow as pa
import pytest

import nlprnn.parallel as parallel
from nlprnn.data.columns import encode
from nlprnn.data.readers import read_delimited, read_tsv, read_tsv_fast
from nlprnn.data.vocab import frequency_order
from nlprnn.errors import DataError
from nlprnn.tokenizers import get_tokenizer


@pytest.fixture
def split_everything(monkeypatch):
    """Every column counts as large, and there are two cores to split over."""
    monkeypatch.setattr(parallel, "THREADED_ROWS", 1)
    monkeypatch.setattr(parallel, "FORKED_ROWS", 1)
    monkeypatch.setattr(parallel, "cpu_count", lambda: 2)


@pytest.fixture
def can_fork(split_everything):
    if not parallel.fork_is_safe():  # e.g. an earlier Kkma test started a JVM in this process
        pytest.skip("forking is refused in this test process (a JVM runs here); tox -e nojava runs this test")


def korean_words(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("가나다라ab é") for _ in range(rng.randint(0, 6))) for _ in range(n)]


def test_a_tsv_read_in_pieces_equals_the_line_by_line_read(write, split_everything):
    lines = [f"{i}\t{text}\t{i % 2}" for i, text in enumerate(korean_words(300))]
    path = write("big.tsv", "id\tdocument\tlabel\n" + "\n".join(lines) + "\n")
    fast = read_tsv_fast(path)
    assert fast is not None and fast.table.num_rows == 300
    careful = read_delimited(path, "tsv", skip_header=True)
    assert fast.table.combine_chunks().equals(careful.table.combine_chunks())
    assert fast.lines.tolist() == list(range(2, 302))


def test_a_quoted_file_is_cut_only_between_rows(write, split_everything, monkeypatch):
    # the middle line end of this file lies inside a quoted value: a cut there would make two rows of one
    rows = ['1\t"first line\n' + "\n".join(f"still {i}" for i in range(20)) + '\n"', '2\t"a ""quoted"" word"',
            '3\t"a"b"c', '4\tplain "mid" quotes', '5\t"tab\there"']
    path = write("quoted.tsv", "id\ttext\n" + "\n".join(rows) + "\n")
    one_piece = read_tsv_fast(path, quoted=True)
    assert one_piece is not None
    assert one_piece.table.column("text").to_pylist()[1:] == ['a "quoted" word', 'ab"c', 'plain "mid" quotes', "tab\there"]
    for cores in (2, 3, 8):
        monkeypatch.setattr(parallel, "cpu_count", lambda cores=cores: cores)
        pieces = read_tsv_fast(path, quoted=True)
        assert pieces is not None and pieces.table.equals(one_piece.table)
        assert pieces.lines.tolist() == one_piece.lines.tolist() == [2, 24, 25, 26, 27]


def test_random_quoted_files_read_in_pieces_as_in_one(write, split_everything, monkeypatch):
    rng = random.Random(3)

    def value() -> str:
        if rng.random() < 0.5:  # unquoted, maybe with quotes inside
            return "".join(rng.choice(["a", "가", " ", '"']) for _ in range(rng.randint(1, 5))).lstrip('"') or "x"
        inner = "".join(rng.choice(["a", "\t", "\n", '""', " "]) for _ in range(rng.randint(1, 8)))
        return '"' + inner + '"' + rng.choice(["", "z", 'z"q'])

    compared = 0
    for _ in range(300):
        text = "".join(f"{value()}\t{value()}\n" for _ in range(rng.randint(1, 30)))
        path = write("random.tsv", text)
        monkeypatch.setattr(parallel, "THREADED_ROWS", 10**9)
        one_piece = read_tsv_fast(path, skip_header=False, quoted=True)
        monkeypatch.setattr(parallel, "THREADED_ROWS", 1)
        for cores in (2, 5):
            monkeypatch.setattr(parallel, "cpu_count", lambda cores=cores: cores)
            pieces = read_tsv_fast(path, skip_header=False, quoted=True)
            assert (pieces is None) == (one_piece is None), text
            if pieces is not None and one_piece is not None:
                assert pieces.table.equals(one_piece.table) and pieces.lines.tolist() == one_piece.lines.tolist(), text
                compared += 1
    assert compared > 50  # enough files that Arrow reads (the others go to the careful reader, both ways)


def test_a_bad_line_in_a_later_piece_is_still_named(write, split_everything):
    lines = [f"{i}\t문장 {i}\t1" for i in range(200)]
    lines[170] = "170\t탭이\t하나 더\t1"
    path = write("bad.tsv", "id\tdocument\tlabel\n" + "\n".join(lines) + "\n")
    assert read_tsv_fast(path) is None
    with pytest.raises(DataError, match=r"bad\.tsv:172: expected 3 columns"):
        read_tsv(path)


def test_a_blank_line_sends_the_file_to_the_careful_reader(write):
    path = write("blank.tsv", "a\tb\n1\t2\n\n3\t4\n")
    assert read_tsv_fast(path) is None  # the careful reader keeps line numbers right


def test_encoding_in_parts_gives_each_value_one_id(split_everything):
    words = korean_words(5000)
    encoded = encode(pa.array(["x"] * 3 + words).slice(3))  # a sliced array, as a dataset column can be
    dictionary = encoded.dictionary.to_pylist()
    assert len(set(dictionary)) == len(dictionary)
    assert [dictionary[i] for i in encoded.indices] == words


def test_a_vocab_sorted_in_ranges_keeps_torchtexts_order(split_everything):
    rng = random.Random(1)
    tokens = sorted(set(korean_words(20000, seed=2)))
    rng.shuffle(tokens)
    counts = np.array([rng.choice([1, 1, 1, 2, 3, 50]) for _ in tokens])
    order = frequency_order(pa.array(tokens), counts)
    assert order.tolist() == sorted(range(len(tokens)), key=lambda i: (-counts[i], tokens[i]))


@pytest.mark.parametrize("largest_count", [3, 70_000])  # counts' ranks within 16 bits, and beyond
def test_tokens_alike_in_their_first_16_bytes_still_sort_by_the_whole_token(split_everything, largest_count):
    rng = random.Random(largest_count)
    stems = ["", "ㅋㅋㅋㅋㅋ", "ㅋㅋㅋㅋㅋㅋ", "abcdefgh", "abcdefghijklmnop", "영화가정말재미있", "a\x00"]
    tokens = sorted({rng.choice(stems) + "".join(rng.choice("ㅋa\x00é가") for _ in range(rng.randint(0, 4)))
                     for _ in range(3000)})
    rng.shuffle(tokens)
    counts = np.array([rng.choice([1, 1, 2, largest_count]) for _ in tokens])
    array = pa.array(["padding"] + tokens).slice(1)  # a sliced array, as the merged counts can be
    order = frequency_order(array, counts)
    assert order.tolist() == sorted(range(len(tokens)), key=lambda i: (-counts[i], tokens[i]))


def test_a_python_tokenizer_runs_in_forked_workers_with_the_same_result(can_fork):
    texts = [" ".join(korean_words(5, seed=i)) for i in range(101)]
    tokenizer = get_tokenizer(lambda text: text.split(" "))  # a lambda: reaches the workers by fork
    tokens = tokenizer.tokenize_arrow(pa.array(texts))
    assert tokens is not None and tokens.to_pylist() == [t.split(" ") for t in texts]


def test_an_error_in_a_forked_tokenizer_reaches_the_caller(can_fork):
    def tokenize(text: str) -> list[str]:
        if text == "bad":
            raise ValueError("cannot tokenize 'bad'")
        return text.split()

    with pytest.raises(ValueError, match="cannot tokenize 'bad'"):
        get_tokenizer(tokenize).tokenize_arrow(pa.array(["good"] * 50 + ["bad"]))


def test_a_worker_that_dies_is_an_error_not_a_hang(can_fork):
    def tokenize(text: str) -> list[str]:
        if text == "crash":
            os._exit(3)  # as a segfault in C code or the OOM killer would end it
        return text.split()

    with pytest.raises(BrokenProcessPool):
        get_tokenizer(tokenize).tokenize_arrow(pa.array(["good"] * 50 + ["crash"]))


def test_no_fork_once_a_jvm_runs_in_the_process(split_everything, monkeypatch):
    monkeypatch.setitem(sys.modules, "jpype", types.SimpleNamespace(isJVMStarted=lambda: True))
    assert not parallel.fork_is_safe()
    assert get_tokenizer(lambda text: text.split()).tokenize_arrow(pa.array(["a b"] * 10)) is None  # done here
