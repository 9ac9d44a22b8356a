"""Plotting functions draw what they are given, on the given axes, with a title and labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from vae_course import data, figures, nb01


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_density_check_draws_the_histogram_and_the_curve(gen):
    x = torch.randn(1000, generator=gen, dtype=torch.float64)
    grid = torch.linspace(-3, 3, 50, dtype=torch.float64)
    edges = torch.linspace(-3, 3, 13, dtype=torch.float64)
    _, ax = plt.subplots()
    out = nb01.plot_density_check(x, grid, grid.abs(), edges, ax=ax, title="t")
    assert out is ax and ax.get_title() == "t" and ax.get_xlabel() and ax.get_ylabel() == "density"
    heights = np.array([p.get_height() for p in ax.patches])
    inside = ((x >= -3) & (x <= 3)).double().mean().item()
    assert heights.sum() * 0.5 == pytest.approx(inside)  # a density: area = share inside
    assert np.allclose(ax.lines[0].get_ydata(), grid.abs().numpy())


def test_image_grid_tiles_images_in_order():
    imgs = torch.stack([torch.full((64,), v) for v in (0.0, 0.5, 1.0)])
    ax = figures.image_grid(imgs, 2, title="grid")
    canvas = ax.images[0].get_array()
    assert canvas.shape == (17, 17) and ax.get_title() == "grid"
    assert canvas[0, 0] == 0.0 and canvas[0, 9] == 0.5 and canvas[9, 0] == 1.0
    assert np.ma.is_masked(canvas[9, 9]) or np.isnan(canvas[9, 9])  # the empty cell


def test_generation_flow_shows_z_generated_and_data():
    train = data.load_digits("train")
    z = torch.zeros(6, 2)
    fig = nb01.plot_generation_flow(z, train.x[6:12], train.x[:6])
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 13
    assert "$\\hat X_{1}$" in titles and "$X_{6}$" in titles
    rows = [ax.get_ylabel() for ax in fig.axes[1:] if ax.get_ylabel()]  # each row of images says what it is
    assert rows == ["generated\n$\\hat X_k = g(Z_k)$", "training\ndata $X_k$"]
    assert fig.axes[0].get_xlabel() == "$z_1$" and fig.axes[0].get_ylabel() == "$z_2$"


def test_pairing_costs_and_bars_are_labelled():
    ax = nb01.plot_pairing_costs(torch.rand(50), 0.5, 0.1)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert [line.get_xdata()[0] for line in ax.lines] == [0.5, 0.1]
    ax = figures.plot_bars({"a": 1.0, "b": 2.5}, title="bars", ylabel="y")
    assert [t.get_text() for t in ax.texts] == ["1.000", "2.500"] and ax.get_title() == "bars"
