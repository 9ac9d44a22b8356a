"""Exercise 2.1's checker rejects the typical mistakes; the latent explorer follows its sliders."""

import io
import math

import matplotlib.image as mpimg
import numpy as np
import pytest
import torch

from vae_course import checks, latent
from vae_course import widgets as vw

F64 = torch.float64


def run(fn, capsys):
    returned = checks.exercise_2_1(fn)
    return returned, capsys.readouterr().out


def correct_by_max(log_lik):
    m = log_lik.max(-1, keepdim=True).values
    return (m + torch.log(torch.exp(log_lik - m).mean(-1, keepdim=True))).squeeze(-1)


@pytest.mark.parametrize("fn", [lambda l: latent.mc_log_px(l), correct_by_max,
                                lambda l: torch.logsumexp(l, -1) - torch.log(torch.tensor(float(l.shape[-1])))])
def test_correct_answers_pass(fn, capsys):
    returned, out = run(fn, capsys)
    assert returned is fn
    assert out == f"✓ Exercise 2.1 passed ({len(checks.exercise_2_1.checks)} checks)\n"


MISTAKES = [
    (lambda l: torch.log(torch.exp(l).mean(-1)), "underflows"),
    (lambda l: torch.logsumexp(l, -1), "without − log K"),
    (lambda l: torch.log(torch.exp(l).sum(-1)), "without − log K"),
    (lambda l: l.mean(-1), "Jensen"),
    (lambda l: l.max(-1).values, "largest log-likelihood"),
    (lambda l: torch.logsumexp(l, -1) - l.shape[-1], "not K"),
    (lambda l: torch.logsumexp(l, 0) - math.log(l.shape[0]), "first axis"),
    (lambda l: torch.logsumexp(l, -1, keepdim=True) - math.log(l.shape[-1]), "shape"),
    (lambda l: torch.logsumexp(l.flatten(), 0) - math.log(l.numel()), "shape"),
    (lambda l: torch.logsumexp(l, -1) - math.log(l.shape[-1]) + 0.01, "values differ"),
]


@pytest.mark.parametrize("k", range(len(MISTAKES)))
def test_typical_mistakes_are_rejected_with_an_explanation(k, capsys):
    wrong, words = MISTAKES[k]
    returned, out = run(wrong, capsys)
    assert returned is latent.mc_log_px
    assert out.startswith("✗ Exercise 2.1:") and words in out and "Traceback" not in out
    assert "reference solution" in out


def test_not_attempted_and_non_functions_fall_back(capsys):
    def stub(log_lik):
        raise NotImplementedError("Exercise 2.1")

    returned, out = run(stub, capsys)
    assert returned is latent.mc_log_px and out.startswith("… Exercise 2.1 not attempted yet")
    returned, out = run(None, capsys)
    assert returned is latent.mc_log_px and "expected the function" in out


# ---------------------------------------------------------------- the explorer, no browser

def pixels(png: bytes) -> np.ndarray:
    return mpimg.imread(io.BytesIO(bytes(png)), format="png")


@pytest.fixture(scope="module")
def explorer():
    return vw.LatentExplorer(k=200, repeats=50)


def test_initial_state_is_the_notebooks_x_star(explorer):
    s = explorer.state
    x = torch.tensor([0.45, 0.65], dtype=F64)
    assert torch.equal(s.x, x)
    assert s.exact == pytest.approx(latent.log_px(x).item(), abs=1e-6)
    assert torch.allclose(s.w, latent.weights(latent.log_likelihood(x, explorer.z_draws)))
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert f"exact log p(x) = {s.exact:.3f}" in explorer.readout.value


def test_moving_x_off_the_curve_moves_the_posterior_and_spoils_the_estimate(explorer):
    before_png, before = explorer.image.value, explorer.state
    explorer.controls["x1"].value = 2.5
    explorer.controls["x2"].value = 1.5
    s = explorer.state
    x = torch.tensor([2.5, 1.5], dtype=F64)
    assert torch.equal(s.x, x)
    mean, _ = latent.posterior_moments(x, z=s.z)
    assert mean > 3.0 and (s.z[s.post.argmax()] - mean).abs() < 0.1
    assert torch.allclose(s.estimates, latent.mc_log_px(latent.log_likelihood(x, explorer.z_repeats.flatten())
                                                        .reshape(explorer.z_repeats.shape)))
    assert s.estimates.mean() < s.exact - 5 and before.estimates.std() < s.estimates.std()
    assert s.ess < before.ess and s.n_90 < before.n_90
    assert f"{s.n_90} of 200 prior draws carry 90%" in explorer.view.ax_z.get_title()
    assert f"{s.estimates.mean():.3f} ± {s.estimates.std():.3f}" in explorer.readout.value
    assert np.abs(pixels(explorer.image.value) - pixels(before_png)).max() > 0.1
    # the star and the posterior curve in the picture follow the state
    assert explorer.view.point.get_xdata()[0] == 2.5
    assert np.allclose(explorer.view.post.get_ydata(), s.post.numpy())


def test_explorer_repr_is_stable_text(explorer):
    assert explorer._repr_mimebundle_()["text/plain"] == "[latent explorer: an interactive widget; run this cell in Jupyter to use it]"
