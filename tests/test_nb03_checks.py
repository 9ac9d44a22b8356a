"""Exercises 3.1 and 3.2: the references agree with torch.distributions and Monte Carlo.

The checkers of 3.1 and 3.2 are tested with every other checker in tests/test_checks.py."""

import torch

from vae_course import probability


def test_reference_sampler_has_the_mean_and_variance_of_its_normal():
    """Monte Carlo: 200k draws; sampling error of the mean σ/√n < 0.004, tolerance 0.02."""
    g = torch.Generator().manual_seed(0)
    mu, log_var = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64), torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    z = probability.reparameterize(mu, log_var, torch.randn(200_000, 3, generator=g, dtype=torch.float64))
    assert torch.allclose(z.mean(0), mu, atol=0.02)
    assert torch.allclose(z.var(0), log_var.exp(), rtol=0.02)


def test_reference_log_density_is_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mu, log_var = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)
    z = torch.randn(7, 4, 3, generator=g, dtype=torch.float64)
    mvn = torch.distributions.MultivariateNormal(mu, covariance_matrix=torch.diag_embed(log_var.exp()))
    assert torch.allclose(probability.diag_gaussian_log_prob(z, mu, log_var), mvn.log_prob(z))
