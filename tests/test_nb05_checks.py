"""Exercises 5.1 and 5.2: the checkers accept right answers and name the typical wrong ones."""

import pytest
import torch

from vae_course import checks, gradients, losses


def run(checker, fn, capsys):
    returned = checker(fn)
    return returned, capsys.readouterr().out


def _stub(*args):
    raise NotImplementedError("Exercise")


def _sigma(log_var):
    return torch.exp(0.5 * log_var)


def _detached(mu, log_var, eps):
    return (mu + _sigma(log_var) * eps).detach()


def _torch_sample(mu, log_var, eps):
    return torch.distributions.Normal(mu, _sigma(log_var)).sample(eps.shape[:-mu.ndim])


def _own_noise(mu, log_var, eps):
    return mu + _sigma(log_var) * torch.randn_like(mu)


def _first_sample_only(mu, log_var, eps):
    return mu + _sigma(log_var) * eps.reshape(-1, *mu.shape)[0]


def _samples_last(mu, log_var, eps):
    return mu.unsqueeze(-1) + _sigma(log_var).unsqueeze(-1) * eps


def _mu_score(f, z, mu, sigma, dim=-1):
    terms = f * (z - mu) / sigma**2
    return terms.sum(-1) if dim is None else terms.mean(dim)


def _sigma_score(f, z, mu, sigma, dim=-1):
    terms = f * ((z - mu) ** 2 / sigma**3 - 1 / sigma)
    return terms.sum(-1) if dim is None else terms.mean(dim)


# The checker contract (right answers pass, "not attempted", each mistake named, re-runs) is
# tested for these CASES in tests/test_checks.py.
CASES = {
    "5.1": (checks.exercise_5_1, losses.reparameterize,
            lambda mu, log_var, eps: mu + torch.sqrt(torch.exp(log_var)) * eps,
            [(lambda mu, log_var, eps: mu + torch.exp(log_var) * eps, "the ½ is missing"),
             (lambda mu, log_var, eps: mu + log_var * eps, "log σ² is not σ"),
             (lambda mu, log_var, eps: mu + torch.exp(2 * log_var) * eps, "not exp(2·log_var)"),
             (lambda mu, log_var, eps: mu + _sigma(log_var) + 0 * eps, "eps is missing"),
             (lambda mu, log_var, eps: mu * eps + _sigma(log_var), "mu is the shift"),
             (_detached, "detached sample"),
             (_torch_sample, "detached sample"),
             (_own_noise, "draws its own noise"),
             (_first_sample_only, "should have eps's shape (5, 3, 2)"),
             (_samples_last, "shape"),
             (lambda mu, log_var, eps: (mu + _sigma(log_var) * eps).tolist(), "torch.Tensor"),
             (lambda mu, log_var, eps: mu + _sigma(log_var) * eps + 0.01, "values differ")]),
    "5.2": (checks.exercise_5_2, gradients.score_function_grad,
            lambda f, z, mu, sigma: ((f * (z - mu)).mean(-1) / sigma**2,
                                     (f * ((z - mu) ** 2 - sigma**2)).mean(-1) / sigma**3),
            [(lambda f, z, mu, sigma: ((f * (z - mu)).mean(-1), _sigma_score(f, z, mu, sigma)), "the 1/σ² is missing"),
             (lambda f, z, mu, sigma: ((f * (z - mu) / sigma).mean(-1), _sigma_score(f, z, mu, sigma)),
              "one 1/σ is missing"),
             (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma), (f * (z - mu) ** 2 / sigma**3).mean(-1)),
              "the −1/σ term"),
             (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma), (f * ((z - mu) ** 2 / sigma**2 - 1)).mean(-1)),
              "with respect to log σ"),
             (lambda f, z, mu, sigma: (f.mean(-1), f.mean(-1)), "without the score"),
             (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma, dim=None), _sigma_score(f, z, mu, sigma, dim=None)),
              "average over the samples"),
             (lambda f, z, mu, sigma: ((f * (mu - z) / sigma**2).mean(-1), _sigma_score(f, z, mu, sigma)),
              "sign is flipped"),
             (lambda f, z, mu, sigma: _mu_score(f, z, mu, sigma), "two tensors"),
             (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma, dim=0), _sigma_score(f, z, mu, sigma, dim=0)),
              "over the last dimension"),
             (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma) + 0.01, _sigma_score(f, z, mu, sigma)),
              "values differ")]),
}


def test_crashes_and_non_functions_get_a_message(capsys):
    returned, out = run(checks.exercise_5_1, lambda mu, log_var, eps: mu.nonexistent, capsys)
    assert returned is losses.reparameterize and "raised AttributeError" in out
    returned, out = run(checks.exercise_5_2, "score", capsys)
    assert returned is gradients.score_function_grad and "expected the function" in out
