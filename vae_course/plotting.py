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

    def __init__(self, summary: PushforwardSummary, target_label: str, figsize=(7.2, 3.4), dpi=100,
                 xlabel: str = "$x = g(z)$", hist_label: str | None = None,
                 density_label: str = "change-of-variables density $p_X$"):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14)
        ax = self.ax = fig.add_subplot()
        edges, grid = _np(summary.edges), _np(summary.grid)
        self.hist = ax.stairs(_np(summary.heights), edges, fill=True, color=COLORS["samples"],
                              label=f"histogram of g(Z), {len(summary.samples):,} draws")
        (self.line,) = ax.plot(grid, _np(summary.density), color=COLORS["density"], lw=2, label=density_label)
        (self.target,) = ax.plot(grid, _np(summary.target_density), color=COLORS["target"], lw=2,
                                 ls="--", label=f"target: {target_label}")
        ax.set(xlim=(edges[0], edges[-1]), ylim=(0, 1), xlabel=xlabel, ylabel="density")
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


# ---------------------------------------------------------------- notebook 02: latent variable models

def plot_density_2d(x1, x2, density, *, ax: Axes | None = None, points=None, title: str = "",
                    label: str = "$p(x)$") -> Axes:
    """A density on the grid x1 (W,) × x2 (H,), `density` (H, W), as an image; optional points (N, 2) on top."""
    ax = _ax(ax, figsize=(6.4, 3.6))
    x1, x2, density = _np(x1), _np(x2), _np(density)
    mesh = ax.pcolormesh(x1, x2, density, shading="nearest", cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if points is not None:
        points = _np(points)
        ax.scatter(points[:, 0], points[:, 1], s=4, color="white", alpha=0.6, label=f"{len(points):,} samples")
        ax.legend(loc="lower right", fontsize="small", labelcolor="white")
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return ax


def plot_prior_posterior(z, prior, post, *, ax: Axes | None = None, z_draws=None, w=None, title: str = "") -> Axes:
    """The prior p(z) and the posterior p(z|x) over the grid z; optional prior draws (K,) as a rug,
    drawn taller and darker the more normalised weight w (K,) they carry."""
    ax = _ax(ax)
    z = _np(z)
    ax.plot(z, _np(prior), color=COLORS["target"], lw=2, ls="--", label="prior $p(z)$")
    ax.plot(z, _np(post), color=COLORS["density"], lw=2, label=r"posterior $p(z \mid x) \propto p(x \mid z)\,p(z)$")
    if z_draws is not None:
        top = float(np.max(_np(post)))
        heights = 0.04 * top + (0.0 if w is None else 0.5 * top * _np(w) / max(float(np.max(_np(w))), 1e-300))
        ax.vlines(_np(z_draws), 0, heights, color="0.3", lw=0.8,
                  label=f"{len(z_draws)} draws from the prior (height = weight)")
    ax.set(title=title, xlabel="$z$", ylabel="density")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_estimate_spread(estimates: dict, exact: dict, *, ax: Axes | None = None, title: str = "",
                         xlabel: str = "data dimension $D$") -> Axes:
    """Box plots of repeated estimates minus the exact value, one box per setting {name: (R,)}."""
    ax = _ax(ax)
    names = list(estimates)
    errors = [_np(estimates[n]) - float(exact[n]) for n in names]
    ax.boxplot(errors, tick_labels=[str(n) for n in names], showfliers=True)
    ax.axhline(0.0, color=COLORS["target"], lw=1.5, ls="--", label="exact (quadrature)")
    ax.set(title=title, xlabel=xlabel, ylabel=r"estimate $-$ exact $\log p(x)$")
    ax.legend(loc="lower left", fontsize="small")
    return ax


class LatentFigure:
    """The latent explorer's picture: left, the data plane with the curve, the chosen x and where
    the prior draws land, g(z_k), sized by weight; right, p(z) and p(z|x) over z with the draws.

    draw(summary, draws_xy, title) updates in place (draws_xy (K, 2) = g(z_k)); png() returns PNG bytes.
    """

    def __init__(self, summary, draws_xy, curve_xy, data, figsize=(10.0, 3.8), dpi=80):
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.06, right=0.98, top=0.88, bottom=0.14, wspace=0.22)
        self.ax_x, self.ax_z = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        data = _np(data)
        self.ax_x.scatter(data[:, 0], data[:, 1], s=3, color=COLORS["samples"], label="data")
        z = _np(summary.z)
        self.ax_x.plot(*_np(curve_xy).T, color="0.6", lw=1, label="curve $g(z)$")
        self.draws = self.ax_x.scatter(*np.zeros((2, len(summary.z_draws))), s=4, color="0.3",
                                       label="$g(z_k)$, size = weight")
        (self.point,) = self.ax_x.plot([], [], "*", ms=14, color=COLORS["target"], mec="k", label="$x$")
        self.ax_x.set(xlim=(-3.2, 3.2), ylim=(-1.9, 1.9), xlabel="$x_1$", ylabel="$x_2$",
                      title="data plane: where the prior draws land")
        self.ax_x.legend(loc="lower right", fontsize="x-small", ncols=2)
        self.ax_z.plot(z, _np(summary.prior), color=COLORS["target"], lw=2, ls="--", label="prior $p(z)$")
        (self.post,) = self.ax_z.plot(z, _np(summary.post), color=COLORS["density"], lw=2,
                                      label=r"$p(z \mid x) \propto p(x \mid z)\,p(z)$")
        self.rug = self.ax_z.vlines(np.zeros(len(summary.z_draws)), 0, 0, color="0.3", lw=0.8,
                                    label="prior draws $z_k$ (height = weight)")
        self.ax_z.set(xlim=(z[0] / 1.5, z[-1] / 1.5), ylim=(0, 1), xlabel="$z$", ylabel="density")
        self.ax_z.legend(loc="upper left", fontsize="x-small")
        self.blit = BlitFigure(fig, [self.draws, self.point, self.post, self.rug, self.ax_z.title])
        self.fig = fig
        self.draw(summary, draws_xy)

    def draw(self, s, draws_xy, title: str = "") -> None:
        x, w = _np(s.x), _np(s.w)
        self.point.set_data([x[0]], [x[1]])
        self.draws.set_offsets(_np(draws_xy))
        self.draws.set_sizes(2 + 120 * w / max(w.max(), 1e-300))
        self.post.set_ydata(_np(s.post))
        top = self.ax_z.get_ylim()[1]
        need = 1.15 * max(float(_np(s.post).max()), 7.0)  # peaks on the curve are 4–9: the axis rarely moves
        if need > top or need < 0.5 * top:
            self.ax_z.set_ylim(0, _nice_top(need))
            self.blit.invalidate()
        top = self.ax_z.get_ylim()[1]
        zd = _np(s.z_draws)
        self.rug.set_segments([[(a, 0), (a, 0.02 * top + 0.6 * top * b / max(w.max(), 1e-300))] for a, b in zip(zd, w)])
        self.ax_z.set_title(title)

    def png(self) -> bytes:
        return self.blit.png()
# ---------------------------------------------------------------- notebook 04: the pull toward N(0, I)

#: Radii of circles holding 39%, 86% and 99% of N(0, I) in two dimensions (P(|z| < r) = 1 − e^(−r²/2)).
PRIOR_RADII = (1.0, 2.0, 3.0)


def _prior_circles(ax: Axes) -> None:
    t = np.linspace(0, 2 * np.pi, 200)
    for i, r in enumerate(PRIOR_RADII):
        ax.plot(r * np.cos(t), r * np.sin(t), color=COLORS["target"], lw=1.2, ls="--",
                label=r"$\mathcal{N}(0, I)$: 39 / 86 / 99% circles" if i == 0 else None)


def _latent_lim(points) -> float:
    return float(max(4.0, np.ceil(np.quantile(np.abs(_np(points)), 0.995))))


def plot_kl_landscape(mu, log_var, kl, *, ax: Axes | None = None,
                      title: str = "KL to N(0, 1) grows as μ leaves 0 and as log σ² leaves 0") -> Axes:
    """Contours of kl (n_lv, n_mu) over the grid mu (n_mu,) × log_var (n_lv,), with its minimum marked."""
    ax = _ax(ax, figsize=(5.5, 4))
    filled = ax.contourf(_np(mu), _np(log_var), _np(kl), levels=np.arange(0, float(np.max(_np(kl))) + 0.5, 0.5),
                         cmap="viridis")
    lines = ax.contour(_np(mu), _np(log_var), _np(kl), levels=[0.5, 1, 2, 4, 8], colors="white", linewidths=0.8)
    ax.clabel(lines, fmt="%g", fontsize="x-small")
    ax.plot([0], [0], marker="*", color=COLORS["target"], ms=12, ls="", label="minimum: μ = 0, σ² = 1")
    ax.figure.colorbar(filled, ax=ax, label="KL (nats)")
    ax.set(title=title, xlabel=r"$\mu$", ylabel=r"$\log \sigma^2$")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_codes(mu, labels, *, ax: Axes | None = None, title: str = "", lim: float | None = None) -> Axes:
    """Posterior means mu (N, 2) coloured by digit label (N,), over the N(0, I) circles."""
    mu, labels = _np(mu), _np(labels)
    ax = _ax(ax, figsize=(4, 4))
    lim = lim or _latent_lim(mu)
    points = ax.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=6)
    _prior_circles(ax)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.figure.colorbar(points, ax=ax, ticks=range(10), label="digit", shrink=0.8)
    return ax


def plot_aggregate_posterior(pooled, *, ax: Axes | None = None, title: str = "", lim: float | None = None,
                             bins: int = 40) -> Axes:
    """A 2-D histogram of pooled draws (M, 2) of the aggregate posterior, under the N(0, I) circles."""
    pooled = _np(pooled)
    ax = _ax(ax, figsize=(4, 4))
    lim = lim or _latent_lim(pooled)
    ax.hist2d(pooled[:, 0], pooled[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]], cmap="Blues", cmin=1,
              vmin=0)
    _prior_circles(ax)
    ax.set(title=title, xlabel="$z_1$", ylabel="$z_2$", xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax.legend(loc="upper right", fontsize="x-small")
    return ax


def plot_latent_summary(s, fig: Figure | None = None) -> Figure:
    """One model of notebook 04 in four panels: codes μ(x), aggregate posterior beside N(0, I),
    reconstructions, decoded prior draws. `s` is a `vae_course.prior_match.LatentSummary` (2-D latent)."""
    fig = fig or plt.figure(figsize=(13, 3.4), layout="constrained")
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
    lim = _latent_lim(s.pooled)
    plot_codes(s.mu, s.labels, ax=axes[0], lim=lim, title=f"{s.name}: codes μ(x)")
    plot_aggregate_posterior(s.pooled, ax=axes[1], lim=lim, title=f"aggregate posterior, MMD² = {s.mmd:.3f}")
    pairs = np.stack([_np(s.x_show), _np(s.x_rec)], axis=1).reshape(-1, _np(s.x_show).shape[1])
    image_grid(pairs, 4, ax=axes[2], title=f"pairs: data | reconstruction\n−log p(x|z) = {s.rec:.1f} nats")
    image_grid(s.prior_samples, int(np.ceil(np.sqrt(len(s.prior_samples)))), ax=axes[3],
               title=f"decoded z ~ N(0, I)\nKL = {s.kl:.2f} nats")
    return fig


def plot_kl_per_dimension(kl_dims: dict, *, ax: Axes | None = None, threshold: float = 0.01,
                          title: str = "Collapsed dimensions carry (almost) 0 nats") -> Axes:
    """Grouped bars of the mean KL per latent dimension, {model name: (L,) tensor}, log scale."""
    ax = _ax(ax, figsize=(7, 3.4))
    width = 0.8 / len(kl_dims)
    for i, (name, kl) in enumerate(kl_dims.items()):
        kl = np.maximum(_np(kl), 1e-5)
        ax.bar(np.arange(len(kl)) + (i - (len(kl_dims) - 1) / 2) * width, kl, width, label=name)
    ax.axhline(threshold, color="0.3", ls=":", lw=1, label=f"{threshold} nats")
    ax.set(yscale="log", title=title, xlabel="latent dimension $j$", ylabel="mean KL of dimension $j$ (nats)",
           xticks=range(max(len(k) for k in kl_dims.values())))
    ax.legend(fontsize="small")
    return ax
# ---------------------------------------------------------------- notebook 05: the reparameterization trick

#: y-limits of the objective panel, per objective of `vae_course.gradients.OBJECTIVES`.
OBJECTIVE_YLIM = {"(z − t)²": (-2.0, 50.0), "|z − t|": (-0.3, 7.5), "step 1[z > t]": (-0.15, 1.2)}


class ReparamFigure:
    """The reparameterization explorer's picture, four panels updated in place (`BlitFigure`).

    Top left: the fixed eps_i (bottom row) and z_i = mu + sigma·eps_i (top row), one colour per
    sample, joined by a segment, under the density of N(mu, sigma²). Top right: f(z) with the same
    samples on it and their tangents (the pathwise estimator uses the slopes, the score-function
    estimator the heights). Bottom: the R batch estimates of d/d mu and d/d sigma of E[f(z)] from
    both estimators, their mean ± sd, and the exact value.
    draw(summary) updates the artists; png() returns PNG bytes.
    """

    ROWS = {"pathwise": 1.0, "score": 0.0}
    NAMES = {"pathwise": "pathwise", "score": "score function"}

    def __init__(self, summary, n_show: int = 24, figsize=(8.6, 5.5), dpi=72):
        from matplotlib.collections import LineCollection

        self.n_show = n_show
        fig = Figure(figsize=figsize, dpi=dpi)
        fig.subplots_adjust(left=0.11, right=0.98, top=0.93, bottom=0.1, hspace=0.45, wspace=0.24)
        ax_move, ax_f, ax_mu, ax_sigma = (fig.add_subplot(2, 2, k) for k in (1, 2, 3, 4))
        self.axes = {"move": ax_move, "f": ax_f, "mu": ax_mu, "sigma": ax_sigma}
        eps = _np(summary.eps[0, :n_show])
        colors = plt.get_cmap("viridis")((np.clip(eps, -2.5, 2.5) + 2.5) / 5)
        self.grid = np.linspace(-6, 6, 481)
        ax_move.scatter(eps, np.zeros_like(eps), c=colors, s=28, zorder=3)
        self.segments = LineCollection([], colors=colors, lw=1, alpha=0.6)
        ax_move.add_collection(self.segments)
        self.z_dots = ax_move.scatter(eps, np.ones_like(eps), c=colors, s=28, zorder=3)
        (self.density,) = ax_move.plot(self.grid, self.grid * 0 + 1.05, color=COLORS["density"], lw=1.5)
        (self.mu_line,) = ax_move.plot([0, 0], [0.95, 1.8], color=COLORS["density"], ls=":", lw=1)
        ax_move.set(xlim=(-6, 6), ylim=(-0.3, 1.85), xlabel="value", yticks=[0, 1],
                    yticklabels=["ε ~ N(0, 1)\n(fixed)", "z = μ + σε"])
        ax_move.grid(False)
        ax_move.set_title("The same ε, shifted by μ, stretched by σ", fontsize=10)
        (self.f_line,) = ax_f.plot(self.grid, self.grid * 0, color=COLORS["target"], lw=2, label="f(z)")
        self.f_dots = ax_f.scatter(eps, eps * 0, c=colors, s=24, zorder=3)
        self.tangents = LineCollection([], colors=colors, lw=2)
        ax_f.add_collection(self.tangents)
        ax_f.axvline(summary.t, color="0.5", lw=1, ls="--")
        ax_f.set(xlim=(-6, 6), xlabel="$z$", ylabel="$f(z)$")
        self.spread = {}
        jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(summary.pathwise))
        for p, ax in (("mu", ax_mu), ("sigma", ax_sigma)):
            art = {"jitter": jitter}
            for which, y in self.ROWS.items():
                color = COLORS["density"] if which == "pathwise" else COLORS["target"]
                art[which] = ax.scatter(jitter * 0, y + jitter, s=6, color=color, alpha=0.35)
                (art[which + "_bar"],) = ax.plot([0, 0], [y, y], color=color, lw=4, solid_capstyle="butt")
                (art[which + "_mean"],) = ax.plot([0], [y], "|", color="black", ms=18, mew=2)
            (art["exact"],) = ax.plot([0, 0], [-0.5, 1.5], color="black", ls="--", lw=1.5, label="exact")
            ax.set(ylim=(-0.5, 1.5), yticks=[0, 1], yticklabels=["score\nfunction", "pathwise"], xlim=(-1, 1),
                   xlabel=r"estimate of $\partial E[f(z)]/\partial\mu$" if p == "mu"
                   else r"estimate of $\partial E[f(z)]/\partial\sigma$")
            ax.legend(loc="upper right", fontsize="small")
            self.spread[p] = art
        dynamic = [self.segments, self.z_dots, self.density, self.mu_line, self.f_line, self.f_dots, self.tangents]
        dynamic += [a for art in self.spread.values() for k, a in art.items() if k != "jitter"]
        self.blit = BlitFigure(fig, dynamic)
        self.fig, self._objective, self._static = fig, None, None
        self.draw(summary)

    def draw(self, s) -> None:
        k = self.n_show
        eps, z = _np(s.eps[0, :k]), _np(s.z[0, :k])
        f, df = _np(s.f[0, :k]), _np(s.df[0, :k])
        ax = self.axes
        self.segments.set_segments([[(e, 0.04), (zz, 0.96)] for e, zz in zip(eps, z)])
        self.z_dots.set_offsets(np.c_[z, np.ones_like(z)])
        u = (self.grid - s.mu) / s.sigma
        self.density.set_ydata(1.05 + 0.75 * np.exp(-0.5 * u**2))
        self.mu_line.set_xdata([s.mu, s.mu])
        if s.objective != self._objective:
            import torch

            from .gradients import objective

            self._objective = s.objective
            self.f_line.set_ydata(_np(objective(s.objective, torch.as_tensor(self.grid), s.t)[0]))
            ax["f"].set_ylim(*OBJECTIVE_YLIM.get(s.objective, (-1, 10)))
            self.blit.invalidate()
        self.f_dots.set_offsets(np.c_[z, f])
        half = 0.45
        self.tangents.set_segments([[(zz - half, ff - half * d), (zz + half, ff + half * d)]
                                    for zz, ff, d in zip(z, f, df)])
        n, r = s.eps.shape[1], s.eps.shape[0]
        if (s.objective, n) != self._static:
            self._static = (s.objective, n)
            ax["f"].set_title(f"f(z) = {s.objective} and its slopes at the samples", fontsize=10)
            for p, sym in (("mu", "μ"), ("sigma", "σ")):
                ax[p].set_title(f"∂E[f]/∂{sym}: {r} batches of n = {n:,}; bar = mean ± sd", fontsize=9)
            self.blit.invalidate()
        for i, p in enumerate(("mu", "sigma")):
            art, axp = self.spread[p], ax[p]
            values = []
            for which, y in self.ROWS.items():
                est = _np(getattr(s, which)[:, i])
                mean, sd = est.mean(), est.std(ddof=1)
                art[which].set_offsets(np.c_[est, y + art["jitter"]])
                art[which + "_bar"].set_data([mean - sd, mean + sd], [y, y])
                art[which + "_mean"].set_data([mean], [y])
                values += [est.min(), est.max()]
            exact = float(s.exact[i])
            art["exact"].set_xdata([exact, exact])
            lo, hi = min(values + [exact]), max(values + [exact])
            left, right = axp.get_xlim()
            inner = 0.02 * (right - left)
            if lo < left + inner or hi > right - inner or (hi - lo) < (right - left) / 6:
                # generous margins, so that moving a slider rarely changes the axis (a full redraw)
                width = max(hi - lo, 0.02 * max(abs(lo), abs(hi)), 0.05)
                axp.set_xlim(lo - 0.75 * width, hi + 0.75 * width)
                self.blit.invalidate()

    def png(self) -> bytes:
        return self.blit.png()


def plot_estimator_sd(rows: list[dict], *, ax: Axes | None = None, title: str = "") -> Axes:
    """Log-log plot of each estimator's sd over batches against the batch size n (rows of
    `gradients.variance_table`), for d/d mu (solid) and d/d sigma (dashed), with a 1/√n guide."""
    ax = _ax(ax)
    n = np.array([r["n"] for r in rows], dtype=float)
    for key, name, color in (("path", "pathwise", COLORS["density"]), ("score", "score function", COLORS["target"])):
        for p, ls, sym in (("mu", "-", "μ"), ("sigma", "--", "σ")):
            sd = np.array([r[f"{key}_{p}_sd"] for r in rows])
            if np.all(sd > 0):
                ax.plot(n, sd, ls=ls, marker="o", color=color, label=f"{name}, ∂/∂{sym}")
    ref = max(r["score_mu_sd"] for r in rows[:1])
    ax.plot(n, ref * np.sqrt(n[0] / n), color="0.6", lw=1, ls=":", label=r"$\propto 1/\sqrt{n}$")
    ax.set(xscale="log", yscale="log", xlabel="samples per estimate $n$", ylabel="sd of the estimate",
           title=title or "Both spreads shrink like 1/√n; the gap between them stays")
    ax.legend(fontsize="small")
    return ax


def plot_same_eps(eps, settings, *, ax: Axes | None = None, title: str = "") -> Axes:
    """The same draws eps (n,) mapped to z = mu + sigma·eps for each (mu, sigma) in `settings`, one row each,
    a colour per draw; segments join each draw's position in one row to the next: the samples slide and stretch."""
    eps = _np(eps)
    ax = _ax(ax, figsize=(7, 1.0 + 0.7 * len(settings)))
    colors = plt.get_cmap("viridis")((np.clip(eps, -2.5, 2.5) + 2.5) / 5)
    ax.scatter(eps, np.zeros_like(eps), c=colors, zorder=3)
    previous = eps
    for row, (mu, sigma) in enumerate(settings, start=1):
        z = mu + sigma * eps
        for a, b, c in zip(previous, z, colors):
            ax.plot([a, b], [row - 0.94, row - 0.06], color=c, lw=0.8, alpha=0.6)
        ax.scatter(z, np.full_like(z, row), c=colors, zorder=3)
        previous = z
        ax.plot([mu], [row + 0.25], "v", color="black", ms=6)
    labels = ["ε ~ N(0, 1)"] + [f"μ = {m:g}, σ = {s:g}" for m, s in settings]
    ax.set_yticks(range(len(labels)), labels)
    ax.set(title=title or "The same ε, shifted by μ (▼) and stretched by σ", xlabel="value",
           ylim=(-0.4, len(settings) + 0.5))
    ax.grid(False, axis="y")
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
