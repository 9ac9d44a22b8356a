"""Notebook 02, sections 4–7: the prior mass under the posterior, the ESS against D, the ELBO of a
Gaussian q and its fit, and the importance-sampling estimate, each against an independent computation."""

import math

import pytest
import torch

from vae_course import nb02

F64 = torch.float64
X_STAR = torch.tensor([0.45, 0.65], dtype=F64)
X_TWO = torch.tensor([0.79, 0.3], dtype=F64)  # just under the peak: a posterior with two modes


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_prior_mass_near_posterior_of_a_normal_posterior_is_the_prior_mass_of_its_central_interval():
    """For a near-normal posterior the 95% region is mean ± 1.96 sd: its prior mass by the normal CDF."""
    mean, sd = nb02.posterior_moments(X_STAR)
    phi = torch.distributions.Normal(0.0, 1.0).cdf
    ref = (phi(torch.tensor(mean + 1.96 * sd)) - phi(torch.tensor(mean - 1.96 * sd))).item()
    assert nb02.prior_mass_near_posterior(X_STAR).item() == pytest.approx(ref, rel=0.03)


def test_prior_mass_near_posterior_counts_the_prior_draws_that_land_there():
    """K·m(x) prior draws are expected in the region; count them with 400,000 draws, region from the grid."""
    z = nb02.z_grid()
    post = nb02.posterior(X_TWO)
    order = post.argsort(descending=True)
    cum = (post[order] * (z[1] - z[0])).cumsum(0)
    threshold = post[order][(cum < 0.95).sum()]  # the density level that bounds the 95% region
    draws = torch.randn(400_000, generator=gen(3), dtype=F64)
    idx = ((draws + 6.0) / (z[1] - z[0])).round().long().clamp(0, len(z) - 1)
    share = (post[idx] >= threshold).double().mean().item()
    assert nb02.prior_mass_near_posterior(X_TWO).item() == pytest.approx(share, rel=0.03)
    both = nb02.prior_mass_near_posterior(torch.stack([X_STAR, X_TWO]))
    assert both.shape == (2,) and both[1].item() == pytest.approx(nb02.prior_mass_near_posterior(X_TWO).item())


def test_prior_mass_near_posterior_rejects_a_share_outside_0_1():
    with pytest.raises(ValueError, match="share"):
        nb02.prior_mass_near_posterior(X_STAR, share=1.5)


def test_prior_ess_by_dim_is_the_ess_of_the_prior_weights_and_falls_with_d():
    out = nb02.prior_ess_by_dim((2, 16), n_x=30, k=2000, generator=gen(4))
    assert set(out) == {2, 16} and out[2].shape == (30,)
    assert (out[2] >= 1).all() and (out[2] <= 2000).all()
    assert out[16].median() < out[2].median()
    g = gen(4)  # the same draws by hand: the ESS of the normalised weights, 1 / Σ w²
    x = nb02.sample(30, 2, generator=g)[0]
    z = torch.randn(2000, generator=g, dtype=F64)
    w = torch.softmax(nb02.log_likelihood(x, z), -1)
    assert torch.allclose(out[2], 1 / (w**2).sum(-1))


def test_the_large_k_ess_of_prior_draws_is_k_over_the_integral_of_posterior_squared_over_prior():
    """ESS/K → p(x)² / E_p[p(x|z)²] = 1 / ∫ p(z|x)² / p(z) dz, by quadrature."""
    z = nb02.z_grid()
    ratio = (nb02.posterior(X_STAR) ** 2 / nb02.prior_log_prob(z).exp()).sum() * (z[1] - z[0])
    draws = torch.randn(400_000, generator=gen(5), dtype=F64)
    ess = nb02.effective_sample_size(nb02.log_likelihood(X_STAR, draws)).item()
    assert ess / 400_000 == pytest.approx(1 / ratio.item(), rel=0.03)


def test_normal_pdf_matches_torch_distributions():
    z = torch.linspace(-2, 3, 11, dtype=F64)
    ref = torch.distributions.Normal(0.7, 0.4).log_prob(z).exp()
    assert torch.allclose(nb02.normal_pdf(z, 0.7, 0.4), ref)
    with pytest.raises(ValueError, match="sigma"):
        nb02.normal_pdf(z, 0.0, 0.0)


@pytest.mark.parametrize("mu, sigma", [(0.4, 0.06), (0.7, 0.45), (1.0, 0.2)])
def test_gaussian_elbo_is_log_px_minus_the_reverse_kl_on_the_grid(mu, sigma):
    """log p(x) − ELBO(q) = KL(q ‖ p(z|x)) = ∫ q log(q / p(z|x)), computed on a fine grid."""
    z = nb02.z_grid(40001, 8.0)
    q = nb02.normal_pdf(z, mu, sigma)
    log_post = nb02.log_likelihood(X_TWO, z) + nb02.prior_log_prob(z) - nb02.log_px(X_TWO, z=z)  # Bayes, in logs
    log_q = torch.distributions.Normal(mu, sigma).log_prob(z)
    kl = (q * (log_q - log_post)).sum() * (z[1] - z[0])
    elbo = nb02.gaussian_elbo(X_TWO, mu, math.log(sigma)).item()
    assert elbo == pytest.approx(nb02.log_px(X_TWO, z=z).item() - kl.item(), abs=1e-4)


def test_gaussian_elbo_matches_a_monte_carlo_average_and_carries_gradients():
    mu, sigma = 0.5, 0.3
    eps = torch.randn(400_000, generator=gen(6), dtype=F64)
    zs = mu + sigma * eps
    log_q = torch.distributions.Normal(mu, sigma).log_prob(zs)
    mc = (nb02.log_likelihood(X_TWO, zs) + nb02.prior_log_prob(zs) - log_q).mean().item()
    assert nb02.gaussian_elbo(X_TWO, mu, math.log(sigma)).item() == pytest.approx(mc, abs=0.1)
    m = torch.tensor(mu, dtype=F64, requires_grad=True)
    ls = torch.tensor(math.log(sigma), dtype=F64, requires_grad=True)
    nb02.gaussian_elbo(X_TWO, m, ls).backward()
    h = 1e-6  # finite differences
    fd = (nb02.gaussian_elbo(X_TWO, mu + h, math.log(sigma)) - nb02.gaussian_elbo(X_TWO, mu - h, math.log(sigma))) / (2 * h)
    assert m.grad.item() == pytest.approx(fd.item(), rel=1e-5)
    assert ls.grad is not None


@pytest.mark.parametrize("x, mu, sigma", [(X_STAR, 0.39, 0.06), (X_TWO, 0.5, 0.3), (X_TWO, 1.2, 0.1)])
def test_gaussian_elbo_is_reconstruction_minus_kl_to_the_prior(x, mu, sigma):
    """Section 7's second form: ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)), the expectation by Monte
    Carlo and the KL by torch.distributions (not the package's quadrature and entropy)."""
    zs = mu + sigma * torch.randn(400_000, generator=gen(7), dtype=F64)
    reconstruction = nb02.log_likelihood(x, zs).mean()
    std_err = nb02.log_likelihood(x, zs).std() / math.sqrt(zs.numel())
    q, prior = torch.distributions.Normal(torch.tensor(mu, dtype=F64), sigma), torch.distributions.Normal(0.0, 1.0)
    kl = torch.distributions.kl_divergence(q, prior)
    got = nb02.gaussian_elbo(x, mu, math.log(sigma)).item()
    assert got == pytest.approx((reconstruction - kl).item(), abs=max(5 * std_err.item(), 1e-3))
    # the regrouping matters: leaving out the KL (or adding it) misses by far more than the Monte Carlo error
    assert abs(got - reconstruction.item()) > 20 * std_err.item() + 1e-3


def test_fit_gaussian_q_matches_a_near_normal_posterior_and_is_a_stationary_point():
    fit = nb02.fit_gaussian_q(X_STAR, 0.0, 1.0)
    mean, sd = nb02.posterior_moments(X_STAR)
    assert fit.mu == pytest.approx(mean, abs=0.005) and fit.sigma == pytest.approx(sd, rel=0.05)
    assert 0 < fit.gap < 0.02
    for dm, ds in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):  # no nearby q has a higher ELBO
        assert nb02.gaussian_elbo(X_STAR, fit.mu + dm, math.log(fit.sigma) + ds).item() < fit.elbo


def test_fit_gaussian_q_on_two_modes_takes_one_and_its_gap_is_minus_log_its_mass():
    z = nb02.z_grid()
    post = nb02.posterior(X_TWO)
    left = ((post * (z < 0.785)).sum() * (z[1] - z[0])).item()
    a, b = nb02.fit_gaussian_q(X_TWO, 0.2, 0.2), nb02.fit_gaussian_q(X_TWO, 1.4, 0.2)
    assert a.mu < 0.5 and b.mu > 1.0 and a.sigma < 0.1 and b.sigma < 0.1
    assert a.gap == pytest.approx(-math.log(left), abs=0.03)
    assert b.gap == pytest.approx(-math.log(1 - left), abs=0.03)
    m, s = nb02.posterior_moments(X_TWO)
    assert nb02.log_px(X_TWO).item() - nb02.gaussian_elbo(X_TWO, m, math.log(s)).item() > 3 * b.gap


def test_fit_gaussian_q_rejects_bad_input():
    with pytest.raises(ValueError, match="sigma0"):
        nb02.fit_gaussian_q(X_STAR, 0.0, -1.0)
    with pytest.raises(ValueError, match="one data point"):
        nb02.fit_gaussian_q(torch.stack([X_STAR, X_TWO]), 0.0, 1.0)


def test_is_log_px_is_unbiased_in_p_x_and_equals_importance_estimates():
    """exp of the estimate averages to p(x) (many repeats), and it is importance_estimates' formula."""
    mu, sigma = 0.7, 0.5
    eps = torch.randn(4000, 50, generator=gen(7), dtype=F64)
    zs = mu + sigma * eps
    log_q = torch.distributions.Normal(mu, sigma).log_prob(zs)
    ll = nb02.log_likelihood(X_TWO, zs.flatten()).reshape(4000, 50)
    est = nb02.is_log_px(ll, nb02.prior_log_prob(zs), log_q)
    assert est.shape == (4000,)
    assert math.log(est.exp().mean().item()) == pytest.approx(nb02.log_px(X_TWO).item(), abs=0.05)
    ref = nb02.importance_estimates(X_TWO, mu, sigma, k=50, repeats=4000, generator=gen(7))
    assert torch.allclose(est, ref)
    assert torch.allclose(nb02.is_log_px(ll, log_q, log_q), nb02.mc_log_px(ll))


def test_is_log_px_rejects_mismatched_shapes_and_non_tensors():
    t = torch.zeros(3, 5, dtype=F64)
    with pytest.raises(ValueError, match="one shape"):
        nb02.is_log_px(t, t[:, :4], t)
    with pytest.raises(TypeError, match="log_q"):
        nb02.is_log_px(t, t, [0.0])


def test_elbo_profile_gap_is_the_kl_from_q_to_the_posterior_on_the_grid():
    """log p(x) − ELBO(N(mu, sigma²)) = KL(q ‖ p(z|x)), the KL by the rectangle rule on the z grid."""
    z = nb02.z_grid(4801)
    dz = (z[1] - z[0]).item()
    log_post = nb02.log_likelihood(X_STAR, z) + torch.distributions.Normal(0.0, 1.0).log_prob(z) - nb02.log_px(X_STAR, z=z)
    mus = torch.tensor([0.2, 0.39, 0.5], dtype=F64)
    sigmas = torch.tensor([0.03, 0.06, 0.12], dtype=F64)
    elbo = nb02.elbo_profile(X_STAR, mus, sigmas)
    for m, s, e in zip(mus, sigmas, elbo):
        q = torch.distributions.Normal(m, s)
        log_q = q.log_prob(z)
        kl = (log_q.exp() * (log_q - log_post)).sum().item() * dz
        assert nb02.log_px(X_STAR).item() - e.item() == pytest.approx(kl, abs=2e-3)
    assert elbo[1] > elbo[0] and elbo[1] > elbo[2]


def test_elbo_profile_refuses_bad_grids():
    with pytest.raises(ValueError, match="one length"):
        nb02.elbo_profile(X_STAR, torch.zeros(3), torch.ones(2))
    with pytest.raises(ValueError, match="positive"):
        nb02.elbo_profile(X_STAR, torch.zeros(2), torch.tensor([0.1, 0.0]))
