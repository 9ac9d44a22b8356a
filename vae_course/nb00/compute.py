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
    labels (N,): the codes of every test digit; sample_z (S, 2): draws z ~ N(0, I); samples (S, 64): their
    mean images E[x|z]; same_class_share: the share of test digits whose nearest other code has their label;
    chance_share: the share that labels drawn independently with the test set's class frequencies would give."""

    originals: Tensor
    reconstructions: Tensor
    shown_labels: Tensor
    mu: Tensor
    labels: Tensor
    sample_z: Tensor
    samples: Tensor
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


def preview_vae(generator: torch.Generator, epochs: int = 100, warmup: int = 10, lr: float = 3e-3, n_shown: int = 10,
                n_samples: int = 16) -> PreviewSummary:
    """Train a VAE with 2 latent dimensions (hidden layers of 128) on the 1,000 training digits for `epochs`
    epochs, the KL's weight rising from 0 over the first `warmup` (about 5 s of CPU), then encode the test digits, rebuild the first test digit of each of the
    classes 0 … n_shown − 1 (n_shown ≤ 10), and decode n_samples draws of N(0, I)."""
    v.count(epochs, "epochs")
    v.count(n_shown, "n_shown")
    v.count(n_samples, "n_samples")
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
        z = model.prior.sample(n_samples, generator=generator, dtype=mu.dtype)
        samples = model.decode_mean(z)
    return PreviewSummary(test.x[shown], recon, test.labels[shown], mu, test.labels, z, samples,
                          nearest_code_same_label(mu, test.labels), chance_same_label(test.labels))


__all__ = ["normal_density", "PreviewSummary", "nearest_code_same_label", "chance_same_label", "preview_vae"]
