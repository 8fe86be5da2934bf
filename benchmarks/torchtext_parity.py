"""Side-by-side values of torchtext 0.11's legacy API and ``nlprnn.legacy`` on the same inputs.

Run it twice, under each library's Python, and compare the JSON (``--compare A.json B.json``)::

    /path/to/py39-torchtext/bin/python benchmarks/torchtext_parity.py --lib torchtext > tt.json
    python benchmarks/torchtext_parity.py --lib nlprnn > nl.json
    python benchmarks/torchtext_parity.py --compare tt.json nl.json

Each case is a piece of tutorial-style code; what it prints is the values a user's code would see
(token lists, ids, tensor contents, sizes, exception types), so a silent difference shows as a row.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from typing import Any

CASES: dict[str, Callable[[Any, Any, str], Any]] = {}


def case(function: Callable[[Any, Any, str], Any]) -> Callable[[Any, Any, str], Any]:
    CASES[function.__name__] = function
    return function


def write(folder: str, name: str, text: str) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def plain(value: Any) -> Any:
    """Tensors, tuples and counters as JSON-ready lists and dicts."""
    import torch

    if isinstance(value, torch.Tensor):
        return {"tensor": value.tolist(), "dtype": str(value.dtype).replace("torch.", "")}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return value


TSV = "".join(f"{i}\t{'good' if i % 3 else 'bad'} movie number {i} {'!' * (i % 4)}\t{i % 2}\n" for i in range(20))


@case
def peeked_iterator_pass(data: Any, vocab: Any, tmp: str) -> Any:
    text, label = data.Field(), data.Field(sequential=False)
    ds = data.TabularDataset(write(tmp, "a.tsv", TSV), "tsv", [("id", None), ("text", text), ("label", label)])
    text.build_vocab(ds)
    label.build_vocab(ds)
    it = data.Iterator(ds, batch_size=2, shuffle=False, sort=False, device="cpu")
    next(iter(it))
    first_pass = [plain(b.label) for b in it]
    return {"batches": len(first_pass), "labels": first_pass, "second_pass": len(list(it))}


@case
def split_sizes(data: Any, vocab: Any, tmp: str) -> Any:
    text = data.Field()
    rows = "".join(f"row{i}\n" for i in range(30))
    ds5 = data.TabularDataset(write(tmp, "five.csv", rows[:25]), "csv", [("text", text)])
    ds30 = data.TabularDataset(write(tmp, "thirty.csv", rows), "csv", [("text", text)])
    out = {"split_0.5_of_5": [len(p) for p in ds5.split(0.5)],
           "split_0.66_0.33_0.01_of_30": [len(p) for p in ds30.split([0.66, 0.33, 0.01])],
           "split_0.6_0.3_0.1_of_30": [len(p) for p in ds30.split([0.6, 0.3, 0.1])]}
    random.seed(1234)
    out["seeded_split_rows"] = [[ex.text[0] for ex in part] for part in ds30.split([0.7, 0.2, 0.1])]
    out["seeded_split_with_state"] = [[ex.text[0] for ex in part]
                                      for part in ds30.split(0.8, random_state=random.getstate())]
    out["global_state_after"] = random.random()
    return out


@case
def json_list_values(data: Any, vocab: Any, tmp: str) -> Any:
    lines = [json.dumps({"quote": ["To", "be", "or", "not"], "score": "1"}),
             json.dumps({"quote": ["that", "is"], "score": "0"})]
    quote, score = data.Field(lower=True), data.Field(sequential=False)
    ds = data.TabularDataset(write(tmp, "q.json", "\n".join(lines) + "\n"), "json",
                             {"quote": ("quote", quote), "score": ("score", score)})
    return [ex.quote for ex in ds]


@case
def numeric_postprocessing(data: Any, vocab: Any, tmp: str) -> Any:
    import torch

    number = data.Field(sequential=False, use_vocab=False, postprocessing=lambda xs, _: [x * 2 for x in xs])
    floats = data.Field(sequential=False, use_vocab=False, dtype=torch.float)
    direct = number.numericalize(["1", "3"])
    ds = data.TabularDataset(write(tmp, "n.tsv", "1\t0.5\n3\t1.5\n"), "tsv", [("n", number), ("f", floats)])
    batch = next(iter(data.Iterator(ds, batch_size=2, shuffle=False, sort=False, device="cpu")))
    return {"numericalize": plain(direct), "through_iterator": plain(batch.n), "floats": plain(batch.f)}


@case
def language_modeling(data: Any, vocab: Any, tmp: str) -> Any:
    datasets = sys.modules[data.__name__.rsplit(".", 1)[0] + ".datasets"]
    text = "".join(f"w{i % 7} w{(i * 3) % 5} x{i}\n" for i in range(11))
    field = data.Field(lower=True)
    ds = datasets.LanguageModelingDataset(write(tmp, "lm.txt", text), field)
    field.build_vocab(ds)
    it = data.BPTTIterator(ds, batch_size=4, bptt_len=3, device="cpu")
    batches = [(plain(b.text), plain(b.target)) for b in it]
    splits = data.BPTTIterator.splits((ds, ds), batch_size=3, bptt_len=5, device="cpu")
    return {"examples": len(ds), "tokens": len(ds[0].text), "first_tokens": ds[0].text[:8], "len": len(it),
            "batches": batches, "itos": field.vocab.itos, "splits": [len(s) for s in splits]}


@case
def vocab_freqs_and_specials(data: Any, vocab: Any, tmp: str) -> Any:
    text = data.Field()
    ds = data.TabularDataset(write(tmp, "f.tsv", TSV), "tsv", [("id", None), ("text", text), ("label", None)])
    text.build_vocab(ds, max_size=8, min_freq=3)
    plain_vocab = vocab.Vocab(Counter("a a b b b c".split()), specials=["<pad>", "<eos>"])
    last = vocab.Vocab(Counter("a a b b b c".split()), specials=["<unk>", "<pad>"], specials_first=False)
    return {"freqs": dict(text.vocab.freqs), "itos": text.vocab.itos,
            "specials_itos": plain_vocab.itos, "specials_stoi": dict(plain_vocab.stoi),
            "last_itos": last.itos, "last_unk": last.stoi["zzz"]}


@case
def unknown_vectors(data: Any, vocab: Any, tmp: str) -> Any:
    out = {}
    for name, value in (("unknown name", "fasttext.english.300d"), ("list", ["fasttext.english.300d"]),
                        ("dict", {"word": [1, 2, 3]})):
        try:
            vocab.Vocab(Counter({"a": 1}), vectors=value)
            out[name] = "accepted"
        except Exception as error:  # noqa: BLE001 - the type is the answer
            out[name] = [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"][0]
    return out


@case
def quoted_csv_newline(data: Any, vocab: Any, tmp: str) -> Any:
    text, label = data.Field(), data.Field(sequential=False)
    csv_path = write(tmp, "nl.csv", '"hello \n world",1\n"no newline",0\n')
    tsv_path = write(tmp, "nl.tsv", '"hello \n world"\t1\n"a ""quoted"" word"\t0\n')
    return {"csv": [(ex.text, ex.label) for ex in data.TabularDataset(csv_path, "csv", [("t", text), ("l", label)])
                    for ex in [type("E", (), {"text": ex.t, "label": ex.l})]],
            "tsv": [(ex.t, ex.l) for ex in data.TabularDataset(tsv_path, "tsv", [("t", text), ("l", label)])]}


@case
def nested_characters_through_iterator(data: Any, vocab: Any, tmp: str) -> Any:
    chars = data.NestedField(data.Field(tokenize=list, init_token="<w>", eos_token="</w>"),
                             init_token="<s>", eos_token="</s>", include_lengths=True)
    words = data.Field(include_lengths=True)
    ds = data.TabularDataset(write(tmp, "c.tsv", "john loves mary\nmary cries\n"), "tsv",
                             [(("words", "chars"), (words, chars))])
    chars.build_vocab(ds)
    words.build_vocab(ds)
    batch = next(iter(data.Iterator(ds, batch_size=2, shuffle=False, sort=False, device="cpu")))
    return {"itos": chars.vocab.itos, "chars": plain(batch.chars), "words": plain(batch.words)}


@case
def label_field_and_batch_unpacking(data: Any, vocab: Any, tmp: str) -> Any:
    text, label = data.Field(batch_first=True), data.LabelField()
    ds = data.TabularDataset(write(tmp, "l.tsv", TSV), "tsv", [("id", None), ("text", text), ("label", label)])
    text.build_vocab(ds)
    label.build_vocab(ds)
    x, y = next(iter(data.Iterator(ds, batch_size=3, shuffle=False, sort=False, device="cpu")))
    return {"label_stoi": dict(label.vocab.stoi), "x": plain(x), "y": plain(y)}


@case
def field_pickle_round_trip(data: Any, vocab: Any, tmp: str) -> Any:
    import torch

    text = data.Field(lower=True, include_lengths=True, stop_words=["the"])
    ds = data.TabularDataset(write(tmp, "p.tsv", TSV), "tsv", [("id", None), ("text", text), ("label", None)])
    text.build_vocab(ds)
    torch.save(text, os.path.join(tmp, "f.pt"))
    loaded = torch.load(os.path.join(tmp, "f.pt"))
    again = pickle.loads(pickle.dumps(text))
    sample = text.pad([["good", "movie", "zzz"], ["bad"]])
    return {"equal": loaded == text and again == text,
            "ids": plain(loaded.numericalize(sample)), "preprocess": loaded.preprocess("The GOOD Movie\n")}


@case
def padding_and_lengths(data: Any, vocab: Any, tmp: str) -> Any:
    out = {}
    batch = [["a", "b", "c", "d"], ["e"], ["f", "g"]]
    for name, kwargs in (("fix3_init", {"fix_length": 3, "init_token": "<s>"}),
                         ("eos_pad_first", {"eos_token": "</s>", "pad_first": True}),
                         ("truncate_first", {"fix_length": 2, "truncate_first": True, "include_lengths": True})):
        out[name] = data.Field(**kwargs).pad(batch)
    return out


def put(root: str, relative: str, text: str) -> None:
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


@case
def corpora_from_local_files(data: Any, vocab: Any, tmp: str) -> Any:
    datasets = sys.modules[data.__name__.rsplit(".", 1)[0] + ".datasets"]
    put(tmp, "trec/train_5500.label", "DESC:manner How did serfdom develop ?\nHUM:ind Who was Lincoln ?\n")
    put(tmp, "trec/TREC_10.label", "NUM:date When ?\n")
    for name in ("train", "dev", "test"):
        put(tmp, f"udpos/en-ud-v2/en-ud-tag.v2.{name}.txt", "I\tPRON\tPRP\nrun\tVERB\tVBP\n\nGo\tVERB\tVB\n")
    rows = "".join(f"w{i} NN B-NP\nran VBD B-VP\n\n" for i in range(20))
    put(tmp, "conll2000/train.txt", rows)
    put(tmp, "conll2000/test.txt", rows)
    for name in ("train", "val", "test2016"):
        put(tmp, f"multi30k/{name}.de", "Ein Hund .\n\nZwei Katzen .\n")
        put(tmp, f"multi30k/{name}.en", "A dog .\nNothing\nTwo cats .\n")
    story = "1 Mary went home.\n2 John ran.\n3 Where is Mary?\thome\t1\n4 Sandra left.\n5 Where is John?\tthere\t2\n"
    for part in ("train", "valid", "test"):
        put(tmp, f"tasks_1-20_v1-2/en-valid/qa1_{part}.txt", story)
    out: dict[str, Any] = {}
    text, label = data.Field(), data.Field(sequential=False)
    train, test = datasets.TREC.splits(text, label, root=tmp)
    out["trec"] = [(ex.text, ex.label) for ex in train] + [(ex.text, ex.label) for ex in test]
    parts = datasets.UDPOS.splits(fields=(("text", data.Field()), ("ud", data.Field()), ("ptb", data.Field())), root=tmp)
    out["udpos"] = [[(ex.text, ex.ud, ex.ptb) for ex in part] for part in parts]
    parts = datasets.CoNLL2000Chunking.splits(fields=[("w", data.Field()), ("p", None), ("c", data.Field())], root=tmp)
    out["conll2000"] = [[ex.w[0] for ex in part] for part in parts]
    parts = datasets.Multi30k.splits(exts=(".de", ".en"), fields=(data.Field(lower=True), data.Field()), root=tmp)
    out["multi30k"] = [[(ex.src, ex.trg) for ex in part] for part in parts]
    train_iter, _, _ = datasets.BABI20.iters(batch_size=2, root=tmp, memory_size=3)
    batch = next(iter(train_iter))
    out["babi"] = {"itos": train_iter.dataset.fields["story"].vocab.itos, "story": plain(batch.story),
                   "query": plain(batch.query), "answer": plain(batch.answer)}
    return out


def run(lib: str) -> dict[str, Any]:
    if lib == "torchtext":
        import torchtext.legacy.data as data
        from torchtext.legacy import vocab
    else:
        import nlprnn.legacy.data as data
        from nlprnn.legacy import vocab
    results = {}
    for name, function in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            random.seed(0)
            try:
                results[name] = function(data, vocab, tmp)
            except Exception as error:  # noqa: BLE001 - an error is a result to compare
                results[name] = {"error": type(error).__name__, "message": str(error)[:200]}
    return results


def compare(a_path: str, b_path: str) -> int:
    with open(a_path) as a_file, open(b_path) as b_file:
        a, b = json.load(a_file), json.load(b_file)
    differ = 0
    print(f"| case | {os.path.basename(a_path)} == {os.path.basename(b_path)} |\n|---|---|")
    for name in a:
        same = a[name] == b.get(name)
        differ += not same
        print(f"| {name} | {'same' if same else 'DIFFERENT'} |")
        if not same:
            for key in sorted(set(a[name]) | set(b.get(name) or {})) if isinstance(a[name], dict) else [None]:
                left = a[name] if key is None else a[name].get(key)
                right = b.get(name) if key is None else (b.get(name) or {}).get(key)
                if left != right:
                    print(f"|   {key}: | {json.dumps(left)[:300]} vs {json.dumps(right)[:300]} |")
    print(f"\n{len(a) - differ} of {len(a)} cases give the same values")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lib", choices=["torchtext", "nlprnn"], help="run the cases on this library, print JSON")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two JSON outputs")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    json.dump(run(args.lib or "nlprnn"), sys.stdout, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
