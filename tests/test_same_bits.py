"""Faster CPU paths that must give the same bits as the PyTorch operations they stand in for: dropout's mask
(a model trained with it reproduces one trained with ``nn.Dropout`` exactly) and the CRF's exp."""

import pytest
import torch
from torch import nn

from nlprnn.models import crf as crf_module
from nlprnn.models.dropout import Dropout, dropout

INTEGERS = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def bits_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """The same dtype, shape and bits (unlike ``torch.equal``, -0.0 is not 0.0)."""
    as_int = INTEGERS[a.element_size()]
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a.reshape(-1).view(as_int), b.reshape(-1).view(as_int))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_draws_the_same_mask_as_nn_dropout(threads, dtype, p):
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for shape, transpose in [((32, 40, 400), False), ((7, 3), False), ((300, 77, 33), True), ((1,), False)]:
            x = torch.randn(shape, dtype=dtype)
            if transpose:
                x = x.transpose(0, -1)  # not contiguous: the mask follows the input's memory order, as ATen's does
            state = torch.get_rng_state()
            a = x.clone().requires_grad_(True)
            expected = nn.functional.dropout(a, p, training=True)
            expected.backward(torch.ones_like(expected))
            after_expected = torch.rand(4)
            torch.set_rng_state(state)
            b = x.clone().requires_grad_(True)
            got = dropout(b, p, training=True)
            got.backward(torch.ones_like(got))
            after_got = torch.rand(4)
            assert bits_equal(got, expected), (shape, p, dtype)
            assert bits_equal(b.grad, a.grad)
            assert torch.equal(after_got, after_expected)  # the generator moved on by the same draws
            if got.numel() > 1000:  # a mask that drops some and keeps some
                assert 0 < int((got == 0).sum()) < got.numel()
    finally:
        torch.set_num_threads(previous)


def test_dropout_module_is_nn_dropout_in_eval_and_at_the_edges():
    x = torch.randn(5, 6)
    layer = Dropout(0.5)
    layer.eval()
    assert layer(x) is x or torch.equal(layer(x), x)
    assert torch.equal(Dropout(0.0)(x), x)
    assert torch.equal(Dropout(1.0)(x), torch.zeros_like(x))
    assert isinstance(layer, nn.Dropout) and repr(layer) == "Dropout(p=0.5, inplace=False)"
    torch.manual_seed(3)
    expected = nn.Dropout(0.3, inplace=True)(x.clone())
    torch.manual_seed(3)
    assert torch.equal(Dropout(0.3, inplace=True)(x.clone()), expected)
    half = torch.randn(5, 6, dtype=torch.bfloat16)  # other dtypes: nn.Dropout itself
    torch.manual_seed(4)
    expected = nn.functional.dropout(half, 0.5, True)
    torch.manual_seed(4)
    assert torch.equal(dropout(half, 0.5, True), expected)


def test_guarded_exp_equals_exp_everywhere_including_where_it_underflows():
    z = torch.cat([torch.linspace(-120.0, -80.0, 400_001), torch.linspace(-1e5, 100.0, 10_001),
                   torch.tensor([float("-inf"), float("inf"), float("nan"), -104.0, -103.97208, -103.97206, 0.0, -0.0])])
    z = z[torch.randperm(len(z), generator=torch.Generator().manual_seed(0))]  # guarded and plain lanes mixed
    got, expected = crf_module._exp(z), z.exp()
    assert torch.equal(got.isnan(), expected.isnan())
    keep = ~expected.isnan()
    assert bits_equal(got[keep], expected[keep])
