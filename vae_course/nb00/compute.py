"""Notebook 00's practice exercise (the N(0, 1) density, the reference the demo check compares with) and
the preview of what the course builds: a small VAE trained on the digits in a few seconds."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .. import _validate as v
from .. import data, models, training
from ..probability import standard_normal_log_prob


def normal_density(x: Tensor) -> Tensor:
    """φ(x) = exp(−x²/2)/√(2π), the N(0, 1) density, elementwise: any shape → the same shape."""
    x = v.tensor(x, "x")
    return torch.exp(standard_normal_log_prob(x))


class PreviewSummary(NamedTuple):
    """What the preview shows. originals, reconstructions: (R, 64) test digits (the first of each class
    0, 1, …, in that order) and their decodings from μ(x); shown_labels (R,) their classes; mu (N, 2) and
    labels (N,): the codes of every test digit; grid_z (G·G, 2): a G × G grid of points of the map, row by row from the top left
    (z₂ falling, z₁ rising), and grid_images (G·G, 64) their mean images; same_class_share: the share of
    test digits whose nearest other code has their label; chance_share: the share that labels drawn
    independently with the test set's class frequencies would give."""

    originals: Tensor
    reconstructions: Tensor
    shown_labels: Tensor
    mu: Tensor
    labels: Tensor
    grid_z: Tensor
    grid_images: Tensor
    same_class_share: float
    chance_share: float


def chance_same_label(labels: Tensor) -> float:
    """Σ_c f_c², with f_c the share of class c in labels (N,): how often the nearest other point carries the
    same label when the map knows nothing of the classes (about 1/10 for ten balanced classes)."""
    labels = v.tensor(labels, "labels")
    if labels.dim() != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty (N,) tensor; got shape {tuple(labels.shape)}.")
    share = torch.unique(labels, return_counts=True)[1].double() / len(labels)
    return (share**2).sum().item()


def nearest_code_same_label(mu: Tensor, labels: Tensor) -> float:
    """Share of the points of mu (N, L) whose nearest other point carries the same label (N,)."""
    mu, labels = v.tensor(mu, "mu"), v.tensor(labels, "labels")
    if mu.dim() != 2 or labels.shape != mu.shape[:1] or len(mu) < 2:
        raise ValueError(f"mu must be (N, L) with N ≥ 2 and labels (N,); got {tuple(mu.shape)} and {tuple(labels.shape)}.")
    d = torch.cdist(mu.double(), mu.double())
    d.fill_diagonal_(float("inf"))
    return (labels[d.argmin(1)] == labels).double().mean().item()


def latent_grid(n: int, lim: float) -> Tensor:
    """An n × n grid of points over [−lim, lim]² (n·n, 2), row by row from the top left as an image is
    read: z₂ falls from lim to −lim down the rows, z₁ rises from −lim to lim along each row."""
    n, lim = v.count(n, "n", minimum=2), v.scalar(lim, "lim", positive=True)
    t = torch.linspace(-lim, lim, n)
    z2, z1 = torch.meshgrid(t.flip(0), t, indexing="ij")
    return torch.stack([z1.flatten(), z2.flatten()], dim=1)


def preview_vae(generator: torch.Generator, epochs: int = 100, warmup: int = 10, lr: float = 3e-3, n_shown: int = 10,
                n_grid: int = 7, grid_lim: float = 2.1) -> PreviewSummary:
    """Train a VAE with 2 latent dimensions (hidden layers of 128) on the 1,000 training digits for `epochs`
    epochs, the KL's weight rising from 0 over the first `warmup` (most of notebook 00's running time), then
    encode the test digits, rebuild the first test digit of each of the classes 0 … n_shown − 1 (n_shown ≤ 10),
    and decode an n_grid × n_grid grid of points over [−grid_lim, grid_lim]², the square where N(0, I) puts
    most of its draws."""
    v.count(epochs, "epochs")
    v.count(n_shown, "n_shown")
    grid_z = latent_grid(v.count(n_grid, "n_grid", minimum=2), v.scalar(grid_lim, "grid_lim", positive=True))
    if n_shown > 10:
        raise ValueError(f"n_shown must be at most 10 (one test digit per class 0–9); got {n_shown}.")
    train, val, test = (data.load_digits(s) for s in ("train", "val", "test"))
    model = models.VAE(latent_dim=2, hidden=128)
    training.train(model, train.x, val.x, epochs=epochs, lr=lr, batch_size=100, warmup_epochs=warmup,
                   generator=generator, progress=False)
    shown = torch.stack([torch.nonzero(test.labels == c)[0, 0] for c in range(n_shown)])
    with models.evaluating(model), torch.no_grad():
        mu = model.encode(test.x)[0]
        recon = model.reconstruct(test.x[shown])
        grid_z = grid_z.to(mu.dtype)
        grid_images = model.decode_mean(grid_z)
    return PreviewSummary(test.x[shown], recon, test.labels[shown], mu, test.labels, grid_z, grid_images,
                          nearest_code_same_label(mu, test.labels), chance_same_label(test.labels))


__all__ = ["normal_density", "PreviewSummary", "latent_grid", "nearest_code_same_label", "chance_same_label",
           "preview_vae"]
