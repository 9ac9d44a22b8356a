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
                           batch_size: int = 2) -> dict[int, float]:
    """Estimates of −E[L_K], mean over x, for every K in `ks`, in nats per example: {K: value}.

    Draws max(ks) importance samples per example once; for a smaller K it averages L_K over the
    max(ks) // K disjoint groups of K draws, so every K uses the same draws and a small K is not
    noisier than it must be. −E[L_K] decreases with K toward −log p(x); K = 1 is −ELBO. The draws are made
    `batch_size` examples at a time (`models.log_weights`); small batches keep the max(ks)·batch_size decoder
    outputs in the CPU's cache, which makes K = 1000 on the test set several times faster than batches of 20.
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
    logits = model.decode(z.float())  # (G, 64, 17) or (G, 64)
    if model.likelihood == "categorical":
        log_lik = _grid_log_likelihood(logits, x, model.n_levels)  # (N, G)
    else:
        xd, logits = x.double(), logits.double()
        log_lik = xd @ F.logsigmoid(logits).T + (1 - xd) @ F.logsigmoid(-logits).T
    return torch.logsumexp(log_lik + log_prior + log_w, dim=-1)


def _grid_log_likelihood(logits: Tensor, x: Tensor, n_levels: int) -> Tensor:
    """log p(x|z) of every digit x (N, 64) at every grid code, from the decoder's logits (G, 64, 17) there:
    (N, G) in float64. The log-softmax stays in the decoder's float32 (once for the grid; its rounding,
    about 1e-6 nats a pixel, is far below what the quadrature resolves, and float64 would cost 3× more);
    the sum over the 64 pixels is in float64."""
    log_p = torch.log_softmax(logits, dim=-1)
    levels = torch.round(x * (n_levels - 1)).long()
    return torch.stack([log_p.gather(-1, lv.expand(len(log_p), -1)[..., None])[..., 0].double().sum(-1)
                        for lv in levels])


# ---------------------------------------------------------------- the gap of the ELBO, checked on a grid

class PosteriorGrid(NamedTuple):
    """A 2-latent model's posterior on an n×n grid: ticks (n,); log_post, log_q (N, n, n) with
    [i, j] at z = (ticks[i], ticks[j]): the exact log p(z|x) and the encoder's log q(z|x); log_px (N,)."""

    ticks: Tensor
    log_post: Tensor
    log_q: Tensor
    log_px: Tensor


def _trapezoid_log_weights(ticks: Tensor) -> Tensor:
    w1 = torch.full((len(ticks),), (ticks[1] - ticks[0]).item(), dtype=torch.float64)
    w1[0] = w1[-1] = w1[0] / 2
    return torch.log(w1)[:, None] + torch.log(w1)[None, :]  # (n, n)


@torch.no_grad()
def posterior_on_grid(model, x: Tensor, extent: float = 6.0, n: int = 301) -> PosteriorGrid:
    """The exact posterior p(z|x) = p(x|z) p(z) / p(x) of a 2-latent VAE on an n×n grid over
    [−extent, extent]², p(x) by the trapezoid rule on the same grid, and q(z|x) there too."""
    from ..models import evaluating

    if model.latent_dim != 2:
        raise ValueError(f"the posterior grid needs a model with 2 latent dimensions, got {model.latent_dim}.")
    n = v.count(n, "n", minimum=3)
    extent = v.scalar(extent, "extent", positive=True)
    x = model.check_x(x)
    ticks = torch.linspace(-extent, extent, n, dtype=torch.float64)
    z = torch.cartesian_prod(ticks, ticks)  # (G, 2), z[i·n + j] = (ticks[i], ticks[j])
    if model.likelihood != "categorical":
        raise ValueError("posterior_on_grid is written for the categorical decoder (17 grey levels).")
    with evaluating(model):
        log_lik = _grid_log_likelihood(model.decode(z.float()), x, model.n_levels)  # (N, G)
        mu, log_var = (t.double() for t in model.encode(x))
    log_joint = log_lik + model.prior.log_prob(z)  # (N, G)
    log_px = torch.logsumexp(log_joint + _trapezoid_log_weights(ticks).reshape(-1), dim=-1)
    log_q = (-0.5 * ((z[None] - mu[:, None]) ** 2 / log_var.exp()[:, None] + log_var[:, None]
                     + math.log(2 * math.pi))).sum(-1)
    return PosteriorGrid(ticks, (log_joint - log_px[:, None]).reshape(-1, n, n), log_q.reshape(-1, n, n), log_px)


def grid_kl(log_q: Tensor, log_p: Tensor, ticks: Tensor) -> Tensor:
    """KL(q ‖ p) = ∫ q (log q − log p) dz by the trapezoid rule, for densities given on an n×n grid
    (log_q, log_p (..., n, n) at z = (ticks[i], ticks[j])) → (...). Where q underflows to 0 it adds 0."""
    log_q, log_p = v.tensor(log_q, "log_q", dtype=torch.float64), v.tensor(log_p, "log_p", dtype=torch.float64)
    ticks = v.tensor(ticks, "ticks", dtype=torch.float64)
    if log_q.shape != log_p.shape or log_q.shape[-2:] != (len(ticks), len(ticks)):
        raise ValueError(f"log_q and log_p must both have shape (..., {len(ticks)}, {len(ticks)}), got "
                         f"{tuple(log_q.shape)} and {tuple(log_p.shape)}.")
    q = (log_q + _trapezoid_log_weights(ticks)).exp()
    return torch.where(q > 0, q * (log_q - log_p), torch.zeros_like(q)).sum((-2, -1))


class GapCheck(NamedTuple):
    """log p(x) (quadrature), the ELBO (mean of k draws), KL(q(z|x) ‖ p(z|x)) on the grid, and the
    ELBO's standard error, all (N,) in nats; grid.log_post etc. for drawing."""

    log_px: Tensor
    elbo: Tensor
    kl: Tensor
    elbo_se: Tensor
    grid: PosteriorGrid


def elbo_gap_check(model, x: Tensor, k: int = 10_000, extent: float = 6.0, n: int = 301,
                   generator: torch.Generator | None = None) -> GapCheck:
    """The three numbers of log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)), each computed its own way: log p(x)
    by quadrature, the ELBO by k draws z ~ q(z|x), the KL on the grid against the exact posterior."""
    grid = posterior_on_grid(model, x, extent, n)
    log_w = log_weights(model, x, _check_k(k), generator=generator).double()  # (k, N)
    return GapCheck(grid.log_px, log_w.mean(0), grid_kl(grid.log_q, grid.log_post, grid.ticks),
                    log_w.std(0) / math.sqrt(log_w.shape[0]), grid)


# ---------------------------------------------------------------- how many latent dimensions the model uses

class KLDimensions(NamedTuple):
    """The mean over digits x of KL(q(z_l|x) ‖ p(z_l)) for each latent dimension l, kl (L,) in nats (they
    sum to the mean KL of the ELBO); the threshold in nats; active (L,) bool, kl > threshold; n_active."""

    kl: Tensor
    threshold: float
    active: Tensor
    n_active: int


def summarize_kl_dimensions(model, x: Tensor, threshold: float = 0.3) -> KLDimensions:
    """The KL of each latent dimension on the digits x (N, 64), encoded in eval mode, and which carry more
    than `threshold` nats: a dimension below it sends (almost) nothing about x, its q(z_l|x) ≈ p(z_l)."""
    from ..models import evaluating
    from ..nb04.compute import kl_per_dimension

    threshold = v.scalar(threshold, "threshold", positive=True)
    x = model.check_x(x)
    with evaluating(model), torch.no_grad():
        kl = kl_per_dimension(*model.encode(x))
    active = kl > threshold
    return KLDimensions(kl, threshold, active, int(active.sum().item()))


# ---------------------------------------------------------------- Adam does not see the scale of the loss

def adam_parameters_after(model, x: Tensor, loss, steps: int = 5, lr: float = 3e-3, seed: int = 0) -> Tensor:
    """All parameters of a copy of `model`, flattened, after `steps` Adam steps on loss(terms) of the whole
    batch x, where terms = model.elbo_terms(x) with z drawn from a generator seeded `seed` anew for each
    step (so two losses see the same draws). `model` itself is not changed."""
    import copy

    steps = v.count(steps, "steps")
    lr = v.scalar(lr, "lr", positive=True)
    x = model.check_x(x)
    twin = copy.deepcopy(model)
    opt = torch.optim.Adam(twin.parameters(), lr=lr)
    for step in range(steps):
        opt.zero_grad()
        value = loss(twin.elbo_terms(x, generator=torch.Generator().manual_seed(seed + step)))
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"loss(terms) must return one number (a 0-d tensor), got {value!r:.60}.")
        value.backward()
        opt.step()
    return torch.cat([p.detach().reshape(-1) for p in twin.parameters()])


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


def interpolation_path(model, codes: Tensor, a: int, b: int, steps: int = 11) -> Tensor:
    """The decodings of z(t) = (1 − t)·codes[a] + t·codes[b] at `steps` evenly spaced t from 0 to 1:
    (steps, 64)."""
    steps = v.count(steps, "steps", minimum=2)
    t = torch.linspace(0, 1, steps)[:, None]
    return decode_means(model, (1 - t) * codes[a] + t * codes[b])


def examples_by_class(labels) -> dict[int, list[int]]:
    """The indices of each class's examples, in order: labels (N,) → {class: [index, ...]}, classes sorted."""
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be a 1-D tensor of integer classes, got shape {tuple(labels.shape)}, "
                         f"dtype {labels.dtype}.")
    return {int(c): torch.nonzero(labels == c).reshape(-1).tolist() for c in torch.unique(labels)}


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
    """A code z (L,), the mean image x (64,) decoded from it, its prior density p(z), log p(z) (nats), and
    p(z) as a share of the prior's peak density (nan when no peak was given)."""

    z: Tensor
    x: Tensor
    density: float
    log_density: float
    of_peak: float


def decode_point(model, z: Tensor, peak: float | None = None) -> LatentPoint:
    """Decode one code z (L,) and look up its density under `model.prior`; `peak` (the prior's highest
    density, `prior_peak`) gives of_peak = p(z) / peak."""
    z = v.tensor(z, "z")
    log_density = model.prior.log_prob(z.double()).item()
    of_peak = math.nan if peak is None else math.exp(log_density) / v.scalar(peak, "peak", positive=True)
    return LatentPoint(z, decode_means(model, z[None])[0], math.exp(log_density), log_density, of_peak)


def nearest_neighbour_accuracy(codes: Tensor, labels, ref_codes: Tensor, ref_labels, k: int = 5) -> dict[int, float]:
    """How well the codes alone tell the classes apart: each code gets the majority label of its k
    nearest reference codes (Euclidean; a tie goes to the smallest label). codes (N, L), labels (N,),
    ref_codes (M, L), ref_labels (M,). Returns {class: share of its codes labelled right}, classes sorted."""
    codes, ref_codes = v.tensor(codes, "codes"), v.tensor(ref_codes, "ref_codes")
    labels, ref_labels = torch.as_tensor(labels), torch.as_tensor(ref_labels)
    k = v.count(k, "k")
    if codes.ndim != 2 or ref_codes.ndim != 2 or codes.shape[1] != ref_codes.shape[1]:
        raise ValueError(f"codes and ref_codes must be (N, L) and (M, L) with the same L, got {tuple(codes.shape)} "
                         f"and {tuple(ref_codes.shape)}.")
    if labels.shape != (len(codes),) or ref_labels.shape != (len(ref_codes),):
        raise ValueError(f"labels must have shape ({len(codes)},) and ref_labels ({len(ref_codes)},), got "
                         f"{tuple(labels.shape)} and {tuple(ref_labels.shape)}.")
    if k > len(ref_codes):
        raise ValueError(f"k = {k} is more than the {len(ref_codes)} reference codes.")
    nearest = torch.cdist(codes.double(), ref_codes.double()).topk(k, largest=False).indices  # (N, k)
    votes = F.one_hot(ref_labels[nearest].long(), int(ref_labels.max()) + 1).sum(1)  # (N, classes)
    guess = votes.argmax(1)  # the first maximum: ties go to the smallest label
    return {int(c): (guess[labels == c] == c).double().mean().item() for c in torch.unique(labels)}


def training_summary(history, epochs: int) -> str:
    """One line on how a `training.train(..., epochs=epochs, patience=...)` run ended: all epochs run,
    or stopped early (the progress bar then stays short of 100%)."""
    epochs = v.count(epochs, "epochs")
    ran = len(history.val_loss)
    if not 1 <= ran <= epochs:
        raise ValueError(f"the history has {ran} epochs; a run of at most epochs = {epochs} was expected.")
    best = history.best_epoch + 1
    if ran < epochs:
        return (f"stopped early at epoch {ran} of {epochs}: no better validation loss after epoch {best} "
                f"(the bar stops at {ran}/{epochs})")
    return f"ran all {epochs} epochs (no early stop); the best was epoch {best}"


__all__ = ["training_summary", "nearest_neighbour_accuracy", "importance_sampled_nll", "uniform_nll", "fit_pixel_categoricals", "pixel_categorical_nll",
           "latent_grid_codes", "log_marginal_quadrature", "PosteriorGrid", "posterior_on_grid", "grid_kl",
           "GapCheck", "elbo_gap_check", "adam_parameters_after", "KLDimensions",
           "summarize_kl_dimensions", "posterior_means", "decode_means", "Interpolation",
           "interpolate", "interpolation_path", "examples_by_class", "prior_density", "prior_peak", "LatentPoint", "decode_point"]
