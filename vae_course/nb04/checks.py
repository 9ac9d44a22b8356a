"""Checkers of notebook 04: Exercise 4.1 (the KL to N(0, I) in closed form)."""

from __future__ import annotations

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


def _inputs(batch: int, latent_dim: int, seed: int, dtype=torch.float64) -> tuple[Tensor, Tensor]:
    """σ² spread over e^−2.5 … e^1.5, never close to 1, so that σ, σ² and log σ² are far apart."""
    g = seeded(seed)
    mu = 1.5 * torch.randn(batch, latent_dim, generator=g, dtype=torch.float64)
    log_var = torch.rand(batch, latent_dim, generator=g, dtype=torch.float64) - 2.5
    log_var[:, ::2] += 3.0
    return mu.to(dtype), log_var.to(dtype)


def kl_mistakes(mu: Tensor, log_var: Tensor) -> dict[str, Tensor]:
    """KL(q ‖ N(0, I)) per dimension written wrongly, each summed over the last axis: (B, L) → (B,).

    Shared with 6.1, whose loss contains this KL.
    """
    var, sigma = torch.exp(log_var), torch.exp(0.5 * log_var)
    per_dim = 0.5 * (mu**2 + var - log_var - 1)
    return {
        "−½(μ² + σ² − log σ² − 1): the sign is flipped, and a KL is never negative.": -per_dim.sum(-1),
        "½(μ² + σ² + log σ² − 1): the log-variance enters with a minus sign, −log σ².":
            (0.5 * (mu**2 + var + log_var - 1)).sum(-1),
        "½(μ² + σ − log σ² − 1): σ = exp(½·log_var) is used in place of σ² = exp(log_var).":
            (0.5 * (mu**2 + sigma - log_var - 1)).sum(-1),
        "½(μ² + σ − log σ − 1): σ is used in place of σ² in both terms; the variance is σ² = exp(log_var), "
        "and its log is log_var itself.": (0.5 * (mu**2 + sigma - 0.5 * log_var - 1)).sum(-1),
        "½(μ² + σ⁴ − 2·log_var − 1): exp(log_var) is σ², not σ, so it was squared once too often (the same "
        "happens when torch.distributions.Normal gets exp(log_var) as its scale: it takes σ = exp(½·log_var)).":
            (0.5 * (mu**2 + var**2 - 2 * log_var - 1)).sum(-1),
        "½(μ² + σ² − σ − 1): σ is used where log σ² belongs (log_var already is log σ²).":
            (0.5 * (mu**2 + var - sigma - 1)).sum(-1),
        "½(μ² + σ² − log σ − 1): log σ is used where log σ² belongs.": (0.5 * (mu**2 + var - 0.5 * log_var - 1)).sum(-1),
        "½(μ² + log_var² − log log_var² − 1): log_var is used as if it were σ; σ² = exp(log_var).":
            (0.5 * (mu**2 + log_var**2 - torch.log(log_var**2) - 1)).sum(-1),
        "μ² + σ² − log σ² − 1 without the factor ½.": (2 * per_dim).sum(-1),
        "½(μ + σ² − log σ² − 1): μ must be squared.": (0.5 * (mu + var - log_var - 1)).sum(-1),
        "½(σ² − log σ² − 1) without μ²: a code away from the prior's centre must cost nats too; the μ² term "
        "pulls μ toward 0.": (0.5 * (var - log_var - 1)).sum(-1),
        "½μ², as if σ = 1 (log_var ignored): the σ² − log σ² − 1 part is what keeps σ from collapsing to 0 and "
        "is 0 only at σ = 1.": (0.5 * mu**2).sum(-1),
        "a mean over the latent dimensions: the KL of independent dimensions is their sum.": per_dim.mean(-1),
        "½(μ² + σ² − log σ²) without the −1: each dimension is off by ½, and the KL at μ = 0, σ = 1 "
        "must be 0.": (0.5 * (mu**2 + var - log_var)).sum(-1),
        "½(log σ² + (1 + μ²)/σ² − 1) = KL(N(0, I) ‖ q), the reversed KL: the loss needs KL(q(z|x) ‖ N(0, I)), "
        "with q first.": (0.5 * (log_var + (1 + mu**2) / var - 1)).sum(-1),
    }


def _kl_shape(answer):
    for batch, latent_dim in ((5, 3), (1, 4), (2, 1)):
        mu, log_var = _inputs(batch, latent_dim, 41)
        out = answer(mu, log_var)
        if isinstance(out, Tensor) and tuple(out.shape) != (batch,):
            raise CheckFailed(f"`gaussian_kl` returned shape {shape_text(out.shape)} for mu and log_var of shape "
                              f"{shape_text(mu.shape)}; it should return one value per example, shape ({batch},), "
                              f"summed over the {latent_dim} latent dimension{'s' if latent_dim > 1 else ''}.")
        answer.tensor(mu, log_var, shape=(batch,))


def _kl_values(batch, latent_dim, seed, dtype):
    def check(answer):
        mu, log_var = _inputs(batch, latent_dim, seed, dtype)
        expected, wrong = probability.gaussian_kl(mu.double(), log_var.double()), kl_mistakes(mu.double(), log_var.double())
        got = answer.tensor(mu, log_var, shape=(batch,))
        matches(got, expected, f"a batch of {batch} in {latent_dim} dimensions{in_dtype(dtype)}", wrong, dtype=dtype)
        same_gradients(answer, probability.gaussian_kl, (mu, log_var), ("mu", "log_var"),
                       "The KL term trains the encoder, so it must stay differentiable in mu and log_var.", dtype=dtype)
    return check


def _kl_zero_at_prior(answer):
    zeros = torch.zeros(3, 4, dtype=torch.float64)
    got = answer.tensor(zeros, zeros, shape=(3,)).detach()
    if got.abs().max() > 1e-9:
        raise CheckFailed(f"KL(N(0, I) ‖ N(0, I)) must be 0 (mu = 0, log_var = 0), yours gives {got[0].item():.4g}.")


exercise_4_1 = Exercise("4.1", "gaussian_kl", probability.gaussian_kl,
                        [_kl_shape, _kl_values(6, 3, 42, torch.float64), _kl_values(4, 8, 43, torch.float32),
                         _kl_zero_at_prior])


__all__ = ["exercise_4_1"]
