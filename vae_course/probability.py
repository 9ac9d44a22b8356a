"""The probability maths of the course, in one place: log-densities, the KL, likelihoods, priors.

Every formula a notebook states is computed here once (and tested against `torch.distributions`,
Monte Carlo or quadrature in tests/test_probability.py); notebooks and the other modules call it.

- `standard_normal_log_prob(z)`: log N(z; 0, 1), elementwise. `diag_gaussian_log_prob(z, mu,
  log_var)`: log N(z; mu, diag σ²), summed over the last axis.
- `gaussian_kl(mu, log_var)`: KL(N(mu, σ²) ‖ N(0, I)) in closed form.
- `reparameterize(mu, log_var, eps)`: z = mu + σ·eps.
- `bernoulli_log_likelihood`, `categorical_log_likelihood`: log p(x|z) of the two decoders.
- `elbo(log_lik, kl, beta)`, and `kl_term(prior, z, mu, log_var)`: the KL of the ELBO for any prior.
- Priors p(z), objects with `sample(n, generator)` and `log_prob(z)`: `StandardNormal` (the VAE's,
  with a closed-form KL) and `GaussianMixture`. A model takes any of them (`VAE(prior=...)`), and
  training, evaluation and the explorers use `model.prior`, never N(0, I) written out.
"""

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


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, 1) = −½(z² + log 2π), elementwise: any shape → the same shape."""
    z = v.tensor(z, "z")
    return -0.5 * z**2 - 0.5 * _LOG_2PI


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


def kl_term(prior, z: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """The KL of the ELBO, KL(q(z|x) ‖ p(z)) with q = N(mu, diag σ²), per example: (B, L) → (B,).

    In closed form when the prior has one (`prior.kl`, as N(0, I) does); otherwise the one-sample
    estimate log q(z|x) − log p(z) at the draw z ~ q(z|x) the ELBO already uses (unbiased, noisier).
    """
    if hasattr(prior, "kl"):
        return prior.kl(mu, log_var)
    return diag_gaussian_log_prob(z, mu, log_var) - prior.log_prob(z)


def _dim(dim) -> int:
    return v.count(dim, "dim", of="latent dimensions")


def _latent(z, dim: int) -> Tensor:
    z = v.tensor(z, "z")
    if z.ndim == 0 or z.shape[-1] != dim:
        raise ValueError(f"z must have {dim} latent dimensions in its last axis, got shape {tuple(z.shape)}.")
    return z


class StandardNormal(torch.nn.Module):
    """The prior p(z) = N(0, I) in `dim` dimensions: the VAE's choice in notebooks 03–06.

    sample(n, generator) → (n, dim); log_prob(z) (..., dim) → (...); kl(mu, log_var) = KL(q ‖ p) in
    closed form. A module without parameters, so it adds nothing to a model's state_dict.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = _dim(dim)

    def sample(self, n: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        return torch.randn(v.count(n, "n"), self.dim, generator=generator, dtype=dtype)

    def log_prob(self, z: Tensor) -> Tensor:
        return standard_normal_log_prob(_latent(z, self.dim)).sum(-1)

    def kl(self, mu: Tensor, log_var: Tensor) -> Tensor:
        return gaussian_kl(mu, log_var)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GaussianMixture(torch.nn.Module):
    """A prior p(z) = Σ_c w_c N(z; m_c, diag exp(log_var_c)) with C components in `dim` dimensions.

    means (C, dim), log_vars (C, dim) and logits (C,) of the weights w = softmax(logits); with
    learnable=True they are parameters trained with the model. There is no closed-form KL to q(z|x),
    so the ELBO uses the one-sample estimate (`kl_term`).
    """

    def __init__(self, means, log_vars=None, logits=None, learnable: bool = False):
        super().__init__()
        means = v.tensor(means, "means", dtype=torch.float32)
        if means.ndim != 2:
            raise ValueError(f"means must have shape (C, dim), got {tuple(means.shape)}.")
        log_vars = torch.zeros_like(means) if log_vars is None else v.tensor(log_vars, "log_vars", dtype=torch.float32)
        logits = torch.zeros(len(means)) if logits is None else v.tensor(logits, "logits", dtype=torch.float32)
        if log_vars.shape != means.shape or logits.shape != means.shape[:1]:
            raise ValueError(f"log_vars must have the shape of means {tuple(means.shape)} and logits shape "
                             f"({len(means)},), got {tuple(log_vars.shape)} and {tuple(logits.shape)}.")
        self.dim = means.shape[1]
        wrap = torch.nn.Parameter if learnable else (lambda t: t)
        for name, t in (("means", means), ("log_vars", log_vars), ("logits", logits)):
            if learnable:
                setattr(self, name, wrap(t.clone()))
            else:
                self.register_buffer(name, t.clone())

    def sample(self, n: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        n = v.count(n, "n", of="draws")
        with torch.no_grad():
            c = torch.multinomial(torch.softmax(self.logits, 0), n, replacement=True, generator=generator)
            eps = torch.randn(n, self.dim, generator=generator)
            return (self.means[c] + torch.exp(0.5 * self.log_vars[c]) * eps).to(dtype)

    def log_prob(self, z: Tensor) -> Tensor:
        z = _latent(z, self.dim)
        per = diag_gaussian_log_prob(z[..., None, :], self.means.to(z.dtype), self.log_vars.to(z.dtype))  # (..., C)
        return torch.logsumexp(per + torch.log_softmax(self.logits.to(z.dtype), 0), dim=-1)

    def extra_repr(self) -> str:
        return f"components={len(self.means)}, dim={self.dim}"
