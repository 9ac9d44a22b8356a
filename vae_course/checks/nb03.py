"""Checkers of notebook 03: Exercise 3.1 (draw from N(mu, exp(log_var)) with the caller's eps),
3.2 (log-density of a diagonal Gaussian, summed over the latent dimensions)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import losses
from ._core import CheckFailed, Exercise, _gen, matches, returns_tensor

_B, _L = 5, 3


def _inputs(seed: int, lead=()) -> tuple[Tensor, Tensor, Tensor]:
    g = _gen(seed)
    mu = torch.randn(_B, _L, generator=g, dtype=torch.float64)
    log_var = 2 * torch.rand(_B, _L, generator=g, dtype=torch.float64) - 1.5
    other = torch.randn(*lead, _B, _L, generator=g, dtype=torch.float64)
    return mu, log_var, other


# ---------------------------------------------------------------- Exercise 3.1: sample_diag_gaussian

def _sample_mistakes(mu, log_var, eps) -> dict[str, Tensor]:
    return {
        "mu + exp(log_var)·eps: that scales eps by the variance σ²; it must be scaled by σ = exp(½·log_var).":
            mu + torch.exp(log_var) * eps,
        "mu + log_var·eps: log_var is the log of the variance, not σ; use σ = exp(½·log_var).": mu + log_var * eps,
        "mu + eps / σ: divide and multiply swapped; z = mu + σ·eps.": mu + eps * torch.exp(-0.5 * log_var),
        "σ·eps without mu: the draws are centred at 0; add the mean mu.": torch.exp(0.5 * log_var) * eps,
        "mu + sqrt(σ)·eps = mu + exp(¼·log_var)·eps: σ = exp(½·log_var) = sqrt(exp(log_var)).":
            mu + torch.exp(0.25 * log_var) * eps,
    }


def _sample_values(fn):
    mu, log_var, eps = _inputs(31)
    got = returns_tensor(fn, mu, log_var, eps, shape=eps.shape, name="sample_diag_gaussian")
    matches(got, losses.reparameterize(mu, log_var, eps), "mu, log_var, eps of shape (5, 3)",
            _sample_mistakes(mu, log_var, eps))


def _sample_many(fn):
    mu, log_var, eps = _inputs(32, lead=(4,))
    got = fn(mu, log_var, eps)
    if isinstance(got, Tensor) and tuple(got.shape) != tuple(eps.shape):
        raise CheckFailed(f"with eps of shape {tuple(eps.shape)} (4 draws for each of 5 rows) you return shape "
                          f"{tuple(got.shape)}; z must have eps's shape (let broadcasting add the leading axis).")
    got = returns_tensor(fn, mu, log_var, eps, shape=eps.shape, name="sample_diag_gaussian")
    matches(got, losses.reparameterize(mu, log_var, eps), "4 draws per row (eps of shape (4, 5, 3))",
            _sample_mistakes(mu, log_var, eps))


def _sample_gradient(fn):
    mu, log_var, eps = _inputs(33)
    mu, log_var = mu.clone().requires_grad_(), log_var.clone().requires_grad_()
    z = fn(mu, log_var, eps)
    if not isinstance(z, Tensor) or not z.requires_grad:
        raise CheckFailed("the gradient does not reach mu and log_var: compute z from them with tensor "
                          "operations (no .detach(), no .item(), no torch.normal).")
    grad_mu, grad_lv = torch.autograd.grad(z.sum(), [mu, log_var], allow_unused=True)
    if grad_mu is None or grad_lv is None:
        raise CheckFailed("z does not depend on both mu and log_var.")
    matches(grad_mu, torch.ones_like(mu), "dz/dmu (it should be 1 everywhere)")
    matches(grad_lv, 0.5 * torch.exp(0.5 * log_var.detach()) * eps, "dz/dlog_var (it should be ½·σ·eps)")


exercise_3_1 = Exercise("3.1", "sample_diag_gaussian", losses.reparameterize,
                        [_sample_values, _sample_many, _sample_gradient])


# ---------------------------------------------------------------- Exercise 3.2: diag_gaussian_log_density

_LOG_2PI = math.log(2 * math.pi)


def _density_mistakes(z, mu, log_var) -> dict[str, Tensor]:
    q = (z - mu) ** 2 / torch.exp(log_var)
    return {
        "−(z − mu)²/σ² without the ½ in front of the squared distance.":
            (-0.5 * (_LOG_2PI + log_var) - q).sum(-1),
        "a missing ½ in front of everything: −(log 2π + log σ² + (z − mu)²/σ²).":
            -(_LOG_2PI + log_var + q).sum(-1),
        "−log σ² in the normalizer: it is −log σ = −½·log σ² (σ² used where σ belongs).":
            (-0.5 * (_LOG_2PI + q) - log_var).sum(-1),
        "(z − mu)²/σ: divide the squared distance by the variance σ², not by σ.":
            -0.5 * (_LOG_2PI + log_var + (z - mu) ** 2 / torch.exp(0.5 * log_var)).sum(-1),
        "(z − mu)²/log_var: log_var is the log of the variance; divide by exp(log_var).":
            -0.5 * (_LOG_2PI + log_var + (z - mu) ** 2 / log_var).sum(-1),
        "the constant −½·log 2π is missing (once per latent dimension).": -0.5 * (log_var + q).sum(-1),
        "the sign is flipped: a log-density of a Gaussian has a minus in front.": 0.5 * (_LOG_2PI + log_var + q).sum(-1),
    }


def _density_shape(fn):
    mu, log_var, z = _inputs(34)
    out = fn(z, mu, log_var)
    if isinstance(out, Tensor):
        shape = tuple(out.shape)
        if shape == (_L,):
            raise CheckFailed(f"for z of shape ({_B}, {_L}) you return shape {shape}: that is a sum over axis 0, "
                              f"the batch; sum over the last axis (the latent dimensions) to get one value per row.")
        if shape == (_B, _L):
            raise CheckFailed(f"for z of shape ({_B}, {_L}) you return shape {shape}: the log-densities of the "
                              f"{_L} independent dimensions add up; sum over the last axis.")
        if shape == ():
            raise CheckFailed("you return one number: sum over the last axis only, one log-density per row (shape (5,)).")
    returns_tensor(fn, z, mu, log_var, shape=(_B,), name="diag_gaussian_log_density")


def _density_values(seed, lead):
    def check(fn):
        mu, log_var, z = _inputs(seed, lead)
        z = mu + 1.5 * z
        got = returns_tensor(fn, z, mu, log_var, shape=z.shape[:-1], name="diag_gaussian_log_density")
        matches(got, losses.diag_gaussian_log_prob(z, mu, log_var), f"z of shape {tuple(z.shape)}",
                _density_mistakes(z, mu, log_var))
    return check


def _density_normalised(fn):
    g = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    z = g.view(-1, 1)
    mu, log_var = torch.full_like(z, 0.4), torch.full_like(z, math.log(0.8**2))
    area = torch.trapezoid(returns_tensor(fn, z, mu, log_var, shape=(len(g),), name="diag_gaussian_log_density").exp(), g)
    if abs(area.item() - 1) > 1e-3:
        raise CheckFailed(f"exp(log-density) must integrate to 1; in one dimension yours integrates to {area.item():.4f}.")


exercise_3_2 = Exercise("3.2", "diag_gaussian_log_density", losses.diag_gaussian_log_prob,
                        [_density_shape, _density_values(35, ()), _density_values(36, (4,)), _density_normalised])
