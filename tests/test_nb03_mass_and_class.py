"""Notebook 03: contours at equal probability mass (`vae_course.figures.mass_levels`, the one implementation
the figures use), and the nearest-class-mean classifier."""

import math

import pytest
import torch

from vae_course import nb03
from vae_course.figures import mass_levels


def _gaussian_on_grid(sd=(0.7, 1.3), n=401, extent=8.0):
    ticks = torch.linspace(-extent, extent, n, dtype=torch.float64)
    z1, z2 = torch.meshgrid(ticks, ticks, indexing="xy")
    dist = torch.distributions.Normal(torch.zeros(2, dtype=torch.float64), torch.tensor(sd, dtype=torch.float64))
    density = dist.log_prob(torch.stack([z1, z2], -1)).sum(-1).exp()
    return density, float((ticks[1] - ticks[0]) ** 2), sd


def test_mass_levels_of_a_normal_are_its_n_sigma_ellipses():
    density, cell, (s1, s2) = _gaussian_on_grid()
    masses = [1 - math.exp(-2.0), 1 - math.exp(-0.5)]                 # the 2σ and 1σ ellipses (χ², 2 dof)
    levels = mass_levels(density, masses, cell)
    expected = [math.exp(-0.5 * r**2) / (2 * math.pi * s1 * s2) for r in (2.0, 1.0)]
    assert levels == sorted(levels)
    for got, want in zip(levels, expected):
        assert got == pytest.approx(want, rel=0.02)


def test_mass_levels_hold_the_asked_mass_of_a_skewed_density():
    ticks = torch.linspace(0, 20, 2001, dtype=torch.float64)
    density = torch.distributions.Gamma(2.0, 1.0).log_prob(ticks.clamp_min(1e-9)).exp()   # 1-D, skewed
    cell = float(ticks[1] - ticks[0])
    for m in (0.3, 0.6, 0.9):
        (level,) = mass_levels(density, [m], cell)
        assert float((density[density >= level]).sum() * cell) == pytest.approx(m, abs=0.005)


def test_mass_levels_bad_input():
    density, cell, _ = _gaussian_on_grid(n=41)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        mass_levels(density, [1.0], cell)
    with pytest.raises(ValueError, match="non-negative"):
        mass_levels(-density, [0.5], cell)
    with pytest.raises(ValueError, match="widen the grid"):
        mass_levels(density, [0.9], cell * 0.1)


def test_nearest_class_mean_against_a_loop():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(60, 5, generator=gen)
    labels = torch.arange(60) % 10
    means = nb03.class_means(x, labels)
    for c in range(10):
        assert torch.allclose(means[c], sum(x[i] for i in range(60) if labels[i] == c) / 6)
    images = torch.rand(3, 7, 5, generator=gen)
    got = nb03.nearest_class_mean(images, means)
    assert got.shape == (3, 7)
    for i in range(3):
        for j in range(7):
            dists = [float(((images[i, j] - means[c]) ** 2).sum()) for c in range(10)]
            assert int(got[i, j]) == dists.index(min(dists))
    assert (nb03.nearest_class_mean(means, means) == torch.arange(10)).all()


def test_class_means_bad_input():
    with pytest.raises(ValueError, match="missing"):
        nb03.class_means(torch.zeros(5, 3), torch.arange(5))
    with pytest.raises(ValueError, match="same D"):
        nb03.nearest_class_mean(torch.zeros(4, 3), torch.zeros(10, 5))

