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
                        masses=(0.5, 0.9), legend: bool = True) -> Axes:
    """The exact posterior p(z|x) (blue: filled regions and solid lines) against the encoder's q(z|x)
    (orange, dashed) for one digit, both given as normalized log densities (n, n) on the grid ticks (n,)
    ([i, j] at z = (ticks[i], ticks[j])). Each density's contours enclose the shares `masses` of its own
    mass (`figures.mass_levels`), so a wider or shifted q shows as a wider or shifted orange ring; a cross
    marks each one's peak. Equal aspect; the view is a square cut to where either has mass; the legend
    sits under the axes (legend=False leaves it out, for a figure-wide one: `posterior_vs_q_legend`)."""
    from ..figures import mass_levels

    ticks = as_numpy(ticks)
    cell = float(ticks[1] - ticks[0]) ** 2
    post, q = np.exp(as_numpy(log_post)), np.exp(as_numpy(log_q))
    ax = ax_or_new(ax, figsize=(3.4, 3.8))
    shares = sorted(masses, reverse=True)
    lp, lq = mass_levels(post, shares, cell), mass_levels(q, shares, cell)
    ax.contourf(ticks, ticks, post.T, levels=[*lp, post.max() * 1.0001], colors=["#c6dbef", "#6baed6"][-len(lp):])
    ax.contour(ticks, ticks, post.T, levels=lp, colors="#08519c", linewidths=1.2)
    ax.contour(ticks, ticks, q.T, levels=lq, colors=COLORS["target"], linewidths=2.0, linestyles="--")
    for density, color in ((post, "#08519c"), (q, COLORS["target"])):
        i, j = np.unravel_index(np.argmax(density), density.shape)
        ax.plot(ticks[i], ticks[j], "+", color=color, ms=11, mew=2)
    keep = (post > post.max() * 1e-2) | (q > q.max() * 1e-2)
    i, j = np.nonzero(keep)
    lo1, hi1, lo2, hi2 = ticks[i.min()], ticks[i.max()], ticks[j.min()], ticks[j.max()]
    half = max(hi1 - lo1, hi2 - lo2, 4 * (ticks[1] - ticks[0])) / 2 * 1.2
    ax.set(xlim=((lo1 + hi1) / 2 - half, (lo1 + hi1) / 2 + half), ylim=((lo2 + hi2) / 2 - half, (lo2 + hi2) / 2 + half),
           xlabel="$z_1$", ylabel="$z_2$", title=title)
    ax.set_aspect("equal", adjustable="box")
    if legend:
        ax.legend(handles=posterior_vs_q_legend(masses), loc="upper center",
                  bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    return ax


def posterior_vs_q_legend(masses=(0.5, 0.9)) -> list:
    """The legend handles of `plot_posterior_vs_q`: the exact posterior, the encoder's q, the peaks."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shares = " and ".join(f"{m:.0%}" for m in sorted(masses))
    return [Patch(facecolor="#6baed6", edgecolor="#08519c", label=f"exact p(z|x): regions holding {shares} of its mass"),
            Line2D([], [], color=COLORS["target"], lw=2, ls="--", label="encoder q(z|x): the same for q"),
            Line2D([], [], color="0.3", marker="+", ls="", ms=10, mew=2, label="each one's peak")]


def plot_kl_dimensions(summary, *, ax: Axes | None = None, title: str = "") -> Axes:
    """Bars of the mean KL(q(z_l|x) ‖ p(z_l)) of each latent dimension l (a `compute.KLDimensions`), the
    active ones (above the threshold, a dotted line) in colour, the others grey; the legend counts them.
    Log scale from 10⁻³ nats (smaller values are drawn at 10⁻³), so the near-zero ones stay visible."""
    kl, active = np.maximum(as_numpy(summary.kl), 1e-3), as_numpy(summary.active).astype(bool)
    ax = ax_or_new(ax, figsize=(5.4, 3.4))
    dims = np.arange(1, len(kl) + 1)
    ax.bar(dims[active], kl[active], color=COLORS["density"], label=f"active: {active.sum()} of {len(kl)}")
    ax.bar(dims[~active], kl[~active], color="0.7", label=f"≈ prior: {(~active).sum()} of {len(kl)}")
    ax.axhline(summary.threshold, color="0.2", ls=":", lw=1.5, label=f"threshold {summary.threshold:g} nats")
    ax.set(title=title or f"KL per latent dimension: {active.sum()} of {len(kl)} carry information",
           xlabel="latent dimension $l$", ylabel=r"mean KL$(q(z_l|x)\,\|\,p(z_l))$" + "\n(nats per digit)",
           xticks=dims, yscale="log", ylim=(1e-3, 10 ** np.ceil(np.log10(max(kl.max(), summary.threshold) * 1.5))))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
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


__all__ = ["plot_loss_terms", "plot_nll_estimates", "plot_posterior_vs_q", "posterior_vs_q_legend", "plot_kl_dimensions", "InterpolationFigure", "plot_latent_grid", "LatentGridFigure"]
