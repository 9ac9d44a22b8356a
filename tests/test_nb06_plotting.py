"""Notebook 06 plots draw their data, in order, with titles and labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from vae_course import figures, nb06, training


def test_loss_terms_plot_both_curves_and_the_kept_epoch():
    h = training.History(train_rec=[3.0, 2.0, 1.0], val_rec=[3.5, 2.5, 2.7], train_kl=[0.1, 0.2, 0.3],
                         val_kl=[0.1, 0.2, 0.4], best_epoch=1)
    ax = nb06.plot_loss_terms(h, "rec")
    lines = ax.get_lines()
    assert list(lines[0].get_ydata()) == h.train_rec and list(lines[1].get_ydata()) == h.val_rec
    assert list(lines[2].get_xdata()) == [2, 2]  # epochs are counted from 1
    assert ax.get_xlabel() == "epoch" and "nats" in ax.get_ylabel() and ax.get_title()
    with pytest.raises(ValueError):
        nb06.plot_loss_terms(h, "elbo")
    plt.close("all")


def test_nll_estimates_on_a_log_axis_with_baselines():
    ax = nb06.plot_nll_estimates({1: 98.0, 10: 96.5, 1000: 95.9}, {"pixels": 106.5}, title="t")
    assert list(ax.get_lines()[0].get_ydata()) == [98.0, 96.5, 95.9]
    assert ax.get_xscale() == "log" and ax.get_lines()[1].get_ydata()[0] == 106.5
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_latent_grid_places_tiles_row_by_row_and_codes_plot():
    images = torch.zeros(4, 64)
    images[1] = 1.0  # second tile: top right (z₁ high, z₂ high)
    ax = nb06.plot_latent_grid(images, 1.0, title="grid")
    canvas = ax.get_images()[0].get_array()
    assert canvas.shape == (17, 17) and canvas[:8, 9:].min() == 1.0 and canvas[:8, :8].max() == 0.0
    assert np.ma.getmaskarray(canvas)[8].all()  # the gap between tile rows (NaN, drawn white)
    assert ax.get_images()[0].get_extent() == [-2.0, 2.0, -2.0, 2.0]  # tile centres at ±1
    with pytest.raises(ValueError):
        nb06.plot_latent_grid(torch.zeros(5, 64), 1.0)
    ax = figures.plot_codes(torch.tensor([[0.0, 1.0], [2.0, 3.0]]), torch.tensor([3, 7]), title="codes")
    assert np.allclose(ax.collections[0].get_offsets(), [[0, 1], [2, 3]]) and ax.get_xlabel() == "$z_1$"
    plt.close("all")
