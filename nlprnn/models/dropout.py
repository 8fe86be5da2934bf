"""Dropout that draws its mask faster on CPU: the same mask, bit for bit, from the same random state.

On CPU ``nn.Dropout`` draws its keep mask with ``bernoulli_(1 - p)``, which takes one float64 uniform draw
of the generator per element and keeps the element where the draw is below ``1 - p``. Drawing the same
float64 uniforms with ``uniform_`` and comparing them does the same draws in the same order, so the mask,
the outputs, the gradients and the generator's state after it are identical, at about 2.5x the speed
(5.0 -> 2.0 ms for a (32, 40, 400) mask, one thread; ``benchmarks/README.md``). Elsewhere (CUDA's fused
kernel, other dtypes, in-place) it is ``nn.Dropout`` itself.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

#: dtypes whose masks were checked equal to ``bernoulli_``'s (tests/test_same_bits.py)
_SAME_DRAWS = (torch.float32, torch.float64)


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """``nn.functional.dropout(x, p, training)``, its mask drawn as described in the module docstring."""
    if not training or not 0.0 < p < 1.0 or x.device.type != "cpu" or x.dtype not in _SAME_DRAWS or x.numel() == 0:
        return nn.functional.dropout(x, p, training)
    keep = 1.0 - p
    noise = (torch.empty_like(x, dtype=torch.float64).uniform_() < keep).to(x.dtype)
    noise.div_(keep)  # as ATen's _dropout does: the mask scaled in the input's dtype, then one product
    return x * noise


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the mask drawn by ``dropout`` above: the same outputs from the same seed."""

    def forward(self, input: Tensor) -> Tensor:
        if self.inplace:
            return super().forward(input)
        return dropout(input, self.p, self.training)
