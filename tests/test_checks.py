"""The checker contract, for every exercise: right answers pass (several formulas, float32), wrong ones
are rejected with a message that names the mistake, and no answer can fool, stop or hang a checker.

One table, CASES, holds per exercise: valid alternative answers, wrong answers with the words their
message must contain, and the answers that change an input in place, compute in float32, cut the
gradient, or hard-code a size of the inputs the checker showed first. The tests below run every
checker through the same contract.
"""

import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import torch
import torch.nn.functional as F

from vae_course import checking, nb01, nb02, nb03, nb04, nb05, nb06, nb07

D = torch.distributions
LOG_2PI = math.log(2 * math.pi)
LOG_4 = math.log(4.0)
PASS = None  # in `detached`: this exercise needs no gradient, so a detached answer is right


@dataclass
class Case:
    checker: Callable
    valid: list  # different but right answers; the first computes in float32
    wrong: list  # (answer, words its message must contain), at least 8
    inplace: tuple  # (answer that changes an input in place, the input's name)
    detached: tuple  # (answer whose result carries no gradient, words, or PASS when none is needed)
    hard_coded: tuple  # (answer that hard-codes a size of the first inputs, words)
    extra: list = field(default_factory=list)


def run(checker, fn, capsys, **kwargs):
    returned = checker(fn, **kwargs)
    return returned, capsys.readouterr().out


def stub_for(number):
    def stub(*args):
        raise NotImplementedError(f"Exercise {number}")
    if number in CASES:  # the learner's stub carries the exercise's name, and messages use the learner's name
        stub.__name__ = CASES[number].checker.function
    return stub


# ---------------------------------------------------------------- 1.1 inverse-CDF sampler

def _icdf_inplace(u, rate):
    u *= -1
    return -torch.log1p(u) / rate


# ---------------------------------------------------------------- 1.2 affine pushforward density

def _phi(t):
    return torch.exp(-0.5 * t**2) / math.sqrt(2 * math.pi)


def _affine_inplace(x, a, b):
    x -= b
    return _phi(x / a) / abs(a)


# ---------------------------------------------------------------- 1.3 log-normal density

def _lognormal(x, mu, sigma):
    return _phi((torch.log(x) - mu) / sigma) / (sigma * x)


def _lognormal_inplace(x, mu, sigma):
    x.log_()
    return _phi((x - mu) / sigma) / (sigma * torch.exp(x))


# ---------------------------------------------------------------- 1.4 log-density of the 2-D fan

def _fan_z(x):
    return 2 * torch.log(x.norm(dim=-1)), 2 * torch.atan2(x[..., 1], x[..., 0])


def _fan(x, sign=-1.0, const=LOG_2PI, log4=LOG_4):
    z1, z2 = _fan_z(x)
    return -0.5 * (z1**2 + z2**2) - const + sign * (z1 - log4)


def _fan_by_autograd(x):
    """The Jacobian of the forward map by autograd at z = g⁻¹(x) (one backward pass per output
    coordinate, for every point at once), no determinant worked out by hand."""
    with torch.enable_grad():
        z = torch.stack(_fan_z(x.detach()), -1).requires_grad_(True)
        g = nb01.fan_map(z)
        rows = [torch.autograd.grad(g[..., i].sum(), z, retain_graph=True)[0] for i in range(2)]
    det = rows[0][..., 0] * rows[1][..., 1] - rows[0][..., 1] * rows[1][..., 0]
    z = torch.stack(_fan_z(x), -1)
    return D.Normal(0.0, 1.0).log_prob(z).sum(-1) - det.abs().log()


def _inverse_fan_log_det(y):
    """log|det J_{g⁻¹}(y)| by autograd of the inverse map g⁻¹(y) = (2·log|y|, 2·atan2(y₂, y₁)), at whatever y is given."""
    with torch.enable_grad():
        y = y.detach().requires_grad_(True)
        z = torch.stack(_fan_z(y), -1)
        rows = [torch.autograd.grad(z[..., i].sum(), y, retain_graph=True)[0] for i in range(2)]
    return (rows[0][..., 0] * rows[1][..., 1] - rows[0][..., 1] * rows[1][..., 0]).abs().log()


def _fan_inplace(x):
    x[..., 0] = x[..., 0].clone()  # writes into x
    return _fan(x)


# ---------------------------------------------------------------- 2.1 Monte Carlo log p(x)

def _by_max(log_lik):
    m = log_lik.max(-1, keepdim=True).values
    return (m + torch.log(torch.exp(log_lik - m).mean(-1, keepdim=True))).squeeze(-1)


def _mc_inplace(log_lik):
    m = log_lik.max(-1, keepdim=True).values
    log_lik -= m
    return m.squeeze(-1) + torch.log(torch.exp(log_lik).mean(-1))


def _by_global_max(log_lik):
    """The stabilising max taken once over the whole batch, not per data point."""
    m = log_lik.max()
    return m + torch.log(torch.exp(log_lik - m).mean(-1))


# ---------------------------------------------------------------- 2.2 importance sampling

def _is(l, p, q):
    return torch.logsumexp(l + p - q, -1) - math.log(l.shape[-1])


def _is_inplace(l, p, q):
    l += p - q
    return torch.logsumexp(l, -1) - math.log(l.shape[-1])



def _mc(log_lik):
    return torch.logsumexp(log_lik, -1) - math.log(log_lik.shape[-1])


# ---------------------------------------------------------------- 3.1 / 5.1 sampling with the given eps

def _sigma(log_var):
    return torch.exp(0.5 * log_var)


def _z(mu, log_var, eps):
    return mu + _sigma(log_var) * eps


def _z_seeded_noise(mu, log_var, eps):
    torch.manual_seed(0)  # the same noise on every call, but not the eps it was given
    return mu + _sigma(log_var) * torch.randn_like(eps)


def _z_inplace(mu, log_var, eps):
    eps *= _sigma(log_var)
    return eps.add_(mu)


# ---------------------------------------------------------------- 3.2 diagonal Gaussian log-density

def _density(z, mu, log_var):
    return D.Normal(mu, _sigma(log_var)).log_prob(z).sum(-1)


def _density_per_dim(z, mu, lv):
    return -0.5 * (LOG_2PI + lv + (z - mu) ** 2 / lv.exp())


def _density_inplace(z, mu, log_var):
    z -= mu
    return -0.5 * (LOG_2PI + log_var + z**2 / log_var.exp()).sum(-1)


# ---------------------------------------------------------------- 4.1 KL to N(0, I)

def _per_dim(mu, log_var):
    return 0.5 * (mu**2 + torch.exp(log_var) - log_var - 1)


def _kl(mu, log_var):
    return _per_dim(mu, log_var).sum(-1)


def _kl_torch(mu, log_var):
    return D.kl_divergence(D.Normal(mu, _sigma(log_var)), D.Normal(0.0, 1.0)).sum(-1)


def _kl_inplace(mu, log_var):
    mu.pow_(2)
    return 0.5 * (mu + log_var.exp() - log_var - 1).sum(-1)


# ---------------------------------------------------------------- 5.2 score-function estimator

def _mu_score(f, z, mu, sigma, dim=-1):
    terms = f * (z - mu) / sigma**2
    return terms.sum(-1) if dim is None else terms.mean(dim)


def _sigma_score(f, z, mu, sigma, dim=-1):
    terms = f * ((z - mu) ** 2 / sigma**3 - 1 / sigma)
    return terms.sum(-1) if dim is None else terms.mean(dim)


def _score(f, z, mu, sigma):
    return _mu_score(f, z, mu, sigma), _sigma_score(f, z, mu, sigma)


def _score_by_autograd(f, z, mu, sigma):
    """The score of every sample from autograd: one mu and sigma per sample, so grad(sum) is per sample."""
    m = torch.full_like(z, mu, requires_grad=True)
    s = torch.full_like(z, sigma, requires_grad=True)
    d_mu, d_sigma = torch.autograd.grad(D.Normal(m, s).log_prob(z).sum(), [m, s])
    return (f * d_mu).mean(-1), (f * d_sigma).mean(-1)


def _score_inplace(f, z, mu, sigma):
    z -= mu
    return (f * z / sigma**2).mean(-1), (f * (z**2 / sigma**3 - 1 / sigma)).mean(-1)


# ---------------------------------------------------------------- 5.3 a leave-one-out baseline

def _loo(f, z, mu, sigma, divide=None, own=False, sign=-1):
    n = z.shape[-1]
    b = f.mean(-1, keepdim=True) if own else (f.sum(-1, keepdim=True) - f) / (divide or n - 1)
    return _score(f + sign * b, z, mu, sigma)


def _loo_loop(f, z, mu, sigma):
    """One sample at a time: its baseline from the others, by indexing."""
    n = z.shape[-1]
    g = torch.stack([f[..., i] - torch.cat([f[..., :i], f[..., i + 1:]], -1).mean(-1) for i in range(n)], -1)
    return _score(g, z, mu, sigma)


def _loo_inplace(f, z, mu, sigma):
    n = z.shape[-1]
    z -= mu
    b = (f.sum(-1, keepdim=True) - f) / (n - 1)
    return ((f - b) * z / sigma**2).mean(-1), ((f - b) * (z**2 / sigma**3 - 1 / sigma)).mean(-1)


# ---------------------------------------------------------------- 6.1 the VAE loss

def _rec(x_logits, levels):
    return F.cross_entropy(x_logits.transpose(1, 2), levels, reduction="none")  # (B, D) per pixel


def _loss(xl, lv, mu, log_var):
    return (_rec(xl, lv).sum(-1) + _kl(mu, log_var)).mean()


def _loss_torch(x_logits, levels, mu, log_var):
    return (-D.Categorical(logits=x_logits).log_prob(levels).sum(-1) + _kl_torch(mu, log_var)).mean()


def _loss_no_grad_rec(xl, lv, mu, log_var):
    with torch.no_grad():
        rec = _rec(xl, lv).sum(-1)
    return (rec + _kl(mu, log_var)).mean()


def _bce_on_the_mean(xl, lv):
    """A Bernoulli likelihood of the grey values: BCE of the decoded mean image against levels/16, per digit."""
    p, x = (xl.softmax(-1) * torch.linspace(0, 1, 17, dtype=xl.dtype)).sum(-1), lv / 16
    return -(x * p.log() + (1 - x) * (1 - p).log()).sum(-1)


def _loss_inplace_log_softmax(xl, lv, mu, log_var):
    xl.sub_(xl.logsumexp(-1, keepdim=True))  # an in-place log_softmax of the logits
    return (-xl.gather(-1, lv.unsqueeze(-1)).squeeze(-1).sum(-1) + _kl(mu, log_var)).mean()


# 3.1 and 5.1 ask for the same function, z = mu + σ·eps, and run the same checks.
_REPARAMETERIZE = dict(
    wrong=[(lambda mu, lv, eps: mu + torch.exp(lv) * eps, "the ½ is missing"),
               (lambda mu, lv, eps: mu + lv * eps, "log σ² is not σ"),
               (lambda mu, lv, eps: mu + torch.exp(2 * lv) * eps, "not exp(2·log_var)"),
               (lambda mu, lv, eps: mu + _sigma(lv) + 0 * eps, "eps is missing"),
               (lambda mu, lv, eps: mu * eps + _sigma(lv), "mu and σ are swapped"),
               (lambda mu, lv, eps: eps + _sigma(lv) * mu, "mu and eps are swapped"),
               (lambda mu, lv, eps: mu + eps / _sigma(lv), "multiply eps by σ, do not divide"),
               (lambda mu, lv, eps: D.Normal(mu, _sigma(lv)).sample(eps.shape[:-mu.ndim]), "detached sample"),
               (lambda mu, lv, eps: mu + _sigma(lv) * torch.randn_like(mu), "draws its own noise"),
               (_z_seeded_noise, "it drew from torch's global random generator"),
               (lambda mu, lv, eps: mu + _sigma(lv) * eps.reshape(-1, *mu.shape)[0],
                "should have eps's shape (5, 3, 2)"),
               (lambda mu, lv, eps: mu.unsqueeze(-1) + _sigma(lv).unsqueeze(-1) * eps, "your function hit a shape error"),
               (lambda mu, lv, eps: _z(mu, lv, eps).tolist(), "torch.Tensor"),
               (lambda mu, lv, eps: _z(mu, lv, eps) + 0.01, "the values differ"),
               (lambda mu, lv, eps: mu + torch.exp(0.25 * lv) * eps, "sqrt(σ)"),
               (lambda mu, lv, eps: mu + eps, "without σ"),
               (lambda mu, lv, eps: mu - _sigma(lv) * eps, "the sign of eps is flipped"),
               (lambda mu, lv, eps: D.Normal(mu, _sigma(lv)).rsample(eps.shape[:-2]), "draws its own noise"),
               (lambda mu, lv, eps: _z(mu, lv, eps)[..., 0], "returned shape"),
               (lambda mu, lv, eps: mu[0] + _sigma(lv) * eps, "the values differ")],
    inplace=(_z_inplace, "eps"),
    detached=(lambda mu, lv, eps: _z(mu, lv, eps).detach(), "z carries no gradient back to mu"),
    hard_coded=(lambda mu, lv, eps: mu + _sigma(lv) * eps.view(3, 2),
                    "with mu, log_var of shape (3, 2) and eps of shape (5, 3, 2) your function hit a shape error"),
)

# ---------------------------------------------------------------- 7.1 MADE's mask

def _ge(i, o):
    return (o[:, None] >= i[None, :]).float()


def _gt(i, o):
    return (o[:, None] > i[None, :]).float()


def _made_loops(in_degrees, out_degrees, strict):
    rows = [[float(k > d) if strict else float(k >= d) for d in in_degrees.tolist()] for k in out_degrees.tolist()]
    return torch.tensor(rows, dtype=torch.float64)


def _made_inplace(in_degrees, out_degrees, strict):
    in_degrees.add_(0)
    return _gt(in_degrees, out_degrees) if strict else _ge(in_degrees, out_degrees)


# ---------------------------------------------------------------- 7.2 a mixture prior's log-density

def _mix_per(z, means, log_vars):
    return -0.5 * ((z[:, None, :] - means) ** 2 / log_vars.exp() + log_vars + LOG_2PI).sum(-1)  # (N, C)


def _mix(z, means, log_vars, logits):
    return torch.logsumexp(_mix_per(z, means, log_vars) + torch.log_softmax(logits, 0), -1)


def _mix_torch(z, means, log_vars, logits):
    comp = D.Independent(D.Normal(means, torch.exp(0.5 * log_vars)), 1)
    return D.MixtureSameFamily(D.Categorical(logits=logits), comp).log_prob(z)


def _mix_inplace(z, means, log_vars, logits):
    logits -= logits.logsumexp(0)
    return torch.logsumexp(_mix_per(z, means, log_vars) + logits, -1)


CASES = {
    "1.1": Case(
        nb01.exercise_1_1,
        valid=[lambda u, rate: -torch.log1p(-u.float()) / rate,
               lambda u, rate: -torch.log(1 - u) / rate,
               lambda u, rate: D.Exponential(rate).icdf(u),
               lambda u, rate: -(1 / rate) * torch.log1p(-u)],
        wrong=[(lambda u, rate: -torch.log(u) / rate, "F⁻¹(1 − u)"),
               (lambda u, rate: -torch.log1p(-u) * rate, "rate should divide"),
               (lambda u, rate: torch.log1p(-u) / rate, "minus sign"),
               (lambda u, rate: 1 - torch.exp(-rate * u), "that is the CDF F"),
               (lambda u, rate: rate * torch.exp(-rate * u), "density of Exponential(rate)"),
               (lambda u, rate: -torch.log1p(-u) / rate**2, "divide by the rate once"),
               (lambda u, rate: (-torch.log1p(-u) / rate).sum(), "returned shape () for u of shape (2, 3)"),
               (lambda u, rate: (-torch.log1p(-u) / rate).tolist(), "returned list; it should return a torch.Tensor"),
               (lambda u, rate: -torch.log1p(-u), "without dividing by the rate"),
               (lambda u, rate: -torch.log1p(-u) / rate + 0.01, "the values differ: at u = "),
               (lambda u, rate: (-torch.log1p(-u) / rate).long(), "dtype torch.int64"),
               (lambda u, rate: D.Gamma(1.0, rate).icdf(u), ("raised NotImplementedError (with no message) (inside "
                                                              "torch: distributions/distribution.py, in icdf"))],
        inplace=(_icdf_inplace, "u"),
        detached=(lambda u, rate: (-torch.log1p(-u) / rate).detach(), PASS),
        hard_coded=(lambda u, rate: (-torch.log1p(-u) / rate).reshape(6), "returned shape (6,) for u of shape (2, 3)"),
    ),
    "1.2": Case(
        nb01.exercise_1_2,
        valid=[lambda x, a, b: _phi((x.float() - b) / a) / abs(a),
               lambda x, a, b: D.Normal(b, abs(a)).log_prob(x).exp(),
               lambda x, a, b: torch.exp(D.Normal(0.0, 1.0).log_prob((x - b) / a)) / abs(a),
               lambda x, a, b: torch.exp(-((x - b) ** 2) / (2 * a**2)) / math.sqrt(2 * math.pi * a**2)],
        wrong=[(lambda x, a, b: _phi((x - b) / a), "without the factor 1/|a|"),
               (lambda x, a, b: _phi((x - b) / a) / a, "with a < 0 that is negative"),
               (lambda x, a, b: _phi(a * x + b) * abs(a), "g⁻¹(x) = (x − b)/a"),
               (lambda x, a, b: _phi((x - b) / a) / a**2, "not by the variance a²"),
               (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / abs(a), "without 1/√(2π)"),
               (lambda x, a, b: _phi((x - b) / a) * abs(a), "multiplying by |a|"),
               (lambda x, a, b: _phi((x + b) / a) / abs(a), "the inverse of g is (x − b)/a"),
               (lambda x, a, b: torch.exp(-((x - b) / a) ** 2) / math.sqrt(2 * math.pi) / abs(a),
                "the ½ in the exponent is missing"),
               (lambda x, a, b: torch.exp(-((x - b) / a) ** 2) / math.sqrt(math.pi) / abs(a),
                "the ½ in the exponent is missing (and √(2π) became √π"),
               (lambda x, a, b: torch.log(_phi((x - b) / a) / abs(a)), "the log-density"),
               (lambda x, a, b: _phi(x / a - b) / abs(a), "subtract b before dividing"),
               (lambda x, a, b: _phi(x / a) / abs(a), "b is ignored"),
               (lambda x, a, b: _phi((x - b) / a**2) / abs(a), "divides by the scale |a|, not by a²"),
               (lambda x, a, b: _phi((x - b) / a**2) / a**2, "both use the scale |a|"),
               (lambda x, a, b: torch.exp(-0.5 * ((x - b) / a) ** 2) / 2.5 / abs(a), "the values differ: at x = ")],
        inplace=(_affine_inplace, "x"),
        detached=(lambda x, a, b: (_phi((x - b) / a) / abs(a)).detach(), PASS),
        # answers at the grid the first check showed, whatever x is
        hard_coded=(lambda x, a, b: _phi((torch.linspace(-4, 6, 11, dtype=x.dtype) - b) / a) / abs(a),
                    "returned shape (11,) for x of shape (2, 3)"),
    ),
    "1.3": Case(
        nb01.exercise_1_3,
        valid=[lambda x, mu, sigma: _lognormal(x.float(), mu, sigma),
               lambda x, mu, sigma: D.LogNormal(mu, sigma).log_prob(x).exp(),
               lambda x, mu, sigma: D.Normal(mu, sigma).log_prob(torch.log(x)).exp() / x,
               lambda x, mu, sigma: torch.exp(-(torch.log(x) - mu) ** 2 / (2 * sigma**2) - torch.log(x))
               / math.sqrt(2 * math.pi * sigma**2)],
        wrong=[(lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) / sigma, "the factor 1/x is missing"),
               (lambda x, mu, sigma: _phi((torch.exp(x) - mu) / sigma) / (sigma * x), "with log, not exp"),
               (lambda x, mu, sigma: _phi((torch.exp(x) - mu) / sigma) * torch.exp(x) / sigma, "instead of pulling"),
               (lambda x, mu, sigma: torch.exp(-0.5 * ((torch.log(x) - mu) / sigma) ** 2) / (sigma * x),
                "without 1/√(2π)"),
               (lambda x, mu, sigma: torch.exp(-((torch.log(x) - mu) / sigma) ** 2) / math.sqrt(2 * math.pi)
                / (sigma * x), "the ½ in the exponent is missing"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) / (sigma * torch.exp(sigma * x + mu)),
                "you took g' at x itself"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) * x / sigma, "do not multiply"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) / x, "the factor 1/σ is missing"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) / (sigma**2 * x), "not by the variance σ²"),
               (lambda x, mu, sigma: _phi((torch.log(x) + mu) / sigma) / (sigma * x), "subtract μ"),
               (lambda x, mu, sigma: _phi(torch.log(x) / sigma - mu) / (sigma * x), "subtract μ before dividing"),
               (lambda x, mu, sigma: torch.log(_lognormal(x, mu, sigma)), "the log-density"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma), "with no Jacobian factor at all"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) * sigma / x, "divide by σ, do not multiply"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) * sigma * x, "the Jacobian factor is 1/(σx)"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) / (sigma * torch.exp(x)),
                "you took exp(x) instead of x"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma) / (torch.log(x) - mu),
                "evaluated at z = g⁻¹(x); the factor is 1/(σx)"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma**2) / (sigma * x), "not with the variance σ²"),
               (lambda x, mu, sigma: _phi((torch.log(x) - mu) / sigma**2) / (sigma**2 * x), "σ² is used in place of σ twice"),
               (lambda x, mu, sigma: D.LogNormal(mu, math.sqrt(sigma)).log_prob(x).exp(), "sigma treated as the variance"),
               (lambda x, mu, sigma: _lognormal(x, mu, sigma) * 1.01, "the values differ: at x = ")],
        inplace=(_lognormal_inplace, "x"),
        detached=(lambda x, mu, sigma: _lognormal(x, mu, sigma).detach(), PASS),
        hard_coded=(lambda x, mu, sigma: _lognormal(torch.tensor([0.05, 0.2, 0.45, 0.8, 1.0, 1.3, 1.9, 2.7, 4.0, 6.5],
                                                                 dtype=x.dtype), mu, sigma),
                    "returned shape (10,) for x of shape (2, 3)"),
    ),
    "1.4": Case(
        nb01.exercise_1_4,
        valid=[lambda x: _fan(x.float()),
               _fan_by_autograd,
               lambda x: D.MultivariateNormal(torch.zeros(2, dtype=x.dtype), torch.eye(2, dtype=x.dtype)).log_prob(
                   torch.stack(_fan_z(x), -1)) - torch.log(torch.exp(_fan_z(x)[0]) / 4),
               lambda x: nb01.fan_log_density(x)],
        wrong=[(lambda x: _fan(x, sign=1.0), "the sign of the Jacobian term is flipped"),
               (lambda x: _fan(x, sign=0.0), "the Jacobian term is missing"),
               (lambda x: _fan(x, sign=0.0) - (x[..., 0] - math.log(4)), "J_g evaluated at the wrong point"),
               # the inverse's Jacobian, 4/|y|², taken at z instead of at x (autograd of g⁻¹ at the wrong point)
               (lambda x: _fan(x, sign=0.0) + _inverse_fan_log_det(torch.stack(_fan_z(x), -1)),
                "J_{g⁻¹} is the derivative of z = g⁻¹(x) with respect to x, so it is evaluated at x, not at z"),
               (lambda x: _fan(x, log4=0.0), "the 1/4"),
               (lambda x: -0.5 * (x**2).sum(-1) - LOG_2PI - (_fan_z(x)[0] - math.log(4)), "p_Z is evaluated at x itself"),
               (lambda x: -0.5 * (torch.log(x.norm(dim=-1))**2 + _fan_z(x)[1]**2) - LOG_2PI
                - (torch.log(x.norm(dim=-1)) - math.log(4)), "z₁ = 2·log|x|"),
               (lambda x: -0.5 * (_fan_z(x)[0]**2 + (_fan_z(x)[1] / 2)**2) - LOG_2PI - (_fan_z(x)[0] - math.log(4)),
                "z₂ = 2·atan2(x₂, x₁)"),
               (lambda x: -0.5 * (_fan_z(x)[0]**2 + (2 * torch.atan2(x[..., 0], x[..., 1]))**2) - LOG_2PI
                - (_fan_z(x)[0] - math.log(4)), "atan2 takes (y, x)"),
               (lambda x: _fan(x, const=0.5 * LOG_2PI), "the constant −½·log 2π of one dimension"),
               (lambda x: _fan(x).exp(), "return its log"),
               (lambda x: -0.5 * (_fan_z(x)[0]**2 + (2 * torch.atan(x[..., 1] / x[..., 0]))**2) - LOG_2PI
                - (_fan_z(x)[0] - math.log(4)), "atan loses the half-plane x₁ < 0"),
               (lambda x: _fan(x) + 0.01, "the values differ: at x₁ = "),
               (lambda x: _fan(x).sum(), "returned shape () for x of shape (2, 3, 2)")],
        inplace=(_fan_inplace, "x"),
        detached=(lambda x: _fan(x).detach(), PASS),
        hard_coded=(lambda x: _fan(nb01.checks._fan_x(x.dtype)), "returned shape (30,) for x of shape (2, 3, 2)"),
    ),
    "2.1": Case(
        nb02.exercise_2_1,
        valid=[lambda l: torch.logsumexp(l.float(), -1) - math.log(l.shape[-1]),
               _by_max,
               lambda l: torch.logsumexp(l, -1) - torch.log(torch.tensor(float(l.shape[-1]))),
               lambda l: torch.logsumexp(l - math.log(l.shape[-1]), dim=-1)],
        wrong=[(lambda l: torch.log(torch.exp(l).mean(-1)), "underflows to 0"),
               (lambda l: torch.logsumexp(l, -1), "logsumexp without − log K"),
               (lambda l: torch.log(torch.exp(l).sum(-1)), "logsumexp without − log K"),
               (lambda l: l.mean(-1), "Jensen's inequality"),
               (lambda l: l.max(-1).values, "the largest log-likelihood alone"),
               (lambda l: torch.logsumexp(l, -1) - l.shape[-1], "subtract log K, not K"),
               (lambda l: torch.logsumexp(l, -1) + math.log(l.shape[-1]), "log K is subtracted, not added"),
               (_by_global_max, "one max over all of log_lik (log_lik.max()) does"),
               (lambda l: l.max() + torch.log(torch.exp(l - l.max()).sum(-1)) - math.log(l.shape[-1]),
                "Subtract a max per data point, log_lik.max(dim=-1, keepdim=True)"),
               (lambda l: torch.logsumexp(l, -1) / l.shape[-1], "not a division"),
               (lambda l: torch.logsumexp(l, -1) - math.log(l.shape[0]),
                "logsumexp − log B with B = 3, the number of data points"),
               (lambda l: torch.logsumexp(l, 0) - math.log(l.shape[0]), "you reduced over the first axis"),
               (lambda l: torch.logsumexp(l, -1, keepdim=True) - math.log(l.shape[-1]),
                "for log_lik of shape (7,) (one data point, 7 draws) you return shape (1,)"),
               (lambda l: torch.logsumexp(l.flatten(), 0) - math.log(l.numel()),
                "for log_lik of shape (3, 7) you return shape ()"),
               (lambda l: _mc(l) + 0.01, "the values differ"),
               (lambda l: (torch.logsumexp(l, -1, keepdim=True) - math.log(l.shape[-1])).squeeze(),
                ".squeeze() also removes the batch axis when B = 1")],
        inplace=(_mc_inplace, "log_lik"),
        detached=(lambda l: _mc(l).detach(), PASS),
        hard_coded=(lambda l: torch.logsumexp(l, -1) - math.log(7), "7 was K in the first example, here K = 50"),
    ),
    "2.2": Case(
        nb02.exercise_2_2,
        valid=[lambda l, p, q: _is(l.float(), p.float(), q.float()),
               lambda l, p, q: nb02.mc_log_px(l + p - q),
               lambda l, p, q: torch.logsumexp(l + p - q - math.log(l.shape[-1]), dim=-1),
               lambda l, p, q: (lambda w: (w.max(-1, keepdim=True).values + torch.log(
                   torch.exp(w - w.max(-1, keepdim=True).values).mean(-1, keepdim=True))).squeeze(-1))(l + p - q)],
        wrong=[(lambda l, p, q: torch.log(torch.exp(l + p - q).mean(-1)), "underflows to 0"),
               (lambda l, p, q: _is(l, p, torch.zeros_like(q)), "without − log q(z_k)"),
               (lambda l, p, q: _is(l, 2 * p, q), "log p(z_k) added twice"),
               (lambda l, p, q: _is(l, p, p), "the prior-sampling formula"),
               (lambda l, p, q: nb02.mc_log_px(l), "the prior-sampling formula"),
               (lambda l, p, q: _is(l, p, -q), "+ log q(z_k)"),
               (lambda l, p, q: _is(l, torch.zeros_like(p), q), "without log_prior"),
               (lambda l, p, q: (l + p - q).mean(-1), "estimates the ELBO, a lower bound"),
               (lambda l, p, q: torch.logsumexp(l + p - q, -1), "without − log K"),
               (lambda l, p, q: torch.logsumexp(l + p - q, -1) / l.shape[-1], "not a division"),
               (lambda l, p, q: torch.logsumexp(l + p - q, -1) - math.log(l.shape[0]),
                "− log B with B = 3, the number of data points"),
               (lambda l, p, q: torch.logsumexp(l + p - q, 0) - math.log(l.shape[0]), "expected (3,)"),
               (lambda l, p, q: _is(l, p, q) + 0.01, "the values differ")],
        inplace=(_is_inplace, "log_lik"),
        detached=(lambda l, p, q: _is(l, p, q).detach(), PASS),
        hard_coded=(lambda l, p, q: torch.logsumexp(l + p - q, -1) - math.log(7), "7 was K in the first example, here K = 6"),
    ),
    "3.1": Case(
        nb03.exercise_3_1,
        valid=[lambda mu, lv, eps: mu.float() + _sigma(lv.float()) * eps.float(),
               lambda mu, lv, eps: eps * torch.sqrt(torch.exp(lv)) + mu,
               lambda mu, lv, eps: torch.addcmul(mu, torch.exp(lv / 2), eps),
               lambda mu, lv, eps: mu + torch.exp(lv).sqrt() * eps],
        **_REPARAMETERIZE,
    ),
    "3.2": Case(
        nb03.exercise_3_2,
        valid=[lambda z, mu, lv: _density(z.float(), mu.float(), lv.float()),
               lambda z, mu, lv: D.MultivariateNormal(mu, torch.diag_embed(lv.exp())).log_prob(z),
               lambda z, mu, lv: -0.5 * (torch.log(2 * torch.tensor(torch.pi)) + lv
                                         + (z - mu) ** 2 / torch.exp(lv)).sum(-1),
               lambda z, mu, lv: D.Independent(D.Normal(mu, _sigma(lv)), 1).log_prob(z)],
        wrong=[(lambda z, mu, lv: (-0.5 * (LOG_2PI + lv) - (z - mu) ** 2 / lv.exp()).sum(-1),
                "without the ½ in front of the squared distance"),
               (lambda z, mu, lv: -(LOG_2PI + lv + (z - mu) ** 2 / lv.exp()).sum(-1), "missing ½ in front of everything"),
               (lambda z, mu, lv: (-0.5 * (LOG_2PI + (z - mu) ** 2 / lv.exp()) - lv).sum(-1), "σ² used where σ belongs"),
               (lambda z, mu, lv: -0.5 * (LOG_2PI + lv + (z - mu) ** 2 / _sigma(lv)).sum(-1), "not by σ"),
               (lambda z, mu, lv: -0.5 * (LOG_2PI + lv + (z - mu) ** 2 / lv).sum(-1), "divide by exp(log_var)"),
               (lambda z, mu, lv: -0.5 * (lv + (z - mu) ** 2 / lv.exp()).sum(-1), "−½·log 2π is missing"),
               (lambda z, mu, lv: -_density_per_dim(z, mu, lv).sum(-1), "the sign is flipped"),
               (lambda z, mu, lv: _density_per_dim(z, mu, lv).mean(-1), "a mean over the latent dimensions"),
               (lambda z, mu, lv: _density_per_dim(z, mu, lv).sum(-1).exp(), "the density itself, not its log"),
               (lambda z, mu, lv: _density_per_dim(z, mu, lv).sum(0), "sum over the wrong axis"),
               (lambda z, mu, lv: _density_per_dim(z, mu, lv), "one number per dimension"),
               (lambda z, mu, lv: _density(z, mu, lv).sum(), "you return one number"),
               (lambda z, mu, lv: D.Normal(mu, lv).log_prob(z).sum(-1),
                "Normal(loc, scale) takes the standard deviation σ = exp(½·log_var) as its scale"),
               (lambda z, mu, lv: D.Normal(mu, lv.exp()).log_prob(z).sum(-1), "whose standard deviation is σ²"),
               (lambda z, mu, lv: D.Normal(mu, lv.abs()).log_prob(z).sum(-1), "whose standard deviation is |log_var|"),
               (lambda z, mu, lv: D.MultivariateNormal(mu, torch.diag_embed(_sigma(lv))).log_prob(z),
                "whose variance is σ = exp(½·log_var)"),
               (lambda z, mu, lv: D.MultivariateNormal(mu, torch.diag_embed(lv)).log_prob(z),
                "torch.distributions rejected a parameter (Expected parameter covariance_matrix"),
               (lambda z, mu, lv: _density(z, mu, lv) + 0.01, "the values differ")],
        inplace=(_density_inplace, "z"),
        detached=(lambda z, mu, lv: _density(z, mu, lv).detach(), "no gradient reaches `z`, `mu`, `log_var`"),
        hard_coded=(lambda z, mu, lv: _density_per_dim(z, mu, lv).sum(1),
                    ("for z of shape (6, 4, 2), mu of shape (4, 2) you return shape (6, 2): that is a sum over "
                     "the wrong axis")),
    ),
    "4.1": Case(
        nb04.exercise_4_1,
        valid=[lambda mu, lv: _kl(mu.float(), lv.float()),
               _kl_torch,
               lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(dim=1),
               lambda mu, lv: (0.5 * (mu**2 + lv.exp() - 1) - 0.5 * lv).sum(-1)],
        wrong=[(lambda mu, lv: -_kl(mu, lv), "the sign is flipped"),
               (lambda mu, lv: (0.5 * (mu**2 + lv.exp() + lv - 1)).sum(-1), "minus sign, −log σ²"),
               (lambda mu, lv: (0.5 * (mu**2 + _sigma(lv) - lv - 1)).sum(-1),
                "σ = exp(½·log_var) is used in place of σ² = exp(log_var)"),
               (lambda mu, lv: (0.5 * (mu**2 + _sigma(lv) - torch.log(_sigma(lv)) - 1)).sum(-1),
                "σ is used in place of σ² in both terms"),
               (lambda mu, lv: (0.5 * (mu**2 + lv.exp() ** 2 - torch.log(lv.exp() ** 2) - 1)).sum(-1),
                "exp(log_var) is σ², not σ"),
               (lambda mu, lv: (0.5 * (lv.exp() - lv - 1)).sum(-1), "without μ²"),
               (lambda mu, lv: (0.5 * mu**2).sum(-1), "as if σ = 1 (log_var ignored)"),
               (lambda mu, lv: D.kl_divergence(D.Normal(mu, lv.exp()), D.Normal(0.0, 1.0)).sum(-1),
                "torch.distributions.Normal gets exp(log_var) as its scale"),
               (lambda mu, lv: (0.5 * (mu**2 + lv.exp() - _sigma(lv) - 1)).sum(-1), "σ is used where log σ² belongs"),
               (lambda mu, lv: (0.5 * (mu**2 + lv.exp() - 0.5 * lv - 1)).sum(-1), "log σ is used"),
               (lambda mu, lv: (0.5 * (mu**2 + lv**2 - torch.log(lv**2) - 1)).sum(-1), "log_var is used as if it were σ"),
               (lambda mu, lv: 2 * _kl(mu, lv), "without the factor ½"),
               (lambda mu, lv: (0.5 * (mu + lv.exp() - lv - 1)).sum(-1), "μ must be squared"),
               (lambda mu, lv: _per_dim(mu, lv).mean(-1), "a mean over the latent dimensions"),
               (lambda mu, lv: (0.5 * (mu**2 + lv.exp() - lv)).sum(-1), "without the −1"),
               (lambda mu, lv: (0.5 * (lv + (1 + mu**2) / lv.exp() - 1)).sum(-1), "the reversed KL"),
               (lambda mu, lv: _per_dim(mu, lv).sum(0), "it should return one value per example, shape (5,)"),
               (lambda mu, lv: _per_dim(mu, lv), "returned shape (5, 3) for mu and log_var of shape (5, 3)"),
               (lambda mu, lv: _kl(mu, lv).tolist(), "returned list"),
               (lambda mu, lv: _kl(mu, lv) * 0 + 1.0, "the values differ"),
               (lambda mu, lv: D.kl_divergence(D.Independent(D.Normal(mu, _sigma(lv)), 1), D.Normal(0.0, 1.0)),
                ("raised NotImplementedError: No KL(p || q) is implemented for p type Independent and q type Normal "
                 "(inside torch: distributions/kl.py, in kl_divergence"))],
        inplace=(_kl_inplace, "mu"),
        detached=(lambda mu, lv: torch.tensor(_kl(mu, lv).tolist(), dtype=mu.dtype),
                  "no gradient reaches `mu`, `log_var`"),
        hard_coded=(lambda mu, lv: _per_dim(mu, lv).view(-1, 3).sum(-1), "raised RuntimeError: shape '[-1, 3]'"),
    ),
    "5.1": Case(
        nb05.exercise_5_1,
        valid=[lambda mu, lv, eps: (mu.float() + _sigma(lv.float()) * eps.float()),
               lambda mu, lv, eps: mu + torch.sqrt(torch.exp(lv)) * eps,
               lambda mu, lv, eps: torch.addcmul(mu, (lv / 2).exp(), eps),
               lambda mu, lv, eps: eps.mul(_sigma(lv)).add(mu)],
        **_REPARAMETERIZE,
    ),
    "5.2": Case(
        nb05.exercise_5_2,
        valid=[lambda f, z, mu, sigma: tuple(e.float() for e in _score(f.float(), z.float(), mu, sigma)),
               lambda f, z, mu, sigma: ((f * (z - mu)).mean(-1) / sigma**2,
                                        (f * ((z - mu) ** 2 - sigma**2)).mean(-1) / sigma**3),
               _score_by_autograd,
               lambda f, z, mu, sigma: [(f * ((z - mu) / sigma) / sigma).mean(-1),
                                        (f * (((z - mu) / sigma) ** 2 - 1) / sigma).mean(-1)]],
        wrong=[(lambda f, z, mu, sigma: ((f * (z - mu)).mean(-1), _sigma_score(f, z, mu, sigma)), "the 1/σ² is missing"),
               (lambda f, z, mu, sigma: ((f * (z - mu) / sigma).mean(-1), _sigma_score(f, z, mu, sigma)),
                "one 1/σ is missing"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma), (f * (z - mu) ** 2 / sigma**3).mean(-1)),
                "the −1/σ term"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma), (f * ((z - mu) ** 2 / sigma**2 - 1)).mean(-1)),
                "with respect to log σ"),
               (lambda f, z, mu, sigma: (f.mean(-1), f.mean(-1)), "without the score"),
               (lambda f, z, mu, sigma: ((z - mu).mean(-1) / sigma**2, _sigma_score(f, z, mu, sigma)),
                "the score alone, without f"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma, dim=None), _sigma_score(f, z, mu, sigma, dim=None)),
                "average over the samples"),
               (lambda f, z, mu, sigma: ((f * (mu - z) / sigma**2).mean(-1), _sigma_score(f, z, mu, sigma)),
                "sign is flipped"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma), _mu_score(f, z, mu, sigma)),
                "that is the score of mu"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma),
                                         (f * ((z - mu) ** 2 - sigma**2) / (2 * sigma**4)).mean(-1)),
                "the score of the variance σ², not of σ"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma), -_sigma_score(f, z, mu, sigma)),
                "the score of σ is (z − mu)²/σ³ − 1/σ"),
               (lambda f, z, mu, sigma: _score(f, z, 0.0, sigma), "mu is ignored"),
               (lambda f, z, mu, sigma: _score(f, z, z.mean(-1, keepdim=True), sigma), "the batch's sample mean of z"),
               (lambda f, z, mu, sigma: _score(f, z, mu, z.std(-1, keepdim=True)), "the batch's sample sd of z"),
               (lambda f, z, mu, sigma: _mu_score(f, z, mu, sigma), "should return two tensors"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma, dim=0), _sigma_score(f, z, mu, sigma, dim=0)),
                "over the last dimension"),
               (lambda f, z, mu, sigma: (_mu_score(f, z, mu, sigma) + 0.01, _sigma_score(f, z, mu, sigma)),
                "the values differ")],
        inplace=(_score_inplace, "z"),
        detached=(lambda f, z, mu, sigma: tuple(e.detach() for e in _score(f, z, mu, sigma)), PASS),
        hard_coded=(lambda f, z, mu, sigma: ((f * (z - mu) / sigma**2).sum(-1) / 8,
                                             (f * ((z - mu) ** 2 / sigma**3 - 1 / sigma)).sum(-1) / 8),
                    "8 was the number of samples in the first example, here n = 5"),
    ),
    "5.3": Case(
        nb05.exercise_5_3,
        valid=[lambda f, z, mu, sigma: tuple(e.float() for e in _loo(f.float(), z.float(), mu, sigma)),
               _loo_loop,
               lambda f, z, mu, sigma: _score(f - (f.sum(-1, keepdim=True) - f) / (z.shape[-1] - 1), z, mu, sigma),
               lambda f, z, mu, sigma: tuple(e * z.shape[-1] / (z.shape[-1] - 1)
                                             for e in _score(f - f.mean(-1, keepdim=True), z, mu, sigma))],
        wrong=[(lambda f, z, mu, sigma: _loo(f, z, mu, sigma, own=True), "includes the sample's own f"),
               (lambda f, z, mu, sigma: _score(f - f, z, mu, sigma), "must not depend on z_i"),
               (_score, "the baseline is not subtracted"),
               (lambda f, z, mu, sigma: _loo(f, z, mu, sigma, sign=1), "added to f"),
               (lambda f, z, mu, sigma: _loo(f, z, mu, sigma, divide=z.shape[-1]), "divides by n"),
               (lambda f, z, mu, sigma: _loo(f, z, mu, sigma, divide=1), "not their mean"),
               (lambda f, z, mu, sigma: tuple(a - ((f.sum(-1, keepdim=True) - f) / (z.shape[-1] - 1)).mean(-1)
                                              for a in _score(f, z, mu, sigma)), "after multiplying"),
               (lambda f, z, mu, sigma: ((f * ((z - mu) / sigma**2 - (f.sum(-1, keepdim=True) - f) / (z.shape[-1] - 1)))
                                         .mean(-1), _loo(f, z, mu, sigma)[1]), "from the score, not from f"),
               (lambda f, z, mu, sigma: tuple(e * z.shape[-1] for e in _loo(f, z, mu, sigma)), "sum instead of mean"),
               (lambda f, z, mu, sigma: _score(f - (f.sum(0, keepdim=True) - f) / (f.shape[0] - 1), z, mu, sigma),
                "averages across the batches (dim 0)"),
               (lambda f, z, mu, sigma: _score((f - (f.sum(-1, keepdim=True) - f) / (z.shape[-1] - 1))
                                               / f.std(-1, keepdim=True), z, mu, sigma), "advantage normalisation"),
               (lambda f, z, mu, sigma: _loo(f, z, 0.0, sigma), "mu is ignored"),
               (lambda f, z, mu, sigma: _loo(f, z, mu, z.std(-1, keepdim=True)), "the batch's sample sd of z"),
               (lambda f, z, mu, sigma: _loo(f, z, mu, sigma)[0], "should return two tensors"),
               (lambda f, z, mu, sigma: (_loo(f, z, mu, sigma)[0] + 0.01, _loo(f, z, mu, sigma)[1]), "the values differ")],
        inplace=(_loo_inplace, "z"),
        detached=(lambda f, z, mu, sigma: tuple(e.detach() for e in _loo(f, z, mu, sigma)), PASS),
        hard_coded=(lambda f, z, mu, sigma: _loo(f, z, mu, sigma, divide=7), "7 = n − 1 for the 8 samples"),
    ),
    "6.1": Case(
        nb06.exercise_6_1,
        valid=[lambda xl, lv, mu, log_var: _loss(xl.float(), lv, mu.float(), log_var.float()),
               _loss_torch,
               lambda xl, lv, mu, log_var: (F.cross_entropy(xl.transpose(1, 2), lv, reduction="sum")
                                            + _kl(mu, log_var).sum()) / len(lv),
               lambda xl, lv, mu, log_var: (-F.log_softmax(xl, -1).gather(-1, lv[..., None]).sum((1, 2))
                                            + _kl(mu, log_var)).mean()],
        wrong=[(lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) - _kl(mu, log_var)).mean(), "KL sign is flipped"),
               (lambda xl, lv, mu, log_var: (-_rec(xl, lv).sum(-1) + _kl(mu, log_var)).mean(),
                "the reconstruction term needs a minus"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).mean(-1) + _kl(mu, log_var)).mean(), "a mean over pixels"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).mean(-1) + _per_dim(mu, log_var).mean(-1)).mean(),
                "means over pixels and latent dimensions"),
               (lambda xl, lv, mu, log_var: F.cross_entropy(xl.transpose(1, 2), lv) + _kl(mu, log_var).mean(),
                "F.cross_entropy's default reduction='mean' does that"),
               (lambda xl, lv, mu, log_var: _rec(xl, lv).sum(-1).mean(), "the KL(q(z|x) ‖ N(0, I)) term is missing"),
               (lambda xl, lv, mu, log_var: _kl(mu, log_var).mean(), "the reconstruction term −log p(x|z) is missing"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + 0.5 * (mu**2 + _sigma(log_var) - log_var - 1)
                                             .sum(-1)).mean(),
                "in the KL term, ½(μ² + σ − log σ² − 1): σ = exp(½·log_var) is used in place of σ²"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + 0.5 * (mu**2 + log_var**2
                                                                          - torch.log(log_var**2) - 1).sum(-1)).mean(),
                "log_var is used as if it were σ"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + (0.5 * (log_var + (1 + mu**2) / log_var.exp() - 1))
                                             .sum(-1)).mean(), "the reversed KL"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + _kl(mu, log_var)).sum(), "a sum over the batch"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + 0.5 * (log_var.exp() - log_var - 1).sum(-1))
                .mean(), "in the KL term, ½(σ² − log σ² − 1) without μ²"),
               (lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + 0.5 * (mu**2).sum(-1)).mean(),
                "in the KL term, ½μ², as if σ = 1 (log_var ignored)"),
               (lambda xl, lv, mu, log_var: (F.binary_cross_entropy_with_logits(xl, lv / 16, reduction="none").sum(-1)
                                             + _kl(mu, log_var)).mean(),
                "must be the same as input size (torch.Size([5, 64, 17]))”: binary cross-entropy on the grey values"),
               (lambda xl, lv, mu, log_var: (_bce_on_the_mean(xl, lv) + _kl(mu, log_var)).mean(),
                "your values match binary cross-entropy on the grey values x = levels/16"),
               (lambda xl, lv, mu, log_var: (F.cross_entropy(xl, lv, reduction="none").sum(-1)
                                             + _kl(mu, log_var)).mean(), "the logits went in untransposed"),
               (lambda xl, lv, mu, log_var: _rec(xl, lv).sum(-1) + _kl(mu, log_var), "it should return one number"),
               (lambda xl, lv, mu, log_var: F.cross_entropy(xl, lv), "pass x_logits.transpose(1, 2)"),
               (lambda xl, lv, mu, log_var: torch.tensor(_loss(xl, lv, mu, log_var).item()),
                "no gradient reaches `x_logits`, `mu`, `log_var`"),
               (lambda xl, lv, mu, log_var: _loss(xl, lv, mu, log_var) + 0.1, "the values differ")],
        inplace=(_loss_inplace_log_softmax, "x_logits"),
        detached=(_loss_no_grad_rec, "no gradient reaches `x_logits`: your result does not depend on it"),
        hard_coded=(lambda xl, lv, mu, log_var: (_rec(xl, lv).sum(-1) + _kl(mu, log_var)).sum() / 5,
                    "5 was the batch size of the first example, here B = 2"),
    ),
    "7.1": Case(
        nb07.exercise_7_1,
        valid=[lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o)).float(),
               _made_loops,
               lambda i, o, strict: ((o[:, None] - i[None, :]) >= (1 if strict else 0)).double(),
               lambda i, o, strict: torch.where(o[:, None] - int(strict) >= i[None, :], 1.0, 0.0)],
        wrong=[(lambda i, o, strict: _ge(i, o), "depends on itself"),
               (lambda i, o, strict: _gt(i, o), "cannot see pixel"),
               (lambda i, o, strict: _ge(o, i).T if not strict else _gt(o, i).T, "comes later in the raster order"),
               (lambda i, o, strict: _ge(i, o).T, "the mask is transposed"),
               (lambda i, o, strict: torch.ones(len(o), len(i)), "depends on itself"),
               (lambda i, o, strict: (o[:, None] == i[None, :]).float(), "depends on itself"),
               (lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o))[:, :-1], "it should return (len(out_degrees)"),
               (lambda i, o, strict: 2 * (_gt(i, o) if strict else _ge(i, o)), "values other than 0 and 1"),
               (lambda i, o, strict: _gt(i, o) if strict else _ge(i, o) * (o[:, None] > 1), "cannot see pixel 1"),
               (lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o)).tolist(), "returned list"),
               (lambda i, o, strict: o[:, None] > i[None, :] if strict else o[:, None] >= i[None, :],
                "returned a tensor of dtype torch.bool; the mask multiplies nn.Linear's weight"),
               (lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o)).long(),
                "returned a tensor of dtype torch.int64; the mask multiplies nn.Linear's weight"),
               (lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o)).int(), "`.float()` turns it into the mask")],
        inplace=(_made_inplace, "in_degrees"),
        detached=(lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o)).detach(), PASS),
        hard_coded=(lambda i, o, strict: (_gt(i, o) if strict else _ge(i, o)).reshape(7, 5),
                    "raised RuntimeError: shape '[7, 5]' is invalid"),
    ),
    "7.2": Case(
        nb07.exercise_7_2,
        valid=[lambda z, m, lv, lg: _mix(z.float(), m.float(), lv.float(), lg.float()),
               _mix_torch,
               lambda z, m, lv, lg: torch.logsumexp(D.Normal(m, (0.5 * lv).exp()).log_prob(z[:, None]).sum(-1)
                                                    + lg - lg.logsumexp(0), -1),
               lambda z, m, lv, lg: (lambda a: a.max(-1).values + (a - a.max(-1, keepdim=True).values).exp()
                                     .sum(-1).log())(_mix_per(z, m, lv) + torch.log_softmax(lg, 0))],
        wrong=[(lambda z, m, lv, lg: torch.log((_mix_per(z, m, lv).exp() * torch.softmax(lg, 0)).sum(-1)),
                "underflows there"),
               (lambda z, m, lv, lg: torch.logsumexp(_mix_per(z, m, lv), -1) - math.log(len(m)),
                "the weights w = softmax(logits) are left out"),
               (lambda z, m, lv, lg: torch.logsumexp(_mix_per(z, m, lv) + lg, -1), "the raw logits added as log-weights"),
               (lambda z, m, lv, lg: torch.logsumexp(_mix_per(z, m, lv) + 0.5 * z.shape[1] * LOG_2PI
                                                     + torch.log_softmax(lg, 0), -1), "without its normaliser"),
               (lambda z, m, lv, lg: torch.logsumexp(_mix_per(z, m, lv) + 0.5 * lv.sum(-1)
                                                     + torch.log_softmax(lg, 0), -1), "−½·Σ log σ² term"),
               (lambda z, m, lv, lg: (_mix_per(z, m, lv) + torch.log_softmax(lg, 0)).max(-1).values,
                "a max over components"),
               (lambda z, m, lv, lg: (torch.softmax(lg, 0) * _mix_per(z, m, lv)).sum(-1), "lower bound (Jensen)"),
               (lambda z, m, lv, lg: (_mix_per(z, m, lv) + torch.log_softmax(lg, 0)).mean(-1),
                "a mean over components"),
               (lambda z, m, lv, lg: torch.logsumexp(-0.5 * ((z[:, None] - m) ** 2 / lv + lv + LOG_2PI).sum(-1)
                                                     + torch.log_softmax(lg, 0), -1),
                "log_var used as the variance"),
               (lambda z, m, lv, lg: torch.logsumexp(_mix_per(z, m, lv) + torch.log_softmax(lg, 0), 0),
                "it should return shape"),
               (lambda z, m, lv, lg: _mix(z, m, lv, lg) + 0.1, "the values differ")],
        inplace=(_mix_inplace, "logits"),
        detached=(lambda z, m, lv, lg: _mix(z, m, lv, lg.detach()), "no gradient reaches `logits`"),
        hard_coded=(lambda z, m, lv, lg: (_mix_per(z, m, lv) + torch.log_softmax(lg, 0)).reshape(6, 4).logsumexp(-1),
                    "raised RuntimeError: shape '[6, 4]' is invalid"),
    ),
}

REFERENCES = {n: c.checker.reference for n, c in CASES.items()}
NUMBERS = list(CASES)


def passes(number, fn, capsys):
    returned, out = run(CASES[number].checker, fn, capsys)
    assert out == f"✓ Exercise {number} passed ({len(CASES[number].checker.checks)} checks)\n", out
    assert returned is fn


def fails(number, fn, words, capsys, **kwargs):
    returned, out = run(CASES[number].checker, fn, capsys, **kwargs)
    assert returned is REFERENCES[number]
    assert out.startswith(f"✗ Exercise {number}: "), out
    assert words in out, out
    assert "Traceback" not in out and "fault of the checker" not in out
    assert out.endswith(checking.fallback_line(CASES[number].checker.function) + "\n"), out
    return out


def test_every_exercise_of_the_notebooks_is_in_the_table():
    import json
    import pathlib
    import re

    found = set()
    for path in pathlib.Path(__file__).parents[1].glob("notebooks/solutions/0*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            found |= set(re.findall(r"exercise:(\d+\.\d+)", " ".join(cell.get("metadata", {}).get("tags", []))))
    assert found == set(CASES)


@pytest.mark.parametrize("number", NUMBERS)
def test_the_table_has_enough_cases(number):
    case = CASES[number]
    assert len(case.valid) >= 3 and len(case.wrong) >= 8


@pytest.mark.parametrize("number", NUMBERS)
def test_the_reference_and_valid_alternatives_pass(number, capsys):
    for fn in [lambda *args: REFERENCES[number](*args)] + CASES[number].valid:
        passes(number, fn, capsys)


@pytest.mark.parametrize("number, k", [(n, k) for n, c in CASES.items() for k in range(len(c.wrong))])
def test_wrong_answers_are_rejected_with_a_message_that_names_the_mistake(number, k, capsys):
    wrong, words = CASES[number].wrong[k]
    fails(number, wrong, words, capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_changing_an_input_in_place_is_named_as_such(number, capsys):
    fn, name = CASES[number].inplace
    fails(number, fn, f"changes its input `{name}` in place", capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_result_without_gradient_fails_where_the_exercise_needs_one(number, capsys):
    fn, words = CASES[number].detached
    if words is PASS:
        passes(number, fn, capsys)
    else:
        fails(number, fn, words, capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_an_answer_that_hard_codes_a_size_of_the_first_inputs_fails(number, capsys):
    fn, words = CASES[number].hard_coded
    fails(number, fn, words, capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_float32_answer_passes(number, capsys):
    """The first valid answer computes in float32: compared in float64 with float32's tolerance, no crash."""
    passes(number, CASES[number].valid[0], capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_sleeping_answer_is_stopped_after_the_time_limit_in_total(number, capsys):
    reference = REFERENCES[number]

    def sleepy(*args):
        time.sleep(0.3)
        return reference(*args)
    start = time.monotonic()
    out = fails(number, sleepy, "took longer than 0.5 s in total and was stopped", capsys, time_limit=0.5)
    assert time.monotonic() - start < 1.5, "the checker waited calls × sleep"
    assert "✓" not in out


@pytest.mark.parametrize("number", NUMBERS)
def test_an_answer_that_calls_sys_exit_is_reported_and_the_notebook_goes_on(number, capsys):
    def leave(*args):
        sys.exit(2)
    fails(number, leave, "called sys.exit() or exit() (SystemExit: 2)", capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_not_attempted_is_only_the_stubs_own_error(number, capsys):
    checker, reference = CASES[number].checker, REFERENCES[number]
    returned, out = run(checker, stub_for(number), capsys)
    assert returned is reference
    assert out.startswith(f"… Exercise {number} not attempted yet: `{checker.function}` still raises "
                          f"NotImplementedError.\n")
    assert out.endswith(checking.fallback_line(checker.function) + "\n")

    def attempt(*args):
        raise NotImplementedError("the Gamma icdf is not implemented")
    fails(number, attempt, "raised NotImplementedError: the Gamma icdf is not implemented", capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_rerunning_a_check_after_a_fallback_does_not_pass_the_reference(number, capsys):
    """The check cell `fn = checker(fn)` swaps in the reference; running it again must not say ✓."""
    checker = CASES[number].checker
    fn, _ = run(checker, CASES[number].wrong[0][0], capsys)
    again, out = run(checker, fn, capsys)
    assert again is REFERENCES[number] and "✓" not in out
    assert "still the reference solution" in out and "Run your exercise cell above again" in out


@pytest.mark.parametrize("number", NUMBERS)
def test_the_checker_gives_the_learner_copies_and_keeps_its_own_inputs(number, capsys):
    """An answer that scribbles on every input it gets cannot change what later checks compute."""
    reference = REFERENCES[number]
    seen = []

    def scribble(*args):
        out = reference(*args)
        seen.extend(a for a in args if isinstance(a, torch.Tensor))
        return out
    passes(number, scribble, capsys)
    for a in seen:
        with torch.no_grad():
            a.fill_(float("nan")) if a.is_floating_point() else a.fill_(0)
    passes(number, lambda *args: reference(*args), capsys)


def _each_result(number, change):
    """The reference's answer with `change` applied to its result (to each tensor, for 5.2's pair)."""
    reference = REFERENCES[number]

    def answer(*args):
        out = reference(*args)
        return tuple(change(o) for o in out) if isinstance(out, tuple) else change(out)
    answer.__name__ = CASES[number].checker.function  # as the learner's function is named
    return answer


@pytest.mark.parametrize("kind", ["None", "float", "NumPy"])
@pytest.mark.parametrize("number", NUMBERS)
def test_a_result_that_is_not_a_tensor_is_named(number, kind, capsys):
    answer = {"None": lambda *args: None, "float": lambda *args: 1.5,
              "NumPy": _each_result(number, lambda o: o.detach().numpy())}[kind]
    if number in ("5.2", "5.3"):  # a pair of estimates
        fails(number, answer, "should return two tensors, (estimate for mu, estimate for sigma); it returned", capsys)
    else:
        typename = {"None": "NoneType", "float": "float", "NumPy": "ndarray"}[kind]
        fails(number, answer, f"`{CASES[number].checker.function}` returned {typename}; it should return a "
                              f"torch.Tensor", capsys)


@pytest.mark.parametrize("dtype", [torch.int64, torch.complex128, torch.bool, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("number", NUMBERS)
def test_a_result_of_the_wrong_dtype_is_named(number, dtype, capsys):
    """Integers, complex numbers or booleans are not the answer; float16 and bfloat16 keep 3 and 2 digits, too
    few to check (with their tolerance, an answer 5% off passed 1.1 and 5.2)."""
    fails(number, _each_result(number, lambda o: o.to(dtype)), f"returned a tensor of dtype {dtype}", capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_nan_result_is_named(number, capsys):
    fails(number, _each_result(number, lambda o: o * float("nan")), "returned NaN at index", capsys)


@pytest.mark.parametrize("number", NUMBERS)
def test_something_other_than_a_function_is_named(number, capsys):
    checker = CASES[number].checker
    returned, out = run(checker, 3.0, capsys)
    assert returned is REFERENCES[number]
    assert out == f"✗ Exercise {number}: expected the function `{checker.function}`, got float.\n{checking.fallback_line(checker.function)}\n"


def test_a_crash_is_reported_in_words_with_the_learners_line(capsys):
    def crash(z, mu, log_var):
        return z @ mu.unsqueeze(0)
    out = fails("3.2", crash, "raised RuntimeError", capsys)
    assert "your line: `return z @ mu.unsqueeze(0)`" in out


def test_math_on_a_tensor_is_named_with_the_torch_function_to_use(capsys):
    def with_math(u, rate):
        return -math.log(1 - u) / rate
    out = fails("1.1", with_math, "raised", capsys)
    assert "your line: `return -math.log(1 - u) / rate`" in out
    assert "on a tensor use torch's (torch.log, torch.exp" in out

    def other_scalar_error(u, rate):  # the same torch error without `math`: no math hint
        return -torch.log1p(-u) / rate + float(u)
    out = fails("1.1", other_scalar_error, "raised", capsys)
    assert "torch.log, torch.exp" not in out


def test_non_functions_and_nan_get_a_message(capsys):
    returned, out = run(nb01.exercise_1_2, 3.0, capsys)
    assert returned is nb01.affine_pushforward_density and "expected the function" in out
    fails("1.1", lambda u, rate: u * float("nan"), "returned NaN at index (0, 0)", capsys)


def test_a_keyboard_interrupt_still_interrupts():
    def interrupted(*args):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        nb01.exercise_1_1(interrupted)


def test_a_fault_of_the_checker_is_reported_as_its_own(capsys):
    def broken_check(answer):
        answer(torch.ones(2), 1.0)
        raise ZeroDivisionError("division by zero")
    checker = checking.Exercise("9.9", "exponential_icdf", nb01.exponential_icdf, [broken_check])
    returned, out = run(checker, lambda u, rate: u, capsys)
    assert returned is nb01.exponential_icdf
    assert out.startswith("✗ Exercise 9.9: the checker itself failed (ZeroDivisionError: division by zero). This is "
                          "a fault of the checker, not of your answer; please report it.")


def test_an_answer_that_catches_the_alarm_is_still_stopped(capsys):
    def stubborn(u, rate):
        try:
            time.sleep(10)
        except BaseException:  # noqa: BLE001, S110  a learner's bare except swallows the alarm
            pass
        return -torch.log1p(-u) / rate
    start = time.monotonic()
    fails("1.1", stubborn, "took longer than 0.3 s", capsys, time_limit=0.3)
    assert time.monotonic() - start < 1.0


def test_without_signals_a_slow_answer_is_abandoned_and_a_right_one_passes():
    """Outside the main thread (as on Windows, where SIGALRM does not exist) the helper-thread fallback runs."""
    outs = {}

    def in_thread(name, fn):
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            nb04.exercise_4_1(fn, time_limit=0.5)
        outs[name] = buf.getvalue()

    def slow(mu, log_var):
        time.sleep(0.4)
        return _kl(mu, log_var)
    start = time.monotonic()
    for name, fn in (("slow", slow), ("right", _kl_torch), ("exit", lambda mu, lv: sys.exit(1))):
        worker = threading.Thread(target=in_thread, args=(name, fn))
        worker.start()
        worker.join(5)
    assert time.monotonic() - start < 3
    assert "took longer than 0.5 s in total" in outs["slow"]
    assert outs["right"] == "✓ Exercise 4.1 passed (4 checks)\n"
    assert "called sys.exit()" in outs["exit"]


def test_an_outer_alarm_is_restored():
    """A timer that was running before the check (pytest-timeout, say) is re-armed afterwards."""
    import signal
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 2.0)
        nb01.exercise_1_1(lambda u, rate: -torch.log1p(-u) / rate)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left < 2.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_a_known_mistake_shows_the_numbers_it_compared(capsys):
    out = fails("4.1", lambda mu, lv: (0.5 * (mu**2 + _sigma(lv) - lv - 1)).sum(-1),
                "σ = exp(½·log_var) is used in place of σ²", capsys)
    assert "\n  yours:    [" in out and "\n  expected: [" in out


def test_a_difference_is_named_by_the_input_that_gave_it_and_the_window_shows_that_input(capsys):
    def off_at_12(u, rate):
        out = -torch.log1p(-u) / rate
        if out.numel() == 15:
            out = out.clone()
            out[12] += 1.0
        return out
    out = fails("1.1", off_at_12, "for rate = 2.5 the values differ: at u = ", capsys)
    u = nb01.checks._u()
    expected = nb01.exponential_icdf(u, 2.5)
    assert f"at u = {u[12]:.6g} you return {expected[12] + 1:.6g}, expected {expected[12]:.6g}." in out
    assert "index" not in out  # no 0-based position: the input itself says where
    rows = {line.split(":")[0].strip(): line.split("[")[1].split("]")[0].split(", ")
            for line in out.splitlines() if line.startswith("  ") and "[" in line}
    assert set(rows) == {"u", "yours", "expected"} and all(len(r) == 6 for r in rows.values())
    assert f"{u[12]:.6g}" in rows["u"] and rows["u"].index(f"{u[12]:.6g}") == rows["yours"].index(f"{expected[12] + 1:.6g}")
    assert "(6 of the 15 entries, around the largest difference)" in out


def test_a_known_mistake_shows_the_inputs_beside_the_numbers(capsys):
    out = fails("1.2", lambda x, a, b: _phi((x - b) / a), "without the factor 1/|a|", capsys)
    assert "\n  x:        [-2, -1, 0, 1, 2, 3]\n  yours:    [" in out, out


def test_without_inputs_a_difference_is_named_as_an_entry_of_the_result():
    with pytest.raises(checking.CheckFailed) as info:
        checking.matches(torch.tensor([[1.0, 2.0], [3.0, 4.5]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "x = 1")
    assert "for x = 1 the values differ: your result[1, 1] is 4.5, expected 4." in str(info.value)
    with pytest.raises(checking.CheckFailed) as info:
        checking.matches(torch.arange(10.0) + (torch.arange(10) == 7), torch.arange(10.0), "n = 10")
    assert "your result[7] is 8, expected 7." in str(info.value)
    assert "result.flatten()[4:10]" in str(info.value)


def test_after_any_failure_one_line_names_the_reference_the_cells_below_use(capsys):
    for number, answer in (("1.1", stub_for("1.1")), ("1.2", lambda x, a, b: x), ("1.3", lambda x, mu, sigma: 1 / 0)):
        _, out = run(CASES[number].checker, answer, capsys)
        function = CASES[number].checker.function
        assert out.splitlines()[-1] == (f"  The rest of the notebook uses the course's reference `{function}`, "
                                        f"not yours, until yours passes."), out


def test_under_nbgrader_the_verdict_also_names_the_reference_the_cells_below_use(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(checking.ExerciseNotPassed):
        nb01.exercise_1_2(lambda x, a, b: x)
    out = capsys.readouterr().out
    assert "uses the course's reference `affine_pushforward_density`, not yours, until yours passes." in out


def test_the_message_names_the_function_the_learner_wrote(capsys):
    cell = """
def not_yet(u, rate):
    raise NotImplementedError("Exercise 1.1")

def summed(u, rate):
    return (-torch.log1p(-u) / rate).sum()

for answer in (not_yet, summed, lambda u, rate: u.sum()):
    _ = exercise_1_1(answer)
"""
    exec(cell, {"torch": torch, "exercise_1_1": nb01.exercise_1_1})  # as a notebook cell runs
    out = capsys.readouterr().out.split("\n✗")
    assert "not attempted yet: `not_yet` still raises" in out[0] and "reference `exponential_icdf`" in out[0]
    assert "`summed` returned shape ()" in out[1]
    assert "`exponential_icdf` returned shape ()" in out[2]  # a lambda has no name of its own


def test_float32_results_get_float32_tolerance_and_float64_results_do_not():
    right = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    off = right * (1 + 2e-5)
    assert checking.close(off.float(), right, checking.tolerance(torch.float64, torch.float32))
    assert not checking.close(off, right, checking.tolerance(torch.float64, torch.float64))
    with pytest.raises(checking.CheckFailed, match="the values differ"):
        checking.matches(off, right, "x")
    checking.matches(off.float(), right, "x")


def _calls_of_the_reference(number, capsys):
    """How many times the checker calls an answer, and the (arguments, result) of each call of the reference."""
    reference, seen = REFERENCES[number], []

    def recording(*args):
        out = reference(*args)
        seen.append(([a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args], out))
        return out
    passes(number, recording, capsys)
    return seen


def _off(out):
    """A result with the same shape and dtype but other numbers (a 0/1 mask gets one entry flipped)."""
    if isinstance(out, tuple):
        return tuple(_off(o) for o in out)
    if out.numel() and ((out == 0) | (out == 1)).all():
        out = out.clone()
        out.view(-1)[0] = 1 - out.view(-1)[0]
        return out
    return out * 1.01 + 0.01


@pytest.mark.parametrize("number", NUMBERS)
def test_an_answer_wrong_at_any_one_call_fails(number, capsys):
    """Checks that look only at a result's shape or a property (an area, monotonicity, connectivity) do not let
    an answer be wrong there: after the checks, every result is compared with the reference's."""
    reference, n = REFERENCES[number], len(_calls_of_the_reference(number, capsys))
    for i in range(n):
        calls = []

        def wrong_once(*args, i=i, calls=calls):
            calls.append(1)
            out = reference(*args)
            return _off(out) if len(calls) - 1 == i else out
        wrong_once.__name__ = CASES[number].checker.function
        fails(number, wrong_once, "", capsys)


def _same_arguments(args, seen_args):
    def same(a, b):
        if isinstance(a, torch.Tensor) != isinstance(b, torch.Tensor):
            return False
        if isinstance(a, torch.Tensor):
            return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a.detach(), b)
        return a == b
    return len(args) == len(seen_args) and all(same(a, b) for a, b in zip(args, seen_args))


@pytest.mark.parametrize("number", NUMBERS)
def test_an_answer_that_recognises_the_checkers_inputs_fails(number, capsys):
    """A table of the right results at the checker's own inputs, and wrong numbers anywhere else."""
    reference, seen = REFERENCES[number], _calls_of_the_reference(number, capsys)

    def table(*args):
        out = reference(*args)
        return out if any(_same_arguments(args, s) for s, _ in seen) else _off(out)
    out = fails(number, table, "at inputs like those of the first check but not the same (each number moved by "
                               "less than 0.1%", capsys)
    assert "it cannot recognise the checker's inputs" in out
