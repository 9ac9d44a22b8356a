"""Data for the course: scikit-learn's 8×8 digits with fixed splits, and small synthetic toys.

Nothing is downloaded: the digits ship inside scikit-learn (1,797 images of 8×8 pixels with 17 grey
levels, 0–16; from the UCI "Optical Recognition of Handwritten Digits" data set, E. Alpaydin and
C. Kaynak, CC BY 4.0).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import torch
from torch import Tensor

from . import _validate as v

#: Fixed, contiguous splits by image index (the split of the public intro_dgm VAE notebook).
SPLITS: dict[str, tuple[int, int]] = {"train": (0, 1000), "val": (1000, 1350), "test": (1350, 1797)}
N_LEVELS = 17  # grey levels 0..16
IMAGE_SHAPE = (8, 8)


class Digits(NamedTuple):
    """One split of the digits. x: (N, 64) float32 in [0, 1] (= levels / 16);
    levels: (N, 64) int64 in 0..16; labels: (N,) int64 in 0..9."""

    x: Tensor
    levels: Tensor
    labels: Tensor


@lru_cache(maxsize=1)
def _all_digits() -> tuple[Tensor, Tensor]:
    from sklearn.datasets import (
        load_digits,  # bundled with scikit-learn, read from disk
    )

    bunch = load_digits()
    levels = torch.as_tensor(bunch.data, dtype=torch.int64)
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    return levels, labels


def load_digits(split: str = "train") -> Digits:
    """The digits of one split: 'train' (images 0–999), 'val' (1000–1349) or 'test' (1350–1796)."""
    v.one_of(split, "split", tuple(SPLITS))
    start, stop = SPLITS[split]
    levels, labels = _all_digits()
    levels, labels = levels[start:stop].clone(), labels[start:stop].clone()
    return Digits(levels.float() / (N_LEVELS - 1), levels, labels)


def _check_n(n) -> int:
    return v.count(n, "n", of="samples")


def sample_bimodal_1d(n: int, generator: torch.Generator | None = None) -> Tensor:
    """n draws from ½·N(−1.5, 0.5²) + ½·N(1.5, 0.5²), shape (n,), float64. A 1-D toy target."""
    _check_n(n)
    side = torch.randint(0, 2, (n,), generator=generator, dtype=torch.float64) * 2 - 1
    return 1.5 * side + 0.5 * torch.randn(n, generator=generator, dtype=torch.float64)


def bimodal_1d_density(x: Tensor) -> Tensor:
    """The density of `sample_bimodal_1d`, elementwise on x (any shape)."""
    x = v.tensor(x, "x")
    norm = 1.0 / (0.5 * math.sqrt(2 * math.pi))
    return 0.5 * norm * (torch.exp(-0.5 * ((x + 1.5) / 0.5) ** 2) + torch.exp(-0.5 * ((x - 1.5) / 0.5) ** 2))


def curve_2d(z: Tensor) -> Tensor:
    """The curve g(z) = (z, sin 2z) that the 2-D toy data lie near. z: (N,) → (N, 2)."""
    z = v.tensor(z, "z")
    if z.ndim != 1:
        raise ValueError(f"z must be 1-D with shape (N,), got shape {tuple(z.shape)}.")
    return torch.stack([z, torch.sin(2 * z)], dim=-1)


def sample_curve_2d(n: int, noise: float = 0.1, generator: torch.Generator | None = None) -> Tensor:
    """n points x = g(z) + noise·ε with z ~ N(0, 1), ε ~ N(0, I₂): shape (n, 2), float64.

    A latent-variable toy: one hidden coordinate z, two observed coordinates.
    """
    _check_n(n)
    noise = v.scalar(noise, "noise", positive=True)
    z = torch.randn(n, generator=generator, dtype=torch.float64)
    return curve_2d(z) + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)
