"""Evaluating a trained VAE honestly: importance-sampled log p(x), exact baselines, the VAE loss.

Everything is per example in nats, summed over pixels and latent dimensions; callers average over
the test set in one visible place. Pure tensor maths: no plotting, no training.

    log p(x) = log E_{z~q(z|x)} [p(x|z) p(z) / q(z|x)]
             ≥ log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x)      (z_k ~ q(z|x), Jensen)  =: L_K
             ≥ ELBO = L_1 in expectation.

E[L_K] increases with K and tends to log p(x) (Burda et al., 2016, "Importance Weighted
Autoencoders"), so −L_K approaches −log p(x) from above.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _validate as v
from . import losses


def _check_k(k, name: str = "k") -> int:
    return v.count(k, name, of="samples")


def vae_loss(x_logits: Tensor, levels: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """The VAE loss −ELBO (one-sample), averaged over the batch.

    x_logits (B, 64, 17): decoder logits for one z per example; levels (B, 64) int in 0..16;
    mu, log_var (B, L) of q(z|x). Reconstruction −log p(x|z) summed over pixels, KL to N(0, I)
    summed over latent dimensions, their sum averaged over the batch. Returns a 0-d tensor (nats).
    """
    x_logits = v.tensor(x_logits, "x_logits")
    if x_logits.ndim != 3:
        raise ValueError(f"x_logits must have shape (B, D, K), got {tuple(x_logits.shape)}.")
    levels = v.levels(levels, "levels", x_logits.shape[-1])
    if x_logits.shape[:2] != levels.shape:
        raise ValueError(f"x_logits must have shape (B, D, K) matching levels (B, D); got "
                         f"{tuple(x_logits.shape)} and {tuple(levels.shape)}.")
    mu, log_var = losses._pair(mu, log_var)
    if mu.ndim != 2 or mu.shape[0] != len(levels):
        raise ValueError(f"mu and log_var must have shape (B, L) with the batch size B = {len(levels)} of levels, "
                         f"one row per digit; got {tuple(mu.shape)}. (A different B would broadcast to a wrong "
                         f"loss.)")
    rec = -losses.categorical_log_likelihood(levels, x_logits)
    kl = losses.gaussian_kl(mu, log_var)
    return (rec + kl).mean()


def iw_terms(model, x: Tensor, k: int, generator: torch.Generator | None = None) -> dict:
    """k draws z ~ q(z|x) per example, differentiable: log_w, log_lik (k, B) and mu, log_var (B, L).

    log w = log p(x|z) + log p(z) − log q(z|x); `iw_bound(log_w)` is L_k, the IWAE objective.
    """
    k = _check_k(k)
    mu, log_var = model.encode(x)
    eps = torch.randn((k,) + mu.shape, generator=generator, dtype=mu.dtype)
    z = losses.reparameterize(mu, log_var, eps)  # (k, B, L)
    logits = model.decode(z)
    log_lik = model.log_likelihood(x.expand(k, *x.shape).reshape(-1, x.shape[1]),
                                   logits.reshape(k * len(x), *logits.shape[2:])).reshape(k, len(x))
    log_prior = losses.diag_gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z))
    log_q = losses.diag_gaussian_log_prob(z, mu, log_var)
    return {"log_w": log_lik + log_prior - log_q, "log_lik": log_lik, "mu": mu, "log_var": log_var}


@torch.no_grad()
def log_weights(model, x: Tensor, k: int, generator: torch.Generator | None = None,
                batch_size: int = 100) -> Tensor:
    """log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x) for z_k ~ q(z|x): x (N, 64) → (k, N).

    The mean over k of log w is a one-sample ELBO estimate; logsumexp over k minus log k is L_k.
    Computed in batches of `batch_size` examples (eval mode) to bound memory.
    """
    k = _check_k(k)
    x = model.check_x(x)
    was_training = model.training
    model.eval()
    out = [iw_terms(model, x[i:i + batch_size], k, generator)["log_w"] for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out, dim=1)


def iw_bound(log_w: Tensor) -> Tensor:
    """L_K = logsumexp_k log w_k − log K per example: log_w (K, N) → (N,). K = 1 gives the ELBO."""
    log_w = v.tensor(log_w, "log_w")
    if log_w.ndim != 2:
        raise ValueError(f"log_w must have shape (K, N), got {tuple(log_w.shape)}.")
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


@torch.no_grad()
def importance_sampled_nll(model, x: Tensor, ks=(1, 10, 100, 1000), generator: torch.Generator | None = None,
                           batch_size: int = 20) -> dict[int, float]:
    """Estimates of −E[L_K], mean over x, for every K in `ks`, in nats per example: {K: value}.

    Draws max(ks) importance samples per example once; for a smaller K it averages L_K over the
    max(ks) // K disjoint groups of K draws, so every K uses the same draws and a small K is not
    noisier than it must be. −E[L_K] decreases with K toward −log p(x); K = 1 is −ELBO.
    """
    ks = tuple(_check_k(k, "each K") for k in ks)
    log_w = log_weights(model, x, max(ks), generator=generator, batch_size=batch_size).double()
    out = {}
    for k in ks:
        groups = log_w[:(len(log_w) // k) * k].reshape(-1, k, log_w.shape[1])
        out[k] = -(torch.logsumexp(groups, dim=1) - math.log(k)).mean().item()
    return out


def uniform_nll(levels: Tensor, n_levels: int = 17) -> Tensor:
    """−log p(x) when every pixel is uniform over the levels: D·log K per example. levels (N, D) → (N,)."""
    levels = _levels(levels, n_levels)
    return torch.full((len(levels),), levels.shape[1] * math.log(n_levels), dtype=torch.float64)


def fit_pixel_categoricals(levels: Tensor, n_levels: int = 17, alpha: float = 1.0) -> Tensor:
    """Per-pixel level frequencies with add-`alpha` smoothing: levels (N, D) → probabilities (D, K).

    The maximum-likelihood model with independent pixels (alpha > 0 keeps unseen levels possible).
    """
    levels = _levels(levels, n_levels)
    alpha = v.scalar(alpha, "alpha")
    if alpha < 0:
        raise ValueError(f"alpha must be ≥ 0, got {alpha}.")
    counts = torch.nn.functional.one_hot(levels, n_levels).sum(0).double() + alpha
    return counts / counts.sum(-1, keepdim=True)


def pixel_categorical_nll(levels: Tensor, probs: Tensor) -> Tensor:
    """−log p(x) = −Σ_pixels log probs[pixel, level] per example: levels (N, D), probs (D, K) → (N,)."""
    probs = v.tensor(probs, "probs", dtype=torch.float64)
    levels = _levels(levels, probs.shape[-1])
    if probs.ndim != 2 or probs.shape[0] != levels.shape[1]:
        raise ValueError(f"probs must have shape (D, K) with D = {levels.shape[1]}, got {tuple(probs.shape)}.")
    return -torch.log(probs.gather(1, levels.T)).T.sum(-1)


def _levels(levels, n_levels: int) -> Tensor:
    levels = v.levels(levels, "levels", n_levels)
    if levels.ndim != 2:
        raise ValueError(f"levels must have shape (N, D), got {tuple(levels.shape)}.")
    return levels


def latent_grid_codes(n: int, extent: float) -> Tensor:
    """The codes of an n×n grid on [−extent, extent]²: rows from z₂ = extent down, columns z₁ up. (n·n, 2)."""
    n = v.count(n, "n", minimum=2)
    extent = v.scalar(extent, "extent", positive=True)
    ticks = torch.linspace(-extent, extent, n)
    z2, z1 = torch.meshgrid(ticks.flip(0), ticks, indexing="ij")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1)


@torch.no_grad()
def log_marginal_quadrature(model, x: Tensor, extent: float = 6.0, n: int = 301) -> Tensor:
    """log p(x) = log ∫ p(x|z) p(z) dz by the trapezoid rule on [−extent, extent]^L, for L = 1 or 2.

    Exact up to the grid (the prior's mass outside ±6 is below 1e-8): x (N, 64) → (N,), float64.
    Only for checking the bounds on small models; the cost grows as n^L.
    """
    if model.latent_dim not in (1, 2):
        raise ValueError(f"quadrature needs a model with 1 or 2 latent dimensions, got {model.latent_dim}.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"n must be a whole number ≥ 3, got {n!r}.")
    extent = v.scalar(extent, "extent", positive=True)
    x = model.check_x(x)
    ticks = torch.linspace(-extent, extent, n, dtype=torch.float64)
    w1 = torch.full((n,), (ticks[1] - ticks[0]).item(), dtype=torch.float64)
    w1[0] = w1[-1] = w1[0] / 2  # trapezoid weights
    if model.latent_dim == 1:
        z, log_w = ticks[:, None], torch.log(w1)
    else:
        z = torch.cartesian_prod(ticks, ticks)
        log_w = (torch.log(w1)[:, None] + torch.log(w1)[None, :]).reshape(-1)
    log_prior = -0.5 * (z**2).sum(-1) - 0.5 * model.latent_dim * math.log(2 * math.pi)
    logits = model.decode(z.float()).double()  # (G, 64, 17) or (G, 64)
    pixels = torch.arange(model.data_dim)
    if model.likelihood == "categorical":
        log_p = torch.log_softmax(logits, dim=-1)  # once for the grid, then one gather per digit
        levels = torch.round(x * (model.n_levels - 1)).long()
        log_lik = torch.stack([log_p[:, pixels, lv].sum(-1) for lv in levels])  # (N, G)
    else:
        xd = x.double()
        log_lik = xd @ F.logsigmoid(logits).T + (1 - xd) @ F.logsigmoid(-logits).T
    return torch.logsumexp(log_lik + log_prior + log_w, dim=-1)
