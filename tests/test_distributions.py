"""The change-of-variables maths of notebook 01, against independent computations."""

import itertools
import math

import pytest
import torch
from torch.distributions import (
    AffineTransform,
    Exponential,
    ExpTransform,
    LogNormal,
    Normal,
    SigmoidTransform,
    TransformedDistribution,
    Uniform,
)

from vae_course import nb01

CASES = [("normal", "affine", 1.7, -0.4), ("normal", "affine", -0.8, 2.0), ("normal", "exp", 0.5, 0.3),
         ("normal", "sigmoid", 1.5, -0.5), ("uniform", "affine", 2.0, -1.0), ("uniform", "exp", -1.2, 0.1),
         ("uniform", "sigmoid", 3.0, -1.0)]
_MAP_TRANSFORMS = {"affine": [], "exp": [ExpTransform()], "sigmoid": [SigmoidTransform()]}


def torch_version_of(p: nb01.Pushforward) -> TransformedDistribution:
    base = Normal(torch.tensor(0.0, dtype=torch.float64), 1.0) if p.source == "normal" else \
        Uniform(torch.tensor(0.0, dtype=torch.float64), 1.0)
    return TransformedDistribution(base, [AffineTransform(p.b, p.a)] + _MAP_TRANSFORMS[p.map])


@pytest.mark.parametrize("case", CASES)
def test_log_prob_matches_torch_transformed_distribution(case, gen):
    p = nb01.Pushforward(*case)
    x = p.sample(500, gen)
    ref = torch_version_of(p)
    assert torch.allclose(p.log_prob(x), ref.log_prob(x), atol=1e-8)


@pytest.mark.parametrize("case", CASES)
def test_log_slope_is_the_autograd_derivative(case):
    p = nb01.Pushforward(*case)
    z = torch.linspace(0.05, 0.95, 19, dtype=torch.float64, requires_grad=True)
    (dx_dz,) = torch.autograd.grad(p.g.forward(z, p.a, p.b).sum(), z)
    assert torch.allclose(p.g.log_slope(z.detach(), p.a, p.b), dx_dz.abs().log())


@pytest.mark.parametrize("case", CASES)
def test_inverse_undoes_forward(case):
    p = nb01.Pushforward(*case)
    z = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)
    assert torch.allclose(p.g.inverse(p.g.forward(z, p.a, p.b), p.a, p.b), z)


@pytest.mark.parametrize("case", CASES)
def test_density_matches_a_histogram_of_samples(case, gen):
    """Monte Carlo: 200,000 samples; every bin within 5 standard errors of the formula's bin mass."""
    p = nb01.Pushforward(*case)
    n = 200_000
    x = p.sample(n, gen)
    edges = torch.quantile(x[:2000], torch.linspace(0.02, 0.98, 31, dtype=torch.float64))
    fine = torch.stack([torch.linspace(lo, hi, 201, dtype=torch.float64) for lo, hi in itertools.pairwise(edges)])
    mass = torch.trapezoid(p.density(fine), fine, dim=1)  # the formula's probability per bin
    counts = torch.histogram(x, bins=edges).hist
    se = (n * mass * (1 - mass)).sqrt()
    assert ((counts - n * mass).abs() <= 5 * se).all()


@pytest.mark.parametrize("case", CASES)
def test_density_integrates_to_one(case):
    p = nb01.Pushforward(*case)
    t = torch.linspace(1e-6, 1 - 1e-6, 200_001, dtype=torch.float64)
    x = p.icdf(t)  # integrate over the whole range through the quantile function
    assert torch.trapezoid(p.density(x), x).item() == pytest.approx(1.0, abs=2e-3)


def test_icdf_matches_torch_and_sorted_samples(gen):
    p = nb01.Pushforward("normal", "exp", 0.5, 0.0)
    q = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    assert torch.allclose(p.icdf(q), LogNormal(torch.tensor(0.0, dtype=torch.float64), 0.5).icdf(q))
    decreasing = nb01.Pushforward("normal", "affine", -2.0, 1.0)
    samples = decreasing.sample(100_000, gen)
    assert torch.allclose(decreasing.icdf(q), torch.quantile(samples, q), atol=0.03)


def test_outside_the_range_density_is_zero_not_nan():
    p = nb01.Pushforward("normal", "exp", 1.0, 0.0)
    out = p.density(torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64))
    assert out[0] == 0 and out[1] == 0 and out[2] > 0


def test_wasserstein_is_zero_for_equal_and_the_shift_for_shifted():
    p = nb01.Pushforward("normal", "affine", 0.5, 1.0)
    assert nb01.wasserstein_1d(p, p) == 0.0
    assert nb01.wasserstein_1d(p, nb01.Pushforward("normal", "affine", 0.5, 1.3)) == pytest.approx(0.3)
    # the same distribution reached two ways: uniform(-1, 1) as 2U - 1 and as -2U + 1
    assert nb01.wasserstein_1d(nb01.Pushforward("uniform", "affine", 2, -1),
                               nb01.Pushforward("uniform", "affine", -2, 1)) == pytest.approx(0, abs=1e-12)


def test_wasserstein_matches_sorted_samples(gen):
    p, q = nb01.Pushforward("normal", "exp", 0.5, 0.0), nb01.Pushforward("uniform", "affine", 3.0, 0.0)
    x, y = p.sample(200_000, gen).sort().values, q.sample(200_000, gen).sort().values
    assert nb01.wasserstein_1d(p, q) == pytest.approx((x - y).abs().mean().item(), abs=0.01)


def test_exponential_icdf_matches_torch_and_samples_exponentially(gen):
    u = torch.rand(100_000, generator=gen, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    rate = 2.5
    assert torch.allclose(nb01.exponential_icdf(u, rate), Exponential(torch.tensor(rate)).icdf(u))
    x = nb01.exponential_icdf(u, rate)
    assert x.mean().item() == pytest.approx(1 / rate, rel=0.02)
    assert (x > 0.5).double().mean().item() == pytest.approx(math.exp(-rate * 0.5), abs=0.005)


def test_affine_pushforward_density_is_normal_b_abs_a():
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    for a, b in [(2.0, 1.0), (-0.5, 0.3)]:
        want = Normal(torch.tensor(b, dtype=torch.float64), abs(a)).log_prob(x).exp()
        assert torch.allclose(nb01.affine_pushforward_density(x, a, b), want)


def test_histogram_density_integrates_to_the_share_inside(gen):
    x = torch.randn(10_000, generator=gen, dtype=torch.float64)
    edges = torch.linspace(-1, 1, 21, dtype=torch.float64)
    h = nb01.histogram_density(x, edges)
    inside = ((x >= -1) & (x <= 1)).double().mean()
    assert (h * edges.diff()).sum().item() == pytest.approx(inside.item())


@pytest.mark.parametrize("call, error, words", [
    (lambda: nb01.Pushforward("gamma", "affine", 1, 0), ValueError, "source must be one of"),
    (lambda: nb01.Pushforward("normal", "affine", 0, 0), ValueError, "must not be 0"),
    (lambda: nb01.Pushforward("normal", "affine", float("nan"), 0), ValueError, "finite"),
    (lambda: nb01.Pushforward("normal", "affine", "1", 0), TypeError, "must be a number"),
    (lambda: nb01.Pushforward("normal", "exp", 1, 0).log_prob([1.0, 2.0]), TypeError, "torch.Tensor"),
    (lambda: nb01.exponential_icdf(torch.tensor([0.5, 1.0]), 1.0), ValueError, "strictly between 0 and 1"),
    (lambda: nb01.exponential_icdf(torch.tensor([0.5, float("nan")]), 1.0), ValueError, "NaN"),
    (lambda: nb01.exponential_icdf(torch.tensor([0.5]), -1.0), ValueError, "rate must be > 0"),
    (lambda: nb01.affine_pushforward_density(torch.zeros(3), 0.0, 1.0), ValueError, "must not be 0"),
    (lambda: nb01.histogram_density(torch.zeros(3), torch.tensor([1.0, 0.0])), ValueError, "increasing"),
    (lambda: nb01.sample_source("normal", 0), ValueError, "positive whole number"),
])
def test_bad_input_gets_a_clear_message(call, error, words):
    with pytest.raises(error, match=words):
        call()
