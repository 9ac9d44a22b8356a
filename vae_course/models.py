"""Generators and models of the course.

`LinearGenerator` is the simplest g that turns z ~ N(0, I) into digit-like images: a linear map
fitted by principal component analysis (scikit-learn). Later notebooks add the VAE here.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _validate as v


class LinearGenerator:
    """g(z) = mean + z · W with W = √(variance) × principal directions, clipped to [0, 1].

    With z ~ N(0, I_L) the output has the data's mean and its covariance along the top L principal
    directions. fit: x (N, D). __call__: z (B, L) → (B, D).
    """

    def __init__(self, latent_dim: int = 2):
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive whole number, got {latent_dim!r}.")
        self.latent_dim = latent_dim
        self.mean: Tensor | None = None
        self.weight: Tensor | None = None

    def fit(self, x: Tensor) -> "LinearGenerator":
        from sklearn.decomposition import PCA

        x = v.tensor(x, "x")
        if x.ndim != 2 or x.shape[0] <= self.latent_dim:
            raise ValueError(f"x must have shape (N, D) with N > latent_dim, got {tuple(x.shape)}.")
        pca = PCA(n_components=self.latent_dim, svd_solver="full").fit(x.double().numpy())
        self.mean = torch.as_tensor(pca.mean_)
        self.weight = torch.as_tensor(pca.components_ * pca.explained_variance_[:, None] ** 0.5)
        return self

    def __call__(self, z: Tensor) -> Tensor:
        if self.weight is None:
            raise RuntimeError("call fit(x) before generating.")
        z = v.tensor(z, "z", dtype=torch.float64)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        return (self.mean + z @ self.weight).clamp(0.0, 1.0)


class VAE(torch.nn.Module):
    """A small VAE for the 8×8 digits: an MLP encoder q(z|x) = N(mu, diag(exp(log_var))), an MLP decoder.

    likelihood="categorical": p(x|z) is a categorical over the 17 grey levels of every pixel
    (x must be levels / 16), so −ELBO is an honest bound on −log p(x) in nats.
    likelihood="bernoulli": p(x|z) is a Bernoulli per pixel, for binarized digits (x ∈ {0, 1}).
    dropout > 0 adds dropout after every hidden layer (active in training mode only).
    encode: x (B, 64) → mu, log_var (B, L). decode: z (B, L) → logits (B, 64, 17) or (B, 64).
    variance: how the encoder's second output r becomes log σ² (`vae_course.posterior.VARIANCES`):
    "log_var" (r = log σ², the default), "log_sigma" (r = log σ), "softplus" (σ² = softplus(r)) or
    "var" (σ² = r, NaN for r < 0; shown in notebook 03 as what goes wrong).
    """

    def __init__(self, latent_dim: int = 2, hidden: int = 128, data_dim: int = 64,
                 likelihood: str = "categorical", n_levels: int = 17, variance: str = "log_var",
                 dropout: float = 0.0):
        from .posterior import VARIANCES

        super().__init__()
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}.")
        v.one_of(likelihood, "likelihood", ("categorical", "bernoulli"))
        self.variance = v.one_of(variance, "variance", VARIANCES)
        for name, value in (("latent_dim", latent_dim), ("hidden", hidden), ("data_dim", data_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
        self.latent_dim, self.data_dim, self.likelihood = latent_dim, data_dim, likelihood
        self.n_levels = n_levels if likelihood == "categorical" else 1
        nn = torch.nn

        def act():  # dropout after each hidden layer only when asked, so default state_dicts keep their keys
            return [nn.ReLU(), nn.Dropout(dropout)] if dropout else [nn.ReLU()]

        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), *act(), nn.Linear(hidden, hidden), *act(),
                                     nn.Linear(hidden, 2 * latent_dim))
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
        from .posterior import head_to_log_var

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
        from . import losses

        if self.likelihood == "bernoulli":
            return losses.bernoulli_log_likelihood(x, logits)
        levels = torch.round(x * (self.n_levels - 1)).long()
        return losses.categorical_log_likelihood(levels, logits)

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
        from . import losses

        x = self.check_x(x)
        mu, log_var = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = losses.reparameterize(mu, log_var, eps)
        logits = self.decode(z)
        log_lik = self.log_likelihood(x, logits)
        kl = losses.gaussian_kl(mu, log_var)
        return {"elbo": losses.elbo(log_lik, kl, beta), "log_lik": log_lik, "kl": kl,
                "mu": mu, "log_var": log_var, "z": z, "logits": logits}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Mean images E[x|z] of n draws z ~ N(0, I): (n, 64)."""
        n = v.count(n, "n")
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=self._dtype())
        return self.mean_image(self.decode(z))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Mean images decoded from the posterior means mu(x): (B, 64) → (B, 64)."""
        return self.mean_image(self.decode(self.encode(x)[0]))
