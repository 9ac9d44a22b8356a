"""Checkers of notebook 05: Exercise 5.1 (reparameterize, the checks of 3.1), 5.2 (the score-function
gradient estimator), 5.3 (the score-function estimator with a leave-one-out baseline)."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import probability
from ..checking import (
    CheckFailed,
    Exercise,
    in_dtype,
    matches,
    returns_tensor,
    seeded,
    shape_text,
)
from ..nb03.checks import REPARAMETERIZE_CHECKS
from . import compute

exercise_5_1 = Exercise("5.1", "reparameterize", probability.reparameterize, REPARAMETERIZE_CHECKS)


_MU, _SIGMA = 0.4, 1.7


def _samples(n: int = 8, dtype=torch.float64) -> tuple[Tensor, Tensor]:
    z = _MU + _SIGMA * torch.randn(2, n, generator=seeded(52), dtype=torch.float64)
    return ((z - 1.0) ** 2 + torch.sin(3 * z)).to(dtype), z.to(dtype)


def _plain_terms(f, z, mu, sigma) -> dict[str, Tensor]:
    """The estimates of Exercise 5.2, f times the score, for mu and sigma (mu, sigma may be tensors)."""
    d = z - mu
    return {"mu": (f * d / sigma**2).mean(-1), "sigma": (f * (d**2 / sigma**3 - 1 / sigma)).mean(-1)}


def _batch_statistic_mistakes(wrong, f, z, mu, sigma, estimate) -> None:
    """Add to `wrong` the answers that ignore mu or use the batch's own statistics of z where the given
    mu and sigma belong; estimate(z, mu, sigma) → {"mu": …, "sigma": …} is the estimator with those."""
    n = z.shape[-1]
    cases = {
        "z in place of z − mu: mu is ignored; the score is centred at mu, (z − mu)/σ² and "
        "(z − mu)²/σ³ − 1/σ.": (z, 0.0, sigma),
        "the batch's sample mean of z in place of mu: the score uses the mean mu of the distribution the z "
        "were drawn from (an argument), not a statistic of the samples.": (z, z.mean(-1, keepdim=True), sigma),
    }
    if n > 1:
        cases["the batch's sample sd of z in place of sigma: the score uses the sigma of the distribution the z "
              "were drawn from (an argument), not the spread of the samples."] = (z, mu, z.std(-1, keepdim=True))
    for explanation, args in cases.items():
        for name, value in estimate(*args).items():
            wrong[name][explanation] = value


def _score_mistakes(f, z, mu, sigma) -> dict[str, dict[str, Tensor]]:
    d, eps = z - mu, (z - mu) / sigma
    n = z.shape[-1]
    mean = lambda x: x.mean(-1)  # noqa: E731
    right = {"mu": f * d / sigma**2, "sigma": f * (d**2 / sigma**3 - 1 / sigma)}
    wrong = {
        "mu": {
            "mean(f·(z − mu)): the score of mu is (z − mu)/σ², the 1/σ² is missing.": mean(f * d),
            "mean(f·(z − mu)/σ) = mean(f·eps): the score of mu is (z − mu)/σ², one 1/σ is missing.":
                mean(f * eps),
            "mean(f·(mu − z)/σ²): the sign is flipped; the score is (z − mu)/σ².": mean(-f * d / sigma**2),
            "mean(f): f alone, without the score, is an estimate of E[f], not of its gradient.": mean(f),
            "mean((z − mu)/σ²): the score alone, without f, averages to 0; multiply it by f.": mean(d / sigma**2),
        },
        "sigma": {
            "mean(f·(z − mu)²/σ³): the −1/σ term of the score of σ is missing.": mean(f * d**2 / sigma**3),
            "mean(f·((z − mu)²/σ² − 1)): that is the derivative with respect to log σ; divide by σ.":
                mean(f * (eps**2 - 1)),
            "mean(f·(z − mu)/σ²): that is the score of mu; σ's score is (z − mu)²/σ³ − 1/σ.":
                mean(f * d / sigma**2),
            "mean(f): f alone, without the score, is an estimate of E[f], not of its gradient.": mean(f),
            "mean(f·((z − mu)²/σ² − 1)/σ²): divide by σ³ and σ, not σ² (the score of σ is (z − mu)²/σ³ − 1/σ).":
                mean(f * (eps**2 - 1) / sigma**2),
        },
    }
    wrong["sigma"].update({
        "mean(f·((z − mu)²/(2σ⁴) − 1/(2σ²))): that is the score of the variance σ², not of σ; "
        "d log p/dσ = (z − mu)²/σ³ − 1/σ (2σ times as large).": mean(f * (d**2 / (2 * sigma**4) - 1 / (2 * sigma**2))),
        "mean(f·(1/σ − (z − mu)²/σ³)): the sign is flipped; the score of σ is (z − mu)²/σ³ − 1/σ.":
            mean(f * (1 / sigma - d**2 / sigma**3)),
    })
    _batch_statistic_mistakes(wrong, f, z, mu, sigma, lambda zz, m, s: _plain_terms(f, zz, m, s))
    for name, terms in right.items():
        wrong[name]["sum instead of mean: the estimate must average over the samples."] = terms.sum(-1)
        if n != 8:
            wrong[name][f"a sum divided by 8: 8 was the number of samples in the first example, here n = {n}; "
                        f"use .mean(-1)."] = terms.sum(-1) / 8
    return wrong


def _two_tensors(answer, *args):
    out = answer(*args)
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not all(isinstance(o, Tensor) for o in out):
        raise CheckFailed(f"`{answer.function}` should return two tensors, (estimate for mu, estimate for sigma); "
                          f"it returned {type(out).__name__}"
                          f"{f' of length {len(out)}' if isinstance(out, (tuple, list)) else ''}.")
    return [returns_tensor(o, answer.function) for o in out]


def _shape_check(ns):
    """A check that the two estimates have one value per batch, for f_values and z of shape (2, n), n in ns."""
    def check(answer):
        for n in ns:
            f, z = _samples(n)
            for name, est in zip(("mu", "sigma"), _two_tensors(answer, f, z, _MU, _SIGMA)):
                if tuple(est.shape) != (2,):
                    raise CheckFailed(f"for f_values and z of shape (2, {n}) (2 batches of {n} samples) the estimate "
                                      f"for {name} should have shape (2,): one average per batch, over the last "
                                      f"dimension; got {shape_text(est.shape)}.")
    check.__name__ = "shapes"
    return check


def _values_check(reference, mistakes, mu, sigma, n, dtype):
    """A check of both estimates against `reference` at (mu, sigma) with n samples, naming the `mistakes`."""
    def check(answer):
        f, z = _samples(n, dtype)
        z = (mu + (z.double() - _MU) * sigma / _SIGMA).to(dtype)
        expected = reference(f.double(), z.double(), mu, sigma)
        wrong = mistakes(f.double(), z.double(), mu, sigma)
        got = _two_tensors(answer, f, z, mu, sigma)
        for i, name in enumerate(("mu", "sigma")):
            what = f"the estimate for {name} (mu = {mu:g}, sigma = {sigma:g}, n = {n}){in_dtype(dtype)}"
            matches(got[i], expected[i], what, wrong[name], dtype=dtype)
    check.__name__ = f"values at mu={mu}, sigma={sigma}, n={n}"
    return check


def _score_unbiased(answer):
    g = seeded(53)
    mu, sigma = -0.3, 0.8
    z = mu + sigma * torch.randn(200_000, generator=g, dtype=torch.float64)
    f = (z - 1.0) ** 2
    exact = compute.exact_grad("(z − t)²", mu, sigma)
    got = torch.stack([e.detach().double().reshape(()) if e.numel() == 1 else e.detach().double().flatten()[0]
                       for e in _two_tensors(answer, f, z, mu, sigma)])
    if not torch.allclose(got, exact, atol=0.05):
        raise CheckFailed(f"on 200,000 samples with f = (z − 1)², the estimates [{got[0]:.4g}, {got[1]:.4g}] should "
                          f"be close to the exact gradient [{exact[0]:.4g}, {exact[1]:.4g}].")


exercise_5_2 = Exercise("5.2", "score_function_grad", compute.score_function_grad,
                        [_shape_check((8,)),
                         _values_check(compute.score_function_grad, _score_mistakes, _MU, _SIGMA, 8, torch.float64),
                         _values_check(compute.score_function_grad, _score_mistakes, -1.0, 0.5, 5, torch.float32),
                         _shape_check((1,)),  # after the values: a batch statistic of z is NaN for one sample
                         _score_unbiased])


def _loo_mistakes(f, z, mu, sigma) -> dict[str, dict[str, Tensor]]:
    """What the classic mistakes of a leave-one-out baseline return, for mu and for sigma."""
    n = z.shape[-1]
    total = f.sum(-1, keepdim=True)
    loo = (total - f) / (n - 1)
    score = {"mu": (z - mu) / sigma**2, "sigma": ((z - mu) ** 2 / sigma**3 - 1 / sigma)}
    wrong = {}
    for name, s in score.items():
        mean = lambda x: x.mean(-1)  # noqa: E731
        wrong[name] = {
            "a baseline that includes the sample's own f: b_i = mean of all n values of f depends on z_i (and the "
            "estimate shrinks by (n − 1)/n); leave sample i out of its own baseline.": mean((f - f.mean(-1, keepdim=True)) * s),
            "b_i = f_i: a baseline equal to the sample's own f makes every term 0; b_i must not depend on z_i.":
                torch.zeros_like(f[..., 0]),
            "the plain estimate of Exercise 5.2, where the baseline is not subtracted: use (f_i − b_i)·score_i.":
                mean(f * s),
            "a baseline added to f; subtract it: (f_i − b_i)·score_i.": mean((f + loo) * s),
            "a baseline subtracted from the score, not from f: use (f_i − b_i)·score_i.": mean(f * (s - loo)),
            "a baseline subtracted after multiplying by the score: mean(f·score) − b is biased; "
            "multiply (f_i − b_i) by the score.": mean(f * s) - loo.mean(-1),
            "a leave-one-out mean that divides by n; the other samples number n − 1.": mean((f - (total - f) / n) * s),
            "a baseline that is the sum of the other samples' f, not their mean: divide by n − 1.":
                mean((f - (total - f)) * s),
            "sum instead of mean: the estimate must average over the samples.": ((f - loo) * s).sum(-1),
            "a baseline averaged over the wrong axis: the other samples of a batch lie along the last "
            "dimension (dim=-1); this one averages across the batches (dim 0).":
                mean((f - (f.sum(0, keepdim=True) - f) / max(f.shape[0] - 1, 1)) * s),
            "(f_i − b_i) divided by the batch's sd of f (the 'advantage normalisation' of reinforcement "
            "learning): that rescales the gradient; use (f_i − b_i)·score_i as it is.":
                mean((f - loo) / f.std(-1, keepdim=True) * s),
        }
    _batch_statistic_mistakes(wrong, f, z, mu, sigma, lambda zz, m, sd: _plain_terms(f - loo, zz, m, sd))
    for name, s in score.items():
        if n != 8:
            wrong[name][f"a baseline divided by 7: 7 = n − 1 for the 8 samples of the first example, here n = {n}; "
                        "take n from the shape of z."] = mean((f - (total - f) / 7) * s)
    return wrong


def _loo_ignores_a_shift(answer):
    f, z = _samples(6)
    plain = [e.detach().double() for e in _two_tensors(answer, f, z, _MU, _SIGMA)]
    shifted = [e.detach().double() for e in _two_tensors(answer, f + 10.0, z, _MU, _SIGMA)]
    for name, a, b in zip(("mu", "sigma"), plain, shifted):
        if not torch.allclose(a, b, rtol=1e-3, atol=1e-4):  # float32 answers round f + 10
            raise CheckFailed(f"adding 10 to every f changed the estimate for {name} from {a[0]:.6g} to {b[0]:.6g}; "
                              "with a leave-one-out baseline f_i − b_i, and so the estimate, ignore a constant added to f.")


exercise_5_3 = Exercise("5.3", "score_function_grad_loo", compute.score_function_grad_loo,
                        [_shape_check((8, 2)),
                         _values_check(compute.score_function_grad_loo, _loo_mistakes, _MU, _SIGMA, 8, torch.float64),
                         _values_check(compute.score_function_grad_loo, _loo_mistakes, -1.0, 0.5, 5, torch.float32),
                         _loo_ignores_a_shift])


__all__ = ["exercise_5_1", "exercise_5_2", "exercise_5_3"]
