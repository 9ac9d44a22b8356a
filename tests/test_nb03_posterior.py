"""Notebook 03's maths: variance heads, per-sample posteriors, ELBO estimates, the posterior table."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import pixels

from vae_course import data, figures, models, nb03, probability, training


@pytest.fixture(scope="module")
def digits():
    return data.load_digits("test").x[:12], data.load_digits("test").labels[:12]


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return models.VAE(latent_dim=2).eval()


@pytest.fixture(scope="module")
def trained():
    """A VAE trained briefly, so that its decoder depends on z (an untrained one barely does)."""

    torch.manual_seed(0)
    model = models.VAE(latent_dim=2)
    training.train(model, data.load_digits("train").x, data.load_digits("val").x, epochs=60, progress=False)
    return model


def test_heads_give_log_var_by_their_formula():
    r = torch.linspace(-5, 5, 21, dtype=torch.float64)
    assert torch.equal(models.head_to_log_var(r, "log_var"), r)
    assert torch.allclose(models.head_to_log_var(r, "log_sigma").exp(), (r.exp()) ** 2)
    assert torch.allclose(models.head_to_log_var(r, "softplus").exp(), torch.log1p(r.exp()))
    var = models.head_to_log_var(r, "var")
    assert var[r < 0].isnan().all() and torch.isneginf(var[r == 0]).all()
    assert torch.allclose(var[r > 0].exp(), r[r > 0])


def test_head_gradients_match_the_notebook_claims():
    """d log σ²/dr: 1 for log_var, 2 for log_sigma, sigmoid(r)/softplus(r) → ~1/r for softplus."""
    r = torch.tensor([-4.0, 0.0, 4.0, 16.0], dtype=torch.float64, requires_grad=True)
    for variance, expected in (("log_var", torch.ones(4)), ("log_sigma", 2 * torch.ones(4)),
                               ("softplus", torch.sigmoid(r.detach()) / F.softplus(r.detach()))):
        (grad,) = torch.autograd.grad(models.head_to_log_var(r, variance).sum(), r)
        assert torch.allclose(grad, expected.double())
    (grad,) = torch.autograd.grad(models.head_to_log_var(r, "softplus").sum(), r)
    assert grad[-1] == pytest.approx(1 / 16, rel=1e-3) and grad[0] > 0.99


def test_bad_variance_names_and_types():
    with pytest.raises(ValueError, match="variance must be one of"):
        models.head_to_log_var(torch.zeros(2), "std")
    with pytest.raises(TypeError, match="torch.Tensor"):
        models.head_to_log_var([0.0], "log_var")
    with pytest.raises(ValueError, match="variance must be one of"):
        models.VAE(variance="sigma")


def test_default_vae_is_unchanged_and_other_heads_share_its_weights(digits):
    x, _ = digits
    torch.manual_seed(0)
    default = models.VAE(latent_dim=2)
    torch.manual_seed(0)
    explicit = models.VAE(latent_dim=2, variance="log_var")
    raw_mu, raw = default.encoder(x).chunk(2, dim=-1)
    mu, log_var = default.encode(x)
    assert torch.equal(mu, raw_mu) and torch.equal(log_var, raw)
    assert all(torch.equal(a, b) for a, b in zip(default.state_dict().values(), explicit.state_dict().values()))
    for variance in ("log_sigma", "softplus"):
        torch.manual_seed(0)
        other = models.VAE(latent_dim=2, variance=variance)
        assert list(other.state_dict()) == list(default.state_dict())
        assert torch.allclose(other.encode(x)[1], models.head_to_log_var(raw, variance))


def test_raw_variance_head_gives_nan_and_the_loss_refuses_it(digits):
    x, _ = digits
    torch.manual_seed(0)
    model = models.VAE(latent_dim=2, variance="var")
    _, log_var = model.encode(x)
    assert log_var.isnan().any()
    with pytest.raises(ValueError, match="NaN"):
        model.elbo_terms(x)


@pytest.mark.parametrize("n_sigma", [1.0, 2.0, 3.0])
def test_ellipse_mass_matches_monte_carlo(n_sigma):
    """P(z inside the nσ ellipse) = 1 − exp(−n²/2); 400k draws, binomial sd < 0.0008, tolerance 0.004."""
    g = torch.Generator().manual_seed(3)
    mu, log_var = torch.tensor([0.5, -1.0]), torch.tensor([-1.0, 0.7])
    z = probability.reparameterize(mu, log_var, torch.randn(400_000, 2, generator=g))
    inside = (((z - mu) / torch.exp(0.5 * log_var)) ** 2).sum(-1) <= n_sigma**2
    assert inside.float().mean().item() == pytest.approx(nb03.ellipse_mass(n_sigma), abs=0.004)
    with pytest.raises(ValueError):
        nb03.ellipse_mass(0.0)


def test_elbo_estimate_matches_an_independent_monte_carlo(vae, digits):
    """Closed-form KL inside elbo_estimate vs E_q[log p(x|z) + log p(z) − log q(z|x)] with torch.distributions."""
    x, _ = digits
    g = torch.Generator().manual_seed(4)
    mu, log_var = torch.randn(12, 2, generator=g), torch.randn(12, 2, generator=g) - 1
    eps = torch.randn(4000, 12, 2, generator=g)
    with torch.no_grad():
        est = nb03.elbo_estimate(vae, x, mu, log_var, eps)
        q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
        z = mu + torch.exp(0.5 * log_var) * eps
        log_lik = vae.log_likelihood(x.repeat(4000, 1), vae.decode(z.flatten(0, 1))).view(4000, 12)
        prior = torch.distributions.Normal(0.0, 1.0)
        mc = (log_lik + prior.log_prob(z).sum(-1) - q.log_prob(z).sum(-1)).mean(0)
    # the two share log_lik; they differ only by KL vs its MC estimate (sd of that estimate < 0.05 here)
    assert torch.allclose(est, mc, atol=0.15)
    assert torch.allclose(est, log_lik.mean(0) - probability.gaussian_kl(mu, log_var))


def test_elbo_estimate_rejects_wrong_eps(vae, digits):
    x, _ = digits
    with pytest.raises(ValueError, match=r"\(S, B, L\)"):
        nb03.elbo_estimate(vae, x, torch.zeros(12, 2), torch.zeros(12, 2), torch.zeros(12, 2))


def test_fit_per_sample_improves_the_elbo_and_leaves_the_model_alone(trained, digits):
    x, _ = digits
    vae = trained
    before = {k: t.clone() for k, t in vae.state_dict().items()}
    fit = nb03.fit_per_sample(vae, x, steps=150, lr=0.05, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(before[k], t) for k, t in vae.state_dict().items())
    assert fit.mu.shape == fit.log_var.shape == (12, 2) and fit.trace.shape == (150,)
    assert not fit.mu.requires_grad and fit.seconds > 0
    eps = torch.randn(256, 12, 2, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        start = nb03.elbo_estimate(vae, x, torch.zeros(12, 2), torch.zeros(12, 2), eps)
        end = nb03.elbo_estimate(vae, x, fit.mu, fit.log_var, eps)
    assert (end > start).all()
    assert fit.trace[-10:].mean() > fit.trace[:10].mean() + 0.5


def test_fit_per_sample_rows_are_independent(vae, digits):
    """Fitting rows together equals fitting them alone when each row sees the same noise."""
    x, _ = digits
    both = nb03.fit_per_sample(vae, x[:2], steps=20, n_draws=1, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    mu = torch.zeros(1, 2, requires_grad=True)
    lv = torch.zeros(1, 2, requires_grad=True)
    opt = torch.optim.Adam([mu, lv], lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        eps = torch.randn(1, 2, 2, generator=g)  # the draws the joint fit used at this step
        (-nb03.elbo_estimate(vae, x[:1], mu, lv, eps[:, :1]).sum()).backward()
        opt.step()
    assert torch.allclose(mu.detach(), both.mu[:1], atol=1e-5)
    assert torch.allclose(lv.detach(), both.log_var[:1], atol=1e-5)


def test_fit_per_sample_bad_input(vae, digits):
    x, _ = digits
    with pytest.raises(ValueError, match="steps"):
        nb03.fit_per_sample(vae, x, steps=0)
    with pytest.raises(ValueError, match="lr"):
        nb03.fit_per_sample(vae, x, lr=-1.0)
    with pytest.raises(ValueError, match="shape"):
        nb03.fit_per_sample(vae, x[:, :10])


def test_posterior_table_is_encoder_plus_reparameterized_draws(vae, digits):
    x, labels = digits
    t = nb03.posterior_table(vae, x, labels, n_draws=5, generator=torch.Generator().manual_seed(2))
    mu, log_var = vae.encode(x)
    assert torch.allclose(t.mu, mu) and torch.allclose(t.log_var, log_var)
    assert t.z.shape == t.eps.shape == (12, 5, 2) and t.x_hat.shape == (12, 5, 64)
    assert torch.allclose(t.z, mu[:, None] + torch.exp(0.5 * log_var)[:, None] * t.eps)
    with torch.no_grad():
        assert torch.allclose(t.x_hat[3], vae.decode_mean(t.z[3]))
    assert ((t.x_hat >= 0) & (t.x_hat <= 1)).all()
    with pytest.raises(ValueError, match="labels"):
        nb03.posterior_table(vae, x, labels[:3])
    with pytest.raises(ValueError, match="n_draws"):
        nb03.posterior_table(vae, x, labels, n_draws=0)


# ---------------------------------------------------------------- plotting and the explorer


@pytest.fixture(scope="module")
def table(trained):
    test = data.load_digits("test")
    return nb03.posterior_table(trained, test.x[:60], test.labels[:60], n_draws=9,
                                     generator=torch.Generator().manual_seed(0))


def test_posterior_ellipses_have_the_right_centres_sizes_and_colours(table):
    ax = nb03.plot_posterior_ellipses(table.mu, table.log_var, table.labels, n_sigma=2.0)
    (coll,) = [c for c in ax.collections if isinstance(c, matplotlib.collections.EllipseCollection)]
    sigma = torch.exp(0.5 * table.log_var).numpy()
    assert np.allclose(coll.get_offsets(), table.mu.numpy())
    assert np.allclose(coll._widths, 0.5 * 2 * 2.0 * sigma[:, 0]) and np.allclose(coll._heights, 0.5 * 2 * 2.0 * sigma[:, 1])
    k = int(table.labels[0])
    assert np.allclose(coll.get_facecolors()[0][:3], nb03.DIGIT_COLORS[k])
    assert ax.get_xlabel() == "$z_1$" and ax.get_ylabel() == "$z_2$" and ax.get_title()
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == sorted({str(int(d)) for d in table.labels})
    lo = (table.mu - 2.0 * torch.exp(0.5 * table.log_var)).min(0).values
    assert ax.get_xlim()[0] < lo[0].item() and ax.get_ylim()[0] < lo[1].item()
    plt.close("all")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        nb03.plot_posterior_ellipses(torch.zeros(3, 3), torch.zeros(3, 3), torch.zeros(3))


def test_plot_curves_draws_each_curve_against_its_epoch():
    ax = figures.plot_curves({"a": [3.0, 2.0, 1.0], "b": [1.0, 1.5]}, title="t", ylabel="loss")
    (a, b) = ax.get_lines()
    assert list(a.get_xdata()) == [1, 2, 3] and list(a.get_ydata()) == [3.0, 2.0, 1.0]
    assert list(b.get_xdata()) == [1, 2] and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    plt.close("all")


def test_image_grid_still_tiles_as_before():
    imgs = torch.arange(3 * 64, dtype=torch.float64).reshape(3, 64) / 200
    ax = figures.image_grid(imgs, 2)
    canvas = ax.get_images()[0].get_array()
    assert canvas.shape == (17, 17)
    assert np.allclose(canvas[9:17, 0:8], imgs[2].reshape(8, 8).numpy()) and canvas.mask[9:, 9:].all()
    plt.close("all")


def test_explorer_starts_on_the_first_zero(table):
    e = nb03.PosteriorExplorer(table)
    first = nb03.class_rows(table.labels, 0)[0]
    assert e.state["index"] == first and torch.equal(e.state["z"], table.z[first])
    assert e.state["show"] == "means" and torch.equal(e.state["decoded"], table.x_hat[first])
    assert bytes(e.image.value).startswith(b"\x89PNG")
    assert f"a 0: test digit #{first}" in e.readout.value
    assert e._repr_mimebundle_()["text/plain"] == "[posterior explorer: an interactive widget; run this cell in Jupyter to use it]"


def test_class_rows_and_bad_classes(table):
    for d in range(10):
        rows = nb03.class_rows(table.labels, d)
        assert rows == [i for i in range(len(table.labels)) if int(table.labels[i]) == d]
    with pytest.raises(ValueError, match="class 0..9"):
        nb03.class_rows(table.labels, 10)


def original_digit_in(view, rgba: np.ndarray) -> np.ndarray:
    """The 8×8 grey levels drawn in the framed original's panel, read from the PNG's pixels at the centre
    of each cell: the panel is drawn in grey from 0 (black) to 1 (white)."""
    centres = [(j, i) for i in range(8) for j in range(8)]  # data coordinates of imshow: (column, row)
    x, y = view.orig_ax.transData.transform(centres).T      # display pixels, origin at the bottom left
    rows, cols = np.round(rgba.shape[0] - y - 0.5).astype(int), np.round(x - 0.5).astype(int)
    return rgba[rows, cols, :3].mean(-1).reshape(8, 8)


def test_picking_a_class_and_example_looks_up_the_row_and_redraws(table):
    e = nb03.PosteriorExplorer(table)
    before = pixels(e.image.value)
    digit = int(table.labels[17])
    example = nb03.class_rows(table.labels, digit).index(17)
    e.controls["digit"].value = digit
    e.controls["example"].value = example
    s = e.state
    assert s["index"] == 17 and s["label"] == digit
    assert torch.equal(s["mu"], table.mu[17]) and torch.allclose(s["sigma"], torch.exp(0.5 * table.log_var[17]))
    assert torch.equal(s["x_hat"], table.x_hat[17]) and torch.equal(s["x"], table.x[17])
    v = e.view
    assert np.allclose(v.ellipse.center, table.mu[17].numpy())
    assert np.allclose([v.ellipse.width, v.ellipse.height], 2 * torch.exp(0.5 * table.log_var[17]).numpy())
    assert np.allclose(v.draws.get_offsets(), table.z[17].numpy())
    assert np.allclose(np.asarray(v.orig.get_array()), table.x[17].reshape(8, 8).numpy())
    tiles = np.asarray(v.img.get_array())
    assert np.allclose(tiles[:8, :8], table.x_hat[17, 0].reshape(8, 8).numpy())
    assert np.allclose(tiles[:8, 9:17], table.x_hat[17, 1].reshape(8, 8).numpy())
    assert "mean images" in v.img_title.get_text()
    inside = int(((table.eps[17] ** 2).sum(-1) <= 1).sum())
    assert s["inside"] == inside and s["expected_share"] == pytest.approx(1 - np.exp(-0.5))
    assert f"{inside} of 9 draws inside the 1σ ellipse (expected share 39%)" in e.readout.value
    after = pixels(e.image.value)
    assert before.shape == after.shape and np.abs(after - before).max() > 0.1
    first = nb03.class_rows(table.labels, 0)[0]
    assert not torch.allclose(table.x[first], table.x[17], atol=0.1)
    assert np.allclose(original_digit_in(e.view, before), table.x[first].reshape(8, 8).numpy(), atol=0.01)
    assert np.allclose(original_digit_in(e.view, after), table.x[17].reshape(8, 8).numpy(), atol=0.01)
    e.controls["show"].value = "samples"
    assert torch.equal(e.state["decoded"], table.x_sample[17]) and "samples" in v.img_title.get_text()
    assert np.allclose(np.asarray(v.img.get_array())[:8, :8], table.x_sample[17, 0].reshape(8, 8).numpy())


def test_samples_are_drawn_from_the_decoders_categoricals(trained):
    """Pixel by pixel, the share of each grey level over many samples is the decoder's probability."""
    logits = trained.decode(torch.zeros(1, 2)).detach()
    many = nb03.sample_images(trained, logits.expand(20_000, -1, -1), torch.Generator().manual_seed(0))
    levels = torch.round(many * 16).long()
    share = torch.nn.functional.one_hot(levels, 17).double().mean(0)
    assert torch.allclose(share, torch.softmax(logits[0].double(), -1), atol=0.015)
    assert torch.allclose(many.mean(0), trained.decode_mean(torch.zeros(1, 2))[0].detach(), atol=0.01)


def test_explorer_png_equals_a_full_redraw(table):
    """Blitting must not leave stale artists: the blitted PNG equals a fresh full draw of the same state."""
    e = nb03.PosteriorExplorer(table)
    digit = int(table.labels[40])
    e.controls["digit"].value = int(table.labels[5])
    e.controls["digit"].value = digit
    e.controls["example"].value = nb03.class_rows(table.labels, digit).index(40)
    e.controls["show"].value = "samples"
    blitted = pixels(e.image.value)
    fresh = nb03.PosteriorFigure(table)
    fresh.show(40, "samples")
    assert np.abs(pixels(fresh.png()) - blitted).max() < 1e-6


def test_explorer_picture_is_legible(table):
    e = nb03.PosteriorExplorer(table)
    for show in ("means", "samples"):
        e.controls["show"].value = show
        assert figures.legibility_problems(e.view.fig, tight=False) == []
    # each decoded digit is at least 48 px wide in the PNG
    width = e.view.img_ax.get_window_extent().width / np.asarray(e.view.img.get_array()).shape[1] * 8
    assert width >= 48


def test_explorer_needs_a_2d_latent_space(table):
    flat = table._replace(mu=torch.zeros(60, 3), log_var=torch.zeros(60, 3))
    with pytest.raises(ValueError, match="2-D"):
        nb03.PosteriorExplorer(flat)


def test_per_sample_flow_draws_each_column_for_its_own_digit(table):
    x, mu, log_var, z, x_hat = table.x[:6], table.mu[:6], table.log_var[:6], table.z[:6, 0], table.x_hat[:6, 0]
    more = table.z[:6, 1:].transpose(0, 1)                                   # (S, 6, 2): the other draws
    fig = nb03.plot_per_sample_flow(x, mu, log_var, z, x_hat, draws=more)
    windows, tops, bottoms = fig.axes[:6], fig.axes[6:12], fig.axes[12:]
    sigma = torch.exp(0.5 * log_var).numpy()
    widths = set()
    for k, ax in enumerate(windows):
        ellipses = [c for c in ax.collections if isinstance(c, matplotlib.collections.EllipseCollection)]
        own = [c for c in ellipses if len(c.get_offsets()) == 1]
        assert len(own) == 2 and all(np.allclose(c.get_offsets()[0], mu[k].numpy()) for c in own)
        assert np.allclose(sorted(float(c._widths[0]) * 2 for c in own),   # EllipseCollection keeps half-widths
                           [n * 2 * sigma[k, 0] for n in (1.0, 2.0)], rtol=1e-5)
        points = [c.get_offsets() for c in ax.collections if not isinstance(c, matplotlib.collections.EllipseCollection)]
        assert any(np.allclose(p, z[k].numpy()[None]) for p in points)        # the draw Z_k
        assert any(p.shape == (len(more), 2) and np.allclose(p, more[:, k].numpy()) for p in points)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert np.isclose((x0 + x1) / 2, mu[k, 0]) and np.isclose((y0 + y1) / 2, mu[k, 1])
        assert np.isclose(x1 - x0, y1 - y0) and ax.get_aspect() == 1.0
        widths.add(round(x1 - x0, 5))
        assert x0 < z[k, 0] < x1 and y0 < z[k, 1] < y1 and (np.abs(more[:, k] - mu[k]) < (x1 - x0) / 2).all()
        assert ax.get_xlabel() == "$z_1$" and f"X_{{{k + 1}}}" in ax.get_title()
    assert len(widths) == 1, "every column's window has the same size"
    assert windows[0].get_ylabel() == "latent $z_2$"
    for k in range(6):
        assert np.allclose(tops[k].get_images()[0].get_array(), x[k].reshape(8, 8).numpy())
        assert np.allclose(bottoms[k].get_images()[0].get_array(), x_hat[k].reshape(8, 8).numpy())
        assert tops[k].spines["left"].get_edgecolor() == bottoms[k].spines["left"].get_edgecolor()
        assert f"{k + 1}" in tops[k].get_title()
    assert figures.legibility_problems(fig) == []
    plt.close("all")
    with pytest.raises(ValueError, match="same K"):
        nb03.plot_per_sample_flow(x, mu[:5], log_var, z, x_hat)
    with pytest.raises(ValueError, match=r"draws must have shape \(S, 6, 2\)"):
        nb03.plot_per_sample_flow(x, mu, log_var, z, x_hat, draws=more[:, :5])


def test_per_sample_flow_names_each_class_and_the_best_pairing(table):
    x, mu, log_var, z, x_hat = table.x[:6], table.mu[:6], table.log_var[:6], table.z[:6, 0], table.x_hat[:6, 0]
    pairing = torch.tensor([1, 0, 2, 3, 5, 4])
    fig = nb03.plot_per_sample_flow(x, mu, log_var, z, x_hat, labels=table.labels[:6], pairing=pairing)
    tops, bottoms = fig.axes[6:12], fig.axes[12:]
    for k in range(6):
        assert tops[k].get_title().endswith(f"a {int(table.labels[k])}")
        assert bottoms[k].get_xlabel() == f"best pairing: $X_{{{int(pairing[k]) + 1}}}$"
    plt.close("all")
    with pytest.raises(ValueError, match="one entry per column"):
        nb03.plot_per_sample_flow(x, mu, log_var, z, x_hat, labels=table.labels[:5])


def test_explorer_has_a_colour_key_for_every_class_shown(table):
    e = nb03.PosteriorExplorer(table)
    (key,) = e.view.fig.legends
    assert [t.get_text() for t in key.get_texts()] == [str(d) for d in sorted(set(table.labels.tolist()))]


def test_example_slider_runs_over_the_chosen_class_only(table):
    e = nb03.PosteriorExplorer(table)
    for d in range(10):
        rows = nb03.class_rows(table.labels, d)
        if not rows:
            continue
        e.controls["digit"].value = d
        assert e.controls["example"].max == len(rows) - 1
        e.controls["example"].value = len(rows) - 1
        assert e.state["index"] == rows[-1] and e.state["label"] == d
    before = e.updates
    e.controls["digit"].value = int(table.labels[0]) if int(table.labels[0]) != d else int(table.labels[1])
    assert e.updates == before + 1  # one redraw per move, even when the example is clamped
