"""Notebook 01's additions, each against an independent computation: the log-normal density of
Exercise 1.3 (torch.distributions.LogNormal), the formula without its Jacobian factor (quadrature and
its closed form), the 2-D fan map (autograd Jacobians, shoelace areas), and the explorer's x-range."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import LogNormal, Normal

from vae_course import figures, nb01

F64 = torch.float64


@pytest.mark.parametrize("mu, sigma", [(0.0, 0.5), (0.3, 0.8), (-1.2, 1.7)])
def test_lognormal_density_is_torch_lognormal_and_the_exp_pushforward(mu, sigma):
    x = torch.logspace(-3, 2, 200, dtype=F64)
    want = LogNormal(torch.tensor(mu, dtype=F64), sigma).log_prob(x).exp()
    assert torch.allclose(nb01.lognormal_density(x, mu, sigma), want, rtol=1e-10, atol=1e-300)
    assert torch.allclose(nb01.Pushforward("normal", "exp", sigma, mu).density(x), want, rtol=1e-10, atol=1e-300)


def test_lognormal_density_matches_a_histogram_of_exp_samples():
    gen = torch.Generator().manual_seed(3)
    x = torch.exp(0.3 + 0.8 * torch.randn(400_000, generator=gen, dtype=F64))
    edges = torch.linspace(0.2, 4, 39, dtype=F64)
    # each bin's share of the draws against the density integrated over the bin (quadrature)
    fine = torch.stack([torch.linspace(lo, hi, 201, dtype=F64) for lo, hi in zip(edges[:-1], edges[1:])])
    mass = torch.trapezoid(nb01.lognormal_density(fine, 0.3, 0.8), fine, dim=1)
    counts, expected = nb01.histogram_density(x, edges) * edges.diff() * len(x), mass * len(x)
    assert ((counts - expected).abs() / expected.sqrt()).max() < 4.5  # within 4.5 Poisson sd in all 38 bins
    assert not ((counts - 1.05 * expected).abs() / expected.sqrt()).max() < 4.5  # and 5% off is caught


@pytest.mark.parametrize("call, words", [
    (lambda: nb01.lognormal_density(torch.tensor([1.0, 0.0]), 0.0, 1.0), "x must be positive"),
    (lambda: nb01.lognormal_density(torch.tensor([1.0]), 0.0, -1.0), "sigma must be > 0"),
    (lambda: nb01.fan_map(torch.zeros(3)), "shape (..., 2)"),
    (lambda: nb01.grid_cells(1.0, 0.0, 4), "lo must be below hi"),
    (lambda: nb01.polygon_areas(torch.zeros(3, 2)), "shape (M, P, 2)"),
    (lambda: nb01.central_interval(nb01.Pushforward("normal", "affine", 1, 0), 1.0), "strictly between 0 and 1"),
])
def test_bad_input_gets_a_clear_message(call, words):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert words in str(info.value)


def test_without_the_jacobian_the_curve_integrates_to_the_mean_slope_and_is_a_shifted_lognormal():
    p = nb01.Pushforward("normal", "exp", 0.5, 0.0)
    x = torch.linspace(1e-9, 40, 400_001, dtype=F64)
    wrong = nb01.jacobian_free_density(p, x)
    assert torch.allclose(wrong, p.density(x) * 0.5 * x)  # p_X(x)·|g'(g⁻¹(x))|, g'(z) = x/2
    area = torch.trapezoid(wrong, x).item()
    gen = torch.Generator().manual_seed(0)
    mean_slope = (0.5 * torch.exp(0.5 * torch.randn(1_000_000, generator=gen, dtype=F64))).mean().item()
    assert area == pytest.approx(0.5 * math.exp(1 / 8), rel=1e-6)  # E[g'(Z)] = ½ e^{1/8}
    assert area == pytest.approx(mean_slope, rel=3e-3)
    shifted = LogNormal(torch.tensor(0.25, dtype=F64), 0.5).log_prob(x[1:]).exp()
    assert torch.allclose(wrong[1:] / area, shifted, rtol=1e-6, atol=1e-12)
    assert torch.trapezoid(p.density(x), x).item() == pytest.approx(1.0, abs=1e-6)


def test_jacobian_free_density_is_zero_outside_the_range_of_g():
    p = nb01.Pushforward("normal", "exp", 1.0, 0.0)
    assert torch.equal(nb01.jacobian_free_density(p, torch.tensor([-1.0, 0.0], dtype=F64)), torch.zeros(2, dtype=F64))


def test_fan_log_det_is_the_autograd_jacobian_determinant():
    z = torch.tensor([[0.3, -1.1], [-2.0, 1.9], [1.5, 0.0]], dtype=F64)
    for zi, log_det in zip(z, nb01.fan_log_det(z)):
        jac = torch.autograd.functional.jacobian(nb01.fan_map, zi)
        assert torch.linalg.det(jac).abs().log().item() == pytest.approx(log_det.item(), abs=1e-12)


def test_fan_map_is_one_to_one_on_the_grid_it_is_drawn_on():
    z = torch.rand(1000, 2, generator=torch.Generator().manual_seed(1), dtype=F64) * 4 - 2
    x = nb01.fan_map(z)
    back = torch.stack([2 * torch.log(x.norm(dim=1)), 2 * torch.atan2(x[:, 1], x[:, 0])], 1)
    assert torch.allclose(back, z)


def test_shoelace_areas_and_warped_cells_grow_by_the_jacobian_determinant():
    square = torch.tensor([[[0, 0], [2, 0], [2, 1], [0, 1]]], dtype=F64)
    assert nb01.polygon_areas(square).item() == 2.0
    outlines, centres = nb01.grid_cells(-2, 2, 20)
    assert torch.allclose(nb01.polygon_areas(outlines), torch.full((400,), 0.04, dtype=F64))
    ratio = nb01.polygon_areas(nb01.fan_map(outlines)) / 0.04
    assert torch.allclose(ratio, nb01.fan_log_det(centres).exp(), rtol=0.01)
    assert not torch.allclose(ratio, torch.ones_like(ratio), rtol=0.5)  # the map does change areas


def test_the_grid_picture_is_legible():
    outlines, centres = nb01.grid_cells(-2, 2, 8)
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    fig = nb01.plot_grid_warp(outlines, nb01.fan_map(outlines), nb01.fan_log_det(centres), z, nb01.fan_map(z))
    assert figures.legibility_problems(fig) == []
    assert len(fig.axes) == 3  # two panels and the colour bar


TARGETS = nb01.TARGETS


@pytest.mark.parametrize("source, g, a, b, target", [
    ("normal", "affine", 1.0, 0.0, "N(1, 0.5²)"), ("normal", "sigmoid", 1.5, 0.0, "LogitNormal(0, 1.5²)"),
    ("uniform", "affine", 2.0, -1.0, "U(−1, 1)"), ("normal", "exp", 0.5, 0.0, "LogNormal(0, 0.5²)"),
    ("uniform", "sigmoid", 3.0, -1.5, "N(1, 0.5²)")])
def test_view_range_holds_both_distributions_and_they_fill_it(source, g, a, b, target):
    p, t = nb01.Pushforward(source, g, a, b), TARGETS[target]
    lo, hi = nb01.view_range(p, t)
    (p_lo, p_hi), (t_lo, t_hi) = nb01.central_interval(p, 0.9), nb01.central_interval(t, 0.98)
    assert lo <= min(p_lo, t_lo) and max(p_hi, t_hi) <= hi
    assert (max(p_hi, t_hi) - min(p_lo, t_lo)) >= 0.5 * (hi - lo)
    if min(p_lo, t_lo) >= 0:
        assert lo == 0.0  # positive draws: the axis starts at 0, not below


@pytest.mark.parametrize("a", [1.0, 2.0, 3.0])
def test_a_very_skewed_pushforward_does_not_empty_the_view(a):
    """exp with a large a: the view stays near the target (at most 3 target widths, or 4) and holds at
    least 3/4 of the draws of exp(a·Z) with a ≤ 1, more than half with a = 3."""
    p, t = nb01.Pushforward("normal", "exp", a, 0.0), TARGETS["LogNormal(0, 0.5²)"]
    lo, hi = nb01.view_range(p, t)
    t_lo, t_hi = nb01.central_interval(t, 0.98)
    assert lo <= t_lo and t_hi <= hi and hi - lo <= 1.3 * max(3 * (t_hi - t_lo), 4.0)
    x = torch.exp(a * torch.randn(100_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    share = ((x >= lo) & (x <= hi)).double().mean().item()
    assert share > (0.75 if a <= 1 else 0.5)


def test_central_interval_is_the_quantiles():
    p = nb01.Pushforward("normal", "affine", 2.0, 1.0)
    lo, hi = nb01.central_interval(p, 0.9)
    ref = Normal(1.0, 2.0)
    assert lo == pytest.approx(ref.icdf(torch.tensor(0.05)).item(), abs=1e-5)
    assert hi == pytest.approx(ref.icdf(torch.tensor(0.95)).item(), abs=1e-5)


def test_view_range_stays_put_for_small_moves_and_follows_big_ones():
    t = TARGETS["N(1, 0.5²)"]
    first = nb01.view_range(nb01.Pushforward("normal", "affine", 1.0, 0.0), t)
    assert nb01.view_range(nb01.Pushforward("normal", "affine", 0.9, 0.2), t, first) == first
    narrower = nb01.Pushforward("normal", "affine", 0.6, 0.5)
    assert nb01.view_range(narrower, t) != first  # on its own it would get another range ...
    assert nb01.view_range(narrower, t, first) == first  # ... but the current one still fits: kept
    moved = nb01.view_range(nb01.Pushforward("normal", "affine", 1.0, 3.0), t, first)
    assert moved != first and moved[1] >= nb01.central_interval(nb01.Pushforward("normal", "affine", 1.0, 3.0))[1]


def test_explorer_x_range_follows_the_map_and_stays_while_a_moves():
    e = nb01.PushforwardExplorer(n=500)
    wide = e.range
    e.controls["map"].value = "sigmoid"
    e.controls["target"].value = "LogitNormal(0, 1.5²)"
    assert e.range[1] - e.range[0] <= 1.5 and e.state.share_in_view == 1.0
    assert e.view.ax.get_xlim() == pytest.approx(e.range)
    kept = e.range
    e.controls["a"].value = 1.4
    assert e.range == kept and e.range != wide
    ticks = e.view.ax.get_xticks()
    assert ticks.min() >= kept[0] - 1e-9 and ticks.max() <= kept[1] + 1e-9


@pytest.mark.parametrize("settings", [
    {}, {"map": "sigmoid", "target": "LogitNormal(0, 1.5²)", "a": 1.5},  # y ticks 0.25, 0.50, …
    {"map": "exp", "a": 0.3, "b": -1.0}, {"source": "uniform", "map": "affine", "a": 0.2, "b": 0.4}])
def test_explorer_picture_keeps_every_label_on_its_canvas(settings):
    e = nb01.PushforwardExplorer(n=500)
    for name, value in settings.items():
        e.controls[name].value = value
    assert figures.legibility_problems(e.view.fig, tight=False) == []
    assert e.view.ax.get_ylabel() == "density"


@pytest.mark.parametrize("target, source, g, a, b", [
    ("N(1, 0.5²)", "normal", "affine", 0.5, 1.0), ("LogNormal(0, 0.5²)", "normal", "exp", 0.5, 0.0),
    ("U(−1, 1)", "uniform", "affine", 2.0, -1.0), ("LogitNormal(0, 1.5²)", "normal", "sigmoid", 1.5, 0.0)])
def test_the_answer_below_the_explorer_matches_every_target(target, source, g, a, b):
    e = nb01.PushforwardExplorer(n=200)
    for name, value in (("target", target), ("source", source), ("map", g), ("a", a), ("b", b)):
        e.controls[name].value = value
    assert e.state.w1 == pytest.approx(0.0, abs=1e-9) and "a match" in e.readout.value


def test_a_uniform_source_never_reaches_the_lognormal_target():
    best = min(nb01.wasserstein_1d(nb01.Pushforward("uniform", "exp", a, b), TARGETS["LogNormal(0, 0.5²)"])
               for a in np.arange(0.1, 3.01, 0.05) for b in np.arange(-3, 3.01, 0.05))
    assert best > 0.02


def test_sorted_distance_trials_are_scipys_wasserstein_distance():
    from scipy.stats import wasserstein_distance

    gen = torch.Generator().manual_seed(3)
    same, shifted = nb01.sorted_distance_trials(500, 0.2, 3, generator=gen)
    gen = torch.Generator().manual_seed(3)
    for r in range(3):
        a1, a2, a3 = (torch.randn(500, generator=gen, dtype=torch.float64).numpy() for _ in range(3))
        assert same[r].item() == pytest.approx(wasserstein_distance(a1, a2), rel=1e-12)
        assert shifted[r].item() == pytest.approx(wasserstein_distance(a1, a3 + 0.2), rel=1e-12)


def test_sorted_distance_trials_reject_bad_sizes():
    with pytest.raises(ValueError, match="n must be a positive whole number"):
        nb01.sorted_distance_trials(0, 0.2, 3)
    with pytest.raises(ValueError, match="repeats"):
        nb01.sorted_distance_trials(10, 0.2, 2.5)


def test_neighbour_correlation_is_numpys_corrcoef_over_horizontal_pairs():
    x = torch.rand(40, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x[:, 5] = 0.0  # a pixel that never changes: its pairs are left out
    pairs = [(r * 4 + c, r * 4 + c + 1) for r in range(3) for c in range(3)]
    xs = x.numpy()
    ref = [np.corrcoef(xs[:, i], xs[:, j])[0, 1] for i, j in pairs if i != 5 and j != 5]
    assert nb01.neighbour_correlation(x, width=4) == pytest.approx(np.mean(ref), rel=1e-10)
    y = x.clone()
    y[:, 1::4] = 2 * y[:, 0::4] + 1  # column 1 of every row follows column 0: correlation 1 for those pairs
    assert nb01.neighbour_correlation(y, width=4) > nb01.neighbour_correlation(x, width=4)


def test_neighbour_correlation_rejects_a_width_that_does_not_divide():
    with pytest.raises(ValueError, match="multiple of the image width"):
        nb01.neighbour_correlation(torch.zeros(3, 10), width=4)


@pytest.mark.parametrize("b", [-0.5, 0.0, 0.3])
def test_maximum_likelihood_is_minimum_kl_to_the_data(b):
    """The notebook's one-line derivation: E_data[log p_data] − E_data[log p_model] = KL(p_data ‖ p_model).
    Data LogNormal(0, 0.5²), models exp(0.8 Z + b): cross-entropy and entropy by quadrature, the KL from
    torch.distributions (two normals in log space: exp is invertible, KL does not change)."""
    data, model = nb01.Pushforward("normal", "exp", 0.5, 0.0), nb01.Pushforward("normal", "exp", 0.8, b)
    x = torch.linspace(1e-6, 60, 600_001, dtype=torch.float64)
    p = data.log_prob(x).exp()
    entropy_term = torch.trapezoid(p * data.log_prob(x), x)
    cross_term = torch.trapezoid(p * model.log_prob(x), x)
    kl = torch.distributions.kl_divergence(Normal(0.0, 0.5), Normal(b, 0.8))
    assert (entropy_term - cross_term).item() == pytest.approx(kl.item(), abs=1e-6)


def test_fan_inverse_undoes_the_fan_map_where_the_angle_is_in_range():
    gen = torch.Generator().manual_seed(5)
    z = torch.stack([3 * torch.randn(500, generator=gen, dtype=F64),
                     (4 * torch.rand(500, generator=gen, dtype=F64) - 2) * math.pi * 0.999], -1)
    assert torch.allclose(nb01.fan_inverse(nb01.fan_map(z)), z, atol=1e-10)


def test_fan_log_density_is_log_p_z_minus_the_autograd_log_det():
    gen = torch.Generator().manual_seed(6)
    x = nb01.fan_map(torch.randn(50, 2, generator=gen, dtype=F64))
    for xi, got in zip(x, nb01.fan_log_density(x)):
        zi = nb01.fan_inverse(xi)
        jac = torch.autograd.functional.jacobian(nb01.fan_map, zi)
        want = Normal(0.0, 1.0).log_prob(zi).sum() - torch.linalg.det(jac).abs().log()
        assert got.item() == pytest.approx(want.item(), abs=1e-10)


def test_fan_density_integrates_to_one_and_matches_the_share_of_draws_in_a_box():
    r = torch.linspace(1e-4, 30, 6001, dtype=F64)  # polar quadrature: dx = r dr dθ
    theta = torch.linspace(-math.pi, math.pi, 2001, dtype=F64)
    rr, tt = torch.meshgrid(r, theta, indexing="ij")
    p = nb01.fan_log_density(torch.stack([rr * torch.cos(tt), rr * torch.sin(tt)], -1)).exp() * rr
    assert torch.trapezoid(torch.trapezoid(p, theta, dim=1), r).item() == pytest.approx(1.0, abs=1e-6)
    gen = torch.Generator().manual_seed(7)
    x = nb01.fan_map(torch.randn(1_000_000, 2, generator=gen, dtype=F64))
    inside = ((x[:, 0] > 0.5) & (x[:, 0] < 1.0) & (x[:, 1] > 0.0) & (x[:, 1] < 0.5)).double().mean().item()
    t = torch.linspace(0, 0.5, 201, dtype=F64)
    box = torch.stack(torch.meshgrid(0.5 + t, t, indexing="ij"), -1)
    mass = torch.trapezoid(torch.trapezoid(nb01.fan_log_density(box).exp(), t, dim=1), t).item()
    assert inside == pytest.approx(mass, abs=4 * math.sqrt(mass / 1e6))
    assert not inside == pytest.approx(1.03 * mass, abs=4 * math.sqrt(mass / 1e6))  # 3% off would be caught


def test_normal_cell_probabilities_are_products_of_cdf_differences_and_sum_to_the_square():
    n = 6
    _, centres = nb01.grid_cells(-2, 2, n)
    h = 4 / n
    normal = Normal(torch.tensor(0.0, dtype=F64), 1.0)
    want = [(normal.cdf(c[0] + h / 2) - normal.cdf(c[0] - h / 2)) * (normal.cdf(c[1] + h / 2) - normal.cdf(c[1] - h / 2))
            for c in centres]
    got = nb01.normal_cell_probabilities(-2, 2, n)
    assert torch.allclose(got, torch.stack(want), rtol=1e-12)
    assert got.sum().item() == pytest.approx((normal.cdf(torch.tensor(2.0)) - normal.cdf(torch.tensor(-2.0))).item() ** 2)


@pytest.mark.parametrize("call, words", [
    (lambda: nb01.fan_inverse(torch.zeros(3)), "shape (..., 2)"),
    (lambda: nb01.fan_inverse(torch.zeros(2)), "x = (0, 0)"),
    (lambda: nb01.normal_cell_probabilities(1.0, 0.0, 3), "lo must be below hi"),
    (lambda: nb01.normal_cell_probabilities(0.0, 1.0, 0), "n"),
])
def test_bad_input_to_the_fan_density_gets_a_clear_message(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


def test_the_hand_check_of_exercise_1_3_tells_each_slip_apart():
    # notebook 01 quotes these numbers for mu = 0, sigma = 0.5, x = e: the right density and four slips
    x, sigma = torch.tensor(math.e, dtype=F64), 0.5
    right = torch.distributions.LogNormal(0.0, sigma).log_prob(x).exp()
    phi = torch.distributions.Normal(0.0, 1.0).log_prob
    z = torch.log(x) / sigma
    slips = {"no ÷σ in the inverse": phi(torch.log(x)).exp() / (sigma * x), "σ alone": phi(z).exp() / sigma,
             "x alone": phi(z).exp() / x, "no factor": phi(z).exp()}
    assert round(right.item(), 4) == 0.0397
    assert {k: round(val.item(), 4) for k, val in slips.items()} == {
        "no ÷σ in the inverse": 0.1780, "σ alone": 0.1080, "x alone": 0.0199, "no factor": 0.0540}
    assert nb01.lognormal_density(x, 0.0, sigma).item() == pytest.approx(right.item())


def test_describe_pairing_names_the_pairs_and_refuses_a_non_permutation():
    assert nb01.describe_pairing(torch.tensor([2, 0, 1])) == "X̂1–X3, X̂2–X1, X̂3–X2"
    best, _ = nb01.best_pairing(torch.eye(3)[[1, 2, 0]].double(), torch.eye(3).double())
    assert nb01.describe_pairing(best) == "X̂1–X2, X̂2–X3, X̂3–X1"  # each image with its own copy
    with pytest.raises(ValueError, match="permutation"):
        nb01.describe_pairing(torch.tensor([0, 0, 1]))
