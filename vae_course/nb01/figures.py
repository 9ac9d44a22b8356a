"""Notebook 01's figures: a histogram against its density, the generation flow z → x̂ beside x,
the costs of random pairings, the pushforward explorer's picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import COLORS, IMAGE_KW, BlitFigure, as_numpy, ax_or_new, nice_top

if TYPE_CHECKING:  # for the annotations only: a figure draws what it is given, it computes nothing
    from .compute import PushforwardSummary


def plot_density_check(samples, grid, density, edges, *, ax: Axes | None = None, title: str = "",
                       xlabel: str = "$x$", label: str = "change-of-variables density") -> Axes:
    """A histogram of `samples` (as a density on `edges`) under the curve `density` over `grid`."""
    ax = ax_or_new(ax)
    ax.hist(as_numpy(samples), bins=as_numpy(edges), density=False,
            weights=np.full(len(samples), 1.0 / len(samples)) / np.diff(as_numpy(edges)).mean(),
            color=COLORS["samples"], label=f"histogram of {len(samples):,} samples")
    ax.plot(as_numpy(grid), as_numpy(density), color=COLORS["density"], lw=2, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.legend(loc="best", fontsize="small")
    return ax


class PushforwardFigure:
    """The pushforward explorer's picture: the histogram of g(Z), its density, a target.

    draw(summary, title) updates the artists in place; png() returns PNG bytes. The y-range only
    changes when the curves outgrow it or shrink below half of it, so most moves are cheap.
    """

    def __init__(self, summary: PushforwardSummary, target_label: str, figsize=(7.2, 3.4), dpi=100,
                 xlabel: str = "$x = g(z)$", hist_label: str | None = None,
                 density_label: str = "change-of-variables density $p_X$"):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14)
        ax = self.ax = fig.add_subplot()
        edges, grid = as_numpy(summary.edges), as_numpy(summary.grid)
        self.hist = ax.stairs(as_numpy(summary.heights), edges, fill=True, color=COLORS["samples"],
                              label=f"histogram of g(Z), {len(summary.samples):,} draws")
        (self.line,) = ax.plot(grid, as_numpy(summary.density), color=COLORS["density"], lw=2, label=density_label)
        (self.target,) = ax.plot(grid, as_numpy(summary.target_density), color=COLORS["target"], lw=2,
                                 ls="--", label=f"target: {target_label}")
        ax.set(xlim=(edges[0], edges[-1]), ylim=(0, 1), xlabel=xlabel, ylabel="density")
        ax.legend(loc="upper right", fontsize="small")
        self.blit = BlitFigure(fig, [self.hist, self.line, self.target, ax.title])
        self.fig = fig
        self.draw(summary, "")

    def draw(self, s: PushforwardSummary, title: str, target_label: str | None = None) -> None:
        self.hist.set_data(as_numpy(s.heights))
        self.line.set_ydata(as_numpy(s.density))
        self.target.set_ydata(as_numpy(s.target_density))
        if target_label is not None and self.target.get_label() != f"target: {target_label}":
            self.target.set_label(f"target: {target_label}")
            self.ax.legend(loc="upper right", fontsize="small")
            self.blit.invalidate()
        need = min(1.15 * max(np.nanmax(as_numpy(s.heights)), np.nanmax(as_numpy(s.target_density)), 0.1), 6.0)
        top = self.ax.get_ylim()[1]
        if need > top or need < 0.5 * top:
            self.ax.set_ylim(0, nice_top(need))
            self.blit.invalidate()
        self.ax.set_title(title)

    def png(self) -> bytes:
        return self.blit.png()


def plot_generation_flow(z, x_hat, x) -> Figure:
    """The six-sample picture: Z_k → g → X̂_k, and the data X_k in a row of their own.

    z: (K, 2) latent draws; x_hat: (K, 64) generated images; x: (K, 64) data images.
    """
    z, x_hat, x = as_numpy(z), as_numpy(x_hat), as_numpy(x)
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
    ax = ax_or_new(ax)
    ax.hist(as_numpy(random_costs), bins=30, color=COLORS["samples"], label="random pairings")
    ax.axvline(identity_cost, color=COLORS["density"], lw=2, label=r"$\hat X_k$ with $X_k$")
    ax.axvline(best_cost, color=COLORS["target"], lw=2, ls="--", label="best pairing")
    ax.set(title="The 'error' depends on a pairing that nothing fixes",
           xlabel=r"mean $\|\hat X_k - X_{\pi(k)}\|^2$ over the six pairs", ylabel="number of pairings")
    ax.legend(fontsize="small")
    return ax


__all__ = ["plot_density_check", "PushforwardFigure", "plot_generation_flow", "plot_pairing_costs"]
