"""Notebook 06's figures: the loss terms per epoch, the estimates against K beside the baselines,
the interpolation and latent-grid explorers' pictures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import COLORS, IMAGE_KW, BlitFigure, as_numpy, ax_or_new


def plot_loss_terms(history, term: str = "rec", *, ax: Axes | None = None, title: str = "") -> Axes:
    """One term of a `training.History` per epoch, training and validation: term 'rec', 'kl' or 'loss'.

    Marks the best (kept) epoch. Values are nats per example.
    """
    if term not in ("rec", "kl", "loss"):
        raise ValueError(f"term must be 'rec', 'kl' or 'loss', got {term!r}.")
    ax = ax_or_new(ax)
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
    ax = ax_or_new(ax)
    ks = np.array(sorted(estimates))
    ax.plot(ks, [estimates[k] for k in ks], "o-", color=COLORS["density"], label=r"VAE: $-\mathcal{L}_K$")
    for (name, value), color in zip((baselines or {}).items(), (COLORS["target"], COLORS["data"], "0.5")):
        ax.axhline(value, color=color, ls="--", label=f"{name}: {value:.1f}")
    ax.set_xscale("log")
    ax.set(title=title, xlabel="K (importance samples per digit)", ylabel=r"$-\log p(x)$ estimate (nats)")
    ax.legend(fontsize="small")
    return ax


def plot_posterior_vs_q(ticks, log_post, log_q, *, ax: Axes | None = None, title: str = "",
                        levels=(0.1, 0.5, 0.9)) -> Axes:
    """Contours of the exact posterior p(z|x) (filled) and of the encoder's q(z|x) (lines) for one digit,
    both given as log densities (n, n) on the grid ticks (n,) ([i, j] at z = (ticks[i], ticks[j])); the
    contours are at `levels` × each density's peak, and the view is cut to where either has mass."""
    ticks = as_numpy(ticks)
    post, q = np.exp(as_numpy(log_post) - as_numpy(log_post).max()), np.exp(as_numpy(log_q) - as_numpy(log_q).max())
    ax = ax_or_new(ax, figsize=(3.2, 3.2))
    ax.contourf(ticks, ticks, post.T, levels=[*levels, 1.0001], cmap="Blues", alpha=0.8)
    ax.contour(ticks, ticks, q.T, levels=list(levels), colors=COLORS["target"], linewidths=1.4)
    keep = (post > 1e-3) | (q > 1e-3)
    i, j = np.nonzero(keep)
    lo1, hi1, lo2, hi2 = ticks[i.min()], ticks[i.max()], ticks[j.min()], ticks[j.max()]
    half = max(hi1 - lo1, hi2 - lo2) / 2 * 1.15
    ax.set(xlim=((lo1 + hi1) / 2 - half, (lo1 + hi1) / 2 + half), ylim=((lo2 + hi2) / 2 - half, (lo2 + hi2) / 2 + half),
           xlabel="$z_1$", ylabel="$z_2$", title=title)
    ax.set_aspect("equal")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=plt.get_cmap("Blues")(0.6), label="exact p(z|x)"),
                       Line2D([], [], color=COLORS["target"], label="encoder q(z|x)")], fontsize="small", loc="upper left")
    return ax


class InterpolationFigure:
    """The interpolation explorer's picture: digit A, the decoding of z(t), digit B (top), and the whole
    path A → B decoded at `steps` evenly spaced t (bottom), with a frame on the step nearest to t.

    draw(x_a, x_hat, x_b, path, t, title) updates the images and the frame in place; path: (steps, 64)
    decodings at t = 0, 1/(steps − 1), …, 1. png() → bytes.
    """

    def __init__(self, steps: int = 11, figsize=(7.2, 3.9), dpi=90):
        from matplotlib.patches import Rectangle

        from ..figures import tile_images

        self.steps = steps
        fig = Figure(figsize=figsize, dpi=dpi)
        grid = fig.add_gridspec(2, 3, height_ratios=[2.1, 1], left=0.02, right=0.98, top=0.84, bottom=0.03,
                                hspace=0.42, wspace=0.25)
        blank = np.zeros((8, 8))
        self.images = []
        for k, name in enumerate(("digit A", "decoded z(t)", "digit B")):
            ax = fig.add_subplot(grid[0, k])
            self.images.append(ax.imshow(blank, **IMAGE_KW))
            self.images[-1].vc_tile_px = 8
            ax.set(xticks=[], yticks=[], title=name)
        self.path_ax = fig.add_subplot(grid[1, :])
        cmap = plt.get_cmap("gray").with_extremes(bad="white")
        self.path = self.path_ax.imshow(tile_images(np.zeros((steps, 64)), steps), **{**IMAGE_KW, "cmap": cmap})
        self.path.vc_tile_px = 9
        self.path_ax.set(xticks=[], yticks=[], title=f"the whole path, t = 0, {1 / (steps - 1):.1f}, …, 1 "
                                                    "(frame: the step nearest t)")
        self.frame = Rectangle((-0.5, -0.5), 8, 8, fill=False, edgecolor=COLORS["target"], lw=2.5, clip_on=False)
        self.path_ax.add_patch(self.frame)
        self.suptitle = fig.suptitle("")
        self.fig = fig
        self.blit = BlitFigure(fig, self.images + [self.path, self.frame, self.suptitle])

    def draw(self, x_a, x_hat, x_b, path, t: float, title: str) -> None:
        from ..figures import tile_images

        for image, x in zip(self.images, (x_a, x_hat, x_b)):
            image.set_data(as_numpy(x).reshape(8, 8))
        self.path.set_data(tile_images(path, self.steps))
        self.frame.set_x(round(t * (self.steps - 1)) * 9 - 0.5)
        self.suptitle.set_text(title)

    def png(self) -> bytes:
        return self.blit.png()


def plot_latent_grid(images, extent: float, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Decoded digits on an n×n grid of z ∈ [−extent, extent]²: images (n·n, 64), rows from z₂ high
    to low, columns z₁ low to high (as `compute.latent_grid_codes` orders them)."""
    imgs = as_numpy(images)
    n = int(round(len(imgs) ** 0.5))
    if n < 2 or n * n != len(imgs):
        raise ValueError(f"images must hold a square number (≥ 4) of digits, got {len(imgs)}.")
    canvas = np.full((n, 9, n, 9), np.nan)  # a one-pixel white gap after every tile
    canvas[:, :8, :, :8] = imgs.reshape(n, n, 8, 8).transpose(0, 2, 1, 3)
    canvas = canvas.reshape(9 * n, 9 * n)[:-1, :-1]
    ax = ax_or_new(ax, figsize=(5.2, 5.2))
    edge = extent * n / (n - 1)  # grid codes sit at the centres of the tiles
    cmap = plt.get_cmap("gray").with_extremes(bad="white")
    shown = ax.imshow(canvas, **{**IMAGE_KW, "cmap": cmap, "extent": (-edge, edge, -edge, edge)})
    shown.vc_tile_px = 9  # for `figures.legibility_problems`: a digit is 8 of the canvas's pixels, 9 with its gap
    ax.grid(False)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$")
    return ax


class LatentGridFigure:
    """The latent-grid explorer's picture: the decoded grid with a marker at z, and the digit at z."""

    def __init__(self, grid_images, extent: float, figsize=(9.8, 6.1), dpi=90):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.1, wspace=0.2)
        ax_grid, ax_img = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        ax_img.grid(False)
        plot_latent_grid(grid_images, extent, ax=ax_grid, title="decoded grid of codes")
        (self.marker,) = ax_grid.plot([0], [0], "+", color=COLORS["target"], ms=18, mew=3)
        self.image = ax_img.imshow(np.zeros((8, 8)), **IMAGE_KW)
        self.image.vc_tile_px = 8
        ax_img.set(xticks=[], yticks=[], title="decoded at z")
        self.suptitle = fig.suptitle("")
        self.fig = fig
        self.blit = BlitFigure(fig, [self.marker, self.image, self.suptitle])

    def draw(self, z, x, title: str) -> None:
        z = as_numpy(z).reshape(-1)
        self.marker.set_data([z[0]], [z[1]])
        self.image.set_data(as_numpy(x).reshape(8, 8))
        self.suptitle.set_text(title)

    def png(self) -> bytes:
        return self.blit.png()


__all__ = ["plot_loss_terms", "plot_nll_estimates", "plot_posterior_vs_q", "InterpolationFigure", "plot_latent_grid", "LatentGridFigure"]
