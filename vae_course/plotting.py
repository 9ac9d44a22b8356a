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


# ---------------------------------------------------------------- notebook 06: training and browsing a VAE

def plot_loss_terms(history, term: str = "rec", *, ax: Axes | None = None, title: str = "") -> Axes:
    """One term of a `training.History` per epoch, training and validation: term 'rec', 'kl' or 'loss'.

    Marks the best (kept) epoch. Values are nats per example.
    """
    if term not in ("rec", "kl", "loss"):
        raise ValueError(f"term must be 'rec', 'kl' or 'loss', got {term!r}.")
    ax = _ax(ax)
    epochs = np.arange(1, len(getattr(history, f"train_{term}")) + 1)
    ax.plot(epochs, getattr(history, f"train_{term}"), color=COLORS["density"], label="training")
    ax.plot(epochs, getattr(history, f"val_{term}"), color=COLORS["target"], label="validation")
    ax.axvline(history.best_epoch + 1, color="0.5", ls=":", label="best validation epoch (kept)")
    names = {"rec": r"reconstruction $-\mathbb{E}_q \log p(x|z)$", "kl": r"KL$(q(z|x)\,\|\,p(z))$",
             "loss": r"$-$ELBO"}
    ax.set(title=title or names[term], xlabel="epoch", ylabel=f"{names[term]}\n(nats per digit)")
    ax.legend(fontsize="small")
    return ax


def plot_nll_estimates(estimates: dict, baselines: dict | None = None, *, ax: Axes | None = None,
                       title: str = "") -> Axes:
    """Importance-sampled −log p(x) estimates {K: nats} on a log-K axis, with horizontal baselines."""
    ax = _ax(ax)
    ks = np.array(sorted(estimates))
    ax.plot(ks, [estimates[k] for k in ks], "o-", color=COLORS["density"], label=r"VAE: $-\mathcal{L}_K$")
    for (name, value), color in zip((baselines or {}).items(), (COLORS["target"], COLORS["data"], "0.5")):
        ax.axhline(value, color=color, ls="--", label=f"{name}: {value:.1f}")
    ax.set_xscale("log")
    ax.set(title=title, xlabel="K (importance samples per digit)", ylabel=r"$-\log p(x)$ estimate (nats)")
    ax.legend(fontsize="small")
    return ax


class InterpolationFigure:
    """The interpolation explorer's picture: digit A, the decoding of z(t), digit B, and where z(t) is.

    draw(x_a, x_t, x_b, t, title) updates the three images and the marker in place; png() → bytes.
    """

    def __init__(self, figsize=(6.4, 2.3), dpi=90):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.02, right=0.98, top=0.78, bottom=0.2, wspace=0.15)
        axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.6]})
        blank = np.zeros((8, 8))
        self.images = []
        for ax, name in zip(axes[:3], ("digit A", "decoded z(t)", "digit B")):
            self.images.append(ax.imshow(blank, **IMAGE_KW))
            ax.set(xticks=[], yticks=[], title=name)
        self.t_ax = axes[3]
        self.t_ax.set(xlim=(0, 1), ylim=(-0.5, 0.5), yticks=[], xlabel="t", title="z(t) on the path A → B")
        self.t_ax.plot([0, 1], [0, 0], color="0.7")
        (self.marker,) = self.t_ax.plot([0], [0], "o", color=COLORS["target"], ms=10)
        self.suptitle = fig.suptitle("")
        self.fig = fig
        self.blit = BlitFigure(fig, self.images + [self.marker, self.suptitle])

    def draw(self, x_a, x_t, x_b, t: float, title: str) -> None:
        for image, x in zip(self.images, (x_a, x_t, x_b)):
            image.set_data(_np(x).reshape(8, 8))
        self.marker.set_xdata([t])
        self.suptitle.set_text(title)

    def png(self) -> bytes:
        return self.blit.png()


def plot_latent_grid(images, extent: float, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Decoded digits on an n×n grid of z ∈ [−extent, extent]²: images (n·n, 64), rows from z₂ high
    to low, columns z₁ low to high (as `evaluation.latent_grid_codes` orders them)."""
    imgs = _np(images)
    n = int(round(len(imgs) ** 0.5))
    if n < 2 or n * n != len(imgs):
        raise ValueError(f"images must hold a square number (≥ 4) of digits, got {len(imgs)}.")
    canvas = np.full((n, 9, n, 9), np.nan)  # a one-pixel white gap after every tile
    canvas[:, :8, :, :8] = imgs.reshape(n, n, 8, 8).transpose(0, 2, 1, 3)
    canvas = canvas.reshape(9 * n, 9 * n)[:-1, :-1]
    ax = _ax(ax, figsize=(5.2, 5.2))
    edge = extent * n / (n - 1)  # grid codes sit at the centres of the tiles
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    ax.imshow(canvas, **{**IMAGE_KW, "cmap": cmap, "extent": (-edge, edge, -edge, edge)})
    ax.grid(False)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$")
    return ax


def plot_codes(codes, labels, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Latent codes (N, 2) as points coloured by their digit label (N,), with a legend."""
    c, lab = _np(codes), _np(labels)
    ax = _ax(ax, figsize=(5.2, 5.2))
    sc = ax.scatter(c[:, 0], c[:, 1], c=lab, cmap="tab10", vmin=-0.5, vmax=9.5, s=8, alpha=0.8)
    ax.legend(*sc.legend_elements(), title="digit", fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", aspect="equal")
    return ax


class LatentGridFigure:
    """The latent-grid explorer's picture: the decoded grid with a marker at z, and the digit at z."""

    def __init__(self, grid_images, extent: float, figsize=(7.0, 3.8), dpi=90):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.13, wspace=0.25)
        ax_grid, ax_img = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        ax_img.grid(False)
        plot_latent_grid(grid_images, extent, ax=ax_grid, title="decoded grid of codes")
        (self.marker,) = ax_grid.plot([0], [0], "+", color=COLORS["target"], ms=18, mew=3)
        self.image = ax_img.imshow(np.zeros((8, 8)), **IMAGE_KW)
        ax_img.set(xticks=[], yticks=[], title="decoded at z")
        self.suptitle = fig.suptitle("")
        self.fig = fig
        self.blit = BlitFigure(fig, [self.marker, self.image, self.suptitle])

    def draw(self, z, x, title: str) -> None:
        z = _np(z).reshape(-1)
        self.marker.set_data([z[0]], [z[1]])
        self.image.set_data(_np(x).reshape(8, 8))
        self.suptitle.set_text(title)

    def png(self) -> bytes:
        return self.blit.png()
