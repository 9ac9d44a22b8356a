"""Checkers of notebook 01: Exercise 1.1 (exponential inverse CDF), 1.2 (affine pushforward density), 1.3
(the log-normal density by change of variables), 1.4 (the log-density of a 2-D map, the fan)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checking import CheckFailed, Exercise, in_dtype, matches, seeded
from ..probability import standard_normal_log_prob
from . import compute


def _u(n: int = 15, dtype=torch.float64) -> Tensor:
    return (0.01 + 0.98 * torch.rand(n, generator=seeded(11), dtype=torch.float64)).to(dtype)


def _icdf_mistakes(u: Tensor, rate: float) -> dict[str, Tensor]:
    return {
        "−log(u)/rate = F⁻¹(1 − u): right distribution, but not the inverse CDF (it decreases in u).":
            -torch.log(u) / rate,
        "−log(1 − u)·rate: the rate should divide (Exponential(rate) has mean 1/rate).": -torch.log1p(-u) * rate,
        "log(1 − u)/rate: the minus sign is missing, and an exponential draw is never negative.":
            torch.log1p(-u) / rate,
        "1 − exp(−rate·u): that is the CDF F evaluated at u, the map the other way round.": 1 - torch.exp(-rate * u),
        "−log(1 − u) without dividing by the rate.": -torch.log1p(-u),
        "exp(−rate·u)·rate: that is the density of Exponential(rate) at u, not its inverse CDF.":
            rate * torch.exp(-rate * u),
        "−log(1 − u)/rate²: divide by the rate once.": -torch.log1p(-u) / rate**2,
    }


def _icdf_shape(answer):
    for shape in ((2, 3), (), (4, 1, 2)):
        u = _u(math.prod(shape)).reshape(shape)
        answer.tensor(u, 1.0, shape=u.shape)


def _icdf_values(rate: float, dtype):
    def check(answer):
        u = _u(dtype=dtype)
        expected, wrong = compute.exponential_icdf(u.double(), rate), _icdf_mistakes(u.double(), rate)
        got = answer.tensor(u, rate, shape=u.shape)
        matches(got, expected, f"rate = {rate:g}{in_dtype(dtype)}", wrong, inputs={"u": u}, dtype=dtype)
    check.__name__ = f"values at rate {rate}"
    return check


def _icdf_increasing(answer):
    u = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    out = answer.tensor(u, 1.0, shape=u.shape).detach()
    if not (out.diff() > 0).all():
        i = int((out.diff() <= 0).nonzero()[0])
        raise CheckFailed(f"an inverse CDF increases with u, and yours does not: at u = {u[i]:.3g} you return "
                          f"{out[i]:.4g}, at u = {u[i + 1]:.3g} you return {out[i + 1]:.4g}. F⁻¹ must send small u "
                          f"to small x.")


exercise_1_1 = Exercise("1.1", "exponential_icdf", compute.exponential_icdf,
                        [_icdf_shape, _icdf_values(2.5, torch.float64), _icdf_values(0.5, torch.float32),
                         _icdf_increasing])


def _x(dtype=torch.float64) -> Tensor:
    return torch.linspace(-4, 6, 11, dtype=torch.float64).to(dtype)


def _phi(z: Tensor) -> Tensor:
    return torch.exp(standard_normal_log_prob(z))


def _affine_mistakes(x: Tensor, a: float, b: float) -> dict[str, Tensor]:
    t = (x - b) / a
    return {
        "φ((x − b)/a) without the factor 1/|a|: the density no longer integrates to 1.": _phi(t),
        "φ(a·x + b)·|a|: that pushes x forward through g; the formula needs g⁻¹(x) = (x − b)/a.":
            _phi(a * x + b) * abs(a),
        "φ((x − b)/a)/a: with a < 0 that is negative; the Jacobian factor is 1/|a|.": _phi(t) / a,
        "φ((x − b)/a)/a²: divide by |a| (the slope of g), not by the variance a².": _phi(t) / a**2,
        "φ((x − b)/a)·|a|: the factor is 1/|a|; multiplying by |a| gives too much mass when |a| > 1.":
            _phi(t) * abs(a),
        "exp(−t²/2)/|a| without 1/√(2π): the N(0, 1) density has that constant.": torch.exp(-0.5 * t**2) / abs(a),
        "exp(−t²)/(√(2π)·|a|): the ½ in the exponent is missing; φ(t) = exp(−t²/2)/√(2π).":
            torch.exp(-t**2) / math.sqrt(2 * math.pi) / abs(a),
        "exp(−t²)/(√π·|a|): the ½ in the exponent is missing (and √(2π) became √π to make up for it); "
        "φ(t) = exp(−t²/2)/√(2π).": torch.exp(-t**2) / math.sqrt(math.pi) / abs(a),
        "the log-density: return p_X(x) itself (take exp).": torch.log(_phi(t) / abs(a)),
        "φ((x + b)/a)/|a|: the inverse of g is (x − b)/a.": _phi((x + b) / a) / abs(a),
        "φ(x/a − b)/|a|: subtract b before dividing by a, t = (x − b)/a.": _phi(x / a - b) / abs(a),
        "φ(x/a)/|a|: b is ignored. The map g(z) = a·z + b also shifts, so its inverse is (x − b)/a and the "
        "density is centred on b.": _phi(x / a) / abs(a),
        "φ((x − b)/a²)/|a|: the standardisation divides by the scale |a|, not by a².":
            _phi((x - b) / a**2) / abs(a),
        "φ((x − b)/a²)/a²: a² is the variance of X; the standardisation and the Jacobian both use the scale |a|.":
            _phi((x - b) / a**2) / a**2,
    }


def _affine_shape(answer):
    for shape in ((2, 3), (), (3, 1, 2)):
        x = _x()[:math.prod(shape)].reshape(shape)
        answer.tensor(x, 2.0, 1.0, shape=x.shape)


def _affine_values(a: float, b: float, dtype):
    def check(answer):
        x = _x(dtype)
        expected, wrong = compute.affine_pushforward_density(x.double(), a, b), _affine_mistakes(x.double(), a, b)
        got = answer.tensor(x, a, b, shape=x.shape)
        matches(got, expected, f"a = {a:g}, b = {b:g}{in_dtype(dtype)}", wrong, inputs={"x": x}, dtype=dtype)
    return check


def _affine_normalised(answer):
    x = torch.linspace(-12, 10, 4001, dtype=torch.float64)
    area = torch.trapezoid(answer.tensor(x, 0.7, -1.0, shape=x.shape).detach().double(), x)
    if abs(area.item() - 1) > 1e-3:
        raise CheckFailed(f"a density integrates to 1; yours integrates to {area.item():.4f} for a = 0.7, b = −1.")


exercise_1_2 = Exercise("1.2", "affine_pushforward_density", compute.affine_pushforward_density,
                        [_affine_shape, _affine_values(2.0, 1.0, torch.float64),
                         _affine_values(-0.5, 0.3, torch.float32), _affine_normalised])


def _xpos(dtype=torch.float64) -> Tensor:
    return torch.tensor([0.05, 0.2, 0.45, 0.8, 1.0, 1.3, 1.9, 2.7, 4.0, 6.5], dtype=torch.float64).to(dtype)


def _lognormal_mistakes(x: Tensor, mu: float, sigma: float) -> dict[str, Tensor]:
    t = (torch.log(x) - mu) / sigma
    return {
        "φ((log x − μ)/σ)/σ: the factor 1/x is missing. The slope of g(z) = exp(μ + σz) is σ·exp(μ + σz) = σx, "
        "so |dg⁻¹/dx| = 1/(σx).": _phi(t) / sigma,
        "φ((exp(x) − μ)/σ)/(σx): the inverse of g(z) = exp(μ + σz) is z = (log x − μ)/σ, with log, not exp.":
            _phi((torch.exp(x) - mu) / sigma) / (sigma * x),
        "φ((exp(x) − μ)/σ)·exp(x)/σ: that pushes x through g instead of pulling it back; "
        "use z = g⁻¹(x) = (log x − μ)/σ and divide by the slope σx.": _phi((torch.exp(x) - mu) / sigma) * torch.exp(x) / sigma,
        "exp(−t²/2)/(σx) without 1/√(2π): the N(0, 1) density φ(t) = exp(−t²/2)/√(2π) has that constant.":
            torch.exp(-0.5 * t**2) / (sigma * x),
        "exp(−t²)/(√(2π)·σx): the ½ in the exponent is missing; φ(t) = exp(−t²/2)/√(2π).":
            torch.exp(-t**2) / math.sqrt(2 * math.pi) / (sigma * x),
        "φ(t)/(σ·exp(σx + μ)): the slope is g'(z) at z = g⁻¹(x), which is σx; you took g' at x itself.":
            _phi(t) / (sigma * torch.exp(sigma * x + mu)),
        "φ(t)·x/σ: divide by x, do not multiply (g stretches large x, so the density drops there).":
            _phi(t) * x / sigma,
        "φ(t)/x: the factor 1/σ is missing; the slope of g is σx, not x.": _phi(t) / x,
        "φ(t)/(σ²x): divide by σ (the slope's factor), not by the variance σ².": _phi(t) / (sigma**2 * x),
        "φ((log x + μ)/σ)/(σx): subtract μ, z = (log x − μ)/σ.": _phi((torch.log(x) + mu) / sigma) / (sigma * x),
        "φ(log(x)/σ − μ)/(σx): subtract μ before dividing by σ, z = (log x − μ)/σ.":
            _phi(torch.log(x) / sigma - mu) / (sigma * x),
        "the log-density: return p_X(x) itself (take exp).": torch.log(_phi(t) / (sigma * x)),
        "φ((log x − μ)/σ) with no Jacobian factor at all: the change of variables divides by the slope of "
        "g(z) = exp(μ + σz) at z = g⁻¹(x), which is σx, so p_X(x) = φ(t)/(σx).": _phi(t),
        "φ(t)·σ/x: divide by σ, do not multiply (the slope of g is σx, and the density is divided by it).":
            _phi(t) * sigma / x,
        "φ(t)·σx: the Jacobian factor is 1/(σx), not σx (divide by the slope of g, do not multiply).":
            _phi(t) * sigma * x,
        "φ(t)/(σ·exp(x)): the slope of g is g'(z) = σ·exp(μ + σz) at z = g⁻¹(x), which is σx; you took "
        "exp(x) instead of x.": _phi(t) / (sigma * torch.exp(x)),
        "φ(t)/(σ·z) with z = (log x − μ)/σ: the slope of g is σ·exp(μ + σz) = σx, evaluated at z = g⁻¹(x); "
        "the factor is 1/(σx).": _phi(t) / (sigma * t),
        "φ((log x − μ)/σ²)/(σx): standardise with σ, not with the variance σ².":
            _phi((torch.log(x) - mu) / sigma**2) / (sigma * x),
        "φ((log x − μ)/σ²)/(σ²x): σ² is used in place of σ twice; sigma is the standard deviation of log X, "
        "σ itself.": _phi((torch.log(x) - mu) / sigma**2) / (sigma**2 * x),
        "sigma treated as the variance, φ((log x − μ)/√σ)/(√σ·x): sigma is the standard deviation of log X.":
            _phi((torch.log(x) - mu) / math.sqrt(sigma)) / (math.sqrt(sigma) * x),
    }


def _lognormal_shape(answer):
    for shape in ((2, 3), (), (3, 1, 2)):
        x = _xpos()[:math.prod(shape)].reshape(shape)
        answer.tensor(x, 0.5, 0.8, shape=x.shape)


def _lognormal_values(mu: float, sigma: float, dtype):
    def check(answer):
        x = _xpos(dtype)
        expected = compute.lognormal_density(x.double(), mu, sigma)
        got = answer.tensor(x, mu, sigma, shape=x.shape)
        matches(got, expected, f"mu = {mu:g}, sigma = {sigma:g}{in_dtype(dtype)}",
                _lognormal_mistakes(x.double(), mu, sigma), inputs={"x": x}, dtype=dtype)
    return check


def _lognormal_normalised(answer):
    x = torch.linspace(1e-4, 40, 40001, dtype=torch.float64)
    area = torch.trapezoid(answer.tensor(x, 0.2, 0.6, shape=x.shape).detach().double(), x)
    if abs(area.item() - 1) > 1e-3:
        raise CheckFailed(f"a density integrates to 1; yours integrates to {area.item():.4f} for mu = 0.2, "
                          f"sigma = 0.6.")


exercise_1_3 = Exercise("1.3", "lognormal_density", compute.lognormal_density,
                        [_lognormal_shape, _lognormal_values(0.3, 0.8, torch.float64),
                         _lognormal_values(-0.5, 1.4, torch.float32), _lognormal_normalised])


def _fan_x(dtype=torch.float64) -> Tensor:
    """Points of the plane around the fan's bulk, none mapped from z = 0: radii 0.3 to 3, angles −2.5 to 2.5 (x₁ < 0 included)."""
    r = torch.tensor([0.3, 0.7, 1.1, 1.6, 3.0], dtype=torch.float64)  # not 1: z = (0, 0) would sit on the grid
    angle = torch.tensor([-2.5, -0.9, 0.0, 0.4, 1.3, 2.5], dtype=torch.float64)
    r, angle = torch.meshgrid(r, angle, indexing="ij")
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], -1).reshape(-1, 2).to(dtype)


def _fan_mistakes(x: Tensor) -> dict[str, Tensor]:
    r = torch.linalg.vector_norm(x, dim=-1)
    theta = torch.atan2(x[..., 1], x[..., 0])
    z1, z2 = 2 * torch.log(r), 2 * theta
    log_pz = -0.5 * (z1**2 + z2**2) - math.log(2 * math.pi)
    log_det = z1 - math.log(4.0)
    def log_p(a, b):
        return -0.5 * (a**2 + b**2) - math.log(2 * math.pi)
    return {
        "log p_Z(z) + log|det J_g(z)|: the sign of the Jacobian term is flipped. g spreads the probability of a "
        "cell over |det J_g| times the area, so the density is divided by it: subtract log|det J_g(z)|.":
            log_pz + log_det,
        "log p_Z(z) alone: the Jacobian term is missing, so the result is not a density (it does not integrate "
        "to 1). Subtract log|det J_g(z)| = z₁ − log 4.": log_pz,
        "log p_Z(z) − (x₁ − log 4): J_g evaluated at the wrong point. |det J_g| = e^{z₁}/4 is a function of g's "
        "input z, so it must be evaluated at z = g⁻¹(x), the point that lands on x, not at the coordinates of x "
        "(x₁ in place of z₁).": log_pz - (x[..., 0] - math.log(4.0)),
        "log p_Z(z) + log|det J_{g⁻¹}(z)|: adding the inverse's log-determinant is right, but J_{g⁻¹} is the "
        "derivative of z = g⁻¹(x) with respect to x, so it is evaluated at x, not at z: log|det J_{g⁻¹}(x)| = "
        "log 4 − 2·log|x| (= −(z₁ − log 4), the same as subtracting log|det J_g(z)|). At z it gives log 4 − log|z|², "
        "a different number. Each Jacobian lives at its own map's input: J_g at z, J_{g⁻¹} at x.":
            log_pz + math.log(4.0) - torch.log(z1**2 + z2**2),
        "log p_Z(z) − z₁: |det J_g(z)| = e^{z₁}/4, and the 1/4 (a ½ from each of the two halves, e^{z₁/2} and "
        "z₂/2) is missing.": log_pz - z1,
        "log p_Z(x) − log|det J_g(z)|: p_Z is evaluated at x itself. The density of X at x uses p_Z at the z "
        "that lands there, z = g⁻¹(x).":
            log_p(x[..., 0], x[..., 1]) - log_det,
        "z₁ = log|x|: the radius is e^{z₁/2}, so z₁ = 2·log|x|.":
            log_p(torch.log(r), z2) - (torch.log(r) - math.log(4.0)),
        "z₂ = atan2(x₂, x₁): the angle is z₂/2, so z₂ = 2·atan2(x₂, x₁).": log_p(z1, theta) - log_det,
        "z₂ = 2·atan2(x₁, x₂): atan2 takes (y, x), here atan2(x₂, x₁).":
            log_p(z1, 2 * torch.atan2(x[..., 0], x[..., 1])) - log_det,
        "the constant −½·log 2π of one dimension: the 2-D standard normal has log p_Z(z) = −|z|²/2 − log 2π.":
            log_pz + 0.5 * math.log(2 * math.pi) - log_det,
        "the density p_X(x) itself: return its log, log p_Z(z) − log|det J_g(z)| (a flow works in logs).":
            torch.exp(log_pz - log_det),
        "log p_Z(z) − log|det J_g(z)| with z₂ = 2·atan(x₂/x₁): atan loses the half-plane x₁ < 0 (it returns "
        "angles in (−π/2, π/2) only); torch.atan2(x₂, x₁) gives the angle in (−π, π].":
            log_p(z1, 2 * torch.atan(x[..., 1] / x[..., 0])) - log_det,
    }


def _fan_shape(answer):
    x = _fan_x()
    for shape in ((2, 3, 2), (2,), (7, 2)):
        xs = x[:math.prod(shape) // 2].reshape(shape)
        answer.tensor(xs, shape=shape[:-1])


def _fan_values(dtype):
    def check(answer):
        x = _fan_x(dtype)
        expected, wrong = compute.fan_log_density(x.double()), _fan_mistakes(x.double())
        got = answer.tensor(x, shape=x.shape[:-1])
        matches(got, expected, f"30 points x = (x₁, x₂) around the fan{in_dtype(dtype)}", wrong,
                inputs={"x₁": x[:, 0], "x₂": x[:, 1]}, dtype=dtype)
    check.__name__ = f"values{in_dtype(dtype)}"
    return check


def _fan_normalised(answer):
    t = torch.linspace(-9, 9, 601, dtype=torch.float64)
    x = torch.stack(torch.meshgrid(t, t, indexing="ij"), -1)
    x = x + 1e-9 * (x.norm(dim=-1, keepdim=True) == 0)  # no point exactly at the origin
    got = answer.tensor(x, shape=x.shape[:-1]).detach().double()
    area = torch.trapezoid(torch.trapezoid(got.exp(), t, dim=1), t).item()
    if abs(area - 1) > 5e-3:
        raise CheckFailed(f"exp of your log-density should integrate to 1 over the plane; on a grid over "
                          f"[−9, 9]² it integrates to {area:.4f}.")


exercise_1_4 = Exercise("1.4", "fan_log_density", compute.fan_log_density,
                        [_fan_shape, _fan_values(torch.float64), _fan_values(torch.float32), _fan_normalised])


__all__ = ["exercise_1_1", "exercise_1_2", "exercise_1_3", "exercise_1_4"]
