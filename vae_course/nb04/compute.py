"""The autoencoder limit and the pull toward the prior: the KL by Monte Carlo and per dimension,
active units, the aggregate posterior, MMD to the prior, the unvisited share, one model's summary."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .. import _validate as v
from .. import probability
from ..models import VAE, evaluating


def _mu_log_var(mu, log_var) -> tuple[Tensor, Tensor]:
    mu, log_var = v.tensor(mu, "mu"), v.tensor(log_var, "log_var")
    if mu.ndim != 2 or mu.shape != log_var.shape:
        raise ValueError(f"mu and log_var must both have shape (B, L), got {tuple(mu.shape)} and "
                         f"{tuple(log_var.shape)}.")
    return mu, log_var


def kl_monte_carlo(mu: Tensor, log_var: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Monte Carlo estimate of KL(N(mu, exp(log_var)) ‖ N(0, I)) per example: (B, L) → (B,).

    Mean over n draws z ~ q of log q(z) − log N(z; 0, I); its standard error shrinks like 1/√n.
    """
    mu, log_var = _mu_log_var(mu, log_var)
    v.count(n, "n")
    eps = torch.randn((n, *mu.shape), generator=generator, dtype=mu.dtype)
    z = probability.reparameterize(mu, log_var, eps)
    log_q = probability.diag_gaussian_log_prob(z, mu, log_var)
    log_p = probability.diag_gaussian_log_prob(z, torch.zeros_like(mu), torch.zeros_like(log_var))
    return (log_q - log_p).mean(0)


def kl_per_dimension(mu: Tensor, log_var: Tensor) -> Tensor:
    """Mean over examples of the KL of each latent dimension, ½(μ² + σ² − log σ² − 1): (B, L) → (L,).

    Summed over dimensions it is the mean of `probability.gaussian_kl`. A dimension near 0 nats carries
    no information about x: its posterior is the prior for every x (collapsed).
    """
    mu, log_var = _mu_log_var(mu, log_var)
    return (0.5 * (mu**2 + torch.exp(log_var) - log_var - 1)).mean(0)


def active_units(mu: Tensor, threshold: float = 0.01) -> Tensor:
    """Which latent dimensions are active: Var_x(μ_j(x)) > threshold (Burda et al., 2016). (B, L) → (L,) bool.

    A collapsed dimension gives (almost) the same μ for every x, so its variance over the data is ~0.
    """
    mu = v.tensor(mu, "mu")
    if mu.ndim != 2 or mu.shape[0] < 2:
        raise ValueError(f"mu must have shape (B, L) with B ≥ 2, got {tuple(mu.shape)}.")
    return mu.var(0) > v.scalar(threshold, "threshold")


def aggregate_posterior(mu: Tensor, log_var: Tensor, eps: Tensor) -> Tensor:
    """Pooled draws of the aggregate posterior q(z) = (1/N) Σ_n q(z | x_n).

    mu, log_var: (N, L), one posterior per training example; eps: (S, N, L) standard normal noise.
    Returns (S·N, L): S draws from each posterior, pooled.
    """
    mu, log_var = _mu_log_var(mu, log_var)
    eps = v.tensor(eps, "eps")
    if eps.ndim != 3 or eps.shape[1:] != mu.shape:
        raise ValueError(f"eps must have shape (S, {mu.shape[0]}, {mu.shape[1]}), got {tuple(eps.shape)}.")
    return probability.reparameterize(mu, log_var, eps).reshape(-1, mu.shape[1])


def mmd(x: Tensor, y: Tensor, bandwidth: float = 1.0) -> Tensor:
    """Squared maximum mean discrepancy between samples x (N, L) and y (M, L), Gaussian kernel.

    k(a, b) = exp(−|a − b|² / (2 h²)), h = bandwidth. Unbiased estimate (diagonal terms left out):
    ≈ 0 when x and y come from the same distribution, larger the more they differ. Returns a scalar.
    """
    y_given = y
    x, y = v.tensor(x, "x", dtype=torch.float64), v.tensor(y, "y", dtype=torch.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or len(x) < 2 or len(y) < 2:
        raise ValueError(f"x and y must have shapes (N, L) and (M, L) with N, M ≥ 2, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}.")
    h = v.scalar(bandwidth, "bandwidth")
    if h <= 0:
        raise ValueError(f"bandwidth must be > 0, got {h}.")

    def k(a, b):  # in place: the 2000 × 2000 matrices of notebook 04 are the cost
        return torch.cdist(a, b).square_().mul_(-1 / (2 * h**2)).exp_()

    def within(a):  # mean of k over the pairs of distinct points of a
        kaa = k(a, a)
        return (kaa.sum() - kaa.diagonal().sum()) / (len(a) * (len(a) - 1))

    return within(x) + _cached_within(y_given, y, h, within) - 2 * k(x, y).mean()


_WITHIN = {}  # the last reference sample as given (kept alive, so `is` is safe), its version, h → its term


def _cached_within(y_given: Tensor, y: Tensor, h: float, within) -> Tensor:
    """`within(y)`, reused while the same tensor y_given (unchanged) comes back with the same bandwidth: notebook
    04 compares 17 models' pools with one sample of N(0, I), whose own term is the same every time."""
    hit = _WITHIN.get("key")
    if hit is not None and hit[0] is y_given and hit[1] == y_given._version and hit[2] == h:
        return _WITHIN["value"]
    _WITHIN.update(key=(y_given, y_given._version, h), value=within(y))
    return _WITHIN["value"]


def unvisited_radius(n: int, share: float = 0.05) -> float:
    """The radius r at which a perfect match leaves `share` of N(0, I) unvisited, in 2 dimensions.

    If the n visited points were themselves draws of N(0, I), a new draw z would find none of them
    within r with probability ≈ exp(−n π r² φ(z)) (φ the N(0, I) density, the ball small). Averaged
    over z ~ N(0, I), with a = n r²/2, that is (1 − e^(−a)) / a. Solves (1 − e^(−a)) / a = share for a
    (a ≈ 1/share when share is small) and returns r = √(2a/n): n = 1000, share = 0.05 gives r ≈ 0.2.
    """
    n = v.count(n, "n")
    share = v.scalar(share, "share")
    if not 0 < share < 1:
        raise ValueError(f"share must lie strictly between 0 and 1, got {share}.")
    lo, hi = 1e-12, 1e12  # (1 − e^(−a)) / a falls from 1 to 0 as a grows
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if -math.expm1(-mid) / mid > share else (lo, mid)
    return math.sqrt(2 * math.sqrt(lo * hi) / n)


def unvisited_share(z: Tensor, visited: Tensor, radius: float = 0.25) -> float:
    """Share of the points z (M, L) farther than `radius` from every point of `visited` (N, L).

    With z drawn from the prior and `visited` the pooled posterior draws the decoder was trained on,
    it is the share of prior draws that land where the decoder has never been.
    """
    z, visited = v.tensor(z, "z"), v.tensor(visited, "visited")
    if z.ndim != 2 or visited.ndim != 2 or z.shape[1] != visited.shape[1]:
        raise ValueError(f"z and visited must have shapes (M, L) and (N, L), got {tuple(z.shape)} and "
                         f"{tuple(visited.shape)}.")
    radius = v.scalar(radius, "radius", positive=True)
    return (torch.cdist(z, visited).min(1).values > radius).double().mean().item()


def calibrated_radius(z: Tensor, perfect: Tensor, share: float = 0.05) -> float:
    """The radius at which a perfect match leaves `share` of the points z (M, L) unvisited, in any dimension.

    `perfect` (N, L) are N draws of N(0, I) itself, as many as the model has codes: the radius is the
    (1 − share) quantile of the distances from each z to its nearest point of `perfect`, so that
    `unvisited_share(z, perfect, radius)` is `share`. In 2 dimensions with z ~ N(0, I) it lands near
    `unvisited_radius(N, share)`; in 8, where even a perfect match leaves wide gaps, only the
    calibration knows the scale.
    """
    z, perfect = v.tensor(z, "z"), v.tensor(perfect, "perfect")
    if z.ndim != 2 or perfect.ndim != 2 or z.shape[1] != perfect.shape[1]:
        raise ValueError(f"z and perfect must have shapes (M, L) and (N, L), got {tuple(z.shape)} and "
                         f"{tuple(perfect.shape)}.")
    share = v.scalar(share, "share")
    if not 0 < share < 1:
        raise ValueError(f"share must lie strictly between 0 and 1, got {share}.")
    nearest = torch.cdist(z.double(), perfect.double()).min(1).values
    return torch.quantile(nearest, 1 - share).item()


@dataclass
class GenerationSummary:
    """A model as a generator, judged by the training digits (all tensors detached).

    samples (M, 64): the decoded means of the prior draws z (M, L); nearest (M,): the index of each
    sample's nearest training digit (Euclidean, over the 64 pixels); classes (M,): that digit's label;
    class_shares (n_classes,): the share of samples per class; data_shares (n_classes,): the share of
    the training digits per class; class_gap: the total variation distance ½ Σ_c |class_shares −
    data_shares|, 0 when the samples resemble the classes as often as the data has them, 1 when they
    resemble only classes the data lacks; unvisited: the share of z farther than `radius` from every one
    of the N points the decoder was trained on (one draw z_k ~ q(z | x_k) per training digit; for the
    autoencoder, its codes).
    """

    name: str
    samples: Tensor
    nearest: Tensor
    classes: Tensor
    class_shares: Tensor
    data_shares: Tensor
    class_gap: float
    unvisited: float
    radius: float

    @property
    def top_share(self) -> float:
        """The share of the samples that resemble the most common class."""
        return self.class_shares.max().item()


@torch.no_grad()
def summarize_generations(name: str, model: VAE, x: Tensor, labels: Tensor, z: Tensor, eps: Tensor, radius: float,
                          *, n_classes: int = 10) -> GenerationSummary:
    """Decode the prior draws z (M, L) and label each decoding with the class of its nearest training digit;
    count the z with no trained-on point within `radius` (`calibrated_radius`). x (N, 64) and labels (N,)
    are the training digits; eps (N, L) the noise of one draw per posterior, z_k = μ_k + σ_k ε_k. The model
    is not changed."""
    x = model.check_x(x)
    z, eps = v.tensor(z, "z"), v.tensor(eps, "eps")
    n_classes = v.count(n_classes, "n_classes")
    if not isinstance(labels, Tensor):
        raise TypeError(f"labels must be a torch.Tensor of whole numbers, got {type(labels).__name__}.")
    if labels.shape != (len(x),) or labels.is_floating_point() or labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must be {len(x)} whole numbers in 0..{n_classes - 1}, one per digit of x, got "
                         f"shape {tuple(labels.shape)} and dtype {labels.dtype}.")
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise ValueError(f"z must have shape (M, {model.latent_dim}), draws of the prior, got {tuple(z.shape)}.")
    if eps.shape != (len(x), model.latent_dim):
        raise ValueError(f"eps must have shape ({len(x)}, {model.latent_dim}): one draw per training digit, got "
                         f"{tuple(eps.shape)}.")
    radius = v.scalar(radius, "radius", positive=True)
    with evaluating(model):
        mu, log_var = model.encode(x)
        visited = probability.reparameterize(mu, log_var, eps)
        samples = model.decode_mean(z)
    nearest = torch.cdist(samples.double(), x.double()).argmin(1)
    classes = labels[nearest]
    class_shares = torch.bincount(classes, minlength=n_classes).double() / len(classes)
    data_shares = torch.bincount(labels, minlength=n_classes).double() / len(labels)
    gap = 0.5 * (class_shares - data_shares).abs().sum().item()
    return GenerationSummary(name, samples, nearest, classes, class_shares, data_shares, gap,
                             unvisited_share(z, visited, radius), radius)


def mmd_to_gaussian_exact(shift: Tensor, sigma: float, bandwidth: float = 1.0) -> Tensor:
    """Exact squared MMD between N(shift, σ² I) and N(0, I) under the kernel of `mmd`.

    For X, X' ~ N(a, s² I) in L dims, E k(X, X') = (h² / (h² + 2 s²))^(L/2); across the two
    distributions E k(X, Y) = (h² / (h² + s² + 1))^(L/2) · exp(−|a|² / (2 (h² + s² + 1))).
    """
    a = v.tensor(shift, "shift", dtype=torch.float64)
    dim, h2 = a.numel(), v.scalar(bandwidth, "bandwidth", positive=True) ** 2
    s2 = v.scalar(sigma, "sigma", positive=True) ** 2
    kxx = (h2 / (h2 + 2 * s2)) ** (dim / 2)
    kyy = (h2 / (h2 + 2)) ** (dim / 2)
    kxy = (h2 / (h2 + s2 + 1)) ** (dim / 2) * torch.exp(-(a**2).sum() / (2 * (h2 + s2 + 1)))
    return kxx + kyy - 2 * kxy


@dataclass
class ModelSummary:
    """What the β-dial shows for one trained model (all tensors detached).

    mu, log_var: (N, L) posteriors of the training set; labels (N,); pooled: (S·N, L) aggregate
    posterior draws; x_show, x_hat: (K, 64) digits and their reconstructions from μ; z_prior (M, L)
    and prior_samples (M, 64): fixed draws z ~ N(0, I) and their decodings; prior_unvisited (M,) bool:
    which of them lie farther than `radius` from every one of the N first pooled draws (one per
    posterior); mmd: squared MMD(pooled, N(0, I) draws z_ref); unvisited: the share of z_ref draws
    farther than `radius` from those N draws (`unvisited_share`; `unvisited_radius(N)` makes it ≈ 5%
    for a perfect match); kl, rec: mean KL and reconstruction term (nats per example) on the training
    set; elbo = −(rec + kl), the β = 1 ELBO whatever β the model trained with; mean_sigma: the mean
    of σ over examples and dimensions; beta: the KL weight it trained with; val_neg_elbo: the β = 1
    −ELBO on held-out digits (`neg_elbo`), or None when none were given.
    """

    name: str
    mu: Tensor
    log_var: Tensor
    labels: Tensor
    pooled: Tensor
    x_show: Tensor
    x_hat: Tensor
    prior_samples: Tensor
    mmd: float
    unvisited: float
    kl: float
    rec: float
    z_prior: Tensor | None = None
    prior_unvisited: Tensor | None = None
    radius: float = 0.2
    beta: float = 1.0
    val_neg_elbo: float | None = None

    @property
    def elbo(self) -> float:
        return -(self.rec + self.kl)

    @property
    def mean_sigma(self) -> float:
        return torch.exp(0.5 * self.log_var).mean().item()


@torch.no_grad()
def neg_elbo(model: VAE, x: Tensor, eps: Tensor) -> float:
    """−ELBO with β = 1, in nats per digit: −(E_q log p(x|z) − KL(q(z|x) ‖ p(z))), whatever β the model
    trained with (β = 1 makes it the bound on −log p(x)). x (N, 64); eps (S, N, L): S standard normal
    draws per digit, z = μ + σ·ε; the mean over the S·N terms. Fixed eps compare models on the same noise."""
    x = model.check_x(x)
    eps = v.tensor(eps, "eps")
    if eps.ndim != 3 or eps.shape[1] != len(x) or eps.shape[2] != model.latent_dim:
        raise ValueError(f"eps must have shape (S, {len(x)}, {model.latent_dim}): S draws for each of the {len(x)} "
                         f"digits, got {tuple(eps.shape)}.")
    with evaluating(model):
        mu, log_var = model.encode(x)
        z = probability.reparameterize(mu, log_var, eps)
        log_lik = torch.stack([model.log_likelihood(x, model.decode(z_s)) for z_s in z])
        kl = probability.kl_term(model.prior, z, mu, log_var)
    return -(log_lik - kl).mean().item()


@torch.no_grad()
def summarize_model(name: str, model: VAE, x: Tensor, labels: Tensor, x_show: Tensor, z_prior: Tensor, eps: Tensor,
                    z_ref: Tensor, *, beta: float = 1.0, radius: float | None = None, x_val: Tensor | None = None,
                    eps_val: Tensor | None = None) -> ModelSummary:
    """Encode x (N, 64), pool S draws per posterior (eps (S, N, L)), reconstruct x_show, decode z_prior,
    and measure MMD(pooled, z_ref) with z_ref (M, L) drawn from N(0, I). The unvisited share counts
    z_ref draws farther than `radius` (default `unvisited_radius(N)`) from the first draw of every
    posterior: N points for every model, as many as the autoencoder has codes. With held-out digits
    x_val and their noise eps_val (S', N', L), also `neg_elbo(model, x_val, eps_val)`. The model is not changed."""
    radius = unvisited_radius(len(x)) if radius is None else v.scalar(radius, "radius", positive=True)
    if (x_val is None) != (eps_val is None):
        raise ValueError("give x_val and eps_val together (held-out digits and the noise of their draws), or neither.")
    with evaluating(model):
        s = _summarize_model(name, model, x, labels, x_show, z_prior, eps, z_ref, float(beta), radius)
    if x_val is not None:
        s.val_neg_elbo = neg_elbo(model, x_val, eps_val)
    return s


def _summarize_model(name, model, x, labels, x_show, z_prior, eps, z_ref, beta, radius) -> ModelSummary:
    mu, log_var = model.encode(x)
    pooled = aggregate_posterior(mu, log_var, eps)
    z = pooled[:len(x)]
    logits = model.decode(z)
    rec = -model.log_likelihood(x, logits).mean().item()
    kl = probability.kl_term(model.prior, z, mu, log_var).mean().item()
    far = torch.cdist(z_prior, z).min(1).values > radius
    return ModelSummary(name, mu, log_var, labels, pooled, x_show, model.reconstruct(x_show),
                        model.decode_mean(z_prior), mmd(pooled[:len(z_ref)], z_ref).item(),
                        unvisited_share(z_ref, z, radius), kl, rec, z_prior, far, radius, beta)


def train_beta_path(model: VAE, x_train: Tensor, x_val: Tensor, betas, *, epochs: int = 3,
                    generator: torch.Generator | None = None, lr: float = 3e-3) -> dict[float, VAE]:
    """Models along a path of KL weights: a copy of `model` trained `epochs` epochs at betas[0], a copy
    of that one trained `epochs` more at betas[1], and so on (continuation: each starts from its
    neighbour, so a fine grid costs a few epochs per point). Returns {beta: model}; `model` is not changed."""
    betas = [v.scalar(b, "beta") for b in betas]
    if not betas or min(betas) < 0:
        raise ValueError(f"betas must be a non-empty list of numbers ≥ 0, got {betas}.")
    v.count(epochs, "epochs")
    from ..training import train

    out, current = {}, model
    for beta in betas:
        current = copy.deepcopy(current)
        train(current, x_train, x_val, beta=beta, epochs=epochs, lr=lr, progress=False, generator=generator)
        out[beta] = current
    return out



# ---------------------------------------------------------------- what the β-dial shows

def count_active_units(mu: Tensor, threshold: float = 0.01) -> int:
    """How many latent dimensions are active (`active_units`): mu (B, L) → a whole number 0..L."""
    return int(active_units(mu, threshold).sum().item())


__all__ = ["kl_monte_carlo", "kl_per_dimension", "active_units", "aggregate_posterior", "mmd", "unvisited_radius",
           "unvisited_share", "train_beta_path", "neg_elbo",
           "mmd_to_gaussian_exact", "ModelSummary", "summarize_model", "count_active_units", "calibrated_radius",
           "GenerationSummary", "summarize_generations"]
