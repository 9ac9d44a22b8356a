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
from ..models import evaluating


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
    eps and z (N, K, 2) with z = mu + sigma·eps, x_hat (N, K, 64) the mean images E[x|z] decoded
    from z, x_sample (N, K, 64) one sample x ~ p(x|z) per draw (grey levels / 16)."""

    x: Tensor
    labels: Tensor
    mu: Tensor
    log_var: Tensor
    eps: Tensor
    z: Tensor
    x_hat: Tensor
    x_sample: Tensor


@torch.no_grad()
def posterior_table(model, x: Tensor, labels: Tensor, n_draws: int = 8,
                    generator: torch.Generator | None = None) -> PosteriorTable:
    """Encode every x_k, draw n_draws z from its q(z|x_k), decode them to mean images E[x|z] and to one
    sample x ~ p(x|z) each, once, for lookup."""
    x = model.check_x(x)
    if not isinstance(labels, Tensor) or labels.shape != (len(x),):
        raise ValueError(f"labels must be a tensor of shape ({len(x)},), one per row of x.")
    v.count(n_draws, "n_draws")
    with evaluating(model):
        mu, log_var = model.encode(x)
        eps = torch.randn(len(x), n_draws, mu.shape[1], generator=generator)
        z = probability.reparameterize(mu.unsqueeze(1).expand_as(eps), log_var.unsqueeze(1).expand_as(eps), eps)
        logits = model.decode(z)
        x_hat = model.mean_image(logits)
        x_sample = sample_images(model, logits, generator)
    return PosteriorTable(x, labels, mu, log_var, eps, z, x_hat, x_sample)


def sample_images(model, logits: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One image x ~ p(x|z) per set of decoder logits, every pixel drawn on its own: (..., 64, 17)
    categorical logits → (..., 64) grey levels / 16, or (..., 64) Bernoulli logits → (..., 64) in {0, 1}."""
    logits = v.tensor(logits, "logits")
    if model.likelihood == "bernoulli":
        u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype)
        return (u < torch.sigmoid(logits)).to(logits.dtype)
    if logits.ndim < 2 or logits.shape[-1] != model.n_levels:
        raise ValueError(f"logits must have {model.n_levels} grey levels in the last axis, got {tuple(logits.shape)}.")
    probs = torch.softmax(logits, dim=-1).reshape(-1, model.n_levels)
    levels = torch.multinomial(probs, 1, generator=generator).reshape(logits.shape[:-1])
    return levels.to(logits.dtype) / (model.n_levels - 1)


def class_rows(labels: Tensor, digit: int) -> list[int]:
    """The rows of `labels` (N,) that hold the digit class `digit` (0–9), in order."""
    if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9:
        raise ValueError(f"digit must be a class 0..9, got {digit!r}.")
    return [int(i) for i in torch.nonzero(v.tensor(labels, "labels") == digit).flatten()]


# ---------------------------------------------------------------- what the posterior explorer shows

def posterior_row(table: PosteriorTable, k: int, n_sigma: float = 1.0, show: str = "means") -> dict:
    """Row k of a `PosteriorTable` as the posterior explorer shows it, a dict: index, label, mu, sigma
    = exp(½ log_var) (2,), z (K, 2), x (64,), x_hat (K, 64), `decoded` (K, 64) = x_hat (show="means",
    the mean images E[x|z]) or x_sample (show="samples", x ~ p(x|z)), `inside` = how many of the K
    draws lie inside the n_sigma ellipse (‖eps‖ ≤ n_sigma), and `expected_share` = `ellipse_mass(n_sigma)`."""
    n_sigma = v.scalar(n_sigma, "n_sigma", positive=True)
    v.one_of(show, "show", ("means", "samples"))
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(table.mu):
        raise ValueError(f"k must be a row of the table (0..{len(table.mu) - 1}), got {k!r}.")
    inside = int(((table.eps[k] ** 2).sum(-1) <= n_sigma**2).sum().item())
    return {"index": k, "label": int(table.labels[k]), "mu": table.mu[k], "sigma": torch.exp(0.5 * table.log_var[k]),
            "z": table.z[k], "x": table.x[k], "x_hat": table.x_hat[k], "show": show,
            "decoded": table.x_hat[k] if show == "means" else table.x_sample[k], "inside": inside,
            "expected_share": ellipse_mass(n_sigma)}


# ---------------------------------------------------------------- q(z|x) against the exact posterior p(z|x)

class GridPosterior(NamedTuple):
    """The exact posterior p(z|x) of a 2-latent model on a square grid, beside the encoder's q(z|x).

    ticks (n,): the grid's coordinates on each axis; z (n·n, 2) the grid points (z₁ varies fastest
    along a row of the (n, n) pictures: picture[i, j] is at z = (ticks[j], ticks[i])); cell = the
    area of one grid cell. For N digits: log_post (N, n·n), log p(z|x) = log p(x|z) + log p(z) −
    log p(x), a density (it integrates to 1 over the grid); log_q (N, n·n), log q(z|x);
    log_px (N,), log p(x) by the rectangle rule on the same grid; mu, log_var (N, 2)
    of q; post_mean (N, 2), post_cov (N, 2, 2) the exact posterior's mean and covariance;
    kl_q_post (N,) KL(q(z|x) ‖ p(z|x)) in nats; non_gaussian (N,) KL(p(z|x) ‖ N(post_mean, post_cov)),
    how far the exact posterior is from the best-matching (moment-matched) Gaussian: 0 exactly when
    p(z|x) is normal.
    """

    ticks: Tensor
    z: Tensor
    cell: float
    log_post: Tensor
    log_q: Tensor
    log_px: Tensor
    mu: Tensor
    log_var: Tensor
    post_mean: Tensor
    post_cov: Tensor
    kl_q_post: Tensor
    non_gaussian: Tensor


def _full_gaussian_log_prob(z: Tensor, mean: Tensor, cov: Tensor) -> Tensor:
    """log N(z; mean, cov) for z (G, 2), mean (N, 2), cov (N, 2, 2) → (N, G)."""
    d = z[None] - mean[:, None]                                        # (N, G, 2)
    inv = torch.linalg.inv(cov)
    maha = torch.einsum("ngi,nij,ngj->ng", d, inv, d)
    return -0.5 * (maha + torch.logdet(cov)[:, None] + 2 * math.log(2 * math.pi))


@torch.no_grad()
def grid_posterior(model, x: Tensor, extent: float = 4.0, n: int = 161, chunk: int = 4096) -> GridPosterior:
    """The exact posterior p(z|x) = p(x|z) p(z) / p(x) of a 2-latent model on an n×n grid on
    [−extent, extent]², with the encoder's q(z|x) on the same grid and the numbers that compare them.

    x (N, 64). The grid must be fine enough for the posteriors (a trained 2-latent digits VAE has
    σ ≈ 0.1–0.5; the default spacing is 0.05) and wide enough for the prior (mass outside ±4 is
    below 1e-3). In float64; the decoder is run once per grid point, in chunks.
    """
    if getattr(model, "latent_dim", None) != 2:
        raise ValueError(f"the grid posterior needs a model with 2 latent dimensions, got {getattr(model, 'latent_dim', None)}.")
    n = v.count(n, "n", minimum=3)
    extent = v.scalar(extent, "extent", positive=True)
    v.count(chunk, "chunk")
    x = model.check_x(x)
    ticks = torch.linspace(-extent, extent, n, dtype=torch.float64)
    z2, z1 = torch.meshgrid(ticks, ticks, indexing="ij")
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], dim=-1)          # (G, 2)
    cell = float((ticks[1] - ticks[0]) ** 2)
    with evaluating(model):
        log_lik = torch.cat([_log_lik_on(model, x, z[i:i + chunk]) for i in range(0, len(z), chunk)], dim=1)
        mu, log_var = (t.double() for t in model.encode(x))
    log_joint = log_lik.add_(model.prior.log_prob(z).double()[None])  # (N, G), in place of log_lik
    log_px = torch.logsumexp(log_joint, -1) + math.log(cell)
    log_post = log_joint.sub_(log_px[:, None])                          # in place of log_joint
    post = torch.exp(log_post).mul_(cell)                               # probabilities of the cells
    post_mean = post @ z
    # the covariance from the second moments, Σ_g p_g z_g z_gᵀ − mean meanᵀ (the p_g sum to 1)
    second = (post @ torch.stack([z[:, 0] ** 2, z[:, 0] * z[:, 1], z[:, 1] ** 2], -1))   # (N, 3)
    post_cov = torch.stack([second[:, 0], second[:, 1], second[:, 1], second[:, 2]], -1).view(-1, 2, 2)
    post_cov = post_cov - post_mean[:, :, None] * post_mean[:, None, :]
    log_q = _diag_log_prob_on(z, mu, log_var)                           # (N, G)
    kl_q_post = (torch.exp(log_q) * (log_q - log_post)).sum(-1) * cell
    # KL(p ‖ N(mean, cov)) = Σ p log p − Σ p log N(z; mean, cov); the second sum is −½(2 + log det(2π cov)) exactly,
    # because mean and cov are the moments of the same p: Σ_g p_g (z_g − mean)ᵀ cov⁻¹ (z_g − mean) = tr(cov⁻¹ cov) = 2
    non_gaussian = (post * log_post).sum(-1) + 1 + 0.5 * torch.logdet(post_cov) + math.log(2 * math.pi)
    return GridPosterior(ticks, z, cell, log_post, log_q, log_px, mu, log_var, post_mean, post_cov, kl_q_post,
                         non_gaussian)


def _diag_log_prob_on(z: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """log N(z_g; mu_k, diag(exp(log_var_k))) for every row k and point g: z (G, L), mu and log_var (N, L) → (N, G).

    The same density as `probability.diag_gaussian_log_prob`, written as one matrix product: the
    exponent −½ Σ_j (z_j − μ_j)²/σ_j² is a quadratic in z, −½ Σ_j z_j²/σ_j² + Σ_j z_j μ_j/σ_j² − ½ Σ_j μ_j²/σ_j²,
    so no (N, G, L) tensor of differences is ever made."""
    inv = torch.exp(-log_var)                                           # 1/σ², (N, L)
    const = -0.5 * ((mu**2 * inv).sum(-1) + log_var.sum(-1) + mu.shape[1] * math.log(2 * math.pi))
    coef = torch.cat([-0.5 * inv, mu * inv], dim=-1)                    # (N, 2L)
    return torch.addmm(const[:, None], coef, torch.cat([z**2, z], dim=-1).T)


def _log_lik_on(model, x: Tensor, z: Tensor) -> Tensor:
    """log p(x_k | z_g) for every digit and grid point: (N, 64), (G, 2) → (N, G), float64.

    Categorical: Σ_j ℓ_{j,x_j}(z) − Σ_j log Σ_v e^{ℓ_{j,v}(z)}. The logits ℓ come from the decoder in the
    model's dtype, and the first sum is taken in that dtype too (one matrix product, exact picks, a sum
    of 64 numbers: float32 rounding of about 1e-5 nats); both sums over pixels are returned in float64."""
    logits = model.decode(z.to(model._dtype()))
    if model.likelihood == "categorical":
        levels = torch.round(x * (model.n_levels - 1)).long()           # (N, 64)
        one_hot = torch.nn.functional.one_hot(levels, model.n_levels).to(logits.dtype).flatten(1)  # (N, 64·17)
        normalizer = torch.logsumexp(logits, dim=-1).double().sum(-1)   # (G,)
        return (one_hot @ logits.flatten(1).T).double() - normalizer
    logits, xd = logits.double(), x.double()
    return xd @ torch.nn.functional.logsigmoid(logits).T + (1 - xd) @ torch.nn.functional.logsigmoid(-logits).T


def aggregate_posterior_density(mu: Tensor, log_var: Tensor, z: Tensor) -> Tensor:
    """The aggregate posterior q(z) = (1/N) Σ_k N(z; mu_k, diag(σ_k²)), the average of the encoder's
    normals over N digits, at the points z: mu, log_var (N, L), z (G, L) → (G,) densities, float64."""
    mu, log_var = probability._pair(mu, log_var)
    z = v.tensor(z, "z")
    if z.ndim != 2 or z.shape[1] != mu.shape[1]:
        raise ValueError(f"z must have shape (G, {mu.shape[1]}), got {tuple(z.shape)}.")
    mu, log_var, z = mu.double(), log_var.double(), z.double()
    chunks = [torch.logsumexp(_diag_log_prob_on(z[i:i + 4096], mu, log_var), 0) for i in range(0, len(z), 4096)]
    return torch.exp(torch.cat(chunks) - math.log(len(mu)))


# ---------------------------------------------------------------- which class a decoding looks like

def class_means(x: Tensor, labels: Tensor) -> Tensor:
    """The mean image of each digit class: x (N, D), labels (N,) in 0..9. Returns (10, D)."""
    x = v.tensor(x, "x")
    if x.ndim != 2 or not isinstance(labels, Tensor) or labels.shape != (len(x),):
        raise ValueError(f"x must have shape (N, D) and labels shape (N,); got {tuple(x.shape)} and "
                         f"{tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__}.")
    missing = sorted(set(range(10)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"every class 0..9 needs at least one image; missing {missing}.")
    return torch.stack([x[labels == c].mean(0) for c in range(10)])


def nearest_class_mean(images: Tensor, means: Tensor) -> Tensor:
    """The class whose mean image is nearest (Euclidean distance over pixels) to each image.

    images (..., D), means (C, D) from `class_means`. Returns the classes, shape (...,), int64.
    """
    images, means = v.tensor(images, "images"), v.tensor(means, "means")
    if means.ndim != 2 or images.ndim < 1 or images.shape[-1] != means.shape[1]:
        raise ValueError(f"images must have shape (..., D) and means (C, D) with the same D; got "
                         f"{tuple(images.shape)} and {tuple(means.shape)}.")
    flat = images.reshape(-1, means.shape[1]).to(means.dtype)
    return torch.cdist(flat, means).argmin(-1).reshape(images.shape[:-1])


__all__ = ["class_means", "nearest_class_mean", "ellipse_mass", "elbo_estimate", "PerSampleFit", "fit_per_sample", "PosteriorTable", "posterior_table",
           "sample_images", "class_rows", "posterior_row", "GridPosterior", "grid_posterior", "aggregate_posterior_density"]
