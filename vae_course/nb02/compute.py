"""The latent variable toy: z ~ N(0, 1), x = curve(z) + noise. Its exact log p(x) and posterior
p(z|x) by quadrature, Monte Carlo and importance-sampling estimates, effective sample sizes, the
prior mass under the posterior, and a Gaussian q fitted by the ELBO."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch
from torch import Tensor

from .. import _validate as v
from ..data import curve_2d
from ..probability import standard_normal_log_prob

NOISE = 0.1


_LOG_2PI = math.log(2 * math.pi)


def _dim(dim) -> int:
    return v.count(dim, "dim", minimum=2, of="data dimensions D")
    return dim


def _count(n, name: str) -> int:
    return v.count(n, name)


def curve(z: Tensor, dim: int = 2) -> Tensor:
    """g(z) in D = dim dimensions. z: (N,) → (N, D).

    The first two coordinates are `data.curve_2d`, (z, sin 2z); coordinate d ≥ 2 is
    sin(ω_d z + d) with ω_d = 0.5 + 0.25·(d mod 7), so every coordinate tells something about z.
    """
    dim = _dim(dim)
    z = v.tensor(z, "z")
    head = curve_2d(z)
    if dim == 2:
        return head
    d = torch.arange(2, dim, dtype=z.dtype)
    omega = 0.5 + 0.25 * (d % 7)
    return torch.cat([head, torch.sin(z[:, None] * omega + d)], dim=-1)


def sample(n: int, dim: int = 2, noise: float = NOISE, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """n draws of (x, z) from the model: z (n,) ~ N(0, 1), x (n, D) = g(z) + noise·ε."""
    n, dim = _count(n, "n"), _dim(dim)
    noise = v.scalar(noise, "noise", positive=True)
    z = torch.randn(n, generator=generator, dtype=torch.float64)
    return curve(z, dim) + noise * torch.randn(n, dim, generator=generator, dtype=torch.float64), z


def prior_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, 1), elementwise."""
    z = v.tensor(z, "z")
    return standard_normal_log_prob(z)


def _x(x) -> Tensor:
    x = v.tensor(x, "x", dtype=torch.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must have shape (D,) or (B, D), got shape {tuple(x.shape)}.")
    _dim(x.shape[-1])
    return x


def log_likelihood(x: Tensor, z: Tensor, noise: float = NOISE) -> Tensor:
    """log p(x | z) = Σ_d log N(x_d; g_d(z), noise²), summed over the D coordinates of x.

    x: (D,) or (B, D); z: (K,). Returns (K,) or (B, K): one value per data point and latent value.
    """
    x = _x(x)
    z = v.tensor(z, "z", dtype=torch.float64)
    if z.ndim != 1:
        raise ValueError(f"z must be 1-D with shape (K,), got shape {tuple(z.shape)}.")
    noise = v.scalar(noise, "noise", positive=True)
    g = curve(z, x.shape[-1])                                   # (K, D)
    sq = ((x[..., None, :] - g) ** 2).sum(-1)                  # (K,) or (B, K)
    return -0.5 * sq / noise**2 - x.shape[-1] * (math.log(noise) + 0.5 * _LOG_2PI)


def z_grid(n: int = 2401, lim: float = 6.0) -> Tensor:
    """An even grid of n latent values on [−lim, lim], float64: the quadrature nodes."""
    _count(n, "n")
    lim = v.scalar(lim, "lim", positive=True)
    return torch.linspace(-lim, lim, n, dtype=torch.float64)


def log_px(x: Tensor, noise: float = NOISE, z: Tensor | None = None) -> Tensor:
    """log p(x) = log ∫ p(x|z) p(z) dz by the rectangle rule on the even grid z (default `z_grid()`).

    x: (D,) or (B, D) → () or (B,). The grid must be fine compared with the posterior's width
    (noise / |g'(z)|); the default (step 0.005) is fine for noise ≥ 0.05 and D ≤ 64.
    """
    z = z_grid() if z is None else v.tensor(z, "z", dtype=torch.float64)
    dz = (z[1] - z[0]).item()
    log_joint = log_likelihood(x, z, noise) + prior_log_prob(z)
    return torch.logsumexp(log_joint, dim=-1) + math.log(dz)


def posterior(x: Tensor, noise: float = NOISE, z: Tensor | None = None) -> Tensor:
    """p(z | x) = p(x|z) p(z) / p(x) on the even grid z (default `z_grid()`), by Bayes' rule.

    x: (D,) → (G,) density values, normalised so that their sum times the grid step is 1.
    """
    x = _x(x)
    if x.ndim != 1:
        raise ValueError(f"x must be one data point of shape (D,), got shape {tuple(x.shape)}.")
    z = z_grid() if z is None else v.tensor(z, "z", dtype=torch.float64)
    log_joint = log_likelihood(x, z, noise) + prior_log_prob(z)
    return torch.exp(log_joint - log_px(x, noise, z))


def mc_log_px(log_lik: Tensor) -> Tensor:
    """log( (1/K) Σ_k exp(log_lik_k) ), stably, over the last axis. Reference for Exercise 2.1.

    log_lik: (K,) or (B, K), entry k = log p(x | z_k) for K draws z_k ~ p(z). Returns () or (B,):
    the Monte Carlo estimate of log p(x). Its exponential is unbiased for p(x); the log is not.
    """
    log_lik = _log_weights(log_lik)
    return torch.logsumexp(log_lik, dim=-1) - math.log(log_lik.shape[-1])


def _log_weights(log_lik) -> Tensor:
    if not isinstance(log_lik, Tensor):
        raise TypeError(f"log_lik must be a torch.Tensor, got {type(log_lik).__name__}.")
    if log_lik.ndim not in (1, 2) or log_lik.shape[-1] == 0:
        raise ValueError(f"log_lik must have shape (K,) or (B, K) with K ≥ 1, got {tuple(log_lik.shape)}.")
    if torch.isnan(log_lik).any() or (log_lik == math.inf).any():
        raise ValueError("log_lik contains NaN or +inf; expected log-likelihoods (finite, or −inf).")
    return log_lik


def weights(log_lik: Tensor) -> Tensor:
    """The normalised weights w_k = p(x|z_k) / Σ_j p(x|z_j) over the last axis: same shape."""
    return torch.softmax(_log_weights(log_lik), dim=-1)


def effective_sample_size(log_lik: Tensor) -> Tensor:
    """(Σ w)² / Σ w² over the last axis: how many equally weighted draws the K draws are worth."""
    log_lik = _log_weights(log_lik)
    return torch.exp(2 * torch.logsumexp(log_lik, -1) - torch.logsumexp(2 * log_lik, -1))


def draws_for_share(log_lik: Tensor, share: float = 0.9) -> Tensor:
    """The fewest draws whose weights add up to at least `share` of the total, over the last axis."""
    share = v.scalar(share, "share", positive=True)
    if share > 1:
        raise ValueError(f"share must be in (0, 1], got {share}.")
    w = weights(log_lik).sort(dim=-1, descending=True).values.cumsum(-1)
    return (w < share - 1e-12).sum(-1) + 1


def prior_estimates(x: Tensor, k: int, repeats: int, noise: float = NOISE,
                    generator: torch.Generator | None = None) -> Tensor:
    """`repeats` independent estimates of log p(x), each from k fresh prior draws. x: (D,) → (repeats,)."""
    k, repeats = _count(k, "k"), _count(repeats, "repeats")
    x = _x(x)
    z = torch.randn(repeats * k, generator=generator, dtype=torch.float64)
    return mc_log_px(log_likelihood(x, z, noise).reshape(repeats, k))


def posterior_moments(x: Tensor, noise: float = NOISE, z: Tensor | None = None) -> tuple[float, float]:
    """The mean and standard deviation of p(z | x), by quadrature on the grid z."""
    z = z_grid() if z is None else z
    p = posterior(x, noise, z) * (z[1] - z[0])
    mean = (p * z).sum()
    return mean.item(), ((p * (z - mean) ** 2).sum()).sqrt().item()


def importance_estimates(x: Tensor, mu: float, sigma: float, k: int, repeats: int, noise: float = NOISE,
                         generator: torch.Generator | None = None) -> Tensor:
    """Estimates of log p(x) from k draws of q = N(mu, sigma²) instead of the prior:

    log (1/k) Σ p(x|z_k) p(z_k) / q(z_k),  z_k ~ q. Unbiased in p(x) for any q > 0; close to exact
    with few draws when q is close to p(z | x). x: (D,) → (repeats,).
    """
    k, repeats = _count(k, "k"), _count(repeats, "repeats")
    mu, sigma = v.scalar(mu, "mu"), v.scalar(sigma, "sigma", positive=True)
    eps = torch.randn(repeats * k, generator=generator, dtype=torch.float64)
    z = mu + sigma * eps
    log_q = standard_normal_log_prob(eps) - math.log(sigma)
    log_w = log_likelihood(x, z, noise) + prior_log_prob(z) - log_q
    return mc_log_px(log_w.reshape(repeats, k))


class PointSummary(NamedTuple):
    """What the latent explorer shows for one x (all float64).

    z (G,) grid; prior (G,) and post (G,) densities p(z) and p(z|x) on it; z_draws (K,) the fixed
    prior draws with their normalised weights w (K,); ess; n_90 = fewest draws carrying 90% of the
    weight; exact = log p(x) by quadrature; estimates (R,) repeated K-draw estimates of log p(x).
    """

    x: Tensor
    z: Tensor
    prior: Tensor
    post: Tensor
    z_draws: Tensor
    w: Tensor
    ess: float
    n_90: int
    exact: float
    estimates: Tensor


def summarize_point(x: Tensor, z_draws: Tensor, z_repeats: Tensor, noise: float = NOISE,
              z: Tensor | None = None) -> PointSummary:
    """Exact and Monte Carlo views of p(x) for one x (D,), from fixed prior draws.

    z_draws: (K,) draws shown one by one; z_repeats: (R, K) draws for R repeated estimates.
    """
    z = z_grid(1201) if z is None else z
    log_lik = log_likelihood(x, z_draws, noise)
    estimates = mc_log_px(log_likelihood(x, z_repeats.flatten(), noise).reshape(z_repeats.shape))
    return PointSummary(x, z, prior_log_prob(z).exp(), posterior(x, noise, z), z_draws, weights(log_lik),
                         effective_sample_size(log_lik).item(), int(draws_for_share(log_lik, 0.9)),
                         log_px(x, noise, z).item(), estimates)



# ---------------------------------------------------------------- what the latent explorer shows

def fixed_prior_draws(k: int, repeats: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """K draws z_k ~ p(z) = N(0, 1) to show one by one, then R × K more for R repeated estimates,
    float64, in that order from `generator`: (K,), (R, K). The explorer reuses them for every x."""
    k, repeats = _count(k, "k"), _count(repeats, "repeats")
    z_draws = torch.randn(k, generator=generator, dtype=torch.float64)
    return z_draws, torch.randn(repeats, k, generator=generator, dtype=torch.float64)


def estimate_moments(estimates: Tensor) -> tuple[float, float]:
    """Mean and standard deviation (n − 1 in the denominator) of repeated estimates (R,)."""
    estimates = v.tensor(estimates, "estimates")
    return estimates.mean().item(), estimates.std().item()


# ---------------------------------------------------------------- when prior draws fail, and what q does

def prior_mass_near_posterior(x: Tensor, share: float = 0.95, noise: float = NOISE,
                              z: Tensor | None = None) -> Tensor:
    """The prior mass of the smallest region of z that holds `share` of p(z | x), on the grid z.

    x: (D,) or (B, D) → () or (B,). K times it is the number of K prior draws expected to land
    where the posterior lives, whatever the posterior's shape (one spike, two, or a skewed one).
    """
    share = v.scalar(share, "share", positive=True)
    if share > 1:
        raise ValueError(f"share must be in (0, 1], got {share}.")
    x = _x(x)
    z = z_grid() if z is None else v.tensor(z, "z", dtype=torch.float64)
    dz = (z[1] - z[0]).item()
    log_joint = log_likelihood(x, z, noise) + prior_log_prob(z)
    post = torch.softmax(log_joint, dim=-1)                        # posterior mass per grid cell
    order = post.argsort(dim=-1, descending=True)
    inside_sorted = post.gather(-1, order).cumsum(-1) - post.gather(-1, order) < share - 1e-12
    inside = torch.zeros_like(post, dtype=torch.bool).scatter(-1, order, inside_sorted)
    return (prior_log_prob(z).exp() * dz * inside).sum(-1)


def prior_ess_by_dim(dims, n_x: int, k: int, noise: float = NOISE,
                     generator: torch.Generator | None = None) -> dict[int, Tensor]:
    """For each D in `dims`: n_x data points x ~ p(x) of the D-dimensional toy and K prior draws z_k
    (shared by the n_x points); returns {D: (n_x,) effective sample sizes of the K weights p(x|z_k)}."""
    n_x, k = _count(n_x, "n_x"), _count(k, "k")
    out = {}
    for d in dims:
        d = _dim(d)
        x = sample(n_x, d, noise, generator)[0]
        z = torch.randn(k, generator=generator, dtype=torch.float64)
        out[d] = effective_sample_size(log_likelihood(x, z, noise))
    return out


def normal_pdf(z: Tensor, mu: float, sigma: float) -> Tensor:
    """N(z; mu, sigma²), elementwise."""
    z = v.tensor(z, "z")
    mu, sigma = v.scalar(mu, "mu"), v.scalar(sigma, "sigma", positive=True)
    return torch.exp(standard_normal_log_prob((z - mu) / sigma)) / sigma


@functools.lru_cache(maxsize=8)
def _hermite(nodes: int) -> tuple[Tensor, Tensor]:
    """Probabilists' Gauss–Hermite nodes t and weights w: E_{N(0,1)}[f] ≈ Σ w_i f(t_i) (Σ w = 1)."""
    import numpy as np

    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    return torch.from_numpy(t), torch.from_numpy(w / w.sum())


def _elbo(x: Tensor, mu: Tensor, log_sigma: Tensor, noise: float, nodes: int) -> Tensor:
    t, w = _hermite(nodes)
    z = mu + torch.exp(log_sigma) * t                                  # (nodes,)
    sq = ((x - curve(z, x.shape[-1])) ** 2).sum(-1)
    log_lik = -0.5 * sq / noise**2 - x.shape[-1] * (math.log(noise) + 0.5 * _LOG_2PI)
    return (w * (log_lik - 0.5 * z**2)).sum() - 0.5 * _LOG_2PI + log_sigma + 0.5 * (_LOG_2PI + 1)


def gaussian_elbo(x: Tensor, mu: Tensor, log_sigma: Tensor, noise: float = NOISE, nodes: int = 80) -> Tensor:
    """ELBO(q) = E_q[log p(x | z) + log p(z)] + H[q] for q = N(mu, sigma²), sigma = exp(log_sigma).

    x: (D,); mu, log_sigma: numbers or 0-d tensors (gradients flow to them). The expectation is
    Gauss–Hermite quadrature with `nodes` nodes (exact for polynomials of degree < 2·nodes), the
    entropy H[q] = ½ log(2πe σ²) is closed form. log p(x) − ELBO(q) = KL(q ‖ p(z | x)) ≥ 0.
    """
    x = _x(x)
    if x.ndim != 1:
        raise ValueError(f"x must be one data point of shape (D,), got shape {tuple(x.shape)}.")
    mu, log_sigma = (torch.as_tensor(a, dtype=torch.float64) for a in (mu, log_sigma))
    if mu.numel() != 1 or log_sigma.numel() != 1 or not torch.isfinite(mu + log_sigma).all():
        raise ValueError("mu and log_sigma must be single finite numbers.")
    noise = v.scalar(noise, "noise", positive=True)
    return _elbo(x, mu.reshape(()), log_sigma.reshape(()), noise, _count(nodes, "nodes"))


class GaussianFit(NamedTuple):
    """A Gaussian q = N(mu, sigma²) fitted to p(z | x): its ELBO and gap log p(x) − ELBO = KL(q ‖ p(z|x))."""

    mu: float
    sigma: float
    elbo: float
    gap: float


def fit_gaussian_q(x: Tensor, mu0: float, sigma0: float, noise: float = NOISE, steps: int = 400,
                   lr: float = 0.05) -> GaussianFit:
    """The Gaussian q that maximizes the ELBO, found by gradient ascent from the start N(mu0, sigma0²).

    `steps` Adam steps on (mu, log sigma) with rate `lr`, as a VAE trains its encoder, then Newton
    steps to polish the optimum they reached. Maximizing the ELBO is minimizing the reverse
    KL(q ‖ p(z | x)): it needs neither p(x) nor the posterior. It has one local optimum per mode of
    the posterior; the start decides which one the ascent climbs. x: (D,).
    """
    mu0, sigma0 = v.scalar(mu0, "mu0"), v.scalar(sigma0, "sigma0", positive=True)
    steps, noise, lr = _count(steps, "steps"), v.scalar(noise, "noise", positive=True), v.scalar(lr, "lr", positive=True)
    x = _x(x)
    if x.ndim != 1:
        raise ValueError(f"x must be one data point of shape (D,), got shape {tuple(x.shape)}.")

    def value(t: Tensor) -> Tensor:
        return _elbo(x, t[0], t[1], noise, 80)

    theta = torch.tensor([mu0, math.log(sigma0)], dtype=torch.float64)
    m, s2 = torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    for step in range(1, steps + 1):  # Adam, written out (torch.optim's first step costs seconds of imports)
        t = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(value(t), t)
        m, s2 = 0.9 * m + 0.1 * grad, 0.999 * s2 + 0.001 * grad**2
        theta = theta + lr * (m / (1 - 0.9**step)) / ((s2 / (1 - 0.999**step)).sqrt() + 1e-8)
    for _ in range(20):  # Newton on the concave neighbourhood the ascent ended in; stop if it is not concave
        t = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(value(t), t)
        hess = torch.autograd.functional.hessian(value, theta)
        if not bool((torch.linalg.eigvalsh(hess) < 0).all()) or grad.abs().max() < 1e-12:
            break
        theta = theta - torch.linalg.solve(hess, grad)
    elbo = _elbo(x, theta[0], theta[1], noise, 80).item()
    return GaussianFit(theta[0].item(), theta[1].exp().item(), elbo, log_px(x, noise).item() - elbo)


def is_log_px(log_lik: Tensor, log_prior: Tensor, log_q: Tensor) -> Tensor:
    """The importance-sampling estimate log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k), z_k ~ q, stably.

    log_lik, log_prior, log_q: (K,) or (B, K), the same shape. Returns () or (B,). Reference for
    Exercise 2.2. With q = p(z) it is `mc_log_px(log_lik)`; its exponential is unbiased for p(x).
    """
    for name, t in (("log_lik", log_lik), ("log_prior", log_prior), ("log_q", log_q)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}.")
    if not (log_lik.shape == log_prior.shape == log_q.shape):
        raise ValueError(f"log_lik, log_prior and log_q must have one shape, got {tuple(log_lik.shape)}, "
                         f"{tuple(log_prior.shape)} and {tuple(log_q.shape)}.")
    return mc_log_px(log_lik + log_prior - log_q)


def elbo_profile(x: Tensor, mus: Tensor, sigmas: Tensor, noise: float = NOISE) -> Tensor:
    """ELBO(q) for the Gaussians q_i = N(mus[i], sigmas[i]²): mus, sigmas (G,) → (G,), float64.

    Each value is `gaussian_elbo` (Gauss–Hermite quadrature); log p(x) − ELBO(q_i) = KL(q_i ‖ p(z | x)).
    x: (D,). Use it to watch the bound tighten as q moves toward the posterior.
    """
    mus, sigmas = v.tensor(mus, "mus"), v.tensor(sigmas, "sigmas")
    if mus.ndim != 1 or mus.shape != sigmas.shape:
        raise ValueError(f"mus and sigmas must be 1-D of one length, got shapes {tuple(mus.shape)} and "
                         f"{tuple(sigmas.shape)}.")
    if not bool((sigmas > 0).all()):
        raise ValueError("every sigma must be positive.")
    return torch.stack([gaussian_elbo(x, m, s.log(), noise) for m, s in zip(mus.double(), sigmas.double())])


__all__ = ["NOISE", "curve", "sample", "prior_log_prob", "log_likelihood", "z_grid", "log_px", "posterior", "mc_log_px",
           "weights", "effective_sample_size", "draws_for_share", "prior_estimates", "posterior_moments",
           "importance_estimates", "PointSummary", "summarize_point", "fixed_prior_draws", "estimate_moments",
           "prior_mass_near_posterior", "prior_ess_by_dim", "normal_pdf", "gaussian_elbo", "GaussianFit",
           "fit_gaussian_q", "is_log_px", "elbo_profile"]
