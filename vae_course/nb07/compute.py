"""Notebook 07, Beyond N(0, I) and independent pixels: the VampPrior, a mixture prior's log-density,
MADE's masks and the connectivity they give, how well a prior covers the aggregate posterior
(KL(q(z) ‖ p(z)): the most any prior can buy)."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from .. import _validate as v
from .. import probability
from ..models import VAE, evaluating
from ..nb04.compute import aggregate_posterior, count_active_units, mmd, unvisited_share

# ---------------------------------------------------------------- a mixture prior's log-density (Exercise 7.2)

def mixture_log_prob(z: Tensor, means: Tensor, log_vars: Tensor, logits: Tensor) -> Tensor:
    """log p(z) = log Σ_c w_c N(z; m_c, diag exp(log_var_c)), w = softmax(logits), by logsumexp.

    z (N, L); means, log_vars (C, L); logits (C,) → (N,). Stable for z far from every component,
    where each w_c N(z; m_c, ·) underflows to 0 and log Σ exp(·) written out would give −inf.
    """
    z, means, log_vars, logits = (v.tensor(t, name) for t, name in
                                  ((z, "z"), (means, "means"), (log_vars, "log_vars"), (logits, "logits")))
    if z.ndim != 2 or means.ndim != 2 or means.shape != log_vars.shape or z.shape[1] != means.shape[1] \
            or logits.shape != means.shape[:1]:
        raise ValueError(f"expected z (N, L), means and log_vars (C, L), logits (C,); got {tuple(z.shape)}, "
                         f"{tuple(means.shape)}, {tuple(log_vars.shape)}, {tuple(logits.shape)}.")
    per = probability.diag_gaussian_log_prob(z[:, None, :], means, log_vars)  # (N, C)
    return torch.logsumexp(per + torch.log_softmax(logits, 0), dim=-1)


# ---------------------------------------------------------------- the VampPrior

class VampPrior(torch.nn.Module):
    """The VampPrior (Tomczak & Welling, 2018): p(z) = (1/C) Σ_c q(z | u_c), a mixture of the
    encoder's own posteriors at C learned pseudo-inputs u_c ∈ [0, 1]^64.

    encoder: the VAE's encoder network (x → [mu, raw log_var], as `models.VAE.encoder`), shared, so
    the prior moves with the encoder. init (C, 64): the starting pseudo-inputs (e.g. C training digits);
    they are learned through logits, u = sigmoid(logits). sample(n, generator) → (n, L);
    log_prob(z) (..., L) → (...).
    """

    def __init__(self, encoder: torch.nn.Module, init: Tensor, latent_dim: int):
        super().__init__()
        init = v.tensor(init, "init", dtype=torch.float32)
        if init.ndim != 2 or len(init) < 1:
            raise ValueError(f"init must have shape (C, D) with C ≥ 1 pseudo-inputs, got {tuple(init.shape)}.")
        if (init < 0).any() or (init > 1).any():
            raise ValueError("init must lie in [0, 1] (digits as levels / 16).")
        if not isinstance(encoder, torch.nn.Module):
            raise TypeError(f"encoder must be a torch.nn.Module (the VAE's encoder), got {type(encoder).__name__}.")
        self.encoder, self.dim = encoder, v.count(latent_dim, "latent_dim")
        self.pseudo_logits = torch.nn.Parameter(torch.logit(init.clamp(0.02, 0.98)))

    def pseudo_inputs(self) -> Tensor:
        """u_c = sigmoid(pseudo_logits): (C, D) in (0, 1)."""
        return torch.sigmoid(self.pseudo_logits)

    def components(self) -> tuple[Tensor, Tensor]:
        """mu, log_var (C, L) of q(z | u_c) for every pseudo-input."""
        mu, log_var = self.encoder(self.pseudo_inputs()).chunk(2, dim=-1)
        if mu.shape[-1] != self.dim:
            raise ValueError(f"the encoder gives {mu.shape[-1]} latent dimensions, the prior has {self.dim}.")
        return mu, log_var

    def log_prob(self, z: Tensor) -> Tensor:
        z = v.tensor(z, "z")
        if z.ndim == 0 or z.shape[-1] != self.dim:
            raise ValueError(f"z must have {self.dim} latent dimensions in its last axis, got shape {tuple(z.shape)}.")
        mu, log_var = self.components()
        per = probability.diag_gaussian_log_prob(z[..., None, :], mu.to(z.dtype), log_var.to(z.dtype))
        return torch.logsumexp(per, dim=-1) - math.log(len(mu))

    def sample(self, n: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        n = v.count(n, "n", of="draws")
        with torch.no_grad():
            mu, log_var = self.components()
            c = torch.randint(len(mu), (n,), generator=generator)
            eps = torch.randn(n, self.dim, generator=generator)
            return probability.reparameterize(mu[c], log_var[c], eps).to(dtype)

    def extra_repr(self) -> str:
        return f"pseudo_inputs={len(self.pseudo_logits)}, dim={self.dim}"


def make_vae(prior: str, latent_dim: int, hidden: int, x_init: Tensor, components: int = 10,
             dropout: float = 0.0) -> VAE:
    """A `models.VAE` with the prior named: "standard normal" N(0, I), "mixture" (a learnable mixture of
    `components` Gaussians, means spread by a fixed draw) or "vamp" (a VampPrior on `components`
    pseudo-inputs, the first rows of x_init). The rest of the model is the same for all three."""
    v.one_of(prior, "prior", ("standard normal", "mixture", "vamp"))
    components = v.count(components, "components")
    if prior == "standard normal":
        return VAE(latent_dim=latent_dim, hidden=hidden, dropout=dropout)
    if prior == "mixture":
        means = torch.randn(components, latent_dim, generator=torch.Generator().manual_seed(1234))
        mix = probability.GaussianMixture(means, torch.full_like(means, -1.0), learnable=True)
        return VAE(latent_dim=latent_dim, hidden=hidden, dropout=dropout, prior=mix)
    model = VAE(latent_dim=latent_dim, hidden=hidden, dropout=dropout)
    x_init = v.tensor(x_init, "x_init", dtype=torch.float32)
    if len(x_init) < components:
        raise ValueError(f"x_init must have at least {components} rows (one per pseudo-input), got {len(x_init)}.")
    model.prior = VampPrior(model.encoder, x_init[:components], latent_dim)
    return model


# ---------------------------------------------------------------- the prior against the aggregate posterior

def marginal_kl(mu: Tensor, log_var: Tensor, prior, eps: Tensor) -> Tensor:
    """KL(q(z) ‖ p(z)) for the aggregate posterior q(z) = (1/N) Σ_n N(z; mu_n, diag σ_n²), by Monte Carlo.

    mu, log_var (N, L): the posteriors of N digits; prior: an object with log_prob; eps (S, N, L): the
    noise of S draws from each posterior, pooled into S·N draws z ~ q(z). log q(z) is exact (a
    logsumexp over the N posteriors), so the only error is the Monte Carlo mean. Returns a 0-d tensor.

    It is the part of the mean KL(q(z|x) ‖ p(z)) that a prior can remove: the mean KL equals the mutual
    information I(x; z) under q plus KL(q(z) ‖ p(z)), and only the second term depends on p(z).
    """
    z = aggregate_posterior(mu, log_var, eps)  # (S·N, L)
    log_q = torch.logsumexp(probability.diag_gaussian_log_prob(z[:, None, :], mu, log_var), dim=1) - math.log(len(mu))
    return (log_q - prior.log_prob(z)).mean()


class PriorFit(NamedTuple):
    """How a trained model's prior p(z) covers its aggregate posterior q(z) (the measure of notebook 04):
    mmd: squared MMD between pooled draws of q(z) and draws of p(z); unvisited: share of p(z) draws
    farther than 0.25 from every pooled draw; kl: mean KL(q(z|x) ‖ p(z)) on x (one-draw estimate);
    active: active latent dimensions; samples: (n, 64) mean images of prior draws."""

    mmd: float
    unvisited: float
    kl: float
    active: int
    samples: Tensor
    marginal_kl: float


@torch.no_grad()
def prior_fit(model: VAE, x: Tensor, n: int = 1000, generator: torch.Generator | None = None,
              n_samples: int = 12) -> PriorFit:
    """Encode x (N, 64), pool one draw per posterior, draw n (≤ N) from the prior, measure; eval mode."""
    n = v.count(n, "n")
    with evaluating(model):
        x = model.check_x(x)
        mu, log_var = model.encode(x)
        eps = torch.randn((1, *mu.shape), generator=generator)
        pooled = aggregate_posterior(mu, log_var, eps)
        z_prior = model.prior.sample(min(n, len(x)), generator=generator)
        kl = probability.kl_term(model.prior, pooled, mu, log_var).mean().item()
        samples = model.decode_mean(model.prior.sample(n_samples, generator=generator))
        gap = marginal_kl(mu, log_var, model.prior, eps).item()
    return PriorFit(mmd(pooled, z_prior).item(), unvisited_share(z_prior, pooled), kl,
                    count_active_units(mu), samples, gap)


@torch.no_grad()
def prior_on_grid(prior, extent: float = 4.0, n: int = 121) -> tuple[Tensor, Tensor]:
    """log p(z) of a 2-D prior on an n×n grid over [−extent, extent]²: ticks (n,), log_p (n, n) with
    [i, j] at z = (ticks[i], ticks[j])."""
    if getattr(prior, "dim", 2) != 2:
        raise ValueError(f"prior_on_grid draws 2-D priors, got one with {prior.dim} dimensions.")
    extent, n = v.scalar(extent, "extent", positive=True), v.count(n, "n", minimum=3)
    ticks = torch.linspace(-extent, extent, n)
    return ticks, prior.log_prob(torch.cartesian_prod(ticks, ticks)).reshape(n, n)


# ---------------------------------------------------------------- MADE's masks (Exercise 7.1)
# The mask itself is `autoregressive.made_mask`; here, what a stack of masks connects.

def made_connectivity(masks: list[Tensor]) -> Tensor:
    """Which input each output can depend on through a stack of masked layers: masks [(H1, D), (H2, H1), …,
    (D, Hk)] → (D, D) bool, [j, d] True when some path of unmasked weights leads from input d to output j."""
    if not masks:
        raise ValueError("masks must hold at least one mask.")
    paths = None
    for i, m in enumerate(masks):
        m = v.tensor(m, f"masks[{i}]", dtype=torch.float64)
        if m.ndim != 2 or (paths is not None and m.shape[1] != paths.shape[0]):
            raise ValueError(f"masks[{i}] has shape {tuple(m.shape)}; each mask must be (out, in) with in = the "
                             f"previous mask's out.")
        paths = m if paths is None else (m @ paths > 0).double()
    return paths > 0


__all__ = ["mixture_log_prob", "VampPrior", "make_vae", "marginal_kl", "PriorFit", "prior_fit", "prior_on_grid", "made_connectivity"]


# ---------------------------------------------------------------- what the explorer of notebook 07 shows

class ZPath(NamedTuple):
    """Codes along one latent direction, and what an autoregressive VAE does there (all precomputed):
    ts (T,): steps along dimension `dim`; z (T, L) = z0 + t·e_dim; samples (T, n, 64): x ~ p(x|z) with the
    same pixel noise (one uniform per pixel, from one generator seed per column) at every step; log_prior
    (T,): log p(z); nll (T,): −log p(x|z) of the digit x the path starts from (exact), in nats; dim; x (64,) that digit;
    kl: KL(q(z|x) ‖ p(z)) of that digit's posterior in nats (closed form; NaN for a prior without one; one number for the whole path: the KL
    belongs to the posterior q(z|x), not to one point z of the path)."""

    ts: Tensor
    z: Tensor
    samples: Tensor
    log_prior: Tensor
    nll: Tensor
    dim: int
    x: Tensor
    kl: float


@torch.no_grad()
def z_path(model, x: Tensor, ts, dim: int | None = None, n: int = 8, seed: int = 0) -> ZPath:
    """Walk from the code μ(x) of one digit x ((64,) or (1, 64)) along latent dimension `dim` (None: 0) by the
    steps `ts`, and sample n digits x ~ p(x|z) at every step with the same pixel noise (column k: 64 uniforms
    from generator seed seed + k, read through the inverse CDF of each pixel's conditional), so that only z changes from step to step. `model`: an `autoregressive.AutoregressiveVAE`."""
    x = model.check_x(x.reshape(1, -1) if x.ndim == 1 else x)
    if len(x) != 1:
        raise ValueError(f"x must be one digit, (64,) or (1, 64), got {tuple(x.shape)}.")
    ts = v.tensor(torch.as_tensor(ts, dtype=torch.float32), "ts")
    if ts.ndim != 1 or len(ts) < 2:
        raise ValueError(f"ts must be a 1-D sequence of at least 2 steps, got shape {tuple(ts.shape)}.")
    latent_dim = model.latent_dim
    if latent_dim < 1:
        raise ValueError("the model has no latent to move along.")
    dim = 0 if dim is None else v.count(dim, "dim", minimum=0)
    if dim >= latent_dim:
        raise ValueError(f"dim must be below the model's {latent_dim} latent dimensions, got {dim}.")
    n, seed = v.count(n, "n"), v.count(seed, "seed", minimum=0)
    with evaluating(model):
        mu, log_var = model.encode(x)
        kl = model.prior.kl(mu, log_var) if hasattr(model.prior, "kl") else torch.full((1,), float("nan"))
        z = mu.repeat(len(ts), 1)
        z[:, dim] += ts
        # column k's pixel noise: 64 uniforms from seed + k, the same at every step (one batched pass of 64 draws)
        u = torch.stack([torch.rand(model.decoder.data_dim, generator=torch.Generator().manual_seed(seed + k))
                         for k in range(n)])
        samples = model.sample_x(z.repeat_interleave(n, 0), uniforms=u.repeat(len(ts), 1)).reshape(len(ts), n, -1)
        nll = -model.log_likelihood(x.expand(len(ts), -1), z)
        log_prior = model.prior.log_prob(z)
    return ZPath(ts, z, samples, log_prior, nll, dim, x[0], float(kl[0]))


__all__ += ["ZPath", "z_path"]


# ---------------------------------------------------------------- the benchmark's results, as data
# benchmarks/train_vae.py trains the full-length models (minutes); notebook 07 reads their numbers from this
# file instead of quoting them in markdown, and tests/test_nb07_benchmark.py checks README's table against it.

BENCHMARK_FILE = "benchmark.json"
BENCHMARK_FIELDS = ("nll", "neg_elbo", "kl", "cpu", "seconds")
BENCHMARK_LABELS = {"ar": "masked conv + z (ar)", "ar_nolatent": "same decoder, no latent", "vae": "VAE of 06 (vae)",
                    "mixture": "VAE, mixture prior"}


def benchmark_results(path=None) -> dict:
    """The benchmark's results (`vae_course/nb07/benchmark.json`, written by benchmarks/train_vae.py's
    `write_results`), checked: {"models": {name: {"nll_by_seed": [...], "median": {nll, neg_elbo, kl, cpu,
    seconds}}}, "references": {name: {"nll": ...}}, "k", "seeds", "cpu", "date", "command", ...}.
    Nats per test digit; cpu and seconds: training CPU time and wall time in seconds. path: another file."""
    import json
    from importlib import resources

    if path is None:
        text = resources.files(__package__).joinpath(BENCHMARK_FILE).read_text(encoding="utf-8")
    else:
        from pathlib import Path
        text = Path(path).read_text(encoding="utf-8")
    results = json.loads(text)
    if not isinstance(results, dict) or not isinstance(results.get("models"), dict) or not results["models"]:
        raise ValueError("a benchmark file holds {'models': {name: {...}}, ...}; this one has no models.")
    for name, row in results["models"].items():
        median = row.get("median") if isinstance(row, dict) else None
        if not isinstance(median, dict) or set(BENCHMARK_FIELDS) - set(median) or not row.get("nll_by_seed"):
            raise ValueError(f"benchmark model {name!r} needs nll_by_seed and a median with {BENCHMARK_FIELDS}.")
    return results


def benchmark_summary(models=None, results: dict | None = None, references: bool = True) -> str:
    """A printable table of the benchmark: per model (all, or the names in `models`, in that order) the median
    test −log p(x), −ELBO, KL and training CPU over the seeds; then (references=True) the quoted references."""
    results = benchmark_results() if results is None else results
    names = list(results["models"]) if models is None else list(models)
    unknown = [n for n in names if n not in results["models"]]
    if unknown:
        raise ValueError(f"no benchmark model {unknown}; the file has {list(results['models'])}.")
    seeds = results.get("seeds", [])
    lines = [f"benchmark (benchmarks/train_vae.py): median of {len(seeds)} seeds, test −log p(x) with "
             f"K = {results.get('k')}, nats per digit; run {results.get('date', '?')}",
             f"{'model':>26} {'−log p(x)':>10} {'−ELBO':>8} {'KL':>6} {'training CPU':>13}"]
    for n in names:
        m = results["models"][n]["median"]
        elbo = "(exact)" if m["kl"] == 0 and m["neg_elbo"] == m["nll"] else f"{m['neg_elbo']:.2f}"
        lines.append(f"{BENCHMARK_LABELS.get(n, n):>26} {m['nll']:10.2f} {elbo:>8} {m['kl']:6.2f} {m['cpu']:11.1f} s")
    if references:
        for n, r in results.get("references", {}).items():
            lines.append(f"{n:>26} {r['nll']:10.2f}   (quoted)")
    return "\n".join(lines)


__all__ += ["benchmark_results", "benchmark_summary", "BENCHMARK_FILE"]
