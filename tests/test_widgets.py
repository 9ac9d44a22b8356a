"""Explorers driven from Python, no browser: moving a control changes the data and the picture."""


import ipywidgets as widgets
import numpy as np
import pytest
import torch
from helpers import pixels

from vae_course import explorers, nb00, nb01


@pytest.fixture(scope="module")
def explorer():
    return nb01.PushforwardExplorer()


def test_initial_state_is_the_identity_map_of_a_normal(explorer):
    s = explorer.state
    assert torch.equal(s.samples, explorer.z["normal"])
    assert torch.allclose(s.density, torch.distributions.Normal(0.0, 1.0).log_prob(s.grid).exp().double())
    assert bytes(explorer.image.value).startswith(b"\x89PNG")


def test_moving_a_and_b_moves_the_same_samples_and_redraws(explorer):
    before_png, before = explorer.image.value, explorer.state
    explorer.controls["a"].value = 0.5
    explorer.controls["b"].value = 1.0
    s = explorer.state
    assert torch.allclose(s.samples, 0.5 * explorer.z["normal"] + 1.0)
    assert s.w1 == pytest.approx(0.0, abs=1e-12)  # the default target is N(1, 0.5²)
    assert "a match" in explorer.readout.value and "W₁(X, target) = 0.000" in explorer.readout.value
    assert s.density.max().item() == pytest.approx(1 / (0.5 * np.sqrt(2 * np.pi)), rel=1e-3)
    assert before.w1 > 0.5
    assert np.abs(pixels(explorer.image.value) - pixels(before_png)).max() > 0.1


def test_map_source_and_target_controls(explorer):
    explorer.controls["map"].value = "exp"
    explorer.controls["target"].value = "LogNormal(0, 0.5²)"
    explorer.controls["a"].value, explorer.controls["b"].value = 0.5, 0.0
    s = explorer.state
    ref = torch.distributions.LogNormal(torch.tensor(0.0, dtype=torch.float64), 0.5)
    inside = s.grid > 0
    assert torch.allclose(s.density[inside], ref.log_prob(s.grid[inside]).exp())
    assert torch.allclose(s.target_density[inside], ref.log_prob(s.grid[inside]).exp())
    assert s.w1 == pytest.approx(0.0, abs=1e-9)
    explorer.controls["source"].value = "uniform"
    s = explorer.state
    assert torch.allclose(s.samples, torch.exp(0.5 * explorer.z["uniform"]))
    assert s.w1 == pytest.approx(nb01.wasserstein_1d(nb01.Pushforward("uniform", "exp", 0.5, 0.0),
                                                     nb01.TARGETS["LogNormal(0, 0.5²)"]))
    assert "a match" not in explorer.readout.value


def test_histogram_heights_match_the_samples(explorer):
    s = explorer.state
    assert torch.allclose(s.heights, nb01.histogram_density(s.samples, s.edges))
    bars = explorer.view.hist.get_data().values
    assert np.allclose(bars, s.heights.numpy())


def test_explorer_repr_is_stable_text_plus_the_widget(explorer):
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == "[pushforward explorer: an interactive widget; run this cell in Jupyter to use it]"
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_installation_check_follows_its_slider():
    check = nb00.InstallationCheck()
    first = check.image.value
    check.controls["sigma"].value = 1.5
    assert torch.allclose(check.state.samples, 1.5 * check.z)
    assert "σ = 1.50" in check.readout.value and f"sample sd {1.5 * check.z.std():.2f}" in check.readout.value
    assert np.abs(pixels(check.image.value) - pixels(first)).max() > 0.1


def test_a_failing_computation_shows_a_message_not_a_traceback():
    def render(values):
        if values["x"] < 0:
            raise ValueError("x must be ≥ 0")
        return b"png", f"x = {values['x']}"

    e = explorers.Explorer({"x": widgets.FloatSlider(value=1.0, min=-1, max=1)}, render)
    e.controls["x"].value = -0.5
    assert "x must be ≥ 0" in e.readout.value and bytes(e.image.value) == b"png"
    assert e.updates == 1


def test_the_picture_is_shown_at_its_own_pixel_size(explorer):
    png = bytes(explorer.image.value)
    assert explorer.image.layout.width == f"{int.from_bytes(png[16:20], 'big')}px" == "720px"
