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
    """What the preview shows. originals, reconstructions: (R, 64) test digits and their decodings from μ(x);
    mu (N, 2) and labels (N,): the codes of every test digit; samples (S, 64): mean images E[x|z] of
    z ~ N(0, I); same_class_share: the share of test digits whose nearest other code has their label."""

    originals: Tensor
    reconstructions: Tensor
    mu: Tensor
    labels: Tensor
    samples: Tensor
    same_class_share: float


def nearest_code_same_label(mu: Tensor, labels: Tensor) -> float:
    """Share of the points of mu (N, L) whose nearest other point carries the same label (N,)."""
    mu, labels = v.tensor(mu, "mu"), v.tensor(labels, "labels")
    if mu.dim() != 2 or labels.shape != mu.shape[:1] or len(mu) < 2:
        raise ValueError(f"mu must be (N, L) with N ≥ 2 and labels (N,); got {tuple(mu.shape)} and {tuple(labels.shape)}.")
    d = torch.cdist(mu.double(), mu.double())
    d.fill_diagonal_(float("inf"))
    return (labels[d.argmin(1)] == labels).double().mean().item()


def preview_vae(generator: torch.Generator, epochs: int = 60, warmup: int = 0, lr: float = 1e-3, n_shown: int = 4, n_samples: int = 16) -> PreviewSummary:
    """Train a VAE with 2 latent dimensions (hidden layers of 128) on the 1,000 training digits for `epochs`
    epochs (about 3 s of CPU), then encode the test digits and decode n_samples draws of N(0, I)."""
    v.count(epochs, "epochs")
    v.count(n_shown, "n_shown")
    v.count(n_samples, "n_samples")
    train, val, test = (data.load_digits(s) for s in ("train", "val", "test"))
    model = models.VAE(latent_dim=2, hidden=128)
    training.train(model, train.x, val.x, epochs=epochs, lr=lr, batch_size=100, warmup_epochs=warmup,
                   generator=generator, progress=False)
    with models.evaluating(model), torch.no_grad():
        mu = model.encode(test.x)[0]
        recon = model.reconstruct(test.x[:n_shown])
        samples = model.sample_means(n_samples, generator=generator)
    return PreviewSummary(test.x[:n_shown], recon, mu, test.labels, samples, nearest_code_same_label(mu, test.labels))


__all__ = ["normal_density", "PreviewSummary", "nearest_code_same_label", "preview_vae"]
