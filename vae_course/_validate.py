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
    # a float tensor whose sum is finite holds no NaN or ±inf (both propagate through a sum): one cheap
    # pass for the common case; the exact test only when the sum is not finite (it may also overflow)
    finite_sum = x.is_floating_point() and bool(torch.isfinite(x.detach().sum()))
    if not finite_sum and not torch.isfinite(x).all():
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


def count(n, name: str, *, minimum: int = 1, of: str = "") -> int:
    """Return `n` if it is a whole number ≥ `minimum` (True and 2.0 are not), else a ValueError.

    `of` completes the message: count(k, "k", of="samples") → "k must be a positive whole number of samples".
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        kind = "a positive whole number" if minimum == 1 else "a whole number"
        bound = "" if minimum == 1 else f" ≥ {minimum}"
        raise ValueError(f"{name} must be {kind}{f' of {of}' if of else ''}{bound}, got {n!r}.")
    return int(n)


def levels(levels, name: str, n_levels: int) -> Tensor:
    """Return `levels` as int64 if it is an integer tensor with entries in 0..n_levels − 1, else a TypeError/ValueError."""
    if not isinstance(levels, Tensor) or levels.is_floating_point() or levels.dtype == torch.bool:
        got = type(levels).__name__ if not isinstance(levels, Tensor) else f"a tensor of dtype {levels.dtype}"
        raise TypeError(f"{name} must be an integer tensor of grey levels 0..{n_levels - 1} (e.g. digits.levels), "
                        f"got {got}.")
    if levels.numel() and (levels.min() < 0 or levels.max() >= n_levels):
        raise ValueError(f"{name} must lie in 0..{n_levels - 1}; got values in "
                         f"{levels.min().item()}..{levels.max().item()}.")
    return levels.long()
