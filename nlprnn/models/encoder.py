"""RNNEncoder: multi-layer, optionally bidirectional LSTM/GRU/RNN over variable-length batches.

Shapes follow ``torch.nn.LSTM``: ``h_0``/``h_n`` are (num_layers * num_directions, batch, hidden),
layer-major with forward before backward; outputs are (batch, time, num_directions * hidden) with
``batch_first=True`` (the default here), or time-major. Outputs at padded positions are zero, and the
final state of every sequence is its state at its own last token, in both directions.

Dropout is on vertical connections only (Zaremba et al. 2014, "Recurrent Neural Network
Regularization", sec. 3): on the encoder input (``input_dropout``), between layers
(``layer_dropout``) and on the output (``output_dropout``); never on the recurrent h -> h path.

Execution without layer norm (``execution``):
- ``"packed"``: ``nn.LSTM`` on a PackedSequence (cuDNN's fast path on GPU; on CPU it loops per step).
- ``"padded"``: the same ``nn.LSTM`` weights on padded tensors, exact: each layer and direction runs as
  one fused call per *distinct length* in the batch (rows sorted by length; a segment's final states
  carry into the next, shorter prefix of rows), the backward direction on sequences reversed within
  their own lengths. Bucketed batches have one to a few distinct lengths, so this is about as fast as
  running ``nn.LSTM`` on the padded batch, and unlike that it is exact.
- ``"two_call"``: exact too, with two fused calls per layer whatever the lengths: the forward direction
  on the right-padded batch as it is (a sequence's outputs never depend on the padding after it; its
  final h is its output at ``length - 1``), the backward direction on the sequences reversed within their
  own lengths. An LSTM's final cell state, which the fused call does not return per step, comes from the
  cell's own gates over those exact outputs (c_t = f_t c_{t-1} + i_t g_t, a linear recurrence solved by a
  log-depth scan over time). Each call's weights are one contiguous buffer (cuDNN needs no compaction).
- ``"auto"`` (default): two_call on CUDA (one or two cuDNN calls per layer where packing runs one step
  per time, and the per-length segments of ``padded`` many small calls); on CPU padded when the batch
  has at most 12 distinct lengths (bucketed batches) or at most a third as many as its steps (long
  batches, where packing's step loop is slowest), else packed (measured; see the README).
With ``layer_norm=True`` the cells are ``LayerNormRNNLayer`` (masking makes them exact); on CUDA their
recurrence runs as fused Triton kernels where triton is installed (``triton=``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from nlprnn.errors import ConfigError
from nlprnn.models.dropout import Dropout
from nlprnn.models.layer_norm_rnn import LayerNormRNNLayer

State = Tensor | tuple[Tensor, Tensor]
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
EXECUTIONS = ("auto", "packed", "padded", "two_call")


def reverse_within_lengths(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of a batch-first tensor within its own length; pads stay at the end."""
    steps = x.shape[1]
    t = torch.arange(steps, device=x.device)[None, :]
    lengths = lengths.to(x.device)[:, None]
    index = torch.where(t < lengths, lengths - 1 - t, t)  # (B, T)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def contiguous_weights(params: list[Tensor]) -> list[Tensor]:
    """One layer-direction's weights as views of one buffer in cuDNN's order (w_ih, w_hh, b_ih, b_hh), so
    that a single-layer cuDNN call takes them as they are (a layer of nn.LSTM's own flat buffer other than
    the first would be compacted, with a warning, at every call). The copy is differentiable: gradients
    reach the parameters."""
    flat = torch.cat([p.reshape(-1) for p in params])
    return [view.view_as(p) for view, p in zip(flat.split([p.numel() for p in params]), params)]


def lstm_cells(x: Tensor, out: Tensor, h0: Tensor, c0: Tensor, params: list[Tensor]) -> Tensor:
    """An LSTM layer's cell state at every step (B, T, H), from its inputs and its exact outputs: the gates
    of all steps in one product, then c_t = f_t c_{t-1} + i_t g_t by a log-depth (Hillis-Steele) scan."""
    w_ih, w_hh, b_ih, b_hh = params
    h_prev = torch.cat([h0[:, None], out[:, :-1]], dim=1)
    i, f, g, _ = (nn.functional.linear(x, w_ih, b_ih) + nn.functional.linear(h_prev, w_hh, b_hh)).chunk(4, dim=-1)
    decay, add = torch.sigmoid(f), torch.sigmoid(i) * torch.tanh(g)  # step t maps c to decay_t * c + add_t
    shift, steps = 1, x.shape[1]
    while shift < steps:  # after this pass, each step holds the map of the 2*shift steps ending there
        add = torch.cat([add[:, :shift], decay[:, shift:] * add[:, :-shift] + add[:, shift:]], dim=1)
        decay = torch.cat([decay[:, :shift], decay[:, shift:] * decay[:, :-shift]], dim=1)
        shift *= 2
    return decay * c0[:, None] + add


class RNNEncoder(nn.Module):
    """A stack of recurrent layers with vertical-only dropout; see the module docstring.

    Args:
        input_size, hidden_size, num_layers, bidirectional, batch_first: as in ``nn.LSTM``.
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"`` (tanh).
        input_dropout, layer_dropout, output_dropout: dropout rates on the vertical connections.
        layer_norm: layer-normalized LSTM/GRU cells (Ba et al. 2016).
        execution: ``"auto"``, ``"packed"``, ``"padded"`` or ``"two_call"`` (without layer norm).
        compile: compile the layer-norm step with ``torch.compile`` (eager where it fails); None (default)
            compiles on CUDA only: on CPU it measured no faster than eager, after seconds of compiling.
        triton: run the layer-norm recurrence as fused Triton kernels (``nlprnn.models.triton_rnn``);
            None (default) does on CUDA where triton is installed, float32/float16/bfloat16; on CPU the
            eager (or compiled) step runs, and nothing there needs triton.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, cell: str = "lstm",
                 bidirectional: bool = False, input_dropout: float = 0.0, layer_dropout: float = 0.0,
                 output_dropout: float = 0.0, layer_norm: bool = False, batch_first: bool = True,
                 execution: str = "auto", compile: bool | None = None, triton: bool | None = None) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ConfigError(f"cell must be one of {sorted(CELLS)}, not {cell!r}")
        if execution not in EXECUTIONS:
            raise ConfigError(f"execution must be one of {', '.join(map(repr, EXECUTIONS))}, not {execution!r}")
        if layer_norm and cell == "rnn":
            raise ConfigError("layer_norm is implemented for 'lstm' and 'gru' cells")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.cell = cell
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.batch_first = batch_first
        self.layer_norm = layer_norm
        self.execution = execution
        self.input_dropout = Dropout(input_dropout)
        self.layer_dropout = Dropout(layer_dropout)
        self.output_dropout = Dropout(output_dropout)
        if layer_norm:
            self.layers = nn.ModuleList(
                LayerNormRNNLayer(input_size if layer == 0 else hidden_size * self.num_directions, hidden_size,
                                  cell, compile=compile, triton=triton)
                for layer in range(num_layers) for _ in range(self.num_directions))
        else:
            # dropout between layers is nn.LSTM's own (vertical only); padded execution applies it too
            self.rnn = CELLS[cell](input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                                   batch_first=True, dropout=layer_dropout if num_layers > 1 else 0.0)

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.num_directions

    def forward(self, inputs: Tensor | PackedSequence, lengths: Tensor | None = None,
                hx: State | None = None) -> tuple[Tensor | PackedSequence, State]:
        """inputs (B, T, I) with lengths (B,), or a PackedSequence -> (outputs, h_n or (h_n, c_n))."""
        packed_in = isinstance(inputs, PackedSequence)
        if isinstance(inputs, PackedSequence):
            x, lengths = pad_packed_sequence(inputs, batch_first=True)
        else:
            x = inputs if self.batch_first else inputs.transpose(0, 1)
        batch, steps = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.full((batch,), steps, dtype=torch.long)
        lengths = lengths.to(torch.long)
        x = self.input_dropout(x)
        if self.layer_norm:
            out, state = self._run_layer_norm(x, lengths, hx)
        elif bool((lengths == steps).all()):
            out, state = self.rnn(x, hx)  # no padding: nn.LSTM's fused path is exact
        elif (mode := self._mode(x, lengths)) == "packed":
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            packed_out, state = self.rnn(packed, hx)
            out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=steps)
        elif mode == "two_call":
            out, state = self._run_two_call(x, lengths, hx)
        else:
            out, state = self._run_padded(x, lengths, hx)
        out = self.output_dropout(out)
        if packed_in:
            return pack_padded_sequence(out, lengths.cpu(), batch_first=True, enforce_sorted=False), state
        return (out if self.batch_first else out.transpose(0, 1)), state

    #: on CPU, padded execution wins up to about this many distinct lengths in a batch (measured:
    #: 2 -> 1.27x packed's speed, 9 -> 1.17x, 17 -> 0.97x, 40 -> 0.80x; see benchmarks/encoder_bench.py),
    #: and on long batches up to a third of their steps: packing's CPU step loop costs more than linearly
    #: in the steps (T=100, 25 lengths: padded 1.7x; T=200, 50: 2.3-4.1x; T=450, 25: 7.5x; benchmarks/README.md)
    PADDED_MAX_DISTINCT_LENGTHS = 12

    def _mode(self, x: Tensor, lengths: Tensor) -> str:
        if self.execution != "auto":
            return self.execution
        if x.is_cuda:
            return "two_call"
        most = max(self.PADDED_MAX_DISTINCT_LENGTHS, x.shape[1] // 3)
        return "padded" if len(torch.unique(lengths)) <= most else "packed"

    # -- padded, exact: one fused call per distinct length ------------------------------------------
    def _run_padded(self, x: Tensor, lengths: Tensor, hx: State | None) -> tuple[Tensor, State]:
        order = torch.argsort(lengths, descending=True, stable=True)
        unorder = torch.argsort(order)
        x, lens = x[order], lengths[order]
        h0, c0 = self._split_state(hx, x, order)

        def one(layer: int, direction: int, seq: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
            k = layer * self.num_directions + direction
            return self._run_segments(layer, direction, seq, lens, h0[k], c0[k] if c0 is not None else None)

        out, state = self._layers(x, lens, one)
        if isinstance(state, tuple):
            return out[unorder], (state[0][:, unorder], state[1][:, unorder])
        return out[unorder], state[:, unorder]

    def _layers(self, x: Tensor, lengths: Tensor,
                one: Callable[[int, int, Tensor], tuple[Tensor, Tensor, Tensor | None]]) -> tuple[Tensor, State]:
        """Every layer and direction in turn, as each execution runs them: ``one(layer, direction, seq)`` runs
        one layer-direction over ``seq`` (for the backward direction, the input reversed within the lengths)
        and gives (outputs, final h, final c or None); the directions' outputs are joined, dropped out between
        layers, and the final states stacked as ``nn.LSTM`` stacks them."""
        finals_h: list[Tensor] = []
        finals_c: list[Tensor] = []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.num_directions):
                seq = layer_input if direction == 0 else reverse_within_lengths(layer_input, lengths)
                out, h, c = one(layer, direction, seq)
                outs.append(out if direction == 0 else reverse_within_lengths(out, lengths))
                finals_h.append(h)
                if c is not None:
                    finals_c.append(c)
            layer_input = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]
            if layer < self.num_layers - 1:
                layer_input = self.layer_dropout(layer_input)
        h_n = torch.stack(finals_h)
        if self.cell == "lstm":
            return layer_input, (h_n, torch.stack(finals_c))
        return layer_input, h_n

    def _params(self, layer: int, direction: int) -> list[Tensor]:
        """One layer-direction's weights, (weight_ih, weight_hh, bias_ih, bias_hh)."""
        suffix = "_reverse" if direction else ""
        return [getattr(self.rnn, f"{name}_l{layer}{suffix}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _run_segments(self, layer: int, direction: int, x: Tensor, lens: Tensor, h: Tensor,
                      c: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
        """One layer-direction over rows sorted by length (descending), one call per distinct length."""
        params = self._params(layer, direction)
        batch, steps, _ = x.shape
        out = x.new_zeros(batch, steps, self.hidden_size)
        final_h, final_c = h.clone(), (c.clone() if c is not None else None)
        start = 0
        for end in sorted(set(lens.tolist())):
            if end == 0:
                continue
            rows = int((lens >= end).sum())  # rows still running: a prefix, as rows are sorted
            segment = x[:rows, start:end]
            state: Any = (h[None, :rows], c[None, :rows]) if c is not None else h[None, :rows]
            seg_out, h_new, c_new = self._call(segment, state, params)
            out[:rows, start:end] = seg_out
            h, c = h_new[0], (c_new[0] if c_new is not None else None)
            done = lens[:rows] == end
            final_h[:rows][done] = h[done]
            if final_c is not None and c is not None:
                final_c[:rows][done] = c[done]
            start = end
        return out, final_h, final_c

    # -- two fused calls per layer, exact: forward as it is, backward within the lengths ------------
    def _run_two_call(self, x: Tensor, lengths: Tensor, hx: State | None) -> tuple[Tensor, State]:
        batch, steps = x.shape[0], x.shape[1]
        lengths = lengths.to(x.device)
        valid = (torch.arange(steps, device=x.device)[None, :] < lengths[:, None]).unsqueeze(-1)
        rows, last = torch.arange(batch, device=x.device), (lengths - 1).clamp(min=0)
        started = (lengths > 0)[:, None]  # a row of length 0 keeps its initial state
        h0, c0 = self._split_state(hx, x, None)

        def one(layer: int, direction: int, seq: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
            k = layer * self.num_directions + direction
            params = self._params(layer, direction)
            params = contiguous_weights(params) if x.is_cuda else params  # CPU kernels take them as they are
            state: Any = (h0[k][None], c0[k][None]) if c0 is not None else h0[k][None]
            out = self._call(seq.contiguous(), state, params)[0] * valid
            h = torch.where(started, out[rows, last], h0[k])
            if c0 is None:
                return out, h, None
            cells = lstm_cells(seq, out, h0[k], c0[k], params)
            return out, h, torch.where(started, cells[rows, last], c0[k])

        return self._layers(x, lengths, one)

    def _call(self, x: Tensor, state: Any, params: list[Tensor]) -> tuple[Tensor, Tensor, Tensor | None]:
        """One fused single-layer, single-direction call of the same kernel nn.LSTM/GRU/RNN uses."""
        vf: Any = torch._VF  # type: ignore[attr-defined]
        if self.cell == "lstm":
            out, h, c = vf.lstm(x, state, params, True, 1, 0.0, self.training, False, True)
            return out, h, c
        kernel = vf.gru if self.cell == "gru" else vf.rnn_tanh
        out, h = kernel(x, state, params, True, 1, 0.0, self.training, False, True)
        return out, h, None

    # -- layer norm: own cells with masking -------------------------------------------------------
    def _run_layer_norm(self, x: Tensor, lengths: Tensor, hx: State | None) -> tuple[Tensor, State]:
        mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
        h0, c0 = self._split_state(hx, x, None)

        def one(layer: int, direction: int, seq: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
            k = layer * self.num_directions + direction
            out, final = self.layers[k](seq, mask, (h0[k], c0[k]) if c0 is not None else (h0[k],))
            return out, final[0], (final[1] if self.cell == "lstm" else None)

        return self._layers(x, lengths, one)

    def _split_state(self, hx: State | None, x: Tensor, order: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """Initial (h_0, c_0) as (layers*dirs, B, H), zeros when not given, rows in ``order``."""
        shape = (self.num_layers * self.num_directions, x.shape[0], self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(shape)
            return zeros, (zeros if self.cell == "lstm" else None)
        h0, c0 = hx if isinstance(hx, tuple) else (hx, None)
        if order is not None:
            h0 = h0[:, order]
            c0 = c0[:, order] if c0 is not None else None
        return h0, c0

    def final_output(self, state: State) -> Tensor:
        """The top layer's final hidden state, forward and backward concatenated: (B, num_dirs * H)."""
        h_n = state[0] if isinstance(state, tuple) else state
        top = h_n[-self.num_directions:]  # (dirs, B, H)
        return torch.cat(list(top), dim=-1)
