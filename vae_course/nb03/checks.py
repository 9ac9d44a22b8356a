"""Checkers of notebook 03: Exercise 3.1 (z = mu + σ·eps, shared with 5.1), 3.2 (the diagonal
Gaussian log-density)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import probability
from ..checking import (
    CheckFailed,
    Exercise,
    _AnswerRaised,
    in_dtype,
    leaf,
    matches,
    returns_tensor,
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


def _reparam_inputs(*sample_shape, dtype=torch.float64) -> tuple[Tensor, Tensor, Tensor]:
    g = seeded(51)
    mu = torch.randn(3, 2, generator=g, dtype=torch.float64)
    log_var = torch.tensor([[-2.0, 1.2], [0.8, -1.5], [1.5, -2.4]], dtype=torch.float64)  # σ far from 1
    eps = torch.randn(*sample_shape, 3, 2, generator=g, dtype=torch.float64)
    return mu.to(dtype), log_var.to(dtype), eps.to(dtype)


def _reparam_mistakes(mu, log_var, eps) -> dict[str, Tensor]:
    sigma = torch.exp(0.5 * log_var)
    return {
        "mu + exp(log_var)·eps: that scales eps by the variance σ², not by σ; "
        "σ = exp(½·log_var), the ½ is missing.": mu + torch.exp(log_var) * eps,
        "mu + log_var·eps: log σ² is not σ; σ = exp(½·log_var).": mu + log_var * eps,
        "mu + exp(½·log_var): eps is missing, every 'sample' is the same number.": mu + sigma,
        "mu + exp(2·log_var)·eps: σ = exp(½·log_var), not exp(2·log_var).": mu + torch.exp(2 * log_var) * eps,
        "mu·eps + σ: mu and σ are swapped; mu is the shift and σ the scale, z = mu + σ·eps.": mu * eps + sigma,
        "eps + σ·mu: mu and eps are swapped; z = mu + σ·eps.": eps + sigma * mu,
        "mu + √|log_var|·eps: the square root of log σ² is not σ; σ = exp(½·log_var).":
            mu + log_var.abs().sqrt() * eps,
        "mu + eps/σ: multiply eps by σ, do not divide.": mu + eps / sigma,
        "mu − σ·eps: the sign of eps is flipped. mu − σ·eps has the same distribution, but with the given eps "
        "z is mu + σ·eps (dz/dσ = eps, not −eps), so every z lands on the other side of mu.": mu - sigma * eps,
        "σ·eps without mu: the samples must be shifted by the mean, z = mu + σ·eps.": sigma * eps,
        "mu + sqrt(σ)·eps = mu + exp(¼·log_var)·eps: σ = exp(½·log_var) = sqrt(exp(log_var)).":
            mu + torch.exp(0.25 * log_var) * eps,
        "mu + eps without σ: that is N(mu, I), not N(mu, σ²).": mu + eps,
    }


def _shape_error(answer, *args):
    try:
        return answer(*args)
    except _AnswerRaised as raised:
        err = raised.error
        if not isinstance(err, RuntimeError) or ("size of tensor" not in str(err) and "shape" not in str(err)):
            raise
        mu, _, eps = args
        raise CheckFailed(f"with mu, log_var of shape {shape_text(mu.shape)} and eps of shape {shape_text(eps.shape)} "
                          f"your function hit a shape error ({err}). z = mu + sigma * eps needs no reshaping or "
                          "unsqueezing: broadcasting lines up the last dimensions.") from None


def _reparam_shape(answer):
    mu, log_var, eps = _reparam_inputs()
    returns_tensor(_shape_error(answer, mu, log_var, eps), answer.function, (mu, log_var, eps), answer.params,
                   mu.shape)


def _reparam_detached(answer):
    mu, log_var, eps = _reparam_inputs()
    mu, log_var = leaf(mu), leaf(log_var)
    z = answer(mu, log_var, eps)
    if not isinstance(z, Tensor) or z.grad_fn is None:
        raise CheckFailed("z carries no gradient back to mu: it is a detached sample (from .sample(), "
                          ".detach(), torch.no_grad(), .item() or NumPy). Compute z = mu + σ·eps with torch "
                          "operations on mu and log_var.")


def _reparam_uses_eps(answer):
    mu, log_var, eps = _reparam_inputs()
    first, drew = answer.draws_noise(mu, log_var, eps)
    second = answer.tensor(mu, log_var, eps)
    if drew or not torch.equal(first.detach(), second.detach()):
        how = ("two calls with the same eps gave different z" if not torch.equal(first.detach(), second.detach())
               else "it drew from torch's global random generator")
        raise CheckFailed(f"your function draws its own noise (torch.randn, .sample(), .rsample()): {how}. Use the "
                          f"eps it is given, so that z is a function of its inputs.")


def _reparam_values(answer):
    mu, log_var, eps = _reparam_inputs()
    expected, wrong = probability.reparameterize(mu, log_var, eps), _reparam_mistakes(mu, log_var, eps)
    got = answer.tensor(mu, log_var, eps, shape=mu.shape)
    matches(got, expected, "mu, log_var, eps of shape (3, 2)", wrong)


def _reparam_gradient(answer):
    mu, log_var, eps = _reparam_inputs()
    same_gradients(answer, probability.reparameterize, (mu, log_var, eps), ("mu", "log_var"),
                   "z must be a differentiable function of mu and log_var (dz/dmu = 1, dz/dlog_var = ½·σ·eps).")


def _reparam_broadcast(answer):
    mu, log_var, eps = _reparam_inputs(5, dtype=torch.float32)
    args64 = (mu.double(), log_var.double(), eps.double())
    expected, wrong = probability.reparameterize(*args64), _reparam_mistakes(*args64)
    got = _shape_error(answer, mu, log_var, eps)
    if not isinstance(got, Tensor) or tuple(got.shape) != tuple(eps.shape):
        shape = shape_text(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckFailed(f"with eps of shape {shape_text(eps.shape)} (5 samples for each of 3 examples) and mu, "
                          f"log_var of shape {shape_text(mu.shape)}, z should have eps's shape {shape_text(eps.shape)}; "
                          f"you return {shape}. Did you draw or reshape eps yourself? Let broadcasting do it: "
                          "mu + sigma * eps.")
    returns_tensor(got, answer.function)
    matches(got, expected, "5 samples per example (float32, eps of shape (5, 3, 2))", wrong, dtype=torch.float32)


#: One function, z = mu + σ·eps, asked for twice: as sampling from q(z|x) in 3.1 and as the
#: reparameterization trick in 5.1. Both exercises run these checks.
REPARAMETERIZE_CHECKS = [_reparam_shape, _reparam_detached, _reparam_uses_eps, _reparam_values, _reparam_gradient,
                         _reparam_broadcast]


exercise_3_1 = Exercise("3.1", "sample_diag_gaussian", probability.reparameterize, REPARAMETERIZE_CHECKS)


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
        "a Gaussian whose standard deviation is σ² = exp(log_var) (torch.distributions.Normal(mu, "
        "log_var.exp()), say): Normal's scale is the standard deviation σ = exp(½·log_var).":
            (-0.5 * (_LOG_2PI + (z - mu) ** 2 / torch.exp(2 * log_var)) - log_var).sum(-1),
        "a Gaussian whose variance is σ = exp(½·log_var) (a covariance_matrix of diag(σ), say): the variance is "
        "σ² = exp(log_var), so the covariance matrix is torch.diag_embed(log_var.exp()).":
            (-0.5 * (_LOG_2PI + 0.5 * log_var + (z - mu) ** 2 / torch.exp(0.5 * log_var))).sum(-1),
        "a Gaussian whose standard deviation is |log_var| (Normal(mu, log_var.abs()), say): the standard "
        "deviation is σ = exp(½·log_var).":
            (-0.5 * (_LOG_2PI + (z - mu) ** 2 / log_var**2) - log_var.abs().log()).sum(-1),
    }


def _named_constraint_errors(check):
    """`check`, with torch.distributions' "to satisfy the constraint" error of a wrongly given scale named."""
    def named(answer):
        try:
            return check(answer)
        except _AnswerRaised as raised:
            text = str(raised.error).split("\n")[0]
            if not isinstance(raised.error, ValueError) or "to satisfy the constraint" not in text:
                raise
            raise CheckFailed(
                f"torch.distributions rejected a parameter ({text.split(' of distribution')[0]} … "
                f"{text.split('to satisfy the constraint ')[-1].split(',')[0]}). Normal(loc, scale) takes the "
                f"standard deviation σ = exp(½·log_var) as its scale, which is positive; log_var itself is negative "
                f"wherever σ < 1. (MultivariateNormal's covariance_matrix is torch.diag_embed(log_var.exp()).) "
                f"torch.distributions is a fine way to write this answer, with the right scale.") from None
    named.__name__ = check.__name__
    return named


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
                        [_named_constraint_errors(check) for check in (
                            _density_shape, _density_values(35, 5, 3, (), torch.float64),
                            _density_values(36, 3, 4, (4,), torch.float32), _density_normalised)])


__all__ = ["exercise_3_1", "exercise_3_2"]
