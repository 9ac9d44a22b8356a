"""Honest numbers for a trained VAE: −log p(x) by importance sampling and (for 1–2 latents) by
quadrature, the pixel baselines, the grid of codes the latent-grid figure decodes."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _validate as v
from ..models import log_weights


def _check_k(k, name: str = "k") -> int:
    return v.count(k, name, of="samples")


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
    v.count(n, "n", minimum=3)
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
    log_prior = model.prior.log_prob(z)
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



# ---------------------------------------------------------------- what the explorers of notebook 06 show

def posterior_means(model, x: Tensor) -> Tensor:
    """The codes μ(x) of the encoder, in eval mode and without gradients: (N, 64) → (N, L)."""
    from ..models import evaluating

    with evaluating(model):
        return model.encode(x)[0]


def decode_means(model, z: Tensor) -> Tensor:
    """The mean images E[x|z] of codes z, in eval mode and without gradients: (..., L) → (..., 64)."""
    from ..models import evaluating

    with evaluating(model):
        return model.decode_mean(z)


class Interpolation(NamedTuple):
    """One point of the path between two codes: t; z = (1 − t)·code_a + t·code_b (L,); x_hat (64,) its
    decoding; distance = ‖code_b − code_a‖; norm = ‖z‖."""

    t: float
    z: Tensor
    x_hat: Tensor
    distance: float
    norm: float


def interpolate(model, codes: Tensor, a: int, b: int, t: float) -> Interpolation:
    """Decode z(t) = (1 − t)·codes[a] + t·codes[b], the straight path from code a to code b."""
    t = v.scalar(t, "t")
    z = (1 - t) * codes[a] + t * codes[b]
    return Interpolation(t, z, decode_means(model, z[None])[0], (codes[b] - codes[a]).norm().item(), z.norm().item())


def prior_density(prior, z: Tensor) -> Tensor:
    """p(z) = exp(prior.log_prob(z)) in float64, for any prior with a `log_prob` (`model.prior`): (..., L) → (...)."""
    return prior.log_prob(v.tensor(z, "z", dtype=torch.float64)).exp()


def prior_peak(prior, extent: float, n: int = 101) -> float:
    """The highest prior density p(z) over the square [−extent, extent]², searched on an n×n grid,
    the origin and the prior's component means if it has any: 1/(2π) for N(0, I)."""
    ticks = torch.linspace(-extent, extent, v.count(n, "n", minimum=2), dtype=torch.float64)
    candidates = [torch.cartesian_prod(ticks, ticks), torch.zeros(1, 2, dtype=torch.float64)]
    if isinstance(getattr(prior, "means", None), Tensor):
        candidates.append(prior.means.detach().double())
    return prior_density(prior, torch.cat(candidates)).max().item()


class LatentPoint(NamedTuple):
    """A code z (L,), the mean image x (64,) decoded from it, and its prior density p(z)."""

    z: Tensor
    x: Tensor
    density: float


def decode_point(model, z: Tensor) -> LatentPoint:
    """Decode one code z (L,) and look up its density under `model.prior`."""
    z = v.tensor(z, "z")
    return LatentPoint(z, decode_means(model, z[None])[0], prior_density(model.prior, z).item())


__all__ = ["importance_sampled_nll", "uniform_nll", "fit_pixel_categoricals", "pixel_categorical_nll",
           "latent_grid_codes", "log_marginal_quadrature", "posterior_means", "decode_means", "Interpolation",
           "interpolate", "prior_density", "prior_peak", "LatentPoint", "decode_point"]
