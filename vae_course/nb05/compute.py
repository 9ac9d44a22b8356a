"""Gradient estimators of E[f(z)], z ~ N(μ, σ²): pathwise (the reparameterization trick) and score
function, exact gradients and quadrature to check them, their variance, central differences."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from .. import _validate as v
from .. import probability
from ..probability import standard_normal_log_prob

_SQRT2 = math.sqrt(2.0)




def _phi(u: Tensor) -> Tensor:
    return torch.exp(standard_normal_log_prob(u))


def _square(z, t):
    return (z - t) ** 2, 2 * (z - t)


def _absolute(z, t):
    return (z - t).abs(), torch.sign(z - t)


def _step(z, t):
    return (z > t).to(z.dtype), torch.zeros_like(z)


#: name → (f(z, t), f'(z, t)); f' is the derivative where it exists (the step's is 0 almost everywhere).
OBJECTIVES: dict[str, Callable[[Tensor, float], tuple[Tensor, Tensor]]] = {
    "(z − t)²": _square,
    "|z − t|": _absolute,
    "step 1[z > t]": _step,
}


def objective(name: str, z: Tensor, t: float = 1.0) -> tuple[Tensor, Tensor]:
    """f(z) and f'(z) of the objective `name` (one of OBJECTIVES) at every entry of z."""
    v.one_of(name, "objective", tuple(OBJECTIVES))
    return OBJECTIVES[name](v.tensor(z, "z"), v.scalar(t, "t"))


def _mu_sigma(mu, sigma) -> tuple[float, float]:
    return v.scalar(mu, "mu"), v.scalar(sigma, "sigma", positive=True)


def exact_grad(name: str, mu: float, sigma: float, t: float = 1.0) -> Tensor:
    """Exact (d/d mu, d/d sigma) of E_{z ~ N(mu, sigma²)}[f(z)] in closed form, float64 (2,).

    (z − t)²: E = (mu − t)² + sigma²            → (2(mu − t), 2 sigma)
    |z − t|:  E = a(2Φ(a/σ) − 1) + 2σφ(a/σ)     → (2Φ(a/σ) − 1, 2φ(a/σ)),  a = mu − t
    1[z > t]: E = Φ(a/σ)                         → (φ(a/σ)/σ, −a φ(a/σ)/σ²)
    """
    v.one_of(name, "objective", tuple(OBJECTIVES))
    mu, sigma = _mu_sigma(mu, sigma)
    a = mu - v.scalar(t, "t")
    u = torch.tensor(a / sigma, dtype=torch.float64)
    if name == "(z − t)²":
        return torch.tensor([2 * a, 2 * sigma], dtype=torch.float64)
    if name == "|z − t|":
        return torch.stack([torch.erf(u / _SQRT2), 2 * _phi(u)])
    return torch.stack([_phi(u) / sigma, -a * _phi(u) / sigma**2])


def expected_value(name: str, mu, sigma: float, t: float = 1.0) -> Tensor:
    """E_{z ~ N(mu, sigma²)}[f(z)] in closed form, float64, for a number mu (shape ()) or a tensor of
    them (any shape: the curve of E[f] against mu at one sigma). Its derivatives are `exact_grad`.

    (z − t)²: (mu − t)² + sigma²;  |z − t|: a(2Φ(a/σ) − 1) + 2σφ(a/σ), a = mu − t;  1[z > t]: Φ(a/σ).
    """
    v.one_of(name, "objective", tuple(OBJECTIVES))
    sigma, t = v.scalar(sigma, "sigma", positive=True), v.scalar(t, "t")
    if isinstance(mu, Tensor):
        a = v.tensor(mu, "mu").double() - t
    else:
        a = torch.tensor(v.scalar(mu, "mu") - t, dtype=torch.float64)
    u = a / sigma
    if name == "(z − t)²":
        return a**2 + sigma**2
    if name == "|z − t|":
        return a * torch.erf(u / _SQRT2) + 2 * sigma * _phi(u)
    return 0.5 * (1 + torch.erf(u / _SQRT2))


def quadrature_grad(f: Callable[[Tensor], Tensor], mu: float, sigma: float, n: int = 200_001,
                    width: float = 12.0) -> Tensor:
    """(d/d mu, d/d sigma) of E[f(z)], z ~ N(mu, sigma²), by the trapezoid rule: float64 (2,).

    Differentiates under the integral, ∫ f(z) ∂p(z)/∂θ dz, written in u = (z − mu)/sigma on
    [−width, width]; needs only values of f, so it works for non-smooth and discontinuous f.
    """
    mu, sigma = _mu_sigma(mu, sigma)
    n = v.count(n, "n", minimum=3)
    u = torch.linspace(-width, width, n, dtype=torch.float64)
    fw = f(mu + sigma * u) * _phi(u)
    return torch.stack([torch.trapezoid(fw * u / sigma, u), torch.trapezoid(fw * (u**2 - 1) / sigma, u)])


def pathwise_grad(df_values: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
    """Pathwise estimates of (d/d mu, d/d sigma) E[f(z)] from f'(z_i) and the eps_i with z_i = mu + sigma·eps_i.

    dz/d mu = 1 and dz/d sigma = eps, so the estimates are mean(f'(z)) and mean(f'(z)·eps) over the
    last dimension. df_values, eps: (..., N) → two tensors of shape (...).
    """
    df_values, eps = v.tensor(df_values, "df_values"), v.tensor(eps, "eps")
    if df_values.shape != eps.shape:
        raise ValueError(f"df_values and eps must have the same shape, got {tuple(df_values.shape)} "
                         f"and {tuple(eps.shape)}.")
    return _pathwise(df_values, eps)


def _pathwise(df_values: Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
    return df_values.mean(-1), (df_values * eps).mean(-1)


def score_function_grad(f_values: Tensor, z: Tensor, mu, sigma) -> tuple[Tensor, Tensor]:
    """Score-function estimates of (d/d mu, d/d sigma) E[f(z)] from samples z ~ N(mu, sigma²).

    mean(f(z)·(z − mu)/sigma²) and mean(f(z)·((z − mu)²/sigma³ − 1/sigma)) over the last dimension:
    f times the derivative of log N(z; mu, sigma²). f_values, z: (..., N) → two tensors (...).
    """
    f_values, z = v.tensor(f_values, "f_values"), v.tensor(z, "z")
    if f_values.shape != z.shape:
        raise ValueError(f"f_values and z must have the same shape, got {tuple(f_values.shape)} and {tuple(z.shape)}.")
    return _score(f_values, z, *_mu_sigma(mu, sigma))


def _score(f_values: Tensor, z: Tensor, mu: float, sigma: float) -> tuple[Tensor, Tensor]:
    d = z - mu
    return (f_values * d / sigma**2).mean(-1), (f_values * (d**2 / sigma**3 - 1 / sigma)).mean(-1)


def score_function_grad_loo(f_values: Tensor, z: Tensor, mu, sigma) -> tuple[Tensor, Tensor]:
    """Score-function estimates of (d/d mu, d/d sigma) E[f(z)] with a leave-one-out baseline.

    Sample i of a batch of n gets the baseline b_i = mean of f over the *other* n − 1 samples, which
    does not depend on z_i, so mean((f_i − b_i)·score_i) stays unbiased. f_values, z: (..., n) with
    n ≥ 2 → two tensors (...); the score is that of `score_function_grad`.
    """
    f_values, z = v.tensor(f_values, "f_values"), v.tensor(z, "z")
    if f_values.shape != z.shape:
        raise ValueError(f"f_values and z must have the same shape, got {tuple(f_values.shape)} and {tuple(z.shape)}.")
    if z.ndim == 0 or z.shape[-1] < 2:
        raise ValueError("a leave-one-out baseline needs at least 2 samples along the last dimension, "
                         f"got shape {tuple(z.shape)}.")
    n = z.shape[-1]
    baseline = (f_values.sum(-1, keepdim=True) - f_values) / (n - 1)
    return _score(f_values - baseline, z, *_mu_sigma(mu, sigma))


@dataclass
class GradientSummary:
    """One setting of the explorer. eps, z, f, df: (R, N); pathwise, score: (R, 2) batch estimates
    of (d/d mu, d/d sigma); exact: (2,); mean and sd over the R batches of each estimator: (2,)."""

    objective: str
    mu: float
    sigma: float
    t: float
    eps: Tensor
    z: Tensor
    f: Tensor
    df: Tensor
    pathwise: Tensor
    score: Tensor
    exact: Tensor

    def mean(self, which: str) -> Tensor:
        return getattr(self, which).mean(0)

    def sd(self, which: str) -> Tensor:
        return getattr(self, which).std(0)

    def z_scores(self, which: str) -> Tensor:
        """(mean − exact) in standard errors of the mean over the R batches, for mu and sigma.

        An estimator with no spread at all is exact (0) or off by infinitely many standard errors (inf).
        """
        est = getattr(self, which)
        gap, se = est.mean(0) - self.exact, est.std(0) / math.sqrt(len(est))
        off = torch.where(gap.abs() > 1e-12, torch.full_like(gap, math.inf), torch.zeros_like(gap))
        return torch.where(se > 0, gap / se, off)


def summarize_gradients(name: str, mu: float, sigma: float, eps: Tensor, t: float = 1.0) -> GradientSummary:
    """Samples z = mu + sigma·eps for a fixed eps (R, N), both estimators per batch, and the exact gradient."""
    mu, sigma = _mu_sigma(mu, sigma)
    eps = v.tensor(eps, "eps")
    if eps.ndim != 2:
        raise ValueError(f"eps must have shape (R batches, N samples), got {tuple(eps.shape)}.")
    v.one_of(name, "objective", tuple(OBJECTIVES))
    t = v.scalar(t, "t")
    z = mu + sigma * eps
    f, df = OBJECTIVES[name](z, t)
    pathwise = torch.stack(_pathwise(df, eps), -1)
    # the score-function formulas with z − mu = sigma·eps (fewer passes over the samples)
    f_eps = f * eps
    score = torch.stack([f_eps.mean(-1) / sigma, (f_eps * eps - f).mean(-1) / sigma], -1)
    return GradientSummary(name, mu, sigma, t, eps, z, f, df, pathwise, score, exact_grad(name, mu, sigma, t))


def variance_table(name: str, mu: float, sigma: float, ns, repeats: int, generator: torch.Generator,
                   t: float = 1.0) -> list[dict]:
    """For each sample size n: the exact gradient and each estimator's mean and sd over `repeats` batches.

    Rows: {"n", "exact_mu", "exact_sigma", "path_mu_mean", "path_mu_sd", ..., "score_sigma_sd"}.
    """
    repeats = v.count(repeats, "repeats", minimum=2)
    rows = []
    for n in ns:
        v.count(n, "every sample size", minimum=2)
        s = summarize_gradients(name, mu, sigma, torch.randn(repeats, n, generator=generator, dtype=torch.float64), t)
        row = {"n": n, "exact_mu": s.exact[0].item(), "exact_sigma": s.exact[1].item()}
        for which, key in (("pathwise", "path"), ("score", "score")):
            for i, p in enumerate(("mu", "sigma")):
                row[f"{key}_{p}_mean"] = s.mean(which)[i].item()
                row[f"{key}_{p}_sd"] = s.sd(which)[i].item()
        rows.append(row)
    return rows


def central_difference(fn: Callable[[], Tensor], param: Tensor, h: float = 1e-6) -> Tensor:
    """Central finite differences of the scalar fn() with respect to every entry of `param` (changed in place,
    then restored). Use float64. Returns a tensor shaped like param."""
    if not isinstance(param, Tensor):
        raise TypeError(f"param must be a torch.Tensor, got {type(param).__name__}.")
    h = v.scalar(h, "h", positive=True)
    if param.dtype != torch.float64:
        raise ValueError(f"param must be float64 (e.g. model.double()), got {param.dtype}: in lower precision a step "
                         f"of h = {h:g} drowns in rounding and the differences are noise.")
    if not param.is_contiguous():
        raise ValueError("param must be a contiguous tensor, such as a parameter itself (model.encoder[-1].bias); a "
                         "transposed or sliced view would be changed through a copy that fn() never sees.")
    grad = torch.zeros_like(param)
    with torch.no_grad():
        flat, out = param.view(-1), grad.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + h
            up = fn().item()
            flat[i] = old - h
            down = fn().item()
            flat[i] = old
            out[i] = (up - down) / (2 * h)
    return grad



# ---------------------------------------------------------------- what the reparameterization explorer shows

def fixed_eps(repeats: int, n: int, generator: torch.Generator | None = None) -> Tensor:
    """eps ~ N(0, 1) for `repeats` batches of n samples, float64 (repeats, n): drawn once, then every
    setting of the explorer moves the same samples (z = mu + sigma·eps, batches of its first columns)."""
    repeats, n = v.count(repeats, "repeats", minimum=2), v.count(n, "n")
    return torch.randn(repeats, n, generator=generator, dtype=torch.float64)


@dataclass
class ReparamPicture:
    """What `ReparamFigure` draws for one `GradientSummary` (all float64 tensors).

    eps, z, f, df (S,): the first S samples of the first batch; grid (G,) with f_curve (G,) = f on it
    and bell (G,) = the density of N(mu, sigma²) on it divided by its peak (1 at z = mu); tangents
    (S, 2, 2): the end points (z ∓ half, f ∓ half·f′) of each sample's tangent; jitter (R,): fixed
    vertical offsets of the R batch estimates (the same for every setting); mean and sd: {"pathwise",
    "score"} → (2,) the mean and sd over the batches of each estimator of (d/d mu, d/d sigma); xlim
    (2, 2): the fixed x-ranges of the two estimate panels; widening: {"pathwise", "score"} → (2,) the sd
    over the sd of the same setting at a reference n (nan where that sd is 0); reference_mean and
    reference_sd: {"pathwise", "score"} → (2,) the same at the reference n; mean_curve (G,): E[f(z)]
    for z ~ N(m, sigma²) at every grid point m, the objective smoothed by the normal, as a function of
    the mean; mean_tangent (2, 2): the end points (mu ∓ half, E ∓ half·∂E/∂mu) of its tangent at mu,
    whose slope is the exact gradient.
    """

    summary: GradientSummary
    eps: Tensor
    z: Tensor
    f: Tensor
    df: Tensor
    grid: Tensor
    f_curve: Tensor
    bell: Tensor
    tangents: Tensor
    jitter: Tensor
    mean: dict
    sd: dict
    xlim: Tensor
    widening: dict
    reference_mean: dict
    reference_sd: dict
    mean_curve: Tensor
    mean_tangent: Tensor


def reparam_picture(s: GradientSummary, n_show: int = 24, half: float = 1.6, lim: float = 6.0,
                    points: int = 481, jitter: float = 0.18, seed: int = 0,
                    reference: GradientSummary | None = None, n_axis: int = 100) -> ReparamPicture:
    """The arrays of the explorer's picture for the summary s: its first n_show samples, f and the
    density of N(mu, sigma²) on `points` points of [−lim, lim], tangents of half-width `half`, and
    jitter uniform on [−jitter, jitter] from a generator seeded with `seed` (so it never changes).

    xlim (2, 2): the x-range of the d/d mu and d/d sigma panels, `axis_range(objective, mu, sigma,
    n_axis)`, the same for every n. widening {"pathwise", "score"} → (2,): sd at s's n over the sd
    of `reference` (the same setting at another n; s itself when None).
    """
    import numpy as np

    n_show, points = v.count(n_show, "n_show"), v.count(points, "points", minimum=2)
    half, lim = v.scalar(half, "half", positive=True), v.scalar(lim, "lim", positive=True)
    eps, z, f, df = (t[0, :n_show] for t in (s.eps, s.z, s.f, s.df))
    grid = torch.linspace(-lim, lim, points, dtype=torch.float64)
    tangents = torch.stack([torch.stack([z - half, f - half * df], -1), torch.stack([z + half, f + half * df], -1)], 1)
    offsets = torch.from_numpy(np.random.default_rng(seed).uniform(-jitter, jitter, len(s.pathwise)))
    reference = s if reference is None else reference
    if (reference.objective, reference.mu, reference.sigma, reference.t) != (s.objective, s.mu, s.sigma, s.t):
        raise ValueError("reference must be the same setting (objective, mu, sigma, t) as s, at another n.")
    sd = {w: s.sd(w) for w in ("pathwise", "score")}
    widening = {w: torch.where(reference.sd(w) > 0, sd[w] / reference.sd(w).clamp_min(1e-300),
                               torch.full_like(sd[w], math.nan)) for w in sd}
    at_mu, slope = expected_value(s.objective, s.mu, s.sigma, s.t), s.exact[0]
    mean_tangent = torch.stack([torch.stack([at_mu.new_tensor(s.mu - half), at_mu - half * slope]),
                                torch.stack([at_mu.new_tensor(s.mu + half), at_mu + half * slope])])
    return ReparamPicture(s, eps, z, f, df, grid, objective(s.objective, grid, s.t)[0],
                          torch.exp(-0.5 * ((grid - s.mu) / s.sigma) ** 2), tangents, offsets,
                          {w: s.mean(w) for w in ("pathwise", "score")}, sd,
                          axis_range(s.objective, s.mu, s.sigma, n_axis, s.t), widening,
                          {w: reference.mean(w) for w in sd}, {w: reference.sd(w) for w in sd},
                          expected_value(s.objective, grid, s.sigma, s.t), mean_tangent)


def _term_moments(name: str, mu: float, sigma: float, t: float, n: int, width: float) -> tuple[Tensor, Tensor]:
    """The mean and sd of one sample's term of each estimator, by the trapezoid rule in u = (z − mu)/sigma:
    two float64 (2, 2) tensors, rows (pathwise, score function), columns (d/d mu, d/d sigma)."""
    v.one_of(name, "objective", tuple(OBJECTIVES))
    mu, sigma = _mu_sigma(mu, sigma)
    u = torch.linspace(-width, width, v.count(n, "n", minimum=3), dtype=torch.float64)
    f, df = OBJECTIVES[name](mu + sigma * u, v.scalar(t, "t"))
    w = _phi(u)
    terms = torch.stack([torch.stack([df, df * u]), torch.stack([f * u / sigma, f * (u**2 - 1) / sigma])])
    m1 = torch.trapezoid(terms * w, u)
    m2 = torch.trapezoid(terms**2 * w, u)
    return m1, (m2 - m1**2).clamp_min(0).sqrt()


def term_sd(name: str, mu: float, sigma: float, t: float = 1.0, n: int = 200_001, width: float = 12.0) -> Tensor:
    """The sd of ONE sample's term of each estimator, by the trapezoid rule in u = (z − mu)/sigma, float64 (2, 2):
    rows (pathwise, score function), columns (d/d mu, d/d sigma). The sd of a mean of n terms is this / √n.

    Pathwise terms f′(z)·(1, u); score-function terms f(z)·(u/sigma, (u² − 1)/sigma).
    """
    return _term_moments(name, mu, sigma, t, n, width)[1]


def estimator_expectation(name: str, mu: float, sigma: float, t: float = 1.0, n: int = 200_001,
                          width: float = 12.0) -> Tensor:
    """What each estimator averages to, E[one term], by the trapezoid rule, float64 (2, 2): rows (pathwise,
    score function), columns (d/d mu, d/d sigma). Both equal `exact_grad` where the estimator is unbiased;
    the pathwise row of the step is (0, 0), since its f′ is 0 wherever it exists."""
    return _term_moments(name, mu, sigma, t, n, width)[0]


def axis_range(name: str, mu: float, sigma: float, n: int = 100, t: float = 1.0, spread: float = 3.5) -> Tensor:
    """The explorer's x-ranges for the batch estimates of d/d mu and d/d sigma, float64 (2, 2) (rows mu, sigma;
    columns low, high): the exact value ± `spread` sd of a batch of n samples of the wider estimator
    (`term_sd` / √n), widened where needed so that what each estimator averages to
    (`estimator_expectation`: the biased pathwise 0 of the step) lies inside, with a margin. It depends on
    (objective, mu, sigma) only, so changing the batch size in the explorer leaves the axes alone and the
    bars visibly widen or narrow."""
    n = v.count(n, "n")
    exact = exact_grad(name, mu, sigma, t)
    expected, sd = _term_moments(name, mu, sigma, t, 200_001, 12.0)
    half = spread * sd.max(0).values / math.sqrt(n)
    half = torch.maximum(half, 0.05 * exact.abs().clamp_min(1.0))
    lo = torch.minimum(exact - half, expected.min(0).values - 0.15 * half)
    hi = torch.maximum(exact + half, expected.max(0).values + 0.15 * half)
    return torch.stack([lo, hi], -1)



# ---------------------------------------------------------------- a VAE trained with each estimator

ESTIMATORS = ("pathwise", "score function")


def estimator_loss(model, x: Tensor, estimator: str = "pathwise", generator: torch.Generator | None = None,
                   baseline=0.0) -> Tensor:
    """The batch mean of the one-sample −ELBO of `model` (a `vae_course.models.VAE` with the N(0, I) prior)
    on x, as a surrogate whose VALUE is the −ELBO for either estimator and whose GRADIENT for the encoder
    is the chosen estimator's. The KL term is in closed form (its gradient is exact in both).

    "pathwise": z = mu + sigma·eps and autograd through the decoder (the reparameterization trick).
    "score function": z is detached, so the reconstruction term f = log p(x|z) reaches the encoder only
    through log q(z|x)·stopgrad(f − baseline), with (log q − stopgrad(log q)) so that this term's value
    is 0. The decoder's gradient is the same in both.
    """
    v.one_of(estimator, "estimator", ESTIMATORS)
    x = model.check_x(x)
    mu, log_var = model.encode(x)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    z = probability.reparameterize(mu, log_var, eps)
    kl = probability.gaussian_kl(mu, log_var)
    if estimator == "pathwise":
        return -(model.log_likelihood(x, model.decode(z)) - kl).mean()
    z = z.detach()
    log_lik = model.log_likelihood(x, model.decode(z))
    log_q = probability.diag_gaussian_log_prob(z, mu, log_var)
    score_term = (log_q - log_q.detach()) * (log_lik.detach() - baseline)
    return -(log_lik + score_term - kl).mean()


@dataclass
class EstimatorRun:
    """One VAE trained with one estimator: val_loss (epochs + 1,) the validation −ELBO (one sample per
    digit, the same eps for every epoch and run) before training and after each epoch; train_loss
    (epochs,) the mean training −ELBO of each epoch; val_kl (epochs + 1,) the mean KL(q(z|x) ‖ p(z)) on
    x_val, the nats the codes carry; seconds, the time it took; model, the trained VAE."""

    estimator: str
    val_loss: Tensor
    train_loss: Tensor
    val_kl: Tensor
    seconds: float
    model: torch.nn.Module


def train_with_estimator(estimator: str, x_train: Tensor, x_val: Tensor, *, epochs: int = 8, seed: int = 0,
                         hidden: int = 64, batch_size: int = 50, lr: float = 3e-3) -> EstimatorRun:
    """Train a fresh `vae_course.models.VAE(latent_dim=2, hidden=hidden)` with Adam on `estimator_loss`.

    Everything but the estimator is fixed by `seed`: the initial weights, the order of the batches, the
    eps of each step and of the validation loss, so two runs with the same seed differ only in how the
    encoder's gradient is estimated."""
    import time

    from ..models import VAE

    v.one_of(estimator, "estimator", ESTIMATORS)
    epochs, batch_size = v.count(epochs, "epochs"), v.count(batch_size, "batch_size")
    x_train, x_val = v.tensor(x_train, "x_train"), v.tensor(x_val, "x_val")
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = VAE(latent_dim=2, hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    order, noise = torch.Generator().manual_seed(seed + 1), torch.Generator().manual_seed(seed + 2)

    def validation() -> float:
        with torch.no_grad():
            kl.append(probability.gaussian_kl(*model.encode(x_val)).mean().item())
            return estimator_loss(model, x_val, "pathwise", torch.Generator().manual_seed(seed + 3)).item()

    kl: list[float] = []
    val, train = [validation()], []
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(x_train), generator=order).split(batch_size):
            loss = estimator_loss(model, x_train[idx], estimator, noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        train.append(total / len(x_train))
        val.append(validation())
    as64 = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    return EstimatorRun(estimator, as64(val), as64(train), as64(kl), time.perf_counter() - start, model)


def encoder_gradients(model, x: Tensor, estimator: str, draws: int, generator: torch.Generator) -> Tensor:
    """The gradient of `estimator_loss` with respect to all encoder weights (flattened, float64) for `draws`
    independent draws of eps on the same batch x and the same weights: (draws, P). Their mean estimates
    the same gradient for both estimators; their spread is the noise each estimator feeds the optimizer."""
    v.one_of(estimator, "estimator", ESTIMATORS)
    draws = v.count(draws, "draws", minimum=2)
    params = list(model.encoder.parameters())
    rows = []
    for _ in range(draws):
        grads = torch.autograd.grad(estimator_loss(model, x, estimator, generator), params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]).double())
    return torch.stack(rows)


# ---------------------------------------------------------------- the chain rule into the encoder

def encoder_jacobians(model, x: Tensor) -> tuple[Tensor, Tensor]:
    """dmu/dphi and dsigma/dphi of `model`'s encoder at the batch x, each (B, L, P) with P the number of
    encoder weights phi (all of `model.encoder.parameters()`, flattened in order), by one backward pass per
    output entry; sigma = exp(log_var / 2)."""
    x = model.check_x(x)
    params = list(model.encoder.parameters())
    mu, log_var = model.encode(x)
    sigma = torch.exp(0.5 * log_var)

    def jacobian(out: Tensor) -> Tensor:
        rows = [torch.cat([g.reshape(-1) for g in torch.autograd.grad(o, params, retain_graph=True,
                                                                      allow_unused=False)])
                for o in out.reshape(-1)]
        return torch.stack(rows).reshape(*out.shape, -1)

    return jacobian(mu), jacobian(sigma)


def chain_rule_grad(dloss_dz: Tensor, dmu_dphi: Tensor, dsigma_dphi: Tensor, eps: Tensor) -> Tensor:
    """The encoder's gradient of a loss of z = mu + sigma·eps by the chain rule, (P,):

        d loss/d phi = Σ_{k, j} d loss/d z_kj · (dz/dmu · dmu_kj/d phi + dz/dsigma · dsigma_kj/d phi),
        with dz/dmu = 1 and dz/dsigma = eps_kj (k the example, j the latent dimension).

    dloss_dz, eps: (B, L); dmu_dphi, dsigma_dphi: (B, L, P) (`encoder_jacobians`)."""
    dloss_dz, eps = v.tensor(dloss_dz, "dloss_dz"), v.tensor(eps, "eps")
    dmu_dphi, dsigma_dphi = v.tensor(dmu_dphi, "dmu_dphi"), v.tensor(dsigma_dphi, "dsigma_dphi")
    if dloss_dz.ndim != 2 or eps.shape != dloss_dz.shape:
        raise ValueError(f"dloss_dz and eps must both have shape (B, L), got {tuple(dloss_dz.shape)} and "
                         f"{tuple(eps.shape)}.")
    if dmu_dphi.ndim != 3 or dmu_dphi.shape[:2] != dloss_dz.shape or dsigma_dphi.shape != dmu_dphi.shape:
        raise ValueError(f"dmu_dphi and dsigma_dphi must both have shape (B, L, P) with (B, L) = "
                         f"{tuple(dloss_dz.shape)}, got {tuple(dmu_dphi.shape)} and {tuple(dsigma_dphi.shape)}.")
    dz_dphi = 1.0 * dmu_dphi + eps[..., None] * dsigma_dphi
    return (dloss_dz[..., None] * dz_dphi).sum((0, 1))


__all__ = ["encoder_jacobians", "chain_rule_grad", "ESTIMATORS", "estimator_loss", "EstimatorRun", "train_with_estimator", "encoder_gradients", "OBJECTIVES", "objective", "exact_grad", "expected_value", "quadrature_grad", "pathwise_grad", "score_function_grad", "score_function_grad_loo",
           "GradientSummary", "summarize_gradients", "variance_table", "central_difference", "fixed_eps",
           "ReparamPicture", "reparam_picture", "term_sd", "estimator_expectation", "axis_range"]
