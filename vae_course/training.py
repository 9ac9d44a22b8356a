"""Training and evaluating the course's VAEs: minibatch Adam on −ELBO, early stopping, a history.

Loss convention: `loss = -elbo.mean()` — per-example ELBO summed over pixels and latent
dimensions, averaged over the batch. Everything is reported per example, in nats.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor

from . import _validate as v
from . import models, probability


def vae_loss(x_logits: Tensor, levels: Tensor, mu: Tensor, log_var: Tensor) -> Tensor:
    """The VAE loss −ELBO (one-sample), averaged over the batch.

    x_logits (B, 64, 17): decoder logits for one z per example; levels (B, 64) int in 0..16;
    mu, log_var (B, L) of q(z|x). Reconstruction −log p(x|z) summed over pixels, KL to N(0, I)
    summed over latent dimensions, their sum averaged over the batch. Returns a 0-d tensor (nats).
    """
    x_logits = v.tensor(x_logits, "x_logits")
    if x_logits.ndim != 3:
        raise ValueError(f"x_logits must have shape (B, D, K), got {tuple(x_logits.shape)}.")
    levels = v.levels(levels, "levels", x_logits.shape[-1])
    if x_logits.shape[:2] != levels.shape:
        raise ValueError(f"x_logits must have shape (B, D, K) matching levels (B, D); got "
                         f"{tuple(x_logits.shape)} and {tuple(levels.shape)}.")
    mu, log_var = probability._pair(mu, log_var)
    if mu.ndim != 2 or mu.shape[0] != len(levels):
        raise ValueError(f"mu and log_var must have shape (B, L) with the batch size B = {len(levels)} of levels, "
                         f"one row per digit; got {tuple(mu.shape)}. (A different B would broadcast to a wrong "
                         f"loss.)")
    rec = -probability.categorical_log_likelihood(levels, x_logits)
    kl = probability.gaussian_kl(mu, log_var)
    return (rec + kl).mean()


@dataclass
class History:
    """Per-epoch means per example (nats): train_/val_ loss (−ELBO), rec (−log p(x|z)) and kl.

    Per epoch and latent dimension j, on the validation digits: val_kl_dims, the mean closed-form KL of
    q(z_j|x) to N(0, 1) (nats), and val_mu_var, Var_x μ_j(x) (04's activity: active when > 0.01).
    """

    train_loss: list = field(default_factory=list)
    train_rec: list = field(default_factory=list)
    train_kl: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_rec: list = field(default_factory=list)
    val_kl: list = field(default_factory=list)
    val_kl_dims: list = field(default_factory=list)
    val_mu_var: list = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0


def mean_terms(model, x: Tensor, generator: torch.Generator | None = None, beta: float = 1.0) -> dict:
    """Mean −ELBO ('loss'), reconstruction term ('rec', −E_q log p(x|z)) and 'kl' per example on x,
    in eval mode (one draw per example)."""
    with models.evaluating(model):
        t = model.elbo_terms(x, generator=generator, beta=beta)
    return {"loss": -t["elbo"].mean().item(), "rec": -t["log_lik"].mean().item(), "kl": t["kl"].mean().item()}


def progress_bar(total: int, desc: str, enabled: bool = True):
    """A tqdm progress bar: a widget in Jupyter (with a stable text form, so nbval stays strict),
    text on stderr elsewhere, nothing when disabled."""
    from tqdm.auto import tqdm

    if not enabled:
        return tqdm(total=total, disable=True)
    try:
        from IPython import get_ipython

        in_kernel = get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except ImportError:
        in_kernel = False
    if not in_kernel:
        return tqdm(total=total, desc=desc, leave=True)
    from IPython.display import display
    from tqdm.notebook import tqdm as notebook_tqdm

    bar = notebook_tqdm(total=total, desc=desc, display=False)
    display(_StableWidget(bar.container, f"<progress: {desc}>"))
    return bar


class _StableWidget:
    def __init__(self, widget, text: str):
        self.widget, self.text = widget, text

    def _repr_mimebundle_(self, **kwargs):
        data = self.widget._repr_mimebundle_(**kwargs)
        data["text/plain"] = self.text
        return data


def free_bits_kl(mu: Tensor, log_var: Tensor, free_bits: float) -> Tensor:
    """The KL charged under free bits (Kingma et al., 2016): Σ_j max(λ, mean over the batch of KL_j), a 0-d tensor.

    mu, log_var (B, L) of q(z|x) against N(0, I); KL_j = ½(μ_j² + σ_j² − log σ_j² − 1) is dimension j's KL.
    A dimension whose batch-mean KL is below λ = `free_bits` nats is charged λ, a constant: its gradient
    is zero there, so the loss no longer pushes that dimension's q(z_j|x) onto the prior. λ = 0 gives the
    plain mean KL of the batch.
    """
    free_bits = v.scalar(free_bits, "free_bits")
    if free_bits < 0:
        raise ValueError(f"free_bits must be ≥ 0 nats per latent dimension, got {free_bits}.")
    mu, log_var = probability._pair(mu, log_var)
    if mu.ndim != 2:
        raise ValueError(f"mu and log_var must have shape (B, L), got {tuple(mu.shape)}.")
    per_dim = probability.gaussian_kl(mu.unsqueeze(-1), log_var.unsqueeze(-1)).mean(0)  # (L,)
    return per_dim.clamp(min=free_bits).sum()


def _iw_step_terms(model, x: Tensor, k: int, generator) -> dict:

    t = models.iw_terms(model, model.check_x(x), k, generator)
    return {"elbo": models.iw_bound(t["log_w"]), "log_lik": t["log_lik"][0],
            "kl": probability.gaussian_kl(t["mu"], t["log_var"])}


def train(model, x_train: Tensor, x_val: Tensor, *, epochs: int = 50, batch_size: int = 100, lr: float = 1e-3,
          beta: float = 1.0, patience: int | None = None, generator: torch.Generator | None = None,
          progress: bool = True, iw_samples: int = 1, weight_decay: float = 0.0,
          warmup_epochs: int = 0, ema_decay: float = 0.0, lr_schedule: str = "constant",
          augment=None, free_bits: float = 0.0) -> History:
    """Train `model` (a `vae_course.models.VAE`) with Adam on −ELBO; keep the best weights on x_val.

    x_train (N, 64), x_val (M, 64). Each epoch shuffles with `generator`; the validation loss is a
    one-sample estimate with a fixed generator, so epochs compare fairly. With `patience`, stops
    after that many epochs without a better validation loss. Returns the `History`.

    Optional: `iw_samples` = K > 1 trains on the importance-weighted bound −L_K (IWAE, Burda et al.
    2016; K = 1 is the ELBO; the recorded training terms are then −L_K and the first draw's
    reconstruction and KL); `weight_decay` > 0 uses AdamW with that decay; `warmup_epochs` = W > 0
    raises the KL weight linearly from beta/W to beta over the first W epochs (KL warm-up, against
    an early collapse of the codes onto the prior; validation always uses beta). The validation loss is
    always the one-sample −ELBO. `ema_decay` = d in (0, 1) keeps a moving average of the weights,
    θ̄ ← d·θ̄ + (1 − d)·θ after every step (d ramps up as min(d, (1 + t)/(10 + t)) over the first steps t),
    and validates and keeps the averaged weights instead of the last ones. `lr_schedule="cosine"` lowers
    the learning rate from lr to 0 along a half cosine over the `epochs` (per step); "constant" keeps lr.
    `augment`: None, or a function (batch, generator) → batch applied to every training batch (e.g.
    `autoregressive.shift_digits`); validation never sees it. `free_bits` = λ > 0 (nats per latent
    dimension, N(0, I) prior only) trains on −E_q log p(x|z) + beta·`free_bits_kl`: each dimension's batch-mean
    KL is charged at least λ, so below λ it is free (Kingma et al., 2016); the recorded terms and the
    validation stay the true −ELBO. 0 (the default) trains on the ELBO itself.
    """
    x_train, x_val = v.tensor(x_train, "x_train"), v.tensor(x_val, "x_val")
    beta = v.scalar(beta, "beta")
    if beta < 0:
        raise ValueError(f"beta must be ≥ 0, got {beta}.")
    v.count(epochs, "epochs")
    v.count(iw_samples, "iw_samples")
    v.count(warmup_epochs, "warmup_epochs", minimum=0)
    if iw_samples > 1 and (beta != 1.0 or warmup_epochs):
        raise ValueError("iw_samples > 1 trains on the importance-weighted bound, which has no beta; "
                         "use beta = 1 and no warm-up.")
    weight_decay = v.scalar(weight_decay, "weight_decay")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be ≥ 0, got {weight_decay}.")
    ema_decay = v.scalar(ema_decay, "ema_decay")
    if not 0 <= ema_decay < 1:
        raise ValueError(f"ema_decay must lie in [0, 1) (0: no moving average), got {ema_decay}.")
    v.one_of(lr_schedule, "lr_schedule", ("constant", "cosine"))
    free_bits = v.scalar(free_bits, "free_bits")
    if free_bits < 0:
        raise ValueError(f"free_bits must be ≥ 0 nats per latent dimension, got {free_bits}.")
    if free_bits and iw_samples > 1:
        raise ValueError("free_bits applies to the ELBO's KL; use iw_samples = 1 with it.")
    if free_bits and not isinstance(getattr(model, "prior", None), probability.StandardNormal):
        raise ValueError("free_bits needs the N(0, I) prior (a closed-form KL per latent dimension); "
                         f"the model's prior is {type(getattr(model, 'prior', None)).__name__}.")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be None or a function (batch, generator) → batch, got {type(augment).__name__}.")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    opt = (torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay) if weight_decay
           else torch.optim.Adam(model.parameters(), lr=lr))
    hist, best, best_state, waited = History(), float("inf"), None, 0
    averaged = _WeightAverage(model, ema_decay) if ema_decay else None
    steps_per_epoch = -(-len(x_train) // batch_size)
    schedule = (torch.optim.lr_scheduler.LambdaLR(opt, lambda t: _half_cosine(t, epochs * steps_per_epoch))
                if lr_schedule == "cosine" else None)
    start = time.perf_counter()
    bar = progress_bar(epochs, "training", progress)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=generator)
        sums = torch.zeros(3)
        beta_now = beta * min(1.0, (epoch + 1) / warmup_epochs) if warmup_epochs else beta
        for i in range(0, len(x_train), batch_size):
            batch = x_train[perm[i:i + batch_size]]
            if augment is not None:
                batch = augment(batch, generator)
            if iw_samples == 1:
                t = model.elbo_terms(batch, generator=generator, beta=beta_now)
            else:
                t = _iw_step_terms(model, batch, iw_samples, generator)
            if free_bits:
                loss = -t["log_lik"].mean() + beta_now * free_bits_kl(t["mu"], t["log_var"], free_bits)
            else:
                loss = -t["elbo"].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
            if averaged is not None:
                averaged.update(model)
            sums += torch.stack([-t["elbo"].sum(), -t["log_lik"].sum(), t["kl"].sum()]).detach()
        hist.train_loss.append((sums[0] / len(x_train)).item())
        hist.train_rec.append((sums[1] / len(x_train)).item())
        hist.train_kl.append((sums[2] / len(x_train)).item())
        kept = averaged.model if averaged is not None else model
        val = mean_terms(kept, x_val, torch.Generator().manual_seed(1), beta=beta)
        hist.val_loss.append(val["loss"])
        hist.val_rec.append(val["rec"])
        hist.val_kl.append(val["kl"])
        with torch.no_grad(), models.evaluating(kept):
            mu, log_var = kept.encode(x_val)
        hist.val_kl_dims.append(probability.gaussian_kl(mu.unsqueeze(-1), log_var.unsqueeze(-1)).mean(0).tolist())
        hist.val_mu_var.append(mu.var(0).tolist() if len(mu) > 1 and mu.shape[-1] else [0.0] * mu.shape[-1])
        if val["loss"] < best:
            best, best_state, hist.best_epoch, waited = val["loss"], copy.deepcopy(kept.state_dict()), epoch, 0
        else:
            waited += 1
        bar.update(1)
        bar.set_postfix(val_loss=f"{val['loss']:.1f}")
        if patience is not None and waited >= patience:
            break
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    hist.seconds = time.perf_counter() - start
    return hist


def _half_cosine(step: int, total: int) -> float:
    """The factor on the learning rate at `step` of `total`: ½(1 + cos(π·step/total)), from 1 down to 0."""
    return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))


class _WeightAverage:
    """A moving average of a model's weights (an EMA copy of the model), for `train(ema_decay=...)`."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.model, self.decay, self.steps = copy.deepcopy(model), decay, 0
        self.model.eval()

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for avg, p in zip(self.model.parameters(), model.parameters()):
            avg.lerp_(p, 1 - d)
        for avg, b in zip(self.model.buffers(), model.buffers()):
            avg.copy_(b)
        self.steps += 1
