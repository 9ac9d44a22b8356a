"""Input checks shared by the package: clear messages instead of deep tracebacks or NaNs."""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor


def tensor(x, name: str, *, dtype: torch.dtype | None = None) -> Tensor:
    """Return `x` as a floating tensor, or raise a TypeError/ValueError naming `name`.

    Accepts a torch.Tensor (kept on its device); anything else is a TypeError that says what to do.
    NaN or infinite entries are a ValueError.
    """
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(x).__name__}; "
            f"wrap it with torch.tensor(...) or torch.as_tensor(...)."
        )
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    if dtype is not None:
        x = x.to(dtype)
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).sum().item()
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); expected finite numbers.")
    return x


def scalar(x, name: str, *, positive: bool = False, nonzero: bool = False) -> float:
    """Return `x` as a Python float (a number or a one-element tensor), checked for sign."""
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise ValueError(f"{name} must be a single number, got a tensor of shape {tuple(x.shape)}.")
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}.")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}.")
    if positive and x <= 0:
        raise ValueError(f"{name} must be > 0, got {x}.")
    if nonzero and x == 0:
        raise ValueError(f"{name} must not be 0: the map would not be invertible.")
    return x


def one_of(value, name: str, options) -> str:
    """Return `value` if it is one of `options`, else a ValueError listing them."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}.")
    return value


def in_open_unit_interval(u: Tensor, name: str) -> Tensor:
    """Raise a ValueError unless every entry of `u` lies in (0, 1)."""
    if ((u <= 0) | (u >= 1)).any():
        raise ValueError(f"{name} must lie strictly between 0 and 1 (probabilities); "
                         f"got values in [{u.min().item():.3g}, {u.max().item():.3g}].")
    return u
