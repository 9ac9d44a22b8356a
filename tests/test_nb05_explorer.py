"""The reparameterization explorer driven from Python: data, numbers against the exact gradient, image bytes."""


import numpy as np
import pytest
import torch
from helpers import pixels

from vae_course import nb05


def changed(before: bytes, after: bytes) -> bool:
    return np.abs(pixels(after) - pixels(before)).max() > 0.1


@pytest.fixture()
def explorer():
    return nb05.ReparamExplorer()


def test_initial_state(explorer):
    s = explorer.state
    assert s.eps.shape == (100, 1000) and torch.equal(s.eps, explorer.eps_all[:, :1000])
    assert torch.equal(s.z, s.eps) and s.objective == "(z − t)²"
    assert torch.equal(s.exact, torch.tensor([-2.0, 2.0], dtype=torch.float64))
    assert bytes(explorer.image.value).startswith(b"\x89PNG")
    assert explorer._repr_mimebundle_()["text/plain"] == "[reparameterization explorer: an interactive widget; run this cell in Jupyter to use it]"


def test_moving_mu_slides_the_same_eps_and_redraws(explorer):
    png, z0 = explorer.image.value, explorer.state.z.clone()
    explorer.controls["mu"].value = 1.5
    s = explorer.state
    assert torch.equal(s.eps, explorer.eps_all[:, :1000])
    assert torch.allclose(s.z, z0 + 1.5)
    shown = explorer.view.z_dots.get_offsets()[:, 0]
    assert np.allclose(shown, s.z[0, :explorer.n_show].numpy())
    assert torch.allclose(s.exact, torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert "<td>exact</td><td>+1.000</td><td>+2.000</td>" in explorer.readout.value  # 2(1.5 − 1), 2σ
    assert changed(png, explorer.image.value)


def test_moving_sigma_stretches_around_mu_and_dz_dsigma_stays_eps(explorer):
    explorer.controls["mu"].value = -0.5
    before = explorer.readout.value
    png = explorer.image.value
    explorer.controls["sigma"].value = 2.0
    s = explorer.state
    assert torch.allclose(s.z - (-0.5), 2.0 * s.eps)
    eps_first = [f"<td>{e:+.2f}</td><td>{z:+.2f}</td><td>1</td><td>{e:+.2f}</td>"
                 for e, z in zip(s.eps[0, :4].tolist(), s.z[0, :4].tolist())]
    assert all(row in explorer.readout.value for row in eps_first)  # dz/dmu = 1, dz/dsigma = eps
    assert before != explorer.readout.value and changed(png, explorer.image.value)


@pytest.mark.parametrize("name", list(nb05.OBJECTIVES))
@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.8, 0.6), (-2.0, 2.0)])
def test_explorer_numbers_agree_with_the_exact_gradient(explorer, name, mu, sigma):
    explorer.controls["objective"].value = name
    explorer.controls["mu"].value, explorer.controls["sigma"].value = mu, sigma
    s = explorer.state
    assert torch.allclose(s.exact, nb05.quadrature_grad(lambda z: nb05.objective(name, z)[0], mu, sigma), atol=1e-4)
    assert (s.z_scores("score").abs() < 4).all(), s.z_scores("score")
    if name == "step 1[z > t]":
        assert torch.equal(s.pathwise, torch.zeros_like(s.pathwise))
    else:
        assert (s.z_scores("pathwise").abs() < 4).all(), s.z_scores("pathwise")
    assert f"<td>exact</td><td>{s.exact[0].item():+.3f}</td>" in explorer.readout.value
    mean = s.mean("score")
    assert f"<td>score function</td><td>{mean[0]:+.3f} ± {s.sd('score')[0]:.3f}</td>" in explorer.readout.value


def test_fewer_samples_widen_the_spread_by_root_ten(explorer):
    sd_1000 = explorer.state.sd("score").clone(), explorer.state.sd("pathwise").clone()
    png = explorer.image.value
    explorer.controls["n"].value = 100
    s = explorer.state
    assert s.eps.shape == (100, 100) and torch.equal(s.eps, explorer.eps_all[:, :100])
    for before, after in zip(sd_1000, (s.sd("score"), s.sd("pathwise"))):
        assert torch.allclose(after / before, torch.full((2,), 10**0.5, dtype=torch.float64), rtol=0.3)
    assert changed(png, explorer.image.value)


def test_choosing_the_objective_redraws_f(explorer):
    png = explorer.image.value
    explorer.controls["objective"].value = "|z − t|"
    assert np.allclose(explorer.view.f_line.get_ydata(), np.abs(explorer.view.grid - 1.0))
    assert explorer.state.objective == "|z − t|" and changed(png, explorer.image.value)
    assert explorer.view.axes["f"].get_ylim() == nb05.OBJECTIVE_YLIM["|z − t|"]


def test_spread_panels_show_the_batch_estimates(explorer):
    s = explorer.state
    for i, p in enumerate(("mu", "sigma")):
        art = explorer.view.spread[p]
        assert np.allclose(art["score"].get_offsets()[:, 0], s.score[:, i].numpy())
        assert np.allclose(art["pathwise"].get_offsets()[:, 0], s.pathwise[:, i].numpy())
        assert art["exact"].get_xdata()[0] == pytest.approx(s.exact[i].item())
        lo, hi = explorer.view.axes[p].get_xlim()
        assert lo < s.score[:, i].min() and s.score[:, i].max() < hi


def test_the_figure_draws_the_picture_computed_in_compute(explorer):
    explorer.controls["mu"].value = 0.7
    explorer.controls["objective"].value = "|z − t|"
    p, s = explorer.picture, explorer.state
    assert p.summary is s and torch.equal(p.z, s.z[0, :explorer.n_show])
    assert torch.allclose(p.f_curve, (p.grid - 1.0).abs())
    assert torch.allclose(p.tangents[:, 1, 1] - p.tangents[:, 0, 1], 3.2 * p.df)  # half-width 1.6
    assert torch.allclose(p.bell, torch.exp(-0.5 * ((p.grid - 0.7) / s.sigma) ** 2))
    assert torch.equal(p.mean["score"], s.mean("score")) and torch.equal(p.sd["pathwise"], s.sd("pathwise"))
    jitter = explorer.view.spread["mu"]["jitter"]
    assert np.array_equal(jitter, p.jitter.numpy()) and np.array_equal(jitter, nb05.reparam_picture(s).jitter.numpy())
    assert np.allclose(explorer.view.density.get_ydata(), 1.05 + 0.75 * p.bell.numpy())
    # blitting leaves nothing stale: the PNG equals a full redraw of the same figure
    explorer.view.blit.invalidate()
    assert np.abs(pixels(explorer.view.png()) - pixels(explorer.image.value)).max() < 1e-6


def test_estimator_sd_plot_is_labelled():
    rows = nb05.variance_table("(z − t)²", 0.0, 1.0, [10, 100], repeats=20, generator=torch.Generator().manual_seed(0))
    ax = nb05.plot_estimator_sd(rows)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_xscale() == "log"
    assert len(ax.get_lines()) == 5


def test_same_eps_plot_puts_each_row_at_mu_plus_sigma_eps():
    eps = torch.tensor([-1.0, 0.2, 1.5], dtype=torch.float64)
    settings = [(0.0, 1.0), (1.5, 0.4)]
    ax = nb05.plot_same_eps(eps, settings)
    rows = [c.get_offsets() for c in ax.collections]
    assert np.allclose(rows[0][:, 0], eps.numpy())
    for (mu, sigma), row in zip(settings, rows[1:]):
        assert np.allclose(row[:, 0], mu + sigma * eps.numpy()) and np.all(row[:, 1] == row[0, 1])
    assert ax.get_title() and ax.get_xlabel() == "value"
    assert [t.get_text() for t in ax.get_yticklabels()][1] == "μ = 0, σ = 1"


def test_bad_explorer_arguments_are_refused():
    with pytest.raises(ValueError, match="repeats must be a whole number"):
        nb05.ReparamExplorer(repeats=1)


def test_the_estimate_axes_do_not_move_with_n_and_the_readout_gives_the_widening(explorer):
    explorer.controls["mu"].value = 0.5
    limits = {p: explorer.view.axes[p].get_xlim() for p in ("mu", "sigma")}
    sd_1000 = explorer.state.sd("score").clone()
    for n in (100, 10, 3000):
        explorer.controls["n"].value = n
        assert {p: explorer.view.axes[p].get_xlim() for p in ("mu", "sigma")} == limits
        w = explorer.picture.widening["score"]
        assert torch.allclose(w, explorer.state.sd("score") / sd_1000)
        assert f"<td>{w[0]:.2f}×, {w[1]:.2f}×</td></tr><tr><td>exact" in explorer.readout.value  # the score row
    explorer.controls["sigma"].value = 2.0  # a new setting gets its own axes
    assert explorer.view.axes["sigma"].get_xlim() != limits["sigma"]
    explorer.controls["objective"].value = "step 1[z > t]"
    assert explorer.picture.widening["pathwise"].isnan().all()
    assert "<td>pathwise</td>" in explorer.readout.value and "</td><td>—</td></tr><tr><td>score function" in explorer.readout.value


@pytest.mark.parametrize("name, mu, sigma", [("(z − t)²", 0.0, 1.0), ("|z − t|", 0.7, 1.3), ("step 1[z > t]", -0.4, 0.8)])
def test_term_sd_is_the_sd_of_single_terms_by_monte_carlo(name, mu, sigma):
    eps = torch.randn(400, 2000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    s = nb05.summarize_gradients(name, mu, sigma, eps)
    sd = nb05.term_sd(name, mu, sigma)
    for row, which in enumerate(("pathwise", "score")):
        got = getattr(s, which).std(0) * 2000**0.5  # sd of a mean of 2,000 terms, times √2,000
        assert torch.allclose(got, sd[row], rtol=0.12, atol=1e-12), (which, got, sd[row])
    lo, hi = nb05.axis_range(name, mu, sigma, n=100).unbind(-1)
    assert (hi - lo > 0).all() and (lo < s.exact).all() and (s.exact < hi).all()
    # what each estimator averages to (the biased pathwise 0 of the step) lies on the axis, where its dots are
    expected = nb05.estimator_expectation(name, mu, sigma)
    for which, row in (("pathwise", expected[0]), ("score", expected[1])):
        assert torch.allclose(getattr(s, which).mean(0), row, atol=5 * sd[0 if which == "pathwise" else 1].max() / 400**0.5 / 2000**0.5 + 1e-12)
        assert (lo < row).all() and (row < hi).all()
    if name != "step 1[z > t]":  # unbiased estimators: the axis is centred on the exact gradient
        assert torch.allclose((lo + hi) / 2, s.exact)


def test_the_step_pathwise_estimates_lie_on_the_estimate_axes():
    """The pathwise estimate of the step is exactly 0, a long way from the exact gradient: its dots must be
    inside the axes (a reader found them off the ∂/∂μ axis, where the range was set by the exact value alone)."""
    ex = nb05.ReparamExplorer()
    for mu in (0.0, 0.6, -1.0):
        ex.controls["mu"].value = mu
        ex.controls["objective"].value = "step 1[z > t]"
        for i, p in enumerate(("mu", "sigma")):
            lo, hi = ex.view.axes[p].get_xlim()
            dots = ex.view.spread[p]["pathwise"].get_offsets()[:, 0]
            assert np.all(dots == 0) and lo < 0 < hi, (mu, p, lo, hi)
            assert lo < ex.state.exact[i].item() < hi


def test_reparam_picture_refuses_a_reference_of_another_setting():
    eps = torch.randn(5, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a, b = (nb05.summarize_gradients("(z − t)²", mu, 1.0, eps) for mu in (0.0, 1.0))
    with pytest.raises(ValueError, match="same setting"):
        nb05.reparam_picture(a, reference=b)


def test_the_computation_graph_draws_both_graphs_legibly_and_only_the_second_reaches_the_encoder():
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    from vae_course.figures import legibility_problems

    fig = nb05.plot_computation_graph(title="where the gradient goes")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert legibility_problems(fig, tight=False) == [] and legibility_problems(fig, dpi=90, tight=False) == []
    sampled, reparam = fig.axes
    assert "Sampling" in sampled.get_title(loc="left") and "Reparameterized" in reparam.get_title(loc="left")
    red = nb05.GRAPH_COLORS["gradient"]

    def gradient_arrows(ax):
        return [p for p in ax.patches if isinstance(p, FancyArrowPatch)
                and np.allclose(p.get_edgecolor()[:3], to_rgb(red))]

    texts = lambda ax: " ".join(t.get_text() for t in ax.texts)  # noqa: E731
    # sampling: the gradient reaches z from the loss through the decoder (2 arrows) and stops there
    assert len(gradient_arrows(sampled)) == 2 and "no gradient" in texts(sampled) and "varepsilon" not in texts(sampled)
    # reparameterized: on to mu and sigma (dz/dmu = 1, dz/dsigma = eps) and into the encoder
    assert len(gradient_arrows(reparam)) == 6
    for label in (r"\partial z/\partial\mu = 1", r"\partial z/\partial\sigma = \varepsilon", r"\varepsilon \sim"):
        assert label in texts(reparam), label
    with pytest.raises(TypeError, match="two matplotlib Axes"):
        nb05.plot_computation_graph(axes=[sampled])


def test_every_control_has_a_hover_text(explorer):
    """JupyterLab shows the tooltip "null" on a slider's label when none is set (seen in Chromium)."""
    for name, control in explorer.controls.items():
        assert control.tooltip and control.description, name


def test_the_f_panel_draws_e_f_against_mu_with_the_exact_gradient_as_its_slope(explorer):
    for name, mu, sigma in (("(z − t)²", 0.0, 1.0), ("|z − t|", -1.0, 0.7), ("step 1[z > t]", 0.5, 1.2)):
        explorer.controls["objective"].value = name
        explorer.controls["mu"].value, explorer.controls["sigma"].value = mu, sigma
        view, s = explorer.view, explorer.state
        assert np.allclose(view.mean_curve.get_ydata(), nb05.expected_value(name, torch.from_numpy(view.grid), sigma))
        (x0, x1), (y0, y1) = view.mean_tangent.get_xdata(), view.mean_tangent.get_ydata()
        assert (y1 - y0) / (x1 - x0) == pytest.approx(s.exact[0].item())  # the slope is ∂E[f]/∂μ
        assert (x0 + x1) / 2 == pytest.approx(mu)
        assert (y0 + y1) / 2 == pytest.approx(nb05.expected_value(name, mu, sigma).item())
        assert view.mean_dot.get_xdata()[0] == pytest.approx(mu)


def test_the_bars_sit_above_their_clouds_with_caps_and_the_reference_bar_shows_the_widening(explorer):
    def bars():
        out = {}
        for i, p in enumerate(("mu", "sigma")):
            art = explorer.view.spread[p]
            for which in ("pathwise", "score"):
                cloud_top = art[which].get_offsets()[:, 1].max()
                bar, caps, ref = art[which + "_bar"], art[which + "_caps"], art[which + "_ref"]
                assert min(bar.get_ydata()) > cloud_top and min(ref.get_ydata()) > max(bar.get_ydata())
                mean, sd = explorer.picture.mean[which][i].item(), explorer.picture.sd[which][i].item()
                assert np.allclose(bar.get_xdata(), [mean - sd, mean + sd])
                assert np.allclose(caps.get_xdata(), [mean - sd, mean + sd]) and caps.get_marker() == "|"
                out[p, which] = (np.ptp(bar.get_xdata()), np.ptp(ref.get_xdata()), ref.get_visible())
        return out

    at_1000 = bars()
    assert not any(visible for _, _, visible in at_1000.values())  # at n = 1,000 the grey bar would be the bar
    explorer.controls["n"].value = 100
    at_100 = bars()
    for key, (width, ref_width, visible) in at_100.items():
        assert visible and ref_width == pytest.approx(at_1000[key][0])  # grey: the bar of n = 1,000
        assert width / ref_width == pytest.approx(10**0.5, rel=0.3), key  # the colour bar is about √10 wider


def test_the_explorer_picture_is_legible_at_about_800_by_500(explorer):
    from PIL import Image

    from vae_course.figures import legibility_problems

    for name in nb05.OBJECTIVES:
        explorer.controls["objective"].value = name
        explorer.controls["n"].value = 100
        assert legibility_problems(explorer.view.fig, tight=False) == [], name
    import io
    assert Image.open(io.BytesIO(explorer.image.value)).size == (800, 500)


def test_the_training_plot_starts_at_epoch_0_and_says_where_the_untrained_point_is():
    from types import SimpleNamespace

    from vae_course.figures import legibility_problems

    runs = {"pathwise": SimpleNamespace(val_loss=torch.tensor([300.0, 116.0, 112.0, 111.0], dtype=torch.float64)),
            "score function": SimpleNamespace(val_loss=torch.tensor([300.0, 119.0, 113.0, 112.5], dtype=torch.float64))}
    ax = nb05.plot_estimator_runs(runs)
    for line in ax.get_lines():
        assert line.get_xdata()[0] == 0
    lo, hi = ax.get_ylim()
    assert hi < 300 and lo < 111
    notes = [t.get_text() for t in ax.texts]
    assert any("untrained,\n300 nats" in t and "epoch 0" in t for t in notes), notes
    assert ax.get_title() and ax.get_xlabel() == "epoch" and legibility_problems(ax.figure) == []
    for r in runs.values():
        r.val_loss[0] = 120.0  # an epoch 0 inside the axis needs no note
    assert len(nb05.plot_estimator_runs(runs).texts) == 0
