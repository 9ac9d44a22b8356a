"""The probability maths against independent computations, and the prior object: another prior
(a Gaussian mixture) plugged into the same VAE works unchanged in training, evaluation, summaries."""

import math

import pytest
import torch

from vae_course import data, models, nb04, nb06, probability, training

D = torch.distributions


def test_standard_normal_log_prob_is_torch_distributions():
    z = torch.linspace(-6, 6, 101, dtype=torch.float64)
    assert torch.allclose(probability.standard_normal_log_prob(z), D.Normal(0.0, 1.0).log_prob(z))


def test_standard_normal_prior_matches_torch_and_its_kl_is_the_closed_form(gen):
    prior = probability.StandardNormal(3)
    z = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    assert torch.allclose(prior.log_prob(z), D.Independent(D.Normal(torch.zeros(3), 1.0), 1).log_prob(z).double())
    draws = prior.sample(200_000, generator=gen, dtype=torch.float64)
    assert draws.shape == (200_000, 3)
    assert draws.mean(0).abs().max() < 0.01 and (draws.std(0) - 1).abs().max() < 0.01  # sd of the mean 0.0022
    mu, log_var = torch.randn(4, 3, generator=gen, dtype=torch.float64), torch.randn(4, 3, generator=gen, dtype=torch.float64)
    q = D.Independent(D.Normal(mu, torch.exp(0.5 * log_var)), 1)
    p = D.Independent(D.Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1)
    assert torch.allclose(prior.kl(mu, log_var), D.kl_divergence(q, p))
    assert list(prior.state_dict()) == []  # no parameters: a VAE's state_dict keeps its keys


def _mixture(dtype=torch.float64):
    means = torch.tensor([[-2.0, 0.5], [1.5, -1.0], [0.0, 2.0]])
    log_vars = torch.tensor([[-1.0, 0.0], [0.5, -0.5], [0.0, -2.0]])
    logits = torch.tensor([0.0, 1.0, -0.5])
    return probability.GaussianMixture(means, log_vars, logits), D.MixtureSameFamily(
        D.Categorical(logits=logits.to(dtype)),
        D.Independent(D.Normal(means.to(dtype), torch.exp(0.5 * log_vars.to(dtype))), 1))


def test_gaussian_mixture_log_prob_and_samples_match_torch_distributions(gen):
    prior, oracle = _mixture()
    z = 3 * torch.randn(50, 2, generator=gen, dtype=torch.float64)
    assert torch.allclose(prior.log_prob(z), oracle.log_prob(z), atol=1e-6)
    draws = prior.sample(200_000, generator=gen, dtype=torch.float64)
    assert torch.allclose(draws.mean(0), oracle.mean, atol=0.02)          # sd of the mean < 0.004
    assert torch.allclose(draws.var(0), oracle.variance, rtol=0.03)


def test_kl_term_is_the_closed_form_for_n01_and_an_unbiased_estimate_for_the_mixture(gen):
    mu = torch.tensor([[0.5, -1.0], [1.0, 0.3]], dtype=torch.float64)
    log_var = torch.tensor([[-0.5, 0.2], [0.0, -1.0]], dtype=torch.float64)
    z = probability.reparameterize(mu, log_var, torch.randn(100_000, 2, 2, generator=gen, dtype=torch.float64))
    std = probability.StandardNormal(2)
    assert torch.equal(probability.kl_term(std, z[0], mu, log_var), probability.gaussian_kl(mu, log_var))
    mixture, oracle = _mixture()
    estimate = probability.kl_term(mixture, z, mu, log_var)             # (100000, 2) one-draw estimates
    exact_by_mc = (D.Independent(D.Normal(mu, torch.exp(0.5 * log_var)), 1).log_prob(z) - oracle.log_prob(z))
    assert torch.allclose(estimate, exact_by_mc, atol=1e-6)
    se = estimate.std(0) / math.sqrt(len(estimate))
    # and, as a check that cannot pass by construction: for the N(0, I) "mixture" of one component,
    # the same estimator's mean is the closed form
    one = probability.GaussianMixture(torch.zeros(1, 2))
    mc = probability.kl_term(one, z, mu, log_var).mean(0)
    assert torch.allclose(mc, probability.gaussian_kl(mu, log_var), atol=5 * se.max().item() + 0.01)


def test_bad_priors_are_refused_with_a_message():
    with pytest.raises(TypeError, match="prior must have sample"):
        models.VAE(latent_dim=2, prior=object())
    with pytest.raises(ValueError, match="the prior has 3 dimensions but latent_dim is 2"):
        models.VAE(latent_dim=2, prior=probability.StandardNormal(3))
    with pytest.raises(ValueError, match="means must have shape"):
        probability.GaussianMixture(torch.zeros(3))
    with pytest.raises(ValueError, match="z must have 2 latent dimensions"):
        probability.StandardNormal(2).log_prob(torch.zeros(4, 3))


@pytest.fixture(scope="module")
def mixture_vae():
    torch.manual_seed(0)
    train = data.load_digits("train").x[:300]
    val = data.load_digits("val").x[:100]
    prior = probability.GaussianMixture(torch.tensor([[-2.5, 0.0], [2.5, 0.0]]), torch.full((2, 2), -1.0), learnable=True)
    model = models.VAE(latent_dim=2, hidden=32, prior=prior)
    before = prior.means.detach().clone()
    hist = training.train(model, train, val, epochs=3, batch_size=50, generator=torch.Generator().manual_seed(0),
                          progress=False)
    return model, hist, before, val


def test_a_vae_with_a_mixture_prior_trains_and_learns_the_prior(mixture_vae):
    model, hist, before, _ = mixture_vae
    assert len(hist.val_loss) == 3 and all(math.isfinite(v) for v in hist.val_loss)
    assert not torch.equal(model.prior.means.detach(), before)  # a learnable prior trains with the model


def test_evaluation_uses_the_models_prior(mixture_vae):
    """Quadrature over z and importance sampling both use model.prior: they agree for the mixture too,
    and differ from what N(0, I) would give."""
    model, _, _, val = mixture_vae
    x = val[:5]
    exact = nb06.log_marginal_quadrature(model, x, n=241)
    log_w = models.log_weights(model, x, 4000, generator=torch.Generator().manual_seed(1)).double()
    assert torch.allclose(models.iw_bound(log_w), exact, atol=0.3)  # K = 4000 from a 3-epoch q: within 0.3 nats
    assert (log_w.mean(0) < exact).all()
    # independently: a Riemann sum of p(x|z) p(z) over a grid, with p(z) from torch.distributions
    means, log_vars, logits = (t.detach().double() for t in (model.prior.means, model.prior.log_vars, model.prior.logits))
    oracle = D.MixtureSameFamily(D.Categorical(logits=logits), D.Independent(D.Normal(means, torch.exp(0.5 * log_vars)), 1))
    ticks = torch.linspace(-6, 6, 241, dtype=torch.float64)
    z = torch.cartesian_prod(ticks, ticks)
    with torch.no_grad():
        logits_x = model.decode(z.float())
        log_lik = torch.stack([model.log_likelihood(xi.expand(len(z), 64), logits_x).double() for xi in x])
    riemann = torch.logsumexp(log_lik + oracle.log_prob(z) + 2 * math.log(ticks[1] - ticks[0]), dim=-1)
    assert torch.allclose(exact, riemann, atol=1e-3)
    standard = models.VAE(latent_dim=2, hidden=32)
    standard.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("prior.")})
    assert not torch.allclose(nb06.log_marginal_quadrature(standard, x, n=241), exact, atol=1e-3)


def test_sample_means_and_the_model_summary_draw_from_the_models_prior(mixture_vae):
    model, _, _, val = mixture_vae
    images = model.sample_means(4, generator=torch.Generator().manual_seed(2))
    z = model.prior.sample(4, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(images, model.decode_mean(z).detach())
    labels = data.load_digits("val").labels[:100]
    eps = torch.randn(2, 100, 2, generator=torch.Generator().manual_seed(3))
    z_ref = model.prior.sample(200, generator=torch.Generator().manual_seed(4))
    s = nb04.summarize_model("mixture", model, val, labels, val[:4], z[:4], eps, z_ref)
    assert math.isfinite(s.kl) and s.kl > 0 and math.isfinite(s.mmd)


def test_the_elbos_kl_is_measured_against_the_models_prior(gen):
    """For N(0, I) the KL of elbo_terms is the closed form; for a mixture it is log q(z|x) − log p(z)
    at the draw the ELBO used, computed here with torch.distributions."""
    x = data.load_digits("val").x[:6]
    prior, oracle = _mixture(torch.float32)
    model = models.VAE(latent_dim=2, hidden=16, prior=prior)
    t = model.elbo_terms(x, generator=gen)
    q = D.Independent(D.Normal(t["mu"], torch.exp(0.5 * t["log_var"])), 1)
    assert torch.allclose(t["kl"], q.log_prob(t["z"]) - oracle.log_prob(t["z"]), atol=1e-5)
    standard = models.VAE(latent_dim=2, hidden=16)
    s = standard.elbo_terms(x, generator=gen)
    assert torch.allclose(s["kl"], probability.gaussian_kl(s["mu"], s["log_var"]))
