"""Free bits (notebook 07's remedy for posterior collapse) against independent computations: the charged KL
against torch.distributions per dimension, its gradient against autograd of the unclamped KL (zero below λ),
and training.train(free_bits=λ) against one Adam step on that loss written out by hand."""

import copy

import pytest
import torch

from vae_course import data, models, probability, training

D = torch.distributions


def _codes(seed, b=9, dim=5):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(b, dim, generator=g, dtype=torch.float64) * torch.linspace(0.02, 2.0, dim, dtype=torch.float64)
    log_var = torch.randn(b, dim, generator=g, dtype=torch.float64) * 0.1 - torch.linspace(0.0, 2.0, dim,
                                                                                           dtype=torch.float64)
    return mu.requires_grad_(), log_var.requires_grad_()


def _kl_per_dim(mu, log_var):
    """Batch-mean KL(q(z_j|x) ‖ N(0, 1)) of each dimension j, by torch.distributions: (L,)."""
    q = D.Normal(mu, torch.exp(0.5 * log_var))
    return D.kl_divergence(q, D.Normal(torch.zeros_like(mu), torch.ones_like(mu))).mean(0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lam", [0.0, 0.05, 0.5, 3.0])
def test_free_bits_kl_is_each_dimensions_mean_kl_clamped_below_at_lambda(seed, lam):
    mu, log_var = _codes(seed)
    per_dim = _kl_per_dim(mu, log_var)
    want = sum(max(lam, k) for k in per_dim.tolist())
    got = training.free_bits_kl(mu, log_var, lam)
    assert got.shape == () and abs(got.item() - want) < 1e-12
    if lam == 0.0:
        assert torch.allclose(got, probability.gaussian_kl(mu, log_var).mean(), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_free_bits_gradient_is_zero_below_lambda_and_the_kls_gradient_above(seed):
    mu, log_var = _codes(seed)
    per_dim = _kl_per_dim(mu, log_var)
    lam = per_dim.median().item() + 1e-3  # some dimensions below λ, some above
    below = per_dim < lam
    assert below.any() and (~below).any()
    g_mu, g_lv = torch.autograd.grad(training.free_bits_kl(mu, log_var, lam), (mu, log_var))
    # above λ: the gradient of that dimension's mean KL itself (autograd of the torch.distributions KL)
    w_mu, w_lv = torch.autograd.grad(per_dim[~below].sum(), (mu, log_var))
    assert torch.all(g_mu[:, below] == 0) and torch.all(g_lv[:, below] == 0)
    assert torch.allclose(g_mu, w_mu, atol=1e-12) and torch.allclose(g_lv, w_lv, atol=1e-12)
    assert (g_mu[:, ~below].abs().sum() > 0) and (g_lv[:, ~below].abs().sum() > 0)


def test_free_bits_kl_refuses_bad_input():
    mu, log_var = _codes(0)
    with pytest.raises(ValueError, match="free_bits must be ≥ 0"):
        training.free_bits_kl(mu, log_var, -0.1)
    with pytest.raises(ValueError, match="shape"):
        training.free_bits_kl(mu[0], log_var[0], 0.5)
    with pytest.raises(TypeError):
        training.free_bits_kl(mu, log_var, "half")


def _one_step_by_hand(model, x, lam, lr, seed):
    """The one Adam step train(epochs=1, batch_size=len(x)) takes, on −E log p(x|z) + free_bits_kl."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=g)
    model.train()
    t = model.elbo_terms(x[perm], generator=g)
    loss = -t["log_lik"].mean() + training.free_bits_kl(t["mu"], t["log_var"], lam)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return model


@pytest.mark.parametrize("lam", [0.0, 0.3, 50.0])
def test_train_with_free_bits_takes_the_step_of_the_free_bits_loss(lam):
    x = data.load_digits("train").x[:64]
    torch.manual_seed(0)
    start = models.VAE(3, 16)
    trained, by_hand, plain = copy.deepcopy(start), copy.deepcopy(start), copy.deepcopy(start)
    training.train(trained, x, x[:16], epochs=1, batch_size=len(x), lr=1e-2, free_bits=lam, progress=False,
                   generator=torch.Generator().manual_seed(4))
    _one_step_by_hand(by_hand, x, lam, 1e-2, seed=4)
    training.train(plain, x, x[:16], epochs=1, batch_size=len(x), lr=1e-2, progress=False,
                   generator=torch.Generator().manual_seed(4))
    for name, p in trained.state_dict().items():
        assert torch.allclose(p, by_hand.state_dict()[name], atol=1e-6), name
    same_as_plain = all(torch.equal(p, plain.state_dict()[n]) for n, p in trained.state_dict().items())
    # λ = 50 nats per dimension: no KL gradient at all, so the step differs from the ELBO's
    assert same_as_plain == (lam == 0.0)


def test_train_free_bits_refuses_what_it_cannot_do():
    x = data.load_digits("train").x[:40]
    with pytest.raises(ValueError, match="free_bits must be ≥ 0"):
        training.train(models.VAE(2, 8), x, x, epochs=1, free_bits=-1.0, progress=False)
    with pytest.raises(ValueError, match="iw_samples = 1"):
        training.train(models.VAE(2, 8), x, x, epochs=1, free_bits=0.5, iw_samples=2, progress=False)
    mixture = probability.GaussianMixture(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="N\\(0, I\\) prior"):
        training.train(models.VAE(2, 8, prior=mixture), x, x, epochs=1, free_bits=0.5, progress=False)


def test_plot_kl_by_dimension_draws_every_dimension_the_total_and_the_floor():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from vae_course import nb07

    kl = {"a": [[1.0, 0.5], [0.4, 0.2], [0.1, 0.05]], "b": [[1.0, 1.2], [1.0, 1.1], [0.9, 1.0]]}
    fig = nb07.plot_kl_by_dimension(kl, floors={"b": 1.0}, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    a, b = fig.axes
    assert len(a.lines) == 3 and len(b.lines) == 4  # 2 dimensions + total, and the floor in "b" only
    assert list(a.lines[2].get_ydata()) == [1.5, 0.6000000000000001, 0.15000000000000002]
    assert a.get_ylim()[1] >= 2.2 * 1.1 - 1e-9 and a.get_shared_y_axes().joined(a, b)
    plt.close(fig)
    with pytest.raises(ValueError, match="kl_dims"):
        nb07.plot_kl_by_dimension({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="floors"):
        nb07.plot_kl_by_dimension(kl, floors={"c": 1.0})
