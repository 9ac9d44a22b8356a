"""The latent variable toy of notebook 02: quadrature, Bayes, Monte Carlo, checked independently."""

import math

import pytest
import torch

from vae_course import data, nb02

F64 = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_curve_extends_the_2d_curve_of_the_data_module():
    z = torch.linspace(-2, 2, 9, dtype=F64)
    assert torch.equal(nb02.curve(z), data.curve_2d(z))
    g = nb02.curve(z, 8)
    assert g.shape == (9, 8) and torch.equal(g[:, :2], data.curve_2d(z))
    assert torch.allclose(g[:, 5], torch.sin((0.5 + 0.25 * 5) * z + 5))


def test_sample_draws_from_the_same_model_as_the_data_module():
    x, z = nb02.sample(5, generator=gen(3))
    x_data = data.sample_curve_2d(5, noise=nb02.NOISE, generator=gen(3))
    assert torch.allclose(x, x_data) and z.shape == (5,)


def test_log_likelihood_matches_torch_distributions():
    x = torch.tensor([[0.3, -0.2, 0.5], [1.0, 0.1, -0.4]], dtype=F64)
    z = torch.tensor([-1.0, 0.2, 0.7, 1.5], dtype=F64)
    got = nb02.log_likelihood(x, z, noise=0.3)
    ref = torch.distributions.Normal(nb02.curve(z, 3), 0.3).log_prob(x[:, None, :]).sum(-1)
    assert got.shape == (2, 4) and torch.allclose(got, ref)
    assert torch.allclose(nb02.log_likelihood(x[1], z, noise=0.3), ref[1])
    assert torch.allclose(nb02.prior_log_prob(z), torch.distributions.Normal(0.0, 1.0).log_prob(z).double())


def test_quadrature_px_integrates_to_one_over_the_plane():
    x1 = torch.linspace(-4.5, 4.5, 181, dtype=F64)
    x2 = torch.linspace(-1.7, 1.7, 69, dtype=F64)
    grid = torch.cartesian_prod(x1, x2)
    p = nb02.log_px(grid, z=nb02.z_grid(1201)).exp()
    area = p.sum() * (x1[1] - x1[0]) * (x2[1] - x2[0])
    assert area.item() == pytest.approx(1.0, abs=2e-3)


def test_quadrature_px_matches_a_monte_carlo_average_over_many_prior_draws():
    """p(x) = E_z[p(x|z)]: with 400,000 draws, the relative sd of the average is well under 1%."""
    x = torch.tensor([[0.45, 0.65], [-1.0, -0.9], [0.0, 0.05]], dtype=F64)
    z = torch.randn(400_000, generator=gen(1), dtype=F64)
    p_mc = nb02.log_likelihood(x, z).exp().mean(-1)
    assert torch.allclose(nb02.log_px(x).exp(), p_mc, rtol=0.02)


def test_quadrature_px_is_stable_under_grid_refinement_in_64_dimensions():
    x, _ = nb02.sample(2, dim=64, generator=gen(2))
    assert torch.allclose(nb02.log_px(x), nb02.log_px(x, z=nb02.z_grid(20001, 8.0)), atol=1e-8)


def test_posterior_normalises_and_is_bayes_rule():
    x = torch.tensor([0.45, 0.65], dtype=F64)
    z = nb02.z_grid()
    post = nb02.posterior(x, z=z)
    assert (post.sum() * (z[1] - z[0])).item() == pytest.approx(1.0, abs=1e-10)
    # Bayes by an independent computation: torch.distributions, trapezoid rule for p(x)
    joint = (torch.distributions.Normal(data.curve_2d(z), nb02.NOISE).log_prob(x).sum(-1)
             + torch.distributions.Normal(0.0, 1.0).log_prob(z)).exp()
    assert torch.allclose(post, joint / torch.trapezoid(joint, z), rtol=1e-8, atol=1e-12)


def test_posterior_moments_match_self_normalised_prior_draws():
    x = torch.tensor([-1.0, -0.9], dtype=F64)
    mean, sd = nb02.posterior_moments(x)
    z = torch.randn(400_000, generator=gen(4), dtype=F64)
    w = nb02.weights(nb02.log_likelihood(x, z))
    assert (w * z).sum().item() == pytest.approx(mean, abs=3e-3)
    assert ((w * (z - mean) ** 2).sum().sqrt().item()) == pytest.approx(sd, rel=0.03)


def test_mc_log_px_is_logsumexp_minus_log_k_and_does_not_underflow():
    log_lik = torch.tensor([[-1000.0, -1001.0, -1003.0], [0.5, -0.5, 1.0]], dtype=F64)
    expected = torch.log(torch.exp(log_lik[1]).mean())
    got = nb02.mc_log_px(log_lik)
    assert got.shape == (2,) and torch.isfinite(got).all()
    assert got[1].item() == pytest.approx(expected.item(), abs=1e-12)
    assert got[0].item() == pytest.approx(-1000 + math.log((1 + math.exp(-1) + math.exp(-3)) / 3), abs=1e-12)
    assert torch.isinf(torch.log(torch.exp(log_lik[0]).mean()))  # the naive version does underflow
    assert nb02.mc_log_px(log_lik[1]).shape == ()


def test_mc_estimate_is_unbiased_in_p_but_biased_low_in_log_p():
    x = torch.tensor([0.45, 0.65], dtype=F64)
    exact = nb02.log_px(x).item()
    est = nb02.prior_estimates(x, k=10, repeats=40_000, generator=gen(5))
    p_hat = est.exp()
    stderr = (p_hat.std() / math.sqrt(len(p_hat))).item()
    assert abs(p_hat.mean().item() - math.exp(exact)) < 4 * stderr            # unbiased in p
    log_stderr = (est.std() / math.sqrt(len(est))).item()
    assert est.mean().item() < exact - 10 * log_stderr                         # Jensen: biased in log p


def test_weights_ess_and_share():
    log_lik = torch.log(torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=F64))
    assert torch.allclose(nb02.weights(log_lik), torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=F64))
    w = torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=F64)
    assert nb02.effective_sample_size(log_lik).item() == pytest.approx((1 / (w**2).sum()).item())
    assert nb02.effective_sample_size(torch.zeros(7, dtype=F64)).item() == pytest.approx(7.0)
    assert nb02.draws_for_share(log_lik, 0.5).item() == 1
    assert nb02.draws_for_share(log_lik, 0.85).item() == 3  # 0.5 + 0.25 + 0.125 = 0.875
    assert nb02.draws_for_share(log_lik, 0.9).item() == 4
    assert nb02.draws_for_share(log_lik, 1.0).item() == 4


def test_prior_estimates_spread_more_as_the_dimension_grows():
    sds = []
    for d in (2, 64):
        x = nb02.curve(torch.tensor([0.4], dtype=F64), d)[0] + 0.1 * torch.randn(d, generator=gen(6), dtype=F64)
        sds.append((nb02.prior_estimates(x, 500, 200, generator=gen(7)) - nb02.log_px(x)).std().item())
    assert sds[1] > 1.8 * sds[0]


def test_importance_sampling_from_a_posterior_fit_is_nearly_exact():
    x, _ = nb02.sample(1, dim=64, generator=gen(8))
    mean, sd = nb02.posterior_moments(x[0])
    est = nb02.importance_estimates(x[0], mean, sd, k=10, repeats=50, generator=gen(9))
    assert (est - nb02.log_px(x[0])).abs().max().item() < 0.01
    # and is unbiased in p with any q, e.g. a poor one (wide and off-centre)
    est = nb02.importance_estimates(torch.tensor([0.45, 0.65], dtype=F64), 0.0, 1.0, 20, 20_000, generator=gen(10))
    exact = nb02.log_px(torch.tensor([0.45, 0.65], dtype=F64)).exp().item()
    assert abs(est.exp().mean().item() - exact) < 4 * (est.exp().std() / math.sqrt(20_000)).item()


def test_summary_is_consistent():
    x = torch.tensor([0.45, 0.65], dtype=F64)
    z_draws = torch.randn(50, generator=gen(11), dtype=F64)
    z_rep = torch.randn(8, 50, generator=gen(12), dtype=F64)
    s = nb02.summarize_point(x, z_draws, z_rep)
    assert s.w.sum().item() == pytest.approx(1.0)
    assert s.exact == pytest.approx(nb02.log_px(x).item(), abs=1e-9)
    assert torch.allclose(s.estimates[3], nb02.mc_log_px(nb02.log_likelihood(x, z_rep[3])))
    assert 1 <= s.n_90 <= 50 and 1 <= s.ess <= 50


@pytest.mark.parametrize("call, error, words", [
    (lambda: nb02.curve(torch.zeros(3), 1), ValueError, "dim"),
    (lambda: nb02.curve([0.0, 1.0]), TypeError, "torch.Tensor"),
    (lambda: nb02.log_likelihood(torch.zeros(2, 2, 2), torch.zeros(3)), ValueError, "(B, D)"),
    (lambda: nb02.log_likelihood(torch.zeros(2), torch.zeros(3, 1)), ValueError, "(K,)"),
    (lambda: nb02.log_likelihood(torch.zeros(2), torch.zeros(3), noise=0.0), ValueError, "noise"),
    (lambda: nb02.mc_log_px(torch.zeros(2, 3, 4)), ValueError, "(K,) or (B, K)"),
    (lambda: nb02.mc_log_px([0.0]), TypeError, "torch.Tensor"),
    (lambda: nb02.mc_log_px(torch.tensor([float("nan")])), ValueError, "NaN"),
    (lambda: nb02.draws_for_share(torch.zeros(3), 1.5), ValueError, "share"),
    (lambda: nb02.prior_estimates(torch.zeros(2), 0, 3), ValueError, "k"),
    (lambda: nb02.posterior(torch.zeros(2, 2)), ValueError, "one data point"),
])
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)
