"""Checker of notebook 06: Exercise 6.1 (the VAE loss, with the right sums and means)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import evaluation
from ._core import CheckFailed, Exercise, _gen, matches

_B, _D, _K, _L = 5, 64, 17, 3


def _inputs(seed: int):
    g = _gen(seed)
    x_logits = 2 * torch.randn(_B, _D, _K, generator=g, dtype=torch.float64)
    levels = torch.randint(0, _K, (_B, _D), generator=g)
    mu = torch.randn(_B, _L, generator=g, dtype=torch.float64)
    log_var = torch.randn(_B, _L, generator=g, dtype=torch.float64) - 0.5
    return x_logits, levels, mu, log_var


def _mistakes(x_logits, levels, mu, log_var) -> dict[str, Tensor]:
    rec = -F.log_softmax(x_logits, -1).gather(-1, levels.unsqueeze(-1)).squeeze(-1)  # (B, D) per pixel
    kl_dims = 0.5 * (mu**2 + log_var.exp() - log_var - 1)  # (B, L)
    kl_sigma = 0.5 * (mu**2 + log_var**2 - torch.log(log_var**2) - 1)  # log_var read as σ
    rec_sum, kl = rec.sum(-1), kl_dims.sum(-1)
    return {
        "reconstruction − KL: the KL sign is flipped; −ELBO = −log p(x|z) + KL, and both are ≥ 0 here.":
            (rec_sum - kl).mean(),
        "a mean over pixels (64× too small a reconstruction term): that reweights the KL 64× "
        "stronger; sum over pixels, average only over the batch.": (rec.mean(-1) + kl).mean(),
        "means over pixels and latent dimensions: sum both, average only over the batch.":
            (rec.mean(-1) + kl_dims.mean(-1)).mean(),
        "the reconstruction term alone: the KL(q(z|x) ‖ N(0, I)) term is missing.": rec_sum.mean(),
        "log_var used as σ: σ² = exp(log_var), so KL per dimension is ½(μ² + exp(log_var) − log_var − 1).":
            (rec_sum + kl_sigma.sum(-1)).mean(),
        "a sum over the batch: average the per-example loss over the batch (the loss should not "
        "grow with the batch size).": (rec_sum + kl).sum(),
    }


def _returns_scalar(fn, *args) -> Tensor:
    out = fn(*args)
    if not isinstance(out, Tensor):
        raise CheckFailed(f"`vae_loss` returned {type(out).__name__}; it should return a torch.Tensor.")
    if out.numel() != 1:
        raise CheckFailed(f"`vae_loss` returned shape {tuple(out.shape)}; it should return one number "
                          f"(the loss averaged over the batch), e.g. `(rec + kl).mean()`.")
    if torch.isnan(out).any():
        raise CheckFailed("`vae_loss` returned NaN.")
    return out.reshape(())


def _values(seed: int):
    def check(fn):
        args = _inputs(seed)
        matches(_returns_scalar(fn, *args), evaluation.vae_loss(*args), f"a batch of {_B} digits",
                _mistakes(*args))
    check.__name__ = f"values (inputs {seed})"
    return check


def _gradient(fn):
    x_logits, levels, mu, log_var = _inputs(3)
    mine, ref = [t.clone().requires_grad_(True) for t in (mu, log_var)], \
        [t.clone().requires_grad_(True) for t in (mu, log_var)]
    out = _returns_scalar(fn, x_logits, levels, *mine)
    if not out.requires_grad:
        raise CheckFailed("the loss does not depend on mu and log_var through autograd (was something "
                          "detached, or converted with .item()?); training needs its gradient.")
    grads = torch.autograd.grad(out, mine, allow_unused=True)
    expected = torch.autograd.grad(evaluation.vae_loss(x_logits, levels, *ref), ref)
    for name, got, exp in zip(("mu", "log_var"), grads, expected):
        if got is None:
            raise CheckFailed(f"the loss does not depend on {name}: the KL term needs it.")
        matches(got, exp, f"the gradient with respect to {name}")


exercise_6_1 = Exercise("6.1", "vae_loss", evaluation.vae_loss, [_values(1), _values(2), _gradient])
