"""TODO docstring."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import probability
from ..checking import (
    CheckFailed,
    Exercise,
    in_dtype,
    matches,
    same_gradients,
    seeded,
    shape_text,
)


def _inputs(seed: int, batch: int, latent_dim: int, lead=(), dtype=torch.float64) -> tuple[Tensor, Tensor, Tensor]:
    """mu, log_var (batch, latent_dim) with σ well away from 1 (so σ, σ² and log σ² differ), and a third tensor."""
    g = seeded(seed)
    mu = torch.randn(batch, latent_dim, generator=g, dtype=torch.float64)
    log_var = 1.5 * torch.rand(batch, latent_dim, generator=g, dtype=torch.float64) - 2.5
    log_var[..., ::2] += 3.0  # a mix of σ < 1 and σ > 1
    other = torch.randn(*lead, batch, latent_dim, generator=g, dtype=torch.float64)
    return mu.to(dtype), log_var.to(dtype), other.to(dtype)


def _described(**tensors) -> str:
    return ", ".join(f"{n} of shape {shape_text(t.shape)}" for n, t in tensors.items())


def _sample_mistakes(mu, log_var, eps) -> dict[str, Tensor]:
    sigma = torch.exp(0.5 * log_var)
    return {
        "mu + exp(log_var)·eps: that scales eps by the variance σ²; it must be scaled by σ = exp(½·log_var).":
            mu + torch.exp(log_var) * eps,
        "mu + log_var·eps: log_var is the log of the variance, not σ; use σ = exp(½·log_var).": mu + log_var * eps,
        "mu + eps / σ: divide and multiply swapped; z = mu + σ·eps.": mu + eps / sigma,
        "σ·eps without mu: the draws are centred at 0; add the mean mu.": sigma * eps,
        "mu + sqrt(σ)·eps = mu + exp(¼·log_var)·eps: σ = exp(½·log_var) = sqrt(exp(log_var)).":
            mu + torch.exp(0.25 * log_var) * eps,
        "mu·eps + σ: mu and σ are swapped; mu is the shift and σ the scale, z = mu + σ·eps.": mu * eps + sigma,
        "eps + σ·mu: mu and eps are swapped; z = mu + σ·eps.": eps + sigma * mu,
        "mu + eps without σ: that is N(mu, I), not N(mu, σ²).": mu + eps,
    }


def _sample_values(answer):
    mu, log_var, eps = _inputs(31, 5, 3)
    expected, wrong = probability.reparameterize(mu, log_var, eps), _sample_mistakes(mu, log_var, eps)
    got, drew = answer.draws_noise(mu, log_var, eps, shape=eps.shape)
    again = answer.tensor(mu, log_var, eps, shape=eps.shape)
    if drew or not torch.equal(got.detach(), again.detach()):
        how = ("two calls with the same eps gave different z" if not torch.equal(got.detach(), again.detach())
               else "it drew from torch's global random generator")
        raise CheckFailed(f"your function draws its own noise (torch.randn, torch.normal, .sample() or .rsample()): "
                          f"{how}. Use the eps it is given, z = mu + σ·eps, so that z is a function of its inputs.")
    matches(got, expected, _described(mu=mu, log_var=log_var, eps=eps), wrong)


def _sample_many(answer):
    mu, log_var, eps = _inputs(32, 2, 4, lead=(6,), dtype=torch.float32)
    expected = probability.reparameterize(mu.double(), log_var.double(), eps.double())
    wrong = _sample_mistakes(mu.double(), log_var.double(), eps.double())
    got = answer(mu, log_var, eps)
    if isinstance(got, Tensor) and tuple(got.shape) != tuple(eps.shape):
        raise CheckFailed(f"with {_described(mu=mu, eps=eps)} (6 draws for each of 2 rows) you return shape "
                          f"{shape_text(got.shape)}; z must have eps's shape (let broadcasting add the leading axis).")
    got = answer.tensor(mu, log_var, eps, shape=eps.shape)
    matches(got, expected, f"6 draws per row, float32 ({_described(mu=mu, eps=eps)})", wrong, dtype=torch.float32)


def _sample_gradient(answer):
    mu, log_var, eps = _inputs(33, 3, 2)
    same_gradients(answer, probability.reparameterize, (mu, log_var, eps), ("mu", "log_var"),
                   "Training needs dz/dmu = 1 and dz/dlog_var = ½·σ·eps: compute z from mu and log_var with tensor "
                   "operations.")


exercise_3_1 = Exercise("3.1", "sample_diag_gaussian", probability.reparameterize,
                        [_sample_values, _sample_many, _sample_gradient])


_LOG_2PI = math.log(2 * math.pi)


def _density_mistakes(z, mu, log_var) -> dict[str, Tensor]:
    q = (z - mu) ** 2 / torch.exp(log_var)
    per_dim = -0.5 * (_LOG_2PI + log_var + q)
    return {
        "−(z − mu)²/σ² without the ½ in front of the squared distance.": (-0.5 * (_LOG_2PI + log_var) - q).sum(-1),
        "a missing ½ in front of everything: −(log 2π + log σ² + (z − mu)²/σ²).": -(_LOG_2PI + log_var + q).sum(-1),
        "−log σ² in the normalizer: it is −log σ = −½·log σ² (σ² used where σ belongs).":
            (-0.5 * (_LOG_2PI + q) - log_var).sum(-1),
        "(z − mu)²/σ: divide the squared distance by the variance σ², not by σ.":
            -0.5 * (_LOG_2PI + log_var + (z - mu) ** 2 / torch.exp(0.5 * log_var)).sum(-1),
        "(z − mu)²/log_var: log_var is the log of the variance; divide by exp(log_var).":
            -0.5 * (_LOG_2PI + log_var + (z - mu) ** 2 / log_var).sum(-1),
        "−½(log σ² + (z − mu)²/σ²): the constant −½·log 2π is missing (once per latent dimension).":
            -0.5 * (log_var + q).sum(-1),
        "+½(log 2π + log σ² + (z − mu)²/σ²): the sign is flipped; a log-density of a Gaussian has a minus in "
        "front.": -per_dim.sum(-1),
        "a mean over the latent dimensions: the log-densities of independent dimensions add up, so sum over "
        "the last axis.": per_dim.mean(-1),
        "the density itself, not its log: return the log-density (no exp).": per_dim.sum(-1).exp(),
        "−½·log 2π once, not once per dimension: each of the L dimensions has its own normalizer.":
            (per_dim + 0.5 * _LOG_2PI).sum(-1) - 0.5 * _LOG_2PI,
    }


def _density_shape(answer):
    for batch, latent_dim, lead in ((5, 3, ()), (4, 2, (6,)), (1, 3, ())):
        mu, log_var, z = _inputs(34, batch, latent_dim, lead)
        out = answer(z, mu, log_var)
        if not isinstance(out, Tensor):
            answer.tensor(z, mu, log_var)  # says what it returned
        shape, want = tuple(out.shape), tuple(z.shape[:-1])
        given = _described(z=z, mu=mu)
        if shape == want:
            continue
        if shape == tuple(z.shape):
            raise CheckFailed(f"for {given} you return shape {shape}, one number per dimension: the log-densities "
                              f"of the {latent_dim} independent dimensions add up; sum over the last axis.")
        if shape == tuple(z.shape[:-2]) + (latent_dim,) or shape == tuple(z.shape[1:]):
            raise CheckFailed(f"for {given} you return shape {shape}: that is a sum over the wrong axis (the batch "
                              f"or the draws); sum over the last axis (the latent dimensions), dim=-1, to get "
                              f"shape {want}.")
        if shape == ():
            raise CheckFailed(f"for {given} you return one number: sum over the last axis only, one log-density "
                              f"per row (shape {want}).")
        answer.tensor(z, mu, log_var, shape=want)


def _density_values(seed: int, batch: int, latent_dim: int, lead, dtype):
    def check(answer):
        mu, log_var, z = _inputs(seed, batch, latent_dim, lead, dtype)
        z = mu + 1.5 * z
        args64 = (z.double(), mu.double(), log_var.double())
        expected, wrong = probability.diag_gaussian_log_prob(*args64), _density_mistakes(*args64)
        got = answer.tensor(z, mu, log_var, shape=z.shape[:-1])
        matches(got, expected, f"{_described(z=z, mu=mu)}{in_dtype(dtype)}", wrong, dtype=dtype)
        same_gradients(answer, probability.diag_gaussian_log_prob, (z, mu, log_var), ("z", "mu", "log_var"),
                       "The encoder is trained through this log-density, so it must stay differentiable in z, mu and "
                       "log_var.",
                       dtype=dtype)
    return check


def _density_normalised(answer):
    g = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    z = g.view(-1, 1)
    mu, log_var = torch.full_like(z, 0.4), torch.full_like(z, math.log(0.8**2))
    area = torch.trapezoid(answer.tensor(z, mu, log_var, shape=(len(g),)).detach().double().exp(), g)
    if abs(area.item() - 1) > 1e-3:
        raise CheckFailed(f"exp(log-density) must integrate to 1; in one dimension yours integrates to {area.item():.4f}.")


exercise_3_2 = Exercise("3.2", "diag_gaussian_log_density", probability.diag_gaussian_log_prob,
                        [_density_shape, _density_values(35, 5, 3, (), torch.float64),
                         _density_values(36, 3, 4, (4,), torch.float32), _density_normalised])

__all__ = ["exercise_3_1", "exercise_3_2"]
