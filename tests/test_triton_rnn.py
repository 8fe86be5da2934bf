"""The layer-norm LSTM/GRU Triton kernels give the eager cell's values and gradients.

Without a GPU they run through Triton's interpreter on CPU tensors (``TRITON_INTERPRET=1``, set here
before triton is imported): the same kernel code a GPU compiles. The tox env ``triton`` installs
triton and runs this file; elsewhere it is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest
import torch

if importlib.util.find_spec("triton") is None:
    pytest.skip("triton is not installed (tox env triton installs it)", allow_module_level=True)
if not torch.cuda.is_available():
    if "triton" in sys.modules and os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("triton was imported before TRITON_INTERPRET=1 could be set; run this file on its own "
                    "(tox env triton)", allow_module_level=True)
    os.environ["TRITON_INTERPRET"] = "1"  # Triton reads it when it is imported

from nlprnn.errors import ConfigError  # noqa: E402
from nlprnn.models import RNNEncoder  # noqa: E402
from nlprnn.models.layer_norm_rnn import LayerNormRNNLayer  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
# the kernels compute in float32, checked against float64: the eager cell in float32 itself misses by up to
# 3e-5 absolute (+ 1e-4 relative) on these sizes, the kernels by up to 5e-5 (30 seeds); a wrong gradient
# term misses by 1e-2 and more
TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}


def perturbed(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Layer-norm weights and biases away from 1 and 0, so that every parameter's gradient path is exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g))
    return module


def forward_backward(module: torch.nn.Module, dtype: torch.dtype, inputs: list[torch.Tensor], run) -> tuple:
    """Outputs and the gradients of a random projection of every output, w.r.t. inputs and parameters."""
    module = module.to(DEVICE, dtype)
    leaves = [x.to(DEVICE, dtype).requires_grad_() for x in inputs]
    outputs = run(module, *leaves)
    g = torch.Generator().manual_seed(7)
    loss = sum((o * torch.randn(o.shape, generator=g).to(DEVICE, dtype)).sum() for o in outputs)
    grads = torch.autograd.grad(loss, leaves + list(module.parameters()))
    return [o.detach().double().cpu() for o in outputs], [x.double().cpu() for x in grads]


def assert_all_close(got: list[torch.Tensor], want: list[torch.Tensor]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **TOLERANCE)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize(("batch", "steps", "inputs", "hidden"), [(3, 5, 4, 8), (4, 7, 3, 5), (5, 9, 6, 12)])
def test_one_layer_gives_the_eager_cells_outputs_final_states_and_every_gradient(cell, batch, steps, inputs, hidden):
    # ragged lengths: full, short, one step, none (the state stays the initial one)
    torch.manual_seed(batch)  # the layers' initial weights
    lengths = torch.tensor([steps, 2, 1, 0, steps - 1][:batch])
    mask = (torch.arange(steps)[None, :] < lengths[:, None]).to(DEVICE)
    g = torch.Generator().manual_seed(batch * 100 + hidden)
    x = torch.randn(batch, steps, inputs, generator=g)
    states = [torch.randn(batch, hidden, generator=g) for _ in range(2 if cell == "lstm" else 1)]
    eager = perturbed(LayerNormRNNLayer(inputs, hidden, cell, compile=False, triton=False), seed=hidden)
    kernels = LayerNormRNNLayer(inputs, hidden, cell, triton=True)
    kernels.load_state_dict(eager.state_dict())

    def run(layer, x, *state):
        out, final = layer(x, mask, tuple(state))
        return [out, *final]

    want = forward_backward(eager, torch.float64, [x, *states], run)
    got = forward_backward(kernels, torch.float32, [x, *states], run)
    assert_all_close(got[0], want[0])  # outputs (zero at padded steps) and final states
    assert_all_close(got[1], want[1])  # d/dx, d/dh0 (d/dc0), then every parameter
    if batch > 3:
        assert got[0][0][3].abs().max() == 0  # the row of length 0 has only padding
        torch.testing.assert_close(got[0][1][3], states[0][3].double(), **TOLERANCE)  # ... and keeps its h0


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_bidirectional_two_layer_encoder_runs_the_kernels_exactly_on_ragged_batches(cell):
    torch.manual_seed(7)  # the encoders' initial weights
    lengths = torch.tensor([6, 3, 5, 1])
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 6, 5, generator=g)
    eager = perturbed(RNNEncoder(5, 7, num_layers=2, cell=cell, bidirectional=True, layer_norm=True,
                                 compile=False, triton=False), seed=4)
    kernels = RNNEncoder(5, 7, num_layers=2, cell=cell, bidirectional=True, layer_norm=True, triton=True)
    kernels.load_state_dict(eager.state_dict())

    def run(encoder, x):
        out, state = encoder(x, lengths)
        return [out, *(state if isinstance(state, tuple) else (state,))]

    want = forward_backward(eager, torch.float64, [x], run)
    got = forward_backward(kernels, torch.float32, [x], run)
    assert_all_close(got[0], want[0])
    assert_all_close(got[1], want[1])


def test_float64_is_refused_with_triton_true_and_stays_eager_by_default():
    layer = LayerNormRNNLayer(3, 4, "lstm", triton=True).double()
    x, mask = torch.randn(2, 3, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ConfigError, match="float32"):
        layer(x, mask)
    default = LayerNormRNNLayer(3, 4, "lstm").double()
    out, _ = default(x, mask)  # triton=None: the eager step for float64, wherever it runs
    assert out.dtype == torch.float64


@pytest.mark.cuda
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_under_mixed_precision_the_kernels_run_in_float32_and_agree_with_the_eager_cell(cell):
    # the trainer's default on CUDA is autocast: the kernels take their inputs in float32, autocast off
    torch.manual_seed(11)
    lengths = torch.tensor([9, 4, 7, 1])
    x = torch.randn(4, 9, 16, device="cuda")
    eager = RNNEncoder(16, 32, num_layers=2, cell=cell, bidirectional=True, layer_norm=True, compile=False,
                       triton=False).cuda()
    kernels = RNNEncoder(16, 32, num_layers=2, cell=cell, bidirectional=True, layer_norm=True).cuda()  # the default
    kernels.load_state_dict(eager.state_dict())
    results = []
    for encoder in (eager, kernels):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out, _ = encoder(x, lengths)
        out.float().sum().backward()
        results.append((out.float(), encoder.layers[0].weight_hh.grad.clone()))
    torch.testing.assert_close(results[1][0], results[0][0], atol=3e-2, rtol=3e-2)
    torch.testing.assert_close(results[1][1], results[0][1], atol=5e-2, rtol=5e-2)
