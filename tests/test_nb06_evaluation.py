"""Notebook 06: the bounds and estimators against exact log p(x) by quadrature, baselines, the loss."""

import math

import pytest
import torch
import torch.nn.functional as F

from vae_course import data, models, nb06, probability, training


@pytest.fixture(scope="module")
def small_models():
    """A 1-latent and a 2-latent VAE, briefly trained so that q(z|x) is neither exact nor useless (on one
    torch thread, as every test: tests/conftest.py)."""
    torch.manual_seed(0)
    tr, va = data.load_digits("train"), data.load_digits("val")
    out = {}
    for latent_dim in (1, 2):
        model = models.VAE(latent_dim, 32)
        training.train(model, tr.x, va.x, epochs=8, lr=3e-3, progress=False,
                       generator=torch.Generator().manual_seed(latent_dim))
        out[latent_dim] = model
    return out


@pytest.fixture(scope="module")
def x_test():
    return data.load_digits("test").x[:6]


def test_quadrature_is_exact_on_a_model_with_a_known_marginal():
    # Decoder logits linear in z with one level per pixel active: log p(x) has a closed form
    # for a Bernoulli decoder with one pixel, p(x=1|z) = sigmoid(z), p(z) = N(0,1): ∫ sigmoid(z) φ(z) dz = 1/2.
    model = models.VAE(1, 4, data_dim=1, likelihood="bernoulli")
    with torch.no_grad():
        for layer in model.decoder:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_(), layer.bias.zero_()
        model.decoder[0].weight[0, 0] = 1.0   # h = relu(z) in unit 0, relu(-z) via unit 1
        model.decoder[0].weight[1, 0] = -1.0
        model.decoder[2].weight[0, 0] = model.decoder[2].weight[1, 1] = 1.0
        model.decoder[4].weight[0, 0], model.decoder[4].weight[0, 1] = 1.0, -1.0   # logit = relu(z) − relu(−z) = z
    assert torch.allclose(model.decode(torch.tensor([[0.7], [-1.3]])).squeeze(), torch.tensor([0.7, -1.3]))
    got = nb06.log_marginal_quadrature(model, torch.tensor([[1.0], [0.0]]), n=2001)
    assert torch.allclose(got, torch.full((2,), math.log(0.5), dtype=torch.float64), atol=1e-6)


@pytest.mark.parametrize("latent_dim", [1, 2])
def test_quadrature_matches_monte_carlo_over_the_prior(small_models, x_test, latent_dim):
    """log p(x) = log E_{p(z)} p(x|z): 400,000 prior draws agree with the quadrature (independent check)."""
    model = small_models[latent_dim]
    exact = nb06.log_marginal_quadrature(model, x_test[:3], n=121 if latent_dim == 2 else 1001)
    g = torch.Generator().manual_seed(5)
    levels, chunks = torch.round(x_test[:3] * 16).long(), []
    for _ in range(10):  # 10 × 20,000 prior draws
        with torch.no_grad():
            log_p = torch.log_softmax(model.decode(torch.randn(20_000, latent_dim, generator=g)).double(), -1)
        chunks.append(torch.stack([log_p[:, torch.arange(64), lv].sum(-1) for lv in levels], dim=1))
    mc = torch.logsumexp(torch.cat(chunks), 0) - math.log(200_000)
    assert torch.allclose(mc, exact, atol=0.05)


@pytest.mark.parametrize("latent_dim", [1, 2])
def test_elbo_is_below_log_p_and_the_iw_bound_rises_toward_it(small_models, x_test, latent_dim):
    model = small_models[latent_dim]
    exact = nb06.log_marginal_quadrature(model, x_test, n=121 if latent_dim == 2 else 1001)
    log_w = models.log_weights(model, x_test, 5000, generator=torch.Generator().manual_seed(3)).double()
    elbo = log_w.mean(0)                   # E_q log w = ELBO, estimated with 5,000 draws
    assert (elbo < exact).all()            # ELBO ≤ log p(x): the gap is KL(q(z|x) ‖ p(z|x)) > 0
    # E[L_K] for K = 1, 10, 100: the package's bound on disjoint groups of K draws, averaged over the groups,
    # and the same by hand (logsumexp over each group − log K)
    def groups(k):  # (k, G·N): the k draws of each of G groups, for every digit
        return log_w[:(5000 // k) * k].reshape(-1, k, len(x_test)).transpose(0, 1).reshape(k, -1)

    means = [models.iw_bound(groups(k)).reshape(-1, len(x_test)).mean(0) for k in (1, 10, 100)]
    for k, got in zip((1, 10, 100), means):
        by_hand = (torch.logsumexp(groups(k), 0) - math.log(k)).reshape(-1, len(x_test)).mean(0)
        assert torch.allclose(got, by_hand), k
    assert torch.allclose(means[0], elbo)  # L_1 is the one-sample ELBO: its mean over draws is the mean log w
    assert (means[0] < means[1]).all() and (means[1] < means[2]).all()
    assert (means[2] < exact + 0.02).all()
    assert torch.allclose(models.iw_bound(log_w), exact, atol=0.05)  # K = 5000 is nearly exact here


def test_elbo_gap_is_the_kl_to_the_true_posterior(small_models, x_test):
    """log p(x) − ELBO = KL(q(z|x) ‖ p(z|x)), with p(z|x) ∝ p(x|z)p(z) normalised on the quadrature grid."""
    model = small_models[1]
    x = x_test[:2]
    exact = nb06.log_marginal_quadrature(model, x, n=1601, extent=8.0)
    z = torch.linspace(-8, 8, 1601, dtype=torch.float64)[:, None]
    dz = 16 / 1600
    with torch.no_grad():
        mu, log_var = model.encode(x)
        log_p = torch.log_softmax(model.decode(z.float()).double(), -1)
    for i, lv in enumerate(torch.round(x * 16).long()):
        log_joint = log_p[:, torch.arange(64), lv].sum(-1) + torch.distributions.Normal(0., 1.).log_prob(z[:, 0]).double()
        log_post = log_joint - exact[i]
        log_q = probability.diag_gaussian_log_prob(z, mu[i].double(), log_var[i].double())
        q = log_q.exp()
        kl_post = ((log_q - log_post) * q).sum() * dz
        elbo = ((log_joint - log_q) * q).sum() * dz   # E_q[log p(x, z) − log q(z|x)] on the grid
        assert float(exact[i] - elbo) == pytest.approx(float(kl_post), abs=1e-6)
        assert kl_post > 0
        # and the usual form: E_q log p(x|z) − KL(q ‖ p(z))
        rec = ((log_joint - torch.distributions.Normal(0., 1.).log_prob(z[:, 0]).double()) * q).sum() * dz
        kl_prior = probability.gaussian_kl(mu[i:i + 1].double(), log_var[i:i + 1].double())[0]
        assert float(elbo) == pytest.approx(float(rec - kl_prior), abs=1e-4)


def test_log_weights_match_torch_distributions(small_models, x_test):
    model = small_models[2]
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    log_w = models.log_weights(model, x_test, 4, generator=g1, batch_size=4)
    with torch.no_grad():
        mu, log_var = model.encode(x_test)
        # the same draws: batch 1 is examples 0..3, batch 2 is 4..5
        eps = torch.cat([torch.randn(4, 4, 2, generator=g2), torch.randn(4, 2, 2, generator=g2)], dim=1)
        z = mu + torch.exp(0.5 * log_var) * eps
        q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)
        p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
        lik = torch.distributions.Categorical(logits=model.decode(z)).log_prob(torch.round(x_test * 16).long()).sum(-1)
    assert torch.allclose(log_w, lik + p - q, atol=1e-4)


def test_importance_sampled_nll_is_nested_and_decreasing(small_models, x_test):
    est = nb06.importance_sampled_nll(small_models[2], x_test, ks=(1, 10, 100, 1000),
                                    generator=torch.Generator().manual_seed(0))
    assert list(est) == [1, 10, 100, 1000]
    assert est[1] > est[10] > est[100] > est[1000]
    log_w = models.log_weights(small_models[2], x_test, 1000, generator=torch.Generator().manual_seed(0), batch_size=2)
    assert est[1] == pytest.approx(-log_w.double().mean().item(), rel=1e-9)          # K = 1: −ELBO
    assert est[1000] == pytest.approx(-models.iw_bound(log_w.double()).mean().item(), rel=1e-9)


def test_baselines_against_direct_formulas():
    tr, te = data.load_digits("train"), data.load_digits("test")
    assert nb06.uniform_nll(te.levels).mean().item() == pytest.approx(64 * math.log(17))
    probs = nb06.fit_pixel_categoricals(tr.levels, alpha=1.0)
    assert torch.allclose(probs.sum(-1), torch.ones(64, dtype=torch.float64))
    counts = torch.stack([torch.bincount(tr.levels[:, j], minlength=17) for j in range(64)]).double() + 1
    assert torch.allclose(probs, counts / counts.sum(-1, keepdim=True))
    nll = nb06.pixel_categorical_nll(te.levels, probs)
    ref = -torch.distributions.Categorical(probs=probs).log_prob(te.levels).sum(-1)
    assert torch.allclose(nll, ref)
    assert 105 < nll.mean().item() < 108   # about 106 nats, the figure


def test_vae_loss_matches_model_terms():
    torch.manual_seed(1)
    model = models.VAE(3, 16)
    x = data.load_digits("val").x[:7]
    g = torch.Generator().manual_seed(0)
    t = model.elbo_terms(x, generator=g)
    levels = torch.round(x * 16).long()
    assert torch.allclose(training.vae_loss(t["logits"], levels, t["mu"], t["log_var"]), -t["elbo"].mean())
    manual = (F.cross_entropy(t["logits"].transpose(1, 2), levels, reduction="none").sum(-1)
              + torch.distributions.kl_divergence(
                  torch.distributions.Normal(t["mu"], torch.exp(0.5 * t["log_var"])),
                  torch.distributions.Normal(0.0, 1.0)).sum(-1)).mean()
    assert torch.allclose(training.vae_loss(t["logits"], levels, t["mu"], t["log_var"]), manual, atol=1e-4)


def test_latent_grid_codes_layout():
    z = nb06.latent_grid_codes(3, 2.0)
    assert z.tolist()[:3] == [[-2.0, 2.0], [0.0, 2.0], [2.0, 2.0]]
    assert z.tolist()[-1] == [2.0, -2.0]


@pytest.mark.parametrize("call, err", [
    (lambda: nb06.uniform_nll(torch.zeros(2, 64)), TypeError),
    (lambda: nb06.uniform_nll(torch.full((2, 64), 17)), ValueError),
    (lambda: models.iw_bound(torch.zeros(3)), ValueError),
    (lambda: nb06.importance_sampled_nll(models.VAE(2, 8), torch.zeros(2, 64), ks=(0,)), ValueError),
    (lambda: nb06.log_marginal_quadrature(models.VAE(3, 8), torch.zeros(2, 64)), ValueError),
    (lambda: nb06.pixel_categorical_nll(torch.zeros(2, 64, dtype=torch.long), torch.ones(63, 17) / 17), ValueError),
    (lambda: training.vae_loss(torch.zeros(2, 64, 17), torch.zeros(2, 64), torch.zeros(2, 2), torch.zeros(2, 2)), TypeError),
    (lambda: nb06.latent_grid_codes(1, 2.0), ValueError),
])
def test_bad_input_is_explained(call, err):
    with pytest.raises(err):
        call()
