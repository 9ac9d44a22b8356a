"""Distribution maths on tensors: sources, monotone maps g, and the densities they push forward.

Notebook 01 uses these: X = g(Z) with Z from a simple source (normal or uniform) and a monotone
map g. The change-of-variables formula gives the density of X,

    log p_X(x) = log p_Z(g⁻¹(x)) − log |g'(g⁻¹(x))|,

and the quantile function of X is g(F_Z⁻¹(q)) when g increases. No plotting here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _validate as v

SOURCES = ("normal", "uniform")
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def source_log_prob(z: Tensor, source: str) -> Tensor:
    """log p_Z(z) for the standard normal N(0, 1) or the uniform U(0, 1); any shape in, same out."""
    v.one_of(source, "source", SOURCES)
    if source == "normal":
        return -0.5 * z**2 - _LOG_SQRT_2PI
    inside = (z > 0) & (z < 1)
    return torch.where(inside, torch.zeros_like(z), torch.full_like(z, -math.inf))


def source_icdf(q: Tensor, source: str) -> Tensor:
    """F_Z⁻¹(q), the quantile function of the source, for q in (0, 1); any shape."""
    v.one_of(source, "source", SOURCES)
    return torch.special.ndtri(q) if source == "normal" else q.clone()


def sample_source(source: str, n: int, generator: torch.Generator | None = None) -> Tensor:
    """n draws from the source, shape (n,), float64, from `generator` (or torch's global one)."""
    v.one_of(source, "source", SOURCES)
    n = v.count(n, "n", of="samples")
    draw = torch.randn if source == "normal" else torch.rand
    return draw(n, generator=generator, dtype=torch.float64)


@dataclass(frozen=True)
class Map:
    """A monotone map g(z; a, b) with its inverse and the log of its slope.

    forward(z, a, b) = g(z); inverse(x, a, b) = g⁻¹(x), NaN where x is outside the range of g;
    log_slope(z, a, b) = log |g'(z)|. All elementwise, any shape.
    """

    name: str
    formula: str
    forward: Callable[[Tensor, float, float], Tensor]
    inverse: Callable[[Tensor, float, float], Tensor]
    log_slope: Callable[[Tensor, float, float], Tensor]


def _nan_outside(x: Tensor, inside: Tensor) -> Tensor:
    return torch.where(inside, x, torch.full_like(x, math.nan))


MAPS: dict[str, Map] = {
    "affine": Map(
        "affine", r"g(z) = a\,z + b",
        lambda z, a, b: a * z + b,
        lambda x, a, b: (x - b) / a,
        lambda z, a, b: torch.full_like(z, math.log(abs(a))),
    ),
    "exp": Map(
        "exp", r"g(z) = e^{a z + b}",
        lambda z, a, b: torch.exp(a * z + b),
        lambda x, a, b: _nan_outside((torch.log(x.clamp_min(1e-300)) - b) / a, x > 0),
        lambda z, a, b: math.log(abs(a)) + a * z + b,
    ),
    "sigmoid": Map(
        "sigmoid", r"g(z) = \sigma(a z + b) = 1 / (1 + e^{-(a z + b)})",
        lambda z, a, b: torch.sigmoid(a * z + b),
        lambda x, a, b: _nan_outside((torch.logit(x.clamp(1e-300, 1 - 1e-16)) - b) / a, (x > 0) & (x < 1)),
        lambda z, a, b: math.log(abs(a)) + F.logsigmoid(a * z + b) + F.logsigmoid(-(a * z + b)),
    ),
}


@dataclass(frozen=True)
class Pushforward:
    """The distribution of X = g(Z): Z from `source`, g = MAPS[map] with parameters a ≠ 0 and b."""

    source: str
    map: str
    a: float
    b: float

    def __post_init__(self):
        v.one_of(self.source, "source", SOURCES)
        v.one_of(self.map, "map", tuple(MAPS))
        object.__setattr__(self, "a", v.scalar(self.a, "a", nonzero=True))
        object.__setattr__(self, "b", v.scalar(self.b, "b"))

    @property
    def g(self) -> Map:
        return MAPS[self.map]

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws of X = g(Z), shape (n,), float64."""
        return self.g.forward(sample_source(self.source, n, generator), self.a, self.b)

    def log_prob(self, x: Tensor) -> Tensor:
        """log p_X(x) by the change of variables; −inf outside the range of g. x: any shape."""
        x = v.tensor(x, "x")
        z = self.g.inverse(x, self.a, self.b)
        inside = ~torch.isnan(z)
        z = torch.where(inside, z, torch.zeros_like(z))
        log_p = source_log_prob(z, self.source) - self.g.log_slope(z, self.a, self.b)
        return torch.where(inside, log_p, torch.full_like(log_p, -math.inf))

    def density(self, x: Tensor) -> Tensor:
        """p_X(x) = exp(log_prob(x)); 0 outside the range of g."""
        return self.log_prob(x).exp()

    def icdf(self, q: Tensor) -> Tensor:
        """The quantile function F_X⁻¹(q) = g(F_Z⁻¹(q)) (or with 1 − q when g decreases)."""
        q = v.in_open_unit_interval(v.tensor(q, "q"), "q")
        return self.g.forward(source_icdf(q if self.a > 0 else 1 - q, self.source), self.a, self.b)

    def label(self) -> str:
        """A short plain-text name, e.g. 'exp(0.5·Z − 1), Z ~ N(0, 1)'."""
        z = "N(0, 1)" if self.source == "normal" else "U(0, 1)"
        inner = f"{self.a:g}·Z" + (f" + {self.b:g}" if self.b > 0 else f" − {-self.b:g}" if self.b < 0 else "")
        inner = inner.replace("-", "−")
        return (inner if self.map == "affine" else f"{self.map}({inner})") + f", Z ~ {z}"


def wasserstein_1d(p: Pushforward, q: Pushforward, n_grid: int = 4000) -> float:
    """W₁(p, q) = ∫₀¹ |F_p⁻¹(t) − F_q⁻¹(t)| dt, by the midpoint rule on n_grid quantile levels.

    In one dimension, comparing two distributions only needs their quantile functions, i.e. their
    sorted samples: this is the "sorting solves it" of notebook 01.
    """
    t = (torch.arange(n_grid, dtype=torch.float64) + 0.5) / n_grid
    return (p.icdf(t) - q.icdf(t)).abs().mean().item()


def exponential_icdf(u: Tensor, rate: float) -> Tensor:
    """Inverse CDF of Exponential(rate): F⁻¹(u) = −log(1 − u) / rate. Reference for Exercise 1.1.

    u: any shape, entries in (0, 1). Returns the same shape. With u ~ U(0, 1) the result is a
    draw from Exponential(rate).
    """
    u = v.in_open_unit_interval(v.tensor(u, "u"), "u")
    rate = v.scalar(rate, "rate", positive=True)
    return -torch.log1p(-u) / rate


def affine_pushforward_density(x: Tensor, a: float, b: float) -> Tensor:
    """Density of X = a·Z + b with Z ~ N(0, 1): p_X(x) = φ((x − b)/a) / |a|. Reference for Exercise 1.2.

    x: any shape. a ≠ 0 (negative a flips the line; the density only sees |a|). Same shape out.
    """
    x = v.tensor(x, "x")
    a = v.scalar(a, "a", nonzero=True)
    b = v.scalar(b, "b")
    z = (x - b) / a
    return torch.exp(-0.5 * z**2 - _LOG_SQRT_2PI) / abs(a)


def histogram_density(samples: Tensor, edges: Tensor) -> Tensor:
    """Histogram heights normalised as a density: count / (n · bin width). (B+1,) edges → (B,).

    Samples outside [edges[0], edges[-1]] still count in n, so the heights integrate to the share of
    samples inside the range.
    """
    samples = v.tensor(samples, "samples").flatten()
    edges = v.tensor(edges, "edges", dtype=samples.dtype)
    if edges.ndim != 1 or edges.numel() < 2 or (edges.diff() <= 0).any():
        raise ValueError("edges must be a 1-D increasing tensor with at least two entries.")
    counts = torch.histogram(samples, bins=edges).hist
    return counts / (samples.numel() * edges.diff())


class PushforwardSummary(NamedTuple):
    """What the pushforward explorer shows for one setting (all float64).

    samples (N,) = g(z); heights (B,) their histogram density on `edges` (B+1,); density (G,) and
    target_density (G,) on `grid` (G,); w1 = W₁(X, target); share_in_view = share of samples
    inside the plotted range.
    """

    samples: Tensor
    edges: Tensor
    heights: Tensor
    grid: Tensor
    density: Tensor
    target_density: Tensor
    w1: float
    share_in_view: float


def summarize_pushforward(p: Pushforward, target: Pushforward, z: Tensor, edges: Tensor,
                          grid: Tensor) -> PushforwardSummary:
    """Push the fixed source draws `z` (N,) through p's map and compare with `target`.

    The same z are reused for every setting, so moving a parameter moves the same samples.
    """
    z = v.tensor(z, "z", dtype=torch.float64)
    samples = p.g.forward(z, p.a, p.b)
    inside = ((samples >= edges[0]) & (samples <= edges[-1])).double().mean().item()
    return PushforwardSummary(samples, edges, histogram_density(samples, edges), grid,
                              p.density(grid), target.density(grid), wasserstein_1d(p, target), inside)
