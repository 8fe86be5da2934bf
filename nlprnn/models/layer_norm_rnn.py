"""Layer-normalized LSTM and GRU layers (Ba, Kiros & Hinton 2016, "Layer Normalization", sec. 3.1).

LSTM, as in the paper (not the variant of PyTorch's ``custom_lstms.py``/TF-Addons, which carry the
normalized cell): the input and recurrent pre-activations are normalized separately, the cell state
only where it feeds ``h_t``, and the *unnormalized* cell is carried::

    gates = LN_x(W_x x_t) + LN_h(W_h h_{t-1}) + b          # (B, 4H): i, f, g, o
    c_t   = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    h_t   = sigmoid(o) * tanh(LN_c(c_t))

GRU, the same idea: ``r, z, n`` from ``LN_x(W_x x_t)`` and ``LN_h(W_h h_{t-1})``, ``n = tanh(x_n + r * h_n)``.

Relation to the plain cells (tested): with every LN replaced by the identity, the LSTM step is
``nn.LSTMCell``'s and the GRU step ``nn.GRUCell``'s, with the bias on the input side (``bias_hh = 0``).

Speed: ``LN_x(W_x x)`` is computed for all time steps at once, outside the recurrence; only the
step (one matrix product plus elementwise work) runs per time step. On CUDA with triton installed
the whole recurrence, forward and backward, runs as fused Triton kernels (``nlprnn.models.triton_rnn``,
one kernel per step each way, beside cuBLAS's product); otherwise the step is compiled with
``torch.compile`` on CUDA (eager where compiling fails) and eager on CPU (where compiling measured no
faster). Variable lengths are handled by masking: a sequence's state stops changing after its last
token, so final states are exact. Layers run forward in time; the
encoder runs the backward direction on sequences reversed within their own lengths.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nlprnn.errors import ConfigError

#: what the Triton kernels take (they compute in float32); float64 stays on the eager step
KERNEL_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_TRITON_FAILED: list[Exception] = []  # once the kernels failed here, the default stops trying (per process)
_COMPILED: dict[str, Callable[..., tuple[Tensor, ...]]] = {}


def lstm_step(x_t: Tensor, h: Tensor, c: Tensor, keep: Tensor, w_h: Tensor, ln_h_w: Tensor, ln_h_b: Tensor,
              ln_c_w: Tensor, ln_c_b: Tensor) -> tuple[Tensor, Tensor]:
    """One LN-LSTM step. ``x_t`` = LN_x(W_x x_t) + b, (B, 4H); ``keep`` (B, 1) is 1 where the step is real."""
    hidden = h.shape[-1]
    gates = x_t + F.layer_norm(h @ w_h.t(), (4 * hidden,), ln_h_w, ln_h_b)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(F.layer_norm(c_new, (hidden,), ln_c_w, ln_c_b))
    return torch.lerp(h, h_new, keep), torch.lerp(c, c_new, keep)


def gru_step(x_t: Tensor, h: Tensor, keep: Tensor, w_h: Tensor, ln_h_w: Tensor, ln_h_b: Tensor) -> Tensor:
    """One LN-GRU step. ``x_t`` = LN_x(W_x x_t) + b, (B, 3H)."""
    hidden = h.shape[-1]
    x_r, x_z, x_n = x_t.chunk(3, dim=-1)
    h_r, h_z, h_n = F.layer_norm(h @ w_h.t(), (3 * hidden,), ln_h_w, ln_h_b).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    h_new = (1 - z) * n + z * h
    return torch.lerp(h, h_new, keep)


class _CompiledOrEager:
    """``torch.compile(step)``, falling back to the eager step (once, with a warning) if compiling fails,
    e.g. where no C compiler is installed for the inductor backend."""

    def __init__(self, eager: Callable[..., tuple[Tensor, ...]]) -> None:
        self.eager = eager
        self.compiled: Callable[..., tuple[Tensor, ...]] | None
        try:
            self.compiled = torch.compile(eager, dynamic=True)  # type: ignore[call-overload]
        except Exception as error:
            warnings.warn(f"torch.compile unavailable ({error}); the layer-norm RNN runs eagerly", stacklevel=2)
            self.compiled = None

    def __call__(self, *args: Tensor) -> tuple[Tensor, ...]:
        if self.compiled is not None:
            try:
                return self.compiled(*args)
            except Exception as error:  # backend failure at first use
                warnings.warn(f"torch.compile failed ({type(error).__name__}: {error}); "
                              "the layer-norm RNN runs eagerly", stacklevel=2)
                self.compiled = None
        return self.eager(*args)


def _step_function(name: str, compile: bool) -> Callable[..., tuple[Tensor, ...]]:
    """The step, compiled once per process (shared by every layer) or eager."""
    eager = {"lstm": lstm_step, "gru": gru_step}[name]
    if not compile:
        return eager  # type: ignore[return-value]
    if name not in _COMPILED:
        _COMPILED[name] = _CompiledOrEager(eager)  # type: ignore[arg-type]
    return _COMPILED[name]


class LayerNormRNNLayer(nn.Module):
    """One direction of one layer: ``cell`` is ``"lstm"`` or ``"gru"``; batch-first tensors."""

    def __init__(self, input_size: int, hidden_size: int, cell: str = "lstm", compile: bool | None = None,
                 triton: bool | None = None) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ConfigError(f"layer norm supports cell 'lstm' or 'gru', not {cell!r}")
        gates = 4 if cell == "lstm" else 3
        self.cell = cell
        self.hidden_size = hidden_size
        self.use_compile = compile
        self.use_triton = triton
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.zeros(gates * hidden_size))
        self.ln_x = nn.LayerNorm(gates * hidden_size)
        self.ln_h = nn.LayerNorm(gates * hidden_size)
        self.ln_c = nn.LayerNorm(hidden_size) if cell == "lstm" else None
        bound = hidden_size ** -0.5  # as nn.LSTM initializes
        nn.init.uniform_(self.weight_ih, -bound, bound)
        nn.init.uniform_(self.weight_hh, -bound, bound)

    def forward(self, x: Tensor, mask: Tensor, state: tuple[Tensor, ...] | None = None) -> tuple[Tensor, tuple[Tensor, ...]]:
        """x (B, T, I), mask (B, T) True at real steps (a prefix) -> outputs (B, T, H), final state(s) (B, H)."""
        batch, steps, _ = x.shape
        # the input projection and its normalization, for all steps at once (hoisted out of the loop)
        x_gates = self.ln_x(x @ self.weight_ih.t()) + self.bias  # (B, T, G*H)
        zeros = x.new_zeros(batch, self.hidden_size)
        keep = mask.to(x.dtype).unsqueeze(-1)  # (B, T, 1)
        kernels = self._kernels_for(x) if steps else None
        if kernels is not None:
            try:
                return self._forward_triton(kernels, x_gates, keep, state, zeros)
            except Exception as error:  # e.g. triton cannot compile for this GPU: the default falls back
                if self.use_triton:
                    raise
                warnings.warn(f"the layer-norm Triton kernels failed ({type(error).__name__}: {error}); "
                              "this process runs the compiled/eager step instead", stacklevel=2)
                _TRITON_FAILED.append(error)
        step = _step_function(self.cell, x.is_cuda if self.use_compile is None else self.use_compile)
        outputs = []
        if self.cell == "lstm":
            h, c = state if state is not None else (zeros, zeros)
            assert self.ln_c is not None
            for x_t, k_t in zip(x_gates.unbind(1), keep.unbind(1)):
                h, c = step(x_t, h, c, k_t, self.weight_hh, self.ln_h.weight, self.ln_h.bias,
                            self.ln_c.weight, self.ln_c.bias)
                outputs.append(h)
            final: tuple[Tensor, ...] = (h, c)
        else:
            h = state[0] if state is not None else zeros
            for x_t, k_t in zip(x_gates.unbind(1), keep.unbind(1)):
                h = step(x_t, h, k_t, self.weight_hh, self.ln_h.weight, self.ln_h.bias)  # type: ignore[assignment]
                outputs.append(h)
            final = (h,)
        out = torch.stack(outputs, dim=1) * keep  # zeros at padded steps
        return out, final

    def _kernels_for(self, x: Tensor) -> Any:
        """The Triton kernels' module if this call runs them, else None: ``triton=None`` means on CUDA,
        for the dtypes they take, where triton imports (and until they failed once in this process)."""
        if self.use_triton is False:
            return None
        if self.use_triton is None and (_TRITON_FAILED or not x.is_cuda or x.dtype not in KERNEL_DTYPES):
            return None
        if x.dtype not in KERNEL_DTYPES:
            raise ConfigError(f"the Triton kernels compute in float32 and take float32/float16/bfloat16, not {x.dtype}; "
                              "use triton=None or False for this dtype")
        kernels = _triton_kernels(required=self.use_triton is True)
        if kernels is None:
            return None
        if not kernels.usable_on(x.device):
            if self.use_triton:
                raise ConfigError("the Triton kernels run on CUDA tensors (on a CPU only under TRITON_INTERPRET=1, "
                                  "for testing); use triton=None or False here")
            return None
        return kernels

    def _forward_triton(self, kernels: Any, x_gates: Tensor, keep: Tensor, state: tuple[Tensor, ...] | None,
                        zeros: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        mask = keep.squeeze(-1)
        if self.cell == "lstm":
            assert self.ln_c is not None
            h0, c0 = state if state is not None else (zeros, zeros)
            hs, h, c = kernels.lstm_sequence(x_gates, mask, h0, c0, self.weight_hh, self.ln_h, self.ln_c)
            return hs * keep, (h, c)
        h0 = state[0] if state is not None else zeros
        hs, h = kernels.gru_sequence(x_gates, mask, h0, self.weight_hh, self.ln_h)
        return hs * keep, (h,)


def triton_usable(device: torch.device) -> bool:
    """Whether the layer-norm Triton kernels can run on ``device`` here (triton installed; CUDA, or a CPU
    under Triton's interpreter)."""
    kernels = _triton_kernels(required=False)
    return kernels is not None and bool(kernels.usable_on(device))


def _triton_kernels(required: bool) -> Any:
    """``nlprnn.models.triton_rnn``, imported on first use; None where triton is not installed (unless
    ``required``: then a clear error)."""
    try:
        triton_rnn = importlib.import_module("nlprnn.models.triton_rnn")
    except ImportError as error:
        if required:
            raise ConfigError(f"triton=True needs the triton package ({error}); pip install triton") from error
        return None
    return triton_rnn
