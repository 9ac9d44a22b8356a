"""Notebook 04's explorer and plots, driven from Python: the dial swaps data and picture."""

import dataclasses

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from helpers import pixels

from vae_course import figures, models, nb04

matplotlib.use("Agg")



@pytest.fixture(scope="module")
def summaries():
    gen = torch.Generator().manual_seed(3)
    x = torch.randint(0, 17, (60, 64), generator=gen).float() / 16
    labels = torch.arange(60) % 10
    z_prior, eps = torch.randn(16, 2, generator=gen), torch.randn(2, 60, 2, generator=gen)
    z_ref = torch.randn(100, 2, generator=gen)
    torch.manual_seed(0)
    out = {}
    for name, model in [("autoencoder", models.Autoencoder(hidden=16)), ("β = 1", models.VAE(hidden=16))]:
        out[name] = nb04.summarize_model(name, model, x, labels, x[:8], z_prior, eps, z_ref)
    return out


def _path(summaries):
    ae, vae = summaries["autoencoder"], summaries["β = 1"]
    ae.beta = 0.0
    return [ae, vae]


def test_beta_path_explorer_swaps_the_summary_the_readout_and_the_picture(summaries):
    path = _path(summaries)
    explorer = nb04.BetaPathExplorer(path)
    assert explorer.state is path[0]
    assert explorer.controls["model"].options == ("autoencoder", "β = 1")
    before_png = bytes(explorer.image.value)
    assert before_png.startswith(b"\x89PNG") and "autoencoder" in explorer.readout.value
    explorer.controls["model"].value = "β = 1"
    s = explorer.state
    assert s is path[1]
    assert f"<b>{s.mmd:.3f}</b>" in explorer.readout.value and f"<b>{s.mean_sigma:.3g}</b>" in explorer.readout.value
    assert "mean σ" in explorer.readout.value and "validation" in explorer.readout.value
    after_png = bytes(explorer.image.value)
    assert np.abs(pixels(after_png) - pixels(before_png)).max() > 0.1
    # the codes drawn are the summary's, the marker sits at its β and σ
    assert np.allclose(explorer.figure.codes.get_offsets(), s.mu.numpy())
    assert explorer.figure.marker.get_xdata()[0] == 1.0
    assert explorer.figure.held_marker.get_ydata()[0] == s.val_neg_elbo or s.val_neg_elbo is None
    # a red frame around exactly the decoded draws whose crosses are drawn, on a pattern set by hand
    far = torch.arange(len(s.z_prior)) % 3 == 0
    figure = nb04.BetaPathFigure([path[0], dataclasses.replace(s, prior_unvisited=far)])
    assert figure.update(dataclasses.replace(s, prior_unvisited=far)) == (int(far.sum()), len(far))
    assert [f.get_visible() for f in figure.frames] == far.tolist()
    assert np.allclose(figure.draws.get_offsets(), s.z_prior.numpy()[far.numpy()])
    explorer.controls["model"].value = "autoencoder"
    assert bytes(explorer.image.value) == before_png and explorer.updates == 3
    # the autoencoder (β = 0) has its own place on the σ curve's log axis, inside the axes
    x_ae = explorer.figure.marker.get_xdata()[0]
    lo, hi = explorer.figure.marker.axes.get_xlim()
    assert lo < x_ae < min(p.beta for p in path if p.beta > 0) and x_ae == explorer.figure.ae_x


def test_beta_path_explorer_needs_summaries():
    with pytest.raises(ValueError, match="at least one"):
        nb04.BetaPathExplorer([])
    with pytest.raises(TypeError, match="summarize"):
        nb04.BetaPathExplorer([models.VAE()])


def test_figures_of_notebook_04_are_legible(summaries):
    path = _path(summaries)
    with plt.rc_context({"figure.dpi": 90}):
        assert figures.legibility_problems(nb04.plot_generators(path)) == []
        assert figures.legibility_problems(nb04.plot_beta_path(path[1:])) == []
        fig = nb04.BetaPathFigure(path).fig
        assert figures.legibility_problems(fig, tight=False) == []
        # JupyterLab's column holds about 1000 px: a wider picture is shrunk, and its text with it
        for wide in (fig, nb04.plot_generators(path), nb04.plot_beta_path(path[1:])):
            assert wide.get_size_inches()[0] * 90 <= 1000
    plt.close("all")


def test_plots_are_titled_and_labelled(summaries):
    s = summaries["β = 1"]
    fig = nb04.plot_latent_summary(s)
    titles = [ax.get_title() for ax in fig.axes]
    assert any("codes" in t for t in titles) and any("MMD²" in t for t in titles)
    ax = figures.plot_codes(s.mu, s.labels)
    assert ax.get_xlabel() == "$z_1$" and len(ax.collections) == 1
    mu = torch.linspace(-3, 3, 7)
    lv = torch.linspace(-4, 2, 5)
    m, l = torch.meshgrid(mu, lv, indexing="xy")
    ax = nb04.plot_kl_landscape(mu, lv, 0.5 * (m**2 + l.exp() - l - 1))
    assert ax.get_xlabel() == r"$\mu$" and ax.get_title()
    ax = nb04.plot_kl_per_dimension({"a": torch.tensor([1.0, 0.001])})
    assert ax.get_yscale() == "log" and len(ax.patches) == 2
    ax = nb04.plot_kl_per_dimension({"8-D": torch.rand(8), "2-D": torch.rand(2)})
    assert list(ax.get_xticks()) == list(range(8))
    plt.close("all")


def test_plot_generations_shows_each_models_draws_and_the_class_mix():
    gen = torch.Generator().manual_seed(4)
    x = torch.randint(0, 17, (60, 64), generator=gen).float() / 16
    labels = torch.arange(60) % 10
    z, eps = torch.randn(50, 8, generator=gen), torch.randn(60, 8, generator=gen)
    torch.manual_seed(0)
    out = [nb04.summarize_generations(name, model, x, labels, z, eps, 2.0)
           for name, model in [("8-D autoencoder", models.Autoencoder(latent_dim=8, hidden=16)),
                               ("8-D, β = 1", models.VAE(latent_dim=8, hidden=16))]]
    with plt.rc_context({"figure.dpi": 90}):
        fig = nb04.plot_generations(out)
        assert figures.legibility_problems(fig) == []  # digits ≥ 48 px, text ≥ 9 px, nothing overlapping
        assert fig.get_size_inches()[0] * 90 <= 1000
    grids, bars = fig.axes[:2], fig.axes[2]
    assert [ax.get_title().split(":")[0] for ax in grids] == ["8-D autoencoder", "8-D, β = 1"]
    assert all(f"{s.unvisited:.0%}" in ax.get_title() for s, ax in zip(out, grids))
    # 36 draws shown per model; 10 classes × (2 models + the data) bars with the summaries' shares
    assert grids[0].images[0].get_array().shape == (6 * 9 - 1, 6 * 9 - 1)
    assert len(bars.patches) == 30 and bars.get_xlabel() and bars.get_ylabel() and bars.get_title()
    heights = [p.get_height() for p in bars.patches]
    assert np.allclose(heights[:10], out[0].class_shares.numpy()) and np.allclose(heights[20:], out[0].data_shares.numpy())
    with pytest.raises(ValueError, match="at least one"):
        nb04.plot_generations([])
    plt.close("all")


def test_plot_posterior_decodings_shows_each_decoding_minus_their_mean():
    gen = torch.Generator().manual_seed(5)
    x = torch.rand(64, generator=gen)
    flat, noisy = x.repeat(6, 1), (x + 0.1 * torch.randn(6, 64, generator=gen)).clamp(0, 1)
    with plt.rc_context({"figure.dpi": 90}):
        fig = nb04.plot_posterior_decodings(x, {"autoencoder": flat, "β = 1": noisy})
        assert figures.legibility_problems(fig) == [] and fig.get_size_inches()[0] * 90 <= 1000
    (top_ae, top_vae), (low_ae, low_vae) = fig.axes[0:2], fig.axes[2:4]
    diff = low_vae.images[0].get_array()
    # second tile of the bottom row: the first decoding minus the mean of the six, pixel by pixel
    expected = (noisy[0] - noisy.mean(0)).reshape(8, 8).numpy()
    assert np.allclose(diff[:8, 9:17], expected, atol=1e-6)
    assert np.ma.getmaskarray(diff)[:8, :8].all()  # no difference under the digit itself (NaN, drawn white)
    assert np.ma.abs(low_ae.images[0].get_array()).max() < 1e-6
    assert low_ae.images[0].get_clim() == low_vae.images[0].get_clim()  # one scale for both models
    assert "6 decodings" in top_ae.get_title() and top_vae.images[0].get_array().shape == (8, 7 * 9 - 1)
    with pytest.raises(ValueError, match="at least one"):
        nb04.plot_posterior_decodings(x, {})
    plt.close("all")
