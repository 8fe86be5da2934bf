"""Batching: bucketing sampler, Batch objects, packing, evaluation order, BPTT, workers, resume."""

import numpy as np
import pytest
import torch

from nlprnn import (
    BPTTIterator,
    BucketIterator,
    BucketSampler,
    Field,
    Iterator,
    LabelField,
    LanguageModelingDataset,
    TabularDataset,
    pack,
    unpack,
)


def lognormal_lengths(n=5000, seed=0):
    return np.maximum(1, np.random.default_rng(seed).lognormal(np.log(20), 0.75, n).astype(np.int64))


def padding(lengths, batches):
    real = sum(int(lengths[b].sum()) for b in batches)
    total = sum(int(lengths[b].max()) * len(b) for b in batches)
    return 1 - real / total


def test_every_row_is_yielded_exactly_once():
    lengths = lognormal_lengths(1001)
    batches = list(BucketSampler(lengths, batch_size=64, seed=3))
    rows = [r for b in batches for r in b]
    assert sorted(rows) == list(range(1001))


def test_bucketing_cuts_padding_compared_with_random_batches():
    lengths = lognormal_lengths()
    bucketed = BucketSampler(lengths, batch_size=64).batches()
    random = BucketSampler(lengths, batch_size=64, bucket=False).batches()
    assert padding(lengths, bucketed) < 0.12 < 0.5 < padding(lengths, random)


def test_seeded_deterministic_and_different_each_epoch():
    lengths = lognormal_lengths(500)
    a, b = BucketSampler(lengths, seed=1), BucketSampler(lengths, seed=1)
    assert [x.tolist() for x in a.batches()] == [x.tolist() for x in b.batches()]
    b.set_epoch(1)
    assert [x.tolist() for x in a.batches()] != [x.tolist() for x in b.batches()]


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
@pytest.mark.parametrize("longest", [9, 100_000])  # lengths that fit 16 bits, and longer ones
def test_bucketed_batches_are_pools_sorted_by_length_then_cut_longest_first(shuffle, drop_last, longest):
    rng = np.random.default_rng(longest)
    lengths = rng.integers(1, longest, 1003)  # many ties: their order must be kept
    sampler = BucketSampler(lengths, batch_size=7, pool_size=5, shuffle=shuffle, drop_last=drop_last, seed=4)
    # the same batches written as legacy torchtext's pool(): Python's stable sorts, pool by pool
    draw = np.random.default_rng([4, 0])
    order = draw.permutation(len(lengths)).tolist() if shuffle else list(range(len(lengths)))
    pool = 35 if shuffle else len(order)
    expected = []
    for start in range(0, len(order), pool):
        by_length = sorted(order[start:start + pool], key=lambda row: lengths[row])
        cut = [by_length[i:i + 7] for i in range(0, len(by_length), 7)]
        if drop_last and len(cut[-1]) < 7:
            cut.pop()
        expected += [sorted(batch, key=lambda row: -lengths[row]) for batch in cut]
    if shuffle:
        expected = [expected[i] for i in draw.permutation(len(expected))]
    assert [batch.tolist() for batch in sampler.batches()] == expected


def test_token_budget_bounds_every_batch():
    lengths = lognormal_lengths(2000)
    for batch in BucketSampler(lengths, max_tokens=1000).batches():
        assert len(batch) * lengths[batch].max() <= 1000 or len(batch) == 1


def test_distributed_ranks_get_disjoint_batches_of_equal_count():
    lengths = lognormal_lengths(1000)
    ranks = [BucketSampler(lengths, batch_size=32, seed=5, rank=r, world_size=3).batches() for r in range(3)]
    assert len({len(r) for r in ranks}) == 1
    seen = [row for rank in ranks for batch in rank for row in batch]
    assert set(seen) == set(range(1000))
    # at each step the ranks' batches come from neighbouring buckets: similar lengths
    spread = [np.ptp([np.median(lengths[rank[step]]) for rank in ranks]) / np.median(lengths[ranks[0][step]])
              for step in range(len(ranks[0]))]
    assert np.median(spread) < 0.2


def test_resume_mid_epoch_continues_the_same_stream():
    lengths = lognormal_lengths(640)
    full = [b for b in BucketSampler(lengths, batch_size=32, seed=9)]
    sampler = BucketSampler(lengths, batch_size=32, seed=9)
    sampler.load_state_dict({"seed": 9, "epoch": 0, "start": 4})
    assert list(sampler) == full[4:]


@pytest.fixture
def nsmc_like(write):
    rows = ["text\tlabel"] + [f"{' '.join(['말'] * (1 + i % 17))}\t{i % 2}" for i in range(300)]
    TEXT = Field(tokenize="whitespace", include_lengths=True, batch_first=True)
    LABEL = LabelField()
    data = TabularDataset(write("a.tsv", "\n".join(rows) + "\n"), "tsv", [("text", TEXT), ("label", LABEL)],
                          skip_header=True)
    TEXT.build_vocab(data)
    LABEL.build_vocab(data)
    return data


def test_batch_has_fields_lengths_mask_and_packs(nsmc_like):
    batch = next(iter(BucketIterator(nsmc_like, batch_size=16, device="cpu")))
    text, lengths = batch.text
    assert text.shape[0] == 16 and batch.label.shape == (16,)
    assert torch.equal(batch.mask("text").sum(1), lengths)
    packed = batch.pack("text")
    padded, unpacked_lengths = unpack(packed, batch_first=True)
    assert torch.equal(unpacked_lengths, lengths)
    mask = batch.mask("text")[:, : padded.shape[1]]
    assert torch.equal(padded[mask], text[:, : padded.shape[1]][mask])


def test_pack_helper_accepts_any_length_order():
    x = torch.arange(12).view(3, 4)
    padded, lengths = unpack(pack(x, torch.tensor([2, 4, 1])))
    assert lengths.tolist() == [2, 4, 1] and padded[1].tolist() == [4, 5, 6, 7]


def test_evaluation_outputs_come_back_in_file_order(nsmc_like):
    iterator = BucketIterator(nsmc_like, batch_size=32, train=False, device="cpu")
    batches = list(iterator)
    assert any(b.rows.tolist() != sorted(b.rows.tolist()) for b in batches)  # batches are length-sorted
    outputs = [b.text[1] for b in batches]  # "predict" each row's length
    restored = iterator.in_original_order(outputs, batches)
    assert [int(x) for x in restored] == nsmc_like.lengths("text").tolist()


def test_plain_iterator_keeps_order_when_not_training(nsmc_like):
    rows = [r for b in Iterator(nsmc_like, batch_size=50, train=False, sort=False, device="cpu") for r in b.rows.tolist()]
    assert rows == list(range(300))


def test_dataloader_workers_give_the_same_batches(nsmc_like):
    plain = [b.text[0] for b in BucketIterator(nsmc_like, batch_size=32, seed=2, device="cpu")]
    workers = [b.text[0] for b in BucketIterator(nsmc_like, batch_size=32, seed=2, device="cpu", num_workers=2)]
    assert all(torch.equal(a, b) for a, b in zip(plain, workers)) and len(plain) == len(workers)


def test_bptt_windows_shift_targets_and_continue_streams(write):
    TEXT = Field(tokenize="whitespace")
    data = LanguageModelingDataset(write("lm.txt", " ".join(str(i) for i in range(100)) + "\n"), TEXT, newline_eos=False)
    TEXT.build_vocab(data)
    itos = TEXT.vocab.itos
    batches = list(BPTTIterator(data, batch_size=4, bptt_len=6, device="cpu"))
    first = batches[0]
    assert first.text.shape == (6, 4)  # (time, batch) as in torchtext
    as_int = lambda t: [[int(itos[i]) for i in col] for col in t.t().tolist()]  # noqa: E731
    assert as_int(first.text)[1] == [25, 26, 27, 28, 29, 30]
    assert as_int(first.target)[1] == [26, 27, 28, 29, 30, 31]
    assert as_int(batches[1].text)[1][0] == 31  # stream 1 continues where it stopped
    assert sum(b.seq_len for b in batches) == 24


def test_random_bptt_lengths_vary_but_cover_the_stream(write):
    TEXT = Field(tokenize="whitespace")
    data = LanguageModelingDataset(write("lm.txt", " ".join(str(i) for i in range(2000)) + "\n"), TEXT, newline_eos=False)
    TEXT.build_vocab(data)
    batches = list(BPTTIterator(data, batch_size=2, bptt_len=35, random_bptt=True, seed=1, device="cpu"))
    lengths = [b.seq_len for b in batches]
    assert len(set(lengths)) > 3 and sum(lengths) == 999


def test_default_device_is_cuda_only_when_available(nsmc_like):
    iterator = BucketIterator(nsmc_like, batch_size=8)
    assert iterator.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
