"""The autoregressive decoders of notebook 07 (vae_course/autoregressive.py): their masks by autograd,
log p(x|z) normalised by enumeration, sampling against log-probabilities by Monte Carlo, the importance-
sampled −log p(x) against the exact value, the VAE built on them, and clear messages for bad input."""

import itertools
import math

import pytest
import torch

from vae_course import autoregressive as ar
from vae_course import models, probability, training


def _levels_grid(data_dim: int, n_levels: int) -> torch.Tensor:
    """Every image of data_dim pixels with n_levels grey levels, as x in [0, 1]: (n_levels**data_dim, data_dim)."""
    grid = torch.tensor(list(itertools.product(range(n_levels), repeat=data_dim)), dtype=torch.float32)
    return grid / (n_levels - 1)


def _jacobian(decoder, x, z):
    """d logits[:, j, c] summed over c / d x_i for one example: (D outputs, D inputs)."""
    return torch.autograd.functional.jacobian(lambda xx: decoder.logits(xx, z).sum(-1), x)[0, :, 0, :]


def _random_x(data_dim, n_levels, gen, b=1):
    return torch.randint(0, n_levels, (b, data_dim), generator=gen).float() / (n_levels - 1)


def _randomize(module, gen, scale=0.5):
    """Non-zero weights everywhere (the position biases start at 0), so 'no gradient' means 'masked'."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen))
    return module


DECODERS = {
    "mlp": lambda L: ar.MaskedMLPDecoder(L, hidden=(96, 96)),
    "conv": lambda L: ar.MaskedConvDecoder(L, channels=6),
    "conv 3x3": lambda L: ar.MaskedConvDecoder(L, channels=6, n_layers=4, kernel_size=3, first_kernel=3),
    "conv, z per channel": lambda L: ar.MaskedConvDecoder(L, channels=6, z_bias="channel"),
    "conv, residual": lambda L: ar.MaskedConvDecoder(L, channels=6, n_layers=3, kernel_size=3, residual=True),
    "conv, gated": lambda L: ar.MaskedConvDecoder(L, channels=6, n_layers=3, kernel_size=3, first_kernel=5,
                                                  gated=True),
    "conv, 3x3 then 1x1, z through a hidden layer": lambda L: ar.MaskedConvDecoder(
        L, channels=6, n_layers=4, kernel_size=(3, 1, 1), first_kernel=3, gated=True, z_hidden=8),
}


# --- masks -----------------------------------------------------------------------------------------------

def test_raster_masks_are_the_raster_order():
    a, b = ar.raster_mask(3, "A"), ar.raster_mask(3, "B")
    assert torch.equal(a, torch.tensor([[1.0, 1, 1], [1, 0, 0], [0, 0, 0]]))
    assert torch.equal(b, torch.tensor([[1.0, 1, 1], [1, 1, 0], [0, 0, 0]]))
    # for any size: a kernel tap (r, c) is on iff its raster index is before the centre's (A) or not after (B)
    for k in (1, 5, 7):
        c = k // 2
        idx = torch.arange(k * k).reshape(k, k)
        assert torch.equal(ar.raster_mask(k, "A"), (idx < c * k + c).float())
        assert torch.equal(ar.raster_mask(k, "B"), (idx <= c * k + c).float())


def test_made_masks_give_exactly_the_earlier_inputs():
    d, hidden = 6, (10, 7)
    deg = ar.made_degrees(d, hidden, n_out=2)
    masks = [ar.made_mask(deg[i], deg[i + 1], strict=(i == len(hidden))) for i in range(len(hidden) + 1)]
    path = masks[2] @ masks[1] @ masks[0]  # (D·2, D): number of paths from input i to output (j, c)
    reach = (path > 0).float().reshape(d, 2, d)
    assert torch.equal(reach[:, 0], torch.ones(d, d).tril(-1)) and torch.equal(reach[:, 1], reach[:, 0])
    assert all((1 <= g).all() and (g <= d - 1).all() for g in deg[1:-1])  # no hidden unit is dead


@pytest.mark.parametrize("name", DECODERS)
def test_pixel_j_depends_only_on_earlier_pixels_by_autograd(name, gen):
    decoder = _randomize(DECODERS[name](3), gen)
    x = _random_x(64, 17, gen)
    z = torch.randn(1, 3, generator=gen)
    reach = _jacobian(decoder, x, z).abs() > 0  # reach[j, i]: output j moves with input i
    assert not reach.triu().any(), f"pixel j sees x_i for i ≥ j at {reach.triu().nonzero()[:5].tolist()}"
    assert reach.tril(-1).any()
    assert reach[1, 0] and reach[63, 62] and reach[8, 0] and reach[9, 0]  # left neighbour, row above
    if name in ("mlp", "conv"):  # big enough to see every earlier pixel (no blind spot)
        assert reach[torch.ones(64, 64, dtype=torch.bool).tril(-1)].all()


@pytest.mark.parametrize("name", DECODERS)
def test_z_reaches_every_pixel_and_the_first_pixel_depends_on_z_only(name, gen):
    decoder = _randomize(DECODERS[name](3), gen)
    x = _random_x(64, 17, gen)
    z = torch.randn(1, 3, generator=gen)
    dz = torch.autograd.functional.jacobian(lambda zz: decoder.logits(x, zz).sum(-1), z)[0, :, 0, :]
    assert (dz.abs().sum(-1) > 0).all()


def test_a_3x3_first_layer_then_1x1_layers_sees_exactly_the_four_causal_neighbours(gen):
    """kernel_size per layer: 1×1 type-B layers widen nothing, so pixel (r, c) sees (r−1, c−1..c+1) and (r, c−1)."""
    decoder = _randomize(ar.MaskedConvDecoder(2, channels=5, n_layers=3, kernel_size=[1, 1], first_kernel=3,
                                              gated=True), gen)  # gated: no unit is dead at this x
    assert [conv.kernel_size for conv in decoder.convs] == [(3, 3), (1, 1), (1, 1)]
    reach = _jacobian(decoder, _random_x(64, 17, gen), torch.randn(1, 2, generator=gen)).abs() > 0
    expected = torch.zeros(64, 64, dtype=torch.bool)
    for r, c in itertools.product(range(8), range(8)):
        for dr, dc in ((-1, -1), (-1, 0), (-1, 1), (0, -1)):
            if 0 <= r + dr < 8 and 0 <= c + dc < 8:
                expected[8 * r + c, 8 * (r + dr) + c + dc] = True
    assert torch.equal(reach, expected)
    # one size for all and the same size per layer build the same network
    one, each = (ar.MaskedConvDecoder(2, channels=5, n_layers=3, kernel_size=k, first_kernel=3) for k in (3, (3, 3)))
    assert [c.kernel_size for c in one.convs] == [c.kernel_size for c in each.convs] == [(3, 3)] * 3


def test_z_hidden_makes_every_bias_linear_in_one_shared_relu_layer_of_z(gen):
    """z_hidden = H: the decoder equals the linear-z decoder of latent_dim H fed u = relu(W z + c)."""
    hidden = _randomize(ar.MaskedConvDecoder(3, channels=4, n_layers=3, kernel_size=3, first_kernel=3, gated=True,
                                             z_hidden=7), gen)
    linear = ar.MaskedConvDecoder(7, channels=4, n_layers=3, kernel_size=3, first_kernel=3, gated=True)
    state = {k: p for k, p in hidden.state_dict().items() if not k.startswith("z_net")}
    linear.load_state_dict(state)  # same keys and shapes: only z_net is extra
    x, z = _random_x(64, 17, gen, b=4), torch.randn(4, 3, generator=gen)
    w, c = hidden.z_net[0].weight, hidden.z_net[0].bias
    u = torch.relu(z @ w.T + c)
    assert u.min() == 0 and u.max() > 0  # the relu acts
    torch.testing.assert_close(hidden.logits(x, z), linear.logits(x, u))
    assert not torch.allclose(hidden.logits(x, z), hidden.logits(x, -z))
    assert ar.MaskedConvDecoder(0, z_hidden=7).z_net is None  # no latent: nothing to map


def test_an_off_by_one_mask_is_caught(gen, monkeypatch):
    """Mutation: a type-A mask that lets the centre through (x_j sees itself) fails the autograd test."""
    monkeypatch.setattr(ar, "raster_mask", lambda k, t: _off_by_one(k))
    decoder = _randomize(ar.MaskedConvDecoder(2, channels=4), gen)
    reach = _jacobian(decoder, _random_x(64, 17, gen), torch.randn(1, 2, generator=gen)).abs() > 0
    assert reach.diagonal().any()
    # the MLP's strict output mask made non-strict: pixel j sees x_j
    deg = ar.made_degrees(64, (32,), 17)
    loose = ar.made_mask(deg[1], deg[2], strict=False).reshape(64, 17, 32)[:, 0]
    assert ((loose @ ar.made_mask(deg[0], deg[1], strict=False)) > 0).diagonal().any()


def _off_by_one(k):
    c = k // 2
    m = torch.zeros(k, k)
    m[:c] = 1
    m[c, :c + 1] = 1
    return m


# --- log p(x|z): normalised, sampled from ---------------------------------------------------------------

TINY = {
    "mlp": lambda L: ar.MaskedMLPDecoder(L, hidden=(16, 16), data_dim=4, n_levels=3),
    "conv": lambda L: ar.MaskedConvDecoder(L, channels=4, image_side=2, n_levels=3, kernel_size=3, first_kernel=3),
    "conv, residual": lambda L: ar.MaskedConvDecoder(L, channels=4, image_side=2, n_levels=3, kernel_size=3,
                                                     first_kernel=3, residual=True),
    "conv, gated": lambda L: ar.MaskedConvDecoder(L, channels=4, image_side=2, n_levels=3, kernel_size=3,
                                                  first_kernel=3, gated=True),
    "conv, kernels per layer, z hidden": lambda L: ar.MaskedConvDecoder(
        L, channels=4, image_side=2, n_levels=3, kernel_size=(3, 1), first_kernel=3, gated=True, z_hidden=5),
}


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize("latent_dim", [0, 2])
def test_p_x_given_z_sums_to_one_over_every_image(name, latent_dim, gen):
    decoder = _randomize(TINY[name](latent_dim), gen, scale=1.0).eval()
    x = _levels_grid(4, 3)  # all 3^4 = 81 images
    for _ in range(2):
        z = torch.randn(1, latent_dim, generator=gen).expand(len(x), -1) if latent_dim else None
        total = torch.logsumexp(decoder.log_prob(x, z).double(), 0)
        assert abs(total.item()) < 1e-5, total.item()


@pytest.mark.parametrize("noise", ["generator", "uniforms"])
@pytest.mark.parametrize("name", TINY)
def test_sampling_matches_the_log_probabilities(name, noise, gen):
    decoder = _randomize(TINY[name](2), gen, scale=1.0).eval()
    z1 = torch.randn(1, 2, generator=gen)
    n = 40_000
    if noise == "generator":
        draws = decoder.sample(z1.expand(n, -1), generator=gen)
    else:  # the inverse CDF of uniform pixel noise
        draws = decoder.sample(z1.expand(n, -1), uniforms=torch.rand(n, 4, generator=gen))
    codes = (draws * 2).round().long() @ torch.tensor([27, 9, 3, 1])  # base-3 index of each image
    freq = torch.bincount(codes, minlength=81).double() / n
    p = decoder.log_prob(_levels_grid(4, 3), z1.expand(81, -1)).double().exp()
    # every cell within 5 standard errors, and the total variation distance small
    se = (p * (1 - p) / n).sqrt()
    assert ((freq - p).abs() <= 5 * se + 1e-4).all(), (freq - p).abs().max().item()
    assert 0.5 * (freq - p).abs().sum() < 0.03
    assert set(torch.unique(draws * 2).tolist()) <= {0.0, 1.0, 2.0}


def test_log_prob_is_the_sum_of_the_categorical_conditionals(gen):
    decoder = _randomize(ar.MaskedConvDecoder(2, channels=4), gen).eval()
    x, z = _random_x(64, 17, gen, b=3), torch.randn(3, 2, generator=gen)
    logits = decoder.logits(x, z)
    levels = (x * 16).round().long()
    expected = torch.distributions.Categorical(logits=logits).log_prob(levels).sum(-1)
    assert torch.allclose(decoder.log_prob(x, z), expected, atol=1e-4)


# --- the VAE on top: IS stays exact ----------------------------------------------------------------------

def _digits(gen, n=12):
    return _random_x(64, 17, gen, b=n)


def test_without_a_latent_every_importance_weight_is_the_exact_log_likelihood(gen):
    model = ar.AutoregressiveVAE(_randomize(ar.MaskedConvDecoder(0, channels=4), gen))
    x = _digits(gen)
    exact = ar.exact_log_prob(model, x)
    log_w = models.log_weights(model, x, 50, generator=gen)
    assert log_w.shape == (50, len(x))
    assert torch.allclose(models.iw_bound(log_w), exact, atol=1e-4)
    assert torch.allclose(log_w, exact.expand(50, -1), atol=1e-4)
    t = model.elbo_terms(x, generator=gen)
    assert torch.allclose(t["elbo"], exact, atol=1e-4) and torch.equal(t["kl"], torch.zeros(len(x)))


def test_the_importance_weights_are_the_textbook_ones(gen):
    """log w = log p(x|z) + log p(z) − log q(z|x), recomputed by hand from the same draws."""
    model = ar.AutoregressiveVAE(_randomize(ar.MaskedMLPDecoder(3, hidden=(32,)), gen), hidden=16).eval()
    x = _digits(gen, 4)
    t = models.iw_terms(model, x, 5, torch.Generator().manual_seed(3))
    mu, log_var = model.encode(x)
    eps = torch.randn((5,) + mu.shape, generator=torch.Generator().manual_seed(3))
    z = mu + torch.exp(0.5 * log_var) * eps
    q = torch.distributions.Independent(torch.distributions.Normal(mu, torch.exp(0.5 * log_var)), 1)
    prior = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(3), torch.ones(3)), 1)
    by_hand = torch.stack([model.decoder.log_prob(x, zk) for zk in z]) + prior.log_prob(z) - q.log_prob(z)
    assert torch.allclose(t["log_w"], by_hand, atol=1e-4)


def test_importance_sampling_converges_to_the_marginal_by_quadrature(gen):
    """A tiny model with a 1-D latent: log p(x) = log ∫ p(x|z) p(z) dz on a grid of z against IS with
    many samples from q = N(0, 2²) (a wide proposal: the weights are bounded), within 4 standard errors."""
    decoder = _randomize(TINY["conv"](1), gen, scale=1.0)
    model = ar.AutoregressiveVAE(decoder, hidden=8).eval()
    with torch.no_grad():
        for layer in decoder.z_in:  # p(x|z) smooth in z, so that 20,000 draws pin log p(x) to 0.02
            layer.weight.mul_(0.2)
        model.encoder[-1].weight.zero_()
        model.encoder[-1].bias.copy_(torch.tensor([0.0, math.log(4.0)]))  # mu = 0, log σ² = log 4
    grid = _levels_grid(4, 3)
    zs = torch.linspace(-8, 8, 1601)
    with torch.no_grad():
        lp = decoder.log_prob(grid.repeat(len(zs), 1), zs.repeat_interleave(81)[:, None]).reshape(len(zs), 81)
    log_prior = probability.standard_normal_log_prob(zs.double())[:, None]
    exact = torch.logsumexp(lp.double() + log_prior, 0) + math.log((zs[1] - zs[0]).item())  # (81,)
    assert abs(torch.logsumexp(exact, 0).item()) < 1e-4  # the marginal p(x) sums to one over all images
    pick = torch.tensor([5, 40, 77])
    log_w = models.log_weights(model, grid[pick], 20_000, generator=gen, batch_size=3).double()
    est = models.iw_bound(log_w)
    w = (log_w - est).exp()  # weights over their mean
    se = w.std(0) / math.sqrt(len(w))  # standard error of log(mean w), by the delta method
    assert (se < 0.02).all() and ((est - exact[pick]).abs() < 4 * se + 1e-3).all(), (est, exact[pick], se)


def test_the_vae_keeps_the_encoder_and_the_prior_of_models_vae(gen):
    mix = probability.GaussianMixture(torch.randn(3, 4, generator=gen), learnable=True)
    model = ar.AutoregressiveVAE(ar.MaskedConvDecoder(4, channels=4), hidden=32, dropout=0.1, prior=mix)
    assert model.prior is mix and isinstance(model, models.VAE) and model.latent_dim == 4
    assert [type(m).__name__ for m in model.encoder] == [type(m).__name__ for m in models.VAE(4, 32, dropout=0.1).encoder]
    x = _digits(gen, 5)
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (5, 4)
    samples = model.sample(3, generator=gen)
    assert samples.shape == (3, 64) and set(torch.unique(samples * 16).tolist()) <= set(map(float, range(17)))
    assert model.sample_x(mu[:2], generator=gen).shape == (2, 64)
    nolat = ar.AutoregressiveVAE(ar.MaskedMLPDecoder(0, hidden=(16,)))
    assert nolat.sample(2, generator=gen).shape == (2, 64) and nolat.encoder is None


def test_training_improves_the_likelihood_and_same_seed_same_result():
    gen = torch.Generator().manual_seed(0)
    data = _random_x(64, 17, gen, b=60)
    data[:, 32:] = data[:, :32]  # a pattern an autoregressive decoder can learn: the bottom half repeats the top

    def fit():
        torch.manual_seed(0)
        model = ar.AutoregressiveVAE(ar.MaskedMLPDecoder(2, hidden=(64,)), hidden=16)
        before = training.mean_terms(model, data[:20], torch.Generator().manual_seed(1))["loss"]
        hist = training.train(model, data, data[:20], epochs=6, batch_size=20, lr=1e-2, progress=False)
        return before, hist.val_loss

    (b1, h1), (b2, h2) = fit(), fit()
    assert h1 == h2 and b1 == b2
    assert min(h1) < b1 - 30  # nats: the copied half is learned


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, words", [
    (lambda: ar.raster_mask(4, "A"), ValueError, "odd"),
    (lambda: ar.raster_mask(3, "C"), ValueError, "mask_type"),
    (lambda: ar.made_mask([1, 2], torch.tensor([1]), True), TypeError, "in_degrees"),
    (lambda: ar.made_mask(torch.tensor([1, 2]), torch.tensor([1]), 1), TypeError, "strict"),
    (lambda: ar.made_degrees(1, (4,)), ValueError, "data_dim"),
    (lambda: ar.MaskedLinear(3, 2, torch.ones(3, 2)), ValueError, "(out_features, in_features)"),
    (lambda: ar.MaskedConvDecoder(2, z_bias="pixel"), ValueError, "z_bias"),
    (lambda: ar.MaskedConvDecoder(2, dropout=1.0), ValueError, "dropout"),
    (lambda: ar.MaskedConvDecoder(2, gated=1), TypeError, "gated"),
    (lambda: ar.MaskedConvDecoder(2, dropout_kind="spatial"), ValueError, "dropout_kind"),
    (lambda: ar.MaskedConvDecoder(2, n_layers=3, kernel_size=(3,)), ValueError, "one per layer after the first (2"),
    (lambda: ar.MaskedConvDecoder(2, n_layers=3, kernel_size=(3, 2)), ValueError, "odd"),
    (lambda: ar.MaskedConvDecoder(2, z_hidden=-1), ValueError, "z_hidden"),
    (lambda: ar.MaskedConvDecoder(2, z_hidden=True), ValueError, "z_hidden"),
    (lambda: ar.MaskedMLPDecoder(-1), ValueError, "latent_dim"),
    (lambda: ar.MaskedConvDecoder(2).log_prob(torch.zeros(3, 64)), ValueError, "needs z"),
    (lambda: ar.MaskedConvDecoder(2).log_prob(torch.zeros(3, 64), torch.zeros(2, 2)), ValueError, "one code per digit"),
    (lambda: ar.MaskedConvDecoder(2).log_prob(torch.zeros(3, 64), torch.zeros(3, 5)), ValueError, "(B, 2)"),
    (lambda: ar.MaskedConvDecoder(2).log_prob(torch.zeros(3, 63), torch.zeros(3, 2)), ValueError, "(B, 64)"),
    (lambda: ar.MaskedConvDecoder(2).log_prob(torch.full((1, 64), 0.3), torch.zeros(1, 2)), ValueError, "levels / 16"),
    (lambda: ar.MaskedConvDecoder(2).log_prob(torch.full((1, 64), 2.0), torch.zeros(1, 2)), ValueError, "[0, 1]"),
    (lambda: ar.MaskedConvDecoder(2).log_prob([[0.0] * 64], torch.zeros(1, 2)), TypeError, "torch.Tensor"),
    (lambda: ar.MaskedConvDecoder(0).sample(), ValueError, "needs n"),
    (lambda: ar.MaskedConvDecoder(2).sample(torch.zeros(2, 2), n=3), ValueError, "n = 3"),
    (lambda: ar.MaskedConvDecoder(2).sample(torch.zeros(2, 2), uniforms=torch.rand(3, 64)), ValueError, "(B, 64)"),
    (lambda: ar.MaskedConvDecoder(2).sample(torch.zeros(1, 2), uniforms=torch.ones(1, 64)), ValueError, "[0, 1)"),
    (lambda: ar.MaskedConvDecoder(2).sample(torch.zeros(1, 2), generator=torch.Generator(), uniforms=torch.zeros(1, 64)),
     ValueError, "not both"),
    (lambda: ar.AutoregressiveVAE(models.VAE(2)), TypeError, "MaskedMLPDecoder or MaskedConvDecoder"),
    (lambda: ar.AutoregressiveVAE(ar.MaskedMLPDecoder(0), prior=probability.StandardNormal(1)), ValueError, "no prior"),
    (lambda: ar.AutoregressiveVAE(ar.MaskedMLPDecoder(2)).decode_mean(torch.zeros(1, 2)), TypeError, "sample_x"),
    (lambda: ar.AutoregressiveVAE(ar.MaskedMLPDecoder(2)).decode(torch.zeros(1, 3)), ValueError, "2 latent"),
    (lambda: ar.exact_log_prob(ar.AutoregressiveVAE(ar.MaskedMLPDecoder(2)), torch.zeros(1, 64)), ValueError,
     "importance sampling"),
])
def test_bad_input_gets_a_clear_message(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value), str(info.value)


# --- the training options the benchmark added to training.train (defaults keep the old behaviour) --------

def test_the_weight_average_follows_its_formula():
    net = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(0.0)
    avg = training._WeightAverage(net, 0.9)
    expected, values = 0.0, [1.0, 3.0, -2.0, 5.0, 0.5] * 4
    for t, value in enumerate(values):
        with torch.no_grad():
            net.weight.fill_(value)
        avg.update(net)
        d = min(0.9, (1 + t) / (10 + t))
        expected = d * expected + (1 - d) * value
    assert abs(avg.model.weight.item() - expected) < 1e-6


def test_the_half_cosine_goes_from_one_to_zero():
    assert training._half_cosine(0, 40) == 1.0 and abs(training._half_cosine(20, 40) - 0.5) < 1e-12
    assert training._half_cosine(40, 40) == 0.0 and training._half_cosine(50, 40) == 0.0
    assert all(training._half_cosine(t, 40) > training._half_cosine(t + 1, 40) for t in range(40))


def test_train_keeps_the_averaged_weights_and_checks_its_options():
    gen = torch.Generator().manual_seed(0)
    data = _random_x(64, 17, gen, b=40)

    def fit(**kw):
        torch.manual_seed(0)
        model = models.VAE(2, 8)
        return model, training.train(model, data, data[:10], epochs=3, batch_size=10, lr=1e-2, progress=False, **kw)

    plain, h_plain = fit()
    averaged, h_avg = fit(ema_decay=0.9)
    cosine, h_cos = fit(lr_schedule="cosine")
    assert h_avg.val_loss != h_plain.val_loss and h_cos.train_loss != h_plain.train_loss
    # the kept model is the average: its validation loss is the recorded best
    assert abs(training.mean_terms(averaged, data[:10], torch.Generator().manual_seed(1))["loss"]
               - min(h_avg.val_loss)) < 1e-4
    for kw, words in (({"ema_decay": 1.0}, "ema_decay"), ({"lr_schedule": "linear"}, "lr_schedule")):
        with pytest.raises(ValueError, match=words):
            fit(**kw)


# --- shift augmentation ----------------------------------------------------------------------------------

def _shift_by_loops(image, dy, dx):
    """The shifted 8×8 image written out pixel by pixel: out[r, c] = image[r − dy, c − dx], 0 outside."""
    out = torch.zeros(8, 8)
    for r in range(8):
        for c in range(8):
            if 0 <= r - dy < 8 and 0 <= c - dx < 8:
                out[r, c] = image[r - dy, c - dx]
    return out


def test_shift_digits_moves_each_digit_by_one_of_the_allowed_offsets():
    gen = torch.Generator().manual_seed(3)
    x = torch.randint(1, 17, (200, 64), generator=gen).float() / 16  # no zero pixel: the shift is identifiable
    out = ar.shift_digits(x, torch.Generator().manual_seed(0), max_shift=1)
    seen = set()
    for image, shifted in zip(x.reshape(-1, 8, 8), out.reshape(-1, 8, 8)):
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if torch.equal(shifted, _shift_by_loops(image, dy, dx))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 9  # all nine offsets occur in 200 draws
    assert torch.equal(ar.shift_digits(x, gen, max_shift=0), x)
    two = ar.shift_digits(x[:50], torch.Generator().manual_seed(1), max_shift=2).reshape(-1, 8, 8)
    assert all(any(torch.equal(s, _shift_by_loops(i, dy, dx)) for dy in range(-2, 3) for dx in range(-2, 3))
               for i, s in zip(x[:50].reshape(-1, 8, 8), two))


@pytest.mark.parametrize("call, error, words", [
    (lambda: ar.shift_digits(torch.zeros(2, 63)), ValueError, "(B, 64)"),
    (lambda: ar.shift_digits(torch.zeros(2, 64), max_shift=8), ValueError, "below the image side"),
    (lambda: ar.shift_digits(torch.zeros(2, 64), max_shift=-1), ValueError, "max_shift"),
    (lambda: training.train(models.VAE(2, 8), torch.zeros(4, 64), torch.zeros(2, 64), epochs=1, progress=False,
                            augment="shift"), TypeError, "augment"),
])
def test_shift_and_augment_reject_bad_input(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value), str(info.value)


def test_train_applies_the_augmentation_to_training_batches_only():
    gen = torch.Generator().manual_seed(0)
    data = _random_x(64, 17, gen, b=40)
    seen = []

    def spy(batch, generator):
        seen.append(batch.shape)
        return batch

    torch.manual_seed(0)
    plain = models.VAE(2, 8)
    h_plain = training.train(plain, data, data[:10], epochs=2, batch_size=10, lr=1e-2, progress=False)
    torch.manual_seed(0)
    spied = models.VAE(2, 8)
    h_spy = training.train(spied, data, data[:10], epochs=2, batch_size=10, lr=1e-2, progress=False, augment=spy)
    assert seen == [torch.Size([10, 64])] * 8  # 4 batches per epoch, 2 epochs, none for validation
    assert h_spy.val_loss == h_plain.val_loss  # an identity augmentation changes nothing


def test_the_inverse_cdf_picks_the_level_the_uniform_falls_in():
    decoder = ar.MaskedConvDecoder(0, channels=2, n_layers=1, image_side=2, n_levels=3, kernel_size=3, first_kernel=3)
    with torch.no_grad():  # every conditional is (0.2, 0.5, 0.3): cumulative 0.2, 0.7, 1
        for p in decoder.parameters():
            p.zero_()
        decoder.position_bias[-1].copy_(torch.tensor([0.2, 0.5, 0.3]).log()[:, None, None].expand(3, 2, 2))
    u = torch.tensor([[0.0, 0.19, 0.21, 0.69], [0.71, 0.999, 0.5, 0.2]])
    expected = torch.tensor([[0, 0, 1, 1], [2, 2, 1, 1]]) / 2
    assert torch.equal(decoder.sample(n=2, uniforms=u), expected)


# --- dropout kinds (the benchmark's cheaper draw; the default stays torch.nn.Dropout) ----------------------

@pytest.mark.parametrize("kind", ["uniform", "channel"])
def test_dropout_in_training_keeps_the_pixel_order(kind, gen):
    """Dropout only zeroes units: in training mode, with every draw, pixel j still sees x_<j only."""
    torch.manual_seed(0)
    decoder = _randomize(ar.MaskedConvDecoder(3, channels=6, n_layers=3, kernel_size=3, first_kernel=5, gated=True,
                                              dropout=0.3, dropout_kind=kind), gen).train()
    for _ in range(3):
        reach = _jacobian(decoder, _random_x(64, 17, gen), torch.randn(1, 3, generator=gen)).abs() > 0
        assert not reach.triu().any() and reach.tril(-1).any()
    assert decoder.logits(_random_x(64, 17, gen, b=5), torch.randn(5, 3, generator=gen)).shape == (5, 64, 17)


@pytest.mark.parametrize("kind", ["bernoulli", "uniform", "channel"])
def test_each_dropout_kind_keeps_the_mean_and_drops_the_fraction_asked(kind):
    """Monte Carlo over 2·10^5 units: a fraction p is zeroed, the rest scaled by 1/(1 − p), so E[h'] = h;
    "channel" zeroes whole maps; eval mode is the identity."""
    torch.manual_seed(0)
    p = 0.3
    drop = ar.MaskedConvDecoder(1, dropout=p, dropout_kind=kind).drop.train()
    h = torch.ones(500, 50, 8, 8)
    out = drop(h)
    zero = out == 0
    assert abs(zero.float().mean().item() - p) < 0.01
    assert torch.allclose(out[~zero], torch.full_like(out[~zero], 1 / (1 - p)))
    assert abs(out.mean().item() - 1.0) < 0.02
    per_map = zero.flatten(2).float().mean(-1)  # (500, 50): the zeroed fraction of each feature map
    whole = ((per_map == 0) | (per_map == 1)).all().item()
    assert whole == (kind == "channel")
    assert torch.equal(drop.eval()(h), h)
