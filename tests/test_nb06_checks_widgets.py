"""Notebook 06: the explorers follow their controls (the 6.1 checker is tested in tests/test_checks.py)."""


import numpy as np
import pytest
import torch
from helpers import pixels

from vae_course import data, models, nb06, training

# ---------------------------------------------------------------- explorers


@pytest.fixture(scope="module")
def model2():
    torch.manual_seed(0)
    return models.VAE(2, 16).eval()


@pytest.fixture(scope="module")
def x():
    return data.load_digits("test").x[:20]


def test_interpolation_explorer_decodes_the_mixed_code(model2, x):
    explorer = nb06.InterpolationExplorer(model2, x, a=0, b=5)
    first = explorer.image.value
    with torch.no_grad():
        mu = model2.encode(x)[0]
    assert torch.allclose(explorer.state["z"], 0.5 * mu[0] + 0.5 * mu[5])
    explorer.controls["t"].value = 1.0
    assert torch.allclose(explorer.state["z"], mu[5])
    with torch.no_grad():
        assert torch.allclose(explorer.state["x_hat"], model2.reconstruct(x[5:6])[0])
    assert "t = 1.00" in explorer.readout.value
    explorer.controls["b"].value = 7
    assert torch.allclose(explorer.state["z"], mu[7])
    img = explorer.view.images[2].get_array()
    assert np.allclose(img, x[7].reshape(8, 8).numpy())  # panel B shows digit 7
    assert np.abs(pixels(explorer.image.value) - pixels(first)).max() > 0.05
    assert explorer._repr_mimebundle_()["text/plain"] == "[interpolation explorer: an interactive widget; run this cell in Jupyter to use it]"


def test_latent_grid_explorer_follows_z(model2):
    explorer = nb06.LatentGridExplorer(model2, extent=2.0, n=5)
    first = explorer.image.value
    assert explorer.grid_images.shape == (25, 64)
    explorer.controls["z1"].value = 1.5
    explorer.controls["z2"].value = -1.0
    assert explorer.state["z"].tolist() == [1.5, -1.0]
    with torch.no_grad():
        expected = model2.decode_mean(torch.tensor([[1.5, -1.0]]))[0]
    assert torch.allclose(explorer.state["x"], expected)
    assert list(explorer.view.marker.get_data()[0]) == [1.5] and list(explorer.view.marker.get_data()[1]) == [-1.0]
    log_p = torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2)).log_prob(torch.tensor([1.5, -1.0])).item()
    assert f"log p(z) = {log_p:.2f} nats, so p(z) = {np.exp(log_p):.2e}" in explorer.readout.value
    assert f"p(z) / peak = {np.exp(log_p) * 2 * np.pi:.1e}" in explorer.readout.value
    assert np.abs(pixels(explorer.image.value) - pixels(first)).max() > 0.05


def test_latent_grid_readout_is_informative_far_out(model2):
    """Far from the origin p(z) would print as 0.000: log p(z) and the share of the peak still say how low."""
    explorer = nb06.LatentGridExplorer(model2, extent=3.5, n=5)
    explorer.controls["z1"].value, explorer.controls["z2"].value = 3.5, 3.5
    log_p = -12.25 - np.log(2 * np.pi)
    assert f"log p(z) = {log_p:.2f} nats" in explorer.readout.value and "0.000" not in explorer.readout.value
    assert f"{np.exp(-12.25):.1e}" in explorer.readout.value  # p(z) / peak = e^(−12.25)
    assert f"1/{np.exp(12.25):,.0f} as often" in explorer.readout.value
    explorer.controls["z1"].value, explorer.controls["z2"].value = 0.0, 0.0
    assert "about as often" in explorer.readout.value
    point = nb06.decode_point(model2, torch.tensor([3.5, 3.5]), peak=1 / (2 * np.pi))
    assert point.of_peak == pytest.approx(np.exp(-12.25)) and point.density == pytest.approx(np.exp(log_p))
    assert np.isnan(nb06.decode_point(model2, torch.tensor([0.0, 0.0])).of_peak)
    with pytest.raises(ValueError, match="peak"):
        nb06.decode_point(model2, torch.tensor([0.0, 0.0]), peak=0.0)


def test_latent_grid_explorer_reads_the_density_of_the_models_own_prior():
    from vae_course import probability

    prior = probability.GaussianMixture(torch.tensor([[-2.0, 0.0], [2.0, 0.0]]))
    torch.manual_seed(0)
    model = models.VAE(2, 16, prior=prior).eval()
    explorer = nb06.LatentGridExplorer(model, extent=2.5, n=5)
    explorer.controls["z1"].value, explorer.controls["z2"].value = 1.5, 0.5
    density = prior.log_prob(torch.tensor([1.5, 0.5], dtype=torch.float64)).exp().item()
    assert abs(density - np.exp(-0.5 * (1.5**2 + 0.5**2)) / (2 * np.pi)) > 0.01  # not N(0, I)'s
    line = torch.stack([torch.linspace(-2.5, 2.5, 50001, dtype=torch.float64), torch.zeros(50001, dtype=torch.float64)], -1)
    peak = prior.log_prob(line).exp().max().item()  # the mixture peaks on the z₁ axis, near ±2
    assert explorer.peak == pytest.approx(peak, rel=1e-4)
    assert explorer.readout.value.startswith(f"log p(z) = {np.log(density):.2f} nats, so p(z) = {density:.2e} "
                                             f"(its peak is {peak:.3f})<br>p(z) / peak = {density / peak:.1e}")
    assert nb06.prior_peak(models.VAE(2, 16).prior, 2.0) == pytest.approx(1 / (2 * np.pi))


def test_interpolation_and_decoding_run_in_eval_mode(x):
    torch.manual_seed(0)
    model = models.VAE(2, 16, dropout=0.5)  # in training mode: dropout would make every decoding random
    path = [nb06.interpolate(model, nb06.posterior_means(model, x), 0, 5, 0.5).x_hat for _ in range(2)]
    assert torch.equal(*path) and model.training
    with torch.no_grad():
        assert torch.allclose(path[0], model.eval().decode_mean(0.5 * (model.encode(x)[0][0] + model.encode(x)[0][5])))


def test_explorers_reject_bad_models_and_indices(model2, x):
    with pytest.raises(ValueError, match="latent_dim = 2"):
        nb06.LatentGridExplorer(models.VAE(3, 8))
    with pytest.raises(ValueError, match="index"):
        nb06.InterpolationExplorer(model2, x, a=0, b=20)


def test_train_options_validate_and_iwae_runs():
    tr = data.load_digits("train").x[:200]
    m = models.VAE(2, 16, dropout=0.2)
    assert any(isinstance(layer, torch.nn.Dropout) for layer in m.decoder)
    assert not any(isinstance(layer, torch.nn.Dropout) for layer in models.VAE(2, 16).decoder)
    h = training.train(m, tr, tr[:50], epochs=2, iw_samples=3, weight_decay=1e-3, progress=False)
    assert len(h.train_loss) == 2 and np.isfinite(h.train_loss).all()
    with pytest.raises(ValueError):
        training.train(m, tr, tr, epochs=1, iw_samples=0, progress=False)
    with pytest.raises(ValueError):
        training.train(m, tr, tr, epochs=1, iw_samples=2, beta=2.0, progress=False)
    with pytest.raises(ValueError):
        models.VAE(2, 16, dropout=1.0)


def test_kl_warmup_is_a_smaller_beta_in_the_first_epoch():
    tr = data.load_digits("train").x[:200]
    weights = []
    for kwargs in ({"warmup_epochs": 10}, {"beta": 0.1}, {}):
        torch.manual_seed(0)
        m = models.VAE(2, 16)
        training.train(m, tr, tr[:50], epochs=1, progress=False, generator=torch.Generator().manual_seed(0), **kwargs)
        weights.append(m.decoder[0].weight.detach().clone())
    assert torch.equal(weights[0], weights[1])        # epoch 1 of 10 warm-up epochs: beta = 0.1
    assert not torch.equal(weights[0], weights[2])
    with pytest.raises(ValueError):
        training.train(models.VAE(2, 8), tr, tr, epochs=1, warmup_epochs=-1, progress=False)


def test_interpolation_explorer_draws_the_whole_path_and_says_when_a_is_b(model2, x):
    explorer = nb06.InterpolationExplorer(model2, x, a=0, b=5)
    with torch.no_grad():
        mu = model2.encode(x)[0]
        want = model2.decode_mean(torch.stack([(1 - t) * mu[0] + t * mu[5] for t in torch.linspace(0, 1, 11)]))
    assert torch.allclose(explorer.state["path"], want)
    explorer.controls["t"].value = 0.7
    assert explorer.view.frame.get_x() == 7 * 9 - 0.5  # the frame sits on the 8th tile, t = 0.7
    before = explorer.image.value
    explorer.controls["b"].value = 0
    assert "same test digit (#0)" in explorer.readout.value and "Pick another" in explorer.readout.value
    assert explorer.image.value != before  # the picture follows: B is now digit 0, the path one code
    assert np.allclose(explorer.view.images[2].get_array(), x[0].reshape(8, 8).numpy())
    assert torch.allclose(explorer.state["path"], explorer.state["path"][:1].expand(11, -1))
    assert "same digit" in explorer.view.suptitle.get_text()
    explorer.controls["b"].value = 5
    assert "same" not in explorer.readout.value and "same" not in explorer.view.suptitle.get_text()
    with pytest.raises(ValueError, match="two different digits"):
        nb06.InterpolationExplorer(model2, x, a=3, b=3)


def test_interpolation_explorer_by_class_says_when_it_is_the_same_example(model2, x):
    labels = data.load_digits("test").labels[:20]
    by_class = nb06.examples_by_class(labels)
    cls = next(c for c, ix in by_class.items() if len(ix) >= 1)
    other = next(c for c in by_class if c != cls)
    explorer = nb06.InterpolationExplorer(model2, x, labels, a=by_class[cls][0], b=by_class[other][0])
    before = explorer.image.value
    explorer.controls["class_b"].value = cls
    explorer.controls["example_b"].value = 0
    assert "same test digit" in explorer.readout.value and explorer.image.value != before


def test_nearest_neighbour_accuracy_matches_a_loop():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(60, 2, generator=g, dtype=torch.float64)
    ref_labels = (ref[:, 0] > 0).long() + 2 * (ref[:, 1] > 0.5).long()
    codes = torch.randn(40, 2, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (40,), generator=g)
    got = nb06.nearest_neighbour_accuracy(codes, labels, ref, ref_labels, k=5)
    right = {}
    for c, y in zip(codes, labels):
        order = sorted(range(60), key=lambda j: float(((ref[j] - c) ** 2).sum()))[:5]
        counts = [sum(int(ref_labels[j]) == k for j in order) for k in range(4)]
        guess = counts.index(max(counts))
        right.setdefault(int(y), []).append(guess == int(y))
    assert got == pytest.approx({c: sum(v) / len(v) for c, v in right.items()})
    # codes that sit on their class's reference codes are all right
    assert set(nb06.nearest_neighbour_accuracy(ref, ref_labels, ref, ref_labels, k=1).values()) == {1.0}
    with pytest.raises(ValueError, match="same L"):
        nb06.nearest_neighbour_accuracy(codes, labels, ref[:, :1], ref_labels)
    with pytest.raises(ValueError, match="more than"):
        nb06.nearest_neighbour_accuracy(codes, labels, ref[:3], ref_labels[:3], k=5)
    with pytest.raises(ValueError, match="labels must have shape"):
        nb06.nearest_neighbour_accuracy(codes, labels[:5], ref, ref_labels)


def test_training_summary_says_whether_the_run_stopped_early():
    hist = training.History()
    hist.val_loss, hist.best_epoch = [5.0, 4.0, 4.5, 4.6], 1
    assert nb06.training_summary(hist, 4) == "ran all 4 epochs (no early stop); the best was epoch 2"
    assert nb06.training_summary(hist, 60) == ("stopped early at epoch 4 of 60: no better validation loss after "
                                               "epoch 2 (the bar stops at 4/60)")
    with pytest.raises(ValueError, match="at most epochs = 3"):
        nb06.training_summary(hist, 3)
