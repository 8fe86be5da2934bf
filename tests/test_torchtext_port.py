"""Code written for torchtext.legacy.data 0.11 runs unchanged: every public name and keyword is accepted
(one without a meaning here warns with DeprecationWarning, never a TypeError), and the helpers behave
as torchtext's.

``fixtures/torchtext_legacy_signatures.json`` was recorded from torchtext 0.11.2 itself (torch 1.10.2,
Python 3.9, numpy<2) by ``fixtures/record_torchtext_signatures.py``; its docstring has the commands.
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

import nlprnn
from nlprnn import (
    Batch,
    BPTTIterator,
    BucketIterator,
    Dataset,
    Example,
    Field,
    Iterator,
    LabelField,
    LanguageModelingDataset,
    Pipeline,
    RawField,
    ReversibleField,
    TabularDataset,
    batch,
    get_tokenizer,
    interleave_keys,
    pool,
)

LEGACY = json.loads((Path(__file__).parent / "fixtures" / "torchtext_legacy_signatures.json").read_text())
# where torchtext forwarded **kwargs, the keywords it forwarded them to
FORWARDED = {
    "LabelField": "Field", "ReversibleField": "Field", "SubwordField": "Field", "BPTTIterator": "Iterator",
    "Iterator.splits": "Iterator", "TabularDataset": "Dataset", "SequenceTaggingDataset": "Dataset",
    "LanguageModelingDataset": "Dataset", "Dataset.splits": "TabularDataset", "TabularDataset.splits": "TabularDataset",
}
VOCAB_KEYWORDS = ["max_size", "min_freq", "specials", "vectors", "unk_init", "vectors_cache", "specials_first"]


def ours(qualified: str) -> Any:
    name, _, method = qualified.partition(".")
    target = getattr(nlprnn, name)
    return getattr(target, method) if method else target


def legacy_keywords(qualified: str) -> list[str]:
    """Every keyword torchtext's callable accepted, **kwargs expanded to where torchtext sent them."""
    names = []
    for param in LEGACY["callables"][qualified]:
        if param["kind"] == "VAR_KEYWORD":
            if qualified == "Field.build_vocab":
                names += VOCAB_KEYWORDS
            elif qualified in FORWARDED:
                skip = {"self", "dataset", "batch_size", "examples", "fields", "path", "format"}
                names += [p["name"] for p in LEGACY["callables"][FORWARDED[qualified]]
                          if p["kind"] != "VAR_KEYWORD" and p["name"] not in skip]
        elif param["kind"] != "VAR_POSITIONAL":
            names.append(param["name"])
    return names


CASES = [(q, k) for q in LEGACY["callables"] if q not in ("Example", "Batch.fromvars") for k in legacy_keywords(q)]


def test_the_fixture_is_torchtext_0_11():
    assert LEGACY["torchtext"] == "0.11.2" and len(LEGACY["callables"]) == 36


@pytest.mark.parametrize("qualified", sorted(LEGACY["callables"]))
def test_every_legacy_name_exists(qualified):
    assert callable(ours(qualified)), qualified


@pytest.mark.parametrize(("qualified", "keyword"), CASES, ids=[f"{q}({k}=)" for q, k in CASES])
def test_every_legacy_keyword_is_accepted(qualified, keyword):
    signature = inspect.signature(ours(qualified))
    accepts = keyword in signature.parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    assert accepts, f"{qualified} does not take {keyword}="


def _calls_cleanly(make: Any) -> Any:
    """Call ``make()``; a warning other than DeprecationWarning, or a TypeError, fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = make()
    assert all(issubclass(w.category, DeprecationWarning) for w in caught), [str(w.message) for w in caught]
    return result


@pytest.mark.parametrize("keyword", [p["name"] for p in LEGACY["callables"]["Field"]])
def test_field_takes_each_legacy_keyword_at_torchtext_s_default(keyword):
    default = next(p["default"] for p in LEGACY["callables"]["Field"] if p["name"] == keyword)
    value = eval(default, {"torch": torch})  # the reprs are literals and torch dtypes
    _calls_cleanly(lambda: Field(**{keyword: value}))


@pytest.fixture
def reviews(write):
    rows = "id\ttext\tlabel\n" + "".join(f"{i}\t{'좋은 ' * (i % 6 + 1)}영화\t{i % 2}\n" for i in range(80))
    return write("reviews.tsv", rows)


def test_the_issue_s_snippet_and_bptt_keywords_run_unchanged(reviews, write):
    text = Field(tokenize=str.split, lower=True, include_lengths=True, batch_first=True)
    label = LabelField()
    ds = TabularDataset(reviews, format="tsv", fields=[("id", None), ("TEXT", text), ("LABEL", label)],
                        skip_header=True)
    text.build_vocab(ds, min_freq=1)
    label.build_vocab(ds)
    assert text.tokenizer.name == "whitespace"  # str.split is the whitespace tokenizer: saveable and vectorized
    it = BucketIterator(ds, batch_size=16, sort_key=lambda x: len(x.TEXT), sort_within_batch=True, shuffle=True,
                        repeat=False, device="cpu")
    assert it.sort_key_source == "len(x.TEXT)" and ds._examples is None  # no Example was built for the key
    assert sum(len(b) for b in it) == 80

    lm_text = Field(tokenize="whitespace")
    lm = LanguageModelingDataset(write("lm.txt", "a b c d e f g\n" * 30), lm_text)
    lm_text.build_vocab(lm)
    with pytest.warns(DeprecationWarning, match="shuffle"):
        bptt = BPTTIterator(lm, batch_size=4, bptt_len=7, device="cpu", repeat=False, shuffle=False)
    assert next(iter(bptt)).text.shape == (7, 4)


def test_a_sort_key_the_columns_cannot_give_is_called_per_row(reviews):
    text, label = Field(tokenize="whitespace", include_lengths=True), LabelField()
    ds = TabularDataset(reviews, "tsv", [None, ("text", text), ("label", label)], skip_header=True)
    text.build_vocab(ds)
    label.build_vocab(ds)
    odd = Iterator(ds, batch_size=8, sort_key=lambda x: len(x.text) if x.label == "1" else -len(x.text),
                   device="cpu")
    assert odd.sort_key_source == "called on every row"
    both = Iterator(ds, batch_size=8, sort_key=lambda x: interleave_keys(len(x.text), len(x.text)), device="cpu")
    assert both.sort_key_source.startswith("interleave_keys")


def test_batch_size_fn_makes_batches_of_a_token_budget(reviews):
    text, label = Field(tokenize="whitespace", include_lengths=True, batch_first=True), LabelField()
    ds = TabularDataset(reviews, "tsv", [None, ("text", text), ("label", label)], skip_header=True)
    text.build_vocab(ds)
    label.build_vocab(ds)

    def tokens(example: Any, count: int, size: int) -> int:  # the transformer tutorials' budget function
        return size + len(example.text)

    it = BucketIterator(ds, batch_size=40, batch_size_fn=tokens, device="cpu")
    sizes = [int(b.text[1].sum()) for b in it]
    assert sum(len(b) for b in it) == 80 and max(sizes) <= 40 and len(sizes) > 80 * 4 // 40


def test_examples_datasets_and_batches_built_by_hand_as_in_torchtext():
    text, label, ident = Field(tokenize="whitespace"), LabelField(), RawField()
    fields = [("id", ident), ("text", text), ("label", label)]
    examples = [Example.fromlist([str(i), "좋은 영화 " * (i % 3 + 1), str(i % 2)], fields) for i in range(10)]
    examples.append(Example.fromdict({"i": "10", "t": "별로", "l": "0"},
                                     {"i": ("id", ident), "t": ("text", text), "l": ("label", label)}))
    examples.append(Example.fromJSON('{"i": "11", "t": "최고", "l": "1"}',
                                     {"i": ("id", ident), "t": ("text", text), "l": ("label", label)}))
    ds = Dataset(examples, fields, filter_pred=lambda ex: ex.id != "3")
    assert len(ds) == 11 and ds[0].text == ["좋은", "영화"]
    text.build_vocab(ds, max_size=2)
    label.build_vocab(ds)
    ds.filter_examples(["text"])
    assert all(t in text.vocab.stoi for ex in ds for t in ex.text)
    handmade = Batch(ds.examples[:4], ds, device="cpu")
    assert handmade.batch_size == 4 and handmade.id == ["0", "1", "2", "4"] and handmade.label.tolist() == [0, 1, 0, 0]
    ready = Batch.fromvars(ds, 2, text=torch.zeros(3, 2))
    assert ready.text.shape == (3, 2) and ready.batch_size == 2
    gathered = next(iter(Iterator(ds, batch_size=4, train=False, device="cpu")))
    assert isinstance(gathered.id, list) and len(gathered.id) == 4  # a RawField gives the raw values


def test_reversible_field_turns_ids_back_into_text():
    field = ReversibleField(tokenize="whitespace", init_token="<s>", eos_token="</s>")
    field.build_vocab([["a", "b", "c"]])
    ids = field.process([["a", "b"], ["c"]])
    assert field.reverse(ids) == ["a b", "c"]


def test_pipeline_batch_pool_and_interleave_keys_behave_as_torchtext_s():
    upper = Pipeline(str.upper).add_after(lambda s: s + "!")
    assert upper(["a", "b"]) == ["A!", "B!"] and upper("c") == "C!"
    assert list(batch(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert [len(b) for b in pool(range(10), 4, key=lambda x: -x, sort_within_batch=True)] == [4, 4, 2]
    assert (interleave_keys(3, 5), interleave_keys(40, 7), interleave_keys(65535, 1)) == (27, 2197, 2863311531)


def test_get_tokenizer_as_torchtext_calls_it():
    assert get_tokenizer(None).name == get_tokenizer(str.split).name == "whitespace"
    # the expected tokens were printed by torchtext 0.11.2's get_tokenizer("basic_english")
    assert get_tokenizer("basic_english")("You can't be SERIOUS!<br />It's \"great\", (really): 3.5/10; ok?") == [
        "you", "can", "'", "t", "be", "serious", "!", "it", "'", "s", "great", ",", "(", "really", ")", "3", ".",
        "5/10", "ok", "?"]
    with pytest.warns(DeprecationWarning, match="language"):
        get_tokenizer("basic_english", language="en")
