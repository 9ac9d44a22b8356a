"""Notebook 06: the ELBO's gap checked on a grid (posterior_on_grid, grid_kl, elbo_gap_check), Adam's
indifference to the scale of the loss (adam_parameters_after), the explorer's pick by class."""

import pytest
import torch

from vae_course import data, models, nb06, probability, training


@pytest.fixture(scope="module")
def model2():
    torch.manual_seed(0)
    tr, va = data.load_digits("train"), data.load_digits("val")
    model = models.VAE(2, 32)
    training.train(model, tr.x, va.x, epochs=8, lr=3e-3, progress=False, generator=torch.Generator().manual_seed(2))
    return model


@pytest.fixture(scope="module")
def x_test():
    return data.load_digits("test").x[:3]


def test_grid_kl_matches_torch_distributions_for_two_gaussians():
    ticks = torch.linspace(-8, 8, 401, dtype=torch.float64)
    z = torch.cartesian_prod(ticks, ticks).reshape(401, 401, 2)
    q = torch.distributions.Independent(torch.distributions.Normal(torch.tensor([0.3, -0.5]).double(),
                                                                   torch.tensor([0.4, 0.9]).double()), 1)
    p = torch.distributions.MultivariateNormal(torch.tensor([1.0, 0.2]).double(),
                                               torch.tensor([[1.0, 0.5], [0.5, 1.5]]).double())
    got = nb06.grid_kl(q.log_prob(z), p.log_prob(z), ticks)
    q_full = torch.distributions.MultivariateNormal(q.mean, torch.diag(q.variance))
    assert got.item() == pytest.approx(torch.distributions.kl_divergence(q_full, p).item(), abs=1e-6)
    assert nb06.grid_kl(q.log_prob(z), q.log_prob(z), ticks).item() == pytest.approx(0.0, abs=1e-12)


def test_posterior_on_grid_is_the_normalised_joint(model2, x_test):
    grid = nb06.posterior_on_grid(model2, x_test, extent=6.0, n=201)
    assert grid.log_post.shape == grid.log_q.shape == (3, 201, 201)
    # log p(x) as the package's own quadrature gives it
    assert torch.allclose(grid.log_px, nb06.log_marginal_quadrature(model2, x_test, extent=6.0, n=201), atol=1e-9)
    # at one grid point, log p(z|x) = log p(x|z) + log p(z) − log p(x), with torch.distributions
    i, j = 120, 77
    z = torch.stack([grid.ticks[i], grid.ticks[j]])
    with torch.no_grad():
        logits = model2.decode(z.float()[None]).double()[0]
        mu, log_var = model2.encode(x_test)
    levels = torch.round(x_test * 16).long()
    for d in range(3):
        log_lik = torch.distributions.Categorical(logits=logits).log_prob(levels[d]).sum()
        log_prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum()
        assert grid.log_post[d, i, j].item() == pytest.approx((log_lik + log_prior - grid.log_px[d]).item(), abs=1e-4)
        q = torch.distributions.Normal(mu[d].double(), log_var[d].double().mul(0.5).exp()).log_prob(z).sum()
        assert grid.log_q[d, i, j].item() == pytest.approx(q.item(), abs=1e-6)
    # both densities integrate to 1 on the grid
    dz = (grid.ticks[1] - grid.ticks[0]).item()
    assert torch.allclose(grid.log_post.exp().sum((-2, -1)) * dz**2, torch.ones(3, dtype=torch.float64), atol=1e-3)


def test_log_p_is_the_elbo_plus_the_kl_to_the_posterior(model2, x_test):
    """Three independent computations: quadrature, Monte Carlo over q, and the grid's KL."""
    check = nb06.elbo_gap_check(model2, x_test, k=20_000, n=301, generator=torch.Generator().manual_seed(0))
    assert (check.kl > 0).all()
    residual = check.log_px - check.elbo - check.kl
    assert (residual.abs() < 5 * check.elbo_se + 0.01).all(), (residual, check.elbo_se)
    # a mutation: the KL to the prior in place of the KL to the posterior does not close the gap
    with torch.no_grad():
        mu, log_var = model2.encode(x_test)
    from vae_course import probability
    wrong = check.log_px - check.elbo - probability.gaussian_kl(mu.double(), log_var.double())
    assert (wrong.abs() > 10 * check.elbo_se).any()


def test_adam_steps_do_not_see_the_scale_of_the_loss():
    torch.manual_seed(1)
    model = models.VAE(2, 16)
    x = data.load_digits("train").x[:50]
    start = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    base = lambda t: (-t["log_lik"] + t["kl"]).mean()  # noqa: E731
    one = nb06.adam_parameters_after(model, x, base, steps=1, lr=1e-3)
    # Adam's first step is −lr·g/(|g| + ε) (bias-corrected m = g, √v = |g|), with g by autograd
    model.zero_grad()
    base(model.elbo_terms(x, generator=torch.Generator().manual_seed(0))).backward()
    g = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    assert torch.allclose(one - start, -1e-3 * g / (g.abs() + 1e-8), atol=1e-6)
    assert torch.equal(torch.cat([p.detach().reshape(-1) for p in model.parameters()]), start)  # untouched
    a = nb06.adam_parameters_after(model, x, base, steps=4) - start
    b = nb06.adam_parameters_after(model, x, lambda t: 100 * base(t), steps=4) - start
    c = nb06.adam_parameters_after(model, x, lambda t: (-t["log_lik"] + 20 * t["kl"]).mean(), steps=4) - start
    assert (a - b).norm() < 0.02 * a.norm()
    assert (a - c).norm() > 0.05 * a.norm()


def test_examples_by_class_and_the_explorer_pick_by_class(model2):
    test = data.load_digits("test")
    by = nb06.examples_by_class(test.labels)
    assert sorted(by) == list(range(10)) and sum(map(len, by.values())) == len(test.labels)
    assert all(int(test.labels[i]) == c for c, ix in by.items() for i in ix)
    explorer = nb06.InterpolationExplorer(model2, test.x, test.labels, a=by[1][0], b=by[7][0])
    assert explorer.state["a"] == by[1][0] and explorer.state["b"] == by[7][0]
    explorer.controls["class_b"].value = 3
    explorer.controls["example_b"].value = 2
    assert explorer.state["b"] == by[3][2]
    assert "a 3" in explorer.readout.value
    mu = nb06.posterior_means(model2, test.x[[by[1][0], by[3][2]]])
    assert torch.allclose(explorer.state["z"], 0.5 * mu[0] + 0.5 * mu[1])


@pytest.mark.parametrize("call, err", [
    (lambda: nb06.posterior_on_grid(models.VAE(3, 8), torch.zeros(2, 64)), ValueError),
    (lambda: nb06.grid_kl(torch.zeros(3, 3), torch.zeros(3, 4), torch.linspace(0, 1, 3)), ValueError),
    (lambda: nb06.adam_parameters_after(models.VAE(2, 8), torch.zeros(2, 64), lambda t: t["kl"]), ValueError),
    (lambda: nb06.examples_by_class(torch.zeros(3, 2, dtype=torch.long)), ValueError),
    (lambda: nb06.InterpolationExplorer(models.VAE(2, 8), torch.zeros(4, 64), torch.zeros(3, dtype=torch.long)),
     ValueError),
])
def test_bad_input_is_explained(call, err):
    with pytest.raises(err):
        call()


def test_the_notebooks_201_grid_agrees_with_a_finer_one(model2, x_test):
    """The notebook's 201×201 grid over ±6 gives log p(x) and KL(q ‖ p(z|x)) as a 401×401 grid does."""
    coarse, fine = (nb06.posterior_on_grid(model2, x_test, extent=6.0, n=n) for n in (201, 401))
    assert torch.allclose(coarse.log_px, fine.log_px, atol=1e-3)
    kl_coarse = nb06.grid_kl(coarse.log_q, coarse.log_post, coarse.ticks)
    kl_fine = nb06.grid_kl(fine.log_q, fine.log_post, fine.ticks)
    assert torch.allclose(kl_coarse, kl_fine, atol=1e-3)


# ---------------------------------------------------------------- the KL of each latent dimension

def test_kl_dimensions_sum_to_gaussian_kl_and_match_torch_distributions(model2, x_test):
    torch.manual_seed(1)
    model = models.VAE(5, 16).eval()
    dims = nb06.summarize_kl_dimensions(model, x_test, threshold=0.05)
    with torch.no_grad():
        mu, log_var = model.encode(x_test)
    assert torch.allclose(dims.kl.sum(), probability.gaussian_kl(mu, log_var).mean(), rtol=1e-5)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    want = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean(0)  # (L,)
    assert dims.kl.shape == (5,) and torch.allclose(dims.kl, want, rtol=1e-4, atol=1e-6)
    assert dims.active.tolist() == (want > 0.05).tolist() and dims.n_active == int((want > 0.05).sum())
    assert dims.threshold == 0.05


def test_kl_dimensions_find_a_collapsed_dimension():
    """An encoder whose dimension 2 always outputs the prior, N(0, 1), has KL 0 there and is counted inactive."""
    torch.manual_seed(0)
    model = models.VAE(3, 16).eval()
    x = data.load_digits("test").x[:50]

    with torch.no_grad():  # μ₂ and the raw log σ₂² of the (B, 2L) output, L = 3, are 0 for every x
        model.encoder[-1].weight[[1, 4]] = 0.0
        model.encoder[-1].bias[[1, 4]] = 0.0
    dims = nb06.summarize_kl_dimensions(model, x, threshold=1e-6)
    assert dims.kl[1].abs() < 1e-7 and not dims.active[1] and dims.active[[0, 2]].all() and dims.n_active == 2
    with pytest.raises(ValueError, match="threshold"):
        nb06.summarize_kl_dimensions(model, x, threshold=0.0)
    with pytest.raises(ValueError):
        nb06.summarize_kl_dimensions(model, torch.zeros(3, 10))
