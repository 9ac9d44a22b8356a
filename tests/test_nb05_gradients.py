"""Notebook 05's maths against independent computations: autograd, quadrature, Monte Carlo."""

import math

import pytest
import torch

from vae_course import nb05, probability

NAMES = list(nb05.OBJECTIVES)
SETTINGS = [(0.0, 1.0), (2.0, 0.5), (-1.3, 2.2), (1.0, 0.3)]
D = torch.float64


def _normal(mu, sigma):
    return torch.distributions.Normal(torch.as_tensor(mu, dtype=D), torch.as_tensor(sigma, dtype=D))


def _expectation(name, mu, sigma, t=1.0):
    """E[f(z)] as a differentiable closed form written from scratch (torch.distributions' cdf and pdf)."""
    a = mu - t
    std = _normal(0.0, 1.0)
    if name == "(z − t)²":
        return a**2 + sigma**2
    if name == "|z − t|":
        return a * (2 * std.cdf(a / sigma) - 1) + 2 * sigma * std.log_prob(a / sigma).exp()
    return std.cdf(a / sigma)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mu, sigma", SETTINGS)
def test_exact_gradient_is_autograd_of_the_expectation_and_matches_quadrature(name, mu, sigma):
    m, s = torch.tensor(mu, dtype=D, requires_grad=True), torch.tensor(sigma, dtype=D, requires_grad=True)
    auto = torch.stack(torch.autograd.grad(_expectation(name, m, s), [m, s]))
    exact = nb05.exact_grad(name, mu, sigma)
    assert torch.allclose(exact, auto, atol=1e-12)
    quad = nb05.quadrature_grad(lambda z: nb05.objective(name, z)[0], mu, sigma)
    assert torch.allclose(exact, quad, atol=5e-5 / sigma)


def test_closed_form_expectations_match_monte_carlo(gen):
    z = torch.randn(400_000, generator=gen, dtype=D)
    for name in NAMES:
        f = nb05.objective(name, 0.7 + 1.4 * z)[0]
        se = f.std() / math.sqrt(len(f))
        assert abs(f.mean() - _expectation(name, torch.tensor(0.7, dtype=D), torch.tensor(1.4, dtype=D))) < 4 * se


def test_quadrature_gradient_is_the_derivative_of_the_quadrature_expectation():
    f = lambda z: torch.sin(2 * z) + z**3
    u = torch.linspace(-12, 12, 200_001, dtype=D)
    phi = torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
    expect = lambda mu, sigma: torch.trapezoid(f(mu + sigma * u) * phi, u).item()
    h = 1e-5
    fd = [(expect(0.3 + h, 0.8) - expect(0.3 - h, 0.8)) / (2 * h), (expect(0.3, 0.8 + h) - expect(0.3, 0.8 - h)) / (2 * h)]
    assert torch.allclose(nb05.quadrature_grad(f, 0.3, 0.8), torch.tensor(fd, dtype=D), atol=1e-7)


@pytest.mark.parametrize("name", ["(z − t)²", "|z − t|"])
def test_derivative_of_each_objective_is_autograds(name, gen):
    z = (3 * torch.randn(50, generator=gen, dtype=D)).requires_grad_()
    f, df = nb05.objective(name, z, t=0.5)
    assert torch.allclose(torch.autograd.grad(f.sum(), z)[0], df)


def test_step_objective_is_flat_almost_everywhere_and_jumps_at_t():
    z = torch.tensor([-1.0, 0.999, 1.001, 3.0], dtype=D)
    f, df = nb05.objective("step 1[z > t]", z, t=1.0)
    assert f.tolist() == [0.0, 0.0, 1.0, 1.0] and df.abs().sum() == 0


@pytest.mark.parametrize("name", ["(z − t)²", "|z − t|"])
def test_pathwise_estimator_is_autograd_through_z_equals_mu_plus_sigma_eps(name, gen):
    eps = torch.randn(3, 40, generator=gen, dtype=D)
    mu, sigma = torch.tensor(0.4, dtype=D, requires_grad=True), torch.tensor(1.3, dtype=D, requires_grad=True)
    z = mu + sigma * eps
    _, df = nb05.objective(name, z.detach())
    for b in range(3):
        auto = torch.autograd.grad(nb05.objective(name, z[b])[0].mean(), [mu, sigma], retain_graph=True)
        est = nb05.pathwise_grad(df, eps)
        assert torch.allclose(torch.stack([est[0][b], est[1][b]]), torch.stack(auto))


def test_score_function_estimator_is_autograd_of_the_surrogate_f_times_log_prob(gen):
    mu, sigma = torch.tensor(-0.2, dtype=D, requires_grad=True), torch.tensor(0.9, dtype=D, requires_grad=True)
    z = (-0.2 + 0.9 * torch.randn(2, 30, generator=gen, dtype=D))
    f = torch.cos(z) + z**2
    surrogate = f * torch.distributions.Normal(mu, sigma).log_prob(z)
    auto = [torch.stack(torch.autograd.grad(surrogate[b].mean(), [mu, sigma], retain_graph=True)) for b in range(2)]
    est = torch.stack(nb05.score_function_grad(f, z, -0.2, 0.9), -1)
    assert torch.allclose(est, torch.stack(auto))


@pytest.mark.parametrize("name", NAMES)
def test_both_estimators_agree_with_the_exact_gradient_within_standard_errors(name, gen):
    s = nb05.summarize_gradients(name, 0.3, 1.2, torch.randn(400, 500, generator=gen, dtype=D))
    assert (s.z_scores("score").abs() < 4).all()
    if name == "step 1[z > t]":  # f' = 0 almost everywhere: the pathwise estimate is 0, a biased estimator
        assert torch.equal(s.pathwise, torch.zeros_like(s.pathwise))
        assert torch.isinf(s.z_scores("pathwise")).all() and (s.exact.abs() > 0.1).all()
    else:
        assert (s.z_scores("pathwise").abs() < 4).all()


def test_spread_falls_like_one_over_root_n_and_score_is_wider_on_a_smooth_f(gen):
    rows = nb05.variance_table("(z − t)²", 0.0, 1.0, [100, 10_000], repeats=300, generator=gen)
    for key in ("path_mu_sd", "path_sigma_sd", "score_mu_sd", "score_sigma_sd"):
        assert rows[0][key] / rows[1][key] == pytest.approx(10, rel=0.2)
    for row in rows:
        assert row["score_mu_sd"] > 2 * row["path_mu_sd"] and row["score_sigma_sd"] > 2 * row["path_sigma_sd"]
        assert row["exact_mu"] == -2 and row["exact_sigma"] == 2


def test_a_constant_added_to_f_widens_the_score_function_only(gen):
    eps = torch.randn(300, 100, generator=gen, dtype=D)
    f, _ = nb05.objective("(z − t)²", eps)
    plain, shifted = nb05.score_function_grad(f, eps, 0.0, 1.0)[0], nb05.score_function_grad(f + 10, eps, 0.0, 1.0)[0]
    assert shifted.std() > 2 * plain.std()
    assert abs(shifted.mean() - plain.mean()) < 4 * shifted.std() / math.sqrt(300)


def test_summary_shapes_samples_and_estimators(gen):
    eps = torch.linspace(-2, 2, 12, dtype=D).reshape(3, 4)
    s = nb05.summarize_gradients("|z − t|", 0.5, 2.0, eps)
    assert torch.equal(s.z, 0.5 + 2.0 * eps) and s.pathwise.shape == (3, 2) and s.score.shape == (3, 2)
    eps = torch.randn(5, 50, generator=gen, dtype=D)
    for name in NAMES:
        s = nb05.summarize_gradients(name, -0.4, 1.7, eps)
        assert torch.allclose(s.score, torch.stack(nb05.score_function_grad(s.f, s.z, -0.4, 1.7), -1))
        assert torch.allclose(s.pathwise, torch.stack(nb05.pathwise_grad(s.df, eps), -1))
    assert torch.equal(s.mean("score"), s.score.mean(0)) and s.exact.shape == (2,)


def test_central_difference_matches_autograd_and_restores_the_parameter():
    w = torch.tensor([0.3, -1.2, 2.0], dtype=D, requires_grad=True)
    loss = lambda: (torch.sin(w) * w**2).sum()
    auto = torch.autograd.grad(loss(), w)[0]
    before = w.detach().clone()
    assert torch.allclose(nb05.central_difference(loss, w), auto, atol=1e-8)
    assert torch.equal(w.detach(), before)


def test_reparameterize_reference_has_the_stated_gradients(gen):
    mu, log_var = torch.randn(4, 3, generator=gen, dtype=D, requires_grad=True), torch.randn(4, 3, generator=gen, dtype=D)
    log_var.requires_grad_()
    eps = torch.randn(6, 4, 3, generator=gen, dtype=D)
    z = probability.reparameterize(mu, log_var, eps)
    d_mu, d_lv = torch.autograd.grad(z.sum(), [mu, log_var])
    assert torch.allclose(d_mu, torch.full_like(mu, 6.0))
    assert torch.allclose(d_lv, (0.5 * torch.exp(0.5 * log_var) * eps).sum(0))


def test_bad_inputs_get_clear_errors():
    eps = torch.zeros(2, 3, dtype=D)
    with pytest.raises(ValueError, match="objective must be one of"):
        nb05.exact_grad("cubic", 0.0, 1.0)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        nb05.summarize_gradients("(z − t)²", 0.0, 0.0, eps)
    with pytest.raises(ValueError, match=r"shape \(R batches, N samples\)"):
        nb05.summarize_gradients("(z − t)²", 0.0, 1.0, eps[0])
    with pytest.raises(ValueError, match="same shape"):
        nb05.score_function_grad(eps, eps[:, :2], 0.0, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        nb05.pathwise_grad(eps, eps.T)
    with pytest.raises(TypeError, match="torch.Tensor"):
        nb05.pathwise_grad([1.0], [1.0])
    with pytest.raises(ValueError, match="whole number"):
        nb05.variance_table("(z − t)²", 0.0, 1.0, [1], 10, torch.Generator())
    with pytest.raises(TypeError, match="torch.Tensor"):
        nb05.central_difference(lambda: torch.zeros(()), 1.0)


# ---------------------------------------------------------------- the VAE trained with each estimator

def _tiny_vae():
    torch.manual_seed(3)
    from vae_course.models import VAE
    return VAE(latent_dim=2, hidden=4).double()


def test_estimator_loss_has_the_value_of_the_elbo_for_both_estimators():
    from vae_course import data
    model, x = _tiny_vae(), data.load_digits("train").x[:16].double()
    elbo = model.elbo_terms(x, generator=torch.Generator().manual_seed(4))["elbo"].mean()
    for estimator in nb05.ESTIMATORS:
        got = nb05.estimator_loss(model, x, estimator, torch.Generator().manual_seed(4))
        assert torch.allclose(got, -elbo), estimator


@pytest.mark.parametrize("baseline", [0.0, "mean"])
def test_the_score_function_surrogate_is_unbiased_and_noisier_than_the_pathwise_gradient(baseline):
    """The encoder gradients of the surrogate average (over many eps) to the pathwise one, by Monte Carlo,
    with or without a constant baseline; its decoder gradient is the pathwise one's at the same eps."""
    from vae_course import data
    model = _tiny_vae()
    x = data.load_digits("train").x[:2].double().repeat(10_000, 1)  # 20,000 draws of eps per gradient
    if baseline == "mean":  # a constant near log p(x|z): same expectation, far less noise, so the test has power
        baseline = model.elbo_terms(x[:2000], generator=torch.Generator().manual_seed(9))["log_lik"].mean().item()
    g = {}
    for e in nb05.ESTIMATORS:
        gen, params = torch.Generator().manual_seed(5), list(model.encoder.parameters())
        g[e] = torch.stack([torch.cat([p.reshape(-1) for p in torch.autograd.grad(
            nb05.estimator_loss(model, x, e, gen, baseline=baseline), params)]) for _ in range(8)])
    path, score = g["pathwise"].mean(0), g["score function"]
    se = score.std(0) / math.sqrt(len(score))
    live = se > 0  # weights of pixels that are 0 in both digits get no gradient from either estimator
    assert torch.equal(path[~live], torch.zeros_like(path[~live])) and live.sum() > 50
    z = (score.mean(0) - path)[live] / se[live]
    assert z.abs().max() < 5.5, z.abs().max()
    if baseline:
        assert ((path[live].abs() / se[live]) > 8).sum() >= 5  # a wrong gradient would be seen: entries far from 0
    assert g["score function"].var(0).sum() > 10 * g["pathwise"].var(0).sum()
    decoder = {}
    for e in nb05.ESTIMATORS:
        loss = nb05.estimator_loss(model, x[:50], e, torch.Generator().manual_seed(6))
        decoder[e] = torch.autograd.grad(loss, list(model.decoder.parameters()))
    assert all(torch.allclose(a, b) for a, b in zip(*decoder.values()))


def test_encoder_gradients_are_the_gradients_of_estimator_loss():
    from vae_course import data
    model, x = _tiny_vae(), data.load_digits("train").x[:10].double()
    rows = nb05.encoder_gradients(model, x, "pathwise", draws=2, generator=torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(1)
    nb05.estimator_loss(model, x, "pathwise", gen).backward()
    first = torch.cat([p.grad.reshape(-1) for p in model.encoder.parameters()])
    assert torch.allclose(rows[0], first) and not torch.allclose(rows[0], rows[1])


def test_estimator_functions_refuse_bad_input():
    model = _tiny_vae()
    x = torch.zeros(3, 64, dtype=torch.float64)
    with pytest.raises(ValueError, match="estimator"):
        nb05.estimator_loss(model, x, "reinforce")
    with pytest.raises(ValueError, match="draws"):
        nb05.encoder_gradients(model, x, "pathwise", draws=1, generator=torch.Generator())
    with pytest.raises(ValueError, match="epochs"):
        nb05.train_with_estimator("pathwise", x, x, epochs=0)


def test_training_runs_differ_only_in_the_estimator():
    from vae_course import data
    x, xv = data.load_digits("train").x[:200], data.load_digits("val").x[:50]
    a, b = (nb05.train_with_estimator(e, x, xv, epochs=2, seed=1) for e in nb05.ESTIMATORS)
    assert a.val_loss[0] == b.val_loss[0] and a.val_kl[0] == b.val_kl[0]  # same initial weights and eps
    assert a.val_loss.shape == (3,) and a.train_loss.shape == (2,) and not torch.equal(a.val_loss, b.val_loss)
    again = nb05.train_with_estimator("pathwise", x, xv, epochs=2, seed=1)
    assert torch.equal(again.val_loss, a.val_loss)


# ---------------------------------------------------------------- the leave-one-out baseline (Exercise 5.3)

def test_the_leave_one_out_estimate_matches_a_loop_over_samples():
    g = torch.Generator().manual_seed(3)
    z = 0.4 + 1.3 * torch.randn(3, 6, generator=g, dtype=D)
    f = torch.sin(2 * z) + z**2
    mu, sigma = 0.4, 1.3
    want = torch.zeros(2, 3, dtype=D)
    for r in range(3):
        for i in range(6):
            b = sum(f[r, j] for j in range(6) if j != i) / 5
            zi = z[r, i]
            score = torch.autograd.functional.jacobian(lambda m, s, zi=zi: _normal(m, s).log_prob(zi),
                                                       (torch.tensor(mu, dtype=D), torch.tensor(sigma, dtype=D)))
            want[:, r] += (f[r, i] - b) * torch.stack(score) / 6
    got = nb05.score_function_grad_loo(f, z, mu, sigma)
    assert torch.allclose(torch.stack(got), want)


def test_the_leave_one_out_estimate_is_unbiased_and_ignores_a_shift():
    g = torch.Generator().manual_seed(4)
    mu, sigma = -0.5, 0.8
    z = mu + sigma * torch.randn(20_000, 10, generator=g, dtype=D)
    f = (z - 1.0) ** 2
    est = torch.stack(nb05.score_function_grad_loo(f, z, mu, sigma), -1)  # (20000, 2)
    se = est.std(0) / math.sqrt(len(est))
    assert ((est.mean(0) - nb05.exact_grad("(z − t)²", mu, sigma)).abs() < 4 * se).all()
    shifted = torch.stack(nb05.score_function_grad_loo(f + 50.0, z, mu, sigma), -1)
    assert torch.allclose(shifted, est, atol=1e-9)
    # with the sample's own f in its baseline the estimate shrinks by (n − 1)/n: biased
    own = torch.stack(nb05.score_function_grad((f - f.mean(-1, keepdim=True)), z, mu, sigma), -1)
    assert torch.allclose(own, est * 9 / 10)


def test_the_leave_one_out_estimate_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 samples"):
        nb05.score_function_grad_loo(torch.ones(4, 1), torch.ones(4, 1), 0.0, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        nb05.score_function_grad_loo(torch.ones(4, 3), torch.ones(4, 2), 0.0, 1.0)
    with pytest.raises(ValueError):
        nb05.score_function_grad_loo(torch.ones(4, 3), torch.ones(4, 3), 0.0, -1.0)


def _recon_loss(model, x, eps):
    """The batch mean of −log p(x|z) with z = mu + sigma·eps, written out from the encoder's outputs."""
    mu, log_var = model.encode(x)
    z = mu + torch.exp(0.5 * log_var) * eps
    return -model.log_likelihood(x, model.decode(z)).mean()


def test_the_chain_rule_into_the_encoder_is_autograd_and_finite_differences_on_a_tiny_encoder():
    """d loss/d phi = Σ d loss/d z · (1 · dmu/d phi + eps · dsigma/d phi), the formula the notebook states."""
    from vae_course import data
    torch.manual_seed(3)
    model = _tiny_vae()
    x = data.load_digits("train").x[:4].double()
    eps = torch.randn(4, 2, generator=torch.Generator().manual_seed(2), dtype=D)
    with torch.no_grad():
        mu, log_var = model.encode(x)
    z = (mu + torch.exp(0.5 * log_var) * eps).requires_grad_()
    (dloss_dz,) = torch.autograd.grad(-model.log_likelihood(x, model.decode(z)).mean(), z)
    dmu, dsigma = nb05.encoder_jacobians(model, x)
    params = list(model.encoder.parameters())
    assert dmu.shape == dsigma.shape == (4, 2, sum(p.numel() for p in params))
    chain = nb05.chain_rule_grad(dloss_dz, dmu, dsigma, eps)
    autograd = torch.cat([g.reshape(-1) for g in torch.autograd.grad(_recon_loss(model, x, eps), params)])
    assert torch.allclose(chain, autograd, rtol=1e-10, atol=1e-12)
    # and, independently of autograd's backward pass, central differences on the last layer's bias
    bias = model.encoder[-1].bias
    finite = nb05.central_difference(lambda: _recon_loss(model, x, eps), bias)
    assert torch.allclose(chain[-bias.numel():], finite, atol=1e-6, rtol=0)
    # the Jacobians themselves: dmu_bj/d bias_k = 1[k = j], dsigma_bj/d bias_{L+k} = ½ sigma_bj 1[k = j]
    sigma = torch.exp(0.5 * log_var)
    assert torch.allclose(dmu[..., -4:], torch.eye(2, 4, dtype=D).expand(4, 2, 4))
    assert torch.allclose(dsigma[..., -2:], 0.5 * sigma[..., None] * torch.eye(2, dtype=D))
    # the test can fail: dz/dsigma = 1 instead of eps, or the sigma path left out, gives another gradient
    assert not torch.allclose(nb05.chain_rule_grad(dloss_dz, dmu, dsigma, torch.ones_like(eps)), autograd, atol=1e-6)
    assert not torch.allclose(nb05.chain_rule_grad(dloss_dz, dmu, 0 * dsigma, eps), autograd, atol=1e-6)


def test_the_chain_rule_refuses_mismatched_shapes():
    j = torch.zeros(3, 2, 5, dtype=D)
    with pytest.raises(ValueError, match=r"dloss_dz and eps must both have shape \(B, L\)"):
        nb05.chain_rule_grad(torch.zeros(3, 2, dtype=D), j, j, torch.zeros(3, dtype=D))
    with pytest.raises(ValueError, match=r"dmu_dphi and dsigma_dphi must both have shape \(B, L, P\)"):
        nb05.chain_rule_grad(torch.zeros(3, 2, dtype=D), j, torch.zeros(3, 2, 4, dtype=D), torch.zeros(3, 2, dtype=D))
    with pytest.raises(TypeError):
        nb05.chain_rule_grad([[0.0]], j, j, torch.zeros(3, 2, dtype=D))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mu, sigma", SETTINGS)
def test_expected_value_is_quadrature_and_its_slope_is_the_exact_gradient(name, mu, sigma):
    """E[f] against the trapezoid rule written here, and its autograd derivatives against exact_grad."""
    u = torch.linspace(-12, 12, 200_001, dtype=D)
    phi = torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
    quad = torch.trapezoid(nb05.objective(name, mu + sigma * u)[0] * phi, u)
    got = nb05.expected_value(name, mu, sigma)
    assert got.shape == () and got.dtype == D
    assert abs(got - quad) < 5e-5  # the step's jump costs the trapezoid rule up to half a cell: about 2e-5
    assert torch.allclose(got, _expectation(name, torch.tensor(mu, dtype=D), torch.tensor(sigma, dtype=D)), atol=1e-12)
    m = torch.tensor(mu, dtype=D, requires_grad=True)
    (slope,) = torch.autograd.grad(nb05.expected_value(name, m, sigma), [m])
    assert torch.allclose(slope, nb05.exact_grad(name, mu, sigma)[0], atol=1e-12)


def test_expected_value_on_a_grid_of_means_matches_monte_carlo(gen):
    eps = torch.randn(200_000, generator=gen, dtype=D)
    grid = torch.tensor([-2.0, 0.0, 1.0, 2.5], dtype=D)
    for name in NAMES:
        curve = nb05.expected_value(name, grid, 1.3)
        assert curve.shape == grid.shape
        f = nb05.objective(name, grid[:, None] + 1.3 * eps)[0]
        se = f.std(-1) / math.sqrt(len(eps))
        assert ((curve - f.mean(-1)).abs() < 4 * se + 1e-12).all(), name
    with pytest.raises(ValueError, match="sigma must be > 0"):
        nb05.expected_value("(z − t)²", 0.0, 0.0)
    with pytest.raises(TypeError, match="mu must be"):
        nb05.expected_value("(z − t)²", [0.0, 1.0], 1.0)
    with pytest.raises(ValueError, match="objective must be one of"):
        nb05.expected_value("cubic", 0.0, 1.0)
