"""Notebook 04's maths: the autoencoder limit, the aggregate posterior, MMD, KL per dimension.

Every formula is compared with an independent computation: torch.distributions, Monte Carlo with
a stated tolerance, brute force, autograd, or numerical integration.
"""

import math

import pytest
import torch

from vae_course import models, nb04, probability, training


def _posteriors(gen, b=6, l=3):
    mu = 1.5 * torch.randn(b, l, generator=gen, dtype=torch.float64)
    log_var = torch.randn(b, l, generator=gen, dtype=torch.float64)
    return mu, log_var


def test_kl_closed_form_matches_torch_distributions_and_quadrature(gen):
    mu, log_var = _posteriors(gen)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(probability.gaussian_kl(mu, log_var), torch.distributions.kl_divergence(q, p).sum(-1))
    # one dimension by numerical integration of q(z) (log q(z) − log p(z))
    m, lv = 0.7, -1.3
    z = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    qd = torch.distributions.Normal(m, math.exp(0.5 * lv))
    integrand = qd.log_prob(z).exp() * (qd.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z))
    assert torch.trapezoid(integrand, z).item() == pytest.approx(0.5 * (m**2 + math.exp(lv) - lv - 1), rel=1e-7)


def test_kl_monte_carlo_agrees_within_four_standard_errors(gen):
    mu, log_var = _posteriors(gen)
    exact = probability.gaussian_kl(mu, log_var)
    est = nb04.kl_monte_carlo(mu, log_var, 100_000, generator=gen)
    # sd of log q − log p per draw, estimated from a second batch of draws
    z = probability.reparameterize(mu, log_var, torch.randn(20_000, *mu.shape, generator=gen, dtype=torch.float64))
    ratio = probability.diag_gaussian_log_prob(z, mu, log_var) - probability.diag_gaussian_log_prob(
        z, torch.zeros_like(mu), torch.zeros_like(log_var))
    se = ratio.std(0) / math.sqrt(100_000)
    assert ((est - exact).abs() < 4 * se).all()
    assert not torch.allclose(est, exact + 0.5, atol=4 * se.max().item())


def test_kl_landscape_minimum_and_growth(gen):
    mu = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    log_var = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    kl = probability.gaussian_kl(mu, log_var).sum()
    g_mu, g_lv = torch.autograd.grad(kl, (mu, log_var))
    assert kl.item() == 0 and g_mu.item() == 0 and g_lv.item() == 0
    hess = torch.autograd.functional.hessian(lambda m, l: probability.gaussian_kl(m, l).sum(), (mu.detach(), log_var.detach()))
    assert hess[0][0].item() == pytest.approx(1.0) and hess[1][1].item() == pytest.approx(0.5)
    z = torch.zeros(1, 1, dtype=torch.float64)
    # σ → 0: −½ log σ² grows without bound, linearly in −log σ²; μ costs μ²/2
    assert probability.gaussian_kl(z, torch.full((1, 1), -20.0, dtype=torch.float64)).item() == pytest.approx(9.5)
    assert probability.gaussian_kl(z + 3, z).item() == pytest.approx(4.5)


def test_kl_per_dimension_sums_to_the_mean_kl_and_finds_collapsed_dims(gen):
    mu, log_var = _posteriors(gen, b=50, l=4)
    mu[:, 2], log_var[:, 2] = 0.0, 0.0
    kl_dims = nb04.kl_per_dimension(mu, log_var)
    assert kl_dims.shape == (4,)
    assert kl_dims.sum().item() == pytest.approx(probability.gaussian_kl(mu, log_var).mean().item())
    assert kl_dims[2].item() == 0 and (kl_dims[[0, 1, 3]] > 0.1).all()
    assert nb04.active_units(mu).tolist() == [True, True, False, True]
    mu[:, 0] = 5.0  # constant but far from 0: inactive (carries no information), yet costly
    assert nb04.active_units(mu).tolist() == [False, True, False, True]


def test_aggregate_posterior_is_the_mixture_of_the_posteriors(gen):
    mu, log_var = _posteriors(gen, b=4, l=2)
    eps = torch.randn(50_000, 4, 2, generator=gen, dtype=torch.float64)
    pooled = nb04.aggregate_posterior(mu, log_var, eps)
    assert pooled.shape == (200_000, 2)
    assert torch.equal(pooled[:4], mu + torch.exp(0.5 * log_var) * eps[0])
    # mixture moments: mean of the means; variance = mean of σ² + variance of the means
    var = torch.exp(log_var).mean(0) + mu.var(0, unbiased=False)
    assert torch.allclose(pooled.mean(0), mu.mean(0), atol=4 * (var / 200_000).sqrt().max().item())
    assert torch.allclose(pooled.var(0), var, rtol=0.02)


def test_if_every_posterior_is_the_prior_the_aggregate_is_the_prior(gen):
    zeros = torch.zeros(500, 2, dtype=torch.float64)
    pooled = nb04.aggregate_posterior(zeros, zeros, torch.randn(4, 500, 2, generator=gen, dtype=torch.float64))
    ref = torch.randn(2000, 2, generator=gen, dtype=torch.float64)
    assert abs(nb04.mmd(pooled, ref).item()) < 0.003


def _mmd_brute_force(x, y, h):
    def k(a, b):
        return math.exp(-sum((ai - bi) ** 2 for ai, bi in zip(a, b)) / (2 * h * h))
    x, y = x.tolist(), y.tolist()
    n, m = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kxy = sum(k(a, b) for a in x for b in y) / (n * m)
    return kxx + kyy - 2 * kxy


def test_mmd_matches_a_brute_force_double_loop(gen):
    x, y = torch.randn(12, 2, generator=gen) + 0.5, torch.randn(9, 2, generator=gen)
    assert nb04.mmd(x, y, bandwidth=0.7).item() == pytest.approx(_mmd_brute_force(x, y, 0.7), rel=1e-10)


@pytest.mark.parametrize("shift, sigma, h", [((0.0, 0.0), 1.0, 1.0), ((0.5, 0.0), 1.0, 1.0), ((1.0, -1.0), 0.5, 1.0),
                                          ((0.0, 0.0), 2.0, 0.7)])
def test_mmd_estimate_matches_the_closed_form(gen, shift, sigma, h):
    shift = torch.tensor(shift, dtype=torch.float64)
    x = sigma * torch.randn(3000, 2, generator=gen, dtype=torch.float64) + shift
    y = torch.randn(3000, 2, generator=gen, dtype=torch.float64)
    exact = nb04.mmd_to_gaussian_exact(shift, sigma, h).item()
    assert nb04.mmd(x, y, h).item() == pytest.approx(exact, abs=0.004)
    if sigma != 1.0 or shift.abs().sum() > 0:
        assert exact > 0.02


def test_mmd_closed_form_terms_by_monte_carlo(gen):
    # E k(X, Y) for X ~ N(a, s² I), Y ~ N(0, I) in 3 dims, checked by plain Monte Carlo on pairs
    a, s, h = torch.tensor([0.4, -0.2, 1.0], dtype=torch.float64), 0.6, 1.3
    x = s * torch.randn(400_000, 3, generator=gen, dtype=torch.float64) + a
    y = torch.randn(400_000, 3, generator=gen, dtype=torch.float64)
    kxy = torch.exp(-((x - y) ** 2).sum(1) / (2 * h * h)).mean().item()
    x2 = s * torch.randn(400_000, 3, generator=gen, dtype=torch.float64) + a
    kxx = torch.exp(-((x - x2) ** 2).sum(1) / (2 * h * h)).mean().item()
    y2 = torch.randn(400_000, 3, generator=gen, dtype=torch.float64)
    kyy = torch.exp(-((y - y2) ** 2).sum(1) / (2 * h * h)).mean().item()
    assert nb04.mmd_to_gaussian_exact(a, s, h).item() == pytest.approx(kxx + kyy - 2 * kxy, abs=3e-3)


def test_unvisited_share():
    visited = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    z = torch.tensor([[0.1, 0.0], [0.5, 0.0], [1.0, 0.2], [3.0, 3.0]])
    assert nb04.unvisited_share(z, visited, radius=0.25) == pytest.approx(0.5)
    assert nb04.unvisited_share(z, visited, radius=0.6) == pytest.approx(0.25)


def test_autoencoder_is_the_sigma_to_zero_limit(gen):
    torch.manual_seed(0)
    ae = models.Autoencoder(latent_dim=2, hidden=16)
    x = torch.rand(5, 64, generator=gen)
    mu, log_var = ae.encode(x)
    assert torch.equal(log_var, torch.full_like(mu, -20.0))
    t = ae.elbo_terms(x, generator=gen)
    assert (t["z"] - mu).abs().max() < 1e-3
    assert torch.allclose(t["kl"], 0.5 * (mu**2).sum(1) + 2 * 0.5 * (math.exp(-20) + 19), rtol=1e-5)
    vae = models.VAE(latent_dim=2, hidden=16)
    vae.load_state_dict(ae.state_dict())
    assert torch.equal(vae.encode(x)[0], mu) and not torch.equal(vae.encode(x)[1], log_var)
    assert torch.equal(ae.reconstruct(x), vae.reconstruct(x))


def test_autoencoder_trains_with_beta_zero_and_summarize(gen):
    torch.manual_seed(0)
    ae = models.Autoencoder(latent_dim=2, hidden=16)
    x = torch.randint(0, 17, (40, 64), generator=gen).float() / 16
    labels = torch.arange(40) % 10
    hist = training.train(ae, x, x[:10], epochs=2, beta=0.0, progress=False, generator=gen)
    assert len(hist.val_loss) == 2
    s = nb04.summarize_model("ae", ae, x, labels, x[:4], torch.randn(6, 2, generator=gen),
                     torch.randn(3, 40, 2, generator=gen), torch.randn(30, 2, generator=gen))
    assert s.pooled.shape == (120, 2) and s.x_hat.shape == (4, 64) and s.prior_samples.shape == (6, 64)
    assert torch.allclose(s.pooled[:40], s.mu, atol=1e-3)
    assert s.kl == pytest.approx(probability.gaussian_kl(s.mu, s.log_var).mean().item())
    assert 0 <= s.unvisited <= 1 and s.rec > 0


def test_bad_inputs_are_rejected_with_clear_messages():
    mu = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="same|shape"):
        nb04.kl_per_dimension(mu, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="eps must have shape"):
        nb04.aggregate_posterior(mu, mu, torch.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="bandwidth"):
        nb04.mmd(mu, mu, bandwidth=0.0)
    with pytest.raises(ValueError, match="shapes"):
        nb04.mmd(mu, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="positive whole number"):
        nb04.kl_monte_carlo(mu, mu, 0)
    with pytest.raises(TypeError, match="torch.Tensor"):
        nb04.active_units([[0.0, 1.0]])
    with pytest.raises(ValueError, match="sigma must be > 0"):
        nb04.mmd_to_gaussian_exact(torch.zeros(2), sigma=0.0)
    with pytest.raises(TypeError, match="log_var must be a number"):
        models.Autoencoder(log_var="small")


@pytest.mark.parametrize("n, share", [(1000, 0.05), (400, 0.10)])
def test_unvisited_radius_gives_the_share_for_a_perfect_match_by_monte_carlo(gen, n, share):
    """(1 − e^(−a))/a with a = n r²/2: checked by drawing the n visited points from N(0, I) itself."""
    r = nb04.unvisited_radius(n, share)
    shares = [nb04.unvisited_share(torch.randn(4000, 2, generator=gen, dtype=torch.float64),
                                   torch.randn(n, 2, generator=gen, dtype=torch.float64), r) for _ in range(10)]
    assert sum(shares) / len(shares) == pytest.approx(share, abs=0.006)
    a = n * r**2 / 2
    assert -math.expm1(-a) / a == pytest.approx(share, rel=1e-9)
    assert nb04.unvisited_radius(1000, 0.05) == pytest.approx(0.2, abs=1e-4)


def test_unvisited_radius_rejects_bad_input():
    with pytest.raises(ValueError, match="share must lie strictly between 0 and 1"):
        nb04.unvisited_radius(1000, 1.5)
    with pytest.raises(ValueError, match="positive whole number"):
        nb04.unvisited_radius(0)


def test_summary_counts_unvisited_with_one_draw_per_posterior(gen):
    torch.manual_seed(0)
    vae = models.VAE(latent_dim=2, hidden=16)
    x = torch.randint(0, 17, (50, 64), generator=gen).float() / 16
    eps = torch.randn(4, 50, 2, generator=gen)
    z_prior, z_ref = torch.randn(9, 2, generator=gen), torch.randn(300, 2, generator=gen)
    s = nb04.summarize_model("v", vae, x, torch.arange(50) % 10, x[:4], z_prior, eps, z_ref, beta=0.5)
    first = s.pooled[:50]
    assert s.radius == pytest.approx(nb04.unvisited_radius(50))
    assert s.unvisited == pytest.approx(nb04.unvisited_share(z_ref, first, s.radius))
    assert s.prior_unvisited.tolist() == (torch.cdist(z_prior, first).min(1).values > s.radius).tolist()
    assert s.beta == 0.5 and s.elbo == pytest.approx(-(s.rec + s.kl))
    assert s.mean_sigma == pytest.approx(torch.exp(0.5 * s.log_var).mean().item())


def test_beta_path_continues_from_its_neighbour_and_leaves_the_start_alone(gen):
    torch.manual_seed(0)
    vae = models.VAE(latent_dim=2, hidden=16)
    before = {k: t.clone() for k, t in vae.state_dict().items()}
    x = torch.randint(0, 17, (60, 64), generator=gen).float() / 16
    path = nb04.train_beta_path(vae, x, x[:20], [0.5, 4.0], epochs=2, generator=torch.Generator().manual_seed(1))
    assert list(path) == [0.5, 4.0] and path[0.5] is not vae and path[4.0] is not path[0.5]
    assert all(torch.equal(t, before[k]) for k, t in vae.state_dict().items())
    # the second model is the first trained further: same as training a copy of path[0.5] by hand
    import copy
    again = copy.deepcopy(path[0.5])
    g = torch.Generator().manual_seed(1)
    training.train(copy.deepcopy(vae), x, x[:20], beta=0.5, epochs=2, lr=3e-3, progress=False, generator=g)
    training.train(again, x, x[:20], beta=4.0, epochs=2, lr=3e-3, progress=False, generator=g)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), path[4.0].state_dict().values()))
    with pytest.raises(ValueError, match="betas must be a non-empty list"):
        nb04.train_beta_path(vae, x, x, [])
    with pytest.raises(ValueError, match="betas must be a non-empty list"):
        nb04.train_beta_path(vae, x, x, [-1.0])


def test_mmd_reuses_the_reference_term_only_while_the_reference_is_unchanged(gen):
    x1, x2 = torch.randn(12, 2, generator=gen) + 0.5, torch.randn(10, 2, generator=gen)
    y = torch.randn(9, 2, generator=gen)
    for x in (x1, x2, x1):  # the same y again and again: the cached term must stay right for every x
        assert nb04.mmd(x, y).item() == pytest.approx(_mmd_brute_force(x, y, 1.0), rel=1e-10)
    assert nb04.mmd(x1, y, bandwidth=0.7).item() == pytest.approx(_mmd_brute_force(x1, y, 0.7), rel=1e-10)
    assert nb04.mmd(x2, y).item() == pytest.approx(_mmd_brute_force(x2, y, 1.0), rel=1e-10)
    y.mul_(2.0)  # changed in place: the cached term is stale
    assert nb04.mmd(x1, y).item() == pytest.approx(_mmd_brute_force(x1, y, 1.0), rel=1e-10)
    for y2 in (torch.randn(9, 2, generator=gen), torch.randn(9, 2, generator=gen)):  # new tensors, same version
        assert nb04.mmd(x1, y2).item() == pytest.approx(_mmd_brute_force(x1, y2, 1.0), rel=1e-10)


def test_neg_elbo_matches_torch_distributions(gen):
    torch.manual_seed(1)
    model = models.VAE(latent_dim=2, hidden=16).double()
    x = torch.randint(0, 17, (7, 64), generator=gen).double() / 16
    eps = torch.randn(5, 7, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        mu, log_var = model.encode(x)
        sd = torch.exp(0.5 * log_var)
        q = torch.distributions.Independent(torch.distributions.Normal(mu, sd), 1)
        p = torch.distributions.Independent(torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(sd)), 1)
        kl = torch.distributions.kl_divergence(q, p)  # (7,)
        levels = torch.round(x * 16).long()
        log_lik = torch.stack([torch.distributions.Categorical(logits=model.decode(mu + sd * e)).log_prob(levels).sum(-1)
                               for e in eps])  # (5, 7)
    expected = -(log_lik - kl).mean().item()
    assert nb04.neg_elbo(model, x, eps) == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match=r"eps must have shape \(S, 7, 2\)"):
        nb04.neg_elbo(model, x, eps[:, :3])


def test_summary_carries_the_held_out_bound_only_when_asked(gen):
    torch.manual_seed(2)
    model = models.VAE(latent_dim=2, hidden=16)
    x = torch.randint(0, 17, (30, 64), generator=gen).float() / 16
    args = (model, x, torch.arange(30) % 10, x[:4], torch.randn(6, 2, generator=gen),
            torch.randn(2, 30, 2, generator=gen), torch.randn(40, 2, generator=gen))
    assert nb04.summarize_model("m", *args).val_neg_elbo is None
    eps_val = torch.randn(3, 10, 2, generator=gen)
    s = nb04.summarize_model("m", *args, x_val=x[:10], eps_val=eps_val)
    assert s.val_neg_elbo == pytest.approx(nb04.neg_elbo(model, x[:10], eps_val))
    with pytest.raises(ValueError, match="together"):
        nb04.summarize_model("m", *args, x_val=x[:10])


def test_calibrated_radius_leaves_the_share_and_agrees_with_the_2d_formula(gen):
    z = torch.randn(4000, 2, generator=gen, dtype=torch.float64)
    perfect = torch.randn(1000, 2, generator=gen, dtype=torch.float64)
    r = nb04.calibrated_radius(z, perfect, share=0.05)
    assert nb04.unvisited_share(z, perfect, r) == pytest.approx(0.05, abs=1e-3)
    # the small-ball formula of unvisited_radius, an independent derivation, in 2 dimensions
    assert r == pytest.approx(nb04.unvisited_radius(1000, 0.05), rel=0.08)
    # a fresh perfect sample at that radius leaves about the same share (a calibration, not an overfit)
    fresh = [nb04.unvisited_share(z, torch.randn(1000, 2, generator=gen, dtype=torch.float64), r) for _ in range(5)]
    assert sum(fresh) / 5 == pytest.approx(0.05, abs=0.01)
    z8, perfect8 = torch.randn(2000, 8, generator=gen), torch.randn(1000, 8, generator=gen)
    r8 = nb04.calibrated_radius(z8, perfect8, share=0.2)
    assert r8 > 5 * r and nb04.unvisited_share(z8, perfect8, r8) == pytest.approx(0.2, abs=1e-3)
    with pytest.raises(ValueError, match="shapes"):
        nb04.calibrated_radius(z8, perfect)
    with pytest.raises(ValueError, match="strictly between"):
        nb04.calibrated_radius(z, perfect, share=0.0)


class _Lookup(models.VAE):
    """A 'decoder' that returns a fixed image per prior draw: decode_mean(z) = images[z[:, 0]]."""

    def __init__(self, images, codes):
        super().__init__(latent_dim=codes.shape[1], hidden=4)
        self.images, self.codes = images, codes

    def encode(self, x):
        return self.codes[: len(x)], torch.full_like(self.codes[: len(x)], -30.0)

    def decode_mean(self, z):
        return self.images[z[:, 0].long()]


def test_summarize_generations_counts_classes_by_the_nearest_training_digit(gen):
    x = torch.rand(30, 64, generator=gen)
    labels = torch.arange(30) % 3  # 10 digits of each of 3 classes
    # decodings: near-copies of digits 0, 1, 4 and 7 (classes 0, 1, 1, 1) plus a little noise
    picks = torch.tensor([0, 1, 4, 7])
    images = (x[picks] + 0.01 * torch.rand(4, 64, generator=gen)).clamp(0, 1)
    codes = torch.zeros(30, 2)
    codes[:, 1] = torch.arange(30.0)  # trained-on points along z_2; two prior draws near them, two far (z_2 = 50)
    model = _Lookup(images, codes)
    z = torch.tensor([[0.0, 0.2], [1.0, 0.2], [2.0, 50.0], [3.0, 50.0]])
    s = nb04.summarize_generations("m", model, x, labels, z, torch.zeros(30, 2), radius=1.5, n_classes=3)
    assert s.nearest.tolist() == picks.tolist() and s.classes.tolist() == [0, 1, 1, 1]
    assert s.class_shares.tolist() == [0.25, 0.75, 0.0] and s.data_shares.tolist() == pytest.approx([1 / 3] * 3)
    # total variation, by hand: ½(|¼ − ⅓| + |¾ − ⅓| + |0 − ⅓|) = 5/12
    assert s.class_gap == pytest.approx(5 / 12) and s.top_share == 0.75
    assert s.unvisited == 0.5 and s.samples.shape == (4, 64)
    # samples that mirror the data's own mix have no gap
    even = nb04.summarize_generations("e", _Lookup(x[:3], codes), x, labels, torch.tensor([[0.0, 0], [1, 0], [2, 0]]),
                                      torch.zeros(30, 2), radius=2.5, n_classes=3)
    assert even.class_gap == pytest.approx(0.0) and even.unvisited == 0.0


def test_summarize_generations_rejects_bad_input(gen):
    vae = models.VAE(latent_dim=8, hidden=8)
    x, z, eps = torch.rand(20, 64, generator=gen), torch.randn(5, 8, generator=gen), torch.zeros(20, 8)
    labels = torch.arange(20) % 10
    with pytest.raises(ValueError, match="labels must be 20 whole numbers"):
        nb04.summarize_generations("v", vae, x, labels.float(), z, eps, 1.0)
    with pytest.raises(ValueError, match="labels must be 20 whole numbers in 0..9"):
        nb04.summarize_generations("v", vae, x, labels + 5, z, eps, 1.0)
    with pytest.raises(TypeError, match="labels must be a torch.Tensor"):
        nb04.summarize_generations("v", vae, x, list(range(20)), z, eps, 1.0)
    with pytest.raises(ValueError, match=r"z must have shape \(M, 8\)"):
        nb04.summarize_generations("v", vae, x, labels, torch.randn(5, 2), eps, 1.0)
    with pytest.raises(ValueError, match="one draw per training digit"):
        nb04.summarize_generations("v", vae, x, labels, z, torch.zeros(3, 20, 8), 1.0)
    with pytest.raises(ValueError, match="radius"):
        nb04.summarize_generations("v", vae, x, labels, z, eps, 0.0)
