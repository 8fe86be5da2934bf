"""Layer-norm LSTM/GRU recurrences as Triton kernels, forward and backward (the math of ``layer_norm_rnn``).

What runs per time step, as Haste's ``LayerNormLSTM`` does in CUDA: the recurrent product ``h @ W_h^T`` by
cuBLAS (``torch.mm``), then **one** fused kernel for everything elementwise and both layer norms of the
step; backward, one fused kernel per step in reverse (every gate's gradient, both layer norms' backward,
the mask) and one ``addmm`` for the gradient flowing to ``h_{t-1}``. ``dW_h`` is one matrix product over
all steps at the end, and the layer-norm parameters' gradients are summed per row inside the kernels (no
atomics: one program owns one batch row). Only ``R_t = h_{t-1} W_h^T`` and the states are kept for
backward; the rest is recomputed there.

The input side ``LN_x(W_x x) + b`` stays outside (one batched op over all steps, differentiated by
autograd); the kernels take it as ``x_gates``. Lengths are by masking as in the eager cell:
``h_t = lerp(h_{t-1}, h_new, keep_t)``.

Importing this module needs ``triton``; ``LayerNormRNNLayer`` imports it only when the kernels are asked
for (on CUDA by default). On a CPU, ``TRITON_INTERPRET=1`` (set before triton is first imported) runs the
same kernels through Triton's interpreter on CPU tensors: that is how they are tested without a GPU.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import triton
import triton.language as tl
from torch import Tensor

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"


def usable_on(device: torch.device) -> bool:
    """Whether the kernels can run on tensors of ``device``: CUDA, or any device under the interpreter."""
    return device.type == "cuda" or INTERPRETED


@triton.jit
def _tanh(x):  # type: ignore[no-untyped-def]
    return 2.0 * tl.sigmoid(2.0 * x) - 1.0


@triton.jit
def _normalized4(r, row4, j, m, H, eps):  # type: ignore[no-untyped-def]
    """LN's normalization (no affine) of a row's 4H recurrent pre-activations, as four H-wide chunks."""
    r_i = tl.load(r + row4 + j, mask=m, other=0.0).to(tl.float32)
    r_f = tl.load(r + row4 + H + j, mask=m, other=0.0).to(tl.float32)
    r_g = tl.load(r + row4 + 2 * H + j, mask=m, other=0.0).to(tl.float32)
    r_o = tl.load(r + row4 + 3 * H + j, mask=m, other=0.0).to(tl.float32)
    mean = (tl.sum(r_i, 0) + tl.sum(r_f, 0) + tl.sum(r_g, 0) + tl.sum(r_o, 0)) / (4 * H)
    d_i = tl.where(m, r_i - mean, 0.0)
    d_f = tl.where(m, r_f - mean, 0.0)
    d_g = tl.where(m, r_g - mean, 0.0)
    d_o = tl.where(m, r_o - mean, 0.0)
    var = (tl.sum(d_i * d_i, 0) + tl.sum(d_f * d_f, 0) + tl.sum(d_g * d_g, 0) + tl.sum(d_o * d_o, 0)) / (4 * H)
    rstd = 1.0 / tl.sqrt(var + eps)
    return d_i * rstd, d_f * rstd, d_g * rstd, d_o * rstd, rstd


@triton.jit
def _normalized3(r, row3, j, m, H, eps):  # type: ignore[no-untyped-def]
    """The same for a GRU's 3H: r, z, n."""
    r_r = tl.load(r + row3 + j, mask=m, other=0.0).to(tl.float32)
    r_z = tl.load(r + row3 + H + j, mask=m, other=0.0).to(tl.float32)
    r_n = tl.load(r + row3 + 2 * H + j, mask=m, other=0.0).to(tl.float32)
    mean = (tl.sum(r_r, 0) + tl.sum(r_z, 0) + tl.sum(r_n, 0)) / (3 * H)
    d_r = tl.where(m, r_r - mean, 0.0)
    d_z = tl.where(m, r_z - mean, 0.0)
    d_n = tl.where(m, r_n - mean, 0.0)
    rstd = 1.0 / tl.sqrt((tl.sum(d_r * d_r, 0) + tl.sum(d_z * d_z, 0) + tl.sum(d_n * d_n, 0)) / (3 * H) + eps)
    return d_r * rstd, d_z * rstd, d_n * rstd, rstd


@triton.jit
def _lstm_cell(xg, row4, j, m, H, n_i, n_f, n_g, n_o, ln_w, ln_b, cp):  # type: ignore[no-untyped-def]
    """The gates' activations and the new (unnormalized) cell from the normalized recurrent part."""
    s_i = tl.sigmoid(tl.load(xg + row4 + j, mask=m, other=0.0).to(tl.float32)
                     + n_i * tl.load(ln_w + j, mask=m, other=0.0) + tl.load(ln_b + j, mask=m, other=0.0))
    s_f = tl.sigmoid(tl.load(xg + row4 + H + j, mask=m, other=0.0).to(tl.float32)
                     + n_f * tl.load(ln_w + H + j, mask=m, other=0.0) + tl.load(ln_b + H + j, mask=m, other=0.0))
    t_g = _tanh(tl.load(xg + row4 + 2 * H + j, mask=m, other=0.0).to(tl.float32)
                + n_g * tl.load(ln_w + 2 * H + j, mask=m, other=0.0) + tl.load(ln_b + 2 * H + j, mask=m, other=0.0))
    s_o = tl.sigmoid(tl.load(xg + row4 + 3 * H + j, mask=m, other=0.0).to(tl.float32)
                     + n_o * tl.load(ln_w + 3 * H + j, mask=m, other=0.0) + tl.load(ln_b + 3 * H + j, mask=m, other=0.0))
    return s_i, s_f, t_g, s_o, s_f * cp + s_i * t_g


@triton.jit
def _cell_normalized(c_new, m, H, eps):  # type: ignore[no-untyped-def]
    """LN_c's normalization of the new cell (where it feeds h), and its 1/std."""
    c_mean = tl.sum(tl.where(m, c_new, 0.0), 0) / H
    dc = tl.where(m, c_new - c_mean, 0.0)
    c_rstd = 1.0 / tl.sqrt(tl.sum(dc * dc, 0) / H + eps)
    return dc * c_rstd, c_rstd


@triton.jit
def _gru_gates(xg, row3, j, m, H, n_r, n_z, n_n, ln_w, ln_b):  # type: ignore[no-untyped-def]
    """r, z, n and the normalized recurrent candidate part hn."""
    hn = n_n * tl.load(ln_w + 2 * H + j, mask=m, other=0.0) + tl.load(ln_b + 2 * H + j, mask=m, other=0.0)
    rg = tl.sigmoid(tl.load(xg + row3 + j, mask=m, other=0.0).to(tl.float32)
                    + n_r * tl.load(ln_w + j, mask=m, other=0.0) + tl.load(ln_b + j, mask=m, other=0.0))
    z = tl.sigmoid(tl.load(xg + row3 + H + j, mask=m, other=0.0).to(tl.float32)
                   + n_z * tl.load(ln_w + H + j, mask=m, other=0.0) + tl.load(ln_b + H + j, mask=m, other=0.0))
    n = _tanh(tl.load(xg + row3 + 2 * H + j, mask=m, other=0.0).to(tl.float32) + rg * hn)
    return rg, z, n, hn


# ---- LSTM --------------------------------------------------------------------------------------------

@triton.jit
def _lstm_forward_step(xg, r, h_prev, c_prev, keep, ln_w, ln_b, lc_w, lc_b, h_out, c_out,  # type: ignore[no-untyped-def]
                       H, eps, BLOCK: tl.constexpr):
    b = tl.program_id(0)
    j = tl.arange(0, BLOCK)
    m = j < H
    row4 = b * 4 * H
    row = b * H
    n_i, n_f, n_g, n_o, rstd = _normalized4(r, row4, j, m, H, eps)  # LN_h of the recurrent part
    hp = tl.load(h_prev + row + j, mask=m, other=0.0).to(tl.float32)
    cp = tl.load(c_prev + row + j, mask=m, other=0.0).to(tl.float32)
    s_i, s_f, t_g, s_o, c_new = _lstm_cell(xg, row4, j, m, H, n_i, n_f, n_g, n_o, ln_w, ln_b, cp)
    cn, c_rstd = _cell_normalized(c_new, m, H, eps)  # LN_c where the cell feeds h; the raw cell is carried
    h_new = s_o * _tanh(cn * tl.load(lc_w + j, mask=m) + tl.load(lc_b + j, mask=m))
    k = tl.load(keep + b).to(tl.float32)
    tl.store(h_out + row + j, hp + k * (h_new - hp), mask=m)
    tl.store(c_out + row + j, cp + k * (c_new - cp), mask=m)


@triton.jit
def _lstm_backward_step(xg, r, h_prev, c_prev, keep, ln_w, ln_b, lc_w, lc_b,  # type: ignore[no-untyped-def]
                        grad_h_out, grad_c_out, grad_h, grad_c, grad_xg, grad_r, grad_h_part,
                        acc_ln_w, acc_ln_b, acc_lc_w, acc_lc_b, H, eps, BLOCK: tl.constexpr):
    b = tl.program_id(0)
    j = tl.arange(0, BLOCK)
    m = j < H
    row4 = b * 4 * H
    row = b * H
    # recompute the step's forward values
    n_i, n_f, n_g, n_o, rstd = _normalized4(r, row4, j, m, H, eps)
    cp = tl.load(c_prev + row + j, mask=m, other=0.0).to(tl.float32)
    s_i, s_f, t_g, s_o, c_new = _lstm_cell(xg, row4, j, m, H, n_i, n_f, n_g, n_o, ln_w, ln_b, cp)
    cn, c_rstd = _cell_normalized(c_new, m, H, eps)
    wc = tl.load(lc_w + j, mask=m, other=0.0)
    t_c = _tanh(cn * wc + tl.load(lc_b + j, mask=m, other=0.0))
    w_i = tl.load(ln_w + j, mask=m, other=0.0)
    w_f = tl.load(ln_w + H + j, mask=m, other=0.0)
    w_g = tl.load(ln_w + 2 * H + j, mask=m, other=0.0)
    w_o = tl.load(ln_w + 3 * H + j, mask=m, other=0.0)
    # the mask: h_t = h_{t-1} + k (h_new - h_{t-1}), and the same for c
    k = tl.load(keep + b).to(tl.float32)
    gh = tl.load(grad_h_out + row + j, mask=m, other=0.0).to(tl.float32) + tl.load(grad_h + row + j, mask=m, other=0.0)
    gc = tl.load(grad_c_out + row + j, mask=m, other=0.0).to(tl.float32) + tl.load(grad_c + row + j, mask=m, other=0.0)
    gh_new = k * gh
    gc_new = k * gc
    # h_new = sigmoid(o) * tanh(LN_c(c_new))
    g_o = gh_new * t_c * s_o * (1.0 - s_o)
    g_cl = tl.where(m, gh_new * s_o * (1.0 - t_c * t_c), 0.0)
    tl.store(acc_lc_w + row + j, tl.load(acc_lc_w + row + j, mask=m, other=0.0) + g_cl * cn, mask=m)
    tl.store(acc_lc_b + row + j, tl.load(acc_lc_b + row + j, mask=m, other=0.0) + g_cl, mask=m)
    g_cn = g_cl * wc
    gc_new += c_rstd * (g_cn - tl.sum(g_cn, 0) / H - cn * (tl.sum(g_cn * cn, 0) / H))
    # c_new = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
    g_i = gc_new * t_g * s_i * (1.0 - s_i)
    g_f = gc_new * cp * s_f * (1.0 - s_f)
    g_g = gc_new * s_i * (1.0 - t_g * t_g)
    tl.store(grad_c + row + j, (1.0 - k) * gc + gc_new * s_f, mask=m)
    tl.store(grad_h_part + row + j, (1.0 - k) * gh, mask=m)
    tl.store(grad_xg + row4 + j, g_i, mask=m)
    tl.store(grad_xg + row4 + H + j, g_f, mask=m)
    tl.store(grad_xg + row4 + 2 * H + j, g_g, mask=m)
    tl.store(grad_xg + row4 + 3 * H + j, g_o, mask=m)
    # LN_h backward: the gates' gradient reaches the normalized product through ln_w
    tl.store(acc_ln_w + row4 + j, tl.load(acc_ln_w + row4 + j, mask=m, other=0.0) + g_i * n_i, mask=m)
    tl.store(acc_ln_w + row4 + H + j, tl.load(acc_ln_w + row4 + H + j, mask=m, other=0.0) + g_f * n_f, mask=m)
    tl.store(acc_ln_w + row4 + 2 * H + j, tl.load(acc_ln_w + row4 + 2 * H + j, mask=m, other=0.0) + g_g * n_g,
             mask=m)
    tl.store(acc_ln_w + row4 + 3 * H + j, tl.load(acc_ln_w + row4 + 3 * H + j, mask=m, other=0.0) + g_o * n_o,
             mask=m)
    tl.store(acc_ln_b + row4 + j, tl.load(acc_ln_b + row4 + j, mask=m, other=0.0) + g_i, mask=m)
    tl.store(acc_ln_b + row4 + H + j, tl.load(acc_ln_b + row4 + H + j, mask=m, other=0.0) + g_f, mask=m)
    tl.store(acc_ln_b + row4 + 2 * H + j, tl.load(acc_ln_b + row4 + 2 * H + j, mask=m, other=0.0) + g_g, mask=m)
    tl.store(acc_ln_b + row4 + 3 * H + j, tl.load(acc_ln_b + row4 + 3 * H + j, mask=m, other=0.0) + g_o, mask=m)
    q_i = tl.where(m, g_i * w_i, 0.0)
    q_f = tl.where(m, g_f * w_f, 0.0)
    q_g = tl.where(m, g_g * w_g, 0.0)
    q_o = tl.where(m, g_o * w_o, 0.0)
    q_mean = (tl.sum(q_i, 0) + tl.sum(q_f, 0) + tl.sum(q_g, 0) + tl.sum(q_o, 0)) / (4 * H)
    qn_mean = (tl.sum(q_i * n_i, 0) + tl.sum(q_f * n_f, 0) + tl.sum(q_g * n_g, 0) + tl.sum(q_o * n_o, 0)) / (4 * H)
    tl.store(grad_r + row4 + j, rstd * (q_i - q_mean - n_i * qn_mean), mask=m)
    tl.store(grad_r + row4 + H + j, rstd * (q_f - q_mean - n_f * qn_mean), mask=m)
    tl.store(grad_r + row4 + 2 * H + j, rstd * (q_g - q_mean - n_g * qn_mean), mask=m)
    tl.store(grad_r + row4 + 3 * H + j, rstd * (q_o - q_mean - n_o * qn_mean), mask=m)


# ---- GRU ---------------------------------------------------------------------------------------------

@triton.jit
def _gru_forward_step(xg, r, h_prev, keep, ln_w, ln_b, h_out, H, eps, BLOCK: tl.constexpr):  # type: ignore[no-untyped-def]
    b = tl.program_id(0)
    j = tl.arange(0, BLOCK)
    m = j < H
    row3 = b * 3 * H
    row = b * H
    n_r, n_z, n_n, rstd = _normalized3(r, row3, j, m, H, eps)
    rg, z, n, hn = _gru_gates(xg, row3, j, m, H, n_r, n_z, n_n, ln_w, ln_b)
    hp = tl.load(h_prev + row + j, mask=m, other=0.0).to(tl.float32)
    h_new = (1.0 - z) * n + z * hp
    k = tl.load(keep + b).to(tl.float32)
    tl.store(h_out + row + j, hp + k * (h_new - hp), mask=m)


@triton.jit
def _gru_backward_step(xg, r, h_prev, keep, ln_w, ln_b, grad_h_out, grad_h, grad_xg, grad_r,  # type: ignore[no-untyped-def]
                       grad_h_part, acc_ln_w, acc_ln_b, H, eps, BLOCK: tl.constexpr):
    b = tl.program_id(0)
    j = tl.arange(0, BLOCK)
    m = j < H
    row3 = b * 3 * H
    row = b * H
    n_r, n_z, n_n, rstd = _normalized3(r, row3, j, m, H, eps)
    rg, z, n, hn = _gru_gates(xg, row3, j, m, H, n_r, n_z, n_n, ln_w, ln_b)
    w_r = tl.load(ln_w + j, mask=m, other=0.0)
    w_z = tl.load(ln_w + H + j, mask=m, other=0.0)
    w_n = tl.load(ln_w + 2 * H + j, mask=m, other=0.0)
    hp = tl.load(h_prev + row + j, mask=m, other=0.0).to(tl.float32)
    k = tl.load(keep + b).to(tl.float32)
    gh = tl.load(grad_h_out + row + j, mask=m, other=0.0).to(tl.float32) + tl.load(grad_h + row + j, mask=m, other=0.0)
    gh_new = k * gh
    # h_new = (1 - z) n + z h_{t-1};  n = tanh(x_n + r * hn)
    g_z = gh_new * (hp - n) * z * (1.0 - z)
    g_npre = gh_new * (1.0 - z) * (1.0 - n * n)
    g_r = g_npre * hn * rg * (1.0 - rg)
    g_hn = g_npre * rg
    tl.store(grad_h_part + row + j, (1.0 - k) * gh + gh_new * z, mask=m)
    tl.store(grad_xg + row3 + j, g_r, mask=m)
    tl.store(grad_xg + row3 + H + j, g_z, mask=m)
    tl.store(grad_xg + row3 + 2 * H + j, g_npre, mask=m)
    tl.store(acc_ln_w + row3 + j, tl.load(acc_ln_w + row3 + j, mask=m, other=0.0) + g_r * n_r, mask=m)
    tl.store(acc_ln_w + row3 + H + j, tl.load(acc_ln_w + row3 + H + j, mask=m, other=0.0) + g_z * n_z, mask=m)
    tl.store(acc_ln_w + row3 + 2 * H + j, tl.load(acc_ln_w + row3 + 2 * H + j, mask=m, other=0.0) + g_hn * n_n,
             mask=m)
    tl.store(acc_ln_b + row3 + j, tl.load(acc_ln_b + row3 + j, mask=m, other=0.0) + g_r, mask=m)
    tl.store(acc_ln_b + row3 + H + j, tl.load(acc_ln_b + row3 + H + j, mask=m, other=0.0) + g_z, mask=m)
    tl.store(acc_ln_b + row3 + 2 * H + j, tl.load(acc_ln_b + row3 + 2 * H + j, mask=m, other=0.0) + g_hn, mask=m)
    q_r = tl.where(m, g_r * w_r, 0.0)
    q_z = tl.where(m, g_z * w_z, 0.0)
    q_n = tl.where(m, g_hn * w_n, 0.0)
    q_mean = (tl.sum(q_r, 0) + tl.sum(q_z, 0) + tl.sum(q_n, 0)) / (3 * H)
    qn_mean = (tl.sum(q_r * n_r, 0) + tl.sum(q_z * n_z, 0) + tl.sum(q_n * n_n, 0)) / (3 * H)
    tl.store(grad_r + row3 + j, rstd * (q_r - q_mean - n_r * qn_mean), mask=m)
    tl.store(grad_r + row3 + H + j, rstd * (q_z - q_mean - n_z * qn_mean), mask=m)
    tl.store(grad_r + row3 + 2 * H + j, rstd * (q_n - q_mean - n_n * qn_mean), mask=m)


# ---- autograd ----------------------------------------------------------------------------------------

def _block(hidden: int) -> int:
    return triton.next_power_of_2(hidden)


def _recurrent_weight_grad(grad_r: Tensor, h0: Tensor, hs: Tensor) -> Tensor:
    """dW_h = sum_t dR_t^T h_{t-1}, one matrix product over all steps (R_t = h_{t-1} W_h^T)."""
    h_prevs = torch.cat([h0.unsqueeze(0), hs[:-1]]).reshape(-1, hs.shape[-1]).float()
    return grad_r.reshape(-1, grad_r.shape[-1]).t() @ h_prevs


class _LayerNormLSTM(torch.autograd.Function):
    """Time-major: x_gates (T, B, 4H), keep (T, B), h0/c0 (B, H) -> states h (T, B, H), c (T, B, H)."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)  # under AMP: float32, autocast off
    def forward(ctx: Any, x_gates: Tensor, keep: Tensor, h0: Tensor, c0: Tensor, w_h: Tensor, ln_w: Tensor,
                ln_b: Tensor, lc_w: Tensor, lc_b: Tensor, eps: float) -> tuple[Tensor, Tensor]:
        steps, batch, gates = x_gates.shape
        hidden = gates // 4
        hs = x_gates.new_empty(steps, batch, hidden)
        cs = x_gates.new_empty(steps, batch, hidden)
        rs = x_gates.new_empty(steps, batch, gates)
        h, c = h0, c0
        for t in range(steps):
            torch.mm(h, w_h.t(), out=rs[t])
            _lstm_forward_step[(batch,)](x_gates[t], rs[t], h, c, keep[t], ln_w, ln_b, lc_w, lc_b, hs[t], cs[t],
                                         hidden, eps, BLOCK=_block(hidden))
            h, c = hs[t], cs[t]
        ctx.save_for_backward(x_gates, keep, h0, c0, w_h, ln_w, ln_b, lc_w, lc_b, rs, hs, cs)
        ctx.eps = eps
        return hs, cs

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: Any, grad_hs: Tensor, grad_cs: Tensor) -> tuple[Tensor | None, ...]:
        x_gates, keep, h0, c0, w_h, ln_w, ln_b, lc_w, lc_b, rs, hs, cs = ctx.saved_tensors
        steps, batch, gates = x_gates.shape
        hidden = gates // 4
        grad_hs = grad_hs.contiguous()
        grad_cs = grad_cs.contiguous()
        f32 = {"dtype": torch.float32, "device": x_gates.device}
        grad_xg = torch.empty_like(x_gates)
        grad_r = torch.empty(steps, batch, gates, **f32)
        grad_h = torch.zeros(batch, hidden, **f32)  # carried from step t + 1: dL/dh_t beyond the output's
        grad_c = torch.zeros(batch, hidden, **f32)  # carried dL/dc_t, updated in place by the kernel
        part = torch.empty(batch, hidden, **f32)
        acc_ln_w, acc_ln_b = torch.zeros(batch, gates, **f32), torch.zeros(batch, gates, **f32)
        acc_lc_w, acc_lc_b = torch.zeros(batch, hidden, **f32), torch.zeros(batch, hidden, **f32)
        w32 = w_h.float()
        for t in range(steps - 1, -1, -1):
            h_prev, c_prev = (hs[t - 1], cs[t - 1]) if t else (h0, c0)
            _lstm_backward_step[(batch,)](x_gates[t], rs[t], h_prev, c_prev, keep[t], ln_w, ln_b, lc_w, lc_b,
                                          grad_hs[t], grad_cs[t], grad_h, grad_c, grad_xg[t], grad_r[t], part,
                                          acc_ln_w, acc_ln_b, acc_lc_w, acc_lc_b, hidden, ctx.eps,
                                          BLOCK=_block(hidden))
            torch.addmm(part, grad_r[t], w32, out=grad_h)  # the kernel has read grad_h; now dL/dh_{t-1}
        grad_w = _recurrent_weight_grad(grad_r, h0, hs)
        return (grad_xg, None, grad_h.to(h0.dtype), grad_c.to(c0.dtype), grad_w.to(w_h.dtype),
                acc_ln_w.sum(0).to(ln_w.dtype), acc_ln_b.sum(0).to(ln_b.dtype),
                acc_lc_w.sum(0).to(lc_w.dtype), acc_lc_b.sum(0).to(lc_b.dtype), None)


class _LayerNormGRU(torch.autograd.Function):
    """Time-major: x_gates (T, B, 3H), keep (T, B), h0 (B, H) -> states h (T, B, H)."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx: Any, x_gates: Tensor, keep: Tensor, h0: Tensor, w_h: Tensor, ln_w: Tensor, ln_b: Tensor,
                eps: float) -> Tensor:
        steps, batch, gates = x_gates.shape
        hidden = gates // 3
        hs = x_gates.new_empty(steps, batch, hidden)
        rs = x_gates.new_empty(steps, batch, gates)
        h = h0
        for t in range(steps):
            torch.mm(h, w_h.t(), out=rs[t])
            _gru_forward_step[(batch,)](x_gates[t], rs[t], h, keep[t], ln_w, ln_b, hs[t], hidden, eps,
                                        BLOCK=_block(hidden))
            h = hs[t]
        ctx.save_for_backward(x_gates, keep, h0, w_h, ln_w, ln_b, rs, hs)
        ctx.eps = eps
        return hs

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx: Any, grad_hs: Tensor) -> tuple[Tensor | None, ...]:
        x_gates, keep, h0, w_h, ln_w, ln_b, rs, hs = ctx.saved_tensors
        steps, batch, gates = x_gates.shape
        hidden = gates // 3
        grad_hs = grad_hs.contiguous()
        f32 = {"dtype": torch.float32, "device": x_gates.device}
        grad_xg = torch.empty_like(x_gates)
        grad_r = torch.empty(steps, batch, gates, **f32)
        grad_h = torch.zeros(batch, hidden, **f32)
        part = torch.empty(batch, hidden, **f32)
        acc_ln_w, acc_ln_b = torch.zeros(batch, gates, **f32), torch.zeros(batch, gates, **f32)
        w32 = w_h.float()
        for t in range(steps - 1, -1, -1):
            h_prev = hs[t - 1] if t else h0
            _gru_backward_step[(batch,)](x_gates[t], rs[t], h_prev, keep[t], ln_w, ln_b, grad_hs[t], grad_h,
                                         grad_xg[t], grad_r[t], part, acc_ln_w, acc_ln_b, hidden, ctx.eps,
                                         BLOCK=_block(hidden))
            torch.addmm(part, grad_r[t], w32, out=grad_h)
        grad_w = _recurrent_weight_grad(grad_r, h0, hs)
        return (grad_xg, None, grad_h.to(h0.dtype), grad_w.to(w_h.dtype), acc_ln_w.sum(0).to(ln_w.dtype),
                acc_ln_b.sum(0).to(ln_b.dtype), None)


def lstm_sequence(x_gates: Tensor, keep: Tensor, h0: Tensor, c0: Tensor, w_h: Tensor, ln_h: torch.nn.LayerNorm,
                  ln_c: torch.nn.LayerNorm) -> tuple[Tensor, Tensor, Tensor]:
    """Batch-first x_gates (B, T, 4H) and keep (B, T) -> states h (B, T, H), final h and c (B, H)."""
    hs, cs = _LayerNormLSTM.apply(x_gates.transpose(0, 1).contiguous(), keep.t().contiguous(), h0.contiguous(),
                                  c0.contiguous(), w_h.contiguous(), ln_h.weight, ln_h.bias, ln_c.weight,
                                  ln_c.bias, ln_h.eps)
    return hs.transpose(0, 1), hs[-1], cs[-1]


def gru_sequence(x_gates: Tensor, keep: Tensor, h0: Tensor, w_h: Tensor,
                 ln_h: torch.nn.LayerNorm) -> tuple[Tensor, Tensor]:
    """Batch-first x_gates (B, T, 3H) and keep (B, T) -> states h (B, T, H), final h (B, H)."""
    hs = _LayerNormGRU.apply(x_gates.transpose(0, 1).contiguous(), keep.t().contiguous(), h0.contiguous(),
                             w_h.contiguous(), ln_h.weight, ln_h.bias, ln_h.eps)
    return hs.transpose(0, 1), hs[-1]
