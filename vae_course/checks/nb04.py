"""Checker of notebook 04: Exercise 4.1 (closed-form KL(N(mu, exp(log_var)) ‖ N(0, I)))."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import losses
from ._core import CheckFailed, Exercise, _gen, matches, returns_tensor


def _inputs(batch: int, latent_dim: int, seed: int) -> tuple[Tensor, Tensor]:
    g = _gen(seed)
    mu = 1.5 * torch.randn(batch, latent_dim, generator=g, dtype=torch.float64)
    log_var = -2.0 + 3.0 * torch.rand(batch, latent_dim, generator=g, dtype=torch.float64)
    return mu, log_var


def _kl_mistakes(mu: Tensor, log_var: Tensor) -> dict[str, Tensor]:
    var, sigma = torch.exp(log_var), torch.exp(0.5 * log_var)
    per_dim = 0.5 * (mu**2 + var - log_var - 1)
    return {
        "−½(μ² + σ² − log σ² − 1): the sign is flipped, and a KL is never negative.": -per_dim.sum(-1),
        "½(μ² + σ² + log σ² − 1): the log-variance enters with a minus sign, −log σ².":
            (0.5 * (mu**2 + var + log_var - 1)).sum(-1),
        "½(μ² + σ² − σ − 1): σ is used where log σ² belongs (log_var already is log σ²).":
            (0.5 * (mu**2 + var - sigma - 1)).sum(-1),
        "½(μ² + σ² − log σ − 1): log σ is used where log σ² belongs.":
            (0.5 * (mu**2 + var - 0.5 * log_var - 1)).sum(-1),
        "μ² + σ² − log σ² − 1 without the factor ½.": (2 * per_dim).sum(-1),
        "the mean over latent dimensions: the KL of independent dimensions is their sum.": per_dim.mean(-1),
        "½(μ² + σ² − log σ²) without the −1: each dimension is off by ½, and the KL at μ = 0, σ = 1 "
        "must be 0.": (0.5 * (mu**2 + var - log_var)).sum(-1),
    }


def _kl_shape(fn):
    mu, log_var = _inputs(5, 3, 41)
    out = fn(mu, log_var)
    if isinstance(out, Tensor) and tuple(out.shape) != (5,):
        raise CheckFailed(f"`gaussian_kl` returned shape {tuple(out.shape)} for mu and log_var of shape (5, 3); "
                          f"it should return one value per example, shape (5,), summed over the 3 latent dimensions.")
    returns_tensor(fn, mu, log_var, shape=(5,), name="gaussian_kl")


def _kl_values(batch, latent_dim, seed):
    def check(fn):
        mu, log_var = _inputs(batch, latent_dim, seed)
        got = returns_tensor(fn, mu, log_var, shape=(batch,), name="gaussian_kl")
        matches(got, losses.gaussian_kl(mu, log_var), f"a batch of {batch} in {latent_dim} dimensions",
                _kl_mistakes(mu, log_var))
    return check


def _kl_zero_at_prior(fn):
    zeros = torch.zeros(3, 4, dtype=torch.float64)
    got = returns_tensor(fn, zeros, zeros, shape=(3,), name="gaussian_kl")
    if got.abs().max() > 1e-9:
        raise CheckFailed(f"KL(N(0, I) ‖ N(0, I)) must be 0 (mu = 0, log_var = 0), yours gives {got[0].item():.4g}.")


exercise_4_1 = Exercise("4.1", "gaussian_kl", losses.gaussian_kl,
                        [_kl_shape, _kl_values(6, 3, 42), _kl_values(4, 8, 43), _kl_zero_at_prior])
