"""Comparing generated samples with data samples (notebook 01, step 2 of the argument).

Pure tensor maths: pairing costs, sorting-based 1-D distances, per-pixel marginals, nearest
neighbours. No plotting.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _validate as v


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


def nearest_distances(queries: Tensor, reference: Tensor) -> Tensor:
    """Distance from each query row to its nearest reference row: (N, D), (M, D) → (N,)."""
    return squared_distances(queries, reference).min(dim=1).values.sqrt()
