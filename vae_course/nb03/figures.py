"""Notebook 03's figures: posterior ellipses over the latent plane, the per-sample flow x → q(z|x)
→ z → x̂, the posterior explorer's picture."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..figures import IMAGE_KW, BlitFigure, as_numpy, ax_or_new, mass_levels, tile_images

DIGIT_COLORS = plt.get_cmap("tab10").colors
MASSES = (1 - np.exp(-2.0), 1 - np.exp(-0.5))   # the 2σ and 1σ ellipses of a 2-D normal: 86% and 39%


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
    mu, sigma, labels = as_numpy(mu), np.exp(0.5 * as_numpy(log_var)), as_numpy(labels).astype(int)
    if mu.ndim != 2 or mu.shape[1] != 2 or sigma.shape != mu.shape or labels.shape != (len(mu),):
        raise ValueError(f"mu and log_var must have shape (N, 2) and labels (N,); got {mu.shape}, "
                         f"{sigma.shape}, {labels.shape}.")
    ax = ax_or_new(ax, figsize=(5.6, 4.6))
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


class PosteriorFigure:
    """The posterior explorer's picture: all ellipses (static) with the chosen one and its draws; a
    zoom on the chosen posterior (the latent plane around its mean, the same window for every digit);
    the original digit, framed on its own; and the decodings of those draws, 3 to a row (dynamic).
    show(k, show="means" or "samples") redraws; png() encodes. At 100 dpi the picture is 980 px wide,
    which fits a JupyterLab notebook's column.

    table: a `vae_course.nb03.PosteriorTable` with a 2-D latent space.
    """

    def __init__(self, table, n_sigma: float = 1.0, figsize=(9.8, 5.0), dpi=100):
        from matplotlib.lines import Line2D
        from matplotlib.patches import Ellipse, Rectangle

        self.table, self.n_sigma = table, n_sigma
        mu, sigma = as_numpy(table.mu), np.exp(0.5 * as_numpy(table.log_var))
        labels = as_numpy(table.labels).astype(int)
        fig = Figure(figsize=figsize, dpi=dpi)
        # left: every test posterior, the chosen one outlined, the zoom's window marked
        ax = self.ax = fig.add_axes([0.055, 0.1, 0.34, 0.8])
        _ellipse_collection(mu, sigma, [(*DIGIT_COLORS[d], 0.15) for d in labels], n_sigma, ax,
                            edgecolors="none")
        _posterior_limits(mu, sigma, n_sigma, ax)
        ax.set(xlabel="$z_1$", ylabel="$z_2$", aspect="equal",
               title=f"all {len(mu)} test posteriors q(z|x)\n({n_sigma:g}σ ellipses)")
        key = [Line2D([], [], ls="", marker="o", ms=8, color=DIGIT_COLORS[d], label=str(d)) for d in np.unique(labels)]
        fig.legend(handles=key, loc="center left", bbox_to_anchor=(0.39, 0.5), ncols=1, title="digit",
                   handletextpad=0.1, borderaxespad=0.2, labelspacing=0.45)
        # the zoom's half-width: 3.2 times the larger σ of all but the widest 5% of the posteriors
        self.half = float(3.2 * np.quantile(sigma.max(1), 0.95))
        self.window = ax.add_patch(Rectangle((0, 0), 2 * self.half, 2 * self.half, fill=False, lw=1.2, ls="--",
                                             color="0.3"))
        self.ellipse = ax.add_patch(Ellipse((0, 0), 1, 1, fill=False, lw=2.2, color="black"))
        n_draws = table.z.shape[1]
        self.draws = ax.scatter(np.zeros(n_draws), np.zeros(n_draws), s=22, color="black", marker="x", zorder=5)
        self.centre = ax.scatter([0], [0], s=30, color="black", zorder=6)
        # middle, below: the zoom, in coordinates relative to the chosen mean (so its ticks never change)
        zoom = self.zoom_ax = fig.add_axes([0.535, 0.1, 0.2, 0.41])
        self.others = _ellipse_collection(np.zeros_like(mu), sigma, [(*DIGIT_COLORS[d], 0.12) for d in labels],
                                          n_sigma, zoom, edgecolors=[(*DIGIT_COLORS[d], 0.5) for d in labels],
                                          linewidths=0.6)
        self.zoom_ellipses = [zoom.add_patch(Ellipse((0, 0), 1, 1, fill=False, lw=lw, color="black"))
                              for lw in (1.0, 2.2)]              # the chosen one's 2σ and nσ ellipses
        self.zoom_draws = zoom.scatter(np.zeros(n_draws), np.zeros(n_draws), s=60, color="black", marker="x",
                                       linewidths=1.8, zorder=5)
        zoom.scatter([0], [0], s=30, color="black", zorder=6)
        zoom.set(xlim=(-self.half, self.half), ylim=(-self.half, self.half), aspect="equal",
                 xlabel="$z_1 - \\mu_1$", ylabel="$z_2 - \\mu_2$")
        zoom.set_title(f"zoom (dashed box): its {n_sigma:g}σ, 2σ\nellipses and {n_draws} draws ×", fontsize="medium")
        zoom.xaxis.set_major_locator(plt.MaxNLocator(3))
        zoom.yaxis.set_major_locator(plt.MaxNLocator(3))
        # middle, above: the original digit, framed
        self.orig_ax = fig.add_axes([0.57, 0.63, 0.13, 0.255])
        self.orig = self.orig_ax.imshow(np.zeros((8, 8)), **IMAGE_KW)
        self.orig_ax.set(xticks=[], yticks=[])
        self.orig_ax.set_title("the original $X_k$", fontsize="medium")
        for side in self.orig_ax.spines.values():
            side.set(visible=True, color="#d95f02", lw=4)
        # right: the draws decoded
        self.ncols = min(n_draws, 3)
        self.img_ax = fig.add_axes([0.76, 0.1, 0.235, 0.7])
        self.img = self.img_ax.imshow(tile_images(np.zeros((n_draws, 64)), self.ncols),
                                      **{**IMAGE_KW, "cmap": plt.get_cmap("gray").with_extremes(bad="white")})
        self.img_ax.set_xticks([])
        self.img_ax.set_yticks([])
        self.img_title = fig.text(0.8775, 0.83, "", ha="center", va="bottom", fontsize="medium")
        self.blit = BlitFigure(fig, [self.window, self.ellipse, self.draws, self.centre, self.others,
                                     *self.zoom_ellipses, self.zoom_draws, self.orig, self.img, self.img_title])
        self.fig = fig

    def show(self, k: int, show: str = "means") -> None:
        t = self.table
        mu, sigma = as_numpy(t.mu[k]), np.exp(0.5 * as_numpy(t.log_var[k]))
        self.ellipse.set_center(mu)
        self.ellipse.width, self.ellipse.height = 2 * self.n_sigma * sigma
        self.window.set_xy(mu - self.half)
        z = as_numpy(t.z[k])
        self.draws.set_offsets(z)
        self.centre.set_offsets(mu[None])
        self.others.set_offsets(as_numpy(t.mu) - mu)
        for patch, n in zip(self.zoom_ellipses, (2.0, self.n_sigma)):
            patch.width, patch.height = 2 * n * sigma
        self.zoom_draws.set_offsets(z - mu)
        self.orig.set_data(as_numpy(t.x[k]).reshape(8, 8))
        decoded = t.x_hat[k] if show == "means" else t.x_sample[k]
        self.img.set_data(tile_images(as_numpy(decoded), self.ncols))
        n = len(t.z[k])
        self.img_title.set_text(f"mean images $E[x|z]$\nof the {n} draws $z \\sim q(z|X_k)$" if show == "means"
                                else f"samples $x \\sim p(x|z)$\nof the {n} draws $z \\sim q(z|X_k)$")

    def png(self) -> bytes:
        return self.blit.png()


def plot_per_sample_flow(x, mu, log_var, z, x_hat, *, labels=None, pairing=None, draws=None) -> Figure:
    """Notebook 01's six-sample picture redrawn the VAE way: X_k → N(mu_k, σ_k²) → Z_k → X̂_k = g(Z_k).

    x, x_hat: (K, 64) images; mu, log_var, z: (K, 2). Top row the data; middle row one window of the
    latent plane per column, centred on mu_k, all windows the same size and at equal aspect: X_k's own
    normal (1σ and 2σ ellipses, mean •) and its draw Z_k (×), the other columns' 1σ ellipses faint where
    they reach into the window; bottom row the decodings, column k belonging to X_k.
    Optional labels (K,): each data image's digit class, in its title; pairing (K,): the X that the
    best pairing gives each X̂_k (e.g. `vc.nb01.best_pairing`'s permutation), under each decoding;
    draws (S, K, 2): more draws from each q(z|X_k), shown as small dots (where the draws go).
    """
    x, mu, sigma, z, x_hat = as_numpy(x), as_numpy(mu), np.exp(0.5 * as_numpy(log_var)), as_numpy(z), as_numpy(x_hat)
    k = len(x)
    if not (mu.shape == sigma.shape == z.shape == (k, 2) and x_hat.shape[0] == k):
        raise ValueError(f"expected x, x_hat (K, 64) and mu, log_var, z (K, 2) with the same K; got {x.shape}, "
                         f"{mu.shape}, {sigma.shape}, {z.shape}, {x_hat.shape}.")
    draws = None if draws is None else as_numpy(draws)
    if draws is not None and (draws.ndim != 3 or draws.shape[1:] != (k, 2)):
        raise ValueError(f"draws must have shape (S, {k}, 2), got {draws.shape}.")
    labels = None if labels is None else [int(a) for a in as_numpy(labels)]
    pairing = None if pairing is None else [int(a) for a in as_numpy(pairing)]
    for arg, name in ((labels, "labels"), (pairing, "pairing")):
        if arg is not None and len(arg) != k:
            raise ValueError(f"{name} must have one entry per column ({k}), got {len(arg)}.")
    fig = plt.figure(figsize=(1.55 * k + 0.9, 6.6), layout="constrained")
    grid = fig.add_gridspec(3, k, height_ratios=[1, 1.15, 1])
    colors = [plt.get_cmap("Dark2")(i % 8) for i in range(k)]
    # one window size for every column: wide enough for the largest 2σ ellipse and every draw
    reach = np.abs(z - mu).max(0) if draws is None else np.abs(draws - mu).reshape(-1, 2).max(0)
    half = 1.15 * max(float((2 * sigma).max()), float(reach.max()))
    for i in range(k):
        ax = fig.add_subplot(grid[1, i])
        others = [j for j in range(k) if j != i]
        if others:
            _ellipse_collection(mu[others], sigma[others], [(*colors[j][:3], 0.12) for j in others], 1.0, ax,
                                edgecolors=[(*colors[j][:3], 0.6) for j in others], linewidths=0.8)
        for n_sigma, lw in ((2.0, 1.0), (1.0, 2.0)):
            _ellipse_collection(mu[i:i + 1], sigma[i:i + 1], [(*colors[i][:3], 0.18 if n_sigma == 1 else 0.06)],
                                n_sigma, ax, edgecolors=[colors[i]], linewidths=lw)
        if draws is not None:
            ax.scatter(draws[:, i, 0], draws[:, i, 1], s=6, color=colors[i], alpha=0.6, linewidths=0, zorder=3)
        ax.scatter([mu[i, 0]], [mu[i, 1]], s=22, color="black", zorder=4)
        ax.scatter([z[i, 0]], [z[i, 1]], s=90, marker="x", color="black", linewidths=2.2, zorder=5)
        ax.set(xlim=(mu[i, 0] - half, mu[i, 0] + half), ylim=(mu[i, 1] - half, mu[i, 1] + half), aspect="equal",
               xlabel="$z_1$", title=f"$q(z|X_{{{i + 1}}})$, $Z_{{{i + 1}}}$ (×)")
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
        ax.yaxis.set_major_locator(plt.MaxNLocator(3))
        ax.tick_params(labelsize="small")
        if i == 0:
            ax.set_ylabel("latent $z_2$")
    for row, imgs in ((0, x), (2, x_hat)):
        for i in range(k):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(imgs[i].reshape(8, 8), **IMAGE_KW)
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set(visible=True, color=colors[i], lw=3)
            if row == 0:
                ax.set_title(f"$X_{{{i + 1}}}$" + ("" if labels is None else f", a {labels[i]}"))
            else:
                ax.set_title(rf"$\hat X_{{{i + 1}}} = E[x \mid Z_{{{i + 1}}}]$", fontsize="medium")
                if pairing is not None:
                    ax.set_xlabel(f"best pairing: $X_{{{pairing[i] + 1}}}$")
            if i == 0:
                ax.set_ylabel("data" if row == 0 else "decoded")
    more = "" if draws is None else f", dots: {len(draws)} more draws"
    fig.suptitle("Each $X_k$ gets its own normal $q(z|X_k)$; $\\hat X_k = g(Z_k)$ has its partner by construction\n"
                 f"middle row: the latent plane around each mean, all windows {2 * half:.2g} wide;\n"
                 f"1σ and 2σ ellipses, × the draw $Z_k${more}")
    return fig


def plot_q_against_posterior(grid, x, picks: dict, *, window: float = 3.0) -> Figure:
    """For each digit picked, the exact posterior p(z|x) (shaded, from a `GridPosterior`) with the
    encoder's q(z|x) over it (contours at the same levels), and the digit itself.

    grid: a `vae_course.nb03.GridPosterior` of N digits; x (N, 64) those digits; picks: {title: row};
    window: every panel is centred on its posterior's mean and spans the same width, so that the
    panels share one scale: ± window·(the largest posterior standard deviation of the picks), widened
    if needed so that every q's 2σ ellipse fits too.
    """
    x = as_numpy(x)
    if not picks:
        raise ValueError("picks must name at least one digit: {title: row of the grid}.")
    for k in picks.values():
        if not 0 <= k < len(x):
            raise ValueError(f"row {k} is not one of the {len(x)} digits of the grid.")
    n = len(grid.ticks)
    ticks = as_numpy(grid.ticks)
    means = {k: as_numpy(grid.post_mean[k]) for k in picks.values()}
    sds = [np.sqrt(np.linalg.eigvalsh(as_numpy(grid.post_cov[k])).max()) for k in picks.values()]
    reach = [np.abs(as_numpy(grid.mu[k]) - means[k]).max() + 2.2 * np.exp(0.5 * as_numpy(grid.log_var[k])).max()
             for k in picks.values()]
    half = float(max(window * max(sds), max(reach)))
    fig = plt.figure(figsize=(5.6 * len(picks), 5.0), layout="constrained")
    cols = fig.add_gridspec(1, 2 * len(picks), width_ratios=[1, 3.2] * len(picks))
    for j, (title, k) in enumerate(picks.items()):
        ax_x, ax = fig.add_subplot(cols[0, 2 * j]), fig.add_subplot(cols[0, 2 * j + 1])
        ax_x.imshow(x[k].reshape(8, 8), **IMAGE_KW)
        ax_x.set(xticks=[], yticks=[], title="the digit $x$")
        post = np.exp(as_numpy(grid.log_post[k])).reshape(n, n)
        cell = float(grid.cell)
        post_levels = mass_levels(post, MASSES, cell)
        ax.contourf(ticks, ticks, post, levels=[*post_levels, 1.01 * post.max()], colors=["#9ecae1", "#3182bd"])
        # q is a diagonal normal: its regions of 86% and 39% mass are exactly its 2σ and 1σ ellipses, drawn
        # as curves rather than as contours of the grid (which would be polygons for a narrow q)
        mu_q, sigma_q = as_numpy(grid.mu[k]), np.exp(0.5 * as_numpy(grid.log_var[k]))
        _ellipse_collection(np.stack([mu_q, mu_q]), np.stack([sigma_q, sigma_q]) * np.array([[2.0], [1.0]]),
                            "none", 1.0, ax, edgecolors="#d95f02", linewidths=[1.2, 2.2])
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
        ax.yaxis.set_major_locator(plt.MaxNLocator(5))
        mean = means[k]
        ax.set(xlim=(mean[0] - half, mean[0] + half), ylim=(mean[1] - half, mean[1] + half),
               aspect="equal", xlabel="$z_1$", ylabel="$z_2$",
               title=f"{title}\nKL(q ‖ p(z|x)) = {float(grid.kl_q_post[k]):.2f} nats")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color="#3182bd", label="exact $p(z|x)$: 39% of its mass"), Patch(color="#9ecae1", label="exact $p(z|x)$: 86%"),
               Line2D([], [], color="#d95f02", lw=2.2, label="encoder $q(z|x)$: 39%"),
               Line2D([], [], color="#d95f02", lw=1.2, label="encoder $q(z|x)$: 86%")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small", title_fontsize="medium", title="The exact posterior $p(z|x) = p(x|z)\\,p(z)/p(x)$ on a grid (blue), the encoder's Gaussian $q(z|x)$ (orange), at equal mass:\n"
               f"the smallest regions holding 39% and 86% (a normal's 1σ and 2σ ellipses); all panels at one scale, {2 * half:.2g} wide")
    return fig


def plot_aggregate_posterior(ticks, q_agg, prior, *, ax: Axes | None = None) -> Axes:
    """The aggregate posterior (1/N) Σ_k q(z|x_k) against the prior, both at equal mass: shaded, the
    smallest regions that hold 39%, 86% and 99% of the aggregate posterior; orange, the prior's 39% and
    86% regions (its 1σ and 2σ circles). Where the prior's circles hold white, the prior puts mass
    the data's codes never use.

    ticks (n,): the grid axis; q_agg, prior: (n·n,) densities on the grid `torch.meshgrid(ticks, ticks,
    indexing="ij")` flattened with z₁ varying fastest (as `vae_course.nb03.GridPosterior`).
    """
    from matplotlib.patches import Patch

    ticks = as_numpy(ticks)
    n = len(ticks)
    q_agg, prior = as_numpy(q_agg).reshape(n, n), as_numpy(prior).reshape(n, n)
    if ax is None:
        ax = plt.subplots(figsize=(5.6, 5.4), layout="constrained")[1]
    cell = float((ticks[1] - ticks[0]) ** 2)
    shades = ["#c6dbef", "#6baed6", "#08519c"]                          # 99%, 86%, 39%: light to dark
    q_levels = mass_levels(q_agg, (0.99, *MASSES), cell)
    ax.contourf(ticks, ticks, q_agg, levels=[*q_levels, 1.01 * q_agg.max()], colors=shades)
    ax.contour(ticks, ticks, prior, levels=mass_levels(prior, MASSES, cell), colors="#d95f02",
               linewidths=[1.8, 3.0])
    handles = [Patch(color=c, label=f"aggregate posterior: {m}") for c, m in zip(shades[::-1], ("39%", "86%", "99%"))]
    handles += [plt.Line2D([], [], color="#d95f02", lw=3.0, label="prior: 39% (1σ)"),
                plt.Line2D([], [], color="#d95f02", lw=1.8, label="prior: 86% (2σ)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2, fontsize="small",
              title="the smallest regions holding this share of the mass", title_fontsize="small")
    ax.set(aspect="equal", xlabel="$z_1$", ylabel="$z_2$")
    ax.set_title("The average of all q(z|x) over the training digits\n(blue) against the prior (orange)", pad=12)
    return ax


__all__ = ["DIGIT_COLORS", "plot_posterior_ellipses", "PosteriorFigure", "plot_per_sample_flow",
           "plot_q_against_posterior", "plot_aggregate_posterior"]
