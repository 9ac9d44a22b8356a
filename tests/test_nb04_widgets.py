"""Notebook 04's explorer and plots, driven from Python: the dial swaps data and picture."""


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


def test_dial_swaps_the_summary_the_readout_and_the_picture(summaries):
    explorer = nb04.BetaDialExplorer(summaries)
    assert explorer.state is summaries["autoencoder"]
    assert explorer.controls["model"].options == ("autoencoder", "β = 1")
    before_png = explorer.image.value
    assert bytes(before_png).startswith(b"\x89PNG") and "autoencoder" in explorer.readout.value
    explorer.controls["model"].value = "β = 1"
    s = explorer.state
    assert s is summaries["β = 1"]
    assert f"{s.mmd:.3f}" in explorer.readout.value and "active dimensions" in explorer.readout.value
    assert explorer.image.value == explorer.pngs["β = 1"] != before_png
    assert np.abs(pixels(explorer.image.value) - pixels(before_png)).max() > 0.1
    explorer.controls["model"].value = "autoencoder"
    assert explorer.image.value == before_png and explorer.updates == 3


def test_dial_needs_models():
    with pytest.raises(ValueError, match="at least one"):
        nb04.BetaDialExplorer({})
    with pytest.raises(TypeError, match="summarize"):
        nb04.BetaDialExplorer({"β = 1": models.VAE()})


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
