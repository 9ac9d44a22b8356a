"""Notebook 07's formulas against independent computations: the mixture log-density and the VampPrior
against torch.distributions, KL(q(z) ‖ p(z)) against quadrature, MADE's masks against autograd."""

import math

import pytest
import torch

from vae_course import models, nb07, probability
from vae_course.autoregressive import made_mask

D = torch.distributions


def _mixture(means, log_vars, logits):
    comp = D.Independent(D.Normal(means, torch.exp(0.5 * log_vars)), 1)
    return D.MixtureSameFamily(D.Categorical(logits=logits), comp)


def _random_mixture(seed, n=7, c=4, dim=3):
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(n, dim, generator=g, dtype=torch.float64),
            torch.randn(c, dim, generator=g, dtype=torch.float64),
            torch.rand(c, dim, generator=g, dtype=torch.float64) - 1,
            torch.randn(c, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixture_log_prob_is_torch_distributions_mixture(seed):
    z, means, log_vars, logits = _random_mixture(seed)
    got = nb07.mixture_log_prob(z, means, log_vars, logits)
    assert torch.allclose(got, _mixture(means, log_vars, logits).log_prob(z), atol=1e-10)
    prior = probability.GaussianMixture(means, log_vars, logits)
    assert torch.allclose(got, prior.log_prob(z.float()).double(), atol=1e-4)


def test_mixture_log_prob_is_finite_far_from_every_component():
    z, means, log_vars, logits = _random_mixture(3)
    z = z + 80.0
    naive = torch.log((torch.exp(probability.diag_gaussian_log_prob(z[:, None], means, log_vars))
                       * torch.softmax(logits, 0)).sum(-1))
    assert torch.isinf(naive).all()  # what the exercise warns about really happens here
    got = nb07.mixture_log_prob(z, means, log_vars, logits)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, _mixture(means, log_vars, logits).log_prob(z), rtol=1e-12)


def test_mixture_log_prob_integrates_to_one_in_one_dimension():
    means, log_vars, logits = torch.tensor([[-1.0], [2.0]]).double(), torch.tensor([[0.0], [-1.0]]).double(), \
        torch.tensor([0.3, -0.2]).double()
    t = torch.linspace(-15, 15, 20001, dtype=torch.float64)
    dens = nb07.mixture_log_prob(t[:, None], means, log_vars, logits).exp()
    assert torch.trapezoid(dens, t).item() == pytest.approx(1.0, abs=1e-9)


def test_mixture_log_prob_rejects_bad_shapes():
    z, means, log_vars, logits = _random_mixture(0)
    with pytest.raises(ValueError, match="expected z"):
        nb07.mixture_log_prob(z[:, :2], means, log_vars, logits)
    with pytest.raises(ValueError, match="logits"):
        nb07.mixture_log_prob(z, means, log_vars, logits[:2])
    with pytest.raises(TypeError, match="torch.Tensor"):
        nb07.mixture_log_prob(z.tolist(), means, log_vars, logits)


def _vamp(seed=0, c=5, dim=2):
    torch.manual_seed(seed)
    model = models.VAE(latent_dim=dim, hidden=16)
    x = torch.rand(c, 64, generator=torch.Generator().manual_seed(seed))
    model.prior = nb07.VampPrior(model.encoder, x, dim)
    return model


def test_vamp_prior_is_the_mixture_of_the_encoders_posteriors_at_the_pseudo_inputs():
    model = _vamp()
    prior = model.prior
    with torch.no_grad():
        mu, log_var = model.encode(prior.pseudo_inputs())
        z = torch.randn(9, 2, generator=torch.Generator().manual_seed(1))
        expected = _mixture(mu.double(), log_var.double(), torch.zeros(len(mu), dtype=torch.float64)).log_prob(z.double())
        assert torch.allclose(prior.log_prob(z).double(), expected, atol=1e-4)


def test_vamp_prior_samples_follow_its_density():
    model = _vamp(c=3, dim=1)
    prior = model.prior
    z = prior.sample(200_000, generator=torch.Generator().manual_seed(2)).double()
    with torch.no_grad():
        mu, log_var = (t.double() for t in prior.components())
    mean, second = mu.mean(), (mu**2 + log_var.exp()).mean()
    assert z.mean().item() == pytest.approx(mean.item(), abs=0.01)
    assert (z**2).mean().item() == pytest.approx(second.item(), abs=0.02)


def test_vamp_prior_trains_its_pseudo_inputs_and_the_encoder():
    model = _vamp()
    loss = -model.elbo_terms(torch.rand(4, 64, generator=torch.Generator().manual_seed(3)))["elbo"].mean()
    loss.backward()
    assert model.prior.pseudo_logits.grad.abs().sum() > 0
    names = {n for n, _ in model.named_parameters()}
    assert "prior.pseudo_logits" in names and sum(1 for _ in model.parameters()) == len(names)


def test_vamp_prior_rejects_bad_input():
    model = models.VAE(latent_dim=2, hidden=8)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nb07.VampPrior(model.encoder, torch.full((3, 64), 2.0), 2)
    with pytest.raises(ValueError, match="shape"):
        nb07.VampPrior(model.encoder, torch.rand(64), 2)
    with pytest.raises(TypeError, match="nn.Module"):
        nb07.VampPrior(lambda x: x, torch.rand(3, 64), 2)
    with pytest.raises(ValueError, match="latent dimensions"):
        nb07.VampPrior(model.encoder, torch.rand(3, 64), 2).log_prob(torch.zeros(4, 3))


@pytest.mark.parametrize("prior", ["standard normal", "mixture", "vamp"])
def test_make_vae_plugs_the_prior_into_the_same_model(prior):
    torch.manual_seed(0)
    model = nb07.make_vae(prior, 2, 16, torch.rand(20, 64), components=4)
    kind = {"standard normal": probability.StandardNormal, "mixture": probability.GaussianMixture,
            "vamp": nb07.VampPrior}[prior]
    assert isinstance(model.prior, kind)
    terms = model.elbo_terms(torch.rand(3, 64))
    assert terms["elbo"].shape == (3,) and torch.isfinite(terms["elbo"]).all()
    with pytest.raises(ValueError, match="prior must be one of"):
        nb07.make_vae("flow", 2, 16, torch.rand(20, 64))


def test_marginal_kl_against_quadrature_in_one_dimension():
    mu = torch.tensor([[-1.5], [0.3], [2.0]], dtype=torch.float64)
    log_var = torch.tensor([[-1.0], [0.5], [-2.0]], dtype=torch.float64)
    t = torch.linspace(-12, 12, 40001, dtype=torch.float64)
    log_q = torch.logsumexp(probability.diag_gaussian_log_prob(t[:, None, None], mu, log_var), 1) - math.log(3)
    log_p = probability.standard_normal_log_prob(t)
    exact = torch.trapezoid(log_q.exp() * (log_q - log_p), t).item()
    eps = torch.randn(100_000, 3, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    got = nb07.marginal_kl(mu, log_var, probability.StandardNormal(1), eps).item()
    assert got == pytest.approx(exact, abs=0.01)
    assert exact > 0.2  # the test is not 0 ≈ 0


def test_marginal_kl_is_zero_when_every_posterior_is_the_prior():
    mu, log_var = torch.zeros(5, 2, dtype=torch.float64), torch.zeros(5, 2, dtype=torch.float64)
    eps = torch.randn(10, 5, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert abs(nb07.marginal_kl(mu, log_var, probability.StandardNormal(2), eps).item()) < 1e-12


def test_mean_kl_is_mutual_information_plus_marginal_kl():
    """E_x KL(q(z|x) ‖ p) = I(x; z) + KL(q(z) ‖ p), with I = E log q(z|x) − log q(z), by Monte Carlo."""
    g = torch.Generator().manual_seed(4)
    mu = torch.randn(6, 2, generator=g, dtype=torch.float64)
    log_var = torch.rand(6, 2, generator=g, dtype=torch.float64) - 1.5
    eps = torch.randn(40_000, 6, 2, generator=g, dtype=torch.float64)
    z = probability.reparameterize(mu, log_var, eps)  # (S, N, L)
    log_qzx = probability.diag_gaussian_log_prob(z, mu, log_var)
    log_qz = torch.logsumexp(probability.diag_gaussian_log_prob(z[..., None, :], mu, log_var), -1) - math.log(6)
    info = (log_qzx - log_qz).mean().item()
    mean_kl = probability.gaussian_kl(mu, log_var).mean().item()
    gap = nb07.marginal_kl(mu, log_var, probability.StandardNormal(2), eps).item()
    assert mean_kl == pytest.approx(info + gap, abs=0.02)
    assert 0 < info < math.log(6) + 0.01


def test_a_made_built_from_the_masks_is_autoregressive_by_autograd():
    """The Jacobian of a real masked MLP: output j depends on input d exactly where made_connectivity says,
    and only on earlier pixels."""
    torch.manual_seed(0)
    n, h = 6, 12
    pixels = torch.arange(1, n + 1)
    hidden = torch.randint(1, n, (h,), generator=torch.Generator().manual_seed(1))
    hidden[: n - 1] = torch.arange(1, n)
    masks = [made_mask(pixels, hidden, False), made_mask(hidden, hidden, False), made_mask(hidden, pixels, True)]
    layers = [torch.nn.Linear(m.shape[1], m.shape[0]) for m in masks]

    def net(x):
        for i, (layer, m) in enumerate(zip(layers, masks)):
            x = torch.nn.functional.linear(x, layer.weight * m, layer.bias)
            x = torch.tanh(x) if i < len(layers) - 1 else x
        return x
    jac = torch.autograd.functional.jacobian(net, torch.randn(n))
    depends = jac.abs() > 0
    sees = nb07.made_connectivity(masks)
    assert torch.equal(depends, sees)
    assert torch.equal(sees, torch.ones(n, n).tril(-1).bool())


def test_made_connectivity_rejects_bad_masks():
    with pytest.raises(ValueError, match="at least one"):
        nb07.made_connectivity([])
    with pytest.raises(ValueError, match="previous mask"):
        nb07.made_connectivity([torch.ones(3, 4), torch.ones(2, 2)])


def test_prior_fit_of_a_model():
    torch.manual_seed(0)
    model = nb07.make_vae("mixture", 2, 16, torch.rand(20, 64), components=3)
    fit = nb07.prior_fit(model, torch.rand(50, 64, generator=torch.Generator().manual_seed(0)), n=50,
                         generator=torch.Generator().manual_seed(1))
    assert fit.samples.shape == (12, 64) and 0 <= fit.unvisited <= 1 and 0 <= fit.active <= 2
    assert fit.marginal_kl > -0.5 and math.isfinite(fit.mmd)
