"""Notebook 07's path along z and its explorer, on a small untrained autoregressive VAE: the same pixel
noise at every step, −log p(x|z) against the decoder's logits, the explorer only swaps pictures."""

import pytest
import torch

from vae_course import autoregressive, data, nb07


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return autoregressive.AutoregressiveVAE(autoregressive.MaskedConvDecoder(2, channels=4, n_layers=1), hidden=16)


@pytest.fixture(scope="module")
def x():
    return data.load_digits("test").x[:2]


def test_z_path_moves_one_dimension_and_keeps_the_pixel_noise(model, x):
    path = nb07.z_path(model, x[0], ts=[0.0, 0.0, 2.0], dim=1, n=3, seed=5)
    assert path.samples.shape == (3, 3, 64) and path.z.shape == (3, 2)
    assert torch.equal(path.samples[0], path.samples[1])  # same z, same noise: the same digits
    assert torch.equal(path.z[2] - path.z[0], torch.tensor([0.0, 2.0]))
    assert not torch.equal(path.samples[0, 0], path.samples[0, 1])  # another seed per column


def test_z_path_nll_is_the_decoders_own_log_likelihood(model, x):
    path = nb07.z_path(model, x[0], ts=[-1.0, 1.0], dim=0, n=1)
    with torch.no_grad():
        logits = model.decoder.logits(x[:1].expand(2, -1), path.z)
        levels = torch.round(x[0] * 16).long()
        expected = -torch.log_softmax(logits, -1)[:, torch.arange(64), levels].sum(-1)
        assert torch.allclose(path.nll, expected, atol=1e-4)
        assert torch.allclose(path.log_prior, model.prior.log_prob(path.z))


def test_z_path_rejects_bad_input(model, x):
    with pytest.raises(ValueError, match="one digit"):
        nb07.z_path(model, x, ts=[0.0, 1.0])
    with pytest.raises(ValueError, match="dim must be below"):
        nb07.z_path(model, x[0], ts=[0.0, 1.0], dim=2)
    with pytest.raises(ValueError, match="at least 2 steps"):
        nb07.z_path(model, x[0], ts=[0.0])


def test_the_explorer_swaps_precomputed_pictures(model, x):
    path = nb07.z_path(model, x[0], ts=[-1.0, 0.0, 1.0], dim=0, n=2)
    explorer = nb07.ZPathExplorer(path)
    assert explorer.step == 1 and explorer.image.value == explorer.pngs[1]
    explorer.controls["t"].value = 2
    assert explorer.step == 2 and explorer.image.value == explorer.pngs[2]
    assert f"{float(path.nll[2]):.1f} nats" in explorer.readout.value
    assert len(set(explorer.pngs)) == 3
    with pytest.raises(TypeError, match="z_path"):
        nb07.ZPathExplorer("not a path")


def test_the_figures_reject_bad_input():
    with pytest.raises(ValueError, match="square"):
        nb07.plot_connectivity(torch.ones(2, 3))
    with pytest.raises(ValueError, match="square"):
        nb07.plot_kernel_mask(torch.ones(3))


def test_z_path_kl_is_the_posteriors_kl_by_torch_distributions(model, x):
    path = nb07.z_path(model, x[0], ts=[-1.0, 1.0], dim=0, n=1)
    with torch.no_grad():
        mu, log_var = model.encode(x[:1])
    q = torch.distributions.Normal(mu[0].double(), (0.5 * log_var[0].double()).exp())
    p = torch.distributions.Normal(torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    assert path.kl == pytest.approx(torch.distributions.kl_divergence(q, p).sum().item(), abs=1e-5)
    assert path.kl > 0


def test_the_readout_says_what_each_number_measures(model, x):
    path = nb07.z_path(model, x[0], ts=[-1.0, 0.0, 1.0], dim=0, n=2)
    explorer = nb07.ZPathExplorer(path)
    text = explorer.readout.value
    assert "how well this one z explains the test digit" in text
    assert "the prior's cost of this one z" in text
    assert f"KL(q(z | x) ‖ p(z)), what the ELBO charges for the digit's whole posterior (the same at every step): {path.kl:.1f} nats" in text
    explorer.controls["t"].value = 0
    assert f"{path.kl:.1f} nats" in explorer.readout.value and f"{-float(path.log_prior[0]):.1f} nats" in explorer.readout.value


def test_the_pictures_drawn_once_match_a_fresh_figure_per_step(model, x):
    import io

    import numpy as np
    from PIL import Image

    from vae_course.figures import png_of

    path = nb07.z_path(model, x[0], ts=[-2.0, 0.0, 2.0], dim=1, n=3)
    fast = nb07.z_path_pngs(path)
    for i, png in enumerate(fast):
        fresh = png_of(nb07.plot_z_path(path, i), 72)
        a, b = (np.asarray(Image.open(io.BytesIO(p))) for p in (png, fresh))
        assert a.shape == b.shape and (a != b).any(-1).sum() == 0, f"step {i} differs from a fresh figure"


def test_the_test_digit_has_its_own_framed_panel(model, x):
    import matplotlib.pyplot as plt

    path = nb07.z_path(model, x[0], ts=[-1.0, 1.0], dim=0, n=4)
    fig = nb07.plot_z_path(path, 1)
    digit, samples, _ = fig.axes
    assert digit.get_title() == "test digit x" and len(digit.patches) == 1
    assert samples.images[0].get_array().shape == (8, 4 * 9 - 1)  # the samples only, not the test digit
    assert digit.get_position().x1 < samples.get_position().x0  # apart, left of the samples
    plt.close(fig)
