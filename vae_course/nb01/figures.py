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
                       xlabel: str = "$x$", label: str = "change-of-variables density",
                       others: dict | None = None) -> Axes:
    """A histogram of `samples` (as a density on `edges`) under the curve `density` over `grid`;
    `others` {label: values on grid} adds dashed curves (e.g. a formula with a factor missing).
    The legend sits to the right of the axes, in the text's size, never on the data."""
    if ax is None:
        ax = plt.figure(figsize=(7.6, 3.2), layout="constrained").add_subplot()
    ax.hist(as_numpy(samples), bins=as_numpy(edges), density=False,
            weights=np.full(len(samples), 1.0 / len(samples)) / np.diff(as_numpy(edges)).mean(),
            color=COLORS["samples"], label=f"histogram of {len(samples):,} samples")
    ax.plot(as_numpy(grid), as_numpy(density), color=COLORS["density"], lw=2, label=label)
    for (name, values), color, ls in zip((others or {}).items(), (COLORS["target"], "0.35", COLORS["data"]),
                                         ("--", ":", "-.")):
        ax.plot(as_numpy(grid), as_numpy(values), color=color, lw=2, ls=ls, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.set_ylim(0, None)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize="medium")
    return ax


def _legend_above_the_data(ax: Axes) -> None:
    """The legend in two columns at the top centre, in headroom made for it above the tallest bar or
    curve, so that it never sits on a peak."""
    handles, _ = ax.get_legend_handles_labels()
    rows = -(-len(handles) // 2)
    heights = [line.get_ydata() for line in ax.get_lines()] + [[p.get_height() for p in ax.patches]]
    top = max(float(np.nanmax(np.asarray(h, dtype=float))) for h in heights if len(h))
    ax.set_ylim(0, top * (1.1 + 0.13 * rows))
    ax.legend(loc="upper center", ncols=2, fontsize="small", frameon=True, framealpha=1.0, edgecolor="none")


class PushforwardFigure:
    """The pushforward explorer's picture: the histogram of g(Z), its density, a target.

    draw(summary, title) updates the artists in place; png() returns PNG bytes. The x-range is the
    summary's edges (the explorer changes them only when the source, map or target asks for it); the
    y-range only changes when the curves outgrow it or shrink below half of it, so most moves are cheap;
    it leaves the top third or so to the legend, so that the legend never sits on a peak.
    """

    def __init__(self, summary: PushforwardSummary, target_label: str, figsize=(7.2, 3.4), dpi=100,
                 xlabel: str = "$x = g(z)$", hist_label: str | None = None,
                 density_label: str = "change-of-variables density $p_X$", target_prefix: str = "target: "):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.1, right=0.96, top=0.9, bottom=0.15)  # room for tick labels like 0.25
        ax = self.ax = fig.add_subplot()
        edges, grid = as_numpy(summary.edges), as_numpy(summary.grid)
        hist_label = hist_label or f"histogram of g(Z), {len(summary.samples):,} draws"
        self.hist = ax.stairs(as_numpy(summary.heights), edges, fill=True, color=COLORS["samples"], label=hist_label)
        (self.line,) = ax.plot(grid, as_numpy(summary.density), color=COLORS["density"], lw=2, label=density_label)
        (self.target,) = ax.plot(grid, as_numpy(summary.target_density), color=COLORS["target"], lw=2,
                                 ls="--", label=f"{target_prefix}{target_label}")
        self.target_prefix = target_prefix
        ax.set(ylim=(0, 1), xlabel=xlabel, ylabel="density")
        self._set_view(edges)
        ax.legend(loc="upper right", fontsize="small")
        self.blit = BlitFigure(fig, [self.hist, self.line, self.target, ax.title])
        self.fig = fig
        self.draw(summary, "")

    def _set_view(self, edges: np.ndarray) -> None:
        from matplotlib.ticker import MaxNLocator

        lo, hi = float(edges[0]), float(edges[-1])
        self.ax.set_xlim(lo, hi)
        ticks = MaxNLocator(nbins=8).tick_values(lo, hi)
        self.ax.set_xticks(ticks[(ticks >= lo - 1e-9) & (ticks <= hi + 1e-9)])  # no tick labels off the axis
        self.edges = edges

    def draw(self, s: PushforwardSummary, title: str, target_label: str | None = None) -> None:
        edges = as_numpy(s.edges)
        if len(edges) != len(self.edges) or not np.array_equal(edges, self.edges):
            self.hist.set_data(as_numpy(s.heights), edges)
            self._set_view(edges)
            self.blit.invalidate()
        else:
            self.hist.set_data(as_numpy(s.heights))
        grid = as_numpy(s.grid)
        self.line.set_data(grid, as_numpy(s.density))
        self.target.set_data(grid, as_numpy(s.target_density))
        if target_label is not None and self.target.get_label() != f"{self.target_prefix}{target_label}":
            self.target.set_label(f"{self.target_prefix}{target_label}")
            self.ax.legend(loc="upper right", fontsize="small")
            self.blit.invalidate()
        need = min(1.45 * max(np.nanmax(as_numpy(s.heights)), np.nanmax(as_numpy(s.target_density)), 0.1), 6.0)
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
    fig = plt.figure(figsize=(1.25 * k + 1.6, 6.6), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.5, 2.0])
    ax_z = top.subplots()
    ax_z.set_box_aspect(0.62)
    ax_z.scatter(z[:, 0], z[:, 1], color=COLORS["density"])
    for i, (a, b) in enumerate(z):  # each label on the side away from its nearest neighbour
        d = np.delete(z, i, axis=0) - z[i]
        away = -d[np.argmin((d**2).sum(1))]
        away = away / max(np.linalg.norm(away), 1e-9)
        ax_z.annotate(f"$Z_{i + 1}$", (a, b), textcoords="offset points", xytext=tuple(14 * away),
                      ha="center", va="center")
    ax_z.set(title=r"Draw $Z_1,\dots,Z_6 \sim \mathcal{N}(0, I)$ and compute $\hat X_k = g(Z_k)$",
             xlabel="$z_1$", ylabel="$z_2$", xlim=(-3, 3), ylim=(-3, 3))
    axes = bottom.subplots(2, k)
    for row, imgs, name, label in ((0, x_hat, r"$\hat X_{%d}$", "generated\n$\\hat X_k = g(Z_k)$"),
                                   (1, x, "$X_{%d}$", "training\ndata $X_k$")):
        for i in range(k):
            ax = axes[row, i]
            ax.imshow(imgs[i].reshape(8, 8), **IMAGE_KW)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name % (i + 1))
        axes[row, 0].set_ylabel(label)
    fig.suptitle("Generated (middle row) and training data (bottom row): which goes with which?")
    return fig


def plot_pairing_costs(random_costs, identity_cost: float, best_cost: float, *,
                       ax: Axes | None = None) -> Axes:
    """Histogram of pairing costs over random pairings, with the k-with-k and the best pairing; the legend
    beside the axes, off the bars."""
    ax = ax_or_new(ax, figsize=(8.4, 3.6))
    ax.hist(as_numpy(random_costs), bins=30, color=COLORS["samples"], label=f"{len(random_costs):,} random pairings")
    ax.axvline(identity_cost, color=COLORS["density"], lw=2, label=r"$\hat X_k$ with $X_k$")
    ax.axvline(best_cost, color=COLORS["target"], lw=2, ls="--", label="best pairing")
    ax.set(title="The 'error' of the same six images depends on a pairing that nothing fixes",
           xlabel=r"mean $\|\hat X_k - X_{\pi(k)}\|^2$ over the six pairs", ylabel="number of pairings")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="medium")  # beside the axes, off the bars
    return ax


def plot_grid_warp(z_cells, x_cells, log_det, z_samples, x_samples) -> Figure:
    """A regular grid of cells in z beside its image under a 2-D map g, each image cell coloured by
    the local area change |det J_g| at its centre, with the same samples in both panels.

    z_cells, x_cells: (M, P, 2) cell outlines before and after g; log_det: (M,) log |det J_g|;
    z_samples, x_samples: (N, 2).
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import LogNorm

    fig, (ax_z, ax_x) = plt.subplots(1, 2, figsize=(9.0, 4.3), layout="constrained")
    det = np.exp(as_numpy(log_det))
    norm = LogNorm(det.min(), det.max())
    z_cells, x_cells = as_numpy(z_cells), as_numpy(x_cells)
    cmap = plt.get_cmap("viridis")
    light = [tuple(0.45 * np.array(cmap(norm(d))[:3]) + 0.55) for d in det]  # pale: the draws stay visible
    for ax, outlines in ((ax_z, z_cells), (ax_x, x_cells)):
        ax.add_collection(PolyCollection(outlines, facecolors=light, edgecolors="0.35", lw=0.6))
    centre = z_cells.mean(axis=1)  # two cells of the row nearest z2 = 0: one near the inner edge, the outermost
    row = np.flatnonzero(np.isclose(np.abs(centre[:, 1]), np.abs(centre[:, 1]).min()) & (centre[:, 1] >= 0))
    row = row[np.argsort(det[row])]
    inner, outer = int(row[len(row) // 4]), int(row[-1])
    for i, color in ((inner, COLORS["target"]), (outer, COLORS["density"])):
        for ax, outlines in ((ax_z, z_cells), (ax_x, x_cells)):
            ax.add_collection(PolyCollection(outlines[i:i + 1], facecolors="none", edgecolors=color, lw=2.2,
                                             zorder=4))
    for ax, pts in ((ax_z, z_samples), (ax_x, x_samples)):
        pts = as_numpy(pts)
        ax.scatter(pts[:, 0], pts[:, 1], s=5, color="0.1", zorder=3, label=f"the same {len(pts)} draws")
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.grid(False)
    from matplotlib.ticker import MultipleLocator

    ax_x.xaxis.set_major_locator(MultipleLocator(1.0))
    for ax in (ax_z, ax_x):  # only ticks inside the view: none left over beyond the limits
        ax.set_xlim(ax.get_xlim())
        ax.set_ylim(ax.get_ylim())
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            ticks = axis.get_ticklocs()
            axis.set_ticks(ticks[(ticks >= lo) & (ticks <= hi)])
    ax_z.set(title="z: a regular grid, every cell the same area", xlabel="$z_1$", ylabel="$z_2$")
    ax_x.set(title="x = g(z): cells squeezed or stretched", xlabel="$x_1$", ylabel="$x_2$")
    from matplotlib.lines import Line2D

    marks = [Line2D([], [], color=COLORS["target"], lw=2.2, label="a cell near the inner edge, and its image"),
             Line2D([], [], color=COLORS["density"], lw=2.2, label="a cell at the outer edge, and its image")]
    ax_z.legend(handles=ax_z.get_legend_handles_labels()[0] + marks, loc="upper center",
                bbox_to_anchor=(0.5, -0.14), fontsize="small", ncols=1)  # below the grid, off the data
    from matplotlib.cm import ScalarMappable

    key = ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(key, ax=ax_x, label=r"area change $|\det J_g(z)|$", alpha=0.45)
    fig.suptitle(r"In 2-D the factor $|g'(z)|$ becomes $|\det J_g(z)|$: where cells shrink, the draws crowd")
    return fig


def plot_shuffled_digits(real, shuffled, real_mean, shuffled_mean) -> Figure:
    """Real digits beside pixel-shuffled fakes (R, 64) each, and the mean image (64,) of each whole set,
    on one grey scale: what 64 separate pixel distributions keep (the mean) and lose (the strokes)."""
    from ..figures import image_grid

    fig = plt.figure(figsize=(10.4, 3.3), layout="constrained")
    axes = fig.subplots(1, 4, width_ratios=[1.9, 1.9, 1.0, 1.0])
    cols = -(-len(real) // 2)
    image_grid(real, cols, ax=axes[0], title="real training digits")
    image_grid(shuffled, cols, ax=axes[1], title="pixels shuffled across images")
    for ax, mean, name in ((axes[2], real_mean, "mean of all\nreal digits"),
                           (axes[3], shuffled_mean, "mean of all\nshuffled ones")):
        ax.imshow(as_numpy(mean).reshape(8, 8), **IMAGE_KW)
        ax.set(xticks=[], yticks=[], title=name)
    fig.suptitle("Same 64 pixel distributions, so the same mean image (an oval of ink); the strokes are gone")
    return fig


__all__ = ["plot_shuffled_digits", "plot_density_check", "PushforwardFigure", "plot_generation_flow", "plot_pairing_costs",
           "plot_grid_warp"]
