"""A normal distribution for every sample: per-sample posteriors q(z|x_k) = N(mu_k, diag(sigma_k²)).

Pure tensor maths for notebook 03: how an encoder's raw output becomes log σ² (four
parametrizations), fitting (mu_k, log_var_k) as free parameters for each x_k against a fixed
decoder, a fair ELBO estimate with the caller's eps, and a table of posterior draws for the
explorer. Values are per example and summed over pixels and latent dimensions, in nats.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _validate as v
from . import losses

#: How a network's raw output r becomes the variance: σ² = exp(r), σ = exp(r) (so σ² = exp(2r)),
#: σ² = softplus(r) = log(1 + e^r), or σ² = r itself (negative r gives a negative "variance").
VARIANCES = ("log_var", "log_sigma", "softplus", "var")


def ellipse_mass(n_sigma: float) -> float:
    """P(‖(z − μ)/σ‖ ≤ n_sigma) for z ~ N(μ, diag(σ²)) in two dimensions: 1 − exp(−n_sigma²/2)."""
    n_sigma = v.scalar(n_sigma, "n_sigma", positive=True)
    return 1.0 - math.exp(-0.5 * n_sigma**2)


def head_to_log_var(raw: Tensor, variance: str = "log_var") -> Tensor:
    """log σ² from an encoder's raw output under one of `VARIANCES`; same shape as raw.

    "var" takes the raw output as σ², so log σ² is NaN where raw < 0 and −inf where raw = 0:
    that is the failure the notebook shows, so no input check stops it here.
    """
    v.one_of(variance, "variance", VARIANCES)
    if not isinstance(raw, Tensor):
        raise TypeError(f"raw must be a torch.Tensor, got {type(raw).__name__}.")
    if variance == "log_var":
        return raw
    if variance == "log_sigma":
        return 2 * raw
    if variance == "softplus":
        return torch.log(F.softplus(raw))
    return torch.log(raw)


def elbo_estimate(model, x: Tensor, mu: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """ELBO per example with the posteriors N(mu, exp(log_var)) and the caller's noise.

    x (B, D), mu and log_var (B, L), eps (S, B, L): the mean over the S draws of log p(x|z) minus the
    closed-form KL to N(0, I). Returns (B,). Differentiable in mu and log_var.
    """
    x = model.check_x(x)
    mu, log_var = losses._pair(mu, log_var)
    eps = v.tensor(eps, "eps")
    if eps.ndim != 3 or eps.shape[1:] != mu.shape or mu.shape[0] != x.shape[0]:
        raise ValueError(f"eps must have shape (S, B, L) with (B, L) = {tuple(mu.shape)} the shape of mu "
                         f"and B = {x.shape[0]} rows of x; got eps {tuple(eps.shape)}.")
    z = losses.reparameterize(mu, log_var, eps)
    s = eps.shape[0]
    log_lik = model.log_likelihood(x.repeat(s, 1), model.decode(z.flatten(0, 1))).view(s, -1).mean(0)
    return losses.elbo(log_lik, losses.gaussian_kl(mu, log_var))


class PerSampleFit(NamedTuple):
    """Free posterior parameters fitted one digit at a time: mu, log_var (B, L); the mean ELBO per
    step (steps,); wall-clock seconds."""

    mu: Tensor
    log_var: Tensor
    trace: Tensor
    seconds: float


def fit_per_sample(model, x: Tensor, *, steps: int = 300, lr: float = 0.05, n_draws: int = 4,
                   generator: torch.Generator | None = None) -> PerSampleFit:
    """Maximize the ELBO of each x_k over its own (mu_k, log_var_k), with the decoder held fixed.

    Starts every posterior at the prior N(0, I); Adam on −mean ELBO (rows do not interact, so this
    is B separate optimizations run side by side); n_draws fresh eps per step. The model's weights
    are never changed.
    """
    x = model.check_x(x)
    for name, value in (("steps", steps), ("n_draws", n_draws)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    lr = v.scalar(lr, "lr", positive=True)
    mu = torch.zeros(len(x), model.latent_dim, requires_grad=True)
    log_var = torch.zeros(len(x), model.latent_dim, requires_grad=True)
    opt = torch.optim.Adam([mu, log_var], lr=lr)
    trace = torch.empty(steps)
    start = time.perf_counter()
    for step in range(steps):
        eps = torch.randn(n_draws, *mu.shape, generator=generator)
        elbo = elbo_estimate(model, x, mu, log_var, eps)
        grad_mu, grad_lv = torch.autograd.grad(-elbo.sum(), [mu, log_var])
        mu.grad, log_var.grad = grad_mu, grad_lv
        opt.step()
        trace[step] = elbo.mean().detach()
    return PerSampleFit(mu.detach(), log_var.detach(), trace, time.perf_counter() - start)


class PosteriorTable(NamedTuple):
    """Everything the posterior explorer looks up. x (N, 64), labels (N,), mu and log_var (N, 2),
    eps and z (N, K, 2) with z = mu + sigma·eps, x_draws (N, K, 64) the mean images decoded from z."""

    x: Tensor
    labels: Tensor
    mu: Tensor
    log_var: Tensor
    eps: Tensor
    z: Tensor
    x_draws: Tensor


@torch.no_grad()
def posterior_table(model, x: Tensor, labels: Tensor, n_draws: int = 8,
                    generator: torch.Generator | None = None) -> PosteriorTable:
    """Encode every x_k, draw n_draws z from its posterior and decode them, once, for lookup."""
    x = model.check_x(x)
    if not isinstance(labels, Tensor) or labels.shape != (len(x),):
        raise ValueError(f"labels must be a tensor of shape ({len(x)},), one per row of x.")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive whole number, got {n_draws!r}.")
    mu, log_var = model.encode(x)
    eps = torch.randn(len(x), n_draws, mu.shape[1], generator=generator)
    z = losses.reparameterize(mu.unsqueeze(1).expand_as(eps), log_var.unsqueeze(1).expand_as(eps), eps)
    x_draws = model.mean_image(model.decode(z))
    return PosteriorTable(x, labels, mu, log_var, eps, z, x_draws)
