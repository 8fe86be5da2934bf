"""nlprnn.legacy behaves as torchtext.legacy 0.11: the values below were printed by torchtext 0.11.2 itself
(Python 3.9, torch 1.10.2) on the same inputs (benchmarks/torchtext_parity.py runs both side by side)."""

import pickle
import random
import warnings
from collections import Counter

import pytest
import torch

import nlprnn
from nlprnn import DataError
from nlprnn.legacy import data, datasets, vocab

TSV = "".join(f"{i}\t{'good' if i % 3 else 'bad'} movie number {i} {'!' * (i % 4)}\t{i % 2}\n" for i in range(20))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def reviews(tmp_path, **text_options):
    text, label = data.Field(**text_options), data.LabelField()
    ds = data.TabularDataset(write(tmp_path, "a.tsv", TSV), "tsv", [("id", None), ("text", text), ("label", label)])
    text.build_vocab(ds)
    label.build_vocab(ds)
    return ds, text, label


def test_the_defaults_are_torchtexts():
    field = data.Field()
    assert field.preprocess("Test string.\n") == ["Test", "string."]  # str.split, not Kkma
    assert nlprnn.Field().tokenize.name == "kkma"  # the top-level names keep nlprnn's defaults
    assert data.LabelField(sequential=True, unk_token="<unk>").sequential is False  # forced, as torchtext


def test_a_peek_at_an_iterator_does_not_skip_batches(tmp_path):
    ds, _, _ = reviews(tmp_path)
    it = data.Iterator(ds, batch_size=2, shuffle=False, sort=False)
    next(iter(it))  # as every tutorial does, to look at a batch
    assert len(list(it)) == 10
    assert len(list(it)) == 10


def test_resuming_from_a_state_goes_on_mid_epoch(tmp_path):
    ds, _, _ = reviews(tmp_path)
    it = data.Iterator(ds, batch_size=2, shuffle=False, sort=False)
    stream = iter(it)
    next(stream), next(stream), next(stream)
    state = it.state_dict()
    again = data.Iterator(ds, batch_size=2, shuffle=False, sort=False)
    again.load_state_dict(state)
    assert len(list(again)) == 7


def test_split_sizes_lose_no_row_and_drop_an_empty_part(tmp_path):
    five = data.TabularDataset(write(tmp_path, "5.csv", "a\nb\nc\nd\ne\n"), "csv", [("text", data.Field())])
    thirty = data.TabularDataset(write(tmp_path, "30.csv", "".join(f"row{i}\n" for i in range(30))), "csv",
                                 [("text", data.Field())])
    assert [len(p) for p in five.split(0.5)] == [2, 3]
    assert [len(p) for p in thirty.split([0.66, 0.33, 0.01])] == [20, 10]  # torchtext: no empty validation set
    assert [len(p) for p in thirty.split([0.6, 0.3, 0.1])] == [18, 3, 9]  # (train, valid, test)
    with pytest.raises(AssertionError):
        thirty.split(1.1)


def test_a_seeded_split_gives_torchtexts_rows(tmp_path):
    thirty = data.TabularDataset(write(tmp_path, "30.csv", "".join(f"row{i}\n" for i in range(30))), "csv",
                                 [("text", data.Field())])
    random.seed(1234)  # the tutorials' way: split() then shuffles from the global state, and leaves it alone
    train, valid, test = thirty.split([0.7, 0.2, 0.1])
    assert [ex.text[0] for ex in valid] == ["row8", "row6", "row20"]
    assert [ex.text[0] for ex in test] == ["row22", "row23", "row13", "row28", "row15", "row4"]
    assert [ex.text[0] for ex in train][:5] == ["row24", "row14", "row3", "row0", "row2"]


def test_json_lists_are_tokens_and_dotted_keys_read_nested_objects(tmp_path):
    path = write(tmp_path, "q.json", '{"quote": ["To", "be"], "food": {"kinds": [{"name": "Kale"}, {"name": "Leek"}]}}\n')
    quote, food = data.Field(lower=True), data.Field()
    ds = data.TabularDataset(path, "json", {"quote": ("quote", quote), "food.kinds.name": ("food", food)})
    assert (ds[0].quote, ds[0].food) == (["to", "be"], ["Kale", "Leek"])
    with pytest.raises(ValueError, match="missing key"):
        data.TabularDataset(path, "json", {"food.kinds.colour": ("food", food)})


def test_numbers_are_converted_before_postprocessing_also_through_an_iterator(tmp_path):
    doubled = data.Field(sequential=False, use_vocab=False, postprocessing=lambda xs, _: [x * 2 for x in xs])
    assert doubled.numericalize(["1", "3"]).tolist() == [2, 6]
    ds = data.TabularDataset(write(tmp_path, "n.tsv", "1\n3\n"), "tsv", [("n", doubled)])
    assert next(iter(data.Iterator(ds, batch_size=2, shuffle=False, sort=False))).n.tolist() == [2, 6]


def test_a_language_modeling_file_is_one_example_and_bptt_pads_the_last_step(tmp_path):
    text = "".join(f"w{i % 7} w{(i * 3) % 5} x{i}\n" for i in range(11))
    field = data.Field(lower=True)
    ds = datasets.LanguageModelingDataset(write(tmp_path, "lm.txt", text), field)
    field.build_vocab(ds)
    assert len(ds) == 1 and len(ds[0].text) == 44
    batches = list(data.BPTTIterator(ds, batch_size=4, bptt_len=3))
    assert len(batches) == 4
    assert batches[0].text.tolist() == [[3, 2, 16, 7], [3, 6, 2, 19], [10, 7, 9, 2]]  # (time, batch)
    assert batches[-1].target.tolist() == [[13, 3, 4, 2]]  # the last stream ends in padding, as torchtext's
    assert [len(s) for s in data.BPTTIterator.splits((ds, ds), batch_size=3, bptt_len=5)] == [3, 3]


def test_freqs_count_every_token_and_specials_stay_where_given(tmp_path):
    text = data.Field()
    ds = data.TabularDataset(write(tmp_path, "f.tsv", TSV), "tsv", [("id", None), ("text", text), ("label", None)])
    text.build_vocab(ds, max_size=8, min_freq=3)
    assert text.vocab.freqs["!!!"] == 5 and text.vocab.freqs["19"] == 1  # below min_freq, still counted
    assert text.vocab.itos == ["<unk>", "<pad>", "movie", "number", "good", "bad", "!", "!!", "!!!"]
    assert vocab.Vocab(Counter("a a b b b c".split()), specials=["<pad>", "<eos>"]).itos == ["<pad>", "<eos>", "b", "a", "c"]
    last = vocab.Vocab(Counter("a a b".split()), specials=["<unk>", "<pad>"], specials_first=False)
    assert last.itos == ["a", "b", "<unk>", "<pad>"] and last.stoi["zzz"] == 2


def test_unknown_vector_names_are_a_value_error():
    for bad in ("fasttext.english.300d", ["fasttext.english.300d"], {"word": [1, 2, 3]}):
        with pytest.raises(ValueError):
            vocab.Vocab(Counter({"a": 1}), vectors=bad)


def test_quoted_values_may_hold_newlines_in_csv_and_tsv(tmp_path):
    text, label = data.Field(), data.Field(sequential=False)
    csv_rows = data.TabularDataset(write(tmp_path, "nl.csv", '"hello \n world",1\n"no newline",0\n'), "csv",
                                   [("t", text), ("l", label)])
    assert [(ex.t, ex.l) for ex in csv_rows] == [(["hello", "world"], "1"), (["no", "newline"], "0")]
    tsv = write(tmp_path, "nl.tsv", '"a ""quoted"" word"\t0\n')
    assert data.TabularDataset(tsv, "tsv", [("t", text), ("l", label)])[0].t == ["a", '"quoted"', "word"]
    native = nlprnn.TabularDataset(tsv, "tsv", [("t", nlprnn.Field(tokenize="whitespace")), ("l", nlprnn.LabelField())])
    assert native[0].t == ['"a', '""quoted""', 'word"']  # nlprnn reads TSV literally (NSMC's quotes are text)


def test_character_fields_with_word_markers_batch_as_torchtext(tmp_path):
    chars = data.NestedField(data.Field(tokenize=list, init_token="<w>", eos_token="</w>"),
                             init_token="<s>", eos_token="</s>", include_lengths=True)
    words = data.Field(include_lengths=True)
    ds = data.TabularDataset(write(tmp_path, "c.tsv", "john loves mary\nmary cries\n"), "tsv",
                             [(("words", "chars"), (words, chars))])
    chars.build_vocab(ds)
    words.build_vocab(ds)
    assert chars.vocab.itos[:8] == ["<unk>", "<pad>", "<s>", "</s>", "<w>", "</w>", "r", "a"]
    batch = next(iter(data.Iterator(ds, batch_size=2, shuffle=False, sort=False)))
    tensor, words_per_example, chars_per_word = batch.chars
    assert tensor[1].tolist() == [[4, 2, 5, 1, 1, 1, 1], [4, 9, 7, 6, 12, 5, 1], [4, 13, 6, 15, 8, 11, 5],
                                  [4, 3, 5, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]]
    assert words_per_example.tolist() == [5, 4]
    assert chars_per_word.tolist() == [[3, 6, 7, 6, 3], [3, 6, 7, 3, 0]]


def test_label_ids_follow_frequency_and_a_batch_unpacks_into_inputs_and_targets(tmp_path):
    ds, _, label = reviews(tmp_path, batch_first=True)
    assert dict(label.vocab.stoi) == {"0": 0, "1": 1}
    x, y = next(iter(data.Iterator(ds, batch_size=3, shuffle=False, sort=False)))
    assert x.tolist() == [[5, 2, 3, 9, 1], [4, 2, 3, 10, 6], [4, 2, 3, 21, 7]] and y.tolist() == [0, 1, 0]
    assert nlprnn.LabelField().kind == "label"  # nlprnn's own LabelField numbers labels in natural order


def test_fields_pickle_and_load_with_torch_load_defaults(tmp_path):
    ds, text, _ = reviews(tmp_path, lower=True, stop_words=["the"])
    torch.save(text, tmp_path / "text.pt")
    loaded = torch.load(tmp_path / "text.pt")  # weights_only=True, torch's default
    assert loaded == text and pickle.loads(pickle.dumps(text)) == text
    assert loaded.preprocess("The GOOD Movie") == ["good", "movie"]
    assert torch.equal(loaded.numericalize(text.pad([["good", "zzz"]])), text.numericalize(text.pad([["good", "zzz"]])))


def test_an_empty_text_is_kept_as_torchtext_kept_it_with_a_warning(tmp_path):
    path = write(tmp_path, "e.tsv", "id\ttext\tlabel\n1\tgood\t1\n2\t\t0\n")
    with pytest.warns(UserWarning, match=r"e.tsv:3: text: .*kept as torchtext kept them"):
        ds = data.TabularDataset(path, "tsv", [("id", None), ("text", data.Field()), ("label", data.LabelField())],
                                 skip_header=True)
    assert [ex.text for ex in ds] == [["good"], []]
    with pytest.raises(DataError, match="e.tsv:3"):  # nlprnn's own TabularDataset refuses it, naming the line
        nlprnn.TabularDataset(path, "tsv", [("id", None), ("text", nlprnn.Field(tokenize="whitespace")),
                                            ("label", nlprnn.LabelField())], skip_header=True)


def test_a_users_field_subclass_makes_its_own_batches(tmp_path):
    class Doubling(data.Field):
        def numericalize(self, arr, device=None):
            return super().numericalize(arr, device) * 2

    text = Doubling(batch_first=True)
    ds = data.TabularDataset(write(tmp_path, "s.tsv", "a b\n"), "tsv", [("text", text)])
    text.build_vocab(ds)
    assert next(iter(data.Iterator(ds, batch_size=1))).text.tolist() == [[2 * text.vocab.stoi["a"], 2 * text.vocab.stoi["b"]]]


def test_dict_fields_read_the_header_and_refuse_skip_header_as_torchtext(tmp_path):
    path = write(tmp_path, "h.csv", "text,label\nHELLO world,0\n")
    fields = {"label": ("label", data.Field(sequential=False, use_vocab=False)), "text": ("text", data.Field(lower=True))}
    assert data.TabularDataset(path, "csv", fields)[0].text == ["hello", "world"]
    with pytest.raises(ValueError, match="skip_header must be False"):
        data.TabularDataset(path, "csv", fields, skip_header=True)


def test_a_dataset_without_its_files_says_where_to_get_them(tmp_path):
    with pytest.raises(DataError, match=r"aclImdb_v1.tar.gz.*imdb"):
        datasets.IMDB.splits(data.Field(), data.LabelField(), root=str(tmp_path))


def test_nothing_is_left_to_warn_about_in_plain_torchtext_code(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reviews(tmp_path)


SIGNATURES = __import__("json").loads((__import__("pathlib").Path(__file__).parent / "fixtures" /
                                       "torchtext_legacy_signatures.json").read_text())["callables"]


def legacy_callable(qualified):
    name, _, method = qualified.partition(".")
    owner = getattr(datasets, name) if name in ("SequenceTaggingDataset", "LanguageModelingDataset") else getattr(data, name)
    return getattr(owner, method) if method else owner


@pytest.mark.parametrize("qualified", sorted(SIGNATURES))
def test_arguments_stand_in_torchtexts_order(qualified):
    """Code that passes torchtext's arguments by position gets the same meaning (recorded from 0.11.2)."""
    import inspect

    theirs = [p["name"] for p in SIGNATURES[qualified] if p["kind"] == "POSITIONAL_OR_KEYWORD" and p["name"] != "self"]
    ours = [p.name for p in inspect.signature(legacy_callable(qualified)).parameters.values()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"]
    assert ours[:len(theirs)] == theirs
