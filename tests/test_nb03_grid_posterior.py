"""Notebook 03's exact posterior on a grid and the aggregate posterior, against independent computations."""

import math

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from vae_course import data, figures, models, nb03, nb06, probability, training


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(1)
    model = models.VAE(latent_dim=2)
    training.train(model, data.load_digits("train").x, data.load_digits("val").x, epochs=40, progress=False,
                   generator=torch.Generator().manual_seed(1))
    return model.eval()


@pytest.fixture(scope="module")
def x():
    return data.load_digits("test").x[:6]


@pytest.fixture(scope="module")
def grid(trained, x):
    return nb03.grid_posterior(trained, x)


def test_log_px_matches_the_trapezoid_quadrature_of_notebook_06(trained, x, grid):
    """Two rules, two grids (rectangles on ±4 with 161 points, trapezoids on ±6 with 301)."""
    assert torch.allclose(grid.log_px, nb06.log_marginal_quadrature(trained, x), atol=2e-3)



def test_the_notebooks_coarser_grid_gives_the_same_numbers(trained, x, grid):
    """Notebook 03 uses 121 points a side (spacing 0.067): log p(x) still matches notebook 06's trapezoid
    quadrature, and the KL and non-normality match the default 161-point grid's."""
    coarse = nb03.grid_posterior(trained, x, n=121)
    assert torch.allclose(coarse.log_px, nb06.log_marginal_quadrature(trained, x), atol=2e-3)
    assert torch.allclose(coarse.kl_q_post, grid.kl_q_post, atol=5e-3)
    assert torch.allclose(coarse.non_gaussian, grid.non_gaussian, atol=5e-3)
    assert torch.allclose(coarse.post_cov, grid.post_cov, atol=1e-4)

def test_posterior_is_a_density_and_q_is_the_encoder(trained, x, grid):
    assert torch.allclose((grid.log_post.exp() * grid.cell).sum(-1), torch.ones(len(x), dtype=torch.float64))
    mu, log_var = trained.encode(x)
    assert torch.allclose(grid.mu, mu.double().detach()) and torch.allclose(grid.log_var, log_var.double().detach())
    mvn = torch.distributions.MultivariateNormal(grid.mu[2], torch.diag(grid.log_var[2].exp()))
    assert torch.allclose(grid.log_q[2], mvn.log_prob(grid.z))


def test_posterior_moments_match_self_normalised_importance_sampling(trained, x, grid):
    """Draws from q(z|x), weights p(x|z)p(z)/q(z|x): an estimator that shares nothing with the grid."""
    g = torch.Generator().manual_seed(0)
    k = 3
    mu, log_var = grid.mu[k], grid.log_var[k]
    z = mu + torch.exp(0.5 * log_var) * torch.randn(100_000, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        log_lik = trained.log_likelihood(x[k:k + 1].expand(len(z), -1), trained.decode(z.float())).double()
    log_w = log_lik + torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) - probability.diag_gaussian_log_prob(z, mu, log_var)
    w = torch.softmax(log_w, 0)
    mean = w @ z
    cov = (w[:, None] * (z - mean)).T @ (z - mean)
    assert torch.allclose(grid.post_mean[k], mean, atol=0.01)
    assert torch.allclose(grid.post_cov[k], cov, atol=0.005)
    assert grid.log_px[k].item() == pytest.approx((torch.logsumexp(log_w, 0) - math.log(len(z))).item(), abs=0.01)


def test_log_px_minus_elbo_is_kl_q_to_the_posterior(trained, x, grid):
    eps = torch.randn(20_000, len(x), 2, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        elbo = nb03.elbo_estimate(trained, x, grid.mu.float(), grid.log_var.float(), eps).double()
    assert torch.allclose(grid.log_px - elbo, grid.kl_q_post, atol=0.08)
    assert (grid.kl_q_post >= 0).all()


def test_non_gaussianity_is_zero_for_a_normal_and_positive_otherwise():
    """The same formula on densities we know: a normal on the grid gives 0, a two-bump mixture does not."""
    ticks = torch.linspace(-4, 4, 161, dtype=torch.float64)
    z2, z1 = torch.meshgrid(ticks, ticks, indexing="ij")
    z = torch.stack([z1.reshape(-1), z2.reshape(-1)], -1)
    cell = float((ticks[1] - ticks[0]) ** 2)
    cov = torch.tensor([[0.3, 0.1], [0.1, 0.2]], dtype=torch.float64)
    normal = torch.distributions.MultivariateNormal(torch.tensor([0.2, -0.3], dtype=torch.float64), cov).log_prob(z)
    assert torch.allclose(nb03.compute._full_gaussian_log_prob(z, torch.tensor([[0.2, -0.3]], dtype=torch.float64),
                                                                cov[None])[0], normal)
    bumps = torch.logsumexp(torch.stack([probability.diag_gaussian_log_prob(z, torch.tensor([m, 0.0]).double(),
                                                                              torch.full((2,), -2.0).double())
                                         for m in (-1.0, 1.0)]), 0) - math.log(2)
    for log_p, expect_zero in ((normal, True), (bumps, False)):
        p = log_p.exp() * cell
        mean = p @ z
        c = torch.einsum("g,gi,gj->ij", p, z - mean, z - mean)
        kl = (p * (log_p - nb03.compute._full_gaussian_log_prob(z, mean[None], c[None])[0])).sum()
        assert (kl < 1e-6) if expect_zero else (kl > 0.1)


def test_grid_summaries_equal_their_direct_formulas_on_the_grid(grid):
    """grid_posterior gets the covariance from second moments, log q from one matrix product and the
    non-normality from entropies; the direct formulas, term by term on every grid point, agree."""
    p = grid.log_post.exp() * grid.cell
    d = grid.z[None] - grid.post_mean[:, None]
    assert torch.allclose(grid.post_cov, torch.einsum("ng,ngi,ngj->nij", p, d, d), atol=1e-10)
    direct_q = probability.diag_gaussian_log_prob(grid.z[:, None], grid.mu[None], grid.log_var[None]).T
    assert torch.allclose(grid.log_q, direct_q, atol=1e-9)
    moment_matched = nb03.compute._full_gaussian_log_prob(grid.z, grid.post_mean, grid.post_cov)
    assert torch.allclose(grid.non_gaussian, (p * (grid.log_post - moment_matched)).sum(-1), atol=1e-9)
    q = direct_q.exp() * grid.cell
    assert torch.allclose(grid.kl_q_post, (q * (direct_q - grid.log_post)).sum(-1), atol=1e-9)


def test_grid_posterior_bad_input(trained, x):
    with pytest.raises(ValueError, match="2 latent dimensions"):
        nb03.grid_posterior(models.VAE(latent_dim=3), x)
    with pytest.raises(ValueError, match="extent"):
        nb03.grid_posterior(trained, x, extent=-1.0)
    with pytest.raises(ValueError, match="x must"):
        nb03.grid_posterior(trained, x[:, :10])


def test_aggregate_posterior_is_the_mixture_of_the_normals():
    g = torch.Generator().manual_seed(3)
    mu, log_var = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g) - 1
    z = 2 * torch.randn(50, 2, generator=g)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.ones(5)),
        torch.distributions.Independent(torch.distributions.Normal(mu.double(), torch.exp(0.5 * log_var).double()), 1))
    assert torch.allclose(nb03.aggregate_posterior_density(mu, log_var, z), mix.log_prob(z.double()).exp())
    with pytest.raises(ValueError, match="shape"):
        nb03.aggregate_posterior_density(mu, log_var, z[:, :1])
    with pytest.raises(ValueError, match="same shape"):
        nb03.aggregate_posterior_density(mu, log_var[:, :1], z)


def test_figures_are_legible(grid, x):
    matplotlib.use("Agg")
    fig = nb03.plot_q_against_posterior(grid, x, {"a": 0, "b": 1})
    assert figures.legibility_problems(fig) == []
    plt.close(fig)
    ax = nb03.plot_aggregate_posterior(grid.ticks, grid.log_q[:2].exp().mean(0), grid.log_q[0].exp())
    assert figures.legibility_problems(ax.figure) == []
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="row 9"):
        nb03.plot_q_against_posterior(grid, x, {"a": 9})


def test_q_against_posterior_panels_share_one_scale(grid, x):
    """Every panel is as wide as every other, centred on its own posterior mean, and holds q's 2σ ellipse."""
    matplotlib.use("Agg")
    fig = nb03.plot_q_against_posterior(grid, x, {"a": 0, "b": 3, "c": 5})
    panels = [ax for ax in fig.axes if ax.get_xlabel() == "$z_1$"]
    assert len(panels) == 3
    widths = {round(float(ax.get_xlim()[1] - ax.get_xlim()[0]), 9) for ax in panels}
    heights = {round(float(ax.get_ylim()[1] - ax.get_ylim()[0]), 9) for ax in panels}
    assert len(widths) == 1 and widths == heights
    for ax, k in zip(panels, (0, 3, 5)):
        assert sum(ax.get_xlim()) / 2 == pytest.approx(float(grid.post_mean[k, 0]))
        assert sum(ax.get_ylim()) / 2 == pytest.approx(float(grid.post_mean[k, 1]))
        sigma = grid.log_var[k].mul(0.5).exp()
        lo, hi = grid.mu[k] - 2 * sigma, grid.mu[k] + 2 * sigma
        assert ax.get_xlim()[0] <= lo[0] and hi[0] <= ax.get_xlim()[1]
        assert ax.get_ylim()[0] <= lo[1] and hi[1] <= ax.get_ylim()[1]
    plt.close(fig)


def test_aggregate_posterior_is_shaded_at_equal_mass(grid):
    """The shaded regions of the aggregate posterior hold 99%, 86% and 39% of its mass (summed on the grid)."""
    matplotlib.use("Agg")
    q = grid.log_q[:3].exp().mean(0)
    ax = nb03.plot_aggregate_posterior(grid.ticks, q, grid.log_q[0].exp())
    filled = next(c for c in ax.collections if hasattr(c, "levels") and len(c.levels) == 4)
    held = [float((q * grid.cell)[q >= level].sum()) for level in filled.levels[:3]]
    assert held == pytest.approx([0.99, 0.86, 0.39], abs=0.01)
    plt.close(ax.figure)
