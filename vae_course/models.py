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
