"""The models the notebooks train: the VAE (encoder q(z|x), decoder p(x|z), prior p(z)), its
σ → 0 limit the autoencoder, and the importance-weighted bound that training and evaluation share.

`evaluating(model)` runs a block in eval mode without gradients and restores the mode after.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _validate as v
from . import probability

#: How a network's raw output r becomes the variance: σ² = exp(r), σ = exp(r) (so σ² = exp(2r)),
#: σ² = softplus(r) = log(1 + e^r), or σ² = r itself (negative r gives a negative "variance").
VARIANCES = ("log_var", "log_sigma", "softplus", "var")


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


class VAE(torch.nn.Module):
    """A small VAE for the 8×8 digits: an MLP encoder q(z|x) = N(mu, diag(exp(log_var))), an MLP decoder.

    likelihood="categorical": p(x|z) is a categorical over the 17 grey levels of every pixel
    (x must be levels / 16), so −ELBO is an honest bound on −log p(x) in nats.
    likelihood="bernoulli": p(x|z) is a Bernoulli per pixel, for binarized digits (x ∈ {0, 1}).
    dropout > 0 adds dropout after every hidden layer (active in training mode only).
    encode: x (B, 64) → mu, log_var (B, L). decode: z (B, L) → logits (B, 64, 17) or (B, 64).
    prior: p(z), an object with sample(n, generator) and log_prob(z) (`vae_course.probability`);
    N(0, I) by default. Everything that needs p(z) (training, evaluation, explorers) uses `.prior`.
    variance: how the encoder's second output r becomes log σ² (`VARIANCES`):
    "log_var" (r = log σ², the default), "log_sigma" (r = log σ), "softplus" (σ² = softplus(r)) or
    "var" (σ² = r, NaN for r < 0; shown in notebook 03 as what goes wrong).
    """

    def __init__(self, latent_dim: int = 2, hidden: int = 128, data_dim: int = 64,
                 likelihood: str = "categorical", n_levels: int = 17, variance: str = "log_var",
                 dropout: float = 0.0, prior=None):

        super().__init__()
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}.")
        v.one_of(likelihood, "likelihood", ("categorical", "bernoulli"))
        self.variance = v.one_of(variance, "variance", VARIANCES)
        for name, value in (("latent_dim", latent_dim), ("hidden", hidden), ("data_dim", data_dim)):
            v.count(value, name)
        self.latent_dim, self.data_dim, self.likelihood = latent_dim, data_dim, likelihood
        self.n_levels = n_levels if likelihood == "categorical" else 1
        nn = torch.nn

        def act():  # dropout after each hidden layer only when asked, so default state_dicts keep their keys
            return [nn.ReLU(), nn.Dropout(dropout)] if dropout else [nn.ReLU()]

        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), *act(), nn.Linear(hidden, hidden), *act(),
                                     nn.Linear(hidden, 2 * latent_dim))
        if prior is None:
            prior = probability.StandardNormal(latent_dim)
        if not (callable(getattr(prior, "sample", None)) and callable(getattr(prior, "log_prob", None))):
            raise TypeError(f"prior must have sample(n, generator) and log_prob(z) methods, got {type(prior).__name__}.")
        if getattr(prior, "dim", latent_dim) != latent_dim:
            raise ValueError(f"the prior has {prior.dim} dimensions but latent_dim is {latent_dim}.")
        self.prior = prior
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), *act(), nn.Linear(hidden, hidden), *act(),
                                     nn.Linear(hidden, data_dim * self.n_levels))

    def _dtype(self) -> torch.dtype:
        return self.encoder[0].weight.dtype

    def check_x(self, x) -> Tensor:
        """x as a tensor of the model's dtype (float64 digits into a float32 model are cast), shape (B, data_dim),
        values in [0, 1]; or a ValueError/TypeError."""
        x = v.tensor(x, "x", dtype=self._dtype())
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(f"x must have shape (B, {self.data_dim}), got {tuple(x.shape)}.")
        if (x < 0).any() or (x > 1).any():
            raise ValueError("x must lie in [0, 1] (digits as levels / 16, or binarized).")
        return x

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """mu, log_var of q(z|x): (B, 64) → (B, L), (B, L)."""

        mu, raw = self.encoder(self.check_x(x)).chunk(2, dim=-1)
        return mu, head_to_log_var(raw, self.variance)

    def decode(self, z: Tensor) -> Tensor:
        """Logits of p(x|z): (B, L) → (B, 64, 17) (categorical) or (B, 64) (bernoulli)."""
        z = v.tensor(z, "z", dtype=self._dtype())
        if z.ndim == 0 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} latent dimensions in its last axis, got {tuple(z.shape)}.")
        logits = self.decoder(z)
        return logits.unflatten(-1, (self.data_dim, self.n_levels)) if self.n_levels > 1 else logits

    def log_likelihood(self, x: Tensor, logits: Tensor) -> Tensor:
        """log p(x|z), summed over pixels: (B, 64) → (B,)."""

        if self.likelihood == "bernoulli":
            return probability.bernoulli_log_likelihood(x, logits)
        levels = torch.round(x * (self.n_levels - 1)).long()
        return probability.categorical_log_likelihood(levels, logits)

    def mean_image(self, logits: Tensor) -> Tensor:
        """E[x | z] in [0, 1] from decoder logits: (B, 64, 17) or (B, 64) → (B, 64)."""
        logits = v.tensor(logits, "logits")
        if self.likelihood == "bernoulli":
            return torch.sigmoid(logits)
        if logits.ndim == 0 or logits.shape[-1] != self.n_levels:
            raise ValueError(f"logits must have {self.n_levels} grey levels in the last axis, got {tuple(logits.shape)}.")
        grey = torch.linspace(0, 1, self.n_levels, dtype=logits.dtype)
        return torch.softmax(logits, dim=-1) @ grey

    def elbo_terms(self, x: Tensor, generator: torch.Generator | None = None, beta: float = 1.0) -> dict:
        """One-sample estimates per example: elbo, log_lik, kl (each (B,)), and mu, log_var, z, logits."""

        x = self.check_x(x)
        mu, log_var = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = probability.reparameterize(mu, log_var, eps)
        logits = self.decode(z)
        log_lik = self.log_likelihood(x, logits)
        kl = probability.kl_term(self.prior, z, mu, log_var)
        return {"elbo": probability.elbo(log_lik, kl, beta), "log_lik": log_lik, "kl": kl,
                "mu": mu, "log_var": log_var, "z": z, "logits": logits}

    def decode_mean(self, z: Tensor) -> Tensor:
        """The mean image E[x|z] of each code: (..., L) → (..., 64), values in [0, 1]."""
        return self.mean_image(self.decode(z))

    @torch.no_grad()
    def sample_means(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """The mean images E[x|z] of n prior draws z ~ p(z): (n, 64). Means, not samples of x."""
        return self.decode_mean(self.prior.sample(n, generator=generator, dtype=self._dtype()))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean images decoded from the posterior means mu(x): (B, 64) → (B, 64)."""
        return self.decode_mean(self.encode(x)[0])


class Autoencoder(VAE):
    """A VAE whose encoder variance is fixed at σ² = exp(log_var), very small by default.

    encode(x) returns the encoder's μ and a constant log_var, so every draw z = μ + σ·ε is μ up to
    σ ≈ 4.5e-5: the plain autoencoder x → μ(x) → x̂. Train it with beta=0 (its KL is a large
    constant that carries no gradient). Other arguments as `VAE`.
    """

    def __init__(self, latent_dim: int = 2, hidden: int = 128, data_dim: int = 64, *, log_var: float = -20.0,
                 **kwargs):
        super().__init__(latent_dim, hidden, data_dim, **kwargs)
        self.fixed_log_var = v.scalar(log_var, "log_var")

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, _ = super().encode(x)
        return mu, torch.full_like(mu, self.fixed_log_var)


def iw_terms(model, x: Tensor, k: int, generator: torch.Generator | None = None) -> dict:
    """k draws z ~ q(z|x) per example, differentiable: log_w, log_lik (k, B) and mu, log_var (B, L).

    log w = log p(x|z) + log p(z) − log q(z|x); `iw_bound(log_w)` is L_k, the IWAE objective.
    """
    k = v.count(k, "k", of="samples")
    mu, log_var = model.encode(x)
    eps = torch.randn((k,) + mu.shape, generator=generator, dtype=mu.dtype)
    z = probability.reparameterize(mu, log_var, eps)  # (k, B, L)
    logits = model.decode(z)
    log_lik = model.log_likelihood(x.expand(k, *x.shape).reshape(-1, x.shape[1]),
                                   logits.reshape(k * len(x), *logits.shape[2:])).reshape(k, len(x))
    log_prior = model.prior.log_prob(z)
    log_q = probability.diag_gaussian_log_prob(z, mu, log_var)
    return {"log_w": log_lik + log_prior - log_q, "log_lik": log_lik, "mu": mu, "log_var": log_var}


@torch.no_grad()
def log_weights(model, x: Tensor, k: int, generator: torch.Generator | None = None,
                batch_size: int = 100) -> Tensor:
    """log w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x) for z_k ~ q(z|x): x (N, 64) → (k, N).

    The mean over k of log w is a one-sample ELBO estimate; logsumexp over k minus log k is L_k.
    Computed in batches of `batch_size` examples (eval mode) to bound memory.
    """
    k = v.count(k, "k", of="samples")
    x = model.check_x(x)
    with evaluating(model):
        out = [iw_terms(model, x[i:i + batch_size], k, generator)["log_w"] for i in range(0, len(x), batch_size)]
    return torch.cat(out, dim=1)


def iw_bound(log_w: Tensor) -> Tensor:
    """L_K = logsumexp_k log w_k − log K per example: log_w (K, N) → (N,). K = 1 gives the ELBO."""
    log_w = v.tensor(log_w, "log_w")
    if log_w.ndim != 2:
        raise ValueError(f"log_w must have shape (K, N), got {tuple(log_w.shape)}.")
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


@contextlib.contextmanager
def evaluating(model: torch.nn.Module):
    """`with evaluating(model):` eval mode (no dropout) and no gradients; the mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)
