"""Pushforwards g(Z) of a simple source and their densities by change of variables, and the
ways to compare generated samples with data (pairings, marginals, nearest neighbours)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _validate as v
from ..probability import standard_normal_log_prob


def _matrix(x, name: str) -> Tensor:
    x = v.tensor(x, name)
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (N, D), one row per sample; got shape {tuple(x.shape)}.")
    return x


def squared_distances(a: Tensor, b: Tensor) -> Tensor:
    """‖a_i − b_j‖² for every pair of rows: (N, D), (M, D) → (N, M)."""
    a, b = _matrix(a, "a"), _matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same number of columns, got {a.shape[1]} and {b.shape[1]}.")
    return torch.cdist(a.double(), b.double()) ** 2


def pairing_cost(x_hat: Tensor, x: Tensor, pairing: Tensor | None = None) -> float:
    """Mean ‖x̂_k − x_{pairing[k]}‖² over k; the identity pairing (x̂_k with x_k) by default."""
    d = squared_distances(x_hat, x)
    if d.shape[0] != d.shape[1]:
        raise ValueError(f"pairing needs as many generated as data samples, got {d.shape[0]} and {d.shape[1]}.")
    k = torch.arange(d.shape[0])
    if pairing is None:
        pairing = k
    else:
        pairing = torch.as_tensor(pairing)
        if pairing.is_floating_point() or pairing.dtype == torch.bool or sorted(pairing.tolist()) != k.tolist():
            raise ValueError(f"pairing must be a permutation of 0..{d.shape[0] - 1} (whole numbers, each once).")
    return d[k, pairing].mean().item()


def best_pairing(x_hat: Tensor, x: Tensor) -> tuple[Tensor, float]:
    """The permutation that minimises `pairing_cost` (Hungarian algorithm, via SciPy) and its cost."""
    from scipy.optimize import linear_sum_assignment

    d = squared_distances(x_hat, x).detach()  # a permutation has no gradient; the cost is returned as a float
    rows, cols = linear_sum_assignment(d.numpy())
    pairing = torch.as_tensor(cols)[torch.as_tensor(rows).argsort()]
    return pairing, pairing_cost(x_hat, x, pairing)


def describe_pairing(pairing) -> str:
    """A pairing (K,) written out: pairing[k] = j pairs X̂_(k+1) with X_(j+1), e.g. [2, 0, 1] → 'X̂1–X3, X̂2–X1, X̂3–X2'."""
    pairing = torch.as_tensor(pairing)
    if pairing.dim() != 1 or pairing.is_floating_point() or sorted(pairing.tolist()) != list(range(len(pairing))):
        raise ValueError(f"pairing must be a permutation of 0..K-1 as a (K,) integer tensor; got {pairing.tolist()}.")
    return ", ".join(f"X̂{k + 1}–X{j + 1}" for k, j in enumerate(pairing.tolist()))


def random_pairing_costs(x_hat: Tensor, x: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """`pairing_cost` under n random permutations: (n,)."""
    n = v.count(n, "n")
    d = squared_distances(x_hat, x)
    k = torch.arange(d.shape[0])
    return torch.stack([d[k, torch.randperm(d.shape[0], generator=generator)].mean() for _ in range(n)])


def sorted_distance(x: Tensor, y: Tensor) -> float:
    """W₁ between two 1-D samples of equal size: mean |sort(x) − sort(y)|. (N,), (N,) → float."""
    x, y = v.tensor(x, "x").flatten(), v.tensor(y, "y").flatten()
    if x.numel() != y.numel():
        raise ValueError(f"x and y must have the same number of samples, got {x.numel()} and {y.numel()}.")
    return (x.sort().values - y.sort().values).abs().mean().item()


def marginal_distances(x: Tensor, y: Tensor) -> Tensor:
    """`sorted_distance` for every column (pixel) separately: (N, D), (N, D) → (D,).

    Zero for every column means every one-dimensional marginal matches, and says nothing about how
    the columns go together.
    """
    x, y = _matrix(x, "x"), _matrix(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}.")
    return (x.sort(dim=0).values - y.sort(dim=0).values).abs().mean(dim=0)


def shuffle_columns(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Shuffle every column independently across rows: (N, D) → (N, D).

    Each column keeps exactly its values (so every marginal is unchanged); the joint structure of a
    row, e.g. the strokes of a digit, is destroyed.
    """
    x = _matrix(x, "x")
    idx = torch.stack([torch.randperm(x.shape[0], generator=generator) for _ in range(x.shape[1])], dim=1)
    return torch.gather(x, 0, idx)


def sorted_distance_trials(n: int, shift: float, repeats: int,
                           generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """`sorted_distance` between fresh N(0, 1) samples of size n, `repeats` times over.

    Returns (same, shifted), each (repeats,): same compares two N(0, 1) samples, shifted compares
    an N(0, 1) sample with an N(shift, 1) sample. Their spread shows how much n samples can tell.
    """
    n, repeats = v.count(n, "n"), v.count(repeats, "repeats")
    shift = v.scalar(shift, "shift")
    same, shifted = torch.empty(repeats, dtype=torch.float64), torch.empty(repeats, dtype=torch.float64)
    for r in range(repeats):
        a1, a2, a3 = (torch.randn(n, generator=generator, dtype=torch.float64) for _ in range(3))
        same[r], shifted[r] = sorted_distance(a1, a2), sorted_distance(a1, a3 + shift)
    return same, shifted


def neighbour_correlation(x: Tensor, width: int = 8) -> float:
    """The mean correlation, across images, between horizontally neighbouring pixels.

    x: (N, width·height) images stored row by row. For every pair of pixels (i, i + 1) in the same
    image row, the Pearson correlation of their values over the N images; pairs where a pixel never
    changes (no ink ever) are left out. Returns the mean over the pairs. A stroke continues from a
    pixel to its neighbour, so real digits score high; shuffled pixels score near 0.
    """
    x = _matrix(x, "x").double()
    width = v.count(width, "width", minimum=2)
    if x.shape[1] % width:
        raise ValueError(f"x has {x.shape[1]} columns, not a multiple of the image width {width}.")
    left = torch.arange(x.shape[1]).reshape(-1, width)[:, :-1].flatten()
    a, b = x[:, left], x[:, left + 1]
    a, b = a - a.mean(0), b - b.mean(0)
    sa, sb = a.pow(2).sum(0).sqrt(), b.pow(2).sum(0).sqrt()
    keep = (sa > 0) & (sb > 0)
    return ((a * b).sum(0)[keep] / (sa * sb)[keep]).mean().item()


def nearest_distances(queries: Tensor, reference: Tensor) -> Tensor:
    """Distance from each query row to its nearest reference row: (N, D), (M, D) → (N,)."""
    return squared_distances(queries, reference).min(dim=1).values.sqrt()


SOURCES = ("normal", "uniform")




def source_log_prob(z: Tensor, source: str) -> Tensor:
    """log p_Z(z) for the standard normal N(0, 1) or the uniform U(0, 1); any shape in, same out."""
    v.one_of(source, "source", SOURCES)
    if source == "normal":
        return standard_normal_log_prob(z)
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
    return torch.exp(standard_normal_log_prob(z)) / abs(a)


def jacobian_free_density(p: Pushforward, x: Tensor) -> Tensor:
    """p_Z(g⁻¹(x)) alone: the change of variables with the factor 1/|g'(z)| dropped; 0 outside g's range.

    Not a density: it equals p_X(x)·|g'(g⁻¹(x))|, so it integrates to E|g'(Z)| rather than 1, and
    it over-weights the x where g stretches. x: any shape, same shape out.
    """
    x = v.tensor(x, "x")
    z = p.g.inverse(x, p.a, p.b)
    inside = ~torch.isnan(z)
    out = source_log_prob(torch.where(inside, z, torch.zeros_like(z)), p.source).exp()
    return torch.where(inside, out, torch.zeros_like(out))


def lognormal_density(x: Tensor, mu: float, sigma: float) -> Tensor:
    """Density of X = exp(μ + σZ), Z ~ N(0, 1), by change of variables. Reference for Exercise 1.3.

    g⁻¹(x) = (log x − μ)/σ and |dg⁻¹/dx| = 1/(σx), so p_X(x) = φ((log x − μ)/σ) / (σ x): the
    log-normal density. x: any shape, entries > 0; sigma > 0. Same shape out.
    """
    x = v.tensor(x, "x")
    if (x <= 0).any():
        raise ValueError("x must be positive: exp(μ + σZ) never takes a value ≤ 0.")
    mu, sigma = v.scalar(mu, "mu"), v.scalar(sigma, "sigma", positive=True)
    t = (torch.log(x) - mu) / sigma
    return torch.exp(standard_normal_log_prob(t)) / (sigma * x)


# ---------------------------------------------------------------- change of variables in two dimensions

def fan_map(z: Tensor) -> Tensor:
    """A 2-D map for the grid picture: g(z) = e^{z₁/2}·(cos(z₂/2), sin(z₂/2)). (…, 2) → (…, 2).

    Polar coordinates with radius e^{z₁/2} and angle z₂/2: one-to-one for |z₂| < 2π. Its Jacobian
    determinant is e^{z₁}/4 (`fan_log_det`): cells with small z₁ are squeezed, large z₁ stretched.
    """
    z = v.tensor(z, "z")
    if z.shape[-1:] != (2,):
        raise ValueError(f"z must have shape (..., 2), got {tuple(z.shape)}.")
    r, angle = torch.exp(z[..., 0] / 2), z[..., 1] / 2
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=-1)


def fan_log_det(z: Tensor) -> Tensor:
    """log |det J_g(z)| of `fan_map`: z₁ − log 4. (…, 2) → (…)."""
    z = v.tensor(z, "z")
    if z.shape[-1:] != (2,):
        raise ValueError(f"z must have shape (..., 2), got {tuple(z.shape)}.")
    return z[..., 0] - math.log(4.0)


def fan_inverse(x: Tensor) -> Tensor:
    """g⁻¹ of `fan_map`: z₁ = 2·log|x|, z₂ = 2·atan2(x₂, x₁). (…, 2) → (…, 2), x ≠ 0.

    The angle z₂/2 is taken in (−π, π], so z₂ in (−2π, 2π]: g sends z₂ and z₂ ± 4π to the same x, and
    this is the preimage that N(0, I) makes likely (|Z₂| > 2π has probability 3·10⁻¹⁰).
    """
    x = v.tensor(x, "x")
    if x.shape[-1:] != (2,):
        raise ValueError(f"x must have shape (..., 2), got {tuple(x.shape)}.")
    r = torch.linalg.vector_norm(x, dim=-1)
    if (r == 0).any():
        raise ValueError("x = (0, 0) is not an image of the fan map (its radius e^{z₁/2} is never 0).")
    return torch.stack([2 * torch.log(r), 2 * torch.atan2(x[..., 1], x[..., 0])], dim=-1)


def fan_log_density(x: Tensor) -> Tensor:
    """log p_X(x) for X = fan_map(Z), Z ~ N(0, I) in 2-D: log p_Z(z) − log|det J_g(z)| at z = g⁻¹(x).
    Reference for Exercise 1.4. (…, 2) → (…); the preimages with |z₂| > 2π are left out (see fan_inverse)."""
    z = fan_inverse(x)
    return standard_normal_log_prob(z).sum(-1) - fan_log_det(z)


def normal_cell_probabilities(lo: float, hi: float, n: int) -> Tensor:
    """P(Z in cell) for Z ~ N(0, I) in 2-D and the n × n square cells of [lo, hi]², in `grid_cells`'s order:
    (Φ(b₁) − Φ(a₁))·(Φ(b₂) − Φ(a₂)) for the cell [a₁, b₁] × [a₂, b₂]. (n²,), float64."""
    lo, hi = v.scalar(lo, "lo"), v.scalar(hi, "hi")
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got {lo} and {hi}.")
    n = v.count(n, "n")
    edges = torch.linspace(lo, hi, n + 1, dtype=torch.float64)
    per_axis = torch.special.ndtr(edges).diff()  # (n,)
    return (per_axis[:, None] * per_axis[None, :]).flatten()


def grid_cells(lo: float, hi: float, n: int, points_per_edge: int = 8) -> tuple[Tensor, Tensor]:
    """The n × n square cells of [lo, hi]²: their outlines (n², 4·points_per_edge, 2), counter-clockwise,
    points_per_edge points along each side (so a curved image of a side stays curved), and their
    centres (n², 2). float64."""
    lo, hi = v.scalar(lo, "lo"), v.scalar(hi, "hi")
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got {lo} and {hi}.")
    n, k = v.count(n, "n"), v.count(points_per_edge, "points_per_edge")
    h = (hi - lo) / n
    t = torch.arange(k, dtype=torch.float64) / k
    unit = torch.cat([torch.stack([t, 0 * t], 1), torch.stack([1 + 0 * t, t], 1),
                      torch.stack([1 - t, 1 + 0 * t], 1), torch.stack([0 * t, 1 - t], 1)])  # (4k, 2)
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    corner = lo + h * torch.stack([i.flatten(), j.flatten()], 1).double()  # (n², 2) lower-left corners
    return corner[:, None, :] + h * unit, corner + h / 2


def polygon_areas(outlines: Tensor) -> Tensor:
    """Areas of polygons by the shoelace formula: (M, P, 2) vertices in order → (M,)."""
    outlines = v.tensor(outlines, "outlines")
    if outlines.ndim != 3 or outlines.shape[-1] != 2:
        raise ValueError(f"outlines must have shape (M, P, 2), got {tuple(outlines.shape)}.")
    x, y = outlines[..., 0], outlines[..., 1]
    return 0.5 * (x * y.roll(-1, 1) - x.roll(-1, 1) * y).sum(1).abs()


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


class LinearGenerator:
    """g(z) = mean + z · W with W = √(variance) × principal directions, clipped to [0, 1].

    With z ~ N(0, I_L) the output has the data's mean and its covariance along the top L principal
    directions. fit: x (N, D). __call__: z (B, L) → (B, D).
    """

    def __init__(self, latent_dim: int = 2):
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive whole number, got {latent_dim!r}.")
        self.latent_dim = latent_dim
        self.mean: Tensor | None = None
        self.weight: Tensor | None = None

    def fit(self, x: Tensor) -> "LinearGenerator":
        from sklearn.decomposition import PCA

        x = v.tensor(x, "x")
        if x.ndim != 2 or x.shape[0] <= self.latent_dim:
            raise ValueError(f"x must have shape (N, D) with N > latent_dim, got {tuple(x.shape)}.")
        pca = PCA(n_components=self.latent_dim, svd_solver="full").fit(x.double().numpy())
        self.mean = torch.as_tensor(pca.mean_)
        self.weight = torch.as_tensor(pca.components_ * pca.explained_variance_[:, None] ** 0.5)
        return self

    def __call__(self, z: Tensor) -> Tensor:
        if self.weight is None:
            raise RuntimeError("call fit(x) before generating.")
        z = v.tensor(z, "z", dtype=torch.float64)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}), got {tuple(z.shape)}.")
        return (self.mean + z @ self.weight).clamp(0.0, 1.0)



# ---------------------------------------------------------------- what the explorers of notebooks 00 and 01 show

def histogram_view(lo: float, hi: float, bins: int, points: int) -> tuple[Tensor, Tensor]:
    """The plotted range [lo, hi] of a pushforward picture: `bins` + 1 histogram edges and a grid of
    `points` points for the densities, both float64: (bins + 1,), (points,)."""
    lo, hi = v.scalar(lo, "lo"), v.scalar(hi, "hi")
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got {lo} and {hi}.")
    bins, points = v.count(bins, "bins"), v.count(points, "points", minimum=2)
    return (torch.linspace(lo, hi, bins + 1, dtype=torch.float64),
            torch.linspace(lo, hi, points, dtype=torch.float64))


def _nice_step(width: float) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) that cuts `width` into about 8 parts."""
    raw = width / 8
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def central_interval(p: Pushforward, mass: float = 0.98) -> tuple[float, float]:
    """The interval [F⁻¹((1 − mass)/2), F⁻¹((1 + mass)/2)] that holds the central `mass` of p."""
    mass = v.scalar(mass, "mass")
    if not 0 < mass < 1:
        raise ValueError(f"mass must be strictly between 0 and 1, got {mass}.")
    q = p.icdf(torch.tensor([(1 - mass) / 2, (1 + mass) / 2], dtype=torch.float64))
    return q[0].item(), q[1].item()


def view_range(p: Pushforward, target: Pushforward, current: tuple[float, float] | None = None, *,
               mass: float = 0.9, target_mass: float = 0.98, min_fill: float = 1 / 3,
               widest: float = 3.0) -> tuple[float, float]:
    """The x-range [lo, hi] of the pushforward explorer's picture, with round ends.

    What must be seen: the central `target_mass` of the target and the central `mass` of p, but p
    may widen the view to at most `widest` times the target's interval (or 4, if that is more):
    a very skewed p (exp with a = 3) then pokes out on the far side, and the explorer's readout
    says what share of its draws is in view. Keeps `current` while it still holds what must be seen
    and that fills at least `min_fill` of its width, so that moving a or b moves the samples across
    a still axis. Otherwise returns a new range around it, 10% of room on each side, rounded outward
    to a round step.
    """
    (p_lo, p_hi), (t_lo, t_hi) = central_interval(p, mass), central_interval(target, target_mass)
    room = max(v.scalar(widest, "widest") * (t_hi - t_lo), 4.0)
    lo, hi = min(p_lo, t_lo), max(p_hi, t_hi)
    if hi - lo > room:  # keep the target and the part of p next to it
        lo = max(lo, t_hi - room)
        hi = min(hi, lo + room)
    if current is not None:
        c_lo, c_hi = v.scalar(current[0], "current[0]"), v.scalar(current[1], "current[1]")
        if c_lo <= lo and hi <= c_hi and (hi - lo) >= min_fill * (c_hi - c_lo):
            return current
    pad = 0.1 * max(hi - lo, 1e-3)
    lo, hi = (0.0 if 0 <= lo < pad else lo - pad), hi + pad  # all draws positive: the axis starts at 0
    step = _nice_step(hi - lo)
    return float(round(math.floor(lo / step) * step, 9)), float(round(math.ceil(hi / step) * step, 9))


def sample_moments(samples: Tensor) -> tuple[float, float]:
    """The sample mean and the sample standard deviation (n − 1 in the denominator) of `samples`."""
    samples = v.tensor(samples, "samples")
    return samples.mean().item(), samples.std().item()


__all__ = ["squared_distances", "pairing_cost", "best_pairing", "describe_pairing", "random_pairing_costs", "sorted_distance",
           "marginal_distances", "shuffle_columns", "nearest_distances", "sorted_distance_trials",
           "neighbour_correlation", "SOURCES", "source_log_prob", "source_icdf",
           "sample_source", "Map", "MAPS", "Pushforward", "wasserstein_1d", "exponential_icdf",
           "affine_pushforward_density", "jacobian_free_density", "lognormal_density", "fan_map",
           "fan_log_det", "fan_inverse", "fan_log_density", "normal_cell_probabilities", "grid_cells", "polygon_areas", "histogram_density", "PushforwardSummary", "summarize_pushforward",
           "LinearGenerator", "histogram_view", "central_interval", "view_range", "sample_moments"]
