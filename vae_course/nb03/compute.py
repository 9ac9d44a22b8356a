"""Per-sample posteriors q(z|x) = N(μ(x), σ²(x)): the ELBO estimate, a posterior fitted to one
digit by gradient ascent, the table of posteriors the explorer shows, the nσ ellipse's mass."""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import torch
from torch import Tensor

from .. import _validate as v
from .. import probability


def ellipse_mass(n_sigma: float) -> float:
    """P(‖(z − μ)/σ‖ ≤ n_sigma) for z ~ N(μ, diag(σ²)) in two dimensions: 1 − exp(−n_sigma²/2)."""
    n_sigma = v.scalar(n_sigma, "n_sigma", positive=True)
    return 1.0 - math.exp(-0.5 * n_sigma**2)


def elbo_estimate(model, x: Tensor, mu: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """ELBO per example with the posteriors N(mu, exp(log_var)) and the caller's noise.

    x (B, D), mu and log_var (B, L), eps (S, B, L): the mean over the S draws of log p(x|z) minus the
    closed-form KL to N(0, I). Returns (B,). Differentiable in mu and log_var.
    """
    x = model.check_x(x)
    mu, log_var = probability._pair(mu, log_var)
    eps = v.tensor(eps, "eps")
    if eps.ndim != 3 or eps.shape[1:] != mu.shape or mu.shape[0] != x.shape[0]:
        raise ValueError(f"eps must have shape (S, B, L) with (B, L) = {tuple(mu.shape)} the shape of mu "
                         f"and B = {x.shape[0]} rows of x; got eps {tuple(eps.shape)}.")
    z = probability.reparameterize(mu, log_var, eps)
    s = eps.shape[0]
    log_lik = model.log_likelihood(x.repeat(s, 1), model.decode(z.flatten(0, 1))).view(s, -1).mean(0)
    return probability.elbo(log_lik, probability.gaussian_kl(mu, log_var))


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
    v.count(steps, "steps")
    v.count(n_draws, "n_draws")
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
    eps and z (N, K, 2) with z = mu + sigma·eps, x_hat (N, K, 64) the mean images decoded from z."""

    x: Tensor
    labels: Tensor
    mu: Tensor
    log_var: Tensor
    eps: Tensor
    z: Tensor
    x_hat: Tensor


@torch.no_grad()
def posterior_table(model, x: Tensor, labels: Tensor, n_draws: int = 8,
                    generator: torch.Generator | None = None) -> PosteriorTable:
    """Encode every x_k, draw n_draws z from its posterior and decode them, once, for lookup."""
    x = model.check_x(x)
    if not isinstance(labels, Tensor) or labels.shape != (len(x),):
        raise ValueError(f"labels must be a tensor of shape ({len(x)},), one per row of x.")
    v.count(n_draws, "n_draws")
    mu, log_var = model.encode(x)
    eps = torch.randn(len(x), n_draws, mu.shape[1], generator=generator)
    z = probability.reparameterize(mu.unsqueeze(1).expand_as(eps), log_var.unsqueeze(1).expand_as(eps), eps)
    x_hat = model.decode_mean(z)
    return PosteriorTable(x, labels, mu, log_var, eps, z, x_hat)



# ---------------------------------------------------------------- what the posterior explorer shows

def posterior_row(table: PosteriorTable, k: int, n_sigma: float = 1.0) -> dict:
    """Row k of a `PosteriorTable` as the posterior explorer shows it, a dict: index, label, mu, sigma
    = exp(½ log_var) (2,), z (K, 2), x (64,), x_hat (K, 64), `inside` = how many of the K draws lie
    inside the n_sigma ellipse (‖eps‖ ≤ n_sigma), and `expected_share` = `ellipse_mass(n_sigma)`."""
    n_sigma = v.scalar(n_sigma, "n_sigma", positive=True)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(table.mu):
        raise ValueError(f"k must be a row of the table (0..{len(table.mu) - 1}), got {k!r}.")
    inside = int(((table.eps[k] ** 2).sum(-1) <= n_sigma**2).sum().item())
    return {"index": k, "label": int(table.labels[k]), "mu": table.mu[k], "sigma": torch.exp(0.5 * table.log_var[k]),
            "z": table.z[k], "x": table.x[k], "x_hat": table.x_hat[k], "inside": inside,
            "expected_share": ellipse_mass(n_sigma)}


__all__ = ["ellipse_mass", "elbo_estimate", "PerSampleFit", "fit_per_sample", "PosteriorTable", "posterior_table",
           "posterior_row"]
