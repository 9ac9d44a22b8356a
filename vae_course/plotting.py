"""Plotting: functions take data (and an optional `ax`) and return the Axes (or Figure).

Nothing here trains, samples or computes a model; style is set by `vae_course.setup_notebook`.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .distributions import PushforwardSummary

IMAGE_KW = dict(cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
COLORS = {"samples": "#9ecae1", "density": "#08519c", "target": "#d95f02", "data": "#1b9e77"}


def _ax(ax: Axes | None, figsize=(5, 3.2)) -> Axes:
    return plt.subplots(figsize=figsize)[1] if ax is None else ax


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def image_grid(images, ncols: int | None = None, *, ax: Axes | None = None, title: str = "",
               pad: int = 1) -> Axes:
    """Tile 8×8 images (N, 64) or (N, 8, 8), values in [0, 1], into one picture on `ax`."""
    imgs = _np(images).reshape(len(images), 8, 8)
    n = len(imgs)
    ncols = ncols or n
    nrows = -(-n // ncols)
    canvas = np.full((nrows * (8 + pad) - pad, ncols * (8 + pad) - pad), np.nan)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        canvas[r * (8 + pad):r * (8 + pad) + 8, c * (8 + pad):c * (8 + pad) + 8] = img
    ax = _ax(ax, figsize=(ncols * 0.6 + 0.4, nrows * 0.6 + 0.6))
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    ax.imshow(canvas, **{**IMAGE_KW, "cmap": cmap})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def plot_density_check(samples, grid, density, edges, *, ax: Axes | None = None, title: str = "",
                       xlabel: str = "$x$", label: str = "change-of-variables density") -> Axes:
    """A histogram of `samples` (as a density on `edges`) under the curve `density` over `grid`."""
    ax = _ax(ax)
    ax.hist(_np(samples), bins=_np(edges), density=False,
            weights=np.full(len(samples), 1.0 / len(samples)) / np.diff(_np(edges)).mean(),
            color=COLORS["samples"], label=f"histogram of {len(samples):,} samples")
    ax.plot(_np(grid), _np(density), color=COLORS["density"], lw=2, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.legend(loc="best", fontsize="small")
    return ax


class PushforwardFigure:
    """The pushforward explorer's picture, redrawn in place (bar heights, line data, texts).

    draw(summary, title) updates the artists; png() returns the figure as PNG bytes.
    """

    def __init__(self, summary: PushforwardSummary, target_label: str, figsize=(7.2, 3.6), dpi=90):
        self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        ax = self.ax = self.fig.add_subplot()
        edges = _np(summary.edges)
        self.bars = ax.bar(edges[:-1], _np(summary.heights), width=np.diff(edges), align="edge",
                           color=COLORS["samples"], label=f"histogram of g(Z), {len(summary.samples):,} draws")
        grid = _np(summary.grid)
        (self.line,) = ax.plot(grid, _np(summary.density), color=COLORS["density"], lw=2,
                               label="change-of-variables density $p_X$")
        (self.target,) = ax.plot(grid, _np(summary.target_density), color=COLORS["target"], lw=2,
                                 ls="--", label=f"target: {target_label}")
        ax.set(xlim=(edges[0], edges[-1]), xlabel="$x = g(z)$", ylabel="density")
        ax.legend(loc="upper right", fontsize="small")
        self.draw(summary, "")

    def draw(self, s: PushforwardSummary, title: str, target_label: str | None = None) -> None:
        for bar, h in zip(self.bars, _np(s.heights)):
            bar.set_height(h)
        self.line.set_ydata(_np(s.density))
        self.target.set_ydata(_np(s.target_density))
        if target_label is not None:
            self.target.set_label(f"target: {target_label}")
            self.ax.legend(loc="upper right", fontsize="small")
        top = max(np.nanmax(_np(s.heights)), np.nanmax(_np(s.target_density)), 0.1)
        self.ax.set_ylim(0, min(1.15 * top, 6.0))
        self.ax.set_title(title)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()


def plot_generation_flow(z, x_hat, x) -> Figure:
    """The six-sample picture: Z_k → g → X̂_k, and the data X_k in a row of their own.

    z: (K, 2) latent draws; x_hat: (K, 64) generated images; x: (K, 64) data images.
    """
    z, x_hat, x = _np(z), _np(x_hat), _np(x)
    k = len(z)
    fig = plt.figure(figsize=(1.3 * k + 1.0, 6.4), layout="constrained")
    grid = fig.add_gridspec(3, k, height_ratios=[1.8, 1, 1])
    ax_z = fig.add_subplot(grid[0, 1:k - 1])
    ax_z.scatter(z[:, 0], z[:, 1], color=COLORS["density"])
    for i, (a, b) in enumerate(z):
        ax_z.annotate(f"$Z_{i + 1}$", (a, b), textcoords="offset points", xytext=(6, 5 if i % 2 == 0 else -13))
    ax_z.set(title=r"Draw $Z_1,\dots,Z_6 \sim \mathcal{N}(0, I)$ and compute $\hat X_k = g(Z_k)$",
             xlabel="$z_1$", ylabel="$z_2$", xlim=(-3, 3), ylim=(-3, 3))
    for row, imgs, name in ((1, x_hat, r"$\hat X_{%d} = g(Z_{%d})$"), (2, x, "data $X_{%d}$")):
        for i in range(k):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(imgs[i].reshape(8, 8), **IMAGE_KW)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name % ((i + 1, i + 1) if row == 1 else (i + 1)), fontsize="small")
    fig.suptitle("Generated (middle row) and training data (bottom row): which goes with which?")
    return fig


def plot_pairing_costs(random_costs, identity_cost: float, best_cost: float, *,
                       ax: Axes | None = None) -> Axes:
    """Histogram of pairing costs over random pairings, with the k-with-k and the best pairing."""
    ax = _ax(ax)
    ax.hist(_np(random_costs), bins=30, color=COLORS["samples"], label="random pairings")
    ax.axvline(identity_cost, color=COLORS["density"], lw=2, label=r"$\hat X_k$ with $X_k$")
    ax.axvline(best_cost, color=COLORS["target"], lw=2, ls="--", label="best pairing")
    ax.set(title="The 'error' depends on a pairing that nothing fixes",
           xlabel=r"mean $\|\hat X_k - X_{\pi(k)}\|^2$ over the six pairs", ylabel="number of pairings")
    ax.legend(fontsize="small")
    return ax


def plot_bars(values: dict, *, ax: Axes | None = None, title: str = "", ylabel: str = "",
              fmt: str = "{:.3f}") -> Axes:
    """A labelled bar chart of named numbers {name: value}, each bar annotated with its value."""
    ax = _ax(ax)
    names, heights = list(values), [float(v) for v in values.values()]
    bars = ax.bar(names, heights, color=[COLORS["density"], COLORS["target"], COLORS["data"], "0.5"][:len(names)])
    ax.bar_label(bars, labels=[fmt.format(h) for h in heights], fontsize="small")
    ax.set(title=title, ylabel=ylabel)
    ax.margins(y=0.15)
    return ax
