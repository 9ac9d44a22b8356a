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
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    canvas = _tile(images, ncols, pad)
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


class BlitFigure:
    """A figure for explorers: static parts drawn once, changing artists drawn on top of them.

    `dynamic` artists are marked animated; `png()` restores the cached background, draws only
    them and encodes the canvas (about 10 ms instead of 40–80 ms for a full redraw). Call
    `invalidate()` after changing anything static (limits, legend, labels).
    """

    def __init__(self, fig: Figure, dynamic: list):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig, self.canvas, self.dynamic = fig, FigureCanvasAgg(fig), dynamic
        for artist in dynamic:
            artist.set_animated(True)
        self._background = None

    def invalidate(self) -> None:
        self._background = None

    def png(self) -> bytes:
        from PIL import Image

        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        buf = io.BytesIO()
        Image.frombuffer("RGBA", self.canvas.get_width_height(), self.canvas.buffer_rgba()).save(
            buf, format="png", compress_level=1)
        return buf.getvalue()


def _nice_top(value: float) -> float:
    """Round an axis limit up to 1, 1.5, 2, 3, 5 or 7 times a power of ten."""
    exp = 10 ** np.floor(np.log10(value))
    return float(next(m * exp for m in (1, 1.5, 2, 3, 5, 7, 10) if m * exp >= value))


class PushforwardFigure:
    """The pushforward explorer's picture: the histogram of g(Z), its density, a target.

    draw(summary, title) updates the artists in place; png() returns PNG bytes. The y-range only
    changes when the curves outgrow it or shrink below half of it, so most moves are cheap.
    """

    def __init__(self, summary: PushforwardSummary, target_label: str, figsize=(7.2, 3.6), dpi=90):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14)
        ax = self.ax = fig.add_subplot()
        edges, grid = _np(summary.edges), _np(summary.grid)
        self.hist = ax.stairs(_np(summary.heights), edges, fill=True, color=COLORS["samples"],
                              label=f"histogram of g(Z), {len(summary.samples):,} draws")
        (self.line,) = ax.plot(grid, _np(summary.density), color=COLORS["density"], lw=2,
                               label="change-of-variables density $p_X$")
        (self.target,) = ax.plot(grid, _np(summary.target_density), color=COLORS["target"], lw=2,
                                 ls="--", label=f"target: {target_label}")
        ax.set(xlim=(edges[0], edges[-1]), ylim=(0, 1), xlabel="$x = g(z)$", ylabel="density")
        ax.legend(loc="upper right", fontsize="small")
        self.blit = BlitFigure(fig, [self.hist, self.line, self.target, ax.title])
        self.fig = fig
        self.draw(summary, "")

    def draw(self, s: PushforwardSummary, title: str, target_label: str | None = None) -> None:
        self.hist.set_data(_np(s.heights))
        self.line.set_ydata(_np(s.density))
        self.target.set_ydata(_np(s.target_density))
        if target_label is not None and self.target.get_label() != f"target: {target_label}":
            self.target.set_label(f"target: {target_label}")
            self.ax.legend(loc="upper right", fontsize="small")
            self.blit.invalidate()
        need = min(1.15 * max(np.nanmax(_np(s.heights)), np.nanmax(_np(s.target_density)), 0.1), 6.0)
        top = self.ax.get_ylim()[1]
        if need > top or need < 0.5 * top:
            self.ax.set_ylim(0, _nice_top(need))
            self.blit.invalidate()
        self.ax.set_title(title)

    def png(self) -> bytes:
        return self.blit.png()


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


# ---------------------------------------------------------------- notebook 03: one posterior per sample

DIGIT_COLORS = plt.get_cmap("tab10").colors


def _ellipse_collection(mu, sigma, colors, n_sigma: float, ax: Axes, **kw):
    from matplotlib.collections import EllipseCollection

    coll = EllipseCollection(2 * n_sigma * sigma[:, 0], 2 * n_sigma * sigma[:, 1], np.zeros(len(mu)), units="xy",
                             offsets=mu, offset_transform=ax.transData, facecolors=colors, **kw)
    ax.add_collection(coll)
    return coll


def _posterior_limits(mu, sigma, n_sigma: float, ax: Axes) -> None:
    lo, hi = (mu - n_sigma * sigma).min(0), (mu + n_sigma * sigma).max(0)
    pad = 0.05 * (hi - lo)
    ax.set(xlim=(lo[0] - pad[0], hi[0] + pad[0]), ylim=(lo[1] - pad[1], hi[1] + pad[1]))


def plot_posterior_ellipses(mu, log_var, labels, *, ax: Axes | None = None, n_sigma: float = 1.0,
                            title: str = "", alpha: float = 0.25, legend: bool = True) -> Axes:
    """One ellipse per sample: the n_sigma contour of N(mu_k, diag(exp(log_var_k))), coloured by digit.

    mu, log_var: (N, 2); labels: (N,) digits 0–9. The ellipses are axis-aligned (diagonal covariance)
    with half-axes n_sigma·σ_k.
    """
    mu, sigma, labels = _np(mu), np.exp(0.5 * _np(log_var)), _np(labels).astype(int)
    if mu.ndim != 2 or mu.shape[1] != 2 or sigma.shape != mu.shape or labels.shape != (len(mu),):
        raise ValueError(f"mu and log_var must have shape (N, 2) and labels (N,); got {mu.shape}, "
                         f"{sigma.shape}, {labels.shape}.")
    ax = _ax(ax, figsize=(5.6, 4.6))
    _ellipse_collection(mu, sigma, [(*DIGIT_COLORS[d], alpha) for d in labels], n_sigma, ax,
                        edgecolors=[DIGIT_COLORS[d] for d in labels], linewidths=0.5)
    _posterior_limits(mu, sigma, n_sigma, ax)
    if legend:
        for d in np.unique(labels):
            ax.scatter([], [], color=DIGIT_COLORS[d], label=str(d))
        ax.legend(title="digit", fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set(title=title or f"{len(mu)} posteriors: the {n_sigma:g}σ ellipse of each $\\mathcal{{N}}(\\mu_k, \\sigma_k^2)$",
           xlabel="$z_1$", ylabel="$z_2$", aspect="equal")
    return ax


def plot_curves(curves: dict, *, ax: Axes | None = None, title: str = "", xlabel: str = "epoch",
                ylabel: str = "", ylim=None) -> Axes:
    """Named curves {name: values} against their index (e.g. loss per epoch), one line each."""
    ax = _ax(ax)
    for name, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), _np(values), lw=1.8, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize="small")
    return ax


class PosteriorFigure:
    """The posterior explorer's picture: all ellipses (static), the chosen one with its draws, and the
    original digit beside the decodings of those draws (dynamic). show(k) redraws; png() encodes.

    table: a `vae_course.posterior.PosteriorTable` with a 2-D latent space.
    """

    def __init__(self, table, n_sigma: float = 1.0, figsize=(9.6, 4.2), dpi=80):
        self.table, self.n_sigma = table, n_sigma
        mu, sigma = _np(table.mu), np.exp(0.5 * _np(table.log_var))
        labels = _np(table.labels).astype(int)
        fig = Figure(figsize=figsize, dpi=dpi)
        ax = self.ax = fig.add_axes([0.07, 0.12, 0.42, 0.78])
        _ellipse_collection(mu, sigma, [(*DIGIT_COLORS[d], 0.15) for d in labels], n_sigma, ax,
                            edgecolors="none")
        _posterior_limits(mu, sigma, n_sigma, ax)
        ax.set(xlabel="$z_1$", ylabel="$z_2$", aspect="equal",
               title=f"all {len(mu)} test posteriors ({n_sigma:g}σ ellipses, colour = digit)")
        from matplotlib.patches import Ellipse

        self.ellipse = ax.add_patch(Ellipse((0, 0), 1, 1, fill=False, lw=2.2, color="black"))
        self.draws = ax.scatter(np.zeros(table.z.shape[1]), np.zeros(table.z.shape[1]), s=22, color="black",
                                marker="x", zorder=5)
        self.centre = ax.scatter([0], [0], s=40, color="black", zorder=6)
        k = table.z.shape[1]
        self.ncols = min(k + 1, 5)
        self.img_ax = fig.add_axes([0.55, 0.08, 0.43, 0.78])
        self.img = self.img_ax.imshow(_tile(np.zeros((k + 1, 64)), self.ncols),
                                      **{**IMAGE_KW, "cmap": plt.get_cmap("gray").with_extremes(bad="white")})
        self.img_ax.set_xticks([])
        self.img_ax.set_yticks([])
        self.img_ax.set_title(f"the original digit (top left) and the decodings\n"
                              f"of {k} draws $z \\sim \\mathcal{{N}}(\\mu_k, \\sigma_k^2)$ from its posterior")
        self.blit = BlitFigure(fig, [self.ellipse, self.draws, self.centre, self.img])
        self.fig = fig

    def show(self, k: int) -> None:
        t = self.table
        mu, sigma = _np(t.mu[k]), np.exp(0.5 * _np(t.log_var[k]))
        self.ellipse.set_center(mu)
        self.ellipse.width, self.ellipse.height = 2 * self.n_sigma * sigma
        self.draws.set_offsets(_np(t.z[k]))
        self.centre.set_offsets(mu[None])
        self.img.set_data(_tile(np.concatenate([_np(t.x[k])[None], _np(t.x_draws[k])]), self.ncols))

    def png(self) -> bytes:
        return self.blit.png()


def _tile(images, ncols: int, pad: int = 1) -> np.ndarray:
    """8×8 images (N, 64) tiled row by row into one array, NaN (drawn white) between and after them."""
    imgs = _np(images).reshape(len(images), 8, 8)
    nrows = -(-len(imgs) // ncols)
    canvas = np.full((nrows * (8 + pad) - pad, ncols * (8 + pad) - pad), np.nan)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        canvas[r * (8 + pad):r * (8 + pad) + 8, c * (8 + pad):c * (8 + pad) + 8] = img
    return canvas


def plot_per_sample_flow(x, mu, log_var, z, x_hat) -> Figure:
    """Notebook 01's six-sample picture redrawn the VAE way: X_k → N(mu_k, σ_k²) → Z_k → X̂_k = g(Z_k).

    x, x_hat: (K, 64) images; mu, log_var, z: (K, 2). Top row the data, middle the posteriors (1σ
    ellipses) with one draw Z_k each, bottom row the decodings, column k belonging to X_k.
    """
    x, mu, sigma, z, x_hat = _np(x), _np(mu), np.exp(0.5 * _np(log_var)), _np(z), _np(x_hat)
    k = len(x)
    if not (mu.shape == sigma.shape == z.shape == (k, 2) and x_hat.shape[0] == k):
        raise ValueError(f"expected x, x_hat (K, 64) and mu, log_var, z (K, 2) with the same K; got {x.shape}, "
                         f"{mu.shape}, {sigma.shape}, {z.shape}, {x_hat.shape}.")
    fig = plt.figure(figsize=(1.3 * k + 1.0, 6.4), layout="constrained")
    grid = fig.add_gridspec(3, k, height_ratios=[1, 1.8, 1])
    ax_z = fig.add_subplot(grid[1, :])
    colors = [plt.get_cmap("Dark2")(i % 8) for i in range(k)]
    _ellipse_collection(mu, sigma, [(*c[:3], 0.25) for c in colors], 1.0, ax_z, edgecolors=colors)
    ax_z.scatter(z[:, 0], z[:, 1], color=colors, marker="x", zorder=3)
    for i, (a, b) in enumerate(z):
        ax_z.annotate(f"$Z_{i + 1}$", (a, b), textcoords="offset points", xytext=(5, 4), fontsize="small")
    _posterior_limits(np.concatenate([mu, z]), np.concatenate([sigma, 0 * sigma]), 1.3, ax_z)
    ax_z.set(title=r"$Z_k \sim \mathcal{N}(\mu_k, \sigma_k^2)$, drawn for $X_k$ ($1\sigma$ ellipses)",
             xlabel="$z_1$", ylabel="$z_2$")
    for row, imgs, name in ((0, x, "data $X_{%d}$"), (2, x_hat, r"$\hat X_{%d} = g(Z_{%d})$")):
        for i in range(k):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(imgs[i].reshape(8, 8), **IMAGE_KW)
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set(visible=True, color=colors[i], lw=3)
            ax.set_title(name % ((i + 1,) if row == 0 else (i + 1, i + 1)), fontsize="small")
    fig.suptitle("Each $X_k$ gets its own normal: $\\hat X_k$ has its partner by construction")
    return fig
