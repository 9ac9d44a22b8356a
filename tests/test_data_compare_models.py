"""Data splits, the sample-comparison tools and the linear generator of notebook 01."""

import itertools

import pytest
import torch

from vae_course import data, nb01


def test_digit_splits_are_fixed_disjoint_and_complete():
    splits = {name: data.load_digits(name) for name in data.SPLITS}
    assert [len(s.x) for s in splits.values()] == [1000, 350, 447]
    full = torch.cat([s.levels for s in splits.values()])
    from sklearn.datasets import load_digits
    assert torch.equal(full, torch.as_tensor(load_digits().data, dtype=torch.int64))
    for s in splits.values():
        assert s.x.shape[1] == 64 and s.x.dtype == torch.float32
        assert torch.equal(s.x, s.levels.float() / 16)
        assert s.levels.min() >= 0 and s.levels.max() <= 16 and set(s.labels.tolist()) == set(range(10))


def test_load_digits_returns_copies():
    a = data.load_digits("train")
    a.x[0] = -1
    assert data.load_digits("train").x.min() >= 0


def test_bimodal_samples_follow_their_density(gen):
    x = data.sample_bimodal_1d(200_000, gen)
    edges = torch.linspace(-3, 3, 25, dtype=torch.float64)
    grid = torch.linspace(-6, 6, 24001, dtype=torch.float64)
    assert torch.trapezoid(data.bimodal_1d_density(grid), grid).item() == pytest.approx(1.0, abs=1e-3)
    centres = (edges[:-1] + edges[1:]) / 2
    heights = torch.histogram(x, bins=edges).hist / (len(x) * edges.diff())
    assert torch.allclose(heights, data.bimodal_1d_density(centres), atol=0.02)


def test_curve_samples_lie_near_the_curve(gen):
    x = data.sample_curve_2d(5000, noise=0.1, generator=gen)
    residual = x[:, 1] - torch.sin(2 * x[:, 0])  # x₁ carries noise too, so this is only approximately 0.1
    assert x.shape == (5000, 2) and residual.std().item() < 0.25
    with pytest.raises(ValueError, match="noise must be > 0"):
        data.sample_curve_2d(10, noise=-1.0)


def test_bad_split_and_sizes():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_digits("validation")
    with pytest.raises(ValueError, match="positive whole number"):
        data.sample_bimodal_1d(2.5)


def test_best_pairing_is_the_brute_force_minimum(gen):
    x_hat, x = torch.rand(5, 3, generator=gen), torch.rand(5, 3, generator=gen)
    brute = min(nb01.pairing_cost(x_hat, x, torch.tensor(p)) for p in itertools.permutations(range(5)))
    perm, cost = nb01.best_pairing(x_hat, x)
    assert cost == pytest.approx(brute)
    assert nb01.pairing_cost(x_hat, x, perm) == pytest.approx(cost)


def test_pairing_cost_identity_and_bad_pairing():
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert nb01.pairing_cost(x, x) == 0.0
    assert nb01.pairing_cost(x, x, torch.tensor([1, 0])) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="permutation"):
        nb01.pairing_cost(x, x, torch.tensor([0, 0]))


def test_random_pairing_costs_lie_between_best_and_worst(gen):
    x_hat, x = torch.rand(6, 4, generator=gen), torch.rand(6, 4, generator=gen)
    costs = nb01.random_pairing_costs(x_hat, x, 300, generator=gen)
    assert costs.min() >= nb01.best_pairing(x_hat, x)[1] - 1e-9


def test_sorted_distance_is_w1_for_a_shift(gen):
    x = torch.randn(1000, generator=gen, dtype=torch.float64)
    assert nb01.sorted_distance(x, x + 0.25) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="same number of samples"):
        nb01.sorted_distance(x, x[:10])


def test_shuffled_columns_keep_marginals_but_break_rows(gen):
    x = data.load_digits("train").x
    s = nb01.shuffle_columns(x, generator=gen)
    assert nb01.marginal_distances(s, x).max().item() == 0.0
    assert not torch.equal(s, x)
    assert nb01.nearest_distances(s[:50], x).mean() > 0.5


def test_nearest_distances_against_brute_force(gen):
    q, r = torch.rand(7, 3, generator=gen), torch.rand(9, 3, generator=gen)
    brute = torch.tensor([min((qi - rj).norm() for rj in r) for qi in q])
    assert torch.allclose(nb01.nearest_distances(q, r).float(), brute, atol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        nb01.nearest_distances(torch.rand(3), r)


def test_linear_generator_reproduces_mean_and_top_variance(gen):
    x = data.load_digits("train").x.double()
    g = nb01.LinearGenerator(latent_dim=2).fit(x)
    z = torch.zeros(1, 2, dtype=torch.float64)
    assert torch.allclose(g(z)[0], x.mean(0).clamp(0, 1), atol=1e-6)
    # the generator's covariance (before clipping) is the data's covariance on the top-2 directions
    top = torch.linalg.eigvalsh(torch.cov(x.T)).flip(0)[:2]
    assert torch.allclose((g.weight @ g.weight.T).diagonal().sort(descending=True).values, top, rtol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(B, 2\)"):
        g(torch.zeros(3, 5))
    with pytest.raises(RuntimeError, match="fit"):
        nb01.LinearGenerator(2)(torch.zeros(1, 2))
