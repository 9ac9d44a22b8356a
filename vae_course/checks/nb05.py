"""Checkers of notebook 05: Exercise 5.1 (reparameterize), 5.2 (score-function gradient estimator)."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import gradients, losses
from ._core import CheckFailed, Exercise, _gen, matches, returns_tensor


# ---------------------------------------------------------------- Exercise 5.1: reparameterize

def _inputs(*sample_shape) -> tuple[Tensor, Tensor, Tensor]:
    g = _gen(51)
    mu = torch.randn(3, 2, generator=g, dtype=torch.float64)
    log_var = torch.randn(3, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(*sample_shape, 3, 2, generator=g, dtype=torch.float64)
    return mu, log_var, eps


def _reparam_mistakes(mu, log_var, eps) -> dict[str, Tensor]:
    return {
        "mu + exp(log_var)·eps: that scales eps by the variance σ², not by σ; "
        "σ = exp(½·log_var), the ½ is missing.": mu + torch.exp(log_var) * eps,
        "mu + log_var·eps: log σ² is not σ; σ = exp(½·log_var).": mu + log_var * eps,
        "mu + exp(½·log_var): eps is missing, every 'sample' is the same number.": mu + torch.exp(0.5 * log_var),
        "mu + exp(2·log_var)·eps: σ = exp(½·log_var), not exp(2·log_var).": mu + torch.exp(2 * log_var) * eps,
        "mu·eps + σ: mu is the shift and σ the scale, z = mu + σ·eps.": mu * eps + torch.exp(0.5 * log_var),
        "mu + √|log_var|·eps: the square root of log σ² is not σ; σ = exp(½·log_var).":
            mu + log_var.abs().sqrt() * eps,
    }


def _call(fn, mu, log_var, eps):
    try:
        return fn(mu, log_var, eps)
    except RuntimeError as err:
        if "size of tensor" not in str(err) and "shape" not in str(err):
            raise
        raise CheckFailed(f"with mu, log_var of shape {tuple(mu.shape)} and eps of shape {tuple(eps.shape)} your "
                          f"function hit a shape error ({err}). z = mu + sigma * eps needs no reshaping or "
                          "unsqueezing: broadcasting lines up the last dimensions.") from None


def _reparam_shape(fn):
    mu, log_var, eps = _inputs()
    returns_tensor(lambda *a: _call(fn, *a), mu, log_var, eps, shape=mu.shape, name="reparameterize")


def _reparam_detached(fn):
    mu, log_var, eps = _inputs()
    mu, log_var = mu.clone().requires_grad_(), log_var.clone().requires_grad_()
    z = fn(mu, log_var, eps)
    if not isinstance(z, Tensor) or z.grad_fn is None:
        raise CheckFailed("z carries no gradient back to mu: it is a detached sample (from .sample(), "
                          ".detach(), torch.no_grad(), .item() or NumPy). Compute z = mu + σ·eps with torch "
                          "operations on mu and log_var.")


def _reparam_gradient(fn):
    mu, log_var, eps = _inputs()
    mu, log_var = mu.clone().requires_grad_(), log_var.clone().requires_grad_()
    z = fn(mu, log_var, eps)
    d_mu, d_log_var = torch.autograd.grad(z.sum(), [mu, log_var], allow_unused=True)
    if d_mu is None or d_log_var is None:
        raise CheckFailed("z must depend on both mu and log_var; autograd finds no path to "
                          f"{'mu' if d_mu is None else 'log_var'}.")
    matches(d_mu, torch.ones_like(mu), "dz/dmu (autograd; it should be 1 everywhere)")
    matches(d_log_var, 0.5 * torch.exp(0.5 * log_var.detach()) * eps,
            "dz/dlog_var (autograd; it should be ½·σ·eps)")


def _reparam_uses_eps(fn):
    mu, log_var, eps = _inputs()
    first, second = fn(mu, log_var, eps), fn(mu, log_var, eps)
    if not torch.equal(first, second):
        raise CheckFailed("two calls with the same eps gave different z: your function draws its own noise "
                          "(torch.randn, .sample()). Use the eps it is given, so that z is a function of its inputs.")


def _reparam_values(fn):
    mu, log_var, eps = _inputs()
    got = returns_tensor(fn, mu, log_var, eps, shape=mu.shape, name="reparameterize")
    matches(got, losses.reparameterize(mu, log_var, eps), "mu, log_var, eps of shape (3, 2)",
            _reparam_mistakes(mu, log_var, eps))


def _reparam_broadcast(fn):
    mu, log_var, eps = _inputs(5)
    got = _call(fn, mu, log_var, eps)
    if not isinstance(got, Tensor) or tuple(got.shape) != tuple(eps.shape):
        shape = tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__
        raise CheckFailed(f"with eps of shape {tuple(eps.shape)} (5 samples for each of 3 examples) and mu, "
                          f"log_var of shape {tuple(mu.shape)}, z should have eps's shape {tuple(eps.shape)}; "
                          f"you return {shape}. Did you draw or reshape eps yourself? Let broadcasting do it: "
                          "mu + sigma * eps.")
    matches(got, losses.reparameterize(mu, log_var, eps), "5 samples per example (eps of shape (5, 3, 2))")


exercise_5_1 = Exercise("5.1", "reparameterize", losses.reparameterize,
                        [_reparam_shape, _reparam_detached, _reparam_uses_eps, _reparam_values, _reparam_gradient,
                         _reparam_broadcast])


# ---------------------------------------------------------------- Exercise 5.2: score-function estimator

_MU, _SIGMA = 0.4, 1.7


def _samples(n: int = 8) -> tuple[Tensor, Tensor]:
    z = _MU + _SIGMA * torch.randn(2, n, generator=_gen(52), dtype=torch.float64)
    return (z - 1.0) ** 2 + torch.sin(3 * z), z


def _score_mistakes(f, z, mu, sigma) -> dict[str, tuple[Tensor, Tensor]]:
    d, eps = z - mu, (z - mu) / sigma
    mean = lambda x: x.mean(-1)  # noqa: E731
    return {
        "mu": {
            "mean(f·(z − mu)): the score of mu is (z − mu)/σ², the 1/σ² is missing.": mean(f * d),
            "mean(f·(z − mu)/σ) = mean(f·eps): the score of mu is (z − mu)/σ², one 1/σ is missing.":
                mean(f * eps),
            "mean(f·(mu − z)/σ²): the sign is flipped; the score is (z − mu)/σ².": mean(-f * d / sigma**2),
            "mean(f): f alone, without the score, is an estimate of E[f], not of its gradient.": mean(f),
            "sum instead of mean: the estimate must average over the samples.": (f * d / sigma**2).sum(-1),
        },
        "sigma": {
            "mean(f·(z − mu)²/σ³): the −1/σ term of the score of σ is missing.": mean(f * d**2 / sigma**3),
            "mean(f·((z − mu)²/σ² − 1)): that is the derivative with respect to log σ; divide by σ.":
                mean(f * (eps**2 - 1)),
            "mean(f·(z − mu)/σ²): that is the score of mu; σ's score is (z − mu)²/σ³ − 1/σ.":
                mean(f * d / sigma**2),
            "mean(f): f alone, without the score, is an estimate of E[f], not of its gradient.": mean(f),
            "sum instead of mean: the estimate must average over the samples.":
                (f * (d**2 / sigma**3 - 1 / sigma)).sum(-1),
        },
    }


def _two_tensors(fn, *args):
    out = fn(*args)
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not all(isinstance(o, Tensor) for o in out):
        raise CheckFailed("`score_function_grad` should return two tensors, (estimate for mu, estimate for sigma); "
                          f"it returned {type(out).__name__}.")
    return out


def _score_shape(fn):
    f, z = _samples()
    for name, est in zip(("mu", "sigma"), _two_tensors(fn, f, z, _MU, _SIGMA)):
        if tuple(est.shape) != (2,):
            raise CheckFailed(f"for f_values and z of shape (2, 8) (2 batches of 8 samples) the estimate for {name} "
                              f"should have shape (2,): one average per batch, over the last dimension; "
                              f"got {tuple(est.shape)}.")


def _score_values(mu, sigma):
    def check(fn):
        f, z = _samples()
        z = mu + (z - _MU) * sigma / _SIGMA
        got = _two_tensors(fn, f, z, mu, sigma)
        expected = gradients.score_function_grad(f, z, mu, sigma)
        wrong = _score_mistakes(f, z, mu, sigma)
        for i, name in enumerate(("mu", "sigma")):
            matches(got[i], expected[i], f"the estimate for {name} (mu = {mu:g}, sigma = {sigma:g})", wrong[name])
    check.__name__ = f"values at mu={mu}, sigma={sigma}"
    return check


def _score_unbiased(fn):
    g = _gen(53)
    mu, sigma = -0.3, 0.8
    z = mu + sigma * torch.randn(200_000, generator=g, dtype=torch.float64)
    f = (z - 1.0) ** 2
    got = torch.stack([e.reshape(()) for e in _two_tensors(fn, f, z, mu, sigma)])
    exact = gradients.exact_grad("(z − t)²", mu, sigma)
    if not torch.allclose(got, exact, atol=0.05):
        raise CheckFailed(f"on 200,000 samples with f = (z − 1)², the estimates {got.tolist()} should be close "
                          f"to the exact gradient {exact.tolist()}.")


exercise_5_2 = Exercise("5.2", "score_function_grad", gradients.score_function_grad,
                        [_score_shape, _score_values(_MU, _SIGMA), _score_values(-1.0, 0.5), _score_unbiased])
