"""torchtext.legacy.datasets from local copies: each read from a small fixture in its archive's layout,
and PennTreebank from the real files in ../shared/data/ptb."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlprnn import DataError
from nlprnn.legacy import data, datasets

PTB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ptb"


def put(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_imdb_reads_reviews_by_folder(tmp_path):
    for split in ("train", "test"):
        put(tmp_path / "imdb/aclImdb" / split / "pos/0_9.txt", "A fine film.\n")
        put(tmp_path / "imdb/aclImdb" / split / "neg/1_2.txt", "Dull.\n")
    text, label = data.Field(lower=True), data.Field(sequential=False)
    train, test = datasets.IMDB.splits(text, label, root=str(tmp_path))
    assert [(ex.text, ex.label) for ex in train] == [(["a", "fine", "film."], "pos"), (["dull."], "neg")]
    assert len(test) == 2


def test_sst_parses_trees_and_maps_labels(tmp_path):
    tree = "(3 (2 It) (4 (2 works) (2 .)))\n"
    for name in ("train", "dev", "test"):
        put(tmp_path / f"sst/trees/{name}.txt", tree)
    text, label = data.Field(), data.Field(sequential=False)
    train, dev, test = datasets.SST.splits(text, label, root=str(tmp_path), train_subtrees=True)
    assert (dev[0].text, dev[0].label) == (["It", "works", "."], "positive")
    assert [ex.label for ex in train] == ["positive", "neutral", "positive", "neutral", "neutral"]
    fine = datasets.SST(str(tmp_path / "sst/trees/dev.txt"), data.Field(), data.Field(sequential=False), fine_grained=True)
    assert fine[0].label == "positive"


def test_trec_coarse_and_fine_labels(tmp_path):
    put(tmp_path / "trec/train_5500.label", "DESC:manner How did serfdom develop ?\nHUM:ind Who was Lincoln ?\n")
    put(tmp_path / "trec/TREC_10.label", "NUM:date When ?\n")
    text, label = data.Field(), data.Field(sequential=False)
    train, test = datasets.TREC.splits(text, label, root=str(tmp_path))
    assert [ex.label for ex in train] == ["DESC", "HUM"] and train[1].text == ["Who", "was", "Lincoln", "?"]
    fine = datasets.TREC(str(tmp_path / "trec/TREC_10.label"), data.Field(), data.Field(sequential=False),
                         fine_grained=True)
    assert fine[0].label == "NUM:date"


def test_udpos_and_conll2000_read_columns(tmp_path):
    for name in ("train", "dev", "test"):
        put(tmp_path / f"udpos/en-ud-v2/en-ud-tag.v2.{name}.txt", "I\tPRON\tPRP\nrun\tVERB\tVBP\n\nGo\tVERB\tVB\n")
    words, ud, ptb = data.Field(), data.Field(), data.Field()
    train, valid, test = datasets.UDPOS.splits(fields=(("text", words), ("udtags", ud), ("ptbtags", ptb)),
                                               root=str(tmp_path))
    assert (train[0].text, train[0].udtags, train[1].ptbtags) == (["I", "run"], ["PRON", "VERB"], ["VB"])
    rows = "".join(f"w{i} NN B-NP\nran VBD B-VP\n\n" for i in range(20))
    put(tmp_path / "conll2000/train.txt", rows)
    put(tmp_path / "conll2000/test.txt", rows)
    train, val, test = datasets.CoNLL2000Chunking.splits(fields=[("w", data.Field()), ("p", None), ("c", data.Field())],
                                                         root=str(tmp_path))
    assert (len(train), len(val), len(test)) == (18, 2, 20)


def test_translation_pairs_skip_empty_sides(tmp_path):
    for name in ("train", "val", "test2016"):
        put(tmp_path / f"multi30k/{name}.de", "Ein Hund .\n\nZwei Katzen .\n")
        put(tmp_path / f"multi30k/{name}.en", "A dog .\nNothing\nTwo cats .\n")
    src, trg = data.Field(lower=True), data.Field(lower=True)
    train, val, test = datasets.Multi30k.splits(exts=(".de", ".en"), fields=(src, trg), root=str(tmp_path))
    assert [(ex.src, ex.trg) for ex in train] == [(["ein", "hund", "."], ["a", "dog", "."]),
                                                  (["zwei", "katzen", "."], ["two", "cats", "."])]
    put(tmp_path / "wmt14/train.tok.clean.bpe.32000.en", "a b\n")
    put(tmp_path / "wmt14/train.tok.clean.bpe.32000.de", "c d\n")
    (wmt,) = datasets.WMT14.splits(exts=(".en", ".de"), fields=(data.Field(), data.Field()), root=str(tmp_path),
                                   validation=None, test=None)
    assert wmt[0].trg == ["c", "d"]


def test_iwslt_turns_its_xml_and_tagged_files_into_text(tmp_path):
    folder = tmp_path / "iwslt/de-en"
    put(folder / "train.tags.de-en.de", "<url>x</url>\nHallo Welt\n")
    put(folder / "train.tags.de-en.en", "<url>x</url>\nHello world\n")
    for name in ("IWSLT16.TED.tst2013", "IWSLT16.TED.tst2014"):
        for lang, sentence in (("de", "Danke"), ("en", "Thanks")):
            put(folder / f"{name}.de-en.{lang}.xml",
                f'<mteval><refset><doc docid="1"><seg id="1"> {sentence} </seg></doc></refset></mteval>')
    train, valid, test = datasets.IWSLT.splits(exts=(".de", ".en"), fields=(data.Field(), data.Field()),
                                               root=str(tmp_path))
    assert (train[0].src, train[0].trg, valid[0].trg) == (["Hallo", "Welt"], ["Hello", "world"], ["Thanks"])


def test_snli_leaves_out_pairs_without_a_gold_label(tmp_path):
    rows = [{"sentence1": "A man sleeps .", "sentence2": "A man rests .", "gold_label": "entailment",
             "sentence1_binary_parse": "( ( A man ) sleeps )", "sentence2_binary_parse": "( ( A man ) rests )"},
            {"sentence1": "x", "sentence2": "y", "gold_label": "-", "sentence1_binary_parse": "x",
             "sentence2_binary_parse": "y"}]
    for name in ("train", "dev", "test"):
        put(tmp_path / f"snli/snli_1.0/snli_1.0_{name}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    text, label = data.Field(lower=True), data.Field(sequential=False)
    train, dev, test = datasets.SNLI.splits(text, label, root=str(tmp_path))
    assert len(train) == 1 and (train[0].premise, train[0].label) == (["a", "man", "sleeps", "."], "entailment")
    parsed, transitions = datasets.nli.ParsedTextField(), datasets.nli.ShiftReduceField()
    train, _, _ = datasets.SNLI.splits(parsed, data.Field(sequential=False), transitions, root=str(tmp_path))
    assert train[0].premise == ["A", "man", "sleeps"]
    assert train[0].premise_transitions == ["shift", "shift", "reduce", "shift", "reduce"]


def test_babi_stories_batch_latest_sentence_first(tmp_path):
    story = "1 Mary went home.\n2 John ran.\n3 Where is Mary?\thome\t1\n"
    for part in ("train", "valid", "test"):
        put(tmp_path / f"tasks_1-20_v1-2/en-valid/qa1_{part}.txt", story)
    train_iter, _, _ = datasets.BABI20.iters(batch_size=1, root=str(tmp_path), memory_size=3)
    batch = next(iter(train_iter))
    vocab = train_iter.dataset.fields["story"].vocab
    assert batch.story.shape == (1, 3, 3)
    assert [vocab.itos[i] for i in batch.story[0, 0].tolist()] == ["John", "ran", "<pad>"]
    assert [vocab.itos[i] for i in batch.answer[0].tolist()] == ["home"]


PTB_RUN = """
import json, sys
from nlprnn.legacy import data, datasets
text = data.Field(lower=True, batch_first=True)
train, valid = datasets.PennTreebank.splits(text, path=sys.argv[1], test=None)
text.build_vocab(train)
lowered = {t.lower() for line in open(sys.argv[1] + "/ptb.train.txt", encoding="utf-8") for t in line.split()}
extra = sorted(set(train[0].text) - lowered - {"<eos>"})[:10]
train_iter, valid_iter = data.BPTTIterator.splits((train, valid), batch_size=20, bptt_len=35)
batch = next(iter(train_iter))
print(json.dumps({"tokens": len(train[0].text), "vocab": len(text.vocab), "extra": extra,
                  "shape": list(batch.text.shape), "shifted": bool(batch.target[0, 0] == batch.text[0, 1])}))
"""


@pytest.mark.skipif(not (PTB / "ptb.train.txt").exists(), reason="../shared/data/ptb is not beside the checkout")
def test_penn_treebank_from_the_real_files():
    # in a process of its own, as a user's script runs it: inside the CI's long test process this once gave
    # one word type more than the file has (twice in the nojava env, never reproduced: see the stop notes)
    done = subprocess.run([sys.executable, "-c", PTB_RUN, str(PTB)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tokens"] == 929_589 and result["extra"] == []
    assert result["vocab"] == 10_001  # the closed 10k vocabulary (<unk> is a word of it) and <pad>, as torchtext
    assert result["shape"] == [20, 35] and result["shifted"]


def test_a_missing_corpus_is_one_error_with_its_url(tmp_path):
    with pytest.raises(DataError, match=r"penn-treebank/ptb.train.txt.*raw.githubusercontent.com"):
        datasets.PennTreebank.splits(data.Field(), root=str(tmp_path))
