"""Checkers of notebook 06: Exercise 6.1 (the VAE loss, −ELBO, for categorical pixels)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import training
from ..checking import (
    CheckFailed,
    Exercise,
    _AnswerRaised,
    in_dtype,
    matches,
    returns_tensor,
    same_gradients,
    seeded,
)
from ..nb04.checks import kl_mistakes

_D, _K = 64, 17


_B = 5  # the batch size of the first check; the others use other sizes


def _inputs(seed: int, batch: int, latent_dim: int, dtype=torch.float64):
    """Logits, grey levels and a q(z|x) whose KL is a sizeable part of the loss (σ² never close to 1)."""
    g = seeded(seed)
    x_logits = 2 * torch.randn(batch, _D, _K, generator=g, dtype=torch.float64)
    levels = torch.randint(0, _K, (batch, _D), generator=g)
    mu = 2 * torch.randn(batch, latent_dim, generator=g, dtype=torch.float64)
    log_var = torch.rand(batch, latent_dim, generator=g, dtype=torch.float64) - 2.5
    log_var[:, ::2] += 3.0
    return x_logits.to(dtype), levels, mu.to(dtype), log_var.to(dtype)


def _mistakes(x_logits, levels, mu, log_var) -> dict[str, Tensor]:
    batch = len(levels)
    rec = -F.log_softmax(x_logits, -1).gather(-1, levels.unsqueeze(-1)).squeeze(-1)  # (B, D) per pixel
    kl_dims = 0.5 * (mu**2 + log_var.exp() - log_var - 1)  # (B, L)
    rec_sum, kl = rec.sum(-1), kl_dims.sum(-1)
    wrong = {
        "reconstruction − KL: the KL sign is flipped; −ELBO = −log p(x|z) + KL, and both are ≥ 0 here.":
            (rec_sum - kl).mean(),
        "log p(x|z) + KL: the reconstruction term needs a minus, −log p(x|z) (cross-entropy is ≥ 0).":
            (-rec_sum + kl).mean(),
        "a mean over pixels (64× too small a reconstruction term; F.cross_entropy's default "
        "reduction='mean' does that): it reweights the KL 64× stronger. Sum over pixels (reduction='none', "
        "then .sum(-1)), average only over the batch.": (rec.mean(-1) + kl).mean(),
        "means over pixels and latent dimensions: sum both, average only over the batch.":
            (rec.mean(-1) + kl_dims.mean(-1)).mean(),
        "the reconstruction term alone: the KL(q(z|x) ‖ N(0, I)) term is missing.": rec_sum.mean(),
        "the KL term alone: the reconstruction term −log p(x|z) is missing.": kl.mean(),
        "a sum over the batch: average the per-example loss over the batch (the loss should not "
        "grow with the batch size).": (rec_sum + kl).sum(),
        "probabilities instead of log-probabilities: −p(x|z) with softmax, not −log p(x|z) with log_softmax.":
            (-F.softmax(x_logits, -1).gather(-1, levels.unsqueeze(-1)).squeeze(-1).sum(-1) + kl).mean(),
        _BCE: (_bce_rec(x_logits, levels) + kl).mean(),
    }
    for explanation, wrong_kl in kl_mistakes(mu, log_var).items():
        wrong.setdefault(f"in the KL term, {explanation}", (rec_sum + wrong_kl).mean())
    if batch != _B:
        wrong[f"a sum divided by {_B}: {_B} was the batch size of the first example, here B = {batch}; take the "
              f".mean() over the batch instead of dividing by a number."] = (rec_sum + kl).sum() / _B
    return wrong


_BCE = ("binary cross-entropy on the grey values x = levels/16 (a Bernoulli likelihood, as for black-and-white "
        "digits): these pixels take one of 17 grey levels, and the decoder gives 17 logits per pixel, so p(x|z) is "
        "categorical: −log p(x|z) = F.cross_entropy(x_logits.transpose(1, 2), levels, reduction=\"none\").sum(-1).")


def _bce_rec(x_logits: Tensor, levels: Tensor) -> Tensor:
    """The Bernoulli slip: binary cross-entropy of the decoded mean grey value against levels/16, per digit (B,)."""
    x_hat = (F.softmax(x_logits, -1) * torch.arange(_K, dtype=x_logits.dtype)).sum(-1) / (_K - 1)
    return F.binary_cross_entropy(x_hat, levels.to(x_logits.dtype) / (_K - 1), reduction="none").sum(-1)


def _call(answer, args):
    """The answer's value; an error of F.cross_entropy on logits whose 17 levels are not on axis 1 is named."""
    try:
        return answer(*args)
    except _AnswerRaised as raised:
        text = str(raised.error)
        if isinstance(raised.error, ValueError) and "must be the same as input size" in text:  # F.binary_cross_entropy*
            raise CheckFailed(f"your function raised “{text}”: {_BCE}") from None
        if isinstance(raised.error, (RuntimeError, ValueError)) and "target size" in text.lower():
            batch = len(args[1])
            raise CheckFailed(
                f"F.cross_entropy raised “{text}”: the logits went in untransposed. x_logits has shape "
                f"(B, 64, 17) = ({batch}, {_D}, {_K}), but F.cross_entropy wants the 17 classes (grey levels) on "
                f"axis 1, i.e. shape (B, 17, 64): pass x_logits.transpose(1, 2) with levels of shape (B, 64).") from None
        raise


def _scalar(answer, args) -> Tensor:
    out = returns_tensor(_call(answer, args), answer.function)
    if out.numel() != 1:
        raise CheckFailed(f"`vae_loss` returned shape {tuple(out.shape)} for a batch of {len(args[1])}; it should "
                          f"return one number (the loss averaged over the batch), e.g. `(rec + kl).mean()`.")
    return out.reshape(())


def _values(seed: int, batch: int, latent_dim: int, dtype):
    def check(answer):
        args = _inputs(seed, batch, latent_dim, dtype)
        args64 = tuple(a.double() if a.is_floating_point() else a for a in args)
        expected, wrong = training.vae_loss(*args64), _mistakes(*args64)
        matches(_scalar(answer, args), expected, f"a batch of {batch} digits, {latent_dim} latent dimensions"
                f"{in_dtype(dtype)}", wrong, dtype=dtype)
    check.__name__ = f"values (inputs {seed})"
    return check


def _gradient(answer):
    args = _inputs(3, 7, 2)
    _scalar(answer, args)
    same_gradients(answer, training.vae_loss, args, ("x_logits", "mu", "log_var"),
                   "Training needs the gradient of the loss to reach the decoder (through x_logits) and the "
                   "encoder (through mu and log_var): compute both terms with torch operations, outside "
                   "torch.no_grad().", shape=())


exercise_6_1 = Exercise("6.1", "vae_loss", training.vae_loss,
                        [_values(1, _B, 3, torch.float64), _values(2, 2, 4, torch.float32), _gradient])


__all__ = ["exercise_6_1"]
