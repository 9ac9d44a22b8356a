"""Exercise 4.1 (closed-form KL to N(0, I)): right answers pass, each typical mistake is named."""

import pytest
import torch

from vae_course import checks, losses


def run(fn, capsys):
    returned = checks.exercise_4_1(fn)
    return returned, capsys.readouterr().out


def _via_torch_distributions(mu, log_var):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(-1)


def _stub(mu, log_var):
    raise NotImplementedError("Exercise 4.1")


def _per_dim(mu, log_var):
    return 0.5 * (mu**2 + torch.exp(log_var) - log_var - 1)


MISTAKES = [
    (lambda mu, lv: -_per_dim(mu, lv).sum(-1), "sign is flipped"),
    (lambda mu, lv: (0.5 * (mu**2 + torch.exp(lv) + lv - 1)).sum(-1), "minus sign, −log σ²"),
    (lambda mu, lv: (0.5 * (mu**2 + torch.exp(lv) - torch.exp(0.5 * lv) - 1)).sum(-1), "σ is used where log σ²"),
    (lambda mu, lv: (0.5 * (mu**2 + torch.exp(lv) - 0.5 * lv - 1)).sum(-1), "log σ is used"),
    (lambda mu, lv: 2 * _per_dim(mu, lv).sum(-1), "without the factor ½"),
    (lambda mu, lv: _per_dim(mu, lv).mean(-1), "mean over latent dimensions"),
    (lambda mu, lv: _per_dim(mu, lv).sum(0), "shape (5,), summed over the 3 latent dimensions"),
    (lambda mu, lv: _per_dim(mu, lv), "one value per example"),
    (lambda mu, lv: _per_dim(mu, lv).sum(-1).tolist(), "torch.Tensor"),
    (lambda mu, lv: (0.5 * (mu**2 + lv.exp() - lv)).sum(-1), "without the −1"),
    (lambda mu, lv: _per_dim(mu, lv).sum(-1) + 0.01, "values differ"),
]


def test_reference_and_an_independent_correct_answer_pass(capsys):
    for fn in (lambda mu, lv: losses.gaussian_kl(mu, lv), _via_torch_distributions):
        returned, out = run(fn, capsys)
        assert returned is fn
        assert out == f"✓ Exercise 4.1 passed ({len(checks.exercise_4_1.checks)} checks)\n"


def test_not_attempted_says_so_and_falls_back(capsys):
    returned, out = run(_stub, capsys)
    assert returned is losses.gaussian_kl
    assert out.startswith("… Exercise 4.1 not attempted yet") and "reference solution" in out


@pytest.mark.parametrize("k", range(len(MISTAKES)))
def test_typical_mistakes_are_rejected_with_an_explanation(k, capsys):
    wrong, words = MISTAKES[k]
    returned, out = run(wrong, capsys)
    assert returned is losses.gaussian_kl
    assert out.startswith("✗ Exercise 4.1:")
    assert words in out, out
    assert "Traceback" not in out


def test_an_answer_that_is_only_zero_at_the_prior_is_caught(capsys):
    _, out = run(lambda mu, lv: _per_dim(mu, lv).sum(-1) * 0 + 1.0, capsys)
    assert out.startswith("✗ Exercise 4.1:")
