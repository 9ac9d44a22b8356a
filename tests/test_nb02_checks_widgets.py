"""Notebook 02: the latent explorer follows its sliders (the 2.1 checker is tested in tests/test_checks.py)."""

import numpy as np
import pytest
import torch
from helpers import pixels

from vae_course import nb02

F64 = torch.float64


# ---------------------------------------------------------------- the explorer, no browser


@pytest.fixture(scope="module")
def explorer():
    return nb02.LatentExplorer(k=200, repeats=50)


def test_initial_state_is_the_notebooks_x_star(explorer):
    s = explorer.state
    x = torch.tensor([0.45, 0.65], dtype=F64)
    assert torch.equal(s.x, x)
    assert s.exact == pytest.approx(nb02.log_px(x).item(), abs=1e-6)
    assert torch.allclose(s.w, nb02.weights(nb02.log_likelihood(x, explorer.z_draws)))
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert f"exact log p(x) = {s.exact:.3f}" in explorer.readout.value
    assert s.ess >= nb02.FEW_DRAWS and "⚠" not in explorer.readout.value  # on the curve: no warning


def test_moving_x_off_the_curve_moves_the_posterior_and_spoils_the_estimate(explorer):
    before_png, before = explorer.image.value, explorer.state
    explorer.controls["x1"].value = 2.5
    explorer.controls["x2"].value = 1.5
    s = explorer.state
    x = torch.tensor([2.5, 1.5], dtype=F64)
    assert torch.equal(s.x, x)
    mean, _ = nb02.posterior_moments(x, z=s.z)
    assert mean > 3.0 and (s.z[s.post.argmax()] - mean).abs() < 0.1
    assert torch.allclose(s.estimates, nb02.mc_log_px(nb02.log_likelihood(x, explorer.z_repeats.flatten())
                                                        .reshape(explorer.z_repeats.shape)))
    assert s.estimates.mean() < s.exact - 5 and before.estimates.std() < s.estimates.std()
    assert s.ess < before.ess and s.n_90 < before.n_90
    assert f"{s.n_90} of 200 prior draws carry 90%" in explorer.view.ax_z.get_title()
    assert f"{s.estimates.mean():.3f} ± {s.estimates.std():.3f}" in explorer.readout.value
    # off the curve the weight sits on a few draws, and the readout says so plainly
    assert s.ess < nb02.FEW_DRAWS and f"⚠ effective sample size below {nb02.FEW_DRAWS}" in explorer.readout.value
    assert "rests on a handful of the 200 draws" in explorer.readout.value
    assert np.abs(pixels(explorer.image.value) - pixels(before_png)).max() > 0.1
    # the star and the posterior curve in the picture follow the state
    assert explorer.view.point.get_xdata()[0] == 2.5
    assert np.allclose(explorer.view.post.get_ydata(), s.post.numpy())


def test_explorer_repr_is_stable_text(explorer):
    assert explorer._repr_mimebundle_()["text/plain"] == "[latent explorer: an interactive widget; run this cell in Jupyter to use it]"


def test_the_density_axis_never_rescales_and_holds_every_peak_of_the_sliders_range(explorer):
    """A fixed y-axis makes a taller or flatter posterior visible as one; it must hold every peak."""
    tops = []
    for x1, x2 in ((0.45, 0.65), (-0.7, 1.5), (2.5, 1.5), (0.0, 1.0), (-2.5, -1.5)):
        explorer.controls["x1"].value, explorer.controls["x2"].value = x1, x2
        tops.append(explorer.view.ax_z.get_ylim())
    assert len(set(tops)) == 1
    z = nb02.z_grid(1201)
    grid = torch.cartesian_prod(torch.arange(-2.5, 2.51, 0.25), torch.arange(-1.5, 1.51, 0.25)).double()
    peak = max(nb02.posterior(p, z=z).max().item() for p in grid)
    assert peak < tops[0][1]
