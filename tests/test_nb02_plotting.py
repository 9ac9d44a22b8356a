"""Notebook 02's plots draw what they are given, with titles and labelled axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from vae_course import nb02


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_density_2d_shows_the_grid_values_and_the_points():
    x1, x2 = torch.linspace(-1, 1, 5), torch.linspace(0, 1, 3)
    density = torch.arange(15.0).reshape(3, 5)
    _, ax = plt.subplots()
    out = nb02.plot_density_2d(x1, x2, density, ax=ax, points=torch.zeros(4, 2), title="t")
    assert out is ax and ax.get_title() == "t" and ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert np.allclose(np.asarray(ax.collections[0].get_array()).reshape(3, 5), density.numpy())
    assert len(ax.collections[1].get_offsets()) == 4


def test_prior_posterior_draws_both_curves_and_a_weighted_rug():
    z = nb02.z_grid(201, 4.0)
    x = torch.tensor([0.45, 0.65], dtype=torch.float64)
    post = nb02.posterior(x, z=z)
    z_k = torch.tensor([-1.0, 0.4, 2.0], dtype=torch.float64)
    w = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    ax = nb02.plot_prior_posterior(z, nb02.prior_log_prob(z).exp(), post, z_draws=z_k, w=w, title="p")
    assert ax.get_title() == "p" and ax.get_xlabel() == "$z$" and ax.get_ylabel() == "density"
    assert np.allclose(ax.lines[1].get_ydata(), post.numpy())
    tops = [seg[1][1] for seg in ax.collections[0].get_segments()]
    assert tops[1] > 10 * tops[0] and tops[0] == pytest.approx(tops[2])


def test_estimate_spread_boxes_show_errors_around_zero():
    est = {2: torch.tensor([2.0, 3.0, 4.0]), 8: torch.tensor([7.0, 9.0, 11.0])}  # errors: median 1 and 4
    ax = nb02.plot_estimate_spread(est, {2: 2.0, 8: 5.0}, title="s")
    medians = [line.get_ydata()[0] for line in ax.lines if len(line.get_ydata()) == 2
               and line.get_ydata()[0] == line.get_ydata()[1]]
    assert 1.0 in medians and 4.0 in medians  # errors, not raw estimates (3 and 9)
    assert 3.0 not in medians and 9.0 not in medians
    assert ax.get_title() == "s" and ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "8"]
