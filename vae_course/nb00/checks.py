"""Notebook 00's practice check (Exercise 0.1, the N(0, 1) density): how a check cell answers."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checking import CheckFailed, Exercise, in_dtype, matches
from . import compute


def _x(dtype=torch.float64) -> Tensor:
    return torch.linspace(-3, 3, 13, dtype=torch.float64).to(dtype)


def _mistakes(x: Tensor) -> dict[str, Tensor]:
    return {
        "exp(−x²/2) without 1/√(2π): the constant that makes the area 1 is missing.": torch.exp(-0.5 * x**2),
        "exp(−x²)/√(2π): the ½ in the exponent is missing.": torch.exp(-x**2) / math.sqrt(2 * math.pi),
        "exp(−x²/2)/(2π): divide by the square root of 2π.": torch.exp(-0.5 * x**2) / (2 * math.pi),
        "exp(x²/2)/√(2π): the exponent needs its minus sign (a density falls away from 0).":
            torch.exp(0.5 * x**2) / math.sqrt(2 * math.pi),
        "the log-density −x²/2 − log √(2π): return φ(x) itself (take exp).":
            -0.5 * x**2 - 0.5 * math.log(2 * math.pi),
    }


def _shape(answer):
    for shape in ((2, 3), (), (3, 1, 2)):
        x = _x()[:math.prod(shape)].reshape(shape)
        answer.tensor(x, shape=x.shape)


def _values(dtype):
    def check(answer):
        x = _x(dtype)
        got = answer.tensor(x, shape=x.shape)
        matches(got, compute.normal_density(x.double()), f"x from −3 to 3{in_dtype(dtype)}",
                _mistakes(x.double()), inputs={"x": x}, dtype=dtype)
    check.__name__ = f"values{in_dtype(dtype)}"
    return check


def _normalised(answer):
    x = torch.linspace(-10, 10, 4001, dtype=torch.float64)
    area = torch.trapezoid(answer.tensor(x, shape=x.shape).detach().double(), x)
    if abs(area.item() - 1) > 1e-3:
        raise CheckFailed(f"a density integrates to 1; yours integrates to {area.item():.4f}.")


exercise_0_1 = Exercise("0.1", "normal_density", compute.normal_density,
                        [_shape, _values(torch.float64), _values(torch.float32), _normalised])


__all__ = ["exercise_0_1"]
