"""Notebook 00's practice exercise: the N(0, 1) density, the reference the demo check compares with."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import _validate as v
from ..probability import standard_normal_log_prob


def normal_density(x: Tensor) -> Tensor:
    """φ(x) = exp(−x²/2)/√(2π), the N(0, 1) density, elementwise: any shape → the same shape."""
    x = v.tensor(x, "x")
    return torch.exp(standard_normal_log_prob(x))


__all__ = ["normal_density"]
