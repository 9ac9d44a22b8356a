"""TODO docstring."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _validate as v

_LOG_2PI = math.log(2 * math.pi)


def _pair(mu, log_var) -> tuple[Tensor, Tensor]:
    mu, log_var = v.tensor(mu, "mu"), v.tensor(log_var, "log_var")
    if mu.shape != log_var.shape:
        raise ValueError(f"mu and log_var must have the same shape, got {tuple(mu.shape)} and {tuple(log_var.shape)}.")
    return mu, log_var


def reparameterize(mu: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """z = mu + sigma · eps with sigma = exp(½ log_var). mu, log_var, eps: (..., L) → (..., L).

    eps ~ N(0, I) is drawn by the caller, so z is a differentiable function of mu and log_var.
    """
    mu, log_var = _pair(mu, log_var)
    eps = v.tensor(eps, "eps")
    if eps.shape[-mu.ndim:] != mu.shape and eps.shape != mu.shape:
        raise ValueError(f"eps must have the shape of mu {tuple(mu.shape)} (or extra leading sample "
                         f"dimensions), got {tuple(eps.shape)}.")
    return mu + torch.exp(0.5 * log_var) * eps


def diag_gaussian_log_prob(z: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """log N(z; mu, diag(exp(log_var))), summed over the last (latent) dimension: (..., L) → (...)."""
    mu, log_var = _pair(mu, log_var)
    z = v.tensor(z, "z")
    return -0.5 * (_LOG_2PI + log_var + (z - mu) ** 2 / torch.exp(log_var)).sum(-1)


def gaussian_kl(mu: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mu, exp(log_var)) ‖ N(0, I)) per example, summed over latent dimensions.

    mu, log_var: (B, L). Returns (B,); per dimension ½(μ² + σ² − log σ² − 1).
    """
    mu, log_var = _pair(mu, log_var)
    return 0.5 * (mu**2 + torch.exp(log_var) - log_var - 1).sum(-1)


def bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    """log p(x | z) for binary pixels x ∈ {0, 1}: (B, D), logits (B, D) → (B,), summed over pixels."""
    x, logits = v.tensor(x, "x"), v.tensor(logits, "logits")
    if x.shape != logits.shape:
        raise ValueError(f"x and logits must have the same shape (B, D), got {tuple(x.shape)} and {tuple(logits.shape)}.")
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def categorical_log_likelihood(levels: Tensor, logits: Tensor) -> Tensor:
    """log p(x | z) for pixels with K grey levels: levels (B, D) int64 in 0..K−1, logits (B, D, K) → (B,)."""
    logits = v.tensor(logits, "logits")
    if logits.ndim < 2:
        raise ValueError(f"logits must have shape (B, D, K), got {tuple(logits.shape)}.")
    levels = v.levels(levels, "levels", logits.shape[-1])
    if levels.shape != logits.shape[:-1]:
        raise ValueError(f"levels {tuple(levels.shape)} must have the shape of logits {tuple(logits.shape)} "
                         f"without its last axis (the K grey levels).")
    log_p = F.log_softmax(logits, dim=-1)
    return log_p.gather(-1, levels.unsqueeze(-1)).squeeze(-1).sum(-1)


def elbo(log_likelihood: Tensor, kl: Tensor, beta: float = 1.0) -> Tensor:
    """ELBO per example: E_q[log p(x|z)] − β·KL(q(z|x) ‖ p(z)). (B,), (B,) → (B,). β = 1 is the VAE."""
    return log_likelihood - beta * kl
