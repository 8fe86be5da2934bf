"""Models: exact variable-length encoders, layer-norm cells, vertical-only dropout, CRF, generation."""

import itertools
import subprocess
import sys
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nlprnn import Vocab
from nlprnn.errors import ConfigError
from nlprnn.models import (
    CRF,
    LanguageModel,
    LayerNormRNNLayer,
    RNNEncoder,
    SequenceClassifier,
    SequenceRegressor,
    SequenceTagger,
    bio_allowed,
    embedding_from_vocab,
    generate,
    layer_norm_rnn,
)


def batch(lengths, size=5, seed=0):
    torch.manual_seed(seed)
    lengths = torch.tensor(lengths)
    x = torch.randn(len(lengths), int(lengths.max()), size)
    return x * (torch.arange(x.shape[1])[None, :, None] < lengths[:, None, None]), lengths


def states(state):
    return state if isinstance(state, tuple) else (state,)


def assert_matches_one_at_a_time(encoder, x, lengths, out, state):
    for b, n in enumerate(lengths.tolist()):
        alone, alone_state = encoder(x[b:b + 1, :n])
        torch.testing.assert_close(out[b, :n], alone[0], atol=1e-5, rtol=1e-5)
        assert out[b, n:].abs().max().item() == 0 if n < out.shape[1] else True
        for full, single in zip(states(state), states(alone_state)):
            torch.testing.assert_close(full[:, b], single[:, 0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell, layers, bidirectional",
                         list(itertools.product(["lstm", "gru"], [1, 2, 3], [False, True])) + [("rnn", 2, True)])
def test_packed_padded_and_one_at_a_time_agree(cell, layers, bidirectional):
    x, lengths = batch([7, 2, 5, 2, 7, 1])
    encoder = RNNEncoder(5, 6, num_layers=layers, cell=cell, bidirectional=bidirectional).eval()
    encoder.execution = "packed"
    packed_out, packed_state = encoder(x, lengths)
    encoder.execution = "padded"
    padded_out, padded_state = encoder(x, lengths)
    torch.testing.assert_close(packed_out, padded_out, atol=1e-5, rtol=1e-5)
    encoder.execution = "two_call"
    two_out, two_state = encoder(x, lengths)
    torch.testing.assert_close(two_out, padded_out, atol=1e-5, rtol=1e-5)
    for a, b in zip(states(two_state), states(padded_state)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    for a, b in zip(states(packed_state), states(padded_state)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert_matches_one_at_a_time(encoder, x, lengths, padded_out, padded_state)


@pytest.mark.parametrize("cell, layers, bidirectional",
                         list(itertools.product(["lstm", "gru"], [1, 2], [False, True])) + [("rnn", 2, True)])
def test_two_fused_calls_per_layer_equal_packing_outputs_states_and_gradients(cell, layers, bidirectional):
    x, lengths = batch([7, 2, 5, 2, 7, 1, 4])
    x.requires_grad_(True)
    torch.manual_seed(3)
    hx = torch.randn(layers * (2 if bidirectional else 1), 7, 6)
    hx = (hx, torch.randn_like(hx)) if cell == "lstm" else hx
    encoder = RNNEncoder(5, 6, num_layers=layers, cell=cell, bidirectional=bidirectional).eval()
    results = {}
    for execution in ("packed", "two_call"):
        encoder.execution = execution
        encoder.zero_grad()
        x.grad = None
        out, state = encoder(x, lengths, hx)
        (out.square().sum() + sum(s.sin().sum() for s in states(state))).backward()
        results[execution] = (out, states(state), x.grad.clone(), [p.grad.clone() for p in encoder.parameters()])
    (out_p, state_p, dx_p, dw_p), (out_t, state_t, dx_t, dw_t) = results["packed"], results["two_call"]
    torch.testing.assert_close(out_t, out_p, atol=1e-5, rtol=1e-5)
    for a, b in zip(state_t, state_p):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(dx_t, dx_p, atol=1e-5, rtol=1e-5)
    for a, b in zip(dw_t, dw_p):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_two_call_keeps_a_length_zero_row_at_its_initial_state():
    x, lengths = batch([4, 0, 3])
    encoder = RNNEncoder(5, 3, num_layers=2, bidirectional=True, execution="two_call").eval()
    hx = (torch.randn(4, 3, 3), torch.randn(4, 3, 3))
    out, (h, c) = encoder(x, lengths, hx)
    assert out[1].abs().max().item() == 0
    torch.testing.assert_close(h[:, 1], hx[0][:, 1])
    torch.testing.assert_close(c[:, 1], hx[1][:, 1])
    encoder.execution = "padded"
    padded_out, (padded_h, padded_c) = encoder(x, lengths, hx)
    torch.testing.assert_close(out, padded_out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h, padded_h, atol=1e-5, rtol=1e-5)


def test_lstm_cells_scan_equals_the_step_by_step_recurrence_over_long_sequences():
    from nlprnn.models.encoder import lstm_cells

    torch.manual_seed(0)
    lstm = nn.LSTM(4, 3, batch_first=True)
    x, h0, c0 = torch.randn(2, 300, 4), torch.randn(2, 3), torch.randn(2, 3)
    out, _ = lstm(x, (h0[None], c0[None]))
    cells = lstm_cells(x, out, h0, c0, [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0])
    for t in (0, 1, 150, 299):  # nn.LSTM's own state after t + 1 steps
        _, (_, c) = lstm(x[:, :t + 1], (h0[None], c0[None]))
        torch.testing.assert_close(cells[:, t], c[0], atol=1e-5, rtol=1e-5)


def test_contiguous_weights_are_views_of_one_buffer_in_cudnn_order_and_carry_gradients():
    from nlprnn.models.encoder import contiguous_weights

    lstm = nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    params = [lstm.weight_ih_l1_reverse, lstm.weight_hh_l1_reverse, lstm.bias_ih_l1_reverse, lstm.bias_hh_l1_reverse]
    views = contiguous_weights(params)
    base = views[0].untyped_storage().data_ptr()
    offsets = [v.data_ptr() - base for v in views]
    assert len({v.untyped_storage().data_ptr() for v in views}) == 1
    assert offsets == [0, *itertools.accumulate(p.numel() * 4 for p in params[:-1])]  # w_ih, w_hh, b_ih, b_hh
    sum(v.sum() for v in views).backward()
    assert all(torch.equal(p.grad, torch.ones_like(p)) for p in params)


@pytest.mark.parametrize("cell, layers, bidirectional", list(itertools.product(["lstm", "gru"], [1, 3], [False, True])))
def test_layer_norm_encoder_is_exact_per_sequence(cell, layers, bidirectional):
    x, lengths = batch([6, 3, 1, 6])
    encoder = RNNEncoder(5, 4, num_layers=layers, cell=cell, bidirectional=bidirectional, layer_norm=True,
                         compile=False).eval()
    out, state = encoder(x, lengths)
    assert out.shape == (4, 6, 4 * (2 if bidirectional else 1))
    assert_matches_one_at_a_time(encoder, x, lengths, out, state)


def test_auto_execution_on_cpu_pads_bucketed_batches_and_packs_ragged_ones():
    encoder = RNNEncoder(5, 3)
    x = torch.zeros(64, 60, 5)
    assert encoder._mode(x, torch.randint(30, 33, (64,))) == "padded"
    assert encoder._mode(x, torch.arange(64) % 50 + 5) == "packed"
    # a long batch (the longest sentences of a corpus, bucketed together) pads up to steps / 3 lengths
    long = torch.zeros(32, 200, 5)
    assert encoder._mode(long, torch.arange(32) % 25 + 176) == "padded"
    assert encoder._mode(torch.zeros(96, 200, 5), torch.arange(96) * 2 + 9) == "packed"


def test_packed_sequence_in_packed_sequence_out():
    x, lengths = batch([4, 2, 3])
    encoder = RNNEncoder(5, 3, bidirectional=True).eval()
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = encoder(packed)
    assert isinstance(out, nn.utils.rnn.PackedSequence)
    padded, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    torch.testing.assert_close(padded, encoder(x, lengths)[0])


def test_time_major_shapes_follow_nn_lstm():
    encoder = RNNEncoder(5, 3, num_layers=2, bidirectional=True, batch_first=False)
    out, (h, c) = encoder(torch.randn(7, 4, 5))
    assert out.shape == (7, 4, 6) and h.shape == c.shape == (4, 4, 3)


def test_compiled_layer_norm_step_equals_eager():
    x, lengths = batch([5, 3], size=4)
    torch.manual_seed(1)
    compiled = RNNEncoder(4, 3, layer_norm=True, compile=True).eval()
    eager = RNNEncoder(4, 3, layer_norm=True, compile=False).eval()
    eager.load_state_dict(compiled.state_dict())
    torch.testing.assert_close(compiled(x, lengths)[0], eager(x, lengths)[0], atol=1e-5, rtol=1e-5)


def test_compile_failure_falls_back_to_eager(monkeypatch):
    def broken(*args, **kwargs):
        def fails(*a):
            raise RuntimeError("no C compiler")
        return fails

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(layer_norm_rnn, "_COMPILED", {})
    encoder = RNNEncoder(4, 3, layer_norm=True, compile=True).eval()
    x, lengths = batch([3, 2], size=4)
    with pytest.warns(UserWarning, match="runs eagerly"):
        out, _ = encoder(x, lengths)
    eager = RNNEncoder(4, 3, layer_norm=True, compile=False).eval()
    eager.load_state_dict(encoder.state_dict())
    torch.testing.assert_close(out, eager(x, lengths)[0])


def test_on_a_cpu_the_layer_norm_encoder_never_imports_triton():
    # the kernels are for CUDA; a CPU-only install (with or without triton) runs the eager step
    code = ("import sys, torch; from nlprnn.models import RNNEncoder; "
            "e = RNNEncoder(4, 3, layer_norm=True, bidirectional=True); "
            "out, _ = e(torch.randn(2, 5, 4), torch.tensor([5, 2])); out.sum().backward(); "
            "print('triton' in sys.modules, 'nlprnn.models.triton_rnn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_asking_for_the_triton_kernels_without_triton_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nlprnn.models.triton_rnn", None)  # as if triton were not installed
    encoder = RNNEncoder(4, 3, layer_norm=True, triton=True)
    x, lengths = batch([3, 2], size=4)
    with pytest.raises(ConfigError, match="pip install triton"):
        encoder(x, lengths)


def test_when_the_triton_kernels_fail_the_default_falls_back_to_the_eager_step_with_a_warning(monkeypatch):
    class Broken:  # stands in for triton_rnn where the GPU's compiler rejects the kernels
        @staticmethod
        def lstm_sequence(*args):
            raise RuntimeError("PTX compilation failed")

    monkeypatch.setattr(layer_norm_rnn, "_TRITON_FAILED", [])
    monkeypatch.setattr(LayerNormRNNLayer, "_kernels_for", lambda self, x: None if layer_norm_rnn._TRITON_FAILED
                        else Broken)
    encoder = RNNEncoder(4, 3, layer_norm=True, compile=False)  # triton=None: the kernels where they run
    x, lengths = batch([3, 2], size=4)
    with pytest.warns(UserWarning, match="Triton kernels failed.*PTX"):
        out, _ = encoder(x, lengths)
    eager = RNNEncoder(4, 3, layer_norm=True, compile=False, triton=False)
    eager.load_state_dict(encoder.state_dict())
    torch.testing.assert_close(out, eager(x, lengths)[0])
    assert len(layer_norm_rnn._TRITON_FAILED) == 1  # later calls do not try again
    strict = RNNEncoder(4, 3, layer_norm=True, triton=True)
    monkeypatch.setattr(LayerNormRNNLayer, "_kernels_for", lambda self, x: Broken)
    with pytest.raises(RuntimeError, match="PTX"):  # triton=True asked for the kernels: their error is raised
        strict(x, lengths)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_layer_norm_cell_passes_gradcheck(cell):
    layer = LayerNormRNNLayer(3, 2, cell, compile=False).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    assert torch.autograd.gradcheck(lambda inp: layer(inp, mask)[0], (x,))


@pytest.mark.parametrize("cell, reference", [("lstm", nn.LSTMCell), ("gru", nn.GRUCell)])
def test_with_normalization_removed_the_cell_is_the_plain_cell(cell, reference, monkeypatch):
    """The documented relation: replace every LN by the identity and the step is nn.LSTMCell/GRUCell's
    (with the bias on the input side)."""
    torch.manual_seed(0)
    layer = LayerNormRNNLayer(3, 4, cell, compile=False)
    layer.ln_x = nn.Identity()
    monkeypatch.setattr(layer_norm_rnn.F, "layer_norm", lambda x, shape, w, b: x)
    plain = reference(3, 4)
    with torch.no_grad():
        plain.weight_ih.copy_(layer.weight_ih)
        plain.weight_hh.copy_(layer.weight_hh)
        plain.bias_ih.copy_(layer.bias)
        plain.bias_hh.zero_()
    x = torch.randn(2, 5, 3)
    out, _ = layer(x, torch.ones(2, 5, dtype=torch.bool))
    h = torch.zeros(2, 4)
    c = torch.zeros(2, 4)
    for t in range(5):
        if cell == "lstm":
            h, c = plain(x[:, t], (h, c))
        else:
            h = plain(x[:, t], h)
        torch.testing.assert_close(out[:, t], h, atol=1e-6, rtol=1e-5)


def test_layer_norm_lstm_matches_the_papers_formula():
    torch.manual_seed(0)
    layer = LayerNormRNNLayer(3, 2, "lstm", compile=False)
    with torch.no_grad():
        for ln in (layer.ln_x, layer.ln_h, layer.ln_c):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.uniform_(-0.5, 0.5)
    x = torch.randn(1, 3, 3)
    out, (h_n, c_n) = layer(x, torch.ones(1, 3, dtype=torch.bool))
    h, c = torch.zeros(1, 2), torch.zeros(1, 2)
    for t in range(3):
        gates = (layer.ln_x(x[:, t] @ layer.weight_ih.t()) + layer.bias + layer.ln_h(h @ layer.weight_hh.t()))
        i, f, g, o = gates.chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()  # the unnormalized cell is carried (Ba et al.)
        h = o.sigmoid() * layer.ln_c(c).tanh()
    torch.testing.assert_close(out[:, -1], h)
    torch.testing.assert_close(c_n, c)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_dropout_never_touches_the_recurrence(layer_norm):
    x, lengths = batch([6, 4])
    # one layer, no input/output dropout: the only dropout left would be recurrent, so none may apply
    encoder = RNNEncoder(5, 8, num_layers=1, layer_dropout=0.9, layer_norm=layer_norm, compile=False)
    train_out = encoder.train()(x, lengths)[0]
    eval_out = encoder.eval()(x, lengths)[0]
    torch.testing.assert_close(train_out, eval_out)


def test_vertical_dropout_applies_in_training_and_not_in_eval():
    x, lengths = batch([6, 4])
    encoder = RNNEncoder(5, 8, num_layers=2, input_dropout=0.5, layer_dropout=0.5, output_dropout=0.5)
    torch.manual_seed(0)
    assert not torch.equal(encoder.train()(x, lengths)[0], encoder(x, lengths)[0])
    encoder.eval()
    assert torch.equal(encoder(x, lengths)[0], encoder(x, lengths)[0])


TAGS = ["<pad>", "O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def all_paths(crf, emissions, length):
    return [list(p) for p in itertools.product(range(crf.num_tags), repeat=length)]


@pytest.mark.parametrize("constrained", [False, True])
def test_crf_partition_and_viterbi_equal_brute_force(constrained):
    torch.manual_seed(3)
    crf = CRF(len(TAGS), TAGS if constrained else None)
    with torch.no_grad():
        crf.transitions.normal_()
        crf.start.normal_()
        crf.end.normal_()
    emissions = torch.randn(3, 4, len(TAGS))
    lengths = torch.tensor([4, 1, 3])  # a one-token sentence too
    mask = torch.arange(4)[None, :] < lengths[:, None]
    log_z = crf.log_partition(emissions, mask)
    best = crf.decode(emissions, mask)
    for b, n in enumerate(lengths.tolist()):
        paths = torch.tensor(all_paths(crf, emissions, n))
        scores = crf.score(emissions[b:b + 1, :n].expand(len(paths), -1, -1), paths,
                           torch.ones(len(paths), n, dtype=torch.bool))
        torch.testing.assert_close(log_z[b], torch.logsumexp(scores, 0), atol=1e-4, rtol=1e-5)
        assert best[b] == paths[scores.argmax()].tolist()


def test_decoded_tags_never_make_a_forbidden_bio_move():
    torch.manual_seed(0)
    crf = CRF(len(TAGS), TAGS)
    allowed, start = bio_allowed(TAGS)
    emissions = torch.randn(50, 8, len(TAGS)) * 5
    for path in crf.decode(emissions, torch.ones(50, 8, dtype=torch.bool)):
        assert start[path[0]]
        assert all(allowed[a, b] for a, b in zip(path, path[1:]))
    assert not allowed[TAGS.index("O"), TAGS.index("I-PER")]
    assert not allowed[TAGS.index("B-LOC"), TAGS.index("I-PER")]


def autograd_log_partition(crf, emissions, mask):
    """log Z as the plain loop over time, differentiated by autograd: the reference for the CRF's own."""
    transitions, start, end = crf._scores()
    alpha = start + emissions[:, 0]
    for emit_t, mask_t in zip(emissions[:, 1:].unbind(1), mask[:, 1:].unbind(1)):
        alpha = torch.where(mask_t.unsqueeze(1), torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emit_t, alpha)
    return torch.logsumexp(alpha + end, dim=1)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_crf_log_partition_and_its_gradient_equal_autograds_through_the_loop(dtype):
    tags = ["<pad>", "O"] + [f"{prefix}-{kind}" for kind in ("PER", "LOC", "ORG", "DAT", "TIM") for prefix in "BI"]
    generator = torch.Generator().manual_seed(2)
    for trial in range(30):
        batch = int(torch.randint(1, 33, (), generator=generator))
        steps = int(torch.randint(1, 45, (), generator=generator))
        reference = CRF(len(tags), tags).double()
        with torch.no_grad():  # a trained CRF's scores spread far more than a fresh one's
            reference.transitions.mul_(float(torch.rand((), generator=generator)) * 100)
            reference.start.normal_(0, 5, generator=generator)
            reference.end.normal_(0, 5, generator=generator)
        emissions = torch.randn(batch, steps, len(tags), generator=generator, dtype=torch.float64)
        emissions = emissions * [0.1, 1.0, 10.0, 50.0][trial % 4]
        lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
        lengths[0] = steps
        mask = torch.arange(steps)[None] < lengths[:, None]
        weights = torch.randn(batch, generator=generator, dtype=torch.float64)
        results = []
        for crf, run in ((reference, autograd_log_partition), (CRF(len(tags), tags).to(dtype), CRF.log_partition)):
            crf.load_state_dict({k: v.to(crf.transitions.dtype) if v.is_floating_point() else v
                                 for k, v in reference.state_dict().items()})
            x = emissions.to(crf.transitions.dtype, copy=True).requires_grad_(True)
            log_z = run(crf, x, mask)
            (log_z * weights.to(log_z.dtype)).sum().backward()
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in (crf.transitions, crf.start, crf.end)]
            results.append([t.detach().double() for t in (log_z, x.grad, *grads)])
        # float32 against the float64 loop: the written-out gradient measured 5e-5 of the largest value at
        # worst over 100 such cases (autograd's own loop in float32: 4e-4)
        tolerance = 1e-10 if dtype == torch.float64 else 2e-4
        for expected, got in zip(*results):
            assert (got - expected).abs().max() <= tolerance * max(1.0, float(expected.abs().max())), trial


def test_tagger_with_crf_and_character_features_learns_a_toy_task():
    torch.manual_seed(0)
    tagger = SequenceTagger(vocab_size=10, num_tags=len(TAGS), embedding_dim=16, hidden_size=16, tags=TAGS,
                            char_vocab_size=12, bidirectional=True)
    tokens = torch.randint(2, 10, (8, 5))
    tags = torch.where(tokens > 5, TAGS.index("B-PER"), TAGS.index("O"))
    chars = torch.randint(2, 12, (8, 5, 3))
    lengths = torch.full((8,), 5)
    optimizer = torch.optim.Adam(tagger.parameters(), lr=0.05)
    for _ in range(30):
        optimizer.zero_grad()
        loss = tagger.loss(tagger(tokens, lengths, chars, torch.full((8, 5), 3)), tags, lengths)
        loss.backward()
        optimizer.step()
    decoded = tagger.decode(tagger(tokens, lengths, chars, torch.full((8, 5), 3)), lengths)
    assert decoded == tags.tolist()


def test_tagger_encodes_each_spelling_once_with_the_same_result_as_token_by_token():
    torch.manual_seed(0)
    tagger = SequenceTagger(vocab_size=10, num_tags=len(TAGS), embedding_dim=4, hidden_size=4, tags=TAGS,
                            padding_idx=1, char_vocab_size=12, char_dim=4, char_hidden=6)
    chars = torch.randint(2, 12, (3, 6, 4))
    char_lengths = torch.randint(1, 5, (3, 6))
    chars[torch.arange(4)[None, None, :] >= char_lengths[..., None]] = 1
    chars[0, 1], char_lengths[0, 1] = chars[2, 4], char_lengths[2, 4]  # a repeated spelling
    chars[1, 5], char_lengths[1, 5] = 1, 0  # padding position
    one_by_one = torch.stack([torch.stack([
        tagger.char_encoder.final_output(tagger.char_encoder(
            tagger.char_embedding(chars[b, t, : max(1, int(char_lengths[b, t]))][None]))[1])[0]
        for t in range(6)]) for b in range(3)])
    assert torch.allclose(tagger._char_features(chars, char_lengths), one_by_one, atol=1e-6)


def test_word_dropout_reads_words_as_unk_in_training_only():
    torch.manual_seed(0)
    tagger = SequenceTagger(vocab_size=10, num_tags=len(TAGS), embedding_dim=4, hidden_size=4, tags=TAGS,
                            word_dropout=0.5, unk_idx=0)
    seen = []
    tagger.embedding.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].clone()))
    tokens, lengths = torch.randint(2, 10, (20, 10)), torch.full((20,), 10)
    tagger(tokens, lengths)
    assert 0.4 < (seen[-1] == 0).float().mean() < 0.6
    assert ((seen[-1] == 0) | (seen[-1] == tokens)).all()
    tagger.eval()
    tagger(tokens, lengths)
    assert torch.equal(seen[-1], tokens)
    with pytest.raises(ValueError, match="unk_idx"):
        SequenceTagger(vocab_size=10, num_tags=3, word_dropout=0.1)


def test_tagger_self_attention_ignores_padding():
    torch.manual_seed(0)
    tagger = SequenceTagger(vocab_size=10, num_tags=len(TAGS), embedding_dim=8, hidden_size=8, tags=TAGS,
                            attention_heads=2, bidirectional=True).eval()
    tokens, lengths = torch.randint(2, 10, (3, 6)), torch.tensor([6, 4, 2])
    other = tokens.clone()
    other[1, 4:], other[2, 2:] = 3, 7  # different tokens in the padding only
    first, second = tagger(tokens, lengths), tagger(other, lengths)
    for row, n in enumerate(lengths.tolist()):
        assert torch.allclose(first[row, :n], second[row, :n], atol=1e-6)


def test_classifier_pools_and_learns():
    torch.manual_seed(0)
    tokens = torch.randint(2, 20, (16, 6))
    labels = (tokens[:, 0] > 10).long()
    lengths = torch.randint(1, 7, (16,))
    lengths[labels == 1] = torch.maximum(lengths[labels == 1], torch.tensor(1))
    for pooling in ("last", "max", "mean"):
        model = SequenceClassifier(20, 2, embedding_dim=8, hidden_size=8, pooling=pooling, bidirectional=True,
                                   num_layers=2)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(40):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(tokens, lengths), labels)
            loss.backward()
            optimizer.step()
        assert loss.item() < 0.1, pooling


def test_regressor_predicts_the_next_value_of_a_series():
    torch.manual_seed(0)
    series = torch.sin(torch.arange(0, 60, 0.3))
    windows = series.unfold(0, 9, 1)
    x, y = windows[:, :8].unsqueeze(-1), windows[:, 8:]
    model = SequenceRegressor(1, hidden_size=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    naive = F.mse_loss(x[:, -1], y)
    assert loss.item() < naive.item() / 5


def test_embedding_from_vocab_uses_vectors_and_pad():
    vocab = Vocab(Counter({"a": 2, "b": 1}))
    vocab.vectors = torch.arange(8.0).view(4, 2)
    embedding = embedding_from_vocab(vocab, freeze=True)
    assert embedding.padding_idx == 1 and not embedding.weight.requires_grad
    assert embedding.weight[1].abs().sum() == 0 and embedding.weight[2].tolist() == [4.0, 5.0]


def small_lm():
    vocab = Vocab(Counter({w: 1 for w in "the cat sat on a mat".split()}), specials=["<unk>", "<eos>"])
    torch.manual_seed(0)
    return LanguageModel(len(vocab), 8, 8, num_layers=2, tie_weights=True), vocab


def test_generation_is_reproducible_with_a_seed():
    model, vocab = small_lm()
    first = generate(model, vocab, "the cat", max_tokens=10, seed=7, stop_token=None)
    assert first == generate(model, vocab, "the cat", max_tokens=10, seed=7, stop_token=None)
    assert first.startswith("the cat") and len(first.split()) == 12


def test_temperature_towards_zero_is_greedy():
    model, vocab = small_lm()
    greedy = generate(model, vocab, "the", max_tokens=8, strategy="greedy", stop_token=None)
    assert generate(model, vocab, "the", max_tokens=8, temperature=1e-4, seed=1, stop_token=None) == greedy
    assert generate(model, vocab, "the", max_tokens=8, top_k=1, seed=2, stop_token=None) == greedy


def test_language_model_state_carries_across_windows():
    model, vocab = small_lm()
    model.eval()
    tokens = torch.randint(0, len(vocab), (2, 10))
    whole, _ = model(tokens)
    first, state = model(tokens[:, :4])
    second, _ = model(tokens[:, 4:], LanguageModel.detach(state))
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-5, rtol=1e-5)


def test_an_adaptive_softmax_scores_the_whole_vocab_and_its_loss_agrees():
    torch.manual_seed(0)
    model = LanguageModel(50, 8, 16, num_layers=1, adaptive_cutoffs=(10, 30)).eval()
    tokens = torch.randint(0, 50, (3, 6))
    scores, _ = model(tokens)
    assert scores.shape == (3, 6, 16)  # the top layer's outputs: clusters are scored where needed
    log_probs = model.log_probs(scores)
    assert log_probs.shape == (3, 6, 50)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(3, 6), atol=1e-5)
    targets = torch.randint(0, 50, (3, 6))
    by_hand = -log_probs.gather(-1, targets.unsqueeze(-1)).mean()
    assert torch.allclose(model.loss(scores, targets), by_hand, atol=1e-5)


def test_distinct_rows_finds_each_spelling_once_and_where_every_row_went():
    from nlprnn.models.heads import distinct_rows

    torch.manual_seed(0)
    rows = torch.randint(0, 4, (200, 3))
    spellings, where = distinct_rows(rows)
    assert torch.equal(spellings[where], rows)
    assert len(spellings) == len(torch.unique(rows, dim=0)) and len({tuple(r) for r in spellings.tolist()}) == len(spellings)
    empty, where = distinct_rows(torch.zeros(0, 3, dtype=torch.long))
    assert empty.shape == (0, 3) and where.shape == (0,)

