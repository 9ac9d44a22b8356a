"""Checkers of notebook 01: Exercise 1.1 (inverse-CDF sampler), 1.2 (affine pushforward density)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import distributions as dist
from ._core import CheckFailed, Exercise, _gen, matches, returns_tensor


# ---------------------------------------------------------------- Exercise 1.1: inverse-CDF sampler

def _u() -> Tensor:
    return 0.01 + 0.98 * torch.rand(6, generator=_gen(11), dtype=torch.float64)


def _icdf_shape(fn):
    u = _u().reshape(2, 3)
    returns_tensor(fn, u, 1.0, shape=u.shape, name="exponential_icdf")


def _icdf_values(rate):
    def check(fn):
        u = _u()
        got = returns_tensor(fn, u, rate, shape=u.shape, name="exponential_icdf")
        matches(got, dist.exponential_icdf(u, rate), f"rate = {rate:g}", inputs={"u": u}, mistakes={
            "−log(u)/rate = F⁻¹(1 − u): right distribution, but not the inverse CDF (it decreases in u).":
                -torch.log(u) / rate,
            "−log(1 − u)·rate: the rate should divide (Exponential(rate) has mean 1/rate).":
                -torch.log1p(-u) * rate,
            "log(1 − u)/rate: the minus sign is missing, and an exponential draw is never negative.":
                torch.log1p(-u) / rate,
            "1 − exp(−rate·u): that is the CDF F evaluated at u, the map the other way round.":
                1 - torch.exp(-rate * u),
            "−log(1 − u) without dividing by the rate.": -torch.log1p(-u),
        })
    check.__name__ = f"values at rate {rate}"
    return check


def _icdf_increasing(fn):
    u = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    out = returns_tensor(fn, u, 1.0, shape=u.shape, name="exponential_icdf")
    if not (out.diff() > 0).all():
        raise CheckFailed("an inverse CDF increases with u, and yours does not; "
                          "F⁻¹ must send small u to small x.")


exercise_1_1 = Exercise("1.1", "exponential_icdf", dist.exponential_icdf,
                        [_icdf_shape, _icdf_values(2.5), _icdf_values(0.5), _icdf_increasing])


# ---------------------------------------------------------------- Exercise 1.2: affine pushforward density

_X = torch.linspace(-4, 6, 11, dtype=torch.float64)


def _phi(z: Tensor) -> Tensor:
    return torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)


def _affine_mistakes(a: float, b: float) -> dict[str, Tensor]:
    x = _X
    return {
        "φ((x − b)/a) without the factor 1/|a|: the density no longer integrates to 1.": _phi((x - b) / a),
        "φ(a·x + b)·|a|: that pushes x forward through g; the formula needs g⁻¹(x) = (x − b)/a.":
            _phi(a * x + b) * abs(a),
        "φ((x − b)/a)/a: with a < 0 that is negative; the Jacobian factor is 1/|a|.": _phi((x - b) / a) / a,
        "φ((x − b)/a)/a²: divide by |a| (the slope of g), not by the variance a².": _phi((x - b) / a) / a**2,
        "φ((x − b)/a)·|a|: the factor is 1/|a|; multiplying by |a| gives too much mass when |a| > 1.":
            _phi((x - b) / a) * abs(a),
        "exp(−t²/2)/|a| without 1/√(2π): the N(0, 1) density has that constant.":
            torch.exp(-0.5 * ((x - b) / a) ** 2) / abs(a),
        "the log-density: return p_X(x) itself (take exp).": torch.log(_phi((x - b) / a) / abs(a)),
        "φ((x + b)/a)/|a|: the inverse of g is (x − b)/a.": _phi((x + b) / a) / abs(a),
    }


def _affine_shape(fn):
    x = _X[:6].reshape(2, 3)
    returns_tensor(fn, x, 2.0, 1.0, shape=x.shape, name="affine_pushforward_density")


def _affine_values(a, b):
    def check(fn):
        got = returns_tensor(fn, _X, a, b, shape=_X.shape, name="affine_pushforward_density")
        matches(got, dist.affine_pushforward_density(_X, a, b), f"a = {a:g}, b = {b:g}", _affine_mistakes(a, b),
                inputs={"x": _X})
    return check


def _affine_normalised(fn):
    x = torch.linspace(-12, 10, 4001, dtype=torch.float64)
    area = torch.trapezoid(returns_tensor(fn, x, 0.7, -1.0, shape=x.shape, name="affine_pushforward_density"), x)
    if abs(area.item() - 1) > 1e-3:
        raise CheckFailed(f"a density integrates to 1; yours integrates to {area.item():.4f} for a = 0.7, b = −1.")


exercise_1_2 = Exercise("1.2", "affine_pushforward_density", dist.affine_pushforward_density,
                        [_affine_shape, _affine_values(2.0, 1.0), _affine_values(-0.5, 0.3), _affine_normalised])
