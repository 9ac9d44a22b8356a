"""Exercises 3.1 and 3.2: the references agree with torch.distributions; the checkers accept right
answers and name the typical mistakes."""

import math

import pytest
import torch

from vae_course import checks, losses

LOG_2PI = math.log(2 * math.pi)


def run(checker, fn, capsys):
    returned = checker(fn)
    return returned, capsys.readouterr().out


def _stub(*args):
    raise NotImplementedError("Exercise")


def test_reference_sampler_has_the_mean_and_variance_of_its_normal():
    """Monte Carlo: 200k draws; sampling error of the mean σ/√n < 0.004, tolerance 0.02."""
    g = torch.Generator().manual_seed(0)
    mu, log_var = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64), torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    z = losses.reparameterize(mu, log_var, torch.randn(200_000, 3, generator=g, dtype=torch.float64))
    assert torch.allclose(z.mean(0), mu, atol=0.02)
    assert torch.allclose(z.var(0), log_var.exp(), rtol=0.02)


def test_reference_log_density_is_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mu, log_var = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)
    z = torch.randn(7, 4, 3, generator=g, dtype=torch.float64)
    mvn = torch.distributions.MultivariateNormal(mu, covariance_matrix=torch.diag_embed(log_var.exp()))
    assert torch.allclose(losses.diag_gaussian_log_prob(z, mu, log_var), mvn.log_prob(z))


def _density(z, mu, log_var):
    return torch.distributions.Normal(mu, torch.exp(0.5 * log_var)).log_prob(z).sum(-1)


# (checker, reference, a different correct answer, [(wrong answer, words the message must contain)])
# The checker contract (right answers pass, "not attempted", each mistake named, re-runs) is
# tested for these CASES in tests/test_checks.py.
CASES = {
    "3.1": (checks.exercise_3_1, losses.reparameterize,
            lambda mu, log_var, eps: eps * torch.sqrt(torch.exp(log_var)) + mu,
            [(lambda mu, lv, eps: mu + torch.exp(lv) * eps, "variance σ²"),
             (lambda mu, lv, eps: mu + lv * eps, "log of the variance"),
             (lambda mu, lv, eps: mu + eps / torch.exp(0.5 * lv), "swapped"),
             (lambda mu, lv, eps: torch.exp(0.5 * lv) * eps, "without mu"),
             (lambda mu, lv, eps: mu + torch.exp(0.25 * lv) * eps, "sqrt(σ)"),
             (lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps).detach(), "gradient does not reach"),
             (lambda mu, lv, eps: (mu + torch.exp(0.5 * lv) * eps)[..., 0], "shape"),
             (lambda mu, lv, eps: mu[0] + torch.exp(0.5 * lv) * eps, "values differ")]),
    "3.2": (checks.exercise_3_2, losses.diag_gaussian_log_prob, _density,
            [(lambda z, mu, lv: (-0.5 * (LOG_2PI + lv) - (z - mu) ** 2 / lv.exp()).sum(-1), "without the ½"),
             (lambda z, mu, lv: -(LOG_2PI + lv + (z - mu) ** 2 / lv.exp()).sum(-1), "missing ½ in front of everything"),
             (lambda z, mu, lv: (-0.5 * (LOG_2PI + (z - mu) ** 2 / lv.exp()) - lv).sum(-1), "σ² used where σ belongs"),
             (lambda z, mu, lv: -0.5 * (LOG_2PI + lv + (z - mu) ** 2 / torch.exp(0.5 * lv)).sum(-1), "not by σ"),
             (lambda z, mu, lv: -0.5 * (lv + (z - mu) ** 2 / lv.exp()).sum(-1), "log 2π"),
             (lambda z, mu, lv: 0.5 * (LOG_2PI + lv + (z - mu) ** 2 / lv.exp()).sum(-1), "sign"),
             (lambda z, mu, lv: torch.distributions.Normal(mu, torch.exp(0.5 * lv)).log_prob(z).sum(0),
              "sum over axis 0, the batch"),
             (lambda z, mu, lv: torch.distributions.Normal(mu, torch.exp(0.5 * lv)).log_prob(z), "add up"),
             (lambda z, mu, lv: _density(z, mu, lv).sum(), "one number"),
             (lambda z, mu, lv: _density(z, mu, lv) + 0.01, "values differ")]),
}


def test_a_crash_is_reported_in_words(capsys):
    returned, out = run(checks.exercise_3_2, lambda z, mu, lv: z @ mu, capsys)
    assert returned is losses.diag_gaussian_log_prob
    assert "raised RuntimeError" in out
