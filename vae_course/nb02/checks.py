"""Checkers of notebook 02: Exercise 2.1 (the Monte Carlo estimate of log p(x), by logsumexp) and
Exercise 2.2 (the importance-sampling estimate of log p(x) with draws from q)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checking import (
    CheckFailed,
    Exercise,
    close,
    in_dtype,
    matches,
    returns_tensor,
    seeded,
    shape_text,
    tolerance,
)
from . import compute

_K = 7  # the number of draws of the first checks; later checks use other K


def _log_lik(shift, shape, dtype=torch.float64) -> Tensor:
    """Log-likelihoods spread over a few nats around `shift` (a number, or one per row), fixed."""
    centre = torch.tensor(shift, dtype=torch.float64)[:, None] if isinstance(shift, tuple) else shift
    return (centre + 3.0 * torch.randn(*shape, generator=seeded(21), dtype=torch.float64)).to(dtype)


def _around(shift) -> str:
    """'around -2', or for one shift per row 'with rows around -1, 450 and -450'."""
    if not isinstance(shift, tuple):
        return f"around {shift:g}"
    return "with rows around " + ", ".join(f"{s:g}" for s in shift[:-1]) + f" and {shift[-1]:g}"


def _global_max(log_lik: Tensor) -> Tensor:
    """The stabilised mean of exp with one max for the whole batch: rows far below that max underflow to −inf."""
    m = log_lik.max()
    return m + torch.log(torch.exp(log_lik - m).mean(-1))


def _mistakes(log_lik: Tensor) -> dict[str, Tensor]:
    k = log_lik.shape[-1]
    lse = torch.logsumexp(log_lik, -1)
    wrong = {
        "logsumexp without − log K: that is log Σ p(x|z_k), the sum; p(x) is the mean over the K draws.": lse,
        "the mean of the log-likelihoods, E[log p(x|z)]: by Jensen's inequality that is below log E[p(x|z)]; "
        "take the mean of p(x|z_k) first, then the log.": log_lik.mean(-1),
        "the largest log-likelihood alone: logsumexp subtracts the max for stability, then adds it back to "
        "log Σ exp(log_lik − max).": log_lik.max(-1).values,
        "logsumexp − K: subtract log K, not K.": lse - k,
        "logsumexp + log K: the mean divides the sum by K, so log K is subtracted, not added.": lse + math.log(k),
        "logsumexp / K: the mean inside the log becomes − log K outside it, not a division.": lse / k,
    }
    if log_lik.ndim == 2 and log_lik.shape[0] != k:
        b = log_lik.shape[0]
        wrong[f"logsumexp − log B with B = {b}, the number of data points (rows): the mean is over the "
              f"K = {k} draws in the last axis, so subtract log K, math.log(log_lik.shape[-1])."] = lse - math.log(b)
    if log_lik.ndim == 2:
        wrong[f"logsumexp − log(B·K) = − log {log_lik.numel()}: divide by the K = {k} draws of each data point "
              f"only."] = lse - math.log(log_lik.numel())
    if k != _K:
        wrong[f"logsumexp − log {_K}: {_K} was K in the first example, here K = {k}; use "
              f"log_lik.shape[-1]."] = lse - math.log(_K)
    return wrong


def _shape_problem(got: Tensor, log_lik: Tensor) -> str | None:
    if log_lik.ndim == 1:
        if got.shape != ():
            return (f"for log_lik of shape {shape_text(log_lik.shape)} (one data point, {len(log_lik)} draws) you "
                    f"return shape {shape_text(got.shape)}; reduce over the K draws and return a single number "
                    f"(shape ()).")
        return None
    b, k = log_lik.shape
    if got.shape == (b,):
        return None
    if got.shape == (k,) and b != k:
        return (f"for log_lik of shape ({b}, {k}) you return shape ({k},): you reduced over the first axis (the "
                f"{b} data points). Average over the last axis, the K = {k} draws.")
    hint = " (.squeeze() also removes the batch axis when B = 1; index [..., 0] or keep dim=-1 only)" \
        if b == 1 and got.shape == () else ""
    return (f"for log_lik of shape ({b}, {k}) you return shape {shape_text(got.shape)}; expected ({b},): one "
            f"estimate per data point, reduced over the last axis (dim=-1){hint}.")


def _verdict(got: Tensor, expected: Tensor, wrong: dict, shape_problem: str | None, underflow: str, what: str,
             shift, dtype, inf_mistakes: dict[str, Tensor] | None = None) -> None:
    """The steps both estimators' checks share: the shape first, then −inf from an underflowing exp
    (a known mistake of `inf_mistakes` by name, else the exercise's own advice), then the value against the
    reference and the table of mistakes."""
    if shape_problem:
        raise CheckFailed(shape_problem)
    if torch.isinf(got).any():
        for explanation, wrong_inf in (inf_mistakes or {}).items():
            finite = ~torch.isinf(wrong_inf)
            if torch.equal(torch.isinf(got), ~finite) and close(got[finite], wrong_inf[finite], tolerance(dtype)):
                raise CheckFailed(f"for {what}{in_dtype(dtype)} you return {got.detach().tolist()}: {explanation}")
        raise CheckFailed(f"for log-likelihoods {_around(shift)} you return −inf: {underflow}")
    matches(got, expected, f"{what}{in_dtype(dtype)}", wrong, dtype=dtype)


def _check(shape, shift, dtype=torch.float64):
    def check(answer):
        log_lik = _log_lik(shift, shape, dtype)
        expected, wrong = compute.mc_log_px(log_lik.double()), _mistakes(log_lik.double())
        inf_mistakes = {} if log_lik.ndim < 2 else {
            "the rows whose log-likelihoods lie far below the largest of the whole batch come out −inf. That is "
            "what one max over all of log_lik (log_lik.max()) does: exp(log_lik − max) underflows to 0 for those "
            "rows. Subtract a max per data point, log_lik.max(dim=-1, keepdim=True), or use torch.logsumexp(log_lik, "
            "dim=-1), which does that for you.": _global_max(log_lik.double())}
        got = returns_tensor(answer(log_lik), answer.function)
        _verdict(got, expected, wrong, _shape_problem(got, log_lik),
                 f"exp({min(shift) if isinstance(shift, tuple) else shift:g}) underflows to 0 in floating point, so "
                 f"log(mean(exp(...))) = log 0. Use torch.logsumexp, which subtracts the largest value before exp.",
                 f"log_lik of shape {shape_text(shape)} {_around(shift)}", shift, dtype, inf_mistakes)
    check.__name__ = f"shape {shape} {_around(shift)}"
    return check


def _single_draw(answer):
    log_lik = torch.tensor([[-1234.5], [0.25]], dtype=torch.float64)
    got = answer.tensor(log_lik)
    if got.shape != (2,) or not torch.allclose(got.detach().double(), log_lik[:, 0]):
        raise CheckFailed("with a single draw (K = 1) the estimate must be that draw's log-likelihood itself; "
                          f"for {log_lik[:, 0].tolist()} you return {got.detach().flatten().tolist()}.")


exercise_2_1 = Exercise("2.1", "mc_log_px", compute.mc_log_px,
                        [_check((_K,), -2.0), _check((3, _K), (-1.0, 450.0, -450.0)),
                         _check((1, 50), -1000.0, torch.float32), _single_draw])


# ---------------------------------------------------------------- 2.2 importance sampling

def _is_inputs(shape, shift: float, dtype=torch.float64) -> tuple[Tensor, Tensor, Tensor]:
    """Fixed log p(x|z_k), log p(z_k), log q(z_k) for draws z_k of q = N(0.8, 0.3²)."""
    gen = seeded(22)
    z = 0.8 + 0.3 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    log_lik = shift + 3.0 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    log_prior = -0.5 * z**2 - 0.5 * math.log(2 * math.pi)
    log_q = -0.5 * ((z - 0.8) / 0.3) ** 2 - math.log(0.3) - 0.5 * math.log(2 * math.pi)
    return log_lik.to(dtype), log_prior.to(dtype), log_q.to(dtype)


def _is_mistakes(log_lik: Tensor, log_prior: Tensor, log_q: Tensor) -> dict[str, Tensor]:
    mc, k = compute.mc_log_px, log_lik.shape[-1]
    log_w = log_lik + log_prior - log_q
    wrong = {
        "the estimate without − log q(z_k): the draws come from q, so each must be divided by q(z_k) "
        "(log w = log_lik + log_prior − log_q).": mc(log_lik + log_prior),
        "log p(z_k) added twice (log_lik + 2·log_prior − log_q): log w = log_lik + log_prior − log_q, with "
        "log_prior once.": mc(log_lik + 2 * log_prior - log_q),
        "the prior-sampling formula mc_log_px(log_lik) (or − log p(z_k) in place of − log q(z_k), which "
        "cancels the prior): these z_k are draws of q, so log w = log_lik + log_prior − log_q.": mc(log_lik),
        "+ log q(z_k): the weight is p(x|z) p(z) / q(z), so log_q is subtracted.": mc(log_lik + log_prior + log_q),
        "log_lik − log_q without log_prior: the weight is p(x|z) p(z) / q(z); p(z) is part of the joint "
        "p(x, z).": mc(log_lik - log_q),
        "the mean of the log-weights, mean(log w): that estimates the ELBO, a lower bound on log p(x) by "
        "Jensen's inequality; take log-mean-exp, logsumexp(log w) − log K.": log_w.mean(-1),
        "logsumexp(log w) without − log K: that is log Σ w_k; p(x) is the mean of the weights.":
            torch.logsumexp(log_w, -1),
        "logsumexp(log w) / K: the mean inside the log becomes − log K outside it, not a division.":
            torch.logsumexp(log_w, -1) / k,
    }
    if log_lik.ndim == 2 and log_lik.shape[0] != k:
        b = log_lik.shape[0]
        wrong[f"− log B with B = {b}, the number of data points (rows): the mean is over the K = {k} draws "
              f"in the last axis, so subtract log K."] = torch.logsumexp(log_w, -1) - math.log(b)
    if k != _K:
        wrong[f"− log {_K}: {_K} was K in the first example, here K = {k}; use the size of the last "
              f"axis."] = torch.logsumexp(log_w, -1) - math.log(_K)
    return wrong


def _is_check(shape, shift: float, dtype=torch.float64):
    def check(answer):
        inputs = _is_inputs(shape, shift, dtype)
        doubles = [t.double() for t in inputs]
        expected, wrong = compute.is_log_px(*doubles), _is_mistakes(*doubles)
        got = returns_tensor(answer(*inputs), answer.function)
        expected_shape = tuple(shape[:-1])
        shape_problem = None if tuple(got.shape) == expected_shape else (
            f"for inputs of shape {shape_text(shape)} you return shape {shape_text(got.shape)}; expected "
            f"{shape_text(expected_shape)}: one estimate per data point, reduced over the last axis (the K draws).")
        _verdict(got, expected, wrong, shape_problem,
                 "exp(...) underflows to 0. Add the three logs first, log w = log_lik + log_prior − log_q, then "
                 "use torch.logsumexp.", f"inputs of shape {shape_text(shape)} around {shift:g}", shift, dtype)
    check.__name__ = f"shape {shape} around {shift:g}"
    return check


def _q_is_prior(answer):
    log_lik = _is_inputs((2, 9), -3.0)[0]
    log_prior = -0.5 * torch.linspace(-2, 2, 18, dtype=torch.float64).reshape(2, 9) ** 2 - 0.5 * math.log(2 * math.pi)
    got = answer.tensor(log_lik, log_prior, log_prior.clone(), shape=(2,))
    if not torch.allclose(got.detach().double(), compute.mc_log_px(log_lik), rtol=1e-6, atol=1e-9):
        raise CheckFailed("with q = p(z) (log_q equal to log_prior) the estimate must be the prior estimate "
                          "mc_log_px(log_lik) of Exercise 2.1; yours differs: "
                          f"{got.detach().tolist()} instead of {compute.mc_log_px(log_lik).tolist()}.")


exercise_2_2 = Exercise("2.2", "is_log_px", compute.is_log_px,
                        [_is_check((_K,), -2.0), _is_check((3, 6), -1.0),
                         _is_check((1, 40), -900.0, torch.float32), _q_is_prior])


__all__ = ["exercise_2_1", "exercise_2_2"]
