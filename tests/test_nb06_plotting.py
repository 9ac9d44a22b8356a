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


def test_kl_dimensions_bars_colour_the_active_ones_and_mark_the_threshold():
    import collections

    Dims = collections.namedtuple("Dims", "kl threshold active n_active")
    kl = torch.tensor([1.5, 0.0001, 0.02, 2.0])
    ax = nb06.plot_kl_dimensions(Dims(kl, 0.3, kl > 0.3, 2))
    bars = ax.patches
    heights = {round(b.get_x() + b.get_width() / 2): b.get_height() for b in bars}
    assert heights == pytest.approx({1: 1.5, 2: 1e-3, 3: 0.02, 4: 2.0})  # below 10⁻³ drawn at 10⁻³
    colours = {round(b.get_x() + b.get_width() / 2): b.get_facecolor() for b in bars}
    assert colours[1] == colours[4] != colours[2] == colours[3]
    assert ax.get_yscale() == "log" and ax.get_lines()[0].get_ydata()[0] == 0.3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "active: 2 of 4" in labels and "≈ prior: 2 of 4" in labels
    assert "2 of 4" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    plt.close("all")


def test_posterior_vs_q_contours_enclose_the_stated_mass():
    """For N(0, I) in 2-D the region holding a share m of the mass is the disc of radius √(−2 log(1 − m))."""
    ticks = torch.linspace(-5, 5, 401, dtype=torch.float64)
    z1, z2 = torch.meshgrid(ticks, ticks, indexing="ij")
    log_n = -0.5 * (z1**2 + z2**2) - np.log(2 * np.pi)
    log_q = -0.5 * ((z1 - 1) ** 2 + z2**2) / 0.25 - np.log(2 * np.pi * 0.25)  # N((1, 0), 0.5² I)
    ax = nb06.plot_posterior_vs_q(ticks, log_n, log_q, title="t")
    sets = [c for c in ax.collections if type(c).__name__ in ("ContourSet", "QuadContourSet")]
    exact, q = sets[1], sets[2]  # contourf, then the posterior's lines, then q's
    for cs, centre, scale in ((exact, 0.0, 1.0), (q, 1.0, 0.5)):
        radii = sorted(np.hypot(p.vertices[:, 0] - centre, p.vertices[:, 1]).mean() for p in cs.get_paths() if len(p.vertices))
        assert radii == pytest.approx([scale * np.sqrt(-2 * np.log(1 - m)) for m in (0.5, 0.9)], rel=0.02)
    assert ax.get_aspect() == 1.0
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().y0 < ax.get_window_extent().y0  # under the axes
    assert nb06.plot_posterior_vs_q(ticks, log_n, log_q, legend=False).get_legend() is None
    plt.close("all")
