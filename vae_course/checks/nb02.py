"""Checkers of notebook 02: Exercise 2.1 (Monte Carlo estimate of log p(x) with logsumexp)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import latent
from ._core import CheckFailed, Exercise, _gen, matches, returns_tensor

_K, _B = 7, 3


def _log_lik(shift: float, shape=(_B, _K)) -> Tensor:
    """Log-likelihoods spread over a few nats around `shift`, float64, fixed."""
    return shift + 3.0 * torch.randn(*shape, generator=_gen(21), dtype=torch.float64)


def _mistakes(log_lik: Tensor) -> dict[str, Tensor]:
    k = log_lik.shape[-1]
    return {
        "logsumexp without − log K: that is log Σ p(x|z_k), the sum; p(x) is the mean over the K draws.":
            torch.logsumexp(log_lik, -1),
        "the mean of the log-likelihoods, E[log p(x|z)]: by Jensen's inequality that is below log E[p(x|z)]; "
        "take the mean of p(x|z_k) first, then the log.": log_lik.mean(-1),
        "the largest log-likelihood alone: logsumexp subtracts the max for stability, then adds it back to "
        "log Σ exp(log_lik − max).": log_lik.max(-1).values,
        "logsumexp − K: subtract log K, not K.": torch.logsumexp(log_lik, -1) - k,
    }


def _scalar_for_one_point(fn):
    log_lik = _log_lik(-2.0, (_K,))
    got = returns_tensor(fn, log_lik, name="mc_log_px")
    if got.shape != ():
        raise CheckFailed(f"for log_lik of shape ({_K},) (one data point, {_K} draws) `mc_log_px` returned shape "
                          f"{tuple(got.shape)}; it should reduce over the K draws and return a single number "
                          f"(shape ()).")
    matches(got, latent.mc_log_px(log_lik), f"log_lik of shape ({_K},)", _mistakes(log_lik))


def _batch(shift: float):
    def check(fn):
        log_lik = _log_lik(shift)
        got = returns_tensor(fn, log_lik, name="mc_log_px")
        if torch.isinf(got).any():
            raise CheckFailed(
                f"for log-likelihoods around {shift:g} you return −inf: exp({shift:g}) underflows to 0 in "
                f"floating point, so log(mean(exp(...))) = log 0. Use torch.logsumexp, which subtracts the "
                f"largest value before exp.")
        if got.shape == (_K,):
            raise CheckFailed(f"for log_lik of shape ({_B}, {_K}) you return shape ({_K},): you reduced over the "
                              f"first axis (the {_B} data points). Average over the last axis, the K = {_K} draws.")
        if got.shape != (_B,):
            raise CheckFailed(f"for log_lik of shape ({_B}, {_K}) you return shape {tuple(got.shape)}; expected "
                              f"({_B},): one estimate per data point, reduced over the last axis (dim=-1).")
        matches(got, latent.mc_log_px(log_lik), f"log-likelihoods around {shift:g}", _mistakes(log_lik))
    check.__name__ = f"batch around {shift:g}"
    return check


def _single_draw(fn):
    log_lik = torch.tensor([[-1234.5], [0.25]], dtype=torch.float64)
    got = returns_tensor(fn, log_lik, name="mc_log_px")
    if got.shape != (2,) or not torch.allclose(got, log_lik[:, 0]):
        raise CheckFailed("with a single draw (K = 1) the estimate must be that draw's log-likelihood itself; "
                          f"for {log_lik[:, 0].tolist()} you return {got.flatten().tolist()}.")


exercise_2_1 = Exercise("2.1", "mc_log_px", latent.mc_log_px,
                        [_scalar_for_one_point, _batch(-1.0), _batch(-1000.0), _single_draw])
