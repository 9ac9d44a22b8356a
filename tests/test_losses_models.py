"""ELBO maths against torch.distributions, Monte Carlo and autograd; the VAE and its trainer."""

import pytest
import torch
from torch.distributions import (
    Bernoulli,
    Categorical,
    Independent,
    Normal,
    kl_divergence,
)

import vae_course as vc
from vae_course import probability


@pytest.fixture
def gauss(gen):
    mu = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    log_var = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    return mu, log_var


def _q(mu, log_var):
    return Independent(Normal(mu, torch.exp(0.5 * log_var)), 1)


def test_gaussian_kl_matches_torch_distributions(gauss):
    mu, log_var = gauss
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    assert torch.allclose(probability.gaussian_kl(mu, log_var), kl_divergence(_q(mu, log_var), prior))


def test_gaussian_kl_matches_monte_carlo(gauss, gen):
    mu, log_var = gauss
    z = _q(mu, log_var).sample((200_000,))
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    mc = (_q(mu, log_var).log_prob(z) - prior.log_prob(z)).mean(0)
    assert torch.allclose(probability.gaussian_kl(mu, log_var), mc, atol=0.05)


def test_diag_gaussian_log_prob_matches_torch(gauss, gen):
    mu, log_var = gauss
    z = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    assert torch.allclose(probability.diag_gaussian_log_prob(z, mu, log_var), _q(mu, log_var).log_prob(z))


def test_reparameterize_has_the_right_distribution_and_gradients(gen):
    mu = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    log_var = torch.tensor([0.2, -0.7], dtype=torch.float64, requires_grad=True)
    eps = torch.randn(100_000, 2, generator=gen, dtype=torch.float64)
    z = probability.reparameterize(mu, log_var, eps)
    sigma = torch.exp(0.5 * log_var.detach())
    assert torch.allclose(z.mean(0), mu.detach(), atol=0.02) and torch.allclose(z.std(0), sigma, rtol=0.02)
    z[0].sum().backward()
    assert torch.allclose(mu.grad, torch.ones(2, dtype=torch.float64))
    assert torch.allclose(log_var.grad, 0.5 * sigma * eps[0])  # dz/dlog σ² = ½ σ ε


def test_likelihoods_match_torch_distributions(gen):
    logits = torch.randn(4, 64, 17, generator=gen)
    levels = torch.randint(0, 17, (4, 64), generator=gen)
    assert torch.allclose(probability.categorical_log_likelihood(levels, logits),
                          Independent(Categorical(logits=logits), 1).log_prob(levels))
    x = torch.randint(0, 2, (4, 64), generator=gen).float()
    b_logits = torch.randn(4, 64, generator=gen)
    assert torch.allclose(probability.bernoulli_log_likelihood(x, b_logits),
                          Independent(Bernoulli(logits=b_logits), 1).log_prob(x))


def test_bad_inputs_get_clear_messages():
    with pytest.raises(ValueError, match="same shape"):
        probability.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(TypeError, match="torch.Tensor"):
        probability.gaussian_kl([0.0], torch.zeros(1))
    with pytest.raises(ValueError, match="NaN"):
        probability.reparameterize(torch.zeros(2), torch.tensor([0.0, float("nan")]), torch.zeros(2))
    with pytest.raises(ValueError, match="eps must have the shape"):
        probability.reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        vc.models.VAE().encode(torch.full((2, 64), 16.0))
    with pytest.raises(ValueError, match="likelihood must be one of"):
        vc.models.VAE(likelihood="gaussian")


def test_vae_shapes_and_elbo_terms(gen):
    x = vc.data.load_digits("train").x[:8]
    for likelihood, data in (("categorical", x), ("bernoulli", (x > 0.5).float())):
        model = vc.models.VAE(latent_dim=3, likelihood=likelihood)
        t = model.elbo_terms(data, generator=gen)
        assert t["mu"].shape == (8, 3) and t["elbo"].shape == (8,)
        assert torch.allclose(t["elbo"], t["log_lik"] - t["kl"])
        assert (t["log_lik"] < 0).all() and (t["kl"] >= 0).all()
        images = model.sample_means(5, generator=gen)
        assert images.shape == (5, 64) and images.min() >= 0 and images.max() <= 1


def test_training_lowers_the_loss_and_keeps_the_best_weights():
    torch.manual_seed(0)
    train, val = vc.data.load_digits("train"), vc.data.load_digits("val")
    model = vc.models.VAE(latent_dim=2, hidden=64)
    before = vc.training.mean_terms(model, val.x, torch.Generator().manual_seed(1))["loss"]
    hist = vc.training.train(model, train.x, val.x, epochs=8, lr=3e-3, progress=False,
                             generator=torch.Generator().manual_seed(0))
    after = vc.training.mean_terms(model, val.x, torch.Generator().manual_seed(1))["loss"]
    assert after < before - 40  # from about 181 nats (uniform over 17 levels) to well below
    assert after == pytest.approx(hist.val_loss[hist.best_epoch], rel=1e-5)
    assert hist.train_loss[-1] == pytest.approx(hist.train_rec[-1] + hist.train_kl[-1], rel=1e-5)
